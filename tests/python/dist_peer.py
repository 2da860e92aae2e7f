#!/usr/bin/env python3
"""A Python rank for io.ckpt4j.distributed's tests: joins a Gloo group that Java ranks are in.

    python3 tests/python/dist_peer.py collectives ADDR PORT RANK WORLD TIMEOUT_S
    python3 tests/python/dist_peer.py sampler CASES_JSON
    python3 tests/python/dist_peer.py ddp ADDR PORT RANK WORLD TIMEOUT_S
    python3 tests/python/dist_peer.py join ADDR PORT RANK WORLD TIMEOUT_S
    python3 tests/python/dist_peer.py resume INIT_PT CKPT_PT [INIT_PT CKPT_PT ...]
    python3 tests/python/dist_peer.py cnn_ddp OUTDIR
    python3 tests/python/dist_peer.py cnn_peer ADDR PORT RANK WORLD TIMEOUT_S INIT_PT

collectives: init_process_group("gloo", init_method="tcp://ADDR:PORT"), then for each dtype of
DTYPES the same calls, in the same order, as the Java side (DistributedPeerTest.runCollectives):
all_reduce SUM, all_reduce "AVG" (Gloo has no AVG: SUM then divide, floating dtypes only),
all_reduce MAX, all_reduce MIN, broadcast from the last rank, all_gather; then barrier. Every
result is checked against values computed here from the ranks' inputs, independently of the
collective. Prints {"rank", "checks", "failures"} as JSON.

join: joins the group, prints "joined" and sleeps TIMEOUT_S: a rank for the test to kill.

resume: for each pair, the single-process run a DDP job with a resume on another world size
must equal (DistributedResumeTest): TinyMlp from INIT_PT (Java rank 0's
torch.save(ddp.module.state_dict())), RESUME_EPOCHS epochs of SGD (momentum) over RESUME_SIZE
samples in batches of RESUME_BATCH, the order DistributedSampler(num_replicas=1, seed=RESUME_SEED)
gives each epoch (a W-rank job's step covers the same samples: rank r takes every W-th index).
After epoch 0 it compares CKPT_PT (Java's training checkpoint of epoch 0, torch.load with
weights_only=True) with its own model and momentum buffers. Prints a JSON list of {"final",
"ckpt_epoch", "ckpt_model_diff", "ckpt_momentum_diff"}.

cnn_ddp: the reference of DdpVersusPythonTest: writes OUTDIR/init.pt (SmallCnn from
torch.manual_seed(CNN_SEED)), then 2 spawned ranks (Gloo on 127.0.0.1, one thread each) train it
with torch.nn.parallel.DistributedDataParallel, CNN_STEPS SGD steps each on its half of the
batch; prints rank 0's final state_dict as JSON lists.

cnn_peer: one rank of a group with Java ranks: the same steps as cnn_ddp from INIT_PT, DDP's
algorithm written with torch.distributed calls (Java's DistributedDataParallel sends the same
collectives; Python's DDP object sends more, which a Java rank does not mirror). Prints its final
state_dict as JSON lists.

sampler: for each case {"size", "world", "shuffle", "drop_last", "seed", "epoch"} of the JSON
list, the indices torch.utils.data.DistributedSampler gives each rank. Prints a JSON list (one
list of lists per case).
"""

import json
import sys
import time
from datetime import timedelta

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler

import rank_procs

DTYPES = [torch.float32, torch.float64, torch.int64, torch.int32]
ROWS, COLS = 2, 3
RANK_STRIDE = 10


def rank_input(r, dtype):
    """What rank r contributes: 1..6 plus 10 * r, as a 2x3 tensor of dtype."""
    return (torch.arange(1, ROWS * COLS + 1, dtype=torch.float64).reshape(ROWS, COLS)
            + RANK_STRIDE * r).to(dtype)


