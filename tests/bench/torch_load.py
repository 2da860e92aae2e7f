"""Times Python's torch.load on each file: eager (mmap=False) and mmap=True, best of N runs.
Prints one line per file and mode: <file> <mode> <seconds>, like `ckpt4j bench-load`."""
import sys
import time

import torch


def best(path, mmap, runs):
    t_best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        sd = torch.load(path, mmap=mmap, map_location="cpu")
        t_best = min(t_best, time.perf_counter() - t0)
        del sd
    return t_best


if __name__ == "__main__":
    runs = 5
    for path in sys.argv[1:]:
        print(f"{path} eager {best(path, False, runs):.4f}", flush=True)
        print(f"{path} mmap {best(path, True, runs):.4f}", flush=True)
