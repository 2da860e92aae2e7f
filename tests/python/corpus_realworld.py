"""Expected inspect JSON for the committed real-world fixtures (tests/fixtures/real-world/),
computed with the torch of this build (for make_corpus.py).

Each fixture is copied to OUTDIR/realworld/NAME next to OUTDIR/realworld/NAME.expected.json.
Checkpoints torch.load can read get the full entry list; TorchScript and LibTorch C++ archives
get only {"format": ...}, and the index records what torch.jit.load and torch.load say.
"""

import os
import shutil
from pathlib import Path

import torch

import corpus_expect as expect

FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "real-world"
SUBDIR = "realworld"
NOT_FIXTURES = {"SOURCES.md"}


def fixture_files():
    if not FIXTURE_DIR.is_dir():
        return []
    return sorted(p for p in FIXTURE_DIR.iterdir()
                  if p.is_file() and p.name not in NOT_FIXTURES and not p.name.startswith("."))


def _describe_module(module):
    return "%s (original_name %s)" % (type(module).__name__, getattr(module, "original_name", "?"))


def _script_archive(path, fmt):
    flags = {"format": fmt}
    try:
        flags["jit_load"] = "ok: " + _describe_module(torch.jit.load(str(path)))
    except Exception as e:  # noqa: BLE001 - we record whatever torch says
        flags["jit_load"] = "error: %s: %s" % (type(e).__name__, expect.first_line(e))
    try:
        loaded = torch.load(str(path), weights_only=False)
        flags["torch_load"] = "ok (delegates to torch.jit.load): " + _describe_module(loaded)
    except Exception as e:  # noqa: BLE001
        flags["torch_load"] = "error: %s: %s" % (type(e).__name__, expect.first_line(e))
    return {"format": fmt}, flags


def write_realworld(outdir):
    """Copies every fixture into OUTDIR/realworld and writes its expected JSON; returns the
    index entries."""
    target = Path(outdir) / SUBDIR
    target.mkdir(parents=True, exist_ok=True)
    entries = []
    for source in fixture_files():
        copy = target / source.name
        shutil.copyfile(source, copy)
        fmt = expect.sniff_format(str(copy))
        if fmt in (expect.FORMAT_TORCHSCRIPT, expect.FORMAT_LIBTORCH):
            document, flags = _script_archive(copy, fmt)
        else:
            document, flags, _, _ = expect.describe_checkpoint(str(copy))
        relative = "%s/%s" % (SUBDIR, source.name)
        expect.write_expected(str(copy) + ".expected.json", document)
        entries.append({
            "name": relative,
            "file": relative,
            "expected": relative + ".expected.json",
            "source": "real-world",
            "fixture": os.path.join("tests", "fixtures", "real-world", source.name),
            "description": "see tests/fixtures/real-world/SOURCES.md",
            "flags": flags,
        })
    return entries
