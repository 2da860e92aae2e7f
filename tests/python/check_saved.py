"""Checks checkpoints that ckpt4j (Java) wrote, with real torch 2.13.

    python3 tests/python/check_saved.py MANIFEST.json

The Java tests (tests/java/io/ckpt4j/save) write checkpoints and a manifest naming them, run this
script once, and read its verdicts: stdout is one JSON document {"results": {ID: "ok" | ERROR}}.
Each case is compared with what it must equal:

- "roundtrip": the file Java wrote after loading ORIGINAL (a checkpoint torch wrote; the reader's
  corpus) must give what torch.load(ORIGINAL) gives: the same tree (types, keys in order,
  OrderedDict _metadata), tensors with the same dtype, shape, strides, storage offset,
  requires_grad, Parameter-ness, conj/neg bits, Python attributes, saved location and storage
  bytes (compared as bytes: NaN payloads and -0.0 count), and the same sharing (which paths hold
  one tensor object; which tensors view one storage). Optional "transform" applies ckpt4j
  convert's key changes to the original first; "relocated" says where each storage must now be
  saved: a device for all, or a {saved: now} map.
- "atomic": what an atomic save left at its target after the writer was killed mid-save: one
  complete version (see check_complete_version).
- "sidecar": a tree Java built from LibTorch tensors; SIDECAR.json describes it (tagged values,
  tensor geometry, storage and object ids, locations) and SIDECAR.safetensors holds each storage's
  bytes as a uint8 tensor — written by the Java test from LibTorch, not by the saver.

Every saved file must also have torch.save's zip layout (records, order, 64-byte alignment, stored
entries), a protocol 2 pickle naming only the globals listed in TORCH_GLOBALS (or the case's
safe_globals), load with torch.load(weights_only=True) — without map_location when every storage
is on the cpu, and refusing to load on this CPU-only machine when one is not — and load the same
with mmap=True.

Known loss, documented: torch.Size inside a tree comes back from ckpt4j's reader as a tuple, so it
is saved as a tuple (accepted here where the original had a torch.Size).
"""

import argparse
import collections
import importlib
import json
import math
import os
import pickletools
import struct
import sys
import zipfile

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_expect import LocationRecorder  # noqa: E402

ALIGNMENT = 64
TRAILING_RECORDS = ["version", ".data/serialization_id"]
LEADING_RECORDS = ["data.pkl", ".format_version", ".storage_alignment", "byteorder"]
SMALL_RECORDS = {".format_version": b"1", ".storage_alignment": b"64",
                 "byteorder": sys.byteorder.encode(), "version": b"3\n"}

# What ckpt4j may name in a pickle: torch.load(weights_only=True)'s globals.
TORCH_GLOBALS = {
    "collections OrderedDict", "torch._utils _rebuild_tensor_v2", "torch._utils _rebuild_tensor_v3",
    "torch._utils _rebuild_parameter", "torch._utils _rebuild_parameter_with_state",
    "torch._tensor _rebuild_from_type_v2", "torch Tensor", "torch device",
    "torch.storage UntypedStorage", "__builtin__ complex", "__builtin__ set", "_codecs encode",
}
STORAGE_CLASSES = {"DoubleStorage", "FloatStorage", "HalfStorage", "BFloat16Storage",
                   "ComplexDoubleStorage", "ComplexFloatStorage", "LongStorage", "IntStorage",
                   "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage"}


class Mismatch(AssertionError):
    pass


def fail(path, message):
    raise Mismatch("%s: %s" % (show(path), message))


def show(path):
    return "".join("[%r]" % (k,) for k in path) or "(the root)"


# ------------------------------------------------------------------------------------------------
# The file itself
# ------------------------------------------------------------------------------------------------

