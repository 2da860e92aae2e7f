#!/usr/bin/env python3
"""Training checkpoints with real torch 2.13, for the resume-equivalence tests of io.ckpt4j.checkpoint.

    python3 tests/python/make_training.py OUTDIR
    python3 tests/python/make_training.py check OUTDIR JAVADIR

Generate (first form) writes into OUTDIR:
  data.pt                  {'x': [S, B, 3, 8, 8] float32, 'y': [S, B] int64}: the batches, S = N + M
  init.pt                  the initial SmallNet state dict (seeded), the start of every run
  index.json               {"torch_version", "n_steps", "m_steps", "cases": [case spec, ...]}
  CASE/spec.json           the case: optimizer type + kwargs, scheduler type + kwargs, param
                           groups (by module name), data_parallel, args format
  CASE/args.json           vars(args): what the checkpoint's 'args' holds
  CASE/ckpt.pt             after N steps: {'model', 'optimizer', 'lr_scheduler', 'epoch', 'args',
                           'rng_state'} as a training script saves it
  CASE/final.pt            after N + M steps (continuing the same run): {'model', 'optimizer',
                           'losses', 'lrs'} (losses / lrs of the M continued steps)
  CASE/resumed.json        proof that Python's own resume of ckpt.pt lands bitwise on final.pt
  replay.json, replay/NAME.pt        optimizers fed recorded gradients (see training_replay.py):
                           {'init', 'grads', 'final', 'optimizer'}
  schedules.json, schedules/NAME.pt  schedulers stepped alone: {'lrs', 'momenta', 'resume_at',
                           'state_at', 'optimizer_at'}

Check (second form) reads what the Java tests wrote into JAVADIR/CASE/:
  java_ckpt.pt             Java's checkpoint after its own N steps from init.pt
  java_final.pt            Java's continuation: {'model', 'optimizer', 'losses', 'lrs'}
  roundtrip.pt             Java's re-save of OUTDIR/CASE/ckpt.pt, unchanged
and, per case: Python resumes java_ckpt.pt (torch.load weights_only=True; a Namespace 'args'
needs torch.serialization.add_safe_globals([argparse.Namespace])), trains M steps and compares
with java_final.pt; compares java_ckpt.pt with Python's own ckpt.pt; compares roundtrip.pt with
ckpt.pt entry by entry (types, keys, order, values, tensors bitwise). Prints one JSON report
{"cases": {CASE: {"ok", "problems", "max_abs_diff", ...}}} and exits 1 if any case fails.
"""

import argparse
import json
import math
import os
import sys
from collections import Counter, OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import training_cases as tc  # noqa: E402
import training_replay  # noqa: E402

TOLERANCE = 1e-5  # max abs diff, float32 weights and optimizer state


def save_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=1, sort_keys=False)
        f.write("\n")


def max_abs_diff(a, b):
    """Largest |a - b| over two state dicts (or optimizer state dicts) with the same keys."""
    worst = 0.0
    for x, y in zip(tensors(a), tensors(b), strict=True):
        if x[0] != y[0]:
            raise AssertionError("different entries: %s vs %s" % (x[0], y[0]))
        if x[1].shape != y[1].shape or x[1].dtype != y[1].dtype:
            raise AssertionError("%s: %s %s vs %s %s" % (x[0], x[1].dtype, tuple(x[1].shape),
                                                         y[1].dtype, tuple(y[1].shape)))
        if x[1].numel():
            worst = max(worst, (x[1].double() - y[1].double()).abs().max().item())
    return worst


