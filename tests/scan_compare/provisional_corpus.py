"""A provisional scan corpus for tests/scan_compare/compare.py, until tests/python/make_scan.py lands.

Usage (with the build's venv, torch 2.13):
    python tests/scan_compare/provisional_corpus.py OUTDIR

Writes OUTDIR/manifest.json (a list of {"file", "expect", "class", "note"}) and the files:
  - hostile/...     tests/fixtures/hostile/* copied (unsafe; from picklescan's test data), except
                    the two merely malformed files that are no pickle at all (a PNG signature, seven
                    bytes of bad UTF-8): nothing in them can run, and the manifest has no class for
                    "malformed, harmless"; the benign control pickle is expected safe;
  - real-world/...  tests/fixtures/real-world/* copied (safe; the TorchScript archives are review,
                    as the issue says of a genuine TorchScript archive);
  - generated/...   files made here with torch and byte edits: benign ones (a state_dict, a whole
                    pickled nn.Module) and the container and size tricks of issue 14.

Every payload is harmless if something ever runs it: it calls os.system("echo ...") or prints.
Nothing here loads any file it writes.
"""

import io
import json
import os
import shutil
import struct
import sys
import tarfile
import warnings
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"

PAYLOAD = "echo ckpt4j-scan-corpus-payload"

# Hostile fixtures: class by the trick each one plays (see tests/fixtures/hostile/SOURCES.md).
HOSTILE = {
    "picklescan__tests_data2_GHSA-jgw4-cr84-mqxg.bin": ("unsafe", "callable-asyncio-subprocess"),
    "picklescan__tests_data2_keyerror-exploit.pkl": ("unsafe", "malformed-memo-keyerror"),
    "picklescan__tests_data2_malicious1_crc.zip": ("unsafe", "zip-bad-crc"),
    "picklescan__tests_data2_type-confusion-exploit.pkl": ("unsafe", "malformed-type-confusion"),
    "picklescan__tests_data_benign0_v4.pkl": ("safe", "benign"),
    "picklescan__tests_data_broken_model.pkl": ("unsafe", "malformed-truncated"),
    "picklescan__tests_data_malicious-invalid-bytes.pkl": ("unsafe", "malformed-trailing-bytes"),
    "picklescan__tests_data_malicious0.pkl": ("unsafe", "callable-builtins-chain"),
    "picklescan__tests_data_malicious1.zip": ("unsafe", "zip-root-data-pkl"),
    "picklescan__tests_data_malicious1_0x1.zip": ("unsafe", "zip-flag-bits"),
    "picklescan__tests_data_malicious1_central_directory.zip": ("unsafe", "zip-local-name-differs"),
    "picklescan__tests_data_malicious1_v0.pkl": ("unsafe", "plain-pickle"),
    "picklescan__tests_data_malicious1_v4.pkl": ("unsafe", "plain-pickle"),
    "picklescan__tests_data_malicious1_wrong_ext.zip": ("unsafe", "zip-pickle-other-name"),
    "picklescan__tests_data_malicious2_v3.pkl": ("unsafe", "plain-pickle"),
    "picklescan__tests_data_pytorch_magic_bypass.pt": ("unsafe", "legacy-magic-bypass"),
    "picklescan__tests_data_sys_module_override_sploit.pkl": ("unsafe", "callable-sys-modules"),
}
HOSTILE_LEFT_OUT = {
    "picklescan__tests_data_bad_pytorch.pt": "a PNG signature, no pickle: malformed, nothing can run",
    "picklescan__tests_data_not_a_pickle.bin": "7 bytes of bad UTF-8: malformed, nothing can run",
}


# ---------------------------------------------------------------------------------------------
# Hand-built pickles
# ---------------------------------------------------------------------------------------------

def _str(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def call_pickle(module, name, *args, proto=2):
    """A pickle that calls module.name(*args) (string args) and returns its result."""
    out = bytearray(b"\x80" + bytes([proto]))
    out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"
    out += b"("
    for a in args:
        out += _str(a)
    out += b"tR."
    return bytes(out)


def payload_pickle():
    return call_pickle("os", "system", PAYLOAD)


class _FakeStorage:
    def __init__(self, key, numel, dtype_cls=torch.FloatStorage):
        self.key, self.numel, self.cls = key, numel, dtype_cls


class _FakeTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, self.offset, self.size, self.stride, False, OrderedDict()))