def expected_root(saved):
    """The root folder torch.save gives a file of this name in this directory (torch's own rule:
    the name without its extension; "archive" for a non-ASCII path). A name torch refuses
    (".hidden") gets "archive", ckpt4j's documented choice."""
    probe_dir = os.path.join(os.path.dirname(os.path.abspath(saved)), ".torch-root-probe")
    os.makedirs(probe_dir, exist_ok=True)
    probe = os.path.join(probe_dir, os.path.basename(saved))
    try:
        torch.save(None, probe)
    except RuntimeError:
        return "archive"
    with zipfile.ZipFile(probe) as z:
        root = z.namelist()[0].split("/")[0]
    os.remove(probe)
    return root


def check_layout(path, root):
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        names = [i.filename for i in infos]
        storages = [n for n in names if n.startswith(root + "/data/")]
        expected = ([root + "/" + n for n in LEADING_RECORDS]
                    + [root + "/data/%d" % k for k in range(len(storages))]
                    + [root + "/" + n for n in TRAILING_RECORDS])
        if names != expected:
            raise Mismatch("records %s, torch.save writes %s" % (names, expected))
        with open(path, "rb") as f:
            for info in infos:
                if info.compress_type != zipfile.ZIP_STORED:
                    raise Mismatch("record %s is compressed" % info.filename)
                f.seek(info.header_offset + 26)
                name_len, extra_len = struct.unpack("<HH", f.read(4))
                data_at = info.header_offset + 30 + name_len + extra_len
                if data_at % ALIGNMENT:
                    raise Mismatch("record %s data at %d, not %d-aligned"
                                   % (info.filename, data_at, ALIGNMENT))
        for name, content in SMALL_RECORDS.items():
            if z.read(root + "/" + name) != content:
                raise Mismatch("record %s holds %r" % (name, z.read(root + "/" + name)))
        sid = z.read(root + "/.data/serialization_id")
        if len(sid) != 40 or not sid.isdigit():
            raise Mismatch("serialization_id %r is not 40 digits" % sid)
        return z.read(root + "/data.pkl")


def check_pickle(data, safe_globals):
    if data[:2] != b"\x80\x02":
        raise Mismatch("data.pkl is not a protocol 2 pickle")
    for op, arg, _ in pickletools.genops(data):
        if op.name != "GLOBAL":
            continue
        module, name = arg.split(" ", 1)
        if arg in TORCH_GLOBALS or "%s.%s" % (module, name) in safe_globals:
            continue
        if module == "torch" and (name in STORAGE_CLASSES or isinstance(
                getattr(torch, name, None), torch.dtype)):
            continue
        raise Mismatch("data.pkl names global %s.%s, which weights_only does not accept"
                       % (module, name))


# ------------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------------

def resolve_globals(names):
    out = []
    for qualified in names:
        module, name = qualified.rsplit(".", 1)
        out.append(getattr(importlib.import_module(module), name))
    return out


def load(path, weights_only=True, safe_globals=(), mmap=False):
    """torch.load(path) with every storage left on the CPU: (object, LocationRecorder), the
    recorder knowing each storage's saved location."""
    recorder = LocationRecorder()
    with torch.serialization.safe_globals(resolve_globals(safe_globals)):
        obj = torch.load(path, map_location=recorder, weights_only=weights_only, mmap=mmap)
    return obj, recorder


def load_original(case):
    path = case["original"]
    if case.get("original_loader") == "safetensors":
        return dict(load_file(path)), None
    return load(path, weights_only=case.get("original_weights_only", True),
                safe_globals=case.get("safe_globals", []))


# ------------------------------------------------------------------------------------------------
# Comparison of two loaded trees
# ------------------------------------------------------------------------------------------------

def float_bits(x):
    return struct.pack("<d", x)


def storage_u8(untyped):
    return torch.empty(0, dtype=torch.uint8).set_(untyped)


