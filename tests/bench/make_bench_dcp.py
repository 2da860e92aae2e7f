"""Writes the DCP-load benchmark's checkpoint with torch 2.13 (skips it when it exists): the 2 GiB
model of the other benchmarks (32 x 4096x4096 float32) saved by dcp.save from a 2-process Gloo
group on 127.0.0.1, each tensor a DTensor row-sharded over the two ranks (Shard(0), FSDP-style):
.metadata, __0_0.distcp and __1_0.distcp of 1 GiB each. Each rank builds only its own rows."""
import datetime
import os
import socket
import sys
import multiprocessing as mp

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp

TENSORS = 32
SIDE = 4096
WORLD = 2
TIMEOUT_S = 600


def rank_main(rank, port, out):
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import DTensor, Shard
    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:%d" % port, rank=rank,
                            world_size=WORLD, timeout=datetime.timedelta(seconds=TIMEOUT_S))
    try:
        mesh = init_device_mesh("cpu", (WORLD,))
        rows = SIDE // WORLD
        sd = {"layers.%d.weight" % i: DTensor.from_local(
            torch.full((rows, SIDE), float(i)), mesh, [Shard(0)], run_check=False)
            for i in range(TENSORS)}
        dcp.save(sd, checkpoint_id=out)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def main(out):
    if os.path.exists(os.path.join(out, ".metadata")):
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=rank_main, args=(r, port, out)) for r in range(WORLD)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(TIMEOUT_S)
        if p.is_alive():
            p.kill()
            raise SystemExit("a rank did not finish in %d s" % TIMEOUT_S)
        if p.exitcode != 0:
            raise SystemExit("a rank failed: exit code %s" % p.exitcode)


if __name__ == "__main__":
    main(sys.argv[1])
