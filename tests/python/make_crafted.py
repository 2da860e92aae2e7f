"""Writes crafted, malformed checkpoints — each one a real torch.save layout with ONE field made
wrong — and what torch 2.13's own torch.load says about each (it must refuse them too, or the
case documents where ckpt4j is stricter).

    python3 tests/python/make_crafted.py OUTDIR

OUTDIR/index.json: {"cases": [{"name", "file", "what", "torch_error", "ckpt4j_kind"}]}. The Java
tests check that ckpt4j refuses every file with one CheckpointException (one line) of the kind
named, never another exception. A case with "hint" is a file whose refusal ends with that fix;
"hint_file" is the file with the fix applied here, which must then load. "ckpt4j_says": words
the refusal must contain (the format it names).
"""
import io
import json
import os
import pickle
import struct
import sys
import zipfile
from collections import OrderedDict

import torch

ROOT = "archive"


class FakeStorage:
    """Stands for a storage in the pickle; persistent_id turns it into torch's tuple."""

    def __init__(self, storage_type, key, location, numel):
        self.pid = ("storage", storage_type, key, location, numel)


class FakeTensor:
    """Pickles as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, OrderedDict())

    def __reduce_ex__(self, protocol):
        return (torch._utils._rebuild_tensor_v2, self.args)


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, FakeStorage) else None


def pickle_bytes(obj):
    buf = io.BytesIO()
    Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def write_zip(path, obj, storages, extra=None):
    """A torch.save-style zip: data.pkl, data/<key> records, version, byteorder."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(ROOT + "/data.pkl", pickle_bytes(obj))
        z.writestr(ROOT + "/byteorder", "little")
        for key, data in storages.items():
            z.writestr(ROOT + "/data/" + key, data)
        z.writestr(ROOT + "/version", "3\n")
        for name, data in (extra or {}).items():
            z.writestr(ROOT + "/" + name, data)


def float_storage(n, key="0"):
    return FakeStorage(torch.FloatStorage, key, "cpu", n)


def floats(n):
    return struct.pack("<%df" % n, *[float(i) for i in range(n)])


def cases():
    s4 = float_storage(4)
    yield "shape_past_storage", "size [100] over a 4-element storage", \
        {"w": FakeTensor(s4, 0, [100], [1])}, {"0": floats(4)}
    yield "offset_past_storage", "storage offset 3 + size [2] over 4 elements", \
        {"w": FakeTensor(s4, 3, [2], [1])}, {"0": floats(4)}
    yield "stride_past_storage", "size [2, 2], strides [3, 1] over 4 elements", \
        {"w": FakeTensor(s4, 0, [2, 2], [3, 1])}, {"0": floats(4)}
    yield "negative_size", "size [-1]", {"w": FakeTensor(s4, 0, [-1], [1])}, {"0": floats(4)}
    yield "negative_stride", "stride [-1]", {"w": FakeTensor(s4, 0, [4], [-1])}, {"0": floats(4)}
    yield "negative_offset", "storage offset -1", \
        {"w": FakeTensor(s4, -1, [1], [1])}, {"0": floats(4)}
    yield "numel_overflow", "sizes whose product overflows int64", \
        {"w": FakeTensor(s4, 0, [2**40, 2**40], [1, 1])}, {"0": floats(4)}
    yield "extent_overflow", "a stride that overflows int64", \
        {"w": FakeTensor(s4, 0, [3], [2**62])}, {"0": floats(4)}
    huge = float_storage(2**61)
    yield "storage_numel_huge", "a storage that declares 2**61 floats (numel x 4 overflows)", \
        {"w": FakeTensor(huge, 0, [1], [1])}, {"0": floats(4)}
    s1000 = float_storage(1000)
    yield "storage_longer_than_record", "a storage of 1000 floats over a 16-byte record", \
        {"w": FakeTensor(s1000, 0, [4], [1])}, {"0": floats(4)}
    yield "storage_record_missing", "data.pkl names storage 7, the zip has no data/7", \
        {"w": FakeTensor(float_storage(4, "7"), 0, [4], [1])}, {"0": floats(4)}
    yield "storage_two_dtypes", "one storage key named as FloatStorage and as LongStorage", \
        {"a": FakeTensor(s4, 0, [4], [1]),
         "b": FakeTensor(FakeStorage(torch.LongStorage, "0", "cpu", 2), 0, [2], [1])}, \
        {"0": floats(4)}
    yield "bad_location", "a storage saved on an unknown device 'quantum:0'", \
        {"w": FakeTensor(FakeStorage(torch.FloatStorage, "0", "quantum:0", 4), 0, [4], [1])}, \
        {"0": floats(4)}
    yield "not_a_storage_pid", "a persistent id that is not ('storage', ...)", \
        {"w": FakeTensor(FakeStorage(torch.FloatStorage, "0", "cpu", 4), 0, [4], [1])}, \
        {"0": floats(4)}


# Files torch 2.13 loads but ckpt4j refuses on purpose, and why.
STRICTER = {
    "storage_two_dtypes": "torch keeps the first dtype it saw for the key and reinterprets the"
                          " second tensor's bytes; torch.save never writes such a file",
}


