#!/usr/bin/env python3
"""torch.distributed.checkpoint (DCP) directories, written with torch 2.13 on the CPU for the Java
reader; and the check of the ones Java wrote.

    python3 tests/python/make_dcp.py OUTDIR              # write the cases
    python3 tests/python/make_dcp.py check JAVADIR       # JAVADIR/manifest.json lists what Java
        # wrote; prints {"results": {id: "ok" | what differed}} and exits 1 on a failure. A case
        # {"id", "dir", "source", "ranks"}: a DCP directory Java wrote from SOURCE (.pt) as RANKS
        # ranks: dcp.load into a pre-allocated state_dict and dcp_to_torch_save must both give
        # SOURCE back bit-exact. {"id", "kind": "pt", "saved", "dcp"}: a .pt Java converted from
        # the DCP directory: torch.load(weights_only=True) must give what dcp_to_torch_save does.
    python3 tests/python/make_dcp.py demo OUTDIR         # the small copy `ckpt4j demo` ships

Cases (OUTDIR/manifest.json {"read": [CASE...], "source": FILE}), each CASE "name", "open" (the
path Java opens, relative to OUTDIR), "expected" (the inspect --json document of what
dcp_to_torch_save gives: torch.load of the .pt it writes), and for a broken one "error": {"kind",
"mentions"}:
- single: dcp.save without a process group: nested dicts, several dtypes, a transposed (strided)
  tensor, 0-d and empty tensors, int/str/float/list values (bytes entries), an optimizer-like
  {"state": {0: {...}}, "param_groups": [...]} nesting;
- ranks2: a 2-process Gloo group on 127.0.0.1 (spawned, bounded time, free port): DTensors on a
  1-D CPU DeviceMesh, row-sharded (Shard(0), FSDP-style), column-sharded (Shard(1)) and
  replicated, so the chunks come from two ranks' files __0_0.distcp and __1_0.distcp;
- broken copies of them: a missing .distcp, a truncated .distcp, a chunk beyond its tensor, a
  chunk removed (a gap), a .metadata naming a global DCP never writes.
OUTDIR/source.pt: a nested state_dict Java loads and writes as DCP (the "check" input).
"""
import copy
import datetime
import hashlib
import json
import os
import pickle
import shutil
import sys
import tempfile
import warnings

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint._nested_dict import flatten_state_dict, unflatten_state_dict
from torch.distributed.checkpoint.format_utils import dcp_to_torch_save

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_expect  # noqa: E402
import rank_procs  # noqa: E402

SEED = 20261206
GROUP_TIMEOUT_S = 60
JOIN_TIMEOUT_S = 120
warnings.filterwarnings("ignore", message=".*torch.distributed is disabled.*")


class Everything:
    """Device lookup for corpus_expect.walk: every storage here is on the CPU."""

    def location_of(self, untyped):
        return "cpu"


def single_state_dict():
    g = torch.Generator().manual_seed(SEED)
    w = torch.randn(6, 4, generator=g)
    return {
        "model": {
            "embed.weight": torch.randn(10, 8, generator=g),
            "proj": {"weight": w.t(), "bias": torch.randn(6, generator=g).to(torch.bfloat16)},
            "half": torch.randn(3, 5, generator=g).to(torch.float16),
            "double": torch.randn(2, 3, generator=g).to(torch.float64),
            "ids": torch.arange(-5, 7, dtype=torch.int64).reshape(3, 4),
            "small": torch.arange(0, 200, 7, dtype=torch.int32).to(torch.int8),
            "mask": torch.tensor([True, False, True]),
            "scale": torch.tensor(0.5),
            "empty": torch.zeros(0, 3),
        },
        "optimizer": {
            "state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.randn(10, 8, generator=g)}},
            "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "params": [0]}],
        },
        "epoch": 7,
        "name": "dcp-single",
        "history": [0.5, 0.25],
    }


def full_tensors():
    g = torch.Generator().manual_seed(SEED + 1)
    return {
        "rows": torch.randn(7, 4, generator=g),          # 7 rows: ranks hold 4 and 3
        "cols": torch.randn(3, 6, generator=g).to(torch.bfloat16),
        "replicated": torch.arange(5, dtype=torch.int32),
        "layer.weight": torch.randn(8, 2, 2, generator=g),
    }


