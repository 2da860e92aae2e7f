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
or "error": <substring of the Java message>}.
"""

import argparse
import collections
import io
import json
import os
import pickle
import struct
import sys
import types
import warnings

PROTOCOLS = range(0, 6)

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


# ---- objects for the inert cases, in a module of their own so pickle can find them by name

CASES_MODULE = types.ModuleType("ckpt4j_cases")
sys.modules["ckpt4j_cases"] = CASES_MODULE


class Point:
    """Pickles by __reduce__ with arguments, state, list items and dict items."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __reduce__(self):
        return (Point, (self.x, self.y), {"tag": "p"}, iter([10, 20]), iter([("k", "v")]))

    def append(self, item):
        pass

    def __setitem__(self, key, value):
        pass


class Scaled:
    """Pickles with keyword arguments to __new__ (NEWOBJ_EX in protocol 4 and 5)."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, value, scale=1):
        self.value, self.scale = value, scale

    def __getnewargs_ex__(self):
        return ((self.value,), {"scale": self.scale})


for _cls in (Point, Scaled):
    _cls.__module__ = "ckpt4j_cases"
    setattr(CASES_MODULE, _cls.__name__, _cls)


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


# ---- the cases

def data_values():
    """(name, value) pairs pickled at every protocol."""
    shared = [1, 2]
    s = "shared string"
    od = collections.OrderedDict([("weight", 1.5), ("bias", [1, 2])])
    od._metadata = collections.OrderedDict([("", {"version": 1})])
    return [
        ("none", None), ("true", True), ("false", False),
        ("ints_small", [0, 1, -1, 127, 128, 255, 256, 65535, 65536, -128, -129, -256, -257]),
        ("ints_32", [2**31 - 1, 2**31, -2**31, -2**31 - 1, 2**32, -2**32]),
        ("ints_64", [2**63 - 1, 2**63, -2**63, -2**63 - 1, 2**64, -2**64, 2**64 - 1]),
        ("ints_huge", [10**30, -10**30, 2**1000, -(2**2000) + 1, 2**2100, -(2**2100)]),
        ("floats", [0.0, -0.0, 1.5, -2.25, 0.1, 1 / 3, 1e300, -1e-300, 5e-324, 2.0**1023]),
        ("float_specials", [float("inf"), float("-inf"), float("nan")]),
        ("strings", ["", "a", "hello world", "h\u00e9llo", "\u65e5\u672c\u8a9e", "\U0001F600",
                     "tab\tnew\nline\rcr", "nul\x00sub\x1aback\\slash", "\u0100\u07ff\u0800\uffff"]),
        ("string_long", "x" * 300 + "\u00e9" * 300),
        ("string_surrogate", "lone \ud800 and \udfff"),
        ("bytes", [b"", b"\x00\xff", bytes(range(256))]),
        ("bytes_long", b"\x01\x02" * 35000),
        ("bytearray", bytearray(b"xyz\x00\xff")),
        ("bytearray_empty", bytearray()),
        ("tuples", [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), ((1, (2, (3,))),)]),
        ("lists", [[], [1], [[], [[]]], list(range(2500))]),
        ("dicts", [{}, {"a": 1}, {1: "one", -2: "minus two"}, {(1, 2): "tuple key", None: 0,
                   True: "bool", 1.5: "float", b"k": "bytes key"}]),
        ("dict_big", {"key%d" % i: i for i in range(2500)}),
        ("dict_nested", {"a": {"b": {"c": [1, {"d": (2, 3)}]}}}),
        ("sets", [set(), {1, 2, 3}, {"a", (1, 2)}]),
        ("frozenset", frozenset({"x", "y", 3})),
        ("shared_list", [shared, shared, {"k": shared}]),
        ("shared_string", [s, s, s]),
        ("ordered_dict", od),
    ]


def hand_built():
    """(name, bytes, options) for opcodes Python 3 never writes, built by hand."""
    return [
        ("p0_int_hex", b"I0x1f\n.", {}),
        ("p0_int_binary_neg", b"I-0b101\n.", {}),
        ("p0_int_underscore", b"I1_000\n.", {}),
        ("p0_int_spaces", b"I 12 \n.", {}),
        ("p0_bools", b"(I01\nI00\nt.", {}),
        ("p0_long", b"L123456789012345678901234567890L\n.", {}),
        ("p0_long_neg_no_suffix", b"L-5\n.", {}),
        ("p0_int_octal_c", b"I010\n.", {}),
        ("p0_int_space_bool", b"I 1\n.", {}),
        ("p0_int_overflow_to_big", b"I99999999999999999999\n.", {}),
        ("p0_int_trailing_space", b"I12 \n.", {}),
        ("p0_long_hex", b"L0x10L\n.", {}),
        ("p0_float_dot", b"F1.\n.", {}),
        ("p0_float_underflow", b"F1e-400\n.", {}),
        ("p0_float_case", b"FiNfInItY\n.", {}),
        ("p0_put_space_get", b"I1\np 3\n0g3\n.", {}),
        ("p0_get_plus", b"I1\np3\n0g+3\n.", {}),
        ("p0_float_neg_nan", b"F-nan\n.", {}),
        ("p0_float_infinity", b"F-Infinity\n.", {}),
        ("p0_float_exp", b"F+.5e-3\n.", {}),
        ("p0_unicode_escapes", b"V\\u0041\\\\u0041\\\\\\u0041\\U0001F600\\x\xe9\n.", {}),
        ("p0_string_escapes", b"S'a\\'b\\\\c\\n\\x41\\101\\400\\q'\n.", {}),
        ("p0_string_dquote", b'S"it\'s"\n.', {}),
        ("py2_short_binstring", b"U\x03abc.", {}),
        ("py2_binstring_latin1", b"T\x03\x00\x00\x00\xe9\xe8\xff.", {}),
        ("py2_binstring_utf8", b"T\x02\x00\x00\x00\xc3\xa9.", {"py2": "utf-8"}),
        ("p0_list_opcode", b"(I1\nI2\nl.", {}),
        ("p0_dict_opcode", b"(S'a'\nI1\nS'b'\nI2\nd.", {}),
        ("p0_put_get", b"(I1\nlp5\n0g5\n.", {}),
        ("p0_put_leading_zero", b"I7\np007\n0g7\n.", {}),
        ("pop_mark", b"(I1\nI2\n1N.", {}),
        ("pop_drops_empty_mark", b"I1\n(0.", {}),
        ("dup", b"(I1\n2t.", {}),
        ("memoize_after_put", b"\x80\x04K\x07p5\n\x940K\x08\x940h\x05h\x01h\x02\x87.", {}),
        ("binput_long_binget", b"\x80\x02K\x09r\x00\x01\x00\x00j\x00\x01\x00\x00\x86.", {}),
        ("inst_namespace", b"(iargparse\nNamespace\n(dS'a'\nI1\nsb.",
         {"inert": ["argparse.Namespace"]}),
        ("obj_namespace", b"(cargparse\nNamespace\no}S'a'\nI2\nsb.",
         {"inert": ["argparse.Namespace"]}),
        ("inst_with_args", b"(I1\nS'x'\niargparse\nNamespace\n.",
         {"inert": ["argparse.Namespace"]}),
        ("stack_global_inert", b"\x80\x04\x8c\x08argparse\x8c\tNamespace\x93)\x81.",
         {"inert": ["argparse.Namespace"]}),
        ("global_as_value", b"\x80\x02]cargparse\nNamespace\na.",
         {"inert": ["argparse.Namespace"]}),
        ("py2_builtin_module", b"c__builtin__\nset\n((lp0\nI1\natR.", {}),
        ("short_binbytes", b"\x80\x03C\x02\x00\x01.", {}),
        ("additems", b"\x80\x04\x8f(K\x01K\x02\x90.", {}),
        ("frozenset_opcode", b"\x80\x04(K\x01K\x02\x91.", {}),
        ("binunicode8", b"\x80\x04\x8d\x02\x00\x00\x00\x00\x00\x00\x00hi.", {}),
        ("binbytes8", b"\x80\x04\x8e\x01\x00\x00\x00\x00\x00\x00\x00\x07.", {}),
        ("bytearray8", b"\x80\x05\x96\x01\x00\x00\x00\x00\x00\x00\x00\x07.", {}),
        ("long4_small", b"\x80\x02\x8b\x02\x00\x00\x00\xff\x7f.", {}),
        ("long1_zero", b"\x80\x02\x8a\x00.", {}),
        ("two_frames", b"\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00(K\x01"
                       b"\x95\x04\x00\x00\x00\x00\x00\x00\x00K\x02l.", {}),
    ]


def malformed():
    """(name, bytes, error substring): pickles CPython's unpickler refuses, and so must ckpt4j."""
    return [
        ("bad_float_underscore", b"F1_0.5\n.", "invalid float literal"),
        ("bad_float_space", b"F 1.5\n.", "invalid float literal"),
        ("bad_float_overflow", b"F1e500\n.", "too large"),
        ("bad_float_hex", b"F0x1p3\n.", "invalid float literal"),
        ("bad_int_octal_py", b"L010L\n.", "leading zeros"),
        ("bad_int_empty", b"I\n.", "invalid int literal"),
        ("bad_get_hex", b"I1\np3\n0g0x3\n.", "invalid int literal"),
        ("bad_get_missing", b"I1\np3\n0g3_0\n.", "memo key 30 was never stored"),
        ("bad_put_negative", b"I1\np-1\n.", "memo key -1"),
        ("bad_string_unquoted", b"Sabc\n.", "must be quoted"),
        ("bad_string_x_escape", b"S'\\x4'\n.", "invalid \\x escape"),
        ("bad_string_trailing_backslash", b"S'ab\\'\n.", "STRING"),
        ("bad_unicode_escape", b"V\\u00\n.", "truncated \\u escape"),
        ("bad_unicode_range", b"V\\U00110000\n.", "out of range"),
        ("bad_pop_underflow", b"0.", "stack underflow"),
        ("bad_append_tuple", b"\x80\x02)K\x01a.", "cannot append to a tuple"),
        ("bad_setitem_list", b"\x80\x02]K\x01K\x02s.", "cannot set an item on a list"),
        ("bad_unhashable_key", b"\x80\x02}]K\x01s.", "unhashable list"),
        ("bad_unhashable_tuple_key", b"\x80\x02}]\x85K\x01s.", "unhashable tuple"),
        ("bad_unhashable_set_element", b"\x80\x04\x8f(}\x90.", "unhashable dict"),
        ("bad_protocol", b"\x80\x06N.", "unsupported pickle protocol 6"),
        ("bad_ext1", b"\x80\x02\x82\x01.", "extension code 1"),
        ("bad_next_buffer", b"\x80\x05\x97.", "out-of-band"),
        ("bad_unknown_opcode", b"\x80\x02\xff.", "unknown opcode 0xff"),
        ("bad_reduce_args", b"\x80\x02c__builtin__\nset\nK\x01R.", "must be a tuple"),
        ("bad_binunicode_utf8", b"X\x02\x00\x00\x00\xc3\x28.", "invalid UTF-8"),
        ("bad_stack_global_types", b"\x80\x04K\x01K\x02\x93.", "STACK_GLOBAL needs a str"),
    ]


