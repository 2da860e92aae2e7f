#!/usr/bin/env python3
"""The Python half of tests/bench/aoti.sh: a ResNet-18 (tests/python/reference_resnet.py, eval,
224x224 images) compiled by AOTInductor at batch 1 and at batch 32, traced for TorchScript, and
timed in Python (aoti_load_package's loader, load_package, with num_runners=2).

    python3 tests/bench/aoti_bench.py make DIR     # the packages (cached), the TorchScript file
    python3 tests/bench/aoti_bench.py time DIR     # Python aoti_load_package and eager: JSON lines

Each timing line: {"runner", "batch", "threads", "ms_per_call" (median), "images_per_s"}.
"""
import json
import os
import statistics
import sys
import threading
import time

import torch
from torch._inductor.package import load_package

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from reference_resnet import resnet  # noqa: E402

SEED = 0
SIDE = 224
BATCHES = (1, 32)
WARMUP = 3
# Calls timed per configuration: latency at batch 1, throughput at batch 32 (per thread).
CALLS = {1: 50, 32: 6}


def model():
    torch.manual_seed(SEED)
    return resnet("resnet18").eval()


def make(out):
    os.makedirs(out, exist_ok=True)
    m = model()
    key = "torch %s resnet18 %s\n" % (torch.__version__, BATCHES)
    key_file = os.path.join(out, "key")
    cached = os.path.exists(key_file) and open(key_file).read() == key
    for batch in BATCHES:
        x = torch.randn(batch, 3, SIDE, SIDE)
        path = os.path.join(out, "resnet18_b%d.pt2" % batch)
        if not (cached and os.path.exists(path)):
            started = time.monotonic()
            ep = torch.export.export(m, (x,))
            torch._inductor.aoti_compile_and_package(ep, package_path=path)
            print("aoti_bench: compiled batch %d in %.0f s" % (batch, time.monotonic() - started),
                  file=sys.stderr)
        torch.save(x, os.path.join(out, "input_b%d.pt" % batch))
    with torch.no_grad():
        torch.jit.trace(m, torch.randn(1, 3, SIDE, SIDE)).save(os.path.join(out, "resnet18_ts.pt"))
    with open(key_file, "w") as f:
        f.write(key)


def timed(run, batch, threads):
    """Median ms per call over CALLS[batch] calls in each of `threads` threads, and images/s."""
    x = torch.randn(batch, 3, SIDE, SIDE)
    for _ in range(WARMUP):
        run(x)
    times = []
    lock = threading.Lock()

    def worker():
        mine = []
        for _ in range(CALLS[batch]):
            s = time.perf_counter()
            run(x)
            mine.append(time.perf_counter() - s)
        with lock:
            times.extend(mine)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    return {"batch": batch, "threads": threads, "ms_per_call": statistics.median(times) * 1e3,
            "images_per_s": batch * CALLS[batch] * threads / wall}


def time_all(out):
    m = model()
    runners = {}
    for batch in BATCHES:
        runners[batch] = load_package(os.path.join(out, "resnet18_b%d.pt2" % batch),
                                      num_runners=2)
    cases = [(1, 1), (32, 1), (32, 2)]
    with torch.no_grad():
        for batch, threads in cases:
            r = timed(lambda x, b=batch: runners[b](x), batch, threads)
            print(json.dumps(dict(runner="python_aoti", **r)), flush=True)
        for batch, threads in cases:
            r = timed(m, batch, threads)
            print(json.dumps(dict(runner="python_eager", **r)), flush=True)


if __name__ == "__main__":
    {"make": make, "time": time_all}[sys.argv[1]](sys.argv[2])
