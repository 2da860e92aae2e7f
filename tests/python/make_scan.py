"""Writes one file per trick that scanners have been fooled by — a container anomaly, a size lie,
a call that an inert read must refuse — each made with torch 2.13 and a byte edit, and records what
torch 2.13 itself does with it: torch.load(weights_only=True), and torch.load(weights_only=False)
in a subprocess, where the payload is harmless (it prints a marker, or names a file that does not
exist).

    python3 tests/python/make_scan.py OUTDIR

OUTDIR/manifest.json: {"cases": [{"name", "file", "what", "finding", "verdict",
"torch_weights_only": "loads" | "refuses", "torch_full": "loads" | "refuses" | "runs payload",
"torch_error"}]}. "finding" is the finding kind ckpt4j scan must report (null: none), "verdict"
the file's verdict. "inert_load": "loads" | "refuses" — what LoadOptions.inertObjects(true) must
do (only for the inert-call cases). The Java tests (ScanFixturesTest, InertCallsTest) assert them.
"""
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile
import warnings

import numpy
import torch

MARKER = "CKPT4J_PAYLOAD_RAN"
MISSING = "/nonexistent/ckpt4j-scan-payload"

LOCAL_SIG = b"PK\x03\x04"
CENTRAL_SIG = b"PK\x01\x02"
EOCD_SIG = b"PK\x05\x06"


class Payload:
    """Calls builtins.print(MARKER) when unpickled: the harmless stand-in for os.system."""

    def __reduce__(self):
        return (print, (MARKER,))


