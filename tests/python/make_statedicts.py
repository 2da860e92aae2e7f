#!/usr/bin/env python3
"""Writes the state_dict tests' fixtures with real torch, and what Python's nn.Module does.

    python3 tests/python/make_statedicts.py OUTDIR

OUTDIR/manifest.json says, for the files beside it:

- "net": Net's state_dict() keys in order, shapes, dtypes and _metadata ([prefix, version] pairs);
  "net_state_dict.pt" is that state_dict (Java builds the same architecture from LibTorch layers).
- "whole": torch.save(model) files (a __main__ class, DataParallel-wrapped, legacy format, as
  torch 1.4 pickled modules, inside a checkpoint dict, RNN/attention/norm layers, tied weights)
  and for each the file holding model.state_dict(), its keys, _metadata and shared entries.
- "whole_refused": pickled modules with no state_dict a walk can give (one containing itself,
  broken _parameters — Python's state_dict() fails on both — and quantized modules), with the
  kind of ckpt4j's refusal and, where its message says what to save instead, "hint_file": that
  file, saved.
- "search": checkpoint dicts holding a state_dict under several names, and the keys of the one
  to find (or "error" when none or several).
- "prefixes": DataParallel, torch.compile and both: the files and Python's keys, and what
  consume_prefix_in_state_dict_if_present makes of the DataParallel state_dict's _metadata.
- "load_cases": state_dicts loaded into a fresh Net with load_state_dict(strict=False): Python's
  missing_keys and unexpected_keys, whether strict=True raises, its size mismatches, and the
  state_dict after the load ("after"), to compare the loaded keys with.
- "assign": requires_grad of each entry after load_state_dict(sd, assign=True).
- "cast": Net.half() / Net.to(torch.bfloat16) state_dicts.

The model classes live in this file on purpose: torch.save(model) of a class defined in the
script pickles GLOBAL '__main__ Net', the case users hit.
"""

import copy
import json
import os
import sys
import warnings
from collections import OrderedDict

import torch
import torch.nn as nn
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present

SEED = 20240613
MANIFEST = "manifest.json"


class Block(nn.Module):
    """Own parameter and buffers (persistent, non-persistent, None) before its children."""

    def __init__(self, cin, cout):
        super().__init__()
        self.gain = nn.Parameter(torch.randn(cout))
        self.register_buffer("scale", torch.randn(cout))
        self.register_buffer("cache", torch.randn(2), persistent=False)
        self.register_parameter("unused", None)
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)


class Net(nn.Module):
    """A root buffer first, a Sequential of Blocks and a ReLU, a Linear, a None child."""

    def __init__(self):
        super().__init__()
        self.register_buffer("step", torch.tensor(7))
        self.register_buffer("absent", None)
        self.features = nn.Sequential(Block(3, 4), nn.ReLU(), Block(4, 4))
        self.head = nn.Linear(4, 3)
        self.add_module("skip", None)


class Tied(nn.Module):
    """A weight tied between two modules and one module registered under two names."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(5, 4)
        self.out = nn.Linear(4, 5, bias=False)
        self.out.weight = self.emb.weight
        self.norm = nn.LayerNorm(4)
        self.again = self.norm


class Zoo(nn.Module):
    """Layers whose pickled state is more than plain _parameters (RNNs, attention, norms)."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 3, num_layers=2, bidirectional=True)
        self.gru = nn.GRU(3, 2)
        self.attention = nn.MultiheadAttention(4, 2)
        self.encoder = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8)
        self.instance_norm = nn.InstanceNorm1d(3, affine=True, track_running_stats=True)
        self.group_norm = nn.GroupNorm(1, 3)
        self.prelu = nn.PReLU()
        self.deconv = nn.ConvTranspose1d(3, 2, 3)
        self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Identity()])
        self.table = nn.ModuleDict({"b": nn.Linear(1, 1), "a": nn.Bilinear(2, 2, 1)})
        self.extra = nn.ParameterList([nn.Parameter(torch.ones(1))])
        self.named = nn.ParameterDict({"z": nn.Parameter(torch.zeros(2))})


def make_net():
    net = Net()
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.normal_()
                module.bias.normal_()
                module.running_mean.normal_()
                module.running_var.uniform_(0.5, 2.0)
                module.num_batches_tracked.fill_(3)
    return net.eval()


def metadata_pairs(sd):
    return [[prefix, entry["version"]] for prefix, entry in getattr(sd, "_metadata", {}).items()]