class Walk:
    """Per-side facts gathered while comparing: tensor objects and storages by path."""

    def __init__(self, recorder, relocated=None):
        self.recorder = recorder
        self.relocated = relocated
        self.objects = collections.defaultdict(list)
        self.storages = collections.defaultdict(list)

    def location(self, untyped):
        if self.recorder is None:
            return "cpu"
        return self.recorder.location_of(untyped)

    def note(self, path, t):
        self.objects[id(t)].append(tuple(path))
        if t.untyped_storage().nbytes() > 0:
            self.storages[t.untyped_storage()._cdata].append(tuple(path))

    def groups(self, table):
        return sorted(sorted(g) for g in table.values() if len(g) > 1)


def compare_tensor(a, b, path, wa, wb):
    if type(a) is not type(b):
        fail(path, "%s, expected %s" % (type(b).__name__, type(a).__name__))
    for what in ("dtype", "shape", "requires_grad"):
        if getattr(a, what) != getattr(b, what):
            fail(path, "%s %s, expected %s" % (what, getattr(b, what), getattr(a, what)))
    for what in ("stride", "storage_offset", "is_conj", "is_neg"):
        if getattr(a, what)() != getattr(b, what)():
            fail(path, "%s %s, expected %s" % (what, getattr(b, what)(), getattr(a, what)()))
    sa, sb = a.untyped_storage(), b.untyped_storage()
    if sa.nbytes() != sb.nbytes():
        fail(path, "storage of %d bytes, expected %d" % (sb.nbytes(), sa.nbytes()))
    if not torch.equal(storage_u8(sa), storage_u8(sb)):
        fail(path, "storage bytes differ")
    expected_location = relocate(wb.relocated, wa.location(sa))
    if wb.location(sb) != expected_location:
        fail(path, "saved on %s, expected %s" % (wb.location(sb), expected_location))
    compare(a.__dict__, b.__dict__, list(path) + ["__dict__"], wa, wb)
    wa.note(path, a)
    wb.note(path, b)


def relocate(relocated, location):
    """Where a storage saved at `location` must be saved now: the case's "relocated" is None (as
    it was), a device (every storage there) or a {from: to} map."""
    if relocated is None:
        return location
    if isinstance(relocated, dict):
        return relocated.get(location, location)
    return relocated


def compare(a, b, path, wa, wb, active=None):
    active = set() if active is None else active
    if isinstance(a, torch.Tensor):
        if not isinstance(b, torch.Tensor):
            fail(path, "%s, expected a tensor" % type(b).__name__)
        return compare_tensor(a, b, path, wa, wb)
    if isinstance(a, torch.storage.TypedStorage):
        if not isinstance(b, torch.storage.TypedStorage):
            fail(path, "%s, expected a TypedStorage" % type(b).__name__)
        if a.dtype != b.dtype or a.size() != b.size():
            fail(path, "storage %s[%d], expected %s[%d]" % (b.dtype, b.size(), a.dtype, a.size()))
        if not torch.equal(storage_u8(a.untyped()), storage_u8(b.untyped())):
            fail(path, "storage bytes differ")
        return
    if isinstance(a, torch.Size) and type(b) is tuple:
        a = tuple(a)  # documented: ckpt4j's reader gives torch.Size back as a tuple
    if type(a) is not type(b):
        fail(path, "%s, expected %s" % (type(b).__name__, type(a).__name__))
    key = (id(a), id(b))
    if key in active:
        return  # a recursive container, already being compared
    if isinstance(a, dict):
        if list(a.keys()) != list(b.keys()):
            fail(path, "keys %s, expected %s" % (list(b.keys()), list(a.keys())))
        active.add(key)
        for k in a:
            compare(a[k], b[k], path + [k], wa, wb, active)
        if type(a) is not dict:  # an OrderedDict's attributes, e.g. _metadata
            compare(dict(vars(a)), dict(vars(b)), path + ["__dict__"], wa, wb, active)
        active.discard(key)
    elif isinstance(a, (list, tuple)):
        if len(a) != len(b):
            fail(path, "%d items, expected %d" % (len(b), len(a)))
        active.add(key)
        for i, (x, y) in enumerate(zip(a, b)):
            compare(x, y, path + [i], wa, wb, active)
        active.discard(key)
    elif isinstance(a, (set, frozenset)):
        if a != b:
            fail(path, "%r, expected %r" % (b, a))
    elif isinstance(a, float):
        if float_bits(a) != float_bits(b) and not (math.isnan(a) and math.isnan(b)):
            fail(path, "%r, expected %r" % (b, a))
    elif isinstance(a, complex):
        if float_bits(a.real) + float_bits(a.imag) != float_bits(b.real) + float_bits(b.imag):
            fail(path, "%r, expected %r" % (b, a))
    elif isinstance(a, (bool, int, str, bytes, type(None), torch.device, torch.dtype)):
        if a != b:
            fail(path, "%r, expected %r" % (b, a))
    elif hasattr(a, "__dict__"):
        compare(vars(a), vars(b), path + ["__dict__"], wa, wb, active)
    else:
        fail(path, "cannot compare a %s" % type(a).__name__)