def stricter():
    """(name, bytes, error substring): pickles CPython's C unpickler loads but ckpt4j refuses on
    purpose, with the reason."""
    return [
        # pickletools and the pure-Python unpickler refuse these too; the C one does not check.
        ("strict_stop_two_items", b"K\x01K\x02.", "exactly one"),
        ("strict_stop_open_mark", b"(K\x01.", "MARK(s) still open"),
        ("strict_frame_overrun",
         b"\x80\x04\x95\x01\x00\x00\x00\x00\x00\x00\x00J\x01\x00\x00\x00.", "FRAME"),
        ("strict_frame_inside_frame",
         b"\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00\x95\x01\x00\x00\x00\x00\x00\x00\x00N.",
         "FRAME starts before"),
        # A frozenset is read as a set, which Python cannot hash.
        ("strict_frozenset_key", b"\x80\x04}(K\x01\x91K\x02s.", "unhashable set"),
        # Trailing bytes after STOP: PickleReader.load wants exactly one pickle.
        ("strict_trailing_bytes", b"N.N", "after the STOP opcode"),
    ]


def refused():
    """(name, bytes, error substring): pickles Java must refuse, loaded by Python to prove it."""
    import os as _os
    cases = []
    for proto in PROTOCOLS:
        cases.append(("refused_os_system_p%d" % proto, pickle.dumps(_os.system, protocol=proto),
                      "unsupported global '%s.system'" % _os.system.__module__))
    cases.append(("refused_eval_reduce", b"cbuiltins\neval\n(S'1'\ntR.",
                  "unsupported global 'builtins.eval'"))
    cases.append(("refused_py2_builtin_eval", b"c__builtin__\neval\n(S'1'\ntR.",
                  "unsupported global 'builtins.eval'"))
    return cases


