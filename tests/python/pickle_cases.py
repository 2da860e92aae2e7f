#!/usr/bin/env python3
"""Pickle fixtures for ckpt4j's restricted unpickler, and a checker for what its writer writes.

    python3 pickle_cases.py OUTDIR        write OUTDIR/*.pkl and OUTDIR/cases.json
    python3 pickle_cases.py check DIR     load DIR/*.pkl written by Java, compare to DIR/*.json

Every expected value comes from Python itself: each pickle is loaded back with Python's own
pickle module (an Unpickler whose find_class and persistent_load mirror the Java test's options)
and the loaded object is rendered in a tagged JSON form that Java compares exactly:

    {"t": "none"}                    {"t": "bool", "v": true}
    {"t": "int", "v": "-123"}        {"t": "float", "v": "<IEEE-754 bits, 16 hex digits>"}
    {"t": "str", "v": "<UTF-16-BE code units, hex>"}          {"t": "bytes", "v": "<hex>"}
    {"t": "tuple", "v": [...]}       {"t": "set", "v": [...]}     (sets compare unordered)
    {"t": "list", "id": N, "v": [...]}        {"t": "dict", "id": N, "v": [[k, v], ...]}
    {"t": "odict", "id": N, "v": [[k, v], ...], "attrs": [[name, v], ...]}
    {"t": "object", "id": N, "class": "mod.Name", "args": ..., "kwargs": [...], "state": ...,
     "list": [...], "dict": [[k, v], ...]}    (an inert object; real ones have class and state)
    {"t": "global", "v": "mod.name"}  {"t": "persid", "v": <pid>}   {"t": "ref", "id": N}

Mutable containers get ids in depth-first order; a later occurrence of the same object is a ref,
so sharing and cycles are checked by identity.

A case in cases.json: {"name", "file", "resolver": "builtins" | "refuse", "inert": [names],
"persistent": bool, "allowCycles": bool, "py2": "latin-1" | "utf-8", then "expect": <rendering>
or "error": <substring of the Java message> and "kind": <its CheckpointException.Kind>}.
"""

import argparse
import collections
import io
import json
import os
import pickle
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pickle_cases_load import CaseUnpickler, PlainUnpickler, render  # noqa: E402
from pickle_cases_table import (  # noqa: E402
    PROTOCOLS, Point, Scaled, data_values, hand_built, malformed, refused, stricter)


# Why ckpt4j refuses each committed hostile pickle (CheckpointException.Kind), for those Python's
# restricted unpickler refuses otherwise than by naming an unsupported global.
HOSTILE_KINDS = {
    "picklescan__tests_data_not_a_pickle.bin": "MALFORMED_PICKLE",
}


