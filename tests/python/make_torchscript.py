#!/usr/bin/env python3
"""TorchScript fixtures for io.ckpt4j.libtorch, written with the torch of the build, and the
check of what Java saves back.

    python3 tests/python/make_torchscript.py OUTDIR
    python3 tests/python/make_torchscript.py --check OUTDIR JAVADIR

Write mode: for each case NAME (torchscript_cases.py) OUTDIR holds
  NAME.pt                        torch.jit.save of a scripted or traced model (eval mode)
  NAME.io.safetensors            the tensors of its inputs and outputs
  NAME.state_dict.safetensors    scripted.state_dict() of the archive as torch.jit.load reads it
and OUTDIR/manifest.json lists the cases: method, inputs and output as trees
(torchscript_values.py), atol, the state_dict names in order, and for convnet_scripted one
training-mode forward (output and state_dict after it: BatchNorm's running statistics move).
The modern tch-rs archives of tests/fixtures/real-world are copied to OUTDIR/realworld/ with
inputs and outputs computed here; the 2019 model.json archives are listed with what
torch.jit.load says about them.

Check mode: JAVADIR/java.json, written by the Java tests, lists
  "saved":    [{"case": NAME, "file": F}]   models ScriptModel.save wrote: Python loads each with
              torch.jit.load and must get the case's outputs (bit-exact: same weights, same
              kernels) and its state_dict (names, order, values bit-exact), in eval mode;
  "archives": [{"file": F, "expected": S, "names": [...]}]   LibTorch C++ module archives
              (OutputArchive): torch.jit.load(F).state_dict() must have exactly those names in
              that order and the tensors of the safetensors file S, bit-exact.
  "weights":  [{"case": NAME, "file": F}]   the archive's weights that ckpt4j convert (and
              TorchScript.stateDict) wrote: torch.load(F, weights_only=True) must give
              torch.jit.load(NAME.pt).state_dict() — names, order, dtypes, shapes, values
              bit-exact (torch.equal), nothing else.
Exit status 1 and one line per failure when anything differs.
"""

import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import safetensors.torch  # noqa: E402
import torch  # noqa: E402

import torchscript_cases as cases  # noqa: E402
import torchscript_values as values  # noqa: E402

MANIFEST = "manifest.json"
JAVA_MANIFEST = "java.json"
REALWORLD = "realworld"


def _first_line(error):
    for line in str(error).splitlines():
        if line.strip():
            return line.strip()
    return type(error).__name__


def _state_dict_entry(module, path):
    state = module.state_dict()
    safetensors.torch.save_file({k: v.detach().clone().contiguous() for k, v in state.items()},
                                path)
    return {"file": os.path.basename(path), "names": list(state)}


def _describe(module, method, inputs, store, object_class=None):
    """Runs method on inputs; returns the input and output trees."""
    input_trees = [values.encode(v, store, "in") for v in inputs]
    output = cases.run(module, method, inputs, object_class)
    return input_trees, values.encode(output, store, "out")


def _methods(module):
    """The names of the archive's methods on the root module, sorted."""
    return sorted(module._c._method_names())


def write_generated(case, outdir):
    torch.manual_seed(cases.SEED)
    scripted = case.make()
    path = os.path.join(outdir, case.name + ".pt")
    torch.jit.save(scripted, path)
    loaded = torch.jit.load(path)  # what Java reads: the archive, not the in-memory module
    assert not loaded.training, path
    inputs = case.inputs()
    store = values.TensorStore()
    input_trees, output_tree = _describe(loaded, case.method, inputs, store)
    entry = {
        "name": case.name, "file": os.path.basename(path), "source": "generated",
        "description": case.description, "method": case.method, "methods": _methods(loaded),
        "inputs": input_trees, "output": output_tree, "atol": case.atol,
        "training": loaded.training, "io": case.name + ".io.safetensors",
        "state_dict": _state_dict_entry(loaded, os.path.join(outdir,
                                                             case.name + ".state_dict.safetensors")),
    }
    if case.train_step:
        train = torch.jit.load(path).train()
        train_store = values.TensorStore()
        output = getattr(train, case.method)(*inputs)
        entry["train_step"] = {
            "output": values.encode(output, train_store, "out"),
            "io": case.name + ".train.io.safetensors",
            "state_dict": _state_dict_entry(
                train, os.path.join(outdir, case.name + ".train.state_dict.safetensors")),
        }
        safetensors.torch.save_file(train_store.tensors,
                                    os.path.join(outdir, entry["train_step"]["io"]))
    safetensors.torch.save_file(store.tensors, os.path.join(outdir, entry["io"]))
    return entry