# Why ckpt4j refuses each file it refuses (CheckpointException.Kind).
KINDS = {
    "shape_past_storage": "INVALID_TENSOR",
    "offset_past_storage": "INVALID_TENSOR",
    "stride_past_storage": "INVALID_TENSOR",
    "negative_size": "INVALID_TENSOR",
    "negative_stride": "INVALID_TENSOR",
    "negative_offset": "INVALID_TENSOR",
    "numel_overflow": "INVALID_TENSOR",
    "extent_overflow": "INVALID_TENSOR",
    "storage_numel_huge": "INVALID_TENSOR",
    "storage_longer_than_record": "INVALID_TENSOR",
    "storage_record_missing": "MALFORMED_CONTAINER",
    "storage_two_dtypes": "INVALID_TENSOR",
    "not_a_storage_pid": "INVALID_TENSOR",
    "legacy_truncated_storage": "TRUNCATED",
    "legacy_numel_mismatch": "INVALID_TENSOR",
}


def hint_cases(outdir):
    """Real torch.save files ckpt4j refuses with a fix in the message, and the fix, applied."""
    state = OrderedDict(w=torch.arange(12, dtype=torch.float32).reshape(3, 4),
                        b=torch.linspace(-1, 1, 5))
    source = os.path.join(outdir, "hint_source.pt")
    torch.save(state, source)
    cases = []

    # Saved on a big-endian machine: the byteorder record says "big" and the storages are swapped.
    big = os.path.join(outdir, "big_endian.pt")
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as out:
        for info in z.infolist():
            data = z.read(info)
            if info.filename.endswith("/byteorder"):
                data = b"big"
            elif "/data/" in info.filename:  # float32 storages
                n = len(data) // 4
                data = struct.pack(">%df" % n, *struct.unpack("<%df" % n, data))
            out.writestr(info, data)
    # "torch.load it and torch.save it again on a little-endian machine"
    fixed = os.path.join(outdir, "big_endian_resaved.pt")
    loaded = torch.load(big)
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    torch.save(loaded, fixed)
    cases.append({"name": "big_endian", "file": "big_endian.pt",
                  "what": "a checkpoint saved on a big-endian machine (byteorder 'big')",
                  "torch_error": torch_verdict(big),
                  "ckpt4j_stricter": "ckpt4j does not byteswap storages yet",
                  "ckpt4j_kind": "UNSUPPORTED_FORMAT",
                  "hint": "torch.load it and torch.save it again on a little-endian machine",
                  "hint_file": os.path.basename(fixed)})

    # Entries compressed with bzip2 (zipfile can write them; torch.save never does).
    bz2 = os.path.join(outdir, "bzip2_entries.pt")
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(bz2, "w", zipfile.ZIP_BZIP2) as out:
        for info in z.infolist():
            out.writestr(info.filename, z.read(info))
    # "rewrite the zip with stored entries"
    stored = os.path.join(outdir, "bzip2_entries_stored.pt")
    with zipfile.ZipFile(bz2) as z, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as out:
        for info in z.infolist():
            out.writestr(info.filename, z.read(info))
    case = {"name": "bzip2_entries", "file": "bzip2_entries.pt",
            "what": "a torch.save zip rewritten with bzip2-compressed entries",
            "torch_error": torch_verdict(bz2), "ckpt4j_kind": "UNSUPPORTED_FORMAT",
            "hint": "rewrite the zip with stored entries, as torch.save writes them",
            "hint_file": os.path.basename(stored)}
    if case["torch_error"] is None:
        case["ckpt4j_stricter"] = "ckpt4j inflates deflate only"
    cases.append(case)
    os.remove(source)
    return cases


def format_cases(outdir):
    """Layouts ckpt4j does not read (yet), each refused in one line that names the format."""
    import tarfile
    cases = []
    # torch.save's first format (torch 0.1.9 and earlier): a tar of sys_info, pickle, tensors,
    # storages. torch 2.13 still reads one, but never with weights_only=True.
    tar = os.path.join(outdir, "tar_format.pt")
    with tarfile.open(tar, "w", format=tarfile.PAX_FORMAT) as t:
        for member in ("sys_info", "pickle", "tensors", "storages"):
            data = pickle.dumps({} if member == "sys_info" else [], protocol=2)
            info = tarfile.TarInfo(member)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    cases.append({"name": "tar_format", "file": os.path.basename(tar),
                  "what": "torch.save's tar format (torch 0.1.9 and earlier)",
                  "torch_error": torch_verdict(tar), "ckpt4j_kind": "UNSUPPORTED_FORMAT",
                  "ckpt4j_says": "torch.save's tar format"})
    # One data file of a torch.distributed.checkpoint directory, opened alone.
    import torch.distributed.checkpoint as dcp
    dcp_dir = os.path.join(outdir, "dcp_checkpoint")
    dcp.save({"w": torch.arange(12, dtype=torch.float32), "step": 3}, checkpoint_id=dcp_dir)
    shards = sorted(n for n in os.listdir(dcp_dir) if n.endswith(".distcp"))
    shard = os.path.join("dcp_checkpoint", shards[0])
    cases.append({"name": "dcp_shard_alone", "file": shard,
                  "what": "a .distcp shard of a torch.distributed.checkpoint directory",
                  "torch_error": torch_verdict(os.path.join(outdir, shard)),
                  "ckpt4j_kind": "UNSUPPORTED_FORMAT",
                  "ckpt4j_says": "torch.distributed.checkpoint (DCP) directory"})
    # A directory holding no checkpoint ckpt4j knows.
    plain = os.path.join(outdir, "no_checkpoint_dir")
    os.makedirs(plain, exist_ok=True)
    with open(os.path.join(plain, "README.txt"), "w") as f:
        f.write("not a checkpoint\n")
    cases.append({"name": "no_checkpoint_dir", "file": "no_checkpoint_dir",
                  "what": "a directory without a checkpoint",
                  "torch_error": torch_verdict(plain), "ckpt4j_kind": "NOT_A_CHECKPOINT",
                  "ckpt4j_says": "is a directory without a checkpoint"})
    return cases


