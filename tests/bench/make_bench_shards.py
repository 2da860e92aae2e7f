"""Writes the sharded-load benchmark's checkpoint with torch 2.13 + safetensors (skips it when
it exists): 32 x 4096x4096 float32 (2 GiB) as save_pretrained(dir, max_shard_size="512MiB")
writes it — 4 safetensors shards of 512 MiB and model.safetensors.index.json."""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import shards_reference as hf  # noqa: E402

TENSORS = 32
SIDE = 4096
MAX_SHARD_SIZE = "512MiB"


def main(out):
    index = os.path.join(out, hf.SAFE_WEIGHTS_INDEX_NAME)
    if os.path.exists(index):
        return
    sd = {"layers.%d.weight" % i: torch.full((SIDE, SIDE), float(i)) for i in range(TENSORS)}
    shards, _ = hf.save_pretrained(sd, out, MAX_SHARD_SIZE, safe_serialization=True)
    assert len(shards) == 4, [name for name, _ in shards]


if __name__ == "__main__":
    main(sys.argv[1])
