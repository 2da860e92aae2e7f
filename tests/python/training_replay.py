"""Noise-free expectations for make_training.py: optimizers fed recorded gradients, and LR
schedulers stepped on their own.

- Optimizer replay: params from a seeded generator, K steps of opt.step() with p.grad set to
  recorded gradients. No forward or backward pass, so the Java side (the same elementwise ATen
  kernels, through LibTorch) can be compared bit for bit: Python's update against Java's, op
  for op.
- Schedules: an optimizer with two param groups (different lrs) and a scheduler, stepped K times
  (after an optimizer.step() with no gradients, as a training loop would); the lrs (and momentum
  or beta1) after each step, the scheduler's and the optimizer's state dicts at step RESUME_AT.

Each case: OUTDIR/replay/NAME.pt and OUTDIR/schedules/NAME.pt, specs in OUTDIR/replay.json and
OUTDIR/schedules.json.
"""

import os

import torch

import training_cases as tc

REPLAY_STEPS = 8
SCHEDULE_STEPS = 14
RESUME_AT = 5
REPLAY_SEED = 7
SHAPES = [(4, 3), (5,), (2, 2, 3)]
GROUP_LRS = [0.1, 0.02]
GRAD_SCALE = 0.5
SGD_MOMENTUM = 0.9
# Max abs diff allowed for Java's optimizers over the replay: a few float32 ulps. The update is
# Python's op for op, but the wheel's CPU kernels and the presets' LibTorch build differ in the
# last bit on some inputs (e.g. the wheel's AVX512 float sqrt is not correctly rounded), so
# bit-for-bit equality holds only where they agree (SGD and plain Adam here).
TOLERANCE = 1e-6


def _opt(kind, **kwargs):
    return {"type": kind, "kwargs": kwargs}


def _sched(kind, **kwargs):
    return {"type": kind, "kwargs": kwargs}


REPLAY_CASES = [
    {"name": "sgd_plain", "optimizer": _opt("SGD", lr=0.1)},
    {"name": "sgd_momentum", "optimizer": _opt("SGD", lr=0.1, momentum=0.9)},
    {"name": "sgd_dampening_wd", "optimizer": _opt("SGD", lr=0.05, momentum=0.8, dampening=0.3,
                                                   weight_decay=0.01)},
    {"name": "sgd_nesterov", "optimizer": _opt("SGD", lr=0.05, momentum=0.9, nesterov=True)},
    {"name": "adam", "optimizer": _opt("Adam", lr=0.01)},
    {"name": "adam_wd_amsgrad", "optimizer": _opt("Adam", lr=0.01, betas=[0.8, 0.99],
                                                  weight_decay=0.01, amsgrad=True)},
    {"name": "adamw", "optimizer": _opt("AdamW", lr=0.01, weight_decay=0.05)},
    {"name": "adamw_amsgrad", "optimizer": _opt("AdamW", lr=0.01, amsgrad=True)},
    {"name": "rmsprop", "optimizer": _opt("RMSprop", lr=0.01)},
    {"name": "rmsprop_momentum_wd", "optimizer": _opt("RMSprop", lr=0.01, momentum=0.5,
                                                      weight_decay=0.01)},
    {"name": "rmsprop_centered", "optimizer": _opt("RMSprop", lr=0.01, alpha=0.9,
                                                   centered=True)},
    {"name": "adagrad", "optimizer": _opt("Adagrad", lr=0.1)},
    {"name": "adagrad_decay", "optimizer": _opt("Adagrad", lr=0.1, lr_decay=0.05,
                                                weight_decay=0.01,
                                                initial_accumulator_value=0.1)},
]

