"""The zip cases that zip_cases.py writes, and what Python sees in a zip file.

describe_zip gives a zip's entries as `zipfile` reads them (names, sizes, CRCs, header and data
offsets, contents checked by CRC) and its kind as torch's own readers judge it; write_zip_cases
writes the generated archives and describe_fixtures describes the committed ones.
"""

import hashlib
import io
import os
import struct
import zipfile
from pathlib import Path

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


# Why ckpt4j refuses each fixture zipfile refuses (CheckpointException.Kind): a new fixture that
# zipfile refuses must be classified here.
JAVA_KINDS = {
    "hostile/picklescan__tests_data2_malicious1_crc.zip": "MALFORMED_CONTAINER",
    "hostile/picklescan__tests_data_malicious1_0x1.zip": "UNSUPPORTED_FORMAT",
    "hostile/picklescan__tests_data_malicious1_central_directory.zip": "MALFORMED_CONTAINER",
}


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
                described.append({"file": label, "python_error": f"{type(e).__name__}: {e}",
                                  "java_kind": JAVA_KINDS[label]})
    return described, not_zip
