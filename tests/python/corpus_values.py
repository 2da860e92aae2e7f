"""Tensors and Python values for the corpus: every dtype's interesting bit patterns, views,
shared storages, and nested containers of every scalar kind (for make_corpus.py)."""

import math
from collections import OrderedDict

import torch
from torch import nn

# Bit patterns (as unsigned ints) for IEEE binary32 / binary64: zeros, one, a negative,
# smallest and largest subnormal, smallest normal, largest finite, infinities, quiet and
# signalling NaNs (with payloads, both signs).
FLOAT32_PATTERNS = [
    0x00000000, 0x80000000, 0x3F800000, 0xBFC00000, 0x00000001, 0x807FFFFF, 0x00800000,
    0x7F7FFFFF, 0xFF7FFFFF, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7FC00001,
    0x7F800001,
]
FLOAT64_PATTERNS = [
    0x0000000000000000, 0x8000000000000000, 0x3FF0000000000000, 0xBFF8000000000000,
    0x0000000000000001, 0x800FFFFFFFFFFFFF, 0x0010000000000000, 0x7FEFFFFFFFFFFFFF,
    0xFFEFFFFFFFFFFFFF, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000,
    0xFFF8000000000000, 0x7FF8000000000001, 0x7FF0000000000001,
]

# Dtypes LibTorch 2.13 has and torch.save writes; the legacy format writes the last five but
# torch.load cannot read them back (see LEGACY_UNREADABLE_DTYPES).
ALL_DTYPES = [
    torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.complex64,
    torch.complex128, torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8,
    torch.bool, torch.uint16, torch.uint32, torch.uint64, torch.float8_e4m3fn, torch.float8_e5m2,
]
# Saved through torch.UntypedStorage + torch._utils._rebuild_tensor_v3 (torch.storage._new_dtypes);
# _legacy_save writes them, _legacy_load fails with "type object 'torch.storage.UntypedStorage'
# has no attribute 'dtype'".
LEGACY_UNREADABLE_DTYPES = [
    torch.uint16, torch.uint32, torch.uint64, torch.float8_e4m3fn, torch.float8_e5m2,
]
LEGACY_DTYPES = [d for d in ALL_DTYPES if d not in LEGACY_UNREADABLE_DTYPES]


def _signed(value, bits):
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def _from_bits(patterns, bits, int_dtype, dtype):
    return torch.tensor([_signed(p, bits) for p in patterns], dtype=int_dtype).view(dtype)


def _all_16_bit(dtype):
    return torch.arange(-(1 << 15), 1 << 15, dtype=torch.int32).to(torch.int16).view(dtype)


def _all_8_bit(dtype):
    return torch.arange(0, 256, dtype=torch.int32).to(torch.uint8).view(dtype)


def dtype_sample(dtype, seed=0):
    """A tensor of `dtype` whose values cover its bit-pattern classes (negatives, NaN, inf,
    subnormals, extremes); 16- and 8-bit float types hold every bit pattern there is."""
    gen = torch.Generator().manual_seed(seed)
    if dtype == torch.float32:
        return torch.cat([_from_bits(FLOAT32_PATTERNS, 32, torch.int32, dtype),
                          torch.randn(9, generator=gen)]).reshape(4, 6)
    if dtype == torch.float64:
        return torch.cat([_from_bits(FLOAT64_PATTERNS, 64, torch.int64, dtype),
                          torch.randn(5, generator=gen, dtype=dtype)]).reshape(5, 4)
    if dtype in (torch.float16, torch.bfloat16):
        return _all_16_bit(dtype).reshape(256, 256)
    if dtype in (torch.float8_e4m3fn, torch.float8_e5m2):
        return _all_8_bit(dtype).reshape(16, 16)
    if dtype == torch.complex64:
        return dtype_sample(torch.float32, seed).reshape(-1).view(torch.complex64).reshape(3, 4)
    if dtype == torch.complex128:
        return dtype_sample(torch.float64, seed).reshape(-1).view(torch.complex128)
    if dtype == torch.bool:
        return torch.tensor([[True, False, True], [True, False, False]])
    if dtype == torch.uint8:
        return _all_8_bit(torch.uint8)
    if dtype in (torch.int8, torch.int16, torch.int32, torch.int64):
        info = torch.iinfo(dtype)
        extremes = torch.tensor([info.min, info.max, 0, -1, 1, info.min + 1], dtype=dtype)
        rand = torch.randint(-100, 100, (6,), generator=gen, dtype=torch.int64).to(dtype)
        return torch.cat([extremes, rand]).reshape(3, 4)
    unsigned = {torch.uint16: (16, torch.int16), torch.uint32: (32, torch.int32),
                torch.uint64: (64, torch.int64)}
    if dtype in unsigned:
        bits, int_dtype = unsigned[dtype]
        top = (1 << bits) - 1
        patterns = [0, 1, top, 1 << (bits - 1), (1 << (bits - 1)) - 1, 0xAB, top - 0xAB, 12345]
        return _from_bits(patterns, bits, int_dtype, dtype).reshape(2, 4)
    raise ValueError("no sample for %s" % dtype)