class Call:
    """REDUCE of any function with arguments: torch.load, numpy.load, posix.system."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


class TensorWithItems:
    """A tensor followed by SETITEMS on it (PyTorch's CVE-2026-24747 pattern)."""

    def __init__(self, t):
        self.t = t

    def __reduce_ex__(self, protocol):
        rebuild, args = self.t.__reduce_ex__(protocol)[:2]
        return (rebuild, args, None, None, iter([("__class__", 1)]))


def saved(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def state():
    return {"w": torch.arange(4, dtype=torch.float32), "b": torch.ones(2)}


def payload_pickle():
    return pickle.dumps(Payload(), protocol=2)


def entries(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def rezip(items, deflate=()):
    """A zip of (name, bytes) in order; names in `deflate` are deflated, the rest stored."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
            z.writestr(info, data)
    return buf.getvalue()


def header_offsets(data, sig, name):
    """Offsets of every local (or central) header for `name`."""
    out, at = [], 0
    fixed = 30 if sig == LOCAL_SIG else 46
    name_len_at = 26 if sig == LOCAL_SIG else 28
    while True:
        at = data.find(sig, at)
        if at < 0:
            return out
        n = struct.unpack_from("<H", data, at + name_len_at)[0]
        if data[at + fixed:at + fixed + n] == name.encode():
            out.append(at)
        at += 4


def patch(data, offset, new):
    return data[:offset] + new + data[offset + len(new):]


def with_payload_entry(name):
    return rezip(entries(saved(state())) + [(name, payload_pickle())])


def hide_entry(data, name):
    """Drops `name`'s central record (its local header and data stay, referenced by nothing)."""
    central = header_offsets(data, CENTRAL_SIG, name)[0]
    eocd = data.rfind(EOCD_SIG)
    count, cd_size = struct.unpack_from("<HI", data, eocd + 10)
    n, m, k = struct.unpack_from("<HHH", data, central + 28)
    length = 46 + n + m + k
    out = data[:central] + data[central + length:]
    eocd -= length
    out = patch(out, eocd + 8, struct.pack("<HHI", count - 1, count - 1, cd_size - length))
    return out


def zip64_disagreeing(data):
    """Adds a zip64 end record and locator whose entry count differs from the classic record."""
    eocd = data.rfind(EOCD_SIG)
    count = struct.unpack_from("<H", data, eocd + 10)[0]
    cd_size, cd_offset = struct.unpack_from("<II", data, eocd + 12)
    z64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count + 1, count + 1,
                      cd_size, cd_offset)
    locator = struct.pack("<IIQI", 0x07064B50, 0, eocd, 1)
    return data[:eocd] + z64 + locator + data[eocd:]


def reversed_directory(data):
    """The central records in reverse order: entries no longer listed in the order they lie."""
    eocd = data.rfind(EOCD_SIG)
    count = struct.unpack_from("<H", data, eocd + 10)[0]
    cd_size, cd_offset = struct.unpack_from("<II", data, eocd + 12)
    records, at = [], cd_offset
    for _ in range(count):
        n, m, k = struct.unpack_from("<HHH", data, at + 28)
        records.append(data[at:at + 46 + n + m + k])
        at += 46 + n + m + k
    return data[:cd_offset] + b"".join(reversed(records)) + data[cd_offset + cd_size:]


def set_flags(data, name, bits):
    for sig, at in ((LOCAL_SIG, 6), (CENTRAL_SIG, 8)):
        for off in header_offsets(data, sig, name):
            flags = struct.unpack_from("<H", data, off + at)[0]
            data = patch(data, off + at, struct.pack("<H", flags | bits))
    return data


def bad_crc(data, name):
    for sig, at in ((LOCAL_SIG, 14), (CENTRAL_SIG, 16)):
        for off in header_offsets(data, sig, name):
            crc = struct.unpack_from("<I", data, off + at)[0]
            data = patch(data, off + at, struct.pack("<I", crc ^ 0x1))
    return data


def torch_save_pickle(obj):
    """torch.save's data.pkl for `obj` alone (its storages are those of state())."""
    data = saved(obj)
    return dict(entries(data))["archive/data.pkl"], data


def cases():
    base = saved(state())
    yield ("name_mismatch", "pt", "data.pkl's local header names another file than its central"
           " record", "NAME_MISMATCH", "unsafe",
           patch(base, header_offsets(base, LOCAL_SIG, "archive/data.pkl")[0] + 30 + 13, b"x"))
    yield ("bad_crc", "pt", "data.pkl's CRC-32 is wrong (torch does not check it)",
           "BAD_CRC", "unsafe", bad_crc(base, "archive/data.pkl"))
    yield ("flag_encrypted", "pt", "data.pkl has the 'encrypted' general-purpose flag",
           "ENCRYPTED", "unsafe", set_flags(base, "archive/data.pkl", 0x1))
    yield ("flag_patched_data", "pt", "data.pkl has the 'compressed patched data' flag (torch"
           " writes only UTF-8 names and data descriptors)", "ZIP_FLAGS", "unsafe",
           set_flags(base, "archive/data.pkl", 0x20))
    items = entries(base)
    yield ("duplicate_name", "pt", "a second archive/data.pkl holding a payload",
           "DUPLICATE_NAME", "unsafe", rezip(items + [("archive/data.pkl", payload_pickle())]))
    yield ("case_duplicate", "pt", "archive/DATA.pkl next to archive/data.pkl (names differ only"
           " in case)", "DUPLICATE_NAME", "unsafe",
           rezip(items + [("archive/DATA.pkl", payload_pickle())]))
    yield ("pickle_other_name", "pt", "a payload pickle stored as archive/notes.txt",
           "DANGEROUS_CALL", "unsafe", with_payload_entry("archive/notes.txt"))
    yield ("outside_prefix", "pt", "an entry outside the archive's folder", "OUTSIDE_PREFIX",
           "unsafe", with_payload_entry("other/data.pkl"))
    yield ("constants_next_to_data", "pt", "constants.pkl (TorchScript's) next to data.pkl in a"
           " torch.save archive with no code", "FAKE_TORCHSCRIPT", "unsafe",
           with_payload_entry("archive/constants.pkl"))
    yield ("deflated_data_pkl", "pt", "data.pkl deflated (torch.save stores it)",
           "DEFLATED_PICKLE", "review", rezip(items, deflate={"archive/data.pkl"}))
    yield ("hidden_local_header", "pt", "a payload's local header that no central record"
           " names", "HIDDEN_LOCAL_HEADER", "unsafe",
           hide_entry(rezip([("archive/hidden.pkl", payload_pickle())] + items),
                      "archive/hidden.pkl"))
    yield ("zip64_disagrees", "pt", "a zip64 end record whose entry count disagrees with the"
           " classic one", "END_RECORDS_DISAGREE", "unsafe", zip64_disagreeing(base))
    yield ("out_of_order", "pt", "central records listed in another order than the entries lie",
           "OUT_OF_ORDER", "unsafe", reversed_directory(base))
    yield ("prepended_pickle", "pt", "a payload pickle in front of a valid torch.save zip",
           "PICKLE_BEFORE_ZIP", "unsafe", payload_pickle() + base)
    yield ("pickle_renamed", "bin", "a payload pickle named like a weights file",
           "DANGEROUS_CALL", "unsafe", payload_pickle())
    t = torch.arange(4, dtype=torch.float32)
    yield ("setitems_on_tensor", "pt", "SETITEMS on a rebuilt tensor (CVE-2026-24747)",
           "SETITEMS_ON_TENSOR", "unsafe", saved({"w": TensorWithItems(t)}))
    # Size lies: byte edits of a storage's declared element count.
    lie = saved({"w": t})
    pkl = dict(entries(lie))["archive/data.pkl"]
    at = pkl.find(b"cpu")
    # the numel follows the location string: K\x04 (BININT1 4) -> K\xff
    idx = pkl.find(b"K\x04", at)
    yield ("storage_numel_lie", "pt", "a storage that declares 255 elements over a 16-byte"
           " record", "SIZE_LIE", "unsafe",
           rezip([(n, pkl[:idx] + b"K\xff" + pkl[idx + 2:] if n.endswith("data.pkl") else d)
                  for n, d in entries(lie)]))
    yield ("unknown_dtype", "pt", "a storage of a type torch does not know (Float128Storage)",
           "UNKNOWN_DTYPE", "unsafe",
           rezip([(n, pkl.replace(b"\nFloatStorage\n", b"\nFloat128Storage\n")
                   if n.endswith("data.pkl") else d) for n, d in entries(lie)]))
    # Calls an inert read must refuse, and a whole model it must read.
    yield ("reduce_torch_load", "pt", "REDUCE of torch.load inside a checkpoint", "UNKNOWN_CALL",
           "unsafe", saved({"w": t, "x": Call(torch.load, MISSING)}))
    yield ("reduce_numpy_load", "pt", "REDUCE of numpy.load inside a checkpoint", "UNKNOWN_CALL",
           "unsafe", saved({"w": t, "x": Call(numpy.load, MISSING)}))
    yield ("reduce_posix_system", "pt", "REDUCE of os.system (posix.system)", "DANGEROUS_CALL",
           "unsafe", saved({"w": t, "x": Call(os.system, "echo " + MARKER)}))
    yield ("whole_model", "pt", "torch.save of a whole nn.Sequential", "INERT_CLASS", "review",
           saved(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU())))
    yield ("clean_state_dict", "pt", "a plain state_dict", None, "safe", base)
    # A deflated storage record: legal (torch inflates it), highly compressible (64 MiB of zeros
    # in about 64 KiB), and never inflated by a scan or a lazy open.
    bomb = entries(saved({"zeros": torch.zeros(INFLATED_ELEMENTS)}))
    yield ("deflated_storage", "pt", "a 64 MiB storage of zeros, deflated to a few KiB",
           "DEFLATED_STORAGE", "review", rezip(bomb, deflate={n for n, _ in bomb if "/data/" in n}))


# The deflated_storage case's tensor: 64 MiB of float32 zeros.
INFLATED_ELEMENTS = 16 << 20


INERT_LOAD = {"reduce_torch_load": "refuses", "reduce_numpy_load": "refuses",
              "reduce_posix_system": "refuses", "whole_model": "loads"}

PROBE = r"""
import sys, torch
for path in sys.argv[1:]:
    print("CASE " + path, flush=True)
    try:
        torch.load(path, weights_only=False)
        print("RESULT loads", flush=True)
    except BaseException as e:
        first = str(e).splitlines()[0][:200] if str(e) else ""
        print("RESULT refuses " + type(e).__name__ + ": " + first, flush=True)
"""


def weights_only_does(path):
    """torch.load(weights_only=True) in this process: it runs no payload."""
    try:
        torch.load(path, weights_only=True)
        return "loads", "loads"
    except Exception as e:
        first = str(e).splitlines()[0][:200] if str(e) else ""
        return "refuses", "refuses " + type(e).__name__ + ": " + first


def full_does(paths, cwd):
    """torch.load(weights_only=False) of every file in one subprocess (payloads are harmless)."""
    out = subprocess.run([sys.executable, "-c", PROBE] + paths, capture_output=True, text=True,
                         timeout=300, cwd=cwd)
    results, current, ran = {}, None, False
    for line in out.stdout.splitlines():
        if line.startswith("CASE "):
            current, ran = line[len("CASE "):], False
        elif MARKER in line:
            ran = True
        elif line.startswith("RESULT ") and current is not None:
            detail = line[len("RESULT "):]
            ran = ran or MISSING in detail  # torch.load or numpy.load was called on our path
            results[current] = ("runs payload" if ran else detail.split(" ")[0], detail)
    return results


def main():
    warnings.simplefilter("ignore")  # zipfile warns of the duplicate names made on purpose
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    manifest = []
    for name, ext, what, finding, verdict, data in cases():
        fname = name + "." + ext
        path = os.path.join(outdir, fname)
        with open(path, "wb") as f:
            f.write(data)
        wo, wo_detail = weights_only_does(path)
        case = {"name": name, "file": fname, "what": what, "finding": finding,
                "verdict": verdict, "torch_weights_only": wo, "torch_error": wo_detail}
        if name in INERT_LOAD:
            case["inert_load"] = INERT_LOAD[name]
        manifest.append((path, case))
    full = full_does([os.path.abspath(p) for p, _ in manifest], outdir)
    for path, case in manifest:
        case["torch_full"], detail = full.get(os.path.abspath(path), ("refuses", "refuses: the probe crashed"))
        if case["torch_weights_only"] == "loads":
            case["torch_error"] = detail
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": [c for _, c in manifest]}, f, indent=1)


if __name__ == "__main__":
    main()
