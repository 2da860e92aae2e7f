#!/usr/bin/env python3
"""Inputs for the container tests (zip and safetensors), and what Python sees in them.

    zip_cases.py OUTDIR        write the cases and OUTDIR/manifest.json
    zip_cases.py --check DIR   check the files Java wrote, listed in DIR/java_manifest.json;
                               prints one line per file and exits 1 if any check fails

Every expected value in manifest.json comes from Python reading the files: entry names, sizes,
CRCs and header offsets from `zipfile`, data offsets from the local headers, contents through
`ZipFile.read` (which checks the CRC), archive kinds from torch's own readers, safetensors entries
from the header as `json` parses it, and whether the `safetensors` library accepts each malformed
file. The committed zip fixtures under tests/fixtures/ are described the same way.

Needs torch 2.13, numpy and safetensors.
"""

import hashlib
import io
import json
import os
import struct
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import safetensors
import safetensors.numpy
import safetensors.torch
import torch

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FIXTURE_DIRS = ("real-world", "hostile")

LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")  # APPNOTE 4.3.7, 30 bytes
LOCAL_HEADER_SIGNATURE = 0x04034B50
ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
ZIP64_LOCATOR_SIZE = 20
ECD_LOCATION = 9  # index of the end record's offset in zipfile._EndRecData's result

HEX_LIMIT = 256  # entries up to this size also get their bytes in hex
SHA_LIMIT = 64 << 20  # larger entries get no digest (the sparse 4 GiB one)
MANY_ENTRIES = 70_000  # more than 0xFFFF: zipfile writes zip64 end records
SPARSE_SIZE = (4 << 30) + (1 << 20)  # just past 4 GiB: zip64 sizes and offsets
SPARSE_CHUNK = 1 << 20
SPARSE_MAX_ALLOCATED = 64 << 20  # if the file takes more disk than this, the fs is not sparse

SAFETENSORS_LENGTH = struct.Struct("<Q")

# zipfile-made archives that torch's reader accepts need a data.pkl and a version record.
EMPTY_DICT_PICKLE = b"\x80\x02}q\x00."
VERSION_RECORD = b"3\n"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------
# What Python sees in a zip file
# --------------------------------------------------------------------------------------------

def has_zip64_end(path):
    with open(path, "rb") as f:
        end = zipfile._EndRecData(f)
        position = end[ECD_LOCATION]
        if position < ZIP64_LOCATOR_SIZE:
            return False
        f.seek(position - ZIP64_LOCATOR_SIZE)
        return f.read(4) == ZIP64_LOCATOR_SIGNATURE


def torch_kind(path, names):
    """The archive kind as torch's own readers judge it."""
    try:
        reader = torch._C.PyTorchFileReader(str(path))
    except Exception:
        return "UNKNOWN"
    if torch.serialization._is_torchscript_zip(reader):
        return "TORCHSCRIPT"
    root = names[0].split("/")[0] if names else ""
    if root + "/model.json" in names:
        try:
            torch.jit.load(str(path))
        except Exception as e:
            if "Legacy model format" in str(e):
                return "OLD_MODEL_JSON"
            raise
    if reader.has_record("data.pkl"):
        return "TORCH_SAVE"
    return "UNKNOWN"


def describe_zip(path, label):
    entries = []
    with zipfile.ZipFile(path) as zf, open(path, "rb") as raw:
        for info in zf.infolist():
            raw.seek(info.header_offset)
            fields = LOCAL_HEADER.unpack(raw.read(LOCAL_HEADER.size))
            assert fields[0] == LOCAL_HEADER_SIGNATURE, (path, info.filename)
            name_length, extra_length = fields[9], fields[10]
            entry = {
                "name": info.filename,
                "method": info.compress_type,
                "flags": info.flag_bits,
                "size": info.file_size,
                "compressed_size": info.compress_size,
                "crc32": info.CRC,
                "header_offset": info.header_offset,
                "data_offset": info.header_offset + LOCAL_HEADER.size + name_length + extra_length,
                "sha256": None,
            }
            if info.file_size <= SHA_LIMIT:
                data = zf.read(info)  # checks the CRC
                entry["sha256"] = sha256(data)
                if len(data) <= HEX_LIMIT:
                    entry["hex"] = data.hex()
            entries.append(entry)
        comment = zf.comment
    names = [e["name"] for e in entries]
    return {
        "file": label,
        "kind": torch_kind(path, names),
        "root": names[0].split("/")[0] if names and "/" in names[0] else "",
        "zip64": has_zip64_end(path),
        "comment_hex": comment.hex(),
        "entries": entries,
    }