def collectives(addr, port, rank, world, timeout_s):
    dist.init_process_group("gloo", init_method=f"tcp://{addr}:{port}", rank=rank,
                            world_size=world, timeout=timedelta(seconds=timeout_s))
    checks, failures = 0, []

    def check(name, got, want):
        nonlocal checks
        checks += 1
        if not torch.equal(got, want):
            failures.append(f"{name}: got {got.tolist()}, want {want.tolist()}")

    inputs = lambda dtype: [rank_input(r, dtype) for r in range(world)]
    for dtype in DTYPES:
        mine, all_inputs = rank_input(rank, dtype), inputs(dtype)
        t = mine.clone()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        check(f"{dtype} sum", t, torch.stack(all_inputs).sum(0).to(dtype))
        if dtype.is_floating_point:
            t = mine.clone()
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
            t /= world
            check(f"{dtype} avg", t, torch.stack(all_inputs).mean(0).to(dtype))
        t = mine.clone()
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        check(f"{dtype} max", t, all_inputs[world - 1])
        t = mine.clone()
        dist.all_reduce(t, op=dist.ReduceOp.MIN)
        check(f"{dtype} min", t, all_inputs[0])
        t = mine.clone()
        dist.broadcast(t, src=world - 1)
        check(f"{dtype} broadcast", t, all_inputs[world - 1])
        outs = [torch.empty_like(mine) for _ in range(world)]
        dist.all_gather(outs, mine)
        for r in range(world):
            check(f"{dtype} all_gather[{r}]", outs[r], all_inputs[r])
    dist.barrier()
    dist.destroy_process_group()
    print(json.dumps({"rank": rank, "checks": checks, "failures": failures}))


def join(addr, port, rank, world, timeout_s):
    dist.init_process_group("gloo", init_method=f"tcp://{addr}:{port}", rank=rank,
                            world_size=world, timeout=timedelta(seconds=timeout_s))
    print("joined", flush=True)
    time.sleep(timeout_s)


def sampler(cases_json):
    out = []
    for c in json.loads(cases_json):
        per_rank = []
        for r in range(c["world"]):
            s = DistributedSampler(range(c["size"]), num_replicas=c["world"], rank=r,
                                   shuffle=c["shuffle"], seed=c["seed"],
                                   drop_last=c["drop_last"])
            s.set_epoch(c["epoch"])
            per_rank.append(list(s))
        out.append(per_rank)
    print(json.dumps(out))


# ddp: the model, data and steps of DistributedDataParallelTest (TinyMlp there).
BATCH, FEATURES, HIDDEN, STEPS, LR = 8, 4, 8, 5, 0.1
BUCKET_BYTES = 64  # small, so the 4 gradients go in 2 all-reduces


class TinyMlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(FEATURES, HIDDEN)
        self.fc2 = torch.nn.Linear(HIDDEN, 1)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def ddp_data():
    x = torch.arange(BATCH * FEATURES, dtype=torch.float32).reshape(BATCH, FEATURES) * 0.05 - 0.7
    return x, x.sum(1, keepdim=True) * 0.3 + 0.1


def sgd_step(model):
    with torch.no_grad():
        for p in model.parameters():
            p.add_(p.grad, alpha=-LR)
            p.grad = None


def buckets(grads, cap_bytes):
    """The grads (all float32 here) in order, a bucket closed once it holds cap_bytes or more:
    every rank must all-reduce buckets of the same sizes, or Gloo aborts the process."""
    out, bucket, size = [], [], 0
    for g in grads:
        bucket.append(g)
        size += g.numel() * g.element_size()
        if size >= cap_bytes:
            out.append(bucket)
            bucket, size = [], 0
    return out + ([bucket] if bucket else [])


def average_gradients(model, world, cap_bytes):
    """What Java's DistributedDataParallel.synchronizeGradients sends: the gradients in reverse
    parameter order, in buckets of cap_bytes, each flattened, scaled by 1/world, all_reduce SUM,
    copied back."""
    for bucket in buckets([p.grad for p in reversed(list(model.parameters()))], cap_bytes):
        flat = torch.cat([g.reshape(-1) for g in bucket]) * (1.0 / world)
        dist.all_reduce(flat, op=dist.ReduceOp.SUM)
        offset = 0
        for g in bucket:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()


