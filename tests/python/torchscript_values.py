"""TorchScript inputs and outputs as JSON trees whose tensors live in a safetensors file
(for make_torchscript.py).

A tree is one of
    {"tensor": KEY}                       KEY names a tensor in the case's safetensors file
    {"int": N} {"float": X} {"bool": B} {"str": S} {"none": null}
    {"tuple": [TREE, ...]}  {"list": [TREE, ...]}
    {"dict": [[KEY_TREE, VALUE_TREE], ...]}   insertion order kept; keys str or int
    {"object": "__torch__.Class", "attrs": {"name": TREE, ...}}   a TorchScript class instance

Java reads the same trees (io.ckpt4j.libtorch tests) and compares what ScriptModel returns.
"""

import math

import torch


class ObjectValue:
    """A TorchScript class instance as the trees describe it: class name and attributes."""

    def __init__(self, class_name, attrs):
        self.class_name = class_name
        self.attrs = attrs

    def __eq__(self, other):
        return isinstance(other, ObjectValue) and (self.class_name, self.attrs) == (
            other.class_name, other.attrs)

    def __repr__(self):
        return "ObjectValue(%s, %r)" % (self.class_name, self.attrs)


class TensorStore:
    """Collects the tensors of some trees under generated keys (prefix.0, prefix.1, ...)."""

    def __init__(self):
        self.tensors = {}

    def put(self, prefix, tensor):
        key = "%s.%d" % (prefix, len([k for k in self.tensors if k.startswith(prefix + ".")]))
        # safetensors wants contiguous tensors that share no memory
        self.tensors[key] = tensor.detach().clone().contiguous()
        return key


def encode(value, store, prefix):
    """The tree of a Python value; its tensors go into store under prefix."""
    if isinstance(value, torch.Tensor):
        return {"tensor": store.put(prefix, value)}
    if value is None:
        return {"none": None}
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("non-finite float in a TorchScript tree: %r" % value)
        return {"float": value}
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, tuple):
        return {"tuple": [encode(v, store, prefix) for v in value]}
    if isinstance(value, list):
        return {"list": [encode(v, store, prefix) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[encode(k, store, prefix), encode(v, store, prefix)]
                         for k, v in value.items()]}
    if isinstance(value, ObjectValue):
        return {"object": value.class_name,
                "attrs": {k: encode(v, store, prefix) for k, v in value.attrs.items()}}
    raise TypeError("cannot encode %s in a TorchScript tree" % type(value).__name__)


def decode(tree, tensors):
    """The Python value of a tree (objects come back as ObjectValue)."""
    (kind, body), = [(k, v) for k, v in tree.items() if k != "attrs"]
    if kind == "tensor":
        return tensors[body]
    if kind in ("int", "float", "bool", "str"):
        return body
    if kind == "none":
        return None
    if kind == "tuple":
        return tuple(decode(t, tensors) for t in body)
    if kind == "list":
        return [decode(t, tensors) for t in body]
    if kind == "dict":
        return {decode(k, tensors): decode(v, tensors) for k, v in body}
    if kind == "object":
        return ObjectValue(body, {k: decode(v, tensors) for k, v in tree["attrs"].items()})
    raise ValueError("unknown tree kind %r" % kind)


def compare(expected, actual, atol, where):
    """Raises AssertionError naming the first difference; tensors within atol (0: bit-exact)."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, torch.Tensor), "%s: expected a tensor, got %r" % (where, actual)
        assert expected.dtype == actual.dtype, "%s: dtype %s != %s" % (
            where, actual.dtype, expected.dtype)
        assert expected.shape == actual.shape, "%s: shape %s != %s" % (
            where, tuple(actual.shape), tuple(expected.shape))
        if atol == 0 or not expected.is_floating_point():
            assert torch.equal(expected, actual), "%s: values differ" % where
        else:
            diff = (expected - actual).abs().max().item() if expected.numel() else 0.0
            assert diff <= atol, "%s: max abs diff %g > %g" % (where, diff, atol)
    elif isinstance(expected, (tuple, list)):
        assert type(actual) is type(expected) and len(actual) == len(expected), (
            "%s: expected %s of %d, got %r" % (where, type(expected).__name__, len(expected),
                                             actual))
        for i, (e, a) in enumerate(zip(expected, actual)):
            compare(e, a, atol, "%s[%d]" % (where, i))
    elif isinstance(expected, ObjectValue):
        assert isinstance(actual, ObjectValue) and actual.class_name == expected.class_name, (
            "%s: expected a %s, got %r" % (where, expected.class_name, actual))
        compare(expected.attrs, actual.attrs, atol, where + " attributes")
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and list(actual) == list(expected), (
            "%s: keys %r != %r" % (where, list(actual), list(expected)))
        for k in expected:
            compare(expected[k], actual[k], atol, "%s[%r]" % (where, k))
    else:
        assert type(actual) is type(expected) and actual == expected, "%s: %r != %r" % (
            where, actual, expected)