def write_realworld(case, outdir):
    torch.manual_seed(cases.SEED)
    os.makedirs(os.path.join(outdir, REALWORLD), exist_ok=True)
    relative = "%s/%s" % (REALWORLD, case.fixture)
    path = os.path.join(outdir, relative)
    shutil.copyfile(cases.fixture_path(case.fixture), path)
    module = torch.jit.load(path)
    inputs = case.inputs()
    store = values.TensorStore()
    input_trees, output_tree = _describe(module, case.method, inputs, store, case.object_class)
    stem = relative
    entry = {
        "name": case.fixture, "file": relative, "source": "real-world",
        "description": case.description, "method": case.method, "methods": _methods(module),
        "inputs": input_trees, "output": output_tree, "atol": 0.0,
        "training": module.training, "io": stem + ".io.safetensors",
        "state_dict": _state_dict_entry(module, os.path.join(outdir,
                                                             stem + ".state_dict.safetensors")),
    }
    entry["state_dict"]["file"] = stem + ".state_dict.safetensors"
    safetensors.torch.save_file(store.tensors, os.path.join(outdir, entry["io"]))
    return entry


def write_old_format(name, kind, outdir):
    os.makedirs(os.path.join(outdir, REALWORLD), exist_ok=True)
    relative = "%s/%s" % (REALWORLD, name)
    path = os.path.join(outdir, relative)
    shutil.copyfile(cases.fixture_path(name), path)
    try:
        torch.jit.load(path)
    except Exception as e:  # noqa: BLE001 - we record whatever torch says
        error = "%s: %s" % (type(e).__name__, _first_line(e))
    else:
        raise AssertionError("%s: torch.jit.load was expected to fail (model.json format)" % path)
    return {"name": name, "file": relative, "kind": kind, "jit_load_error": error}


def write_not_torchscript(outdir):
    """torch.save checkpoints (data, not code), which the TorchScript loader must refuse."""
    torch.manual_seed(cases.SEED)
    state = cases.TwoHeads().state_dict()
    torch.save(state, os.path.join(outdir, "plain_state_dict.pt"))
    torch.save(state, os.path.join(outdir, "plain_state_dict_legacy.pt"),
               _use_new_zipfile_serialization=False)
    return [{"file": "plain_state_dict.pt", "format": "zip"},
            {"file": "plain_state_dict_legacy.pt", "format": "legacy"}]


def write_all(outdir):
    os.makedirs(outdir, exist_ok=True)
    manifest = {
        "generator": "tests/python/make_torchscript.py",
        "torch_version": torch.__version__,
        "cases": [write_generated(c, outdir) for c in cases.generated_cases()]
        + [write_realworld(c, outdir) for c in cases.realworld_cases()],
        "old_format": [write_old_format(n, k, outdir) for n, k in cases.OLD_FORMAT_FIXTURES],
        "not_torchscript": write_not_torchscript(outdir),
    }
    with open(os.path.join(outdir, MANIFEST), "w") as f:
        json.dump(manifest, f, indent=1)
    print("make_torchscript: %d cases, %d old-format archives in %s"
          % (len(manifest["cases"]), len(manifest["old_format"]), outdir))


# --- check mode ---------------------------------------------------------------------------