class _TorchLikePickler(__import__("pickle").Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _FakeStorage):
            return ("storage", obj.cls, obj.key, "cpu", obj.numel)
        return None


def torch_like_data_pkl(obj):
    buf = io.BytesIO()
    _TorchLikePickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def torch_zip(entries, compress=zipfile.ZIP_STORED, prefix="archive"):
    """A zip laid out as torch.save lays it out (entries: name -> bytes, under prefix/)."""
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", compression=compress) as z:
        warnings.simplefilter("ignore")  # "Duplicate name": wanted here
        for name, data in entries:
            z.writestr(f"{prefix}/{name}", data)
    return buf.getvalue()


def state_dict_entries(data_pkl, records):
    entries = [("data.pkl", data_pkl), ("byteorder", b"little")]
    entries += [(f"data/{k}", v) for k, v in records.items()]
    entries += [("version", b"3\n"), (".data/serialization_id", b"0123456789")]
    return entries


def malicious_torch_zip(**kw):
    return torch_zip(state_dict_entries(payload_pickle(), {}), **kw)


def patch_local_name(zbytes, old, new):
    """Renames an entry in its local header only (the central directory keeps the old name)."""
    assert len(old) == len(new)
    b = bytearray(zbytes)
    pos = 0
    while True:
        pos = b.find(b"PK\x03\x04", pos)
        assert pos >= 0, old
        nlen = struct.unpack_from("<H", b, pos + 26)[0]
        if bytes(b[pos + 30:pos + 30 + nlen]) == old:
            b[pos + 30:pos + 30 + nlen] = new
            return bytes(b)
        pos += 4


def break_crc(zbytes, name):
    """Flips the CRC of one entry, in its local header and in the central directory."""
    b = bytearray(zbytes)
    for sig, crc_off, name_off, nlen_off in ((b"PK\x03\x04", 14, 30, 26), (b"PK\x01\x02", 16, 46, 28)):
        pos = 0
        while (pos := b.find(sig, pos)) >= 0:
            nlen = struct.unpack_from("<H", b, pos + nlen_off)[0]
            if bytes(b[pos + name_off:pos + name_off + nlen]) == name:
                crc = struct.unpack_from("<I", b, pos + crc_off)[0]
                struct.pack_into("<I", b, pos + crc_off, crc ^ 0xDEADBEEF)
            pos += 4
    return bytes(b)


# ---------------------------------------------------------------------------------------------
# The generated files
# ---------------------------------------------------------------------------------------------