def compare_trees(expected, got, wa, wb):
    compare(expected, got, [], wa, wb)
    for what, table in (("one object", "objects"), ("one storage", "storages")):
        ga, gb = wa.groups(getattr(wa, table)), wb.groups(getattr(wb, table))
        if ga != gb:
            raise Mismatch("paths sharing %s: %s, expected %s" % (what, gb, ga))


# ------------------------------------------------------------------------------------------------
# convert's key changes, as Python does them
# ------------------------------------------------------------------------------------------------

def state_dict_of(obj, at):
    for k in at:
        obj = obj[k]
    return obj


def replace_state_dict(obj, at, new):
    if not at:
        return new
    parent = state_dict_of(obj, at[:-1])
    parent[at[-1]] = new
    return obj


def apply_transform(obj, transform):
    at = transform.get("state_dict", [])
    sd = state_dict_of(obj, at)
    if transform.get("strip_prefix"):
        torch.nn.modules.utils.consume_prefix_in_state_dict_if_present(sd, transform["strip_prefix"])
    prefix = transform.get("add_prefix")
    if prefix:
        obj = replace_state_dict(obj, at, add_prefix(sd, prefix))
    return obj


def add_prefix(sd, prefix):
    """The state dict a wrapper holding the model under `prefix` gives: every key prefixed, and
    `_metadata` as nn.DataParallel(model).state_dict() has it — the wrapper's own entries first
    (nn.Module version 1, one per level of the prefix), then the model's, renamed."""
    new = type(sd)((prefix + k, v) for k, v in sd.items())
    if hasattr(sd, "_metadata"):
        bare = prefix[:-1] if prefix.endswith(".") else prefix
        levels = [""] + [bare[:i] for i, c in enumerate(bare) if c == "."]
        new._metadata = type(sd._metadata)([(level, {"version": 1}) for level in levels] + [
            ((prefix + k) if k else bare, v) for k, v in sd._metadata.items()])
    return new


def _check_add_prefix_is_data_parallel():
    """add_prefix(model.state_dict(), "module.") is nn.DataParallel(model).state_dict()."""
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    mine, theirs = add_prefix(model.state_dict(), "module."), torch.nn.DataParallel(model).state_dict()
    assert list(mine) == list(theirs) and mine._metadata == theirs._metadata, (mine, theirs)


_check_add_prefix_is_data_parallel()


# ------------------------------------------------------------------------------------------------
# Sidecar trees (built in Java)
# ------------------------------------------------------------------------------------------------

