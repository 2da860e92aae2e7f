#!/usr/bin/env python3
"""Writes torchvision-architecture ResNet state dicts and the logits Python computes with them,
for the Java ResNet (io.ckpt4j.models) to load strictly and reproduce.

    python3 tests/python/make_resnet.py OUTDIR

For each case NAME (see CASES):
- NAME.pt              torch.save(model.state_dict()) of reference_resnet's model, initialised
                       as torchvision does with a fixed seed, BatchNorm weight/bias randomised,
                       running stats from a few train-mode batches
- NAME.keys.json       the state_dict keys, in order
- NAME.metadata.json   state_dict()._metadata as rows [module prefix, version, holds_state]
- NAME.io.safetensors  "input" (a fixed 2x3x64x64 batch), "logits" (eval mode); and, after one
                       train-mode forward of "input" from the saved state, "train_logits" and
                       "after_train.KEY" for every BatchNorm buffer KEY
- NAME_data_parallel.pt  torch.save(nn.DataParallel(model).state_dict()) ("module." keys), for
                       the cases marked data_parallel
- index.json           {"generator", "torch_version", "input_shape", "cases": [{"name", "arch",
                       "width", "num_classes", "weights", "keys", "metadata", "io",
                       "data_parallel", "logits_abs_max", "logits_float32_error", "init_std",
                       "data_parallel_incompatible"}]}
  logits_float32_error: max |float32 logits - float64 logits| here (at most MAX_FLOAT32_ERROR: the
  fixture is well-conditioned, so two float32 implementations agree well within 1e-4).
  init_std: for a few conv weights, {"std", "numel", "sample_std"}: the std torchvision's
  initialisation (kaiming_normal_, fan_out, relu) draws from, the element count, and the
  sample std of a fresh model here.
  data_parallel_incompatible: the missing_keys and unexpected_keys Python's
  load_state_dict(strict=False) reports for the DataParallel file in a plain model.

Every file is loaded back here and checked: it holds the model's state_dict (keys in order,
tensors bit for bit, _metadata).
"""

import argparse
import copy
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import safetensors.torch  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import reference_resnet  # noqa: E402

INDEX_FILE = "index.json"
INPUT_SHAPE = (2, 3, 64, 64)  # 64x64 reaches layer4 at 2x2: every stage computes something
TRAIN_BATCHES = 3
TRAIN_BATCH_SHAPE = (4, 3, 64, 64)
DATA_PARALLEL_PREFIX = "module."
BATCH_NORM_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")
INIT_STD_ERRORS = 5
#: how far float32 logits may be from float64 ones (the Java comparison allows 1e-4)
MAX_FLOAT32_ERROR = 1e-5

#: (name, arch, width, num_classes, also saved from nn.DataParallel, seed). resnet18 and resnet50
#: are torchvision's full-size models (both block types at their real shapes); resnet152 adds
#: depth (layer3.0 .. layer3.35), so it is narrowed to keep the files small (15 MB, not 234 MB),
#: which also exercises the width option and a num_classes other than ImageNet's.
CASES = [
    ("resnet18", "resnet18", reference_resnet.FULL_WIDTH, 1000, True, 18),
    ("resnet50", "resnet50", reference_resnet.FULL_WIDTH, 1000, False, 50),
    ("resnet152_w16", "resnet152", 16, 100, False, 152),
]


def trained_model(arch, width, num_classes, seed):
    """A model with torchvision's initialisation, BatchNorm weight/bias randomised (torchvision
    starts them at 1 and 0, which would hide a weight/bias swap) and running statistics
    (running_mean, running_var, num_batches_tracked) from TRAIN_BATCHES train-mode batches;
    and init_std() of its convolutions, which all that leaves as initialised."""
    torch.manual_seed(seed)
    model = reference_resnet.resnet(arch, num_classes=num_classes, width=width)
    initialised = init_std(arch, model)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
        model.train()
        for _ in range(TRAIN_BATCHES):
            model(torch.randn(TRAIN_BATCH_SHAPE))
    model.eval()
    return model, initialised


def init_std(arch, model):
    """For a few conv weights of a freshly initialised model (the stem's, the first block's
    first, the last block's first): the std torchvision's kaiming_normal_(mode="fan_out",
    nonlinearity="relu") draws from, the element count, and the sample std here (within
    INIT_STD_ERRORS standard errors of the std, as a Java model's must be)."""
    last = "layer4.%d.conv1.weight" % (reference_resnet.ARCHS[arch][1][3] - 1)
    state = model.state_dict()
    out = {}
    for key in ("conv1.weight", "layer1.0.conv1.weight", last):
        weight = state[key]
        fan_out = nn.init._calculate_fan_in_and_fan_out(weight)[1]
        std = nn.init.calculate_gain("relu") / math.sqrt(fan_out)
        sample = weight.std().item()
        # the sample std of n normal draws has a standard error of about std / sqrt(2 n)
        assert abs(sample - std) <= INIT_STD_ERRORS * std / math.sqrt(2 * weight.numel()), key
        out[key] = {"std": std, "numel": weight.numel(), "sample_std": sample}
    return out


