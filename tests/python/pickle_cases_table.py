"""The pickle cases that pickle_cases.py writes: values pickled at every protocol, hand-built
pickles for opcodes Python 3 never writes, and pickles that must be refused.

Point and Scaled, the objects of the inert cases, live in a module of their own, ckpt4j_cases
(registered in sys.modules on import), so pickle can find them by name.
"""

import collections
import pickle
import sys
import types

PROTOCOLS = range(0, 6)


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
    """(name, bytes, error substring, kind): pickles CPython's unpickler refuses, and so must
    ckpt4j, with a CheckpointException of that kind."""
    return [
        ("bad_float_underscore", b"F1_0.5\n.", "invalid float literal", "MALFORMED_PICKLE"),
        ("bad_float_space", b"F 1.5\n.", "invalid float literal", "MALFORMED_PICKLE"),
        ("bad_float_overflow", b"F1e500\n.", "too large", "MALFORMED_PICKLE"),
        ("bad_float_hex", b"F0x1p3\n.", "invalid float literal", "MALFORMED_PICKLE"),
        ("bad_int_octal_py", b"L010L\n.", "leading zeros", "MALFORMED_PICKLE"),
        ("bad_int_empty", b"I\n.", "invalid int literal", "MALFORMED_PICKLE"),
        ("bad_get_hex", b"I1\np3\n0g0x3\n.", "invalid int literal", "MALFORMED_PICKLE"),
        ("bad_get_missing", b"I1\np3\n0g3_0\n.", "memo key 30 was never stored",
         "MALFORMED_PICKLE"),
        ("bad_put_negative", b"I1\np-1\n.", "memo key -1", "MALFORMED_PICKLE"),
        ("bad_string_unquoted", b"Sabc\n.", "must be quoted", "MALFORMED_PICKLE"),
        ("bad_string_x_escape", b"S'\\x4'\n.", "invalid \\x escape", "MALFORMED_PICKLE"),
        ("bad_string_trailing_backslash", b"S'ab\\'\n.", "STRING", "MALFORMED_PICKLE"),
        ("bad_unicode_escape", b"V\\u00\n.", "truncated \\u escape", "MALFORMED_PICKLE"),
        ("bad_unicode_range", b"V\\U00110000\n.", "out of range", "MALFORMED_PICKLE"),
        ("bad_pop_underflow", b"0.", "stack underflow", "MALFORMED_PICKLE"),
        ("bad_append_tuple", b"\x80\x02)K\x01a.", "cannot append to a tuple", "MALFORMED_PICKLE"),
        ("bad_setitem_list", b"\x80\x02]K\x01K\x02s.", "cannot set an item on a list",
         "MALFORMED_PICKLE"),
        ("bad_unhashable_key", b"\x80\x02}]K\x01s.", "unhashable list", "MALFORMED_PICKLE"),
        ("bad_unhashable_tuple_key", b"\x80\x02}]\x85K\x01s.", "unhashable tuple",
         "MALFORMED_PICKLE"),
        ("bad_unhashable_set_element", b"\x80\x04\x8f(}\x90.", "unhashable dict",
         "MALFORMED_PICKLE"),
        ("bad_protocol", b"\x80\x06N.", "unsupported pickle protocol 6", "UNSUPPORTED_FORMAT"),
        ("bad_ext1", b"\x80\x02\x82\x01.", "extension code 1", "UNSUPPORTED_FORMAT"),
        ("bad_next_buffer", b"\x80\x05\x97.", "out-of-band", "UNSUPPORTED_FORMAT"),
        ("bad_unknown_opcode", b"\x80\x02\xff.", "unknown opcode 0xff", "MALFORMED_PICKLE"),
        ("bad_reduce_args", b"\x80\x02c__builtin__\nset\nK\x01R.", "must be a tuple",
         "MALFORMED_PICKLE"),
        ("bad_binunicode_utf8", b"X\x02\x00\x00\x00\xc3\x28.", "invalid UTF-8", "MALFORMED_PICKLE"),
        ("bad_stack_global_types", b"\x80\x04K\x01K\x02\x93.", "STACK_GLOBAL needs a str",
         "MALFORMED_PICKLE"),
    ]


def stricter():
    """(name, bytes, error substring, kind): pickles CPython's C unpickler loads but ckpt4j refuses
    on purpose, with the reason."""
    return [
        # pickletools and the pure-Python unpickler refuse these too; the C one does not check.
        ("strict_stop_two_items", b"K\x01K\x02.", "exactly one", "MALFORMED_PICKLE"),
        ("strict_stop_open_mark", b"(K\x01.", "MARK(s) still open", "MALFORMED_PICKLE"),
        ("strict_frame_overrun",
         b"\x80\x04\x95\x01\x00\x00\x00\x00\x00\x00\x00J\x01\x00\x00\x00.", "FRAME",
         "MALFORMED_PICKLE"),
        ("strict_frame_inside_frame",
         b"\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00\x95\x01\x00\x00\x00\x00\x00\x00\x00N.",
         "FRAME starts before", "MALFORMED_PICKLE"),
        # A frozenset is read as a set, which Python cannot hash.
        ("strict_frozenset_key", b"\x80\x04}(K\x01\x91K\x02s.", "unhashable set",
         "MALFORMED_PICKLE"),
        # Trailing bytes after STOP: PickleReader.load wants exactly one pickle.
        ("strict_trailing_bytes", b"N.N", "after the STOP opcode", "MALFORMED_PICKLE"),
    ]


def refused():
    """(name, bytes, error substring, kind): pickles Java must refuse, loaded by Python to prove
    it."""
    import os as _os
    cases = []
    for proto in PROTOCOLS:
        cases.append(("refused_os_system_p%d" % proto, pickle.dumps(_os.system, protocol=proto),
                      "unsupported global '%s.system'" % _os.system.__module__,
                      "REFUSED_GLOBAL"))
    cases.append(("refused_eval_reduce", b"cbuiltins\neval\n(S'1'\ntR.",
                  "unsupported global 'builtins.eval'", "REFUSED_GLOBAL"))
    cases.append(("refused_py2_builtin_eval", b"c__builtin__\neval\n(S'1'\ntR.",
                  "unsupported global 'builtins.eval'", "REFUSED_GLOBAL"))
    return cases
