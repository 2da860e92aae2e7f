"""The save/load tutorial's four cases, written by torch 2.13 for the Java tests and the demo.

A small resnet18-shaped model (torchvision's names; tests/python/reference_resnet.py), saved
every way the tutorial shows — weights and whole model, from a plain model and from
nn.DataParallel, and the `model.module.state_dict()` remedy — with an input and its eval-mode
logits; and a TorchScript trace of the same model for `ckpt4j run`.

    python3 tests/python/make_four_cases.py OUTDIR           # write the cases
    python3 tests/python/make_four_cases.py demo OUTDIR    # the small copy `ckpt4j demo` ships
    python3 tests/python/make_four_cases.py check OUTDIR JAVADIR
        # loads what Java saved (JAVADIR/*.pt: state dicts, or `ckpt4j run` outputs holding the
        # logits) the way a Python user would and compares logits;
        # prints "four cases check: N passed, M failed" and exits 1 on a failure

OUTDIR: weights_single.pt, weights_multi.pt (module. keys), weights_multi_module.pt,
whole_single.pt, whole_multi.pt (torch.save of the model objects), bound_method.pt (the
tutorial's typo torch.save(model.state_dict, PATH): a pickled bound method), traced.pt (TorchScript),
input.pt (one tensor), expected.safetensors (input, logits), manifest.json.
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_resnet  # noqa: E402
import reference_resnet  # noqa: E402  (the model class whole-model files name)

ARCH = "resnet18"
WIDTH = 16
NUM_CLASSES = 10
SEED = 4
INPUT_SHAPE = (5, 3, 32, 32)
TOLERANCE = 1e-4


def model(width=WIDTH):
    """make_resnet's trained model (BatchNorm affine randomised, running stats from train-mode
    batches), in eval mode."""
    net, _ = make_resnet.trained_model(ARCH, width, NUM_CLASSES, SEED)
    return net.eval()


def write(outdir, width=WIDTH, input_shape=INPUT_SHAPE, traced=True):
    os.makedirs(outdir, exist_ok=True)
    net = model(width)
    dp = nn.DataParallel(net)  # works without GPUs: it then just calls the module
    x = torch.randn(input_shape, generator=torch.Generator().manual_seed(SEED + 1))
    with torch.no_grad():
        logits = net(x)
        assert torch.equal(dp(x), logits)
    path = lambda name: os.path.join(outdir, name)  # noqa: E731
    torch.save(net.state_dict(), path("weights_single.pt"))
    torch.save(dp.state_dict(), path("weights_multi.pt"))
    torch.save(dp.module.state_dict(), path("weights_multi_module.pt"))
    torch.save(net, path("whole_single.pt"))
    torch.save(dp, path("whole_multi.pt"))
    if traced:
        # The tutorial's typo: the bound method, pickled as getattr(net, 'state_dict').
        torch.save(net.state_dict, path("bound_method.pt"))
        torch.jit.save(torch.jit.trace(net, x), path("traced.pt"))
        torch.save(x, path("input.pt"))
    save_file({"input": x, "logits": logits.contiguous()}, path("expected.safetensors"))
    assert all(k.startswith("module.") for k in torch.load(path("weights_multi.pt")))
    manifest = {
        "arch": ARCH, "width": width, "num_classes": NUM_CLASSES, "tolerance": TOLERANCE,
        "single_keys": list(net.state_dict()), "multi_keys": list(dp.state_dict()),
        "whole_single_global": "reference_resnet.ResNet",
        "whole_multi_global": "torch.nn.parallel.data_parallel.DataParallel",
    }
    with open(path("manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("make_four_cases: wrote %s" % outdir)


def check(outdir, javadir):
    """Each Java-saved file, loaded as the tutorial does in Python, must give Python's logits."""
    expected = load_file(os.path.join(outdir, "expected.safetensors"))
    x, want = expected["input"], expected["logits"]
    passed = failed = 0
    for name in sorted(os.listdir(javadir)):
        if not name.endswith(".pt"):
            continue
        path = os.path.join(javadir, name)
        loaded = torch.load(path)  # weights_only=True, no map_location: Java saves cpu locations
        try:
            if isinstance(loaded, torch.Tensor):  # `ckpt4j run` output: the logits themselves
                got = loaded
            else:
                net = reference_resnet.resnet(ARCH, num_classes=NUM_CLASSES, width=WIDTH).eval()
                # the tutorial: a module.-keyed state dict goes into a DataParallel wrapper
                multi = all(k.startswith("module.") for k in loaded)
                target = nn.DataParallel(net) if multi else net
                target.load_state_dict(loaded)  # strict
                with torch.no_grad():
                    got = target(x)
            diff = (got - want).abs().max().item()
            ok = diff <= TOLERANCE
        except Exception as e:  # noqa: BLE001 - report and count
            print("FAIL %s: %s" % (name, e))
            ok = False
            diff = float("nan")
        print("%s %s (max abs diff %.3g)" % ("ok  " if ok else "FAIL", name, diff))
        passed += ok
        failed += not ok
    print("four cases check: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


#: The copy `ckpt4j demo` ships in its jar (java/src/main/resources/io/ckpt4j/demo/tutorial):
#: the same model at a quarter of the width, a batch of 2, no TorchScript — about 0.5 MB.
DEMO_WIDTH = 4
DEMO_INPUT_SHAPE = (2, 3, 32, 32)

if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 3 and sys.argv[1] == "demo":
        write(sys.argv[2], width=DEMO_WIDTH, input_shape=DEMO_INPUT_SHAPE, traced=False)
        sys.exit(0)
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    write(sys.argv[1])
