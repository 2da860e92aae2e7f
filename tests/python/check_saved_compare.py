"""How check_saved.py compares a loaded tree with what it must equal: another loaded tree (the
original, for "roundtrip"), the tree a Java sidecar describes ("sidecar"), or one whole version of
an atomic save ("atomic"). A difference raises Mismatch, naming the path where it was found.
"""

import collections
import json
import math
import struct

import torch
from safetensors.torch import load_file


class Mismatch(AssertionError):
    pass


def fail(path, message):
    raise Mismatch("%s: %s" % (show(path), message))


def show(path):
    return "".join("[%r]" % (k,) for k in path) or "(the root)"


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
