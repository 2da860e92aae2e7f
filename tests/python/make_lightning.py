#!/usr/bin/env python3
"""A PyTorch Lightning 2.x `.ckpt`, made with plain torch 2.13, for io.ckpt4j.checkpoint.LightningCheckpoint.

    python3 tests/python/make_lightning.py OUTDIR
    python3 tests/python/make_lightning.py check OUTDIR JAVADIR

Lightning is not installed: the file is the dict that Lightning 2.x's
`_CheckpointConnector.dump_checkpoint` (src/lightning/pytorch/trainer/connectors/
checkpoint_connector.py) builds and `torch.save`s, key for key and in its order:

    {"epoch", "global_step", "pytorch-lightning_version", "state_dict", "loops", "callbacks",
     "optimizer_states": [optimizer.state_dict(), ...],
     "lr_schedulers": [scheduler.state_dict(), ...],
     "hparams_name": "kwargs", "hyper_parameters": dict(module.hparams)}

"state_dict" is a LightningModule's: the network lives in `self.model`, so its keys are
`model.conv.weight`, ... (LitModule below stands in for the LightningModule: a LightningModule
adds no parameters or buffers of its own). "loops" and "callbacks" are the trainer's own state;
their contents here are small dicts of the shape Lightning writes (ints, str, a tensor), kept only
to check that Java reads and re-saves such entries unchanged.

Generate writes into OUTDIR: data.pt (the batches), spec.json (the training_cases case: Adam +
StepLR), hparams.json, lightning.ckpt (after N steps), final.pt (after N + M: {'state_dict',
'optimizer', 'lrs', 'losses'}), namespace_hparams.ckpt (the same with
hyper_parameters an argparse.Namespace), end.pt (after N + M + K, from final: {'state_dict'}).

Check reads JAVADIR/java.ckpt (Java's resume of lightning.ckpt, saved after its M steps) and
JAVADIR/roundtrip.ckpt (Java's re-save of lightning.ckpt): torch.load(weights_only=True), the
keys Lightning restores, the weights against final.pt, then Python resumes java.ckpt the way
Lightning's restore does (load_state_dict of the module, of optimizer_states[0], of
lr_schedulers[0]), trains K more steps and compares with end.pt. Prints a JSON report
{"java": {...}, "roundtrip": {...}}, each with "ok" and "problems"; exit 1 on a failure.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from torch import nn  # noqa: E402

import make_training as mt  # noqa: E402
import training_cases as tc  # noqa: E402

LIGHTNING_VERSION = "2.5.1"  # what "pytorch-lightning_version" says; nothing reads it
N, M, K = 6, 3, 3  # steps before lightning.ckpt, to final.pt, to end.pt (N + M + K = all batches)
CASE = dict(tc._case("lightning_adam_steplr", tc._opt("Adam", lr=0.01, weight_decay=1e-4),
                     tc._sched("StepLR", step_size=2, gamma=0.5),
                     description="a LightningModule holding self.model; Adam, StepLR"),
            n_steps=N, m_steps=M)
HPARAMS = {"lr": 0.01, "weight_decay": 1e-4, "step_size": 2, "gamma": 0.5, "arch": "smallnet",
           "layers": [4, 5], "pretrained": None, "amp": False}


class LitModule(nn.Module):
    """The LightningModule's shape: the network as `self.model`."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)


def build(case):
    model = LitModule(tc.initial_model())
    optimizer = tc.build_optimizer(case, model)
    scheduler = tc.build_scheduler(case["scheduler"], optimizer)
    return model, optimizer, scheduler


def dump_checkpoint(module, optimizer, scheduler, step):
    """What Lightning's dump_checkpoint returns (one optimizer, one scheduler, epoch = step:
    one batch per epoch)."""
    return {
        "epoch": step,
        "global_step": step,
        "pytorch-lightning_version": LIGHTNING_VERSION,
        "state_dict": module.state_dict(),
        "loops": {"fit_loop": {"state_dict": {}, "epoch_loop.state_dict": {"_batches_that_stepped": step},
                               "epoch_progress": {"total": {"ready": step, "started": step,
                                                            "processed": step, "completed": step}}}},
        "callbacks": {"ModelCheckpoint{'monitor': None, 'mode': 'min'}": {
            "monitor": None, "best_model_score": torch.tensor(0.5), "best_model_path": "",
            "best_k_models": {}, "kth_value": torch.tensor(float("inf"))}},
        "optimizer_states": [optimizer.state_dict()],
        "lr_schedulers": [scheduler.state_dict()],
        "hparams_name": "kwargs",
        "hyper_parameters": dict(HPARAMS),
    }


