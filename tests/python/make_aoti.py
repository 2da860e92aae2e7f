#!/usr/bin/env python3
"""AOTInductor packages compiled by the torch of the build, and what Python's aoti_load_package
computes with them, for io.ckpt4j.aoti's tests.

    python3 tests/python/make_aoti.py OUTDIR

OUTDIR holds
  cnn.pt2        tests/python/aoti_models.py's static CNN (input float32[2, 3, 16, 16]), compiled
                 with aot_inductor.use_runtime_constant_folding=True: its weights can be swapped;
  dynamic.pt2    a CNN with two inputs (images with a dynamic batch, torch.export.Dim, and a
                 static shift) and two outputs, compiled with the default options;
  isa.pt2        cnn.pt2 with its metadata naming a CPU instruction set this machine lacks
                 (left out when this CPU has every candidate);
  <model>_case<i>.pt  {"inputs": [...], "outputs": [...]}: inputs and aoti_load_package's outputs;
  swap.pt, swap.safetensors, swap_module.pt  new weights for cnn.pt2 (the module's state_dict
                 changed; the last with DataParallel's "module." prefix), and swap_case.pt: the
                 package's outputs after load_constants(those weights), checked here against
                 eager PyTorch with them;
  manifest.json  what Python says about each package: metadata, constant FQNs, the inputs'
                 dtypes and sizes (an int, or [min, max] for a dynamic dimension), the output
                 count, the call spec, the cases' files; the swap files and which state_dict keys
                 the package has no constant for.
Compiling takes about 15-60 s a package here, so the packages are kept in OUTDIR-cache/, keyed
by the SHA-256 of aoti_models.py and the torch version, and compiled again only when that changes.
"""
import hashlib
import json
import os
import re
import shutil
import sys
import zipfile

import safetensors.torch
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aoti_models  # noqa: E402
from make_pt2 import read_text  # noqa: E402

CASE_SEED = 7
CASES = {"cnn": [2, 2, 2], "dynamic": [aoti_models.DYNAMIC_MIN, 5, aoti_models.DYNAMIC_MAX]}
# Perturbation of the swapped weights: large enough that old weights give other outputs.
SWAP_SCALE = 0.1
SWAP_TOLERANCE = 1e-5
# Instruction sets the metadata may name, with the /proc/cpuinfo flag each needs.
ISA_FLAGS = {"AMX_TILE": "amx_tile", "AVX512_FP16": "avx512_fp16", "AVX512_BF16": "avx512_bf16"}
METADATA_KEY_ISA = "AOTI_CPU_ISA"


