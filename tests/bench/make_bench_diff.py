"""Writes the diff benchmark's second sides with real torch 2.13 (skips files that exist).

For each of the load benchmark's files (make_bench_files.py), NAME-near.pt: every floating tensor
multiplied by (1 + 1e-7) — about one unit in the last place of float32, so every tensor is within
torch.testing.assert_close's default tolerance and a comparison must read every element of both
sides; integer tensors unchanged.
"""
import os
import sys
from collections import OrderedDict

import torch

NUDGE = 1e-7


def main(out):
    for name in ("big", "resnet152"):
        near = os.path.join(out, name + "-near.pt")
        if os.path.exists(near):
            continue
        sd = torch.load(os.path.join(out, name + ".pt"), map_location="cpu", weights_only=True)
        torch.save(OrderedDict((k, v * (1 + NUDGE) if v.is_floating_point() else v)
                               for k, v in sd.items()), near)


if __name__ == "__main__":
    main(sys.argv[1])