def same_memory(sd):
    """[key, earlier key] for each entry whose memory an earlier entry already holds."""
    first = {}
    pairs = []
    for key, value in sd.items():
        where = (value.untyped_storage().data_ptr(), value.storage_offset())
        if where in first:
            pairs.append([key, first[where]])
        else:
            first[where] = key
    return pairs


def describe(sd):
    return {
        "keys": list(sd.keys()),
        "same_memory": same_memory(sd),
        "shapes": {k: list(v.shape) for k, v in sd.items()},
        "dtypes": {k: str(v.dtype).replace("torch.", "") for k, v in sd.items()},
        "metadata": metadata_pairs(sd),
    }


def save(obj, outdir, name, **kwargs):
    torch.save(obj, os.path.join(outdir, name), **kwargs)
    return name


# Module attributes torch added after 1.4; a module pickled by torch 1.4 has none of them.
NEWER_MODULE_ATTRIBUTES = ("_non_persistent_buffers_set", "_forward_hooks_with_kwargs",
                           "_forward_hooks_always_called", "_forward_pre_hooks_with_kwargs",
                           "_backward_pre_hooks", "_is_full_backward_hook", "_state_dict_pre_hooks",
                           "_load_state_dict_post_hooks")


def torch14_style(model):
    """A copy of model whose pickle looks like torch 1.4's: OrderedDicts, no newer attributes."""
    old = copy.deepcopy(model)
    for module in old.modules():
        for name in ("_parameters", "_buffers", "_modules"):
            module.__dict__[name] = OrderedDict(module.__dict__[name])
        for name in NEWER_MODULE_ATTRIBUTES:
            module.__dict__.pop(name, None)
    return old


def whole_cases(outdir, net):
    cases = []

    def add(file, model_sd, description):
        expected = save(model_sd, outdir, file.replace(".pt", ".expected_state_dict.pt"))
        cases.append(dict(describe(model_sd), file=file, expected_file=expected,
                          description=description))

    add(save(net, outdir, "whole_net.pt"), net.state_dict(), "torch.save(model), __main__ class")
    dp = nn.DataParallel(net)
    add(save(dp, outdir, "whole_data_parallel.pt"), dp.state_dict(),
        "torch.save(nn.DataParallel(model)): module. keys")
    add(save(net, outdir, "whole_net_legacy.pt", _use_new_zipfile_serialization=False),
        net.state_dict(), "legacy format")
    old_file = save(torch14_style(net), outdir, "whole_net_torch14_style.pt",
                    _use_new_zipfile_serialization=False)
    # Module.__setstate__ fills in what torch 1.4 lacked: Python's answer is the reloaded model's.
    reloaded = torch.load(os.path.join(outdir, old_file), weights_only=False)
    add(old_file, reloaded.state_dict(), "pickled as torch 1.4 did (legacy format, OrderedDicts,"
        " no _non_persistent_buffers_set)")
    add(save({"model": net, "epoch": 3}, outdir, "whole_in_checkpoint.pt"), net.state_dict(),
        "a whole model inside a checkpoint dict")
    zoo = Zoo()
    add(save(zoo, outdir, "whole_zoo.pt"), zoo.state_dict(),
        "LSTM, GRU, attention, transformer, norms, containers")
    tied = Tied()
    add(save(tied, outdir, "whole_tied.pt"), tied.state_dict(),
        "tied weight and a module under two names: both names kept, as state_dict() does")
    return cases


