"""Checks checkpoints that ckpt4j (Java) wrote, with real torch 2.13.

    python3 tests/python/check_saved.py MANIFEST.json

The Java tests (tests/java/io/ckpt4j/save) write checkpoints and a manifest naming them, run this
script once, and read its verdicts: stdout is one JSON document {"results": {ID: "ok" | ERROR}}.
Each case is compared with what it must equal:

- "roundtrip": the file Java wrote after loading ORIGINAL (a checkpoint torch wrote; the reader's
  corpus) must give what torch.load(ORIGINAL) gives: the same tree (types, keys in order,
  OrderedDict _metadata), tensors with the same dtype, shape, strides, storage offset,
  requires_grad, Parameter-ness, conj/neg bits, Python attributes, saved location and storage
  bytes (compared as bytes: NaN payloads and -0.0 count), and the same sharing (which paths hold
  one tensor object; which tensors view one storage). Optional "transform" applies ckpt4j
  convert's key changes to the original first; "relocated" says where each storage must now be
  saved: a device for all, or a {saved: now} map.
- "atomic": what an atomic save left at its target after the writer was killed mid-save: one
  complete version (see check_complete_version).
- "sidecar": a tree Java built from LibTorch tensors; SIDECAR.json describes it (tagged values,
  tensor geometry, storage and object ids, locations) and SIDECAR.safetensors holds each storage's
  bytes as a uint8 tensor — written by the Java test from LibTorch, not by the saver.

Every saved file must also have torch.save's zip layout (records, order, 64-byte alignment, stored
entries), a protocol 2 pickle naming only the globals listed in TORCH_GLOBALS (or the case's
safe_globals), load with torch.load(weights_only=True) — without map_location when every storage
is on the cpu, and refusing to load on this CPU-only machine when one is not — and load the same
with mmap=True.

Known loss, documented: torch.Size inside a tree comes back from ckpt4j's reader as a tuple, so it
is saved as a tuple (accepted here where the original had a torch.Size).
"""

import argparse
import importlib
import json
import os
import sys
import zipfile

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_saved_compare import (  # noqa: E402
    Mismatch, Walk, check_complete_version, check_sidecar_tree, compare_trees)
from check_saved_file import check_layout, check_pickle, expected_root  # noqa: E402
from corpus_expect import LocationRecorder  # noqa: E402


# ------------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------------

def resolve_globals(names):
    out = []
    for qualified in names:
        module, name = qualified.rsplit(".", 1)
        out.append(getattr(importlib.import_module(module), name))
    return out


def load(path, weights_only=True, safe_globals=(), mmap=False):
    """torch.load(path) with every storage left on the CPU: (object, LocationRecorder), the
    recorder knowing each storage's saved location."""
    recorder = LocationRecorder()
    with torch.serialization.safe_globals(resolve_globals(safe_globals)):
        obj = torch.load(path, map_location=recorder, weights_only=weights_only, mmap=mmap)
    return obj, recorder


def load_original(case):
    path = case["original"]
    if case.get("original_loader") == "safetensors":
        return dict(load_file(path)), None
    return load(path, weights_only=case.get("original_weights_only", True),
                safe_globals=case.get("safe_globals", []))


# ------------------------------------------------------------------------------------------------
# convert's key changes, as Python does them
# ------------------------------------------------------------------------------------------------

def state_dict_of(obj, at):
    for k in at:
        obj = obj[k]
    return obj


def replace_state_dict(obj, at, new):
    if not at:
        return new
    parent = state_dict_of(obj, at[:-1])
    parent[at[-1]] = new
    return obj


def apply_transform(obj, transform):
    at = transform.get("state_dict", [])
    sd = state_dict_of(obj, at)
    if transform.get("strip_prefix"):
        torch.nn.modules.utils.consume_prefix_in_state_dict_if_present(sd, transform["strip_prefix"])
    prefix = transform.get("add_prefix")
    if prefix:
        obj = replace_state_dict(obj, at, add_prefix(sd, prefix))
    return obj


def add_prefix(sd, prefix):
    """The state dict a wrapper holding the model under `prefix` gives: every key prefixed, and
    `_metadata` as nn.DataParallel(model).state_dict() has it — the wrapper's own entries first
    (nn.Module version 1, one per level of the prefix), then the model's, renamed."""
    new = type(sd)((prefix + k, v) for k, v in sd.items())
    if hasattr(sd, "_metadata"):
        bare = prefix[:-1] if prefix.endswith(".") else prefix
        levels = [""] + [bare[:i] for i, c in enumerate(bare) if c == "."]
        new._metadata = type(sd._metadata)([(level, {"version": 1}) for level in levels] + [
            ((prefix + k) if k else bare, v) for k, v in sd._metadata.items()])
    return new


def _check_add_prefix_is_data_parallel():
    """add_prefix(model.state_dict(), "module.") is nn.DataParallel(model).state_dict()."""
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    mine, theirs = add_prefix(model.state_dict(), "module."), torch.nn.DataParallel(model).state_dict()
    assert list(mine) == list(theirs) and mine._metadata == theirs._metadata, (mine, theirs)


_check_add_prefix_is_data_parallel()


# ------------------------------------------------------------------------------------------------
# One case
# ------------------------------------------------------------------------------------------------

def saved_locations(path, safe_globals):
    _, rec = load(path, safe_globals=safe_globals)
    return sorted({loc for _, loc in rec.records})


def check_case(case):
    saved = case["saved"]
    safe = case.get("safe_globals", [])
    root = expected_root(saved)
    check_pickle(check_layout(saved, root), set(safe))
    locations = saved_locations(saved, safe)
    on_cpu_only = all(loc == "cpu" for loc in locations)
    if isinstance(case.get("relocated"), str) and locations not in ([case["relocated"]], []):
        raise Mismatch("saved locations %s, expected all %s" % (locations, case["relocated"]))
    if on_cpu_only:
        # Plain torch.load(path): weights_only=True, no map_location.
        with torch.serialization.safe_globals(resolve_globals(safe)):
            torch.load(saved)
    else:
        try:
            with torch.serialization.safe_globals(resolve_globals(safe)):
                torch.load(saved)
        except RuntimeError:
            pass
        else:
            if not torch.cuda.is_available():
                raise Mismatch("loaded without map_location although saved on %s" % locations)
    for mmap in (False, True):
        got, rec = load(saved, safe_globals=safe, mmap=mmap)
        wb = Walk(rec, case.get("relocated"))
        if case["kind"] == "sidecar":
            check_sidecar_tree(case, got, wb)
            continue
        if case["kind"] == "atomic":
            check_complete_version(case, got)
            continue
        expected, rec_a = load_original(case)
        if case.get("transform"):
            expected = apply_transform(expected, case["transform"])
        compare_trees(expected, got, Walk(rec_a), wb)
    if case.get("same_pickle_as_original"):
        with zipfile.ZipFile(case["original"]) as z:
            original = z.read([n for n in z.namelist() if n.endswith("/data.pkl")][0])
        with zipfile.ZipFile(saved) as z:
            mine = z.read(root + "/data.pkl")
        if original != mine:
            raise Mismatch("data.pkl differs from the original's (%d vs %d bytes)"
                           % (len(mine), len(original)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("manifest")
    args = parser.parse_args()
    with open(args.manifest) as f:
        cases = json.load(f)["cases"]
    results = {}
    for case in cases:
        try:
            check_case(case)
            results[case["id"]] = "ok"
        except Exception as e:  # noqa: BLE001 - every failure is reported per case
            results[case["id"]] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
    json.dump({"results": results}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