def generate(outdir):
    warnings.simplefilter("ignore", DeprecationWarning)  # Python warns on \\400 and \\q escapes
    os.makedirs(outdir, exist_ok=True)
    manifest = []

    def add(name, data, resolver="builtins", inert=(), persistent=False, allow_cycles=False,
            py2="latin-1", error=None, kind=None, java_policy=False):
        # java_policy: Python loads the case, but ckpt4j refuses it by design (cycles).
        assert (error is None) == (kind is None), name
        file = name + ".pkl"
        with open(os.path.join(outdir, file), "wb") as f:
            f.write(data)
        case = {"name": name, "file": file, "resolver": resolver, "inert": list(inert),
                "persistent": persistent, "allowCycles": allow_cycles, "py2": py2}
        try:
            loaded = CaseUnpickler(data, resolver, inert, persistent, py2).load()
        except Exception as e:  # noqa: BLE001 - Python's refusal, of whatever kind
            if error is None:
                raise AssertionError("%s: Python could not load it: %r" % (name, e)) from e
            case["error"] = error
            case["kind"] = kind
            case["pythonError"] = str(e)
        else:
            if error is not None and not java_policy:
                raise AssertionError("%s: Python loaded a case that must be refused" % name)
            if error is None:
                case["expect"] = render(loaded)
            else:
                case["error"] = error
                case["kind"] = kind
        manifest.append(case)

    for name, value in data_values():
        for proto in PROTOCOLS:
            add("%s_p%d" % (name, proto), pickle.dumps(value, protocol=proto))

    ns = argparse.Namespace(lr=0.1, name="run", layers=[1, 2])
    scaled = Scaled(3, scale=2)
    loop = [1]
    loop.append(loop)
    selfdict = {}
    selfdict["self"] = selfdict
    objects = ["argparse.Namespace", "ckpt4j_cases.Point", "ckpt4j_cases.Scaled"]
    for proto in PROTOCOLS:
        add("namespace_p%d" % proto, pickle.dumps(ns, protocol=proto), inert=objects)
        add("point_p%d" % proto, pickle.dumps(Point(1, "two"), protocol=proto), inert=objects)
        add("cycle_list_p%d" % proto, pickle.dumps(loop, protocol=proto),
            allow_cycles=True)
        add("cycle_list_refused_p%d" % proto, pickle.dumps(loop, protocol=proto),
            error="contains itself", kind="UNSUPPORTED_VALUE", java_policy=True)
        add("cycle_dict_p%d" % proto, pickle.dumps(selfdict, protocol=proto), allow_cycles=True)
        add("namespace_refused_p%d" % proto, pickle.dumps(ns, protocol=proto),
            error="unsupported global 'argparse.Namespace'", kind="REFUSED_GLOBAL")
    odict_loop = collections.OrderedDict(a=1)
    odict_loop.me = odict_loop
    add("cycle_odict_attribute", pickle.dumps(odict_loop, protocol=2), allow_cycles=True)
    add("cycle_odict_attribute_refused", pickle.dumps(odict_loop, protocol=2),
        error="contains itself", kind="UNSUPPORTED_VALUE", java_policy=True)
    for proto in (4, 5):
        add("newobj_ex_p%d" % proto, pickle.dumps(scaled, protocol=proto), inert=objects)

    for proto in PROTOCOLS:
        buf = io.BytesIO()
        pickler = pickle.Pickler(buf, protocol=proto)
        storage_pid = "storage0" if proto == 0 else ("storage", "FloatStorage", "0", "cpu", 4)
        pickler.persistent_id = lambda obj, pid=storage_pid: pid if obj == "STORAGE" else None
        pickler.dump({"weight": "STORAGE", "step": 3})
        add("persistent_p%d" % proto, buf.getvalue(), persistent=True)
        add("persistent_refused_p%d" % proto, buf.getvalue(), error="PersistentLoader",
            kind="WRONG_LOADER")

    for name, data, options in hand_built():
        add(name, data, inert=options.get("inert", ()), py2=options.get("py2", "latin-1"))

    # Out-of-band buffers (protocol 5 with a buffer_callback) are refused with "pickle the data
    # in-band"; the same value pickled in-band, as the message says, loads.
    buffered = pickle.PickleBuffer(b"buffer bytes")
    add("buffer_out_of_band_p5", pickle.dumps(buffered, protocol=5, buffer_callback=lambda b: None),
        error="out-of-band buffers (protocol 5 with a buffer_callback) are not supported: pickle"
              " the data in-band", kind="UNSUPPORTED_FORMAT")
    add("buffer_in_band_p5", pickle.dumps(buffered, protocol=5))

    for name, data, error, kind in refused() + malformed():
        add(name, data, error=error, kind=kind)
    for name, data, error, kind in stricter():
        add(name, data, error=error, kind=kind, java_policy=True)

    # A real torch.save state dict (archive/data.pkl), read with its globals inert.
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: skipping the torch state dict case")
    if torch is not None:
        import zipfile
        torch.manual_seed(0)
        layers = []
        for _ in range(60):
            layers += [torch.nn.Conv2d(2, 2, 1), torch.nn.BatchNorm2d(2)]
        buf = io.BytesIO()
        torch.save(torch.nn.Sequential(*layers).state_dict(), buf)
        with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
            data = z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))
        add("torch_state_dict", data, persistent=True,
            inert=["torch._utils._rebuild_tensor_v2", "torch.FloatStorage", "torch.LongStorage"])

    # The committed hostile fixtures: Python's own verdict with the same restricted resolver.
    hostile = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "hostile")
    for file in sorted(os.listdir(hostile)):
        if file.endswith((".pkl", ".bin")):
            with open(os.path.join(hostile, file), "rb") as f:
                data = f.read()
            try:
                CaseUnpickler(data, "builtins", (), False, "latin-1").load()
                add("hostile__" + file, data)
            except pickle.UnpicklingError as e:
                # Our find_class refused a global: Java must refuse the same one.
                if "unsupported global" in str(e):
                    add("hostile__" + file, data, error=str(e), kind="REFUSED_GLOBAL")
                else:
                    add("hostile__" + file, data, error="", kind=HOSTILE_KINDS[file])
            except Exception:  # noqa: BLE001 - malformed: the kind is in HOSTILE_KINDS
                add("hostile__" + file, data, error="", kind=HOSTILE_KINDS[file])

    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("wrote %d pickle cases to %s" % (len(manifest), outdir))


