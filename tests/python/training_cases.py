"""The training runs behind make_training.py: the model, the data, the optimizer / LR scheduler
cases, and one training step exactly as the Java side runs it.

Everything runs on the CPU, on one thread, with fixed seeds, so two runs of the same case are
bitwise identical and the Java side (the same ATen kernels through LibTorch) can land on the same
weights. A case is described by plain JSON (spec.json) that the Java tests read to build the same
optimizer and scheduler: no hyper-parameter is written twice.
"""

import argparse
import copy

import torch
import torch.nn.functional as F
from torch import nn

SEED = 1234
DATA_SEED = 99
BATCH = 8
CHANNELS = 3
SIDE = 8
CLASSES = 5
# steps before the checkpoint (N) and after it (M)
N_STEPS = 6
M_STEPS = 6
TOTAL_STEPS = N_STEPS + M_STEPS


class SmallNet(nn.Module):
    """conv + BatchNorm + Linear. model.parameters() order: conv.weight, bn.weight, bn.bias,
    fc.weight, fc.bias (the Java twin registers its layers in the same order).

    The conv has no bias, as before a BatchNorm it should not: its true gradient is zero, so
    Adam and RMSprop would scale float rounding noise up to full-size steps, and the Java side's
    LibTorch (another build of the same kernels, OpenBLAS where the wheel has MKL) rounds
    differently in the last bit."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(CHANNELS, 4, kernel_size=3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * (SIDE // 2) * (SIDE // 2), CLASSES)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        x = F.avg_pool2d(x, 2)
        return self.fc(x.flatten(1))


def deterministic():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def initial_model():
    torch.manual_seed(SEED)
    return SmallNet()


def make_data():
    """TOTAL_STEPS batches from a seeded generator: x [S, B, 3, 8, 8] float32, y [S, B] int64."""
    g = torch.Generator().manual_seed(DATA_SEED)
    x = torch.randn(TOTAL_STEPS, BATCH, CHANNELS, SIDE, SIDE, generator=g)
    y = torch.randint(0, CLASSES, (TOTAL_STEPS, BATCH), generator=g)
    return {"x": x, "y": y}


def training_args(case):
    """What a training script's argparse would hold (the checkpoint's 'args')."""
    return argparse.Namespace(arch="smallnet", opt=case["optimizer"]["type"].lower(),
                              lr=case["optimizer"]["kwargs"].get("lr"), epochs=TOTAL_STEPS,
                              batch_size=BATCH, weights=None, amp=False,
                              lr_steps=[2, 4], data_path="/datasets/tiny", sync_bn=False)


# ---- the cases

def _case(name, optimizer, scheduler, *, groups=None, data_parallel=False, args="dict",
          description=""):
    return {"name": name, "optimizer": optimizer, "scheduler": scheduler,
            "param_groups": groups, "data_parallel": data_parallel, "args": args,
            "n_steps": N_STEPS, "m_steps": M_STEPS, "description": description}


def _opt(kind, **kwargs):
    return {"type": kind, "kwargs": kwargs}


def _sched(kind, **kwargs):
    return {"type": kind, "kwargs": kwargs}


CASES = [
    _case("sgd_momentum_steplr", _opt("SGD", lr=0.1, momentum=0.9),
          _sched("StepLR", step_size=3, gamma=0.5),
          description="SGD with momentum (first-step buffer = grad), StepLR"),
    _case("sgd_nesterov_wd_multisteplr",
          _opt("SGD", lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
          _sched("MultiStepLR", milestones=[2, 5, 5, 9], gamma=0.5),
          description="nesterov + weight decay; MultiStepLR milestones is a Counter"),
    _case("sgd_dampening_cosine_restart", _opt("SGD", lr=0.1, momentum=0.8, dampening=0.3),
          _sched("CosineAnnealingLR", T_max=4, eta_min=0.01),
          description="dampening; T_max < steps: the recursive form's restart branch"),
    _case("adamw_cosine_groups", _opt("AdamW", lr=0.01, weight_decay=0.05),
          _sched("CosineAnnealingLR", T_max=20, eta_min=1e-4),
          groups=[{"modules": ["conv", "bn"]}, {"modules": ["fc"], "lr": 0.003, "weight_decay": 0.0}],
          description="AdamW, two param groups with their own lr / weight_decay"),
    _case("adam_amsgrad_onecycle",
          _opt("Adam", lr=0.01, betas=[0.8, 0.99], weight_decay=1e-3, amsgrad=True),
          _sched("OneCycleLR", max_lr=0.05, total_steps=TOTAL_STEPS),
          description="Adam amsgrad (max_exp_avg_sq), OneCycleLR cycling beta1"),
    _case("sgd_onecycle_three_phase_linear", _opt("SGD", lr=0.1, momentum=0.9),
          _sched("OneCycleLR", max_lr=0.2, total_steps=TOTAL_STEPS + 2,
                 anneal_strategy="linear", three_phase=True),
          description="OneCycleLR three phases, linear, cycling momentum"),
    _case("rmsprop_centered_exponential",
          _opt("RMSprop", lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=1e-3),
          _sched("ExponentialLR", gamma=0.9),
          description="RMSprop centered + momentum (grad_avg, momentum_buffer), ExponentialLR"),
    _case("rmsprop_plateau", _opt("RMSprop", lr=0.01),
          _sched("ReduceLROnPlateau", mode="max", factor=0.5, patience=1, cooldown=1),
          description="plain RMSprop; ReduceLROnPlateau on the loss (mode max: it reduces)"),
    _case("adagrad_lambda",
          _opt("Adagrad", lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=1e-3),
          _sched("LambdaLR", lr_lambda={"pow": 0.95}),
          description="Adagrad (state from construction), LambdaLR 0.95 ** epoch"),
    _case("sgd_multiplicative", _opt("SGD", lr=0.1),
          _sched("MultiplicativeLR", lr_lambda={"const": 0.9}),
          description="plain SGD (empty state), MultiplicativeLR"),
    _case("sgd_sequential_linear_cosine", _opt("SGD", lr=0.1, momentum=0.9),
          _sched("SequentialLR",
                 schedulers=[_sched("LinearLR", start_factor=0.25, total_iters=4),
                             _sched("CosineAnnealingLR", T_max=10)],
                 milestones=[4]),
          description="SequentialLR: LinearLR warm-up then CosineAnnealingLR"),
    _case("adamw_data_parallel", _opt("AdamW", lr=0.005),
          _sched("LinearLR", start_factor=0.5, end_factor=1.0, total_iters=8),
          data_parallel=True,
          description="saved from nn.DataParallel (module. keys), resumed on a plain model"),
    _case("sgd_namespace_args", _opt("SGD", lr=0.1, momentum=0.9, weight_decay=1e-4),
          _sched("StepLR", step_size=4, gamma=0.1), args="namespace",
          description="args saved as an argparse.Namespace (the tutorial's way)"),
]


# ---- building a case

def lr_lambda(spec):
    """The Python twin of the Java functions the tests pass to LambdaLR / MultiplicativeLR."""
    if "pow" in spec:
        base = spec["pow"]
        return lambda epoch: base ** epoch
    if "const" in spec:
        factor = spec["const"]
        return lambda epoch: factor
    raise ValueError(spec)


def build_model(case):
    model = initial_model()
    return nn.DataParallel(model) if case["data_parallel"] else model


def _plain(model):
    return model.module if isinstance(model, nn.DataParallel) else model


def param_groups(case, model):
    if not case["param_groups"]:
        return list(model.parameters())
    named = dict(_plain(model).named_parameters())
    groups = []
    for g in case["param_groups"]:
        params = [p for n, p in named.items() if n.split(".")[0] in g["modules"]]
        extra = {k: v for k, v in g.items() if k != "modules"}
        groups.append(dict(extra, params=params))
    return groups


def build_optimizer(case, model):
    spec = case["optimizer"]
    kwargs = dict(spec["kwargs"])
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    return getattr(torch.optim, spec["type"])(param_groups(case, model), **kwargs)


def build_scheduler(spec, optimizer):
    kind, kwargs = spec["type"], dict(spec["kwargs"])
    lrs = torch.optim.lr_scheduler
    if kind in ("LambdaLR", "MultiplicativeLR"):
        kwargs["lr_lambda"] = lr_lambda(kwargs["lr_lambda"])
    if kind == "SequentialLR":
        kwargs["schedulers"] = [build_scheduler(s, optimizer) for s in kwargs["schedulers"]]
    return getattr(lrs, kind)(optimizer, **kwargs)


def is_plateau(case):
    return case["scheduler"]["type"] == "ReduceLROnPlateau"


def train(case, model, optimizer, scheduler, data, start, count):
    """count steps from batch `start`: zero_grad, cross_entropy, backward, optimizer.step,
    scheduler.step (with the loss for ReduceLROnPlateau). Returns (losses, lrs per step)."""
    model.train()
    losses, lrs = [], []
    for i in range(start, start + count):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(data["x"][i]), data["y"][i])
        loss.backward()
        optimizer.step()
        if is_plateau(case):
            scheduler.step(loss.item())
        else:
            scheduler.step()
        losses.append(loss.item())
        lrs.append([g["lr"] for g in optimizer.param_groups])
    return losses, lrs


def checkpoint(case, model, optimizer, scheduler, epoch):
    args = training_args(case)
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "lr_scheduler": scheduler.state_dict(),
        "epoch": epoch,
        "args": args if case["args"] == "namespace" else vars(args),
        "rng_state": torch.get_rng_state(),
    }


def resume(case, ckpt):
    """The usual resume: build model, optimizer and scheduler, then load their state dicts."""
    model = build_model(case)
    state = ckpt["model"]
    if not case["data_parallel"] and any(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    model.load_state_dict(state)
    optimizer = build_optimizer(case, model)
    scheduler = build_scheduler(case["scheduler"], optimizer)
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler.load_state_dict(copy.deepcopy(ckpt["lr_scheduler"]))
    return model, optimizer, scheduler
