#!/usr/bin/env python3
"""Writes the checkpoint reader's test corpus with real torch, and what Python sees in it.

    python3 tests/python/make_corpus.py OUTDIR

For every case file NAME in OUTDIR there is NAME.expected.json: exactly the JSON that
`ckpt4j inspect --json NAME` must print (format + one LEAF per leaf value), computed from what
torch.load (or safetensors.torch.load_file) returns. OUTDIR/realworld/ holds copies of the
committed real-world fixtures with their expected JSON. OUTDIR/index.json lists every case with
its flags (format, archive root, pickle protocol, globals, weights_only verdict,
needs_map_location, saved locations...). See tests/python/README.md.

Every expected document is checked here: the object walked before saving must give the same
entries as the object torch.load gives back, with the locations torch.load reports.
"""

import argparse
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import safetensors  # noqa: E402
import safetensors.torch  # noqa: E402
import torch  # noqa: E402

import corpus_cases  # noqa: E402
import corpus_checks  # noqa: E402
import corpus_expect as expect  # noqa: E402
import corpus_realworld  # noqa: E402

INDEX_FILE = "index.json"
EXPECTED_SUFFIX = ".expected.json"


def _load_error(path):
    try:
        torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - we record whatever torch says
        return "%s: %s" % (type(e).__name__, expect.first_line(e))
    raise AssertionError("%s: torch.load was expected to fail" % path)


def _safetensors_case(case, original, path):
    loaded = safetensors.torch.load_file(path)
    document = expect.expected_document(expect.FORMAT_SAFETENSORS, loaded, expect.FixedLocations())
    reordered = {key: original[key] for key in loaded}
    assert set(loaded) == set(original), path
    assert expect.walk(reordered, expect.FixedLocations()) == document["entries"], path
    return document, {"format": expect.FORMAT_SAFETENSORS,
                      "tensor_order": "safetensors header order (what load_file yields)"}


def _torch_case(case, original, path, tags):
    document, flags, loaded, recorder = expect.describe_checkpoint(path)
    saved = set(recorder.locations())
    assert set(tags.values()) <= saved <= set(tags.values()) | {"cpu"}, path
    before = expect.walk(original, expect.FixedLocations(tags))
    assert before == document["entries"], "%s: saved and loaded objects differ" % path
    corpus_checks.check(case.file, loaded)
    return document, flags


def write_case(case, outdir):
    path = os.path.join(outdir, case.file)
    original = case.make()
    tags = corpus_cases.save_case(case, original, path)
    entry = {"name": case.file, "file": case.file, "expected": None, "source": "generated",
             "description": case.description}
    if case.torch_cannot_load:
        flags = expect.file_facts(path, expect.sniff_format(path))
        flags["torch_load_error"] = _load_error(path)
        entry["flags"] = dict(flags, **case.flags)
        return entry
    if case.safetensors:
        document, flags = _safetensors_case(case, original, path)
    else:
        document, flags = _torch_case(case, original, path, tags)
    expected = case.file + EXPECTED_SUFFIX
    expect.write_expected(os.path.join(outdir, expected), document)
    with open(os.path.join(outdir, expected), encoding="utf-8") as f:
        assert json.load(f) == json.loads(json.dumps(document)), expected
    entry["expected"] = expected
    entry["flags"] = dict(flags, **case.flags)
    return entry


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", help="directory to write the corpus into (created)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    started = time.monotonic()
    os.makedirs(args.outdir, exist_ok=True)
    entries = [write_case(case, args.outdir) for case in corpus_cases.cases()]
    entries += corpus_realworld.write_realworld(args.outdir)
    index = {
        "generator": "tests/python/make_corpus.py",
        "torch_version": torch.__version__,
        "safetensors_version": safetensors.__version__,
        "cases": entries,
    }
    expect.write_json(os.path.join(args.outdir, INDEX_FILE), index)
    print("make_corpus: %d cases in %s (%.1f s)" % (
        len(entries), args.outdir, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
