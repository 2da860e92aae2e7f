#!/usr/bin/env python3
"""Python's side of tests/bench/ddp.sh: 2 ranks (forked, Gloo on 127.0.0.1, one thread each, as
`ckpt4j launch` gives the Java ranks) time a torch.nn.parallel.DistributedDataParallel training
step (zero_grad, forward, cross-entropy, backward with DDP's overlapped bucket all-reduce, SGD
step) of the ResNet-18 layout at --width on a fixed random batch, median of --steps after
--warmup; then the median all_reduce (SUM) of a float32 tensor of --allreduce-mib MiB. Prints
"step SECONDS" and "allreduce BYTES SECONDS" from rank 0, as ckpt4j bench-ddp does.
"""
import argparse
import datetime
import os
import statistics
import sys
import time

import torch
import torch.distributed as dist

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "python"))
import rank_procs  # noqa: E402
import reference_resnet  # noqa: E402

JOIN_S = 600


def rank_main(rank, world, port, a, out):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:%d" % port, rank=rank,
                            world_size=world, timeout=datetime.timedelta(minutes=5))
    torch.manual_seed(rank)
    x = torch.randn(a.batch_size, 3, a.image_size, a.image_size)
    y = torch.randint(a.classes, (a.batch_size,))
    model = reference_resnet.resnet("resnet18", num_classes=a.classes, width=a.width)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01)
    times = []
    for i in range(a.warmup + a.steps):
        dist.barrier()
        start = time.perf_counter()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(ddp(x), y).backward()
        opt.step()
        if i >= a.warmup:
            times.append(time.perf_counter() - start)
    t = torch.ones(a.allreduce_mib * (1 << 20) // 4)
    reduce = []
    for i in range(a.allreduce_runs + 1):
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(t)
        if i > 0:
            reduce.append(time.perf_counter() - start)
    dist.barrier()
    if rank == 0:
        with open(out, "w") as f:
            f.write("step %.6f\n" % statistics.median_high(times))
            f.write("allreduce %d %.6f\n" % (t.numel() * 4, statistics.median_high(reduce)))
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--allreduce-mib", type=int, default=64)
    p.add_argument("--allreduce-runs", type=int, default=10)
    p.add_argument("--out", default="/tmp/ckpt4j-bench-ddp-python.txt")
    a = p.parse_args()
    rank_procs.run(rank_main, 2, (rank_procs.free_port(), a, a.out), JOIN_S, "fork")
    with open(a.out) as f:
        sys.stdout.write(f.read())


if __name__ == "__main__":
    main()