def generated(out):
    g = out / "generated"
    g.mkdir(parents=True, exist_ok=True)
    rows = []

    def put(name, data, expect, cls, note):
        (g / name).write_bytes(data)
        rows.append({"file": f"generated/{name}", "expect": expect, "class": cls, "note": note})

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    good = buf.getvalue()
    put("state_dict.pt", good, "safe", "benign", "torch.save(model.state_dict())")

    buf = io.BytesIO()
    torch.save({"model": model.state_dict(), "epoch": 3, "lr": 0.1, "names": ["a", "b"]}, buf)
    put("training_ckpt.pt", buf.getvalue(), "safe", "benign", "dict with a state_dict and scalars")

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf, _use_new_zipfile_serialization=False)
    put("state_dict_legacy.pt", buf.getvalue(), "safe", "benign", "legacy (non-zip) torch.save")

    buf = io.BytesIO()
    torch.save(model, buf)
    put("whole_module.pt", buf.getvalue(), "review", "whole-model", "torch.save(nn.Sequential) (whole pickled model)")

    # A valid torch zip whose data.pkl calls os.system: every scanner should catch this one.
    put("zip_payload.pt", malicious_torch_zip(), "unsafe", "zip-plain-payload",
        "torch-layout zip, archive/data.pkl = os.system pickle")

    put("plain_payload.pkl", payload_pickle(), "unsafe", "plain-pickle", "raw os.system pickle")

    # A pickle prepended to a valid zip: torch sniffs the first bytes (no zip magic), takes the
    # legacy path and unpickles the prefix; a zip reader finds the zip by its end record.
    put("prepended_pickle.pt", payload_pickle() + good, "unsafe", "prepended-pickle",
        "os.system pickle + a valid state_dict zip")

    # data.pkl whose local-header name differs from its central-directory name (torch finds the
    # entry by the central name and reads its data, Python's zipfile refuses the entry).
    z = malicious_torch_zip()
    put("local_name_differs.pt", patch_local_name(z, b"archive/data.pkl", b"archive/data.pkx"),
        "unsafe", "zip-local-name-differs", "local header archive/data.pkx, central archive/data.pkl")

    # Duplicate entry names: the malicious data.pkl first, a benign one after it. Python's zipfile
    # resolves a name to the last entry; torch 2.13's reader (miniz, a binary search over the
    # sorted central directory, case-insensitive) finds the first one in this layout (checked
    # with weights_only=True: it names os.system). Other layouts make torch read the benign one.
    def dup_layout(mal_name):
        return [("byteorder", b"little"), ("version", b"3\n"), (mal_name, payload_pickle()),
                ("data.pkl", torch_like_data_pkl({})), (".data/serialization_id", b"0123456789")]
    put("duplicate_name.pt", torch_zip(dup_layout("data.pkl")), "unsafe", "zip-duplicate-name",
        "two archive/data.pkl: torch reads the first (os.system), Python's zipfile the last (benign)")
    put("duplicate_name_case.pt", torch_zip(dup_layout("DATA.PKL")), "unsafe", "zip-duplicate-name-case",
        "archive/DATA.PKL (os.system), which torch reads, next to a benign archive/data.pkl")

    # A bad CRC on data.pkl (torch does not check CRCs; Python's zipfile stops).
    put("bad_crc.pt", break_crc(malicious_torch_zip(), b"archive/data.pkl"), "unsafe", "zip-bad-crc",
        "os.system data.pkl with a wrong CRC-32")

    # A deflated data.pkl.
    put("deflated.pt", malicious_torch_zip(compress=zipfile.ZIP_DEFLATED), "unsafe", "zip-deflated",
        "os.system data.pkl, deflated")

    # A legacy tar file (torch < 0.4 layout: sys_info, storages, tensors, pickle).
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w:", format=tarfile.PAX_FORMAT) as t:
        import pickle as _p
        for name, data in (("sys_info", _p.dumps({"protocol_version": 1001, "little_endian": True,
                                                  "type_sizes": {"short": 2, "int": 4, "long": 8}},
                                                 protocol=2)),
                           ("storages", _p.dumps(0, protocol=2)),
                           ("tensors", _p.dumps(0, protocol=2)),
                           ("pickle", payload_pickle())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    put("legacy_tar.pt", tbuf.getvalue(), "unsafe", "legacy-tar", "tar with an os.system 'pickle' member")

    # Size lies: a storage that declares more elements than its record holds.
    st = _FakeStorage("0", 1000)
    lie = torch_zip(state_dict_entries(
        torch_like_data_pkl(OrderedDict(w=_FakeTensor(st, 0, (1000,), (1,)))), {"0": b"\0" * 16}))
    put("size_lie.pt", lie, "unsafe", "size-lie-record",
        "FloatStorage of 1000 elements, record of 16 bytes")
    st = _FakeStorage("0", 1 << 40)
    huge = torch_zip(state_dict_entries(
        torch_like_data_pkl(OrderedDict(w=_FakeTensor(st, 0, (1 << 40,), (1,)))), {"0": b"\0" * 16}))
    put("size_lie_huge.pt", huge, "unsafe", "size-lie-huge",
        "FloatStorage declaring 2**40 elements (4 TiB), record of 16 bytes")
    st = _FakeStorage("0", 4)
    off = torch_zip(state_dict_entries(
        torch_like_data_pkl(OrderedDict(w=_FakeTensor(st, 1 << 20, (4,), (1,)))), {"0": b"\0" * 16}))
    put("offset_past_end.pt", off, "unsafe", "size-lie-offset",
        "tensor at storage offset 2**20 in a 4-element storage")

    # An inflate bomb: a consistent state_dict whose one record (1 GiB of zeros, what the storage
    # declares) is deflated to about 1 MiB. torch never writes compressed entries; a scanner that
    # inflates records to look at them spends seconds and a GiB on it.
    bomb_numel = 1 << 28
    bbuf = io.BytesIO()
    with zipfile.ZipFile(bbuf, "w") as z:
        z.writestr("archive/data.pkl", torch_like_data_pkl(
            OrderedDict(w=_FakeTensor(_FakeStorage("0", bomb_numel), 0, (bomb_numel,), (1,)))))
        z.writestr("archive/byteorder", b"little")
        info = zipfile.ZipInfo("archive/data/0")
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as w:
            chunk = bytes(1 << 24)
            for _ in range(bomb_numel * 4 // len(chunk)):
                w.write(chunk)
        z.writestr("archive/version", b"3\n")
        z.writestr("archive/.data/serialization_id", b"0123456789")
    put("inflate_bomb.pt", bbuf.getvalue(), "unsafe", "inflate-bomb",
        "state_dict whose 1 GiB record is deflated to ~1 MiB (no payload: a resource attack)")

    # A raw pickle stored under other extensions.
    put("pytorch_model.bin", payload_pickle(), "unsafe", "pickle-renamed-bin", "os.system pickle named .bin")
    put("model.safetensors", payload_pickle(), "unsafe", "pickle-renamed-other",
        "os.system pickle named .safetensors")
    put("weights.txt", malicious_torch_zip(), "unsafe", "pickle-renamed-other",
        "torch-layout zip with an os.system data.pkl, named .txt")

    # Dangerous callables outside the usual lists (one each, in a raw pickle).
    put("callable_runpy.pkl", call_pickle("runpy", "_run_code", "print('ckpt4j corpus payload')", "{}"),
        "unsafe", "callable-uncommon", "runpy._run_code")
    put("callable_numpy_runstring.pkl",
        call_pickle("numpy.testing._private.utils", "runstring", "print('ckpt4j corpus payload')", "{}"),
        "unsafe", "callable-uncommon", "numpy.testing._private.utils.runstring")
    put("callable_torch_jit_load.pkl", call_pickle("torch.jit", "load", "/nonexistent/ckpt4j-corpus.pt"),
        "unsafe", "callable-uncommon", "torch.jit.load (a loader called from a pickle)")
    put("callable_pydoc_locate.pkl", call_pickle("pydoc", "locate", "os.system"),
        "unsafe", "callable-uncommon", "pydoc.locate('os.system') (resolves a callable by name)")
    return rows


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: provisional_corpus.py OUTDIR")
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    (out / "hostile").mkdir(exist_ok=True)
    for name in sorted(os.listdir(FIXTURES / "hostile")):
        if name.endswith(".md") or name in HOSTILE_LEFT_OUT:
            continue
        expect, cls = HOSTILE[name]
        shutil.copyfile(FIXTURES / "hostile" / name, out / "hostile" / name)
        rows.append({"file": f"hostile/{name}", "expect": expect, "class": cls,
                     "note": "tests/fixtures/hostile (picklescan test data)"})
    (out / "real-world").mkdir(exist_ok=True)
    for name in sorted(os.listdir(FIXTURES / "real-world")):
        if name.endswith(".md"):
            continue
        shutil.copyfile(FIXTURES / "real-world" / name, out / "real-world" / name)
        torchscript = name.startswith(("tch-rs__", "ParkSeungwon-libtorch__"))
        rows.append({"file": f"real-world/{name}", "expect": "review" if torchscript else "safe",
                     "class": "torchscript" if torchscript else "benign",
                     "note": "tests/fixtures/real-world"})
    rows += generated(out)
    (out / "manifest.json").write_text(json.dumps(rows, indent=1) + "\n")
    n = {k: sum(r["expect"] == k for r in rows) for k in ("safe", "review", "unsafe")}
    print(f"wrote {len(rows)} files to {out} ({n}); manifest {out / 'manifest.json'}")


if __name__ == "__main__":
    main()