def from_tagged(node, storages):
    kind = node["type"]
    if kind in ("dict", "odict"):
        d = collections.OrderedDict() if kind == "odict" else {}
        for k, v in node["items"]:
            d[from_tagged(k, storages)] = from_tagged(v, storages)
        if "metadata" in node:
            d._metadata = from_tagged(node["metadata"], storages)
        return d
    if kind == "list":
        return [from_tagged(v, storages) for v in node["items"]]
    if kind == "tuple":
        return tuple(from_tagged(v, storages) for v in node["items"])
    if kind == "set":
        return {from_tagged(v, storages) for v in node["items"]}
    if kind == "int":
        return int(node["value"])
    if kind == "float":
        return struct.unpack("<d", bytes.fromhex(node["bits"]))[0]
    if kind == "bool":
        return bool(node["value"])
    if kind == "str":
        return node["value"]
    if kind == "none":
        return None
    if kind == "bytes":
        return bytes.fromhex(node["hex"])
    if kind == "device":
        return torch.device(node["value"])
    if kind == "dtype":
        return getattr(torch, node["value"])
    if kind == "complex":
        return complex(struct.unpack("<d", bytes.fromhex(node["re"]))[0],
                       struct.unpack("<d", bytes.fromhex(node["im"]))[0])
    if kind == "tensor":
        return ExpectedTensor(node, storages[node["storage"]])
    raise Mismatch("sidecar type %s unknown" % kind)


class ExpectedTensor:
    """A tensor as the Java sidecar describes it."""

    def __init__(self, node, storage_bytes):
        self.node = node
        self.storage = storage_bytes


def compare_expected(e, b, path, wb, seen):
    if isinstance(e, ExpectedTensor):
        n = e.node
        want_type = torch.nn.Parameter if n["parameter"] else torch.Tensor
        if type(b) is not want_type:
            fail(path, "%s, expected %s" % (type(b).__name__, want_type.__name__))
        got = {"dtype": str(b.dtype)[len("torch."):], "shape": list(b.shape),
               "stride": list(b.stride()), "offset": b.storage_offset(),
               "requires_grad": b.requires_grad, "conj": b.is_conj(), "neg": b.is_neg()}
        for k, v in got.items():
            if n[k] != v:
                fail(path, "%s %s, expected %s" % (k, v, n[k]))
        s = b.untyped_storage()
        if not torch.equal(storage_u8(s), e.storage):
            fail(path, "storage bytes differ (%d vs %d bytes)" % (s.nbytes(), e.storage.numel()))
        if wb.location(s) != n["location"]:
            fail(path, "saved on %s, expected %s" % (wb.location(s), n["location"]))
        seen["objects"].setdefault(n["object"], set()).add(id(b))
        seen["storages"].setdefault(n["storage"], set()).add(s._cdata)
        wb.note(path, b)
        return
    if type(e) is not type(b):
        fail(path, "%s, expected %s" % (type(b).__name__, type(e).__name__))
    if isinstance(e, dict):
        if list(e.keys()) != list(b.keys()):
            fail(path, "keys %s, expected %s" % (list(b.keys()), list(e.keys())))
        for k in e:
            compare_expected(e[k], b[k], path + [k], wb, seen)
        if getattr(e, "__dict__", {}) != getattr(b, "__dict__", {}):
            fail(path, "attributes %s, expected %s" % (b.__dict__, e.__dict__))
    elif isinstance(e, (list, tuple)):
        if len(e) != len(b):
            fail(path, "%d items, expected %d" % (len(b), len(e)))
        for i, (x, y) in enumerate(zip(e, b)):
            compare_expected(x, y, path + [i], wb, seen)
    elif isinstance(e, float):
        if float_bits(e) != float_bits(b):
            fail(path, "%r, expected %r" % (b, e))
    elif isinstance(e, complex):
        if (float_bits(e.real), float_bits(e.imag)) != (float_bits(b.real), float_bits(b.imag)):
            fail(path, "%r, expected %r" % (b, e))
    elif e != b:
        fail(path, "%r, expected %r" % (b, e))


