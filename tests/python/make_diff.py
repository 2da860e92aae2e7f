"""Writes pairs of checkpoints for `ckpt4j diff` and what Python's torch.testing.assert_close says
about every tensor pair (torch 2.13), so the Java tests compare ckpt4j's verdicts with Python's.

    python3 tests/python/make_diff.py OUTDIR

OUTDIR/index.json: {"cases": [{"name", "a", "b", "options", "tensors": {KEY: {...}},
"only_in_a", "only_in_b", "aliases", "values_differ", "equal"}]}. KEY is ckpt4j's path name of a
leaf: dict keys joined by "/", list indices as [i]. Per tensor: "close" (assert_close passes with
the case's options), "status" (equal: torch.equal, or the same bytes with "exact"; close; different;
dtype_changed; shape_changed), and, where shapes and dtypes agree, "max_abs" / "max_rel" / "rms"
over the elements whose difference is not NaN (computed in float64 / complex128), "mismatched"
(elements torch.isclose calls not close).
"""
import json
import os
import sys
from collections import OrderedDict

import torch
from safetensors.torch import save_file
from torch.testing._comparison import default_tolerances


def gen(seed):
    return torch.Generator().manual_seed(seed)


def base_state():
    g = gen(0)
    return OrderedDict([
        ("fc.weight", torch.randn(8, 16, generator=g)),
        ("fc.bias", torch.randn(8, generator=g)),
        ("emb.weight", torch.randn(10, 4, generator=g, dtype=torch.float64)),
        ("half", torch.randn(32, generator=g).to(torch.float16)),
        ("bf16", torch.randn(32, generator=g).to(torch.bfloat16)),
        ("steps", torch.arange(5, dtype=torch.int64)),
        ("mask", torch.tensor([True, False, True])),
        ("scalar", torch.tensor(3.5)),
    ])


def name(path):
    out = ""
    for k in path:
        out += "[%d]" % k if isinstance(k, int) else ("/" if out else "") + str(k)
    return out