def generate(outdir):
    tc.deterministic()
    os.makedirs(outdir, exist_ok=True)
    data = tc.make_data()
    torch.save(data, os.path.join(outdir, "data.pt"))
    mt.save_json(os.path.join(outdir, "spec.json"), CASE)
    mt.save_json(os.path.join(outdir, "hparams.json"), HPARAMS)
    module, optimizer, scheduler = build(CASE)
    tc.train(CASE, module, optimizer, scheduler, data, 0, N)
    ckpt = dump_checkpoint(module, optimizer, scheduler, N)
    torch.save(ckpt, os.path.join(outdir, "lightning.ckpt"))
    # hparams kept as an argparse.Namespace (module.hparams = args, as Lightning 1.x allowed)
    torch.save(dict(ckpt, hyper_parameters=argparse.Namespace(**HPARAMS)),
               os.path.join(outdir, "namespace_hparams.ckpt"))
    losses, lrs = tc.train(CASE, module, optimizer, scheduler, data, N, M)
    torch.save({"state_dict": module.state_dict(), "optimizer": optimizer.state_dict(),
                "losses": losses, "lrs": lrs}, os.path.join(outdir, "final.pt"))
    tc.train(CASE, module, optimizer, scheduler, data, N + M, K)
    torch.save({"state_dict": module.state_dict()}, os.path.join(outdir, "end.pt"))
    mt.save_json(os.path.join(outdir, "index.json"),
                 {"generator": "make_lightning.py", "torch_version": torch.__version__,
                  "n": N, "m": M, "k": K, "tolerance": mt.TOLERANCE})


def check(outdir, javadir):
    tc.deterministic()
    report = {}
    java_ckpt = os.path.join(javadir, "java.ckpt")
    if os.path.exists(java_ckpt):
        report["java"] = guarded(lambda f: check_java(outdir, java_ckpt, f))
    roundtrip = os.path.join(javadir, "roundtrip.ckpt")
    if os.path.exists(roundtrip):
        report["roundtrip"] = guarded(lambda f: mt.same_tree(
            torch.load(roundtrip, weights_only=True),
            torch.load(os.path.join(outdir, "lightning.ckpt"), weights_only=True), "", f))
    print(json.dumps(report, indent=1))
    return 0 if report and all(r["ok"] for r in report.values()) else 1


def guarded(run):
    found = mt.Findings()
    try:
        run(found)
    except Exception as e:  # noqa: BLE001 - reported, not raised
        found.append("%s: %s" % (type(e).__name__, e))
    return {"ok": not found.problems, "problems": found.problems, "notes": found.notes,
            "values": getattr(found, "values", {})}


def check_java(outdir, path, found):
    data = torch.load(os.path.join(outdir, "data.pt"), weights_only=True)
    ckpt = torch.load(path, weights_only=True)
    found.values = {"keys": list(ckpt)}
    for key in ("epoch", "global_step", "pytorch-lightning_version", "state_dict",
                "optimizer_states", "lr_schedulers", "hyper_parameters"):
        if key not in ckpt:
            found.append("no '%s'" % key)
    if ckpt["epoch"] != N + M or ckpt["global_step"] != N + M:
        found.append("epoch / global_step %r / %r, expected %d" % (ckpt["epoch"], ckpt["global_step"],
                                                                    N + M))
    if ckpt["hyper_parameters"] != HPARAMS:
        found.append("hyper_parameters %r" % ckpt["hyper_parameters"])
    final = torch.load(os.path.join(outdir, "final.pt"), weights_only=True)
    found.values["weights_vs_python"] = mt.max_abs_diff(ckpt["state_dict"], final["state_dict"])
    found.values["optimizer_vs_python"] = mt.max_abs_diff(ckpt["optimizer_states"][0]["state"],
                                                          final["optimizer"]["state"])
    # Lightning's restore: strategy.load_model_state_dict, load_optimizer_state_dict,
    # config.scheduler.load_state_dict for each of lr_schedulers
    module, optimizer, scheduler = build(CASE)
    module.load_state_dict(ckpt["state_dict"])
    optimizer.load_state_dict(ckpt["optimizer_states"][0])
    scheduler.load_state_dict(ckpt["lr_schedulers"][0])
    tc.train(CASE, module, optimizer, scheduler, data, N + M, K)
    end = torch.load(os.path.join(outdir, "end.pt"), weights_only=True)
    found.values["resumed_vs_python"] = mt.max_abs_diff(module.state_dict(), end["state_dict"])
    for key in ("weights_vs_python", "optimizer_vs_python", "resumed_vs_python"):
        if found.values[key] > mt.TOLERANCE:
            found.append("%s: max abs diff %g" % (key, found.values[key]))


def main(argv):
    return mt.run_generator(argv, generate, check, __doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