# --------------------------------------------------------------------------------------------
# Zip inputs
# --------------------------------------------------------------------------------------------

def state_dict():
    g = torch.Generator().manual_seed(1234)
    return {
        "weight": torch.randn(4, 3, generator=g),
        "bias": torch.arange(4, dtype=torch.float64),
        "steps": torch.tensor(7, dtype=torch.int64),
        "half": torch.randn(5, generator=g).to(torch.float16),
        "bf16": torch.randn(3, 2, generator=g).to(torch.bfloat16),
        "mask": torch.tensor([True, False, True]),
        "empty": torch.zeros(0, 3),
    }


class Unseekable(io.RawIOBase):
    """A write-only stream without seek or tell: zipfile then writes data descriptors."""

    def __init__(self, f):
        self.f = f

    def writable(self):
        return True

    def write(self, b):
        return self.f.write(b)


class SparseZeros(io.RawIOBase):
    """Turns whole chunks of zeros into seeks, so a 4 GiB zip takes a few KB of disk."""

    def __init__(self, f):
        self.f = f
        self.zero = bytes(SPARSE_CHUNK)

    def writable(self):
        return True

    def seekable(self):
        return True

    def write(self, b):
        if len(b) == SPARSE_CHUNK and b == self.zero:
            self.f.seek(SPARSE_CHUNK, io.SEEK_CUR)
            return SPARSE_CHUNK
        return self.f.write(b)

    def tell(self):
        return self.f.tell()

    def seek(self, offset, whence=io.SEEK_SET):
        return self.f.seek(offset, whence)

    def flush(self):
        self.f.flush()