def dtype_dict(dtypes):
    return {str(d)[len("torch."):]: dtype_sample(d, seed=i) for i, d in enumerate(dtypes)}


def zero_dim_tensors():
    torch.manual_seed(3)
    base = torch.arange(10, dtype=torch.float32)
    return {
        "float32": torch.tensor(3.25),
        "int64": torch.tensor(7),
        "bool": torch.tensor(True),
        "float16": torch.tensor(-0.0, dtype=torch.float16),
        "complex64": torch.tensor(1.5 - 2j, dtype=torch.complex64),
        "nan": torch.tensor(float("nan"), dtype=torch.float64),
        "uint64": torch.tensor(-1, dtype=torch.int64).view(torch.uint64),
        "element_of_base": base[3],  # 0-dim view at storage offset 3 of a 10-element storage
    }


def empty_tensors():
    base = torch.arange(8, dtype=torch.float32)
    return {
        "shape_0": torch.zeros(0),
        "shape_2_0_3": torch.zeros(2, 0, 3, dtype=torch.int64),
        "bool_0": torch.zeros(0, dtype=torch.bool),
        "bfloat16_0x4": torch.zeros(0, 4, dtype=torch.bfloat16),
        "empty_slice_of_base": base[5:5],  # no elements, storage offset 5 into 8 floats
        "base": base,
    }


def strided_views():
    """Views that keep their base's storage: slices, steps, transposes, a narrow at an offset,
    a diagonal, overlapping windows; expanded tensors with stride 0. The bases themselves are
    not saved, so every storage is larger than any one view needs."""
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    cube = torch.arange(24, dtype=torch.int64).reshape(2, 3, 4)
    flat = torch.arange(12, dtype=torch.float64)
    return {
        "rows_from_1": base[1:],
        "every_other_column": base[:, ::2],
        "transposed": base.t(),
        "rows_from_1_every_other_column": base[1:, ::2],
        "narrow_dim1_at_2_len_3": base.narrow(1, 2, 3),
        "column_4": base[:, 4],
        "diagonal": base.diagonal(),
        "permuted_3d": cube.permute(2, 0, 1),
        "overlapping_windows": flat.as_strided((4, 3), (2, 1), 1),
        "expanded_row": torch.arange(3, dtype=torch.float32).expand(4, 3),
        "expanded_column": torch.arange(2, dtype=torch.int32).unsqueeze(1).expand(2, 5),
        "expanded_scalar": torch.tensor(5.0).expand(2, 2),
    }


def shared_storage():
    """Tied weights (the same Parameter object under two keys) and views of one base."""
    torch.manual_seed(4)
    tied = nn.Parameter(torch.randn(5, 3))
    base = torch.randn(10)
    return OrderedDict([
        ("embed.weight", tied),
        ("lm_head.weight", tied),
        ("whole", base),
        ("first_half", base[:5]),
        ("second_half", base[5:]),
        ("as_matrix", base.view(2, 5)),
    ])


def untyped_view_of_typed():
    """torch 2.x pickles uint16 through UntypedStorage + _rebuild_tensor_v3 and uint8 through
    ByteStorage: a uint16 view of a uint8 tensor names one storage key both ways."""
    base = torch.arange(8, dtype=torch.uint8)
    return OrderedDict([("bytes", base), ("as_uint16", base.view(torch.uint16))])


def grad_flags():
    torch.manual_seed(5)
    return {
        "param_trainable": nn.Parameter(torch.randn(3, 2)),
        "param_frozen": nn.Parameter(torch.randn(2), requires_grad=False),
        "tensor_requires_grad": torch.randn(4).requires_grad_(True),
        "tensor_plain": torch.randn(4),
    }


def tensor_with_attributes():
    """Tensors carrying Python attributes: saved through torch._tensor._rebuild_from_type_v2
    (plain tensor) and torch._utils._rebuild_parameter_with_state (Parameter)."""
    torch.manual_seed(6)
    t = torch.randn(3)
    t.foo = 1
    t.note = "calibrated"
    p = nn.Parameter(torch.randn(2, 2))
    p.bar = "x"
    return {"tensor": t, "parameter": p, "plain": torch.randn(2)}