SCHEDULE_CASES = [
    {"name": "step", "scheduler": _sched("StepLR", step_size=3, gamma=0.5)},
    {"name": "multistep", "scheduler": _sched("MultiStepLR", milestones=[2, 5, 5, 9])},
    {"name": "constant", "scheduler": _sched("ConstantLR", factor=0.5, total_iters=4)},
    {"name": "linear", "scheduler": _sched("LinearLR", start_factor=0.2, end_factor=0.9,
                                           total_iters=6)},
    {"name": "exponential", "scheduler": _sched("ExponentialLR", gamma=0.85)},
    {"name": "polynomial", "scheduler": _sched("PolynomialLR", total_iters=10, power=2.0)},
    {"name": "cosine", "scheduler": _sched("CosineAnnealingLR", T_max=5, eta_min=0.001)},
    {"name": "lambda", "scheduler": _sched("LambdaLR", lr_lambda={"pow": 0.9})},
    {"name": "multiplicative", "scheduler": _sched("MultiplicativeLR", lr_lambda={"const": 0.95})},
    {"name": "onecycle_cos_sgd", "scheduler": _sched("OneCycleLR", max_lr=[0.5, 0.2],
                                                     total_steps=SCHEDULE_STEPS)},
    {"name": "onecycle_linear_adam", "optimizer": "Adam",
     "scheduler": _sched("OneCycleLR", max_lr=0.3, total_steps=SCHEDULE_STEPS + 3,
                         anneal_strategy="linear", three_phase=True, pct_start=0.25)},
    {"name": "sequential", "scheduler": _sched(
        "SequentialLR", schedulers=[_sched("ConstantLR", factor=0.5, total_iters=2),
                                    _sched("ExponentialLR", gamma=0.9),
                                    _sched("CosineAnnealingLR", T_max=4)],
        milestones=[3, 8])},
]


def replay(outdir):
    os.makedirs(os.path.join(outdir, "replay"), exist_ok=True)
    g = torch.Generator().manual_seed(REPLAY_SEED)
    init = [torch.randn(s, generator=g) for s in SHAPES]
    grads = [[GRAD_SCALE * torch.randn(s, generator=g) for s in SHAPES]
             for _ in range(REPLAY_STEPS)]
    for case in REPLAY_CASES:
        params = [torch.nn.Parameter(t.clone()) for t in init]
        opt = tc.build_optimizer(dict(case, param_groups=None), _Holder(params))
        for step in grads:
            for p, grad in zip(params, step):
                p.grad = grad.clone()
            opt.step()
        torch.save({"init": init, "grads": grads, "final": [p.detach() for p in params],
                    "optimizer": opt.state_dict()},
                   os.path.join(outdir, "replay", case["name"] + ".pt"))
    return REPLAY_CASES


class _Holder:
    """What training_cases.build_optimizer asks of a model: parameters()."""

    def __init__(self, params):
        self._params = params

    def parameters(self):
        return iter(self._params)


def schedules(outdir):
    os.makedirs(os.path.join(outdir, "schedules"), exist_ok=True)
    for case in SCHEDULE_CASES:
        params = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))]
        groups = [{"params": [p], "lr": lr} for p, lr in zip(params, GROUP_LRS)]
        kind = case.get("optimizer", "SGD")
        opt = (torch.optim.Adam(groups) if kind == "Adam"
               else torch.optim.SGD(groups, momentum=SGD_MOMENTUM))
        sched = tc.build_scheduler(case["scheduler"], opt)
        lrs, momenta, at = [], [], {}
        for i in range(1, SCHEDULE_STEPS + 1):
            opt.step()
            sched.step()
            lrs.append([g["lr"] for g in opt.param_groups])
            momenta.append([g["betas"][0] if "betas" in g else g["momentum"]
                            for g in opt.param_groups])
            if i == RESUME_AT:
                at = {"scheduler": sched.state_dict(), "optimizer": opt.state_dict()}
        torch.save({"lrs": lrs, "momenta": momenta, "resume_at": RESUME_AT,
                    "state_at": at["scheduler"], "optimizer_at": at["optimizer"]},
                   os.path.join(outdir, "schedules", case["name"] + ".pt"))
    return SCHEDULE_CASES