def write_sparse_zip(path):
    """Returns True if the fs kept the 4 GiB zip sparse; otherwise removes it."""
    with open(path, "wb") as f:
        out = SparseZeros(f)
        with zipfile.ZipFile(out, "w", allowZip64=True) as zf:
            with zf.open("big/data/0", "w", force_zip64=True) as entry:
                zero = bytes(SPARSE_CHUNK)
                for _ in range(SPARSE_SIZE // SPARSE_CHUNK):
                    entry.write(zero)
            zf.writestr("big/version", "3\n")
        f.truncate(f.tell())
    if os.stat(path).st_blocks * 512 > SPARSE_MAX_ALLOCATED:
        os.remove(path)
        return False
    return True


def write_zip_cases(out):
    zips = []
    ref = state_dict()

    torch.save(ref, out / "torch_save.pt")
    zips.append("torch_save.pt")

    buffer = io.BytesIO()
    torch.save(ref, buffer)  # a stream has no file name: the root is "archive"
    (out / "torch_save_stream.pt").write_bytes(buffer.getvalue())
    zips.append("torch_save_stream.pt")

    torch.save(ref, out / "torch_save_legacy.pt", _use_new_zipfile_serialization=False)

    torch.jit.save(torch.jit.script(torch.nn.Linear(3, 2)), str(out / "torchscript.pt"))
    zips.append("torchscript.pt")

    # The torch.save records, deflated by zipfile: torch.load still reads them.
    with zipfile.ZipFile(out / "torch_save.pt") as src, \
            zipfile.ZipFile(out / "deflated.zip", "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    assert torch.load(out / "deflated.zip", weights_only=True).keys() == ref.keys()
    zips.append("deflated.zip")

    with zipfile.ZipFile(out / "comment.zip", "w") as zf:
        zf.writestr("c/data.pkl", EMPTY_DICT_PICKLE)
        zf.writestr("c/version", VERSION_RECORD)
        zf.comment = b"an archive comment, which the end record search must step over"
    zips.append("comment.zip")

    with zipfile.ZipFile(out / "force_zip64.zip", "w", allowZip64=True) as zf:
        for i, payload in enumerate([b"zip64 local headers", bytes(range(256)) * 3, b""]):
            with zf.open(f"z/data/{i}", "w", force_zip64=True) as entry:
                entry.write(payload)
    zips.append("force_zip64.zip")

    with open(out / "data_descriptor.zip", "wb") as f:
        with zipfile.ZipFile(Unseekable(f), "w") as zf:
            zf.writestr("d/data.pkl", EMPTY_DICT_PICKLE)
            zf.writestr("d/version", VERSION_RECORD)
            zf.writestr("d/data/0", bytes(range(100)))
            zf.writestr("d/deflated", b"abc" * 1000, compress_type=zipfile.ZIP_DEFLATED)
    zips.append("data_descriptor.zip")

    with zipfile.ZipFile(out / "utf8_names.zip", "w") as zf:
        zf.writestr("ü/data.pkl", EMPTY_DICT_PICKLE)
        zf.writestr("ü/version", VERSION_RECORD)
        zf.writestr("ü/data/ключ", b"\x00\x01")
    zips.append("utf8_names.zip")

    with zipfile.ZipFile(out / "many_entries.zip", "w") as zf:
        for i in range(MANY_ENTRIES):
            zf.writestr(f"m/data/{i}", bytes([i % 256]))
    zips.append("many_entries.zip")

    with zipfile.ZipFile(out / "empty.zip", "w"):
        pass
    zips.append("empty.zip")

    sparse = write_sparse_zip(out / "sparse_4gib.zip")
    if sparse:
        zips.append("sparse_4gib.zip")

    described = [describe_zip(out / name, name) for name in zips]
    return described, ["torch_save_legacy.pt"], {"sparse_4gib.zip": sparse}


def describe_fixtures():
    described, not_zip = [], []
    for folder in FIXTURE_DIRS:
        directory = FIXTURES / folder
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if path.suffix == ".md":
                continue
            label = f"{folder}/{path.name}"
            if not zipfile.is_zipfile(path):
                not_zip.append(label)
                continue
            try:
                described.append(describe_zip(path, label))
            except (zipfile.BadZipFile, RuntimeError, NotImplementedError) as e:
                # zipfile refuses it too (encrypted entry, bad CRC): Java must refuse it.
                described.append({"file": label, "python_error": f"{type(e).__name__}: {e}"})
    return described, not_zip


# --------------------------------------------------------------------------------------------
# Safetensors inputs
# --------------------------------------------------------------------------------------------

TORCH_DTYPES = [
    "float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8",
    "bool", "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e8m0fnu",
    "float8_e4m3fnuz", "float8_e5m2fnuz", "complex64", "float4_e2m1fn_x2",
]


def safetensors_tensors():
    g = torch.Generator().manual_seed(99)
    tensors = {}
    for i, name in enumerate(TORCH_DTYPES):
        dtype = getattr(torch, name)
        raw = torch.randint(0, 256, (2, 3 + i % 3), generator=g, dtype=torch.uint8)
        if dtype == torch.bool:
            tensors[name] = raw % 2 == 1
        else:
            elem = torch.empty((), dtype=dtype).element_size()
            tensors[name] = raw.repeat(1, elem).view(dtype)  # random bytes of every dtype
    tensors["scalar"] = torch.tensor(3.5)
    tensors["empty"] = torch.zeros(0, dtype=torch.int32)
    tensors["empty_2d"] = torch.zeros(2, 0)
    # Names that exercise JSON escaping and byte-wise sorting.
    tensors['quote"back\\slash'] = torch.ones(1, dtype=torch.float32)
    tensors["ctrl\x01\ttab\nline"] = torch.ones(1, dtype=torch.float32)
    tensors["é-accent"] = torch.ones(1, dtype=torch.float32)
    tensors["\U0001F600-emoji"] = torch.ones(1, dtype=torch.float32)
    tensors["\uFF21-fullwidth"] = torch.ones(1, dtype=torch.float32)
    tensors["Z-upper"] = torch.ones(2, dtype=torch.float32)
    return tensors


def describe_safetensors(path, label, rewrite_exact):
    data = path.read_bytes()
    (n,) = SAFETENSORS_LENGTH.unpack_from(data)
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", None) or {}
    start = 8 + n
    entries = []
    with safetensors.safe_open(str(path), framework="pt") as f:
        keys = set(f.keys())
        assert (f.metadata() or {}) == metadata, (f.metadata(), metadata)
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, end = info["data_offsets"]
        assert name in keys
        entries.append({
            "name": name,
            "dtype": info["dtype"],
            "shape": info["shape"],
            "begin": start + begin,
            "end": start + end,
            "sha256": sha256(data[start + begin:start + end]),
        })
    return {
        "file": label,
        "header_length": n,
        "metadata": metadata,
        "entries": entries,
        # With at most one metadata key the library's hash order cannot differ from a sorted
        # one, so a writer that follows the library must reproduce the file byte for byte.
        "rewrite_exact": rewrite_exact,
    }


def st_file(header, data=b"", pad=True):
    if isinstance(header, (dict, list)):
        header = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        header += b" " * (-len(header) % 8)
    return SAFETENSORS_LENGTH.pack(len(header)) + header + data


def u8(shape, offsets):
    return {"dtype": "U8", "shape": shape, "data_offsets": offsets}


def malformed_safetensors():
    """(name, bytes, java_stricter): odd and broken files; Python's verdict goes in the manifest.

    java_stricter marks files the library accepts but ckpt4j deliberately refuses.
    """
    one = {"t": u8([1], [0, 1])}
    return [
        ("ok_unknown_field", st_file({"t": {**u8([1], [0, 1]), "extra": 1}}, b"a"), False),
        ("ok_leading_space", st_file(b' {"t":' + json.dumps(u8([1], [0, 1])).encode() + b"}", b"a"), False),
        ("ok_unpadded", st_file(one, b"a", pad=False), False),
        ("ok_offsets_not_in_header_order",
         st_file({"b": u8([1], [1, 2]), "a": u8([1], [0, 1])}, b"ab"), False),
        ("ok_metadata_null", st_file(b'{"__metadata__":null,"t":' + json.dumps(u8([1], [0, 1])).encode() + b"}", b"a"), False),
        ("ok_no_tensors", st_file({}), False),
        ("ok_two_empty", st_file({"a": u8([0], [0, 0]), "b": u8([0], [0, 0])}), False),
        ("ok_f4_whole_bytes", st_file({"t": {"dtype": "F4", "shape": [3, 2], "data_offsets": [0, 3]}}, b"abc"), False),
        ("duplicate_key_same", st_file(b'{"t":' + json.dumps(u8([1], [0, 1])).encode() + b',"t":' + json.dumps(u8([1], [0, 1])).encode() + b"}", b"a"), True),
        ("duplicate_key_different", st_file(b'{"t":' + json.dumps(u8([1], [0, 1])).encode() + b',"t":' + json.dumps(u8([1], [1, 2])).encode() + b"}", b"ab"), False),
        ("negative_dim", st_file({"t": u8([-1], [0, 1])}, b"a"), False),
        ("float_dim", st_file(b'{"t":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}', b"a"), False),
        ("huge_dims_overflow", st_file({"t": u8([2**63 - 1, 2**62], [0, 1])}, b"a"), False),
        ("dim_above_u64", st_file({"t": u8([2**64], [0, 1])}, b"a"), False),
        ("unknown_dtype", st_file({"t": {"dtype": "F128", "shape": [1], "data_offsets": [0, 1]}}, b"a"), False),
        ("wrong_byte_count", st_file({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"abcd"), False),
        ("f4_half_byte", st_file({"t": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}}, b"ab"), False),
        ("gap_at_start", st_file({"t": u8([1], [1, 2])}, b"ab"), False),
        ("overlap", st_file({"a": u8([2], [0, 2]), "b": u8([1], [1, 2])}, b"ab"), False),
        ("end_before_begin", st_file({"a": u8([0], [0, 0]), "b": u8([0], [1, 0])}, b"a"), False),
        ("trailing_bytes", st_file(one, b"ab"), False),
        ("truncated_data", st_file({"t": u8([4], [0, 4])}, b"ab"), False),
        ("offsets_three_items", st_file({"t": u8([1], [0, 1, 2])}, b"a"), False),
        ("missing_shape", st_file({"t": {"dtype": "U8", "data_offsets": [0, 1]}}, b"a"), False),
        ("metadata_not_string", st_file({"__metadata__": {"a": 1}, **one}, b"a"), False),
        ("top_level_array", st_file([]), False),
        ("nul_padding", st_file(b"{}\0\0\0\0\0\0", pad=False), False),
        ("trailing_json", st_file(b"{} x"), False),
        ("invalid_utf8", st_file(b'{"\xff":' + json.dumps(u8([1], [0, 1])).encode() + b"}", b"a"), False),
        ("zero_header_length", SAFETENSORS_LENGTH.pack(0), False),
        ("header_over_100mb", SAFETENSORS_LENGTH.pack(100_000_001) + b"{}", False),
        ("header_length_past_eof", SAFETENSORS_LENGTH.pack(64) + b"{}      ", False),
        ("header_length_above_2_63", SAFETENSORS_LENGTH.pack(2**64 - 8) + b"{}      ", False),
        ("short_file", b"\x02\x00\x00", False),
        ("deep_nesting", st_file(b'{"t":' + b"[" * 100_000 + b"]" * 100_000 + b"}"), False),
    ]


def python_verdict(path):
    try:
        with safetensors.safe_open(str(path), framework="np") as f:
            list(f.keys())
        return True, ""
    except Exception as e:  # the library raises several types (SafetensorError, ValueError...)
        return False, f"{type(e).__name__}: {e}"


def write_safetensors_cases(out):
    described = []
    tensors = safetensors_tensors()
    safetensors.torch.save_file(tensors, out / "st_dtypes.safetensors")
    described.append(describe_safetensors(out / "st_dtypes.safetensors", "st_dtypes.safetensors", True))

    small = {"b": torch.arange(6, dtype=torch.int16).reshape(2, 3), "a": torch.ones(2, 2)}
    safetensors.torch.save_file(small, out / "st_meta1.safetensors", metadata={"format": "pt"})
    described.append(describe_safetensors(out / "st_meta1.safetensors", "st_meta1.safetensors", True))

    meta = {"format": "pt", "note": "quote \" back \\ tab \t é", "a": "1", "zz": ""}
    safetensors.torch.save_file(small, out / "st_meta_many.safetensors", metadata=meta)
    described.append(
        describe_safetensors(out / "st_meta_many.safetensors", "st_meta_many.safetensors", False))

    arrays = {"x": np.arange(12, dtype=np.float32).reshape(3, 4), "y": np.array([1, 2], dtype=np.uint64)}
    safetensors.numpy.save_file(arrays, str(out / "st_numpy.safetensors"))
    described.append(describe_safetensors(out / "st_numpy.safetensors", "st_numpy.safetensors", True))

    malformed = []
    bad = out / "st_malformed"
    bad.mkdir(exist_ok=True)
    for name, data, stricter in malformed_safetensors():
        path = bad / (name + ".safetensors")
        path.write_bytes(data)
        accepted, error = python_verdict(path)
        malformed.append({
            "file": f"st_malformed/{path.name}",
            "python_accepts": accepted,
            "python_error": error,
            "java_stricter": stricter,
        })
    return described, malformed


# --------------------------------------------------------------------------------------------
# Checking what Java wrote
# --------------------------------------------------------------------------------------------

def zip_data_offsets(path):
    offsets = {}
    with zipfile.ZipFile(path) as zf, open(path, "rb") as raw:
        for info in zf.infolist():
            raw.seek(info.header_offset)
            fields = LOCAL_HEADER.unpack(raw.read(LOCAL_HEADER.size))
            offsets[info.filename] = info.header_offset + LOCAL_HEADER.size + fields[9] + fields[10]
    return offsets


def check_zip(directory, item):
    path = directory / item["file"]
    source = Path(item["source"])
    with zipfile.ZipFile(path) as zf:
        bad = zf.testzip()
        assert bad is None, f"CRC mismatch in {bad}"
        written = {i.filename: zf.read(i) for i in zf.infolist()}
    with zipfile.ZipFile(source) as zf:
        expected = {i.filename: zf.read(i) for i in zf.infolist()}
    assert written == expected, "entries differ from the source archive"
    alignment = item["alignment"]
    for name, offset in zip_data_offsets(path).items():
        assert offset % alignment == 0, f"{name} data at {offset}, not a multiple of {alignment}"
    assert has_zip64_end(path) == item["zip64"], f"zip64 end records: expected {item['zip64']}"
    if item["kind"] == "torch_save":
        reference = torch.load(source, weights_only=True)
        for mmap in (False, True):
            loaded = torch.load(path, weights_only=True, mmap=mmap)
            assert loaded.keys() == reference.keys()
            for key, value in reference.items():
                assert torch.equal(loaded[key], value), f"{key} differs (mmap={mmap})"
    elif item["kind"] == "torchscript":
        reference = torch.jit.load(str(source)).state_dict()
        loaded = torch.jit.load(str(path)).state_dict()
        assert all(torch.equal(loaded[k], v) for k, v in reference.items())


def raw_bytes(tensor):
    return tensor.contiguous().reshape(-1).view(torch.uint8).tolist()


def check_safetensors(directory, item):
    path = directory / item["file"]
    source = Path(item["source"])
    reference = safetensors.torch.load_file(source)
    loaded = safetensors.torch.load_file(path)
    assert loaded.keys() == reference.keys()
    for key, value in reference.items():
        assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape, key
        assert raw_bytes(loaded[key]) == raw_bytes(value), key
    with safetensors.safe_open(str(path), framework="pt") as f:
        assert (f.metadata() or {}) == item["metadata"], f.metadata()


def check(directory):
    items = json.loads((directory / "java_manifest.json").read_text())
    failures = 0
    for item in items:
        try:
            if item["type"] == "zip":
                check_zip(directory, item)
            else:
                check_safetensors(directory, item)
            print(f"ok {item['file']}")
        except Exception as e:
            failures += 1
            print(f"FAIL {item['file']}: {type(e).__name__}: {e}")
    return 1 if failures else 0


def main(argv):
    warnings.simplefilter("ignore")
    if len(argv) == 3 and argv[1] == "--check":
        return check(Path(argv[2]))
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    zips, not_zip, optional = write_zip_cases(out)
    fixtures, fixture_not_zip = describe_fixtures()
    st, st_malformed = write_safetensors_cases(out)
    manifest = {
        "torch_version": torch.__version__,
        "safetensors_version": safetensors.__version__,
        "python_version": sys.version.split()[0],
        "zips": zips,
        "not_zip": not_zip,
        "optional": optional,
        "fixtures": fixtures,
        "fixtures_not_zip": fixture_not_zip,
        "safetensors": st,
        "safetensors_malformed": st_malformed,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