def _load_tensors(path):
    return safetensors.torch.load_file(path)


def _check_state_dict(module, names, tensors, where):
    state = module.state_dict()
    assert list(state) == names, "%s: state_dict names %s != %s" % (where, list(state), names)
    for name in names:
        values.compare(tensors[name], state[name].detach(), 0.0, "%s: %s" % (where, name))


def check_saved(case, outdir, file):
    module = torch.jit.load(file)
    where = "%s (saved by Java from %s)" % (file, case["name"])
    assert module.training == case["training"], "%s: training is %s" % (where, module.training)
    tensors = _load_tensors(os.path.join(outdir, case["io"]))
    inputs = [values.decode(t, tensors) for t in case["inputs"]]
    expected = values.decode(case["output"], tensors)
    object_class = expected.class_name if isinstance(expected, values.ObjectValue) else None
    actual = cases.run(module, case["method"], inputs, object_class)
    values.compare(expected, actual, 0.0, where + ": output")
    state = case["state_dict"]
    _check_state_dict(module, state["names"], _load_tensors(os.path.join(outdir, state["file"])),
                      where)


def check_archive(javadir, archive):
    file = os.path.join(javadir, archive["file"])
    module = torch.jit.load(file)
    _check_state_dict(module, archive["names"],
                      _load_tensors(os.path.join(javadir, archive["expected"])),
                      "%s (LibTorch archive written by Java)" % file)


def check_weights(case, outdir, file):
    state = torch.load(file, weights_only=True)
    expected = torch.jit.load(os.path.join(outdir, case["file"])).state_dict()
    where = "%s (weights of %s written by Java)" % (file, case["name"])
    assert list(state) == list(expected), "%s: names %s != %s" % (where, list(state),
                                                                   list(expected))
    for name, want in expected.items():
        got = state[name]
        assert isinstance(got, torch.Tensor), "%s: %s is a %s" % (where, name, type(got))
        assert got.dtype == want.dtype and got.shape == want.shape, \
            "%s: %s is %s%s, not %s%s" % (where, name, got.dtype, list(got.shape), want.dtype,
                                          list(want.shape))
        assert torch.equal(got, want.detach()), "%s: %s differs" % (where, name)


def check_all(outdir, javadir):
    with open(os.path.join(outdir, MANIFEST)) as f:
        by_name = {c["name"]: c for c in json.load(f)["cases"]}
    with open(os.path.join(javadir, JAVA_MANIFEST)) as f:
        written = json.load(f)
    failures = []
    checked = 0
    for saved in written.get("saved", []):
        try:
            check_saved(by_name[saved["case"]], outdir, os.path.join(javadir, saved["file"]))
            checked += 1
        except Exception as e:  # noqa: BLE001 - every failure is reported, one line each
            failures.append("%s: %s" % (saved["file"], _first_line(e)))
    for archive in written.get("archives", []):
        try:
            check_archive(javadir, archive)
            checked += 1
        except Exception as e:  # noqa: BLE001
            failures.append("%s: %s" % (archive["file"], _first_line(e)))
    for weights in written.get("weights", []):
        try:
            check_weights(by_name[weights["case"]], outdir,
                          os.path.join(javadir, weights["file"]))
            checked += 1
        except Exception as e:  # noqa: BLE001
            failures.append("%s: %s" % (weights["file"], _first_line(e)))
    for line in failures:
        print("FAIL " + line)
    print("make_torchscript --check: %d ok, %d failed" % (checked, len(failures)))
    return 1 if failures or checked == 0 else 0


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="check what Java wrote in JAVADIR against OUTDIR's cases")
    parser.add_argument("outdir")
    parser.add_argument("javadir", nargs="?")
    args = parser.parse_args(argv)
    if args.check:
        if not args.javadir:
            parser.error("--check needs OUTDIR and JAVADIR")
        return check_all(args.outdir, args.javadir)
    write_all(args.outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