def refused_whole_cases(outdir):
    """Whole modules whose state_dict Python cannot give or gives with code of their own."""
    cases = []
    loop = nn.Linear(2, 2)
    loop._modules["loop"] = loop
    try:
        loop.state_dict()
        raise AssertionError("a module that contains itself has a state_dict")
    except RecursionError as e:
        # ckpt4j's unpickler already refuses the cycle
        cases.append({"file": save(loop, outdir, "whole_cycle.pt"),
                      "python_error": type(e).__name__, "kind": "UNSUPPORTED_VALUE"})
    for file, broken in (("whole_parameters_not_a_dict.pt", [1, 2]),
                         ("whole_parameter_not_a_tensor.pt", {"weight": 5})):
        module = nn.Linear(2, 2)
        module._parameters = broken
        try:
            module.state_dict()
            raise AssertionError(file + ": Python gave a state_dict")
        except (AttributeError, TypeError) as e:
            # "save model.state_dict() where the model works": a Linear(2, 2) not broken.
            cases.append({"file": save(module, outdir, file), "python_error": type(e).__name__,
                          "kind": "INVALID_VALUE",
                          "hint_file": save(nn.Linear(2, 2).state_dict(), outdir,
                                            "hint_" + file)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantized = torch.ao.nn.quantized.Linear(2, 2)
    # Its packed parameters are quantized tensors, which ckpt4j's reader refuses first.
    cases.append({"file": save(quantized, outdir, "whole_quantized.pt"),
                  "python_keys": list(quantized.state_dict().keys()),
                  "python_error": None, "kind": "UNSUPPORTED_FORMAT"})
    # A quantized module of plain tensors: "save model.state_dict() in Python instead".
    quantize = torch.ao.nn.quantized.Quantize(0.1, 0, torch.quint8)
    cases.append({"file": save(quantize, outdir, "whole_quantize.pt"),
                  "python_keys": list(quantize.state_dict().keys()),
                  "python_error": None, "kind": "UNSUPPORTED_FORMAT",
                  "hint_file": save(quantize.state_dict(), outdir, "hint_whole_quantize.pt")})
    return cases


def search_cases(outdir, sd, optimizer_sd):
    other = OrderedDict((k, v.clone()) for k, v in list(sd.items())[:2])
    keys = list(sd.keys())
    cases = [
        ("ckpt_model_state_dict.pt", {"epoch": 5, "model_state_dict": sd,
                                      "optimizer_state_dict": optimizer_sd, "loss": 0.25}, keys),
        ("ckpt_state_dict.pt", {"state_dict": sd, "hyper_parameters": {"lr": 0.1},
                                "global_step": 10}, keys),
        ("ckpt_model.pt", {"args": {"arch": "net"}, "model": sd}, keys),
        ("ckpt_net.pt", {"net": sd, "acc": 0.9}, keys),
        ("ckpt_known_before_unknown.pt", {"ema": other, "model": sd}, keys),
        ("ckpt_custom_name.pt", {"my_weights": sd, "epoch": 1}, keys),
        ("ckpt_nested.pt", {"checkpoint": {"model": sd, "step": 4}, "meta": "x"}, keys),
        ("ckpt_ambiguous.pt", {"generator": sd, "discriminator": other}, None),
        ("ckpt_none.pt", {"epoch": 1, "lr": 0.1, "optimizer": optimizer_sd}, None),
    ]
    out = []
    for file, obj, expected_keys in cases:
        save(obj, outdir, file)
        out.append({"file": file, "keys": expected_keys, "error": expected_keys is None})
    return out


def prefix_cases(outdir, net):
    dp_sd = nn.DataParallel(net).state_dict()
    save(dp_sd, outdir, "data_parallel_state_dict.pt")
    stripped = copy.copy(dp_sd)
    stripped._metadata = copy.deepcopy(dp_sd._metadata)
    consume_prefix_in_state_dict_if_present(stripped, "module.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = torch.compile(net)
    compiled_sd = compiled.state_dict()
    save(compiled_sd, outdir, "compiled_state_dict.pt")
    both_sd = nn.DataParallel(compiled).state_dict()
    save(both_sd, outdir, "data_parallel_compiled_state_dict.pt")
    return {
        "plain_keys": list(net.state_dict().keys()),
        "data_parallel": dict(describe(dp_sd), file="data_parallel_state_dict.pt",
                              stripped_keys=list(stripped.keys()),
                              stripped_metadata=metadata_pairs(stripped)),
        "compiled": dict(describe(compiled_sd), file="compiled_state_dict.pt"),
        "data_parallel_compiled": dict(describe(both_sd),
                                       file="data_parallel_compiled_state_dict.pt"),
    }


def shape_mismatches(message):
    """The keys of 'size mismatch for KEY: ...' lines of a load_state_dict error."""
    found = []
    for line in message.splitlines():
        line = line.strip()
        if line.startswith("size mismatch for "):
            found.append(line[len("size mismatch for "):].split(":", 1)[0])
    return found


def load_case(outdir, name, sd, description):
    file = save(sd, outdir, "load_" + name + ".pt")
    torch.manual_seed(SEED + 1)
    strict_error = None
    try:
        make_net().load_state_dict(sd, strict=True)
    except RuntimeError as e:
        strict_error = str(e)
    target = make_net()
    case = {"name": name, "file": file, "description": description,
            "strict_raises": strict_error is not None,
            "size_mismatch": shape_mismatches(strict_error or "")}
    try:
        result = target.load_state_dict(sd, strict=False)
        case["missing_keys"] = list(result.missing_keys)
        case["unexpected_keys"] = list(result.unexpected_keys)
        case["after"] = save(target.state_dict(), outdir, "load_" + name + ".after.pt")
    except RuntimeError as e:
        case["non_strict_raises"] = True
        case["size_mismatch_non_strict"] = shape_mismatches(str(e))
    return case


def load_cases(outdir, net):
    sd = net.state_dict()
    cases = [load_case(outdir, "exact", sd, "Net's own state_dict")]

    broken = OrderedDict((k, v) for k, v in sd.items()
                         if k not in ("head.bias", "features.0.bn.running_mean", "step"))
    broken._metadata = sd._metadata
    for key, shape in (("extra", [2]), ("features.0.bogus", [1]), ("head.foo.bar", [1]),
                       ("features.9.weight", [2]), ("zzz.weight", [3]),
                       ("features.2.conv.weight.x", [1]), ("features.1.weight", [1])):
        broken[key] = torch.zeros(shape)
    cases.append(load_case(outdir, "missing_and_unexpected", broken,
                           "keys removed, unknown keys at every level"))

    cases.append(load_case(outdir, "data_parallel_into_plain",
                           nn.DataParallel(net).state_dict(), "module. keys into a plain Net"))

    old = OrderedDict((k, v) for k, v in sd.items() if not k.endswith("num_batches_tracked"))
    cases.append(load_case(outdir, "old_batchnorm_no_metadata", old,
                           "no num_batches_tracked, no _metadata (torch < 0.4.1 files)"))

    old_v1 = OrderedDict(old)
    old_v1._metadata = OrderedDict((k, dict(v, version=1) if k.endswith("bn") else dict(v))
                                   for k, v in sd._metadata.items())
    cases.append(load_case(outdir, "old_batchnorm_version_1", old_v1,
                           "no num_batches_tracked, BatchNorm _metadata version 1"))

    v2 = OrderedDict(old)
    v2._metadata = sd._metadata
    cases.append(load_case(outdir, "batchnorm_version_2_missing_count", v2,
                           "no num_batches_tracked with version 2 metadata: missing"))

    extra = OrderedDict(sd)
    extra._metadata = sd._metadata
    extra["head._extra_state"] = torch.zeros(1)
    cases.append(load_case(outdir, "extra_state", extra, "_extra_state for a module without"))

    mismatch = OrderedDict(sd)
    mismatch._metadata = sd._metadata
    mismatch["head.weight"] = torch.zeros(3, 5)
    mismatch["features.0.gain"] = torch.zeros(2)
    del mismatch["head.bias"]
    cases.append(load_case(outdir, "size_mismatch", mismatch, "shapes differ (and a key missing)"))

    zero_dim = OrderedDict(sd)
    zero_dim._metadata = sd._metadata
    zero_dim["step"] = torch.tensor([11])
    cases.append(load_case(outdir, "one_element_into_zero_dim", zero_dim,
                           "a 1-element 1-d tensor loads into a 0-d buffer (torch 0.3 files)"))

    other_dtype = OrderedDict((k, v.double() if v.is_floating_point() else v)
                              for k, v in sd.items())
    other_dtype._metadata = sd._metadata
    cases.append(load_case(outdir, "float64_into_float32", other_dtype,
                           "copy_ converts to the module's dtype"))
    return cases


def assign_case(outdir, net):
    sd = OrderedDict((k, v.clone()) for k, v in net.state_dict().items())
    sd._metadata = net.state_dict()._metadata
    file = save(sd, outdir, "assign_state_dict.pt")
    target = make_net()
    target.load_state_dict(sd, assign=True)
    params = dict(target.named_parameters())
    after = target.state_dict(keep_vars=True)
    return {"file": file,
            "requires_grad": {k: bool(v.requires_grad) for k, v in after.items()},
            "is_parameter": {k: k in params for k in after},
            "shares_memory": {k: after[k].data_ptr() == sd[k].data_ptr() for k in after}}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_statedicts.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(SEED)
    net = make_net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net.head(torch.randn(2, 4)).sum().backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    save(net.state_dict(), outdir, "net_state_dict.pt")
    manifest = {
        "torch_version": torch.__version__,
        "net": dict(describe(net.state_dict()), file="net_state_dict.pt"),
        "whole": whole_cases(outdir, net),
        "whole_refused": refused_whole_cases(outdir),
        "search": search_cases(outdir, net.state_dict(), optimizer.state_dict()),
        "prefixes": prefix_cases(outdir, net),
        "load_cases": load_cases(outdir, net),
        "assign": assign_case(outdir, net),
        "cast": {"float16": save(copy.deepcopy(net).half().state_dict(), outdir, "net_half.pt"),
                 "bfloat16": save(copy.deepcopy(net).to(torch.bfloat16).state_dict(), outdir,
                                  "net_bfloat16.pt")},
    }
    with open(os.path.join(outdir, MANIFEST), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