# ---- checking what Java wrote

def check(directory):
    """Loads each DIR/NAME.pkl that Java wrote with the loaders its sidecar DIR/NAME.json names
    ("restricted": this file's CaseUnpickler with the built-ins; "plain": Python's pickle;
    "weightsOnly": torch._weights_only_unpickler) and compares each result's rendering with the
    sidecar's "expect". With "exact", Python's pickle.dumps(protocol=2) of the value must also
    give the very same bytes."""
    try:
        import torch._weights_only_unpickler as weights_only
    except ImportError:
        weights_only = None
        print("torch is not installed: skipping the weights-only checks")
    passed = failed = 0
    names = sorted(f[:-5] for f in os.listdir(directory) if f.endswith(".json"))
    for name in names:
        with open(os.path.join(directory, name + ".json")) as f:
            sidecar = json.load(f)
        with open(os.path.join(directory, name + ".pkl"), "rb") as f:
            data = f.read()
        loaders = {
            "restricted": lambda: CaseUnpickler(data, "builtins", (), True, "latin-1").load(),
            "plain": lambda: PlainUnpickler(io.BytesIO(data)).load(),
        }
        if weights_only is not None:
            loaders["weightsOnly"] = lambda: weights_only.Unpickler(
                io.BytesIO(data), encoding="utf-8").load()
        for loader in sidecar["loaders"]:
            if loader not in loaders:
                continue
            try:
                value = loaders[loader]()
                got = render(value)
                ok = got == sidecar["expect"]
                detail = "" if ok else "\n  got      %s\n  expected %s" % (
                    json.dumps(got)[:2000], json.dumps(sidecar["expect"])[:2000])
                if ok and sidecar.get("exact") and loader == "plain":
                    again = pickle.dumps(value, protocol=2)
                    if again != data:
                        ok = False
                        detail = ": not the bytes Python's pickle.dumps writes\n  java   %s" \
                            "\n  python %s" % (data.hex()[:3000], again.hex()[:3000])
            except Exception as e:  # noqa: BLE001 - report any failure of a case
                ok, detail = False, " raised %r" % e
            if ok:
                passed += 1
            else:
                failed += 1
                print("FAIL %s (%s)%s" % (name, loader, detail))
    print("pickle writer check: %d passed, %d failed" % (passed, failed))
    if passed + failed == 0:
        print("no Java-written pickles found in %s" % directory)
        return 1
    return 1 if failed else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "check":
        return check(argv[2])
    if len(argv) == 3 and argv[1] == "generate":
        generate(argv[2])
        return 0
    if len(argv) == 2 and argv[1] not in ("check", "generate", "-h", "--help"):
        generate(argv[1])
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