def cache_key():
    with open(aoti_models.__file__, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return "torch %s, aoti_models.py sha256 %s\n" % (torch.__version__, digest)


def compiled(out):
    """{name: (module, path of the package)}, compiling what the cache lacks."""
    cache = out.rstrip("/") + "-cache"
    key = cache_key()
    key_file = os.path.join(cache, "key")
    if read_text(key_file) != key:
        shutil.rmtree(cache, ignore_errors=True)
    os.makedirs(cache, exist_ok=True)
    result = {}
    for name, (make, configs) in aoti_models.MODELS.items():
        module, args, dynamic = make()
        path = os.path.join(cache, name + ".pt2")
        if not os.path.isfile(path):
            ep = torch.export.export(module, args, dynamic_shapes=dynamic)
            partial = os.path.join(cache, name + ".partial.pt2")
            torch._inductor.aoti_compile_and_package(ep, package_path=partial,
                                                     inductor_configs=dict(configs))
            os.replace(partial, path)
        result[name] = (module, args, dynamic, configs, path)
    with open(key_file, "w", encoding="utf-8") as f:
        f.write(key)
    return result


def input_specs(module, args, dynamic):
    """Each input's dtype and sizes, a dynamic dimension as [min, max], as torch.export sees them."""
    ep = torch.export.export(module, args, dynamic_shapes=dynamic)
    ranges = {str(s): [int(vr.lower), int(vr.upper)] for s, vr in ep.range_constraints.items()}
    specs = []
    for node in ep.graph.nodes:
        if node.op != "placeholder" or node.name not in ep.graph_signature.user_inputs:
            continue
        val = node.meta["val"]
        sizes = [int(s) if isinstance(s, int) else ranges[str(s)] for s in val.shape]
        specs.append({"dtype": str(val.dtype)[len("torch."):], "sizes": sizes,
                      "device": val.device.type})
    return specs


def case_inputs(name, batch, generator):
    x = torch.randn(batch, aoti_models.CHANNELS, aoti_models.SIDE, aoti_models.SIDE,
                    generator=generator)
    if name == "dynamic":
        return [x, torch.randn(aoti_models.CLASSES, generator=generator)]
    return [x]


def outputs_of(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def write_cases(out, name, runner):
    generator = torch.Generator().manual_seed(CASE_SEED)
    files = []
    for i, batch in enumerate(CASES[name]):
        inputs = case_inputs(name, batch, generator)
        with torch.no_grad():
            outputs = outputs_of(runner(*inputs))
        file = "%s_case%d.pt" % (name, i)
        torch.save({"inputs": inputs, "outputs": outputs}, os.path.join(out, file))
        files.append(file)
    return files


def describe(out, name, module, args, dynamic, configs, path):
    shutil.copyfile(path, os.path.join(out, name + ".pt2"))
    runner = torch._inductor.aoti_load_package(path)
    call_spec = runner.loader.get_call_spec()
    with torch.no_grad():
        n_outputs = len(outputs_of(runner(*args)))
    return {"file": name + ".pt2",
            "metadata": runner.get_metadata(),
            "constant_fqns": sorted(runner.get_constant_fqns()),
            "inputs": input_specs(module, args, dynamic),
            "outputs": n_outputs,
            "call_spec": list(call_spec),
            "inductor_configs": configs,
            "cases": write_cases(out, name, runner)}


def write_swap(out, module, path):
    """New weights for the static package and the outputs Python computes with them."""
    generator = torch.Generator().manual_seed(CASE_SEED + 1)
    new = {}
    for key, value in module.state_dict().items():
        if value.is_floating_point():
            value = value + SWAP_SCALE * torch.randn(value.shape, generator=generator)
            if key.endswith("running_var"):
                value = value.abs() + SWAP_SCALE
        new[key] = value.clone()
    torch.save(new, os.path.join(out, "swap.pt"))
    safetensors.torch.save_file(new, os.path.join(out, "swap.safetensors"))
    torch.save({"module." + k: v for k, v in new.items()}, os.path.join(out, "swap_module.pt"))

    runner = torch._inductor.aoti_load_package(path)
    fqns = set(runner.get_constant_fqns())
    runner.load_constants({k: v for k, v in new.items() if k in fqns}, check_full_update=True)
    eager = type(module)().eval()
    eager.load_state_dict(new)
    generator = torch.Generator().manual_seed(CASE_SEED + 2)
    inputs = case_inputs("cnn", aoti_models.STATIC_BATCH, generator)
    with torch.no_grad():
        outputs = outputs_of(runner(*inputs))
        expected = outputs_of(eager(*inputs))
        before = outputs_of(module(*inputs))
    for got, want in zip(outputs, expected):
        gap = (got - want).abs().max().item()
        if gap > SWAP_TOLERANCE:
            sys.exit("make_aoti: swapped weights give %g away from eager PyTorch" % gap)
    torch.save({"inputs": inputs, "outputs": outputs}, os.path.join(out, "swap_case.pt"))
    return {"files": ["swap.pt", "swap.safetensors", "swap_module.pt"], "case": "swap_case.pt",
            "unused_keys": sorted(k for k in new if k not in fqns),
            "old_weights_gap": max((a - b).abs().max().item() for a, b in zip(outputs, before))}


def write_isa(out, path):
    """A copy of the package whose metadata names an instruction set this CPU lacks."""
    flags = cpu_flags()
    missing = next((isa for isa, flag in ISA_FLAGS.items() if flag not in flags), None)
    if missing is None:
        return {"skipped": "this CPU has every instruction set of " + ", ".join(ISA_FLAGS)}
    target = os.path.join(out, "isa.pt2")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("_metadata.json"):
                meta = json.loads(data)
                meta[METADATA_KEY_ISA] = (meta.get(METADATA_KEY_ISA, "") + " " + missing).strip()
                data = json.dumps(meta).encode("utf-8")
            dst.writestr(info, data)
    return {"file": "isa.pt2", "missing": missing}


def cpu_flags():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return set()
    found = re.search(r"^flags\s*:(.*)$", text, re.MULTILINE)
    return set(found.group(1).split()) if found else set()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    packages = compiled(out)
    manifest = {"torch_version": torch.__version__, "packages": {}}
    for name, (module, args, dynamic, configs, path) in packages.items():
        manifest["packages"][name] = describe(out, name, module, args, dynamic, configs, path)
    cnn_module, _, _, _, cnn_path = packages["cnn"]
    manifest["swap"] = write_swap(out, cnn_module, cnn_path)
    manifest["isa"] = write_isa(out, cnn_path)
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