def tensors(value, path=""):
    if torch.is_tensor(value):
        return [(path, value)]
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out += tensors(v, "%s/%s" % (path, k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            out += tensors(v, "%s/%d" % (path, i))
    return out


def strip_module(state):
    return OrderedDict((k[len("module."):] if k.startswith("module.") else k, v)
                       for k, v in state.items())


# ---- generate

def generate(outdir):
    tc.deterministic()
    os.makedirs(outdir, exist_ok=True)
    data = tc.make_data()
    torch.save(data, os.path.join(outdir, "data.pt"))
    torch.save(tc.initial_model().state_dict(), os.path.join(outdir, "init.pt"))
    for case in tc.CASES:
        write_case(case, data, os.path.join(outdir, case["name"]))
    save_json(os.path.join(outdir, "replay.json"),
              {"steps": training_replay.REPLAY_STEPS, "tolerance": training_replay.TOLERANCE,
               "cases": training_replay.replay(outdir)})
    save_json(os.path.join(outdir, "schedules.json"),
              {"steps": training_replay.SCHEDULE_STEPS, "group_lrs": training_replay.GROUP_LRS,
               "sgd_momentum": training_replay.SGD_MOMENTUM, "cases": training_replay.schedules(outdir)})
    save_json(os.path.join(outdir, "index.json"),
              {"generator": "make_training.py", "torch_version": torch.__version__,
               "n_steps": tc.N_STEPS, "m_steps": tc.M_STEPS, "tolerance": TOLERANCE,
               "cases": [c["name"] for c in tc.CASES]})


def write_case(case, data, casedir):
    os.makedirs(casedir, exist_ok=True)
    save_json(os.path.join(casedir, "spec.json"), case)
    save_json(os.path.join(casedir, "args.json"), vars(tc.training_args(case)))
    n, m = case["n_steps"], case["m_steps"]
    model = tc.build_model(case)
    optimizer = tc.build_optimizer(case, model)
    scheduler = tc.build_scheduler(case["scheduler"], optimizer)
    tc.train(case, model, optimizer, scheduler, data, 0, n)
    ckpt_path = os.path.join(casedir, "ckpt.pt")
    torch.save(tc.checkpoint(case, model, optimizer, scheduler, n), ckpt_path)
    losses, lrs = tc.train(case, model, optimizer, scheduler, data, n, m)
    final = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "losses": losses, "lrs": lrs}
    torch.save(final, os.path.join(casedir, "final.pt"))

    # Python's own resume from the file must land on the same numbers, bitwise.
    ckpt = load_checkpoint(ckpt_path, case)
    r_model, r_opt, r_sched = tc.resume(case, ckpt)
    r_losses, r_lrs = tc.train(case, r_model, r_opt, r_sched, data, n, m)
    diff = max_abs_diff(r_model.state_dict(), final["model"])
    assert diff == 0.0 and r_lrs == lrs and r_losses == losses, (case["name"], diff)
    save_json(os.path.join(casedir, "resumed.json"),
              {"max_abs_diff": diff, "lrs_equal": r_lrs == lrs, "losses_equal": r_losses == losses})


def load_checkpoint(path, case):
    if case["args"] == "namespace":
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, weights_only=True)
    return torch.load(path, weights_only=True)


# ---- check what Java wrote

def check(outdir, javadir):
    tc.deterministic()
    data = torch.load(os.path.join(outdir, "data.pt"), weights_only=True)
    report, failed = {}, False
    for case in tc.CASES:
        jdir = os.path.join(javadir, case["name"])
        if not os.path.isdir(jdir):
            continue
        result = check_case(case, data, os.path.join(outdir, case["name"]), jdir)
        report[case["name"]] = result
        failed |= not result["ok"]
    if not report:
        report["_"] = {"ok": False, "problems": ["nothing to check under " + javadir]}
        failed = True
    print(json.dumps({"cases": report}, indent=1))
    return 1 if failed else 0


class Findings:
    """What a check found: problems fail the case, notes are reported."""

    def __init__(self):
        self.problems, self.notes = [], []

    def append(self, problem):
        self.problems.append(problem)


def check_case(case, data, casedir, jdir):
    found, result = Findings(), {}
    problems = found
    python_ckpt = load_checkpoint(os.path.join(casedir, "ckpt.pt"), case)
    roundtrip = os.path.join(jdir, "roundtrip.pt")
    if os.path.exists(roundtrip):
        try:
            same_tree(load_checkpoint(roundtrip, case), python_ckpt, "", problems)
        except Exception as e:  # noqa: BLE001 - reported, not raised
            problems.append("roundtrip.pt: %s: %s" % (type(e).__name__, e))
        result["roundtrip_checked"] = True
    java_ckpt_path = os.path.join(jdir, "java_ckpt.pt")
    if os.path.exists(java_ckpt_path):
        try:
            resume_java(case, data, java_ckpt_path, os.path.join(jdir, "java_final.pt"),
                        python_ckpt, result, problems)
        except Exception as e:  # noqa: BLE001
            problems.append("java_ckpt.pt: %s: %s" % (type(e).__name__, e))
    result["problems"] = found.problems
    result["notes"] = found.notes
    result["ok"] = not found.problems
    return result