def conj_neg_bits():
    """Lazily conjugated / negated views: the pickle carries {'conj': True} or {'neg': True} as
    the 7th argument of _rebuild_tensor_v2 and the storage holds the values before conjugation."""
    c = torch.tensor([1 + 2j, 3 - 4j, -0.5j], dtype=torch.complex64).conj()
    n = torch.tensor([1 + 2j, -3.5j], dtype=torch.complex128).conj().imag
    assert c.is_conj() and n.is_neg()
    return {"conj": c, "neg": n}


def nested_values():
    """Containers within containers and every scalar kind the inspect JSON knows."""
    torch.manual_seed(7)
    nan, inf = float("nan"), float("inf")
    return {
        "list_of_tuples": [
            (1, {"a": 1.5, "b": None}),
            ({"t": torch.arange(3, dtype=torch.int16)}, "x", True),
        ],
        "int_keys": {0: "zero", 1: "one", -5: "minus five", 1 << 40: "big"},
        "other_keys": {(1, "a"): "tuple key", 2.5: "float key", None: "none key"},
        "ints": {"zero": 0, "neg": -7, "int63_max": (1 << 63) - 1, "int63_min": -(1 << 63),
                 "two_to_63": 1 << 63, "two_to_64_plus_1": (1 << 64) + 1,
                 "two_to_100": 1 << 100, "minus_two_to_70": -(1 << 70)},
        "floats": {"pi": math.pi, "tenth": 0.1, "neg_zero": -0.0, "nan": nan, "inf": inf,
                   "neg_inf": -inf, "min_subnormal": 5e-324, "max": 1.7976931348623157e308,
                   "one_e_minus_5": 1e-05},
        "bools_none": [True, False, None],
        "strings": {"empty": "", "ascii": "hello", "latin": "h\u00e9llo w\u00f6rld",
                    "cjk": "\u65e5\u672c\u8a9e", "emoji": "\U0001F642", "nul": "a\x00b",
                    "newline": "l1\nl2"},
        "bytes": {"binary": bytes([0, 255, 128, 10, 13]) + b"abc", "one": b"\x00"},
        "complex": complex(1.5, -2.0),
        "complex_nonfinite": complex(nan, -inf),
        "size": torch.Size([2, 3]),
        "empty_size": torch.Size([]),
        "devices": [torch.device("cpu"), torch.device("cuda", 1), torch.device("cuda")],
        "dtypes": [torch.float32, torch.bfloat16, torch.float8_e4m3fn, torch.uint64, torch.bool],
        "empties": {"dict": {}, "list": [], "tuple": ()},
        "deep": [[[[{"leaf": 1}]]]],
    }


def bytes_values():
    """bytes as protocol 2 pickles them: non-empty ones through _codecs.encode(str, "latin1"),
    the empty one as a call of __builtin__.bytes (which weights_only refuses)."""
    return {"empty": b"", "all_256": bytes(range(256)), "ascii": b"abc"}


def mixed_location_tensors():
    """Tensors meant for cpu, cuda:0 and cuda:3: the key prefix names the device
    (see tags_by_key_prefix)."""
    torch.manual_seed(8)
    on_cuda0 = torch.randn(3, 4)
    on_cuda3 = torch.randn(6)
    return OrderedDict([
        ("cpu.weight", torch.randn(2, 2)),
        ("cuda0.weight", on_cuda0),
        ("cuda0.weight_t", on_cuda0.t()),  # shares the cuda:0 storage
        ("cuda3.bias", on_cuda3),
        ("cuda3.bias_tail", on_cuda3[2:]),
        ("cpu.step", torch.tensor(10)),
        ("cuda0.counts", torch.arange(5, dtype=torch.int64)),
    ])


def tags_by_key_prefix(obj):
    """data_ptr -> location for mixed_location_tensors(): "cuda3.x" is on cuda:3, "cpu.x" on cpu."""
    tags = {}
    for key, tensor in obj.items():
        prefix = key.split(".", 1)[0]
        location = "cpu" if prefix == "cpu" else "cuda:" + prefix[len("cuda"):]
        tags[tensor.untyped_storage().data_ptr()] = location
    return tags


def all_on(obj, location):
    """A data_ptr -> location map that puts every tensor storage in `obj` on `location`."""
    tags = {}

    def visit(o):
        if isinstance(o, torch.Tensor):
            tags[o.untyped_storage().data_ptr()] = location
        elif isinstance(o, dict):
            for v in o.values():
                visit(v)
        elif isinstance(o, (list, tuple)):
            for v in o:
                visit(v)

    visit(obj)
    return tags
