"""How pickle_cases.py loads a pickle and renders what it loaded.

CaseUnpickler is Python's unpickler restricted as the Java test's GlobalResolver chain is;
PlainUnpickler is Python's own, with the test persistent loader; render gives the tagged JSON form
documented in pickle_cases.py.
"""

import collections
import io
import pickle
import struct

# Globals that ckpt4j's GlobalResolver.pythonBuiltins() implements, as Python objects.
BUILTINS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "bytes"): bytes,
    ("builtins", "object"): object,
    ("_codecs", "encode"): __import__("codecs").encode,
    ("copyreg", "_reconstructor"): __import__("copyreg")._reconstructor,
}

# Python 2 names in Python 3 spelling: the subset of _compat_pickle that ckpt4j maps (Py2Names).
PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}
PY2_NAMES = {
    ("__builtin__", "xrange"): ("builtins", "range"),
    ("__builtin__", "reduce"): ("functools", "reduce"),
    ("__builtin__", "intern"): ("sys", "intern"),
    ("__builtin__", "unichr"): ("builtins", "chr"),
    ("__builtin__", "unicode"): ("builtins", "str"),
    ("__builtin__", "long"): ("builtins", "int"),
}


class PersRef:
    """What persistent_load returns: the Java test's loader returns a marker with the pid."""

    def __init__(self, pid):
        self.pid = pid


def make_inert(qualname):
    """A class that records, as ckpt4j's PyObject does, what the pickle says to build."""

    class Inert:
        def __new__(cls, *args, **kwargs):
            obj = object.__new__(cls)
            obj._ckpt4j_args = args
            obj._ckpt4j_kwargs = kwargs
            return obj

        def __init__(self, *args, **kwargs):
            pass

        def __setstate__(self, state):
            self.__dict__["_ckpt4j_state"] = state

        def append(self, item):
            self.__dict__.setdefault("_ckpt4j_list", []).append(item)

        def extend(self, items):
            for item in items:
                self.append(item)

        def __setitem__(self, key, value):
            self.__dict__.setdefault("_ckpt4j_dict", {})[key] = value

    Inert.qualname = qualname
    return Inert


class CaseUnpickler(pickle.Unpickler):
    """Python's unpickler restricted as the Java test's GlobalResolver chain is."""

    def __init__(self, data, resolver, inert, persistent, py2):
        super().__init__(io.BytesIO(data), encoding=py2)
        self.resolver, self.inert, self.persistent = resolver, set(inert), persistent
        self.inert_classes = {}

    def find_class(self, module, name):
        module, name = PY2_NAMES.get((module, name), (PY2_MODULES.get(module, module), name))
        if self.resolver == "builtins" and (module, name) in BUILTINS:
            return BUILTINS[(module, name)]
        qualname = module + "." + name
        if qualname in self.inert:
            return self.inert_classes.setdefault(qualname, make_inert(qualname))
        raise pickle.UnpicklingError("unsupported global '%s'" % qualname)

    def persistent_load(self, pid):
        if not self.persistent:
            raise pickle.UnpicklingError("no persistent loader")
        return PersRef(pid)


# ---- rendering

def render(value, ids=None):
    ids = {} if ids is None else ids

    def new_id(obj):
        ids[id(obj)] = len(ids) + 1
        return ids[id(obj)]

    def items(pairs):
        return [[render(k, ids), render(v, ids)] for k, v in pairs]

    v = value
    if v is None:
        return {"t": "none"}
    if isinstance(v, bool):
        return {"t": "bool", "v": v}
    if isinstance(v, int):
        return {"t": "int", "v": str(v)}
    if isinstance(v, float):
        return {"t": "float", "v": struct.pack(">d", v).hex()}
    if isinstance(v, str):
        return {"t": "str", "v": v.encode("utf-16-be", "surrogatepass").hex()}
    if isinstance(v, (bytes, bytearray)):
        return {"t": "bytes", "v": bytes(v).hex()}
    if isinstance(v, tuple):
        return {"t": "tuple", "v": [render(x, ids) for x in v]}
    if isinstance(v, (set, frozenset)):
        return {"t": "set", "v": [render(x, ids) for x in v]}
    if isinstance(v, PersRef):
        return {"t": "persid", "v": render(v.pid, ids)}
    if isinstance(v, type):
        return {"t": "global", "v": getattr(v, "qualname", v.__module__ + "." + v.__qualname__)}
    if id(v) in ids:
        return {"t": "ref", "id": ids[id(v)]}
    if isinstance(v, list):
        n = new_id(v)
        return {"t": "list", "id": n, "v": [render(x, ids) for x in v]}
    if isinstance(v, collections.OrderedDict):
        n = new_id(v)
        out = {"t": "odict", "id": n, "v": items(v.items())}
        out["attrs"] = items(vars(v).items())
        return out
    if isinstance(v, dict):
        n = new_id(v)
        return {"t": "dict", "id": n, "v": items(v.items())}
    if hasattr(type(v), "qualname"):  # inert
        n = new_id(v)
        d = v.__dict__
        return {
            "t": "object", "id": n, "class": type(v).qualname,
            "args": render(tuple(d.get("_ckpt4j_args", ())), ids),
            "kwargs": items(d.get("_ckpt4j_kwargs", {}).items()),
            "state": render(d.get("_ckpt4j_state"), ids),
            "list": [render(x, ids) for x in d.get("_ckpt4j_list", [])],
            "dict": items(d.get("_ckpt4j_dict", {}).items()),
        }
    n = new_id(v)
    cls = type(v)
    return {"t": "object", "id": n, "class": cls.__module__ + "." + cls.__qualname__,
            "state": render(dict(vars(v)), ids)}


class PlainUnpickler(pickle.Unpickler):
    """Python's own unpickler, with the test persistent loader."""

    def persistent_load(self, pid):
        return PersRef(pid)