def check_sidecar_tree(case, got, wb):
    spec = json.load(open(case["sidecar"]))
    tensors = load_file(case["sidecar_tensors"]) if spec["storages"] else {}
    storages = {sid: tensors[s["tensor"]] for sid, s in spec["storages"].items()}
    expected = from_tagged(spec["tree"], storages)
    seen = {"objects": {}, "storages": {}}
    compare_expected(expected, got, [], wb, seen)
    # One Java id, one Python object (and storage); two Java ids, two.
    for what in ("objects", "storages"):
        ids = seen[what]
        for jid, pys in ids.items():
            if len(pys) != 1:
                raise Mismatch("Java %s %s came back as %d Python %s" % (what[:-1], jid, len(pys), what))
        flat = [next(iter(p)) for p in ids.values()]
        if len(set(flat)) != len(flat):
            raise Mismatch("distinct Java %s came back as one Python %s" % (what, what[:-1]))


def check_complete_version(case, got):
    """A file an atomic save left after its writer was killed: one whole version, the one Java
    read there — every payload byte is version % 251 and `check` is [version]."""
    version = got["version"]
    if version != case["version"]:
        raise Mismatch("version %d, Java read %d" % (version, case["version"]))
    if not bool(got["payload"].eq(version % 251).all()):
        raise Mismatch("payload of version %d is not all %d" % (version, version % 251))
    if got["check"].tolist() != [version]:
        raise Mismatch("check %s, expected [%d]" % (got["check"].tolist(), version))


# ------------------------------------------------------------------------------------------------
# One case
# ------------------------------------------------------------------------------------------------

def saved_locations(path, safe_globals):
    _, rec = load(path, safe_globals=safe_globals)
    return sorted({loc for _, loc in rec.records})


def check_case(case):
    saved = case["saved"]
    safe = case.get("safe_globals", [])
    root = expected_root(saved)
    check_pickle(check_layout(saved, root), set(safe))
    locations = saved_locations(saved, safe)
    on_cpu_only = all(loc == "cpu" for loc in locations)
    if isinstance(case.get("relocated"), str) and locations not in ([case["relocated"]], []):
        raise Mismatch("saved locations %s, expected all %s" % (locations, case["relocated"]))
    if on_cpu_only:
        # Plain torch.load(path): weights_only=True, no map_location.
        with torch.serialization.safe_globals(resolve_globals(safe)):
            torch.load(saved)
    else:
        try:
            with torch.serialization.safe_globals(resolve_globals(safe)):
                torch.load(saved)
        except RuntimeError:
            pass
        else:
            if not torch.cuda.is_available():
                raise Mismatch("loaded without map_location although saved on %s" % locations)
    for mmap in (False, True):
        got, rec = load(saved, safe_globals=safe, mmap=mmap)
        wb = Walk(rec, case.get("relocated"))
        if case["kind"] == "sidecar":
            check_sidecar_tree(case, got, wb)
            continue
        if case["kind"] == "atomic":
            check_complete_version(case, got)
            continue
        expected, rec_a = load_original(case)
        if case.get("transform"):
            expected = apply_transform(expected, case["transform"])
        compare_trees(expected, got, Walk(rec_a), wb)
    if case.get("same_pickle_as_original"):
        with zipfile.ZipFile(case["original"]) as z:
            original = z.read([n for n in z.namelist() if n.endswith("/data.pkl")][0])
        with zipfile.ZipFile(saved) as z:
            mine = z.read(root + "/data.pkl")
        if original != mine:
            raise Mismatch("data.pkl differs from the original's (%d vs %d bytes)"
                           % (len(mine), len(original)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("manifest")
    args = parser.parse_args()
    with open(args.manifest) as f:
        cases = json.load(f)["cases"]
    results = {}
    for case in cases:
        try:
            check_case(case)
            results[case["id"]] = "ok"
        except Exception as e:  # noqa: BLE001 - every failure is reported per case
            results[case["id"]] = "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")
    json.dump({"results": results}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