def leaves(obj, path=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from leaves(v, path + (k,))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from leaves(v, path + (i,))
    else:
        yield path, obj


def strip(key, prefix):
    if not prefix:
        return key
    return "/".join(p[len(prefix):] if p.startswith(prefix) else p for p in key.split("/"))


def raw(t):
    """A tensor's element bytes, row-major, little-endian (what inspect --json hashes)."""
    return bytes(t.contiguous().reshape(-1).view(torch.uint8).numpy())


def verdict(a, b, opts):
    """assert_close(actual=a, expected=b) with the case's options, and the numbers ckpt4j prints."""
    out = {}
    if a.dtype != b.dtype:
        out["status"] = "dtype_changed"
    elif a.shape != b.shape:
        out["status"] = "shape_changed"
    kwargs = {"equal_nan": opts.get("equal_nan", False)}
    if "atol" in opts:
        kwargs.update(atol=opts["atol"], rtol=opts["rtol"])
    try:
        torch.testing.assert_close(a, b, **kwargs)
        out["close"] = True
    except AssertionError:
        out["close"] = False
    if "status" in out:
        return out
    rtol, atol = (opts["rtol"], opts["atol"]) if "atol" in opts else default_tolerances(a, b)
    out["mismatched"] = int((~torch.isclose(a, b, rtol=rtol, atol=atol,
                                           equal_nan=kwargs["equal_nan"])).sum())
    wide = torch.complex128 if a.dtype.is_complex else torch.float64
    d = (a.to(wide) - b.to(wide)).abs().flatten()
    rel = d / b.to(wide).abs().flatten()
    d, rel = d[~d.isnan()], rel[~rel.isnan()]
    out["max_abs"] = float(d.max()) if d.numel() else 0.0
    out["max_rel"] = float(rel.max()) if rel.numel() else 0.0
    out["rms"] = float(d.square().mean().sqrt()) if d.numel() else 0.0
    if opts.get("exact"):
        out["close"] = raw(a) == raw(b)
        out["status"] = "equal" if out["close"] else "different"
    else:
        out["status"] = "equal" if torch.equal(a, b) else "close" if out["close"] else "different"
    return out


def describe(a, b, opts, tied_b=()):
    """The expected report for a pair of loaded trees."""
    la = {strip(name(p), opts.get("strip_prefix_a")): v for p, v in leaves(a)}
    lb = {strip(name(p), opts.get("strip_prefix_b")): v for p, v in leaves(b)}
    report = {"tensors": {}, "only_in_a": [], "only_in_b": [], "aliases": [], "values_differ": []}
    for k, va in la.items():
        if k not in lb:
            (report["aliases"] if k in tied_b else report["only_in_a"]).append(k)
            continue
        vb = lb[k]
        if isinstance(va, torch.Tensor) and isinstance(vb, torch.Tensor):
            report["tensors"][k] = verdict(va, vb, opts)
        elif isinstance(va, torch.Tensor) or isinstance(vb, torch.Tensor) or va != vb:
            report["values_differ"].append(k)
    report["only_in_b"] = [k for k in lb if k not in la]
    report["equal"] = (not report["only_in_a"] and not report["only_in_b"]
                       and not report["values_differ"]
                       and all(t["close"] for t in report["tensors"].values()))
    return report


def main(out):
    os.makedirs(out, exist_ok=True)
    cases = []

    def case(name_, a, b, opts=None, a_save=torch.save, b_save=torch.save, b_ext=".pt",
             tied_b=()):
        opts = opts or {}
        fa, fb = name_ + "_a.pt", name_ + "_b" + b_ext
        a_save(a, os.path.join(out, fa))
        b_save(b, os.path.join(out, fb))
        # What the files hold, read back by torch (safetensors by its own loader).
        ra = torch.load(os.path.join(out, fa), weights_only=True)
        if b_ext == ".safetensors":
            from safetensors.torch import load_file
            rb = load_file(os.path.join(out, fb))
        else:
            rb = torch.load(os.path.join(out, fb), weights_only=True)
        c = {"name": name_, "a": fa, "b": fb, "options": opts}
        c.update(describe(ra, rb, opts, tied_b))
        cases.append(c)

    sd = base_state()
    legacy = lambda obj, path: torch.save(obj, path, _use_new_zipfile_serialization=False)
    case("equal_zip_vs_legacy", sd, sd, b_save=legacy, opts={"exact": True})

    near = OrderedDict((k, v.clone()) for k, v in sd.items())
    near["fc.weight"] = sd["fc.weight"] + 2e-6 * torch.randn(8, 16, generator=gen(1))
    case("within_default_tolerance", sd, near)
    case("within_tolerance_not_exact", sd, near, opts={"exact": True})

    far = OrderedDict((k, v.clone()) for k, v in sd.items())
    far["fc.bias"] = sd["fc.bias"] + 1e-3
    far["half"] = (sd["half"].float() + 0.05).half()
    far["steps"] = sd["steps"] + torch.tensor([0, 0, 1, 0, 0])
    far["mask"] = torch.tensor([True, True, True])
    case("outside_default_tolerance", sd, far)
    case("outside_but_within_given_tolerance", sd, far, opts={"atol": 0.1, "rtol": 0.0})

    nan_a = OrderedDict(x=torch.tensor([1.0, float("nan"), 3.0, float("inf"), -float("inf")]))
    nan_b = OrderedDict(x=torch.tensor([1.0, float("nan"), 3.0, float("inf"), -float("inf")]))
    case("nans_not_equal_nan", nan_a, nan_b)
    case("nans_equal_nan", nan_a, nan_b, opts={"equal_nan": True})
    inf_b = OrderedDict(x=torch.tensor([1.0, float("nan"), 3.0, -float("inf"), -float("inf")]))
    case("infinity_sign_flipped", nan_a, inf_b, opts={"equal_nan": True})

    reshaped = OrderedDict((k, v.clone()) for k, v in sd.items())
    reshaped["fc.weight"] = sd["fc.weight"].reshape(16, 8)
    reshaped["emb.weight"] = sd["emb.weight"].float()
    del reshaped["mask"]
    reshaped["extra.bias"] = torch.zeros(3)
    case("shape_dtype_and_keys_changed", sd, reshaped)

    wrapped = OrderedDict(("module." + k, v) for k, v in sd.items())
    case("module_prefix", wrapped, sd, opts={"strip_prefix_a": "module."})
    case("module_prefix_not_stripped", wrapped, sd)

    # Tied weights: torch.save keeps both names over one storage; safetensors (as save_pretrained
    # writes it) keeps one. The missing name is an alias, not a missing weight.
    emb = torch.randn(10, 4, generator=gen(2))
    tied = OrderedDict([("embed.weight", emb), ("lm_head.weight", emb), ("norm", torch.ones(4))])
    untied = OrderedDict([("embed.weight", emb.clone()), ("norm", torch.ones(4))])
    case("tied_bin_vs_safetensors", tied, untied, b_save=lambda o, p: save_file(o, p),
         b_ext=".safetensors", tied_b=("lm_head.weight",))

    # Training checkpoints, entry by entry.
    model = OrderedDict(w=torch.randn(3, 3, generator=gen(3)), b=torch.zeros(3))
    opt = {"state": {0: {"step": torch.tensor(4.0), "exp_avg": torch.randn(3, 3, generator=gen(4))}},
           "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1]}]}
    ckpt_a = {"model": model, "optimizer": opt, "epoch": 3, "arch": "tiny"}
    opt_b = {"state": {0: {"step": torch.tensor(5.0), "exp_avg": opt["state"][0]["exp_avg"]}},
             "param_groups": [{"lr": 0.05, "betas": (0.9, 0.999), "params": [0, 1]}]}
    ckpt_b = {"model": model, "optimizer": opt_b, "epoch": 4, "arch": "tiny"}
    case("training_checkpoints", ckpt_a, ckpt_b)

    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"generator": "tests/python/make_diff.py", "torch_version": torch.__version__,
                   "cases": cases}, f, indent=1)
    print("make_diff: %d pairs in %s" % (len(cases), out))


if __name__ == "__main__":
    main(sys.argv[1])
