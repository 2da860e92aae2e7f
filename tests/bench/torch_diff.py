"""Times what a Python user runs to compare two checkpoints: torch.load of both sides, then
torch.testing.assert_close on every key (default tolerances), best of N whole runs.
Prints one line per pair: <A> <B> python <seconds> compare-only <seconds>."""
import sys
import time

import torch

RUNS = 3


def compare(a_path, b_path):
    t0 = time.perf_counter()
    a = torch.load(a_path, map_location="cpu", weights_only=True)
    b = torch.load(b_path, map_location="cpu", weights_only=True)
    t1 = time.perf_counter()
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k])
    t2 = time.perf_counter()
    return t2 - t0, t2 - t1


if __name__ == "__main__":
    a_path, b_path = sys.argv[1], sys.argv[2]
    runs = [compare(a_path, b_path) for _ in range(RUNS)]
    print(f"python {min(r[0] for r in runs):.4f} compare-only {min(r[1] for r in runs):.4f}")