def rank_main(rank, world, port, out):
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Replicate, Shard, distribute_tensor
    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:%d" % port, rank=rank,
                            world_size=world, timeout=datetime.timedelta(seconds=GROUP_TIMEOUT_S))
    try:
        mesh = init_device_mesh("cpu", (world,))
        full = full_tensors()
        sd = {
            "model": {
                "rows": distribute_tensor(full["rows"], mesh, [Shard(0)]),
                "cols": distribute_tensor(full["cols"], mesh, [Shard(1)]),
                "replicated": distribute_tensor(full["replicated"], mesh, [Replicate()]),
                "layer": {"weight": distribute_tensor(full["layer.weight"], mesh, [Shard(0)])},
            },
            "step": 11,
        }
        dcp.save(sd, checkpoint_id=out)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def save_two_ranks(out):
    """dcp.save from two spawned processes in one Gloo group; they stop by themselves."""
    rank_procs.run(rank_main, 2, (rank_procs.free_port(), out), JOIN_TIMEOUT_S)


def loaded_as_python(ckpt_dir):
    """What dcp_to_torch_save gives for the directory (written to a .pt, torch.load'ed)."""
    with tempfile.TemporaryDirectory() as tmp:
        pt = os.path.join(tmp, "whole.pt")
        dcp_to_torch_save(ckpt_dir, pt)
        return torch.load(pt, weights_only=False)


def write_expected(out, name, obj):
    path = name + ".expected.json"
    corpus_expect.write_expected(os.path.join(out, path),
                                 corpus_expect.expected_document("dcp", obj, Everything()))
    return path


def load_metadata(ckpt_dir):
    with open(os.path.join(ckpt_dir, ".metadata"), "rb") as f:
        return pickle.load(f)


def dump_metadata(ckpt_dir, md):
    with open(os.path.join(ckpt_dir, ".metadata"), "wb") as f:
        pickle.dump(md, f)


def broken(out, base, name, damage, kind, mentions):
    target = os.path.join(out, name)
    shutil.copytree(os.path.join(out, base), target)
    damage(target)
    return {"name": name, "open": name, "expected": None,
            "error": {"kind": kind, "mentions": mentions}}


class Shady:
    """A class no DCP metadata names: its global must be refused."""


def write_cases(out):
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    cases = []
    single = os.path.join(out, "single")
    dcp.save(single_state_dict(), checkpoint_id=single)
    cases.append({"name": "single", "open": "single",
                  "expected": write_expected(out, "single", loaded_as_python(single)),
                  "error": None})
    cases.append({"name": "single-metadata-file", "open": "single/.metadata",
                  "expected": "single.expected.json", "error": None})
    ranks2 = os.path.join(out, "ranks2")
    save_two_ranks(ranks2)
    md = load_metadata(ranks2)
    chunked = {k: len(v.chunks) for k, v in md.state_dict_metadata.items() if hasattr(v, "chunks")}
    assert chunked["model.rows"] == 2 and chunked["model.cols"] == 2, chunked
    files = sorted({info.relative_path for info in md.storage_data.values()})
    assert files == ["__0_0.distcp", "__1_0.distcp"], files
    cases.append({"name": "ranks2", "open": "ranks2", "chunks": chunked, "files": files,
                  "expected": write_expected(out, "ranks2", loaded_as_python(ranks2)),
                  "error": None})

    def drop_file(d):
        os.remove(os.path.join(d, "__1_0.distcp"))

    def truncate(d):
        path = os.path.join(d, "__0_0.distcp")
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) // 2)

    def outside(d):
        m = load_metadata(d)
        m.state_dict_metadata["model.rows"].chunks[1].sizes = torch.Size([9, 4])
        dump_metadata(d, m)

    def gap(d):
        m = load_metadata(d)
        del m.state_dict_metadata["model.rows"].chunks[1]
        dump_metadata(d, m)

    def shady(d):
        m = load_metadata(d)
        m.planner_data = Shady()
        sys.modules["__main__"].Shady = Shady
        dump_metadata(d, m)

    cases.append(broken(out, "ranks2", "missing-distcp", drop_file, "NOT_FOUND",
                        ["__1_0.distcp", "missing"]))
    cases.append(broken(out, "ranks2", "truncated-distcp", truncate, "TRUNCATED",
                        ["__0_0.distcp", "truncated"]))
    cases.append(broken(out, "ranks2", "chunk-outside", outside, "MALFORMED_CONTAINER",
                        ["model.rows", "outside"]))
    cases.append(broken(out, "ranks2", "chunk-gap", gap, "MALFORMED_CONTAINER",
                        ["model.rows", "uninitialized"]))
    cases.append(broken(out, "single", "shady-global", shady, "REFUSED_GLOBAL",
                        ["Shady"]))
    source = single_state_dict()
    torch.save(source, os.path.join(out, "source.pt"))
    corpus_expect.write_json(os.path.join(out, "manifest.json"),
                             {"read": cases, "source": "source.pt"})