def ddp(addr, port, rank, world, timeout_s):
    """DDP's algorithm with torch.distributed calls (Java's DistributedDataParallel does the
    same): parameters broadcast from rank 0; per step each rank's shard forward/backward, the
    gradients in reverse parameter order flattened, scaled by 1/world, all_reduce SUM, copied
    back, in buckets of BUCKET_BYTES; SGD. Then a single-process reference from the same initial weights on the full batch.
    Prints the final parameters of both."""
    dist.init_process_group("gloo", init_method=f"tcp://{addr}:{port}", rank=rank,
                            world_size=world, timeout=timedelta(seconds=timeout_s))
    model = TinyMlp()
    for t in list(model.parameters()) + list(model.buffers()):
        dist.broadcast(t.data, src=0)
    reference = TinyMlp()
    reference.load_state_dict(model.state_dict())
    x, y = ddp_data()
    shard = BATCH // world
    xs, ys = x[rank * shard:(rank + 1) * shard], y[rank * shard:(rank + 1) * shard]
    for _ in range(STEPS):
        torch.nn.functional.mse_loss(model(xs), ys).backward()
        average_gradients(model, world, BUCKET_BYTES)
        sgd_step(model)
        torch.nn.functional.mse_loss(reference(x), y).backward()
        sgd_step(reference)
    dist.barrier()
    dist.destroy_process_group()
    as_lists = lambda m: {k: v.reshape(-1).tolist() for k, v in m.state_dict().items()}
    print(json.dumps({"rank": rank, "ddp": as_lists(model), "reference": as_lists(reference),
                      "ddp_keys": ["module." + k for k in model.state_dict()]}))


RESUME_SIZE, RESUME_BATCH, RESUME_EPOCHS, RESUME_SEED, MOMENTUM = 16, 4, 2, 5, 0.9


def resume_data():
    x = (torch.arange(RESUME_SIZE * FEATURES, dtype=torch.float32)
         .reshape(RESUME_SIZE, FEATURES) * 0.05 - 0.7)
    return x, x.sum(1, keepdim=True) * 0.3 + 0.1


def max_diff(a, b):
    return max((x - y).abs().max().item() for x, y in zip(a, b))


def resume(pairs):
    out = []
    x, y = resume_data()
    for init, ckpt_path in pairs:
        model = TinyMlp()
        model.load_state_dict(torch.load(init, weights_only=True))
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        sampler = DistributedSampler(range(RESUME_SIZE), num_replicas=1, rank=0, seed=RESUME_SEED)
        report = {}
        for epoch in range(RESUME_EPOCHS):
            sampler.set_epoch(epoch)
            order = list(sampler)
            for start in range(0, RESUME_SIZE, RESUME_BATCH):
                idx = torch.tensor(order[start:start + RESUME_BATCH])
                opt.zero_grad()
                torch.nn.functional.mse_loss(model(x[idx]), y[idx]).backward()
                opt.step()
            if epoch == 0:
                ckpt = torch.load(ckpt_path, weights_only=True)
                report["ckpt_epoch"] = ckpt["epoch"]
                report["ckpt_model_diff"] = max_diff(
                    [ckpt["model"][k] for k in model.state_dict()], model.state_dict().values())
                report["ckpt_momentum_diff"] = max_diff(
                    [ckpt["optimizer"]["state"][i]["momentum_buffer"]
                     for i in range(len(list(model.parameters())))],
                    [opt.state[p]["momentum_buffer"] for p in model.parameters()])
        report["final"] = {k: v.reshape(-1).tolist() for k, v in model.state_dict().items()}
        out.append(report)
    print(json.dumps(out))


CNN_BATCH, CNN_SIDE, CNN_CLASSES, CNN_STEPS, CNN_SEED = 8, 8, 3, 5, 1234
CNN_BUCKET_BYTES = 25 * 1024 * 1024  # DDP's bucket_cap_mb=25: one bucket here
CNN_JOIN_S = 120


class SmallCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * (CNN_SIDE // 2) ** 2, CNN_CLASSES)

    def forward(self, x):
        return self.fc(torch.nn.functional.max_pool2d(torch.relu(self.conv(x)), 2).flatten(1))


def cnn_data(rank, world):
    x = torch.sin(torch.arange(CNN_BATCH * CNN_SIDE * CNN_SIDE, dtype=torch.float32) * 0.1)
    x = x.reshape(CNN_BATCH, 1, CNN_SIDE, CNN_SIDE)
    y = torch.arange(CNN_BATCH) % CNN_CLASSES
    shard = CNN_BATCH // world
    return x[rank * shard:(rank + 1) * shard], y[rank * shard:(rank + 1) * shard]


def as_lists(model):
    return {k: v.reshape(-1).tolist() for k, v in model.state_dict().items()}


def cnn_ddp_rank(rank, world, port, outdir):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method="tcp://127.0.0.1:%d" % port, rank=rank,
                            world_size=world, timeout=timedelta(seconds=CNN_JOIN_S))
    try:
        model = SmallCnn()
        model.load_state_dict(torch.load(outdir + "/init.pt", weights_only=True))
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        opt = torch.optim.SGD(ddp.parameters(), lr=LR)
        xs, ys = cnn_data(rank, world)
        for _ in range(CNN_STEPS):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(ddp(xs), ys).backward()
            opt.step()
        if rank == 0:
            with open(outdir + "/python_ddp.json", "w") as f:
                json.dump(as_lists(model), f)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def cnn_ddp(outdir):
    torch.manual_seed(CNN_SEED)
    torch.save(SmallCnn().state_dict(), outdir + "/init.pt")
    # fork: the ranks start without importing torch again (the parent ran no threads yet).
    rank_procs.run(cnn_ddp_rank, 2, (rank_procs.free_port(), outdir), CNN_JOIN_S, "fork")
    with open(outdir + "/python_ddp.json") as f:
        print(f.read())


def cnn_peer(addr, port, rank, world, timeout_s, init):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://{addr}:{port}", rank=rank,
                            world_size=world, timeout=timedelta(seconds=timeout_s))
    model = SmallCnn()
    model.load_state_dict(torch.load(init, weights_only=True))
    for t in list(model.parameters()) + list(model.buffers()):
        dist.broadcast(t.data, src=0)
    xs, ys = cnn_data(rank, world)
    for _ in range(CNN_STEPS):
        torch.nn.functional.cross_entropy(model(xs), ys).backward()
        average_gradients(model, world, CNN_BUCKET_BYTES)
        sgd_step(model)
    # Java rank 0 saves its state_dict and broadcasts the outcome (RankZero): 1 = saved.
    saved = torch.zeros(1, dtype=torch.int64)
    dist.broadcast(saved, src=0)
    if saved.item() != 1:
        sys.exit("rank 0 could not save its state_dict")
    dist.destroy_process_group()
    print(json.dumps(as_lists(model)))


if __name__ == "__main__":
    if sys.argv[1] == "collectives":
        collectives(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
                    float(sys.argv[6]))
    elif sys.argv[1] == "ddp":
        ddp(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]))
    elif sys.argv[1] == "join":
        join(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]))
    elif sys.argv[1] == "resume":
        resume(list(zip(sys.argv[2::2], sys.argv[3::2])))
    elif sys.argv[1] == "cnn_ddp":
        cnn_ddp(sys.argv[2])
    elif sys.argv[1] == "cnn_peer":
        cnn_peer(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
                 float(sys.argv[6]), sys.argv[7])
    elif sys.argv[1] == "sampler":
        sampler(sys.argv[2])
    else:
        sys.exit(f"unknown mode {sys.argv[1]}: use collectives, ddp, join, resume, cnn_ddp, cnn_peer or sampler")
