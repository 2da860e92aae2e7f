"""Times Python's torch.save on each file's state dict, best of N runs.

Each file is loaded once (torch.load, map_location="cpu"), then saved to FILE.torch-bench.pt
(in --out-dir DIR if given):
`save` is plain torch.save (what Python users run: no fsync, not atomic) and `save-fsync` is
torch.save followed by os.fsync of the file (durable, as ckpt4j's default save is).
Prints one line per file and mode: <file> <mode> <seconds>, like `ckpt4j bench-save`.
"""
import argparse
import os
import time

import torch


def settle(target):
    """Untimed, before each run: the last run's file is flushed to disk and deleted, so no run
    pays for another's write-back and each writes a new file (as `ckpt4j bench-save` does)."""
    if os.path.exists(target):
        fd = os.open(target, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.remove(target)


def best(obj, target, fsync, runs):
    t_best = float("inf")
    for _ in range(runs):
        settle(target)
        t0 = time.perf_counter()
        torch.save(obj, target)
        if fsync:
            fd = os.open(target, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        t_best = min(t_best, time.perf_counter() - t0)
    return t_best


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--out-dir")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    runs = int(os.environ.get("RUNS", "3"))
    for path in args.files:
        obj = torch.load(path, map_location="cpu")
        name = os.path.basename(path) + ".torch-bench.pt"
        target = os.path.join(args.out_dir or os.path.dirname(os.path.abspath(path)), name)
        try:
            print(f"{path} save {best(obj, target, False, runs):.4f}", flush=True)
            print(f"{path} save-fsync {best(obj, target, True, runs):.4f}", flush=True)
        finally:
            settle(target)
        del obj