def write_demo(out):
    """The small DCP directory `ckpt4j demo` ships: the 2-rank checkpoint of the ranks2 case, and
    expected.json: {"sha256": {flattened key: SHA-256 of the tensor dcp_to_torch_save gives}}."""
    if os.path.exists(out):
        shutil.rmtree(out)
    save_two_ranks(out)
    flat, _ = flatten_state_dict(loaded_as_python(out))
    sha = {k: corpus_expect.tensor_sha256(v) for k, v in flat.items() if is_tensor(v)}
    corpus_expect.write_json(os.path.join(out, "expected.json"), {"sha256": sha})
    # Maven leaves dot-files out of a jar: the demo's resources hold .metadata under this name.
    os.rename(os.path.join(out, ".metadata"), os.path.join(out, "metadata.pickle"))


# ------------------------------------------------------------------------------------------------
# Checking what Java wrote
# ------------------------------------------------------------------------------------------------

def is_tensor(v):
    return isinstance(v, torch.Tensor)


def placeholders(source):
    """A pre-allocated state_dict of source's shape: zeros for tensors, None for other values."""
    flat, mapping = flatten_state_dict(source)
    empty = {k: torch.zeros_like(v) if is_tensor(v) else None for k, v in flat.items()}
    return unflatten_state_dict(empty, mapping)


def differences(expected, actual, path="root"):
    if is_tensor(expected):
        if not is_tensor(actual):
            return "%s: %r is not a tensor" % (path, type(actual))
        if expected.dtype != actual.dtype or expected.shape != actual.shape:
            return "%s: %s %s != %s %s" % (path, actual.dtype, tuple(actual.shape),
                                           expected.dtype, tuple(expected.shape))
        if corpus_expect.tensor_sha256(expected) != corpus_expect.tensor_sha256(actual):
            return "%s: different bytes" % path
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or list(map(str, expected)) != list(map(str, actual)):
            return "%s: keys %r != %r" % (path, list(actual) if isinstance(actual, dict)
                                          else actual, list(expected))
        for (k, v), a in zip(expected.items(), actual.values()):
            d = differences(v, a, "%s.%s" % (path, k))
            if d:
                return d
        return None
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            return "%s: %r != %r" % (path, actual, expected)
        for i, (v, a) in enumerate(zip(expected, actual)):
            d = differences(v, a, "%s[%d]" % (path, i))
            if d:
                return d
        return None
    return None if expected == actual else "%s: %r != %r" % (path, actual, expected)


def with_str_keys(obj):
    """flatten/unflatten's view of a state_dict: dict keys become str, as DCP stores them."""
    if isinstance(obj, dict):
        return {str(k): with_str_keys(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [with_str_keys(v) for v in obj]
    return obj


def check_case(case):
    if case.get("kind") == "pt":
        # A .pt Java converted from a DCP directory: what dcp_to_torch_save writes for it.
        d = differences(loaded_as_python(case["dcp"]),
                        torch.load(case["saved"], weights_only=True))
        return "torch.load: " + d if d else "ok"
    source = torch.load(case["source"], weights_only=False)
    ckpt = case["dir"]
    ranks = case["ranks"]
    md = load_metadata(ckpt)
    files = sorted({info.relative_path for info in md.storage_data.values()})
    wanted = ["__%d_0.distcp" % r for r in range(ranks)]
    if files != wanted:
        return "data files %r, expected %r" % (files, wanted)
    chunks = max(len(v.chunks) for v in md.state_dict_metadata.values() if hasattr(v, "chunks"))
    if ranks > 1 and chunks < 2:
        return "no tensor was written as several chunks"
    target = placeholders(source)
    dcp.load(target, checkpoint_id=ckpt)
    d = differences(with_str_keys(source), with_str_keys(target))
    if d:
        return "dcp.load: " + d
    d = differences(with_str_keys(source), loaded_as_python(ckpt))
    if d:
        return "dcp_to_torch_save: " + d
    return "ok"


def check(java_dir):
    with open(os.path.join(java_dir, "manifest.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    results = {}
    for case in cases:
        try:
            results[case["id"]] = check_case(case)
        except Exception as e:  # noqa: BLE001 - every failure is a verdict
            results[case["id"]] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0])
    print(json.dumps({"results": results}))
    return 0 if all(v == "ok" for v in results.values()) else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    if len(sys.argv) == 3 and sys.argv[1] == "demo":
        write_demo(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) == 2:
        write_cases(sys.argv[1])
        sys.exit(0)
    sys.exit(__doc__)