def generate(outdir):
    warnings.simplefilter("ignore", DeprecationWarning)  # Python warns on \\400 and \\q escapes
    os.makedirs(outdir, exist_ok=True)
    manifest = []

    def add(name, data, resolver="builtins", inert=(), persistent=False, allow_cycles=False,
            py2="latin-1", error=None, java_policy=False):
        # java_policy: Python loads the case, but ckpt4j refuses it by design (cycles).
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
            case["pythonError"] = str(e)
        else:
            if error is not None and not java_policy:
                raise AssertionError("%s: Python loaded a case that must be refused" % name)
            if error is None:
                case["expect"] = render(loaded)
            else:
                case["error"] = error
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
            error="contains itself", java_policy=True)
        add("cycle_dict_p%d" % proto, pickle.dumps(selfdict, protocol=proto), allow_cycles=True)
        add("namespace_refused_p%d" % proto, pickle.dumps(ns, protocol=proto),
            error="unsupported global 'argparse.Namespace'")
    odict_loop = collections.OrderedDict(a=1)
    odict_loop.me = odict_loop
    add("cycle_odict_attribute", pickle.dumps(odict_loop, protocol=2), allow_cycles=True)
    add("cycle_odict_attribute_refused", pickle.dumps(odict_loop, protocol=2),
        error="contains itself", java_policy=True)
    for proto in (4, 5):
        add("newobj_ex_p%d" % proto, pickle.dumps(scaled, protocol=proto), inert=objects)

    for proto in PROTOCOLS:
        buf = io.BytesIO()
        pickler = pickle.Pickler(buf, protocol=proto)
        storage_pid = "storage0" if proto == 0 else ("storage", "FloatStorage", "0", "cpu", 4)
        pickler.persistent_id = lambda obj, pid=storage_pid: pid if obj == "STORAGE" else None
        pickler.dump({"weight": "STORAGE", "step": 3})
        add("persistent_p%d" % proto, buf.getvalue(), persistent=True)
        add("persistent_refused_p%d" % proto, buf.getvalue(), error="PersistentLoader")

    for name, data, options in hand_built():
        add(name, data, inert=options.get("inert", ()), py2=options.get("py2", "latin-1"))

    for name, data, error in refused() + malformed():
        add(name, data, error=error)
    for name, data, error in stricter():
        add(name, data, error=error, java_policy=True)

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
                add("hostile__" + file, data, error=str(e) if "unsupported global" in str(e) else "")
            except Exception:  # noqa: BLE001 - malformed: any CheckpointException will do
                add("hostile__" + file, data, error="")

    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("wrote %d pickle cases to %s" % (len(manifest), outdir))


# ---- checking what Java wrote

class PlainUnpickler(pickle.Unpickler):
    """Python's own unpickler, with the test persistent loader."""

    def persistent_load(self, pid):
        return PersRef(pid)


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