def resume_java(case, data, ckpt_path, final_path, python_ckpt, result, problems):
    ckpt = load_checkpoint(ckpt_path, case)
    for key in ("model", "optimizer", "lr_scheduler", "epoch", "args"):
        if key not in ckpt:
            problems.append("java_ckpt.pt has no '%s'" % key)
    expected_args = vars(tc.training_args(case))
    args = vars(ckpt["args"]) if case["args"] == "namespace" else ckpt["args"]
    if case["args"] == "namespace" and not isinstance(ckpt["args"], argparse.Namespace):
        problems.append("args: expected an argparse.Namespace, got %s" % type(ckpt["args"]))
    if args != expected_args:
        problems.append("args: %r != %r" % (args, expected_args))
    # Java's N steps against Python's N steps, from the same initial weights and batches
    result["ckpt_vs_python_model"] = max_abs_diff(strip_module(ckpt["model"]),
                                                  strip_module(python_ckpt["model"]))
    result["ckpt_vs_python_optimizer"] = max_abs_diff(ckpt["optimizer"]["state"],
                                                      python_ckpt["optimizer"]["state"])
    same_tree(ckpt["optimizer"]["param_groups"], python_ckpt["optimizer"]["param_groups"],
              "optimizer.param_groups", problems, close=True)
    # 'best' (ReduceLROnPlateau) is a loss: the two runs' losses agree to float32 rounding
    java_sched, python_sched = dict(ckpt["lr_scheduler"]), dict(python_ckpt["lr_scheduler"])
    if "best" in python_sched and abs(java_sched.get("best", math.inf) - python_sched["best"]) \
            <= TOLERANCE:
        java_sched["best"] = python_sched["best"]
    same_tree(java_sched, python_sched, "lr_scheduler", problems, close=True)
    for key in ("ckpt_vs_python_model", "ckpt_vs_python_optimizer"):
        if result[key] > TOLERANCE:
            problems.append("%s: max abs diff %g" % (key, result[key]))

    model, optimizer, scheduler = tc.resume(case, ckpt)
    losses, lrs = tc.train(case, model, optimizer, scheduler, data, case["n_steps"],
                           case["m_steps"])
    final = torch.load(final_path, weights_only=True)
    result["max_abs_diff"] = max_abs_diff(strip_module(model.state_dict()),
                                          strip_module(final["model"]))
    result["optimizer_max_abs_diff"] = max_abs_diff(optimizer.state_dict()["state"],
                                                    final["optimizer"]["state"])
    result["lrs_equal"] = close_lists(lrs, final["lrs"])
    result["final_lr"] = lrs[-1]
    for key in ("max_abs_diff", "optimizer_max_abs_diff"):
        if result[key] > TOLERANCE:
            problems.append("Python's resume of java_ckpt.pt vs java_final.pt: %s %g"
                            % (key, result[key]))
    if not result["lrs_equal"]:
        problems.append("lrs: Python %r, Java %r" % (lrs, final["lrs"]))


def close_lists(a, b, rel=1e-12):
    a, b = json.loads(json.dumps(a)), json.loads(json.dumps(b))
    if len(a) != len(b):
        return False
    return all(math.isclose(x, y, rel_tol=rel, abs_tol=0.0)
               for ra, rb in zip(a, b) for x, y in zip(ra, rb, strict=True))


def same_tree(got, want, path, problems, close=False):
    """Appends to `problems` (a Findings) what differs. Exact comparison: types (dict vs
    OrderedDict vs Counter, tuple vs list, int vs float), key order, values, tensors bitwise (dtype, shape, stride-free values). With close=True,
    floats compare to 1e-12 relative (Java's libm may differ from Python's by an ulp)."""
    if type(want) is Counter and type(got) is dict and dict(want) == got:
        problems.notes.append("%s: a dict where Python has a collections.Counter (same counts)"
                              % path)
        return
    if type(got) is not type(want):
        problems.append("%s: type %s, expected %s" % (path, type(got).__name__,
                                                      type(want).__name__))
        return
    if torch.is_tensor(want):
        if got.dtype != want.dtype or got.shape != want.shape:
            problems.append("%s: tensor %s %s, expected %s %s" % (
                path, got.dtype, tuple(got.shape), want.dtype, tuple(want.shape)))
        elif close:
            if got.numel() and (got.double() - want.double()).abs().max().item() > TOLERANCE:
                problems.append("%s: tensor values differ" % path)
        elif not torch.equal(got, want) and not (got.isnan().any() and want.isnan().any()):
            problems.append("%s: tensor values differ" % path)
        return
    if isinstance(want, argparse.Namespace):
        same_tree(vars(got), vars(want), path + ".__dict__", problems, close)
        return
    if isinstance(want, dict):
        if list(got.keys()) != list(want.keys()):
            problems.append("%s: keys %s, expected %s" % (path, list(got), list(want)))
            return
        if isinstance(want, OrderedDict) and hasattr(want, "_metadata"):
            if getattr(got, "_metadata", None) != want._metadata:
                problems.append("%s: _metadata differs" % path)
        for k in want:
            same_tree(got[k], want[k], "%s.%s" % (path, k), problems, close)
        return
    if isinstance(want, (list, tuple)):
        if len(got) != len(want):
            problems.append("%s: length %d, expected %d" % (path, len(got), len(want)))
            return
        for i, (g, w) in enumerate(zip(got, want)):
            same_tree(g, w, "%s[%d]" % (path, i), problems, close)
        return
    if isinstance(want, float) and close:
        if not (math.isclose(got, want, rel_tol=1e-12) or got == want):
            problems.append("%s: %r, expected %r" % (path, got, want))
        return
    if got != want and not (isinstance(want, float) and math.isnan(want) and math.isnan(got)):
        problems.append("%s: %r, expected %r" % (path, got, want))


def run_generator(argv, generate, check, usage):
    """The command line of a fixture generator: OUTDIR writes, `check OUTDIR JAVADIR` checks."""
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    if len(argv) == 2:
        generate(argv[1])
        return 0
    print(usage, file=sys.stderr)
    return 2


def main(argv):
    return run_generator(argv, generate, check, __doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
