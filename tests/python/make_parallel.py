#!/usr/bin/env python3
"""DataParallel fixtures for io.ckpt4j.parallel, written with the torch of the build.

    python3 tests/python/make_parallel.py OUTDIR

SmallNet (conv + BatchNorm + ReLU + Linear, random weights and running statistics) in plain
torch; OUTDIR holds:

  weights.safetensors   model.state_dict() (safetensors sorts names; the manifest keeps the order)
  data_parallel.pt      torch.save(nn.DataParallel(model).state_dict()): "module." keys
  io.safetensors        "input" (a batch of BATCH images), "output" (eval-mode forward of it),
                        "loss_weight" and, for loss = (model(input) * loss_weight).sum() in eval
                        mode, "grad.<name>" for every parameter and "grad.input";
                        "train.output" / "train.<buffer>": what nn.DataParallel does in training
                        mode over TRAIN_REPLICAS devices (see train_mode_case)
  chunks.safetensors    for each scatter case NAME: "NAME.input", its torch.chunk pieces
                        "NAME.<i>" and their torch.cat "NAME.cat"; "scalars.<i>" and
                        "scalars.gathered" (Python's Gather of 0-dim outputs: each viewed as [1])
  model_script.pt       torch.jit.script(model) in eval mode
  manifest.json         {"torch_version", "batch", "atol", "state_dict_keys",
                        "data_parallel_keys" (nn.DataParallel(model).state_dict(), built here on
                        the CPU, where DataParallel needs no GPU), "parameters", "buffers",
                        "chunk_cases": [{"name", "shape", "chunks", "dim", "sizes"}],
                        "train_replicas", "scalars"}

Deterministic: fixed seeds, no randomness outside them.
"""

import copy
import json
import os
import sys

import safetensors.torch
import torch
import torch.nn as nn

SEED = 20260529
BATCH = 7
IN_CHANNELS = 3
CHANNELS = 8
SIDE = 6
CLASSES = 5
ATOL = 1e-5
TRAIN_REPLICAS = 3
TRACKED_BATCHES = 11
# (name, input shape, number of chunks, dim): batches not divisible by the device count, and
# shorter than it (fewer chunks than devices), an empty one, and a split along another dim.
CHUNK_CASES = [
    ("rows5_over2", (5, 3), 2, 0),
    ("rows5_over3", (5, 3), 3, 0),
    ("rows5_over4", (5, 3), 4, 0),
    ("rows7_over3", (7, 2), 3, 0),
    ("rows2_over3", (2, 3), 3, 0),
    ("rows1_over2", (1, 4), 2, 0),
    ("rows0_over2", (0, 3), 2, 0),
    ("cols7_over3", (4, 7), 3, 1),
    ("cols7_over3_negative_dim", (4, 7), 3, -1),
]
SCALARS = 3


class SmallNet(nn.Module):
    """conv -> bn -> relu -> flatten -> fc; Java builds the same from LibTorch layers."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(IN_CHANNELS, CHANNELS, 3, padding=1)
        self.bn = nn.BatchNorm2d(CHANNELS)
        self.fc = nn.Linear(CHANNELS * SIDE * SIDE, CLASSES)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(torch.flatten(x, 1))


def make_model():
    model = SmallNet()
    with torch.no_grad():
        model.bn.weight.uniform_(0.5, 1.5)
        model.bn.bias.uniform_(-0.5, 0.5)
        model.bn.running_mean.uniform_(-0.2, 0.2)
        model.bn.running_var.uniform_(0.5, 2.0)
        model.bn.num_batches_tracked.fill_(TRACKED_BATCHES)
    return model.eval()


def train_mode_case(model, x):
    """nn.DataParallel in training mode over TRAIN_REPLICAS devices, spelled out on the CPU.

    Each replica is a copy of the model run on its chunk (BatchNorm normalizes with the chunk's
    statistics); replica 0 shares the model's buffers (broadcast hands the source device its own
    tensors), so only chunk 0 moves the model's running statistics.
    """
    master = copy.deepcopy(model).train()
    outputs = []
    for i, chunk in enumerate(x.chunk(TRAIN_REPLICAS, 0)):
        replica = master if i == 0 else copy.deepcopy(master)
        with torch.no_grad():
            outputs.append(replica(chunk))
    tensors = {"train.output": torch.cat(outputs, 0)}
    for name, buf in master.named_buffers():
        tensors["train." + name] = buf.clone()
    return tensors


def eval_gradients(model, x, weight):
    model = copy.deepcopy(model).eval()
    model.zero_grad()
    xin = x.clone().requires_grad_(True)
    loss = (model(xin) * weight).sum()
    loss.backward()
    grads = {"grad." + name: p.grad.clone() for name, p in model.named_parameters()}
    grads["grad.input"] = xin.grad.clone()
    return grads


def chunk_tensors():
    tensors, cases = {}, []
    for name, shape, chunks, dim in CHUNK_CASES:
        numel = 1
        for s in shape:
            numel *= s
        t = torch.arange(numel, dtype=torch.float32).reshape(shape) / 10
        pieces = t.chunk(chunks, dim)
        tensors[name + ".input"] = t
        for i, p in enumerate(pieces):
            tensors[f"{name}.{i}"] = p.clone()
        tensors[name + ".cat"] = torch.cat(pieces, dim)
        cases.append({"name": name, "shape": list(shape), "chunks": chunks, "dim": dim,
                      "sizes": [p.shape[dim] for p in pieces]})
    scalars = [torch.tensor(float(i) + 0.25) for i in range(SCALARS)]
    for i, s in enumerate(scalars):
        tensors[f"scalars.{i}"] = s
    tensors["scalars.gathered"] = torch.cat([s.view(1) for s in scalars], 0)
    return tensors, cases


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    model = make_model()
    x = torch.randn(BATCH, IN_CHANNELS, SIDE, SIDE)
    weight = torch.randn(BATCH, CLASSES)
    with torch.no_grad():
        y = model(x)

    dp = nn.DataParallel(model)  # no GPU: device_ids == [], forward calls the module itself
    with torch.no_grad():
        assert torch.equal(dp(x), y), "DataParallel without GPUs must be the model itself"
    dp_keys = list(dp.state_dict().keys())
    keys = list(model.state_dict().keys())
    assert dp_keys == ["module." + k for k in keys], dp_keys

    torch.save(dp.state_dict(), os.path.join(out, "data_parallel.pt"))
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    safetensors.torch.save_file(state, os.path.join(out, "weights.safetensors"))

    io = {"input": x, "output": y, "loss_weight": weight}
    io.update(eval_gradients(model, x, weight))
    io.update(train_mode_case(model, x))
    safetensors.torch.save_file(io, os.path.join(out, "io.safetensors"))

    chunks, cases = chunk_tensors()
    safetensors.torch.save_file(chunks, os.path.join(out, "chunks.safetensors"))

    scripted = torch.jit.script(copy.deepcopy(model).eval())
    with torch.no_grad():
        assert torch.allclose(scripted(x), y, atol=ATOL)
    torch.jit.save(scripted, os.path.join(out, "model_script.pt"))

    manifest = {
        "generator": "make_parallel.py",
        "torch_version": torch.__version__,
        "batch": BATCH,
        "atol": ATOL,
        "state_dict_keys": keys,
        "data_parallel_keys": dp_keys,
        "parameters": [n for n, _ in model.named_parameters()],
        "buffers": [n for n, _ in model.named_buffers()],
        "chunk_cases": cases,
        "train_replicas": TRAIN_REPLICAS,
        "scalars": SCALARS,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_parallel.py OUTDIR")
    main(sys.argv[1])