def module_metadata(model):
    """state_dict()._metadata as [prefix, version, holds_state] rows, in order: holds_state
    tells the modules with parameters or buffers of their own or below from those without any
    (ReLU, MaxPool2d, AdaptiveAvgPool2d), which a model may compute with as functions."""
    metadata = model.state_dict()._metadata
    modules = dict(model.named_modules())
    rows = []
    for prefix, entry in metadata.items():
        module = modules[prefix]
        holds_state = any(True for _ in module.parameters()) or any(True for _ in module.buffers())
        rows.append([prefix, entry["version"], holds_state])
    return rows


def check_saved(path, state_dict):
    """Asserts that torch.load(path) gives `state_dict` back: keys in order, tensors bit for bit,
    the same _metadata; returns what it loaded."""
    loaded = torch.load(path, map_location="cpu")
    assert list(loaded) == list(state_dict), path
    assert all(torch.equal(loaded[k], v) for k, v in state_dict.items()), path
    assert loaded._metadata == state_dict._metadata, path
    return loaded


def write_case(outdir, name, arch, width, num_classes, data_parallel, seed):
    model, initialised = trained_model(arch, width, num_classes, seed)
    keys = reference_resnet.check_names(arch, model)
    torch.manual_seed(seed + 1)
    x = torch.randn(INPUT_SHAPE)
    with torch.no_grad():
        logits = model(x)
        exact = copy.deepcopy(model).double()(x.double())
    # Well-conditioned: float32 rounding moves the logits far less than the 1e-4 that a Java
    # float32 forward may differ by, so the comparison tests the model, not the rounding.
    f32_error = (logits.double() - exact).abs().max().item()
    assert f32_error <= MAX_FLOAT32_ERROR, "%s: float32 logits off by %g" % (name, f32_error)

    train_step = {"train_logits": None}
    trained = copy.deepcopy(model)
    trained.train()
    with torch.no_grad():
        train_step["train_logits"] = trained(x)
    for key, value in trained.state_dict().items():
        if key.rsplit(".", 1)[1] in BATCH_NORM_BUFFERS:
            train_step["after_train." + key] = value.clone()

    weights = name + ".pt"
    torch.save(model.state_dict(), os.path.join(outdir, weights))
    keys_file = name + ".keys.json"
    with open(os.path.join(outdir, keys_file), "w") as f:
        json.dump(keys, f, indent=0)
    metadata_file = name + ".metadata.json"
    with open(os.path.join(outdir, metadata_file), "w") as f:
        f.write("[\n%s\n]\n" % ",\n".join(json.dumps(row) for row in module_metadata(model)))
    io_file = name + ".io.safetensors"
    safetensors.torch.save_file(dict({"input": x, "logits": logits}, **train_step),
                                os.path.join(outdir, io_file))
    entry = {"name": name, "arch": arch, "width": width, "num_classes": num_classes,
             "weights": weights, "keys": keys_file, "metadata": metadata_file, "io": io_file,
             "data_parallel": None,
             "logits_abs_max": logits.abs().max().item(), "logits_float32_error": f32_error,
             "init_std": initialised}
    check_saved(os.path.join(outdir, weights), model.state_dict())

    if data_parallel:
        wrapped = nn.DataParallel(model)
        dp_file = name + "_data_parallel.pt"
        dp_state = wrapped.state_dict()
        assert list(dp_state) == [DATA_PARALLEL_PREFIX + k for k in keys], name
        torch.save(dp_state, os.path.join(outdir, dp_file))
        loaded = check_saved(os.path.join(outdir, dp_file), dp_state)
        entry["data_parallel"] = dp_file
        # What Python's load_state_dict says about the file in an unwrapped model: strict fails,
        # strict=False reports (BatchNorm's num_batches_tracked is not missing: the module
        # versions in _metadata are under "module.", so Python treats each BatchNorm as an old
        # one and keeps its own counter).
        plain = copy.deepcopy(model)
        try:
            plain.load_state_dict(loaded)
            raise AssertionError("%s: strict loading of %s should fail" % (name, dp_file))
        except RuntimeError as e:
            assert "Missing key(s)" in str(e) and "Unexpected key(s)" in str(e), e
        incompatible = plain.load_state_dict(loaded, strict=False)
        entry["data_parallel_incompatible"] = {
            "missing_keys": list(incompatible.missing_keys),
            "unexpected_keys": list(incompatible.unexpected_keys)}
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir")
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    # The forwards are small (64x64 images): one thread does them in well under a second and
    # never spins waiting for a busy core.
    torch.set_num_threads(1)
    start = time.time()
    reference_resnet.self_check()
    cases = [write_case(args.outdir, *case) for case in CASES]
    index = {"generator": "tests/python/make_resnet.py", "torch_version": torch.__version__,
             "input_shape": list(INPUT_SHAPE), "cases": cases}
    with open(os.path.join(args.outdir, INDEX_FILE), "w") as f:
        json.dump(index, f, indent=1)
    print("make_resnet: %d cases in %s (%.1f s)" % (len(cases), args.outdir, time.time() - start))


if __name__ == "__main__":
    main()
