"""Times Python's own loaders on a sharded safetensors checkpoint (a directory holding
model.safetensors.index.json), best of N runs, printing `<dir> <mode> <seconds>` lines like
`ckpt4j bench-load`:

  eager_pread  transformers' loop, json.load(index) + load_file(shard, backend="pread") for each
               of sorted(set(weight_map.values())): tensors in memory, bytes read
  eager_clone  the same loop with load_file's default mmap backend, then every tensor cloned into
               memory (what loading into a model costs on top of the mapping)
  mmap         the loop with load_file's default backend: tensors over the mapping, bytes unread
  lazy         json.load(index) + safe_open of each shard (headers parsed, nothing mapped for use)
"""
import json
import os
import sys

from safetensors import safe_open
from safetensors.torch import load_file

from bench_lines import best  # noqa: E402  (tests/bench is the script's directory)

RUNS = 5
INDEX = "model.safetensors.index.json"


def shard_files(directory):
    with open(os.path.join(directory, INDEX), encoding="utf-8") as f:
        index = json.load(f)
    return [os.path.join(directory, s) for s in sorted(set(index["weight_map"].values()))]


def eager_pread(directory):
    sd = {}
    for f in shard_files(directory):
        sd.update(load_file(f, backend="pread"))
    return sd


def eager_clone(directory):
    sd = {}
    for f in shard_files(directory):
        sd.update({k: v.clone() for k, v in load_file(f).items()})
    return sd


def mmap(directory):
    sd = {}
    for f in shard_files(directory):
        sd.update(load_file(f))
    return sd


def lazy(directory):
    handles = [safe_open(f, framework="pt") for f in shard_files(directory)]
    keys = [k for h in handles for k in h.keys()]
    return handles, keys


if __name__ == "__main__":
    for directory in sys.argv[1:]:
        for mode in (eager_pread, eager_clone, mmap, lazy):
            print("%s %s %.4f" % (directory, mode.__name__, best(mode, directory, RUNS)), flush=True)