class RunsShell:
    """Pickles as a call of os.system: what a hostile file hides after harmless classes."""

    def __reduce__(self):
        return (os.system, ("true",))


def globals_cases(outdir):
    """Real torch.save files with classes torch's weights_only refuses, and what torch says the
    file needs: ckpt4j's one hint must name all of them (so applying it makes the file load), or,
    when one of them runs code, suggest nothing."""
    import argparse
    import pathlib
    state = OrderedDict(w=torch.arange(6, dtype=torch.float32))
    args = argparse.Namespace(lr=0.1, out=pathlib.PurePosixPath("/runs/1"))
    out = []
    for name, obj in (("two_globals", {"model": state, "args": args}),
                      ("code_after_class", {"model": state, "args": args, "x": RunsShell()})):
        path = os.path.join(outdir, name + ".pt")
        torch.save(obj, path)
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        out.append({"name": name, "file": name + ".pt", "torch_error": torch_verdict(path),
                    "torch_unsafe_globals": sorted(unsafe),
                    "runs_code": any(g.startswith(("os.", "posix.")) for g in unsafe)})
    return out


def torch_verdict(path):
    try:
        torch.load(path, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - we record whatever torch says
        return "%s: %s" % (type(e).__name__, str(e).strip().splitlines()[0][:300])
    return None


def main(outdir):
    os.makedirs(outdir, exist_ok=True)
    index = []
    for name, what, obj, storages in cases():
        if name == "not_a_storage_pid":
            obj["w"].args[0].pid = ("weird", 1)
        path = os.path.join(outdir, name + ".pt")
        write_zip(path, obj, storages)
        case = {"name": name, "file": name + ".pt", "what": what,
                "torch_error": torch_verdict(path)}
        if name in STRICTER:
            assert case["torch_error"] is None, name
            case["ckpt4j_stricter"] = STRICTER[name]
        if case["torch_error"] or name in STRICTER:
            case["ckpt4j_kind"] = KINDS[name]
        index.append(case)
    # The legacy format: a real file, its last storage cut short / its numel header changed.
    legacy = os.path.join(outdir, "legacy_source.pt")
    torch.save(OrderedDict(w=torch.arange(64, dtype=torch.float32)), legacy,
               _use_new_zipfile_serialization=False)
    data = open(legacy, "rb").read()
    cut = os.path.join(outdir, "legacy_truncated_storage.pt")
    open(cut, "wb").write(data[:-10])
    index.append({"name": "legacy_truncated_storage", "file": os.path.basename(cut),
                  "what": "legacy file whose storage bytes end 10 bytes early",
                  "torch_error": torch_verdict(cut),
                  "ckpt4j_kind": KINDS["legacy_truncated_storage"]})
    header_at = len(data) - 64 * 4 - 8
    assert struct.unpack("<q", data[header_at:header_at + 8])[0] == 64
    bad = os.path.join(outdir, "legacy_numel_mismatch.pt")
    open(bad, "wb").write(data[:header_at] + struct.pack("<q", 2**40) + data[header_at + 8:])
    index.append({"name": "legacy_numel_mismatch", "file": os.path.basename(bad),
                  "what": "legacy storage record whose numel header says 2**40",
                  "torch_error": torch_verdict(bad), "ckpt4j_kind": KINDS["legacy_numel_mismatch"]})
    os.remove(legacy)
    index.extend(hint_cases(outdir))
    index.extend(format_cases(outdir))
    with open(os.path.join(outdir, "index.json"), "w") as f:
        json.dump({"cases": index, "globals_cases": globals_cases(outdir)}, f, indent=1)
    refused = sum(1 for c in index if c["torch_error"])
    print("make_crafted: %d cases in %s (torch 2.13 refuses %d)" % (len(index), outdir, refused))


if __name__ == "__main__":
    main(sys.argv[1])
