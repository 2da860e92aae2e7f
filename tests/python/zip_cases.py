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

import json
import os
import sys
import warnings
import zipfile
from pathlib import Path

import safetensors
import safetensors.torch
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from zip_cases_safetensors import write_safetensors_cases  # noqa: E402
from zip_cases_zip import (  # noqa: E402
    LOCAL_HEADER, describe_fixtures, has_zip64_end, write_zip_cases)


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
