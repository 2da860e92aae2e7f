"""The safetensors cases that zip_cases.py writes: files from the library in every dtype and
with metadata, described from their header as `json` parses it, and malformed files with the
library's verdict on each.
"""

import json
import struct

import numpy as np
import safetensors
import safetensors.numpy
import safetensors.torch
import torch

from zip_cases_zip import sha256

SAFETENSORS_LENGTH = struct.Struct("<Q")

TORCH_DTYPES = [
    "float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8",
    "bool", "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e8m0fnu",
    "float8_e4m3fnuz", "float8_e5m2fnuz", "complex64", "float4_e2m1fn_x2",
]


def safetensors_tensors():
    g = torch.Generator().manual_seed(99)
    tensors = {}
    for i, name in enumerate(TORCH_DTYPES):
        dtype = getattr(torch, name)
        raw = torch.randint(0, 256, (2, 3 + i % 3), generator=g, dtype=torch.uint8)
        if dtype == torch.bool:
            tensors[name] = raw % 2 == 1
        else:
            elem = torch.empty((), dtype=dtype).element_size()
            tensors[name] = raw.repeat(1, elem).view(dtype)  # random bytes of every dtype
    tensors["scalar"] = torch.tensor(3.5)
    tensors["empty"] = torch.zeros(0, dtype=torch.int32)
    tensors["empty_2d"] = torch.zeros(2, 0)
    # Names that exercise JSON escaping and byte-wise sorting.
    tensors['quote"back\\slash'] = torch.ones(1, dtype=torch.float32)
    tensors["ctrl\x01\ttab\nline"] = torch.ones(1, dtype=torch.float32)
    tensors["é-accent"] = torch.ones(1, dtype=torch.float32)
    tensors["\U0001F600-emoji"] = torch.ones(1, dtype=torch.float32)
    tensors["\uFF21-fullwidth"] = torch.ones(1, dtype=torch.float32)
    tensors["Z-upper"] = torch.ones(2, dtype=torch.float32)
    return tensors


def describe_safetensors(path, label, rewrite_exact):
    data = path.read_bytes()
    (n,) = SAFETENSORS_LENGTH.unpack_from(data)
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", None) or {}
    start = 8 + n
    entries = []
    with safetensors.safe_open(str(path), framework="pt") as f:
        keys = set(f.keys())
        assert (f.metadata() or {}) == metadata, (f.metadata(), metadata)
    for name, info in sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, end = info["data_offsets"]
        assert name in keys
        entries.append({
            "name": name,
            "dtype": info["dtype"],
            "shape": info["shape"],
            "begin": start + begin,
            "end": start + end,
            "sha256": sha256(data[start + begin:start + end]),
        })
    return {
        "file": label,
        "header_length": n,
        "metadata": metadata,
        "entries": entries,
        # With at most one metadata key the library's hash order cannot differ from a sorted
        # one, so a writer that follows the library must reproduce the file byte for byte.
        "rewrite_exact": rewrite_exact,
    }


def st_file(header, data=b"", pad=True):
    if isinstance(header, (dict, list)):
        header = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        header += b" " * (-len(header) % 8)
    return SAFETENSORS_LENGTH.pack(len(header)) + header + data


def u8(shape, offsets):
    return {"dtype": "U8", "shape": shape, "data_offsets": offsets}


def malformed_safetensors():
    """(name, bytes, java_stricter): odd and broken files; Python's verdict goes in the manifest.

    java_stricter marks files the library accepts but ckpt4j deliberately refuses.
    """
    one = {"t": u8([1], [0, 1])}
    return [
        ("ok_unknown_field", st_file({"t": {**u8([1], [0, 1]), "extra": 1}}, b"a"), False),
        ("ok_leading_space", st_file(b' {"t":' + json.dumps(u8([1], [0, 1])).encode() + b"}", b"a"), False),
        ("ok_unpadded", st_file(one, b"a", pad=False), False),
        ("ok_offsets_not_in_header_order",
         st_file({"b": u8([1], [1, 2]), "a": u8([1], [0, 1])}, b"ab"), False),
        ("ok_metadata_null", st_file(b'{"__metadata__":null,"t":' + json.dumps(u8([1], [0, 1])).encode() + b"}", b"a"), False),
        ("ok_no_tensors", st_file({}), False),
        ("ok_two_empty", st_file({"a": u8([0], [0, 0]), "b": u8([0], [0, 0])}), False),
        ("ok_f4_whole_bytes", st_file({"t": {"dtype": "F4", "shape": [3, 2], "data_offsets": [0, 3]}}, b"abc"), False),
        ("duplicate_key_same", st_file(b'{"t":' + json.dumps(u8([1], [0, 1])).encode() + b',"t":' + json.dumps(u8([1], [0, 1])).encode() + b"}", b"a"), True),
        ("duplicate_key_different", st_file(b'{"t":' + json.dumps(u8([1], [0, 1])).encode() + b',"t":' + json.dumps(u8([1], [1, 2])).encode() + b"}", b"ab"), False),
        ("negative_dim", st_file({"t": u8([-1], [0, 1])}, b"a"), False),
        ("float_dim", st_file(b'{"t":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}', b"a"), False),
        ("huge_dims_overflow", st_file({"t": u8([2**63 - 1, 2**62], [0, 1])}, b"a"), False),
        ("dim_above_u64", st_file({"t": u8([2**64], [0, 1])}, b"a"), False),
        ("unknown_dtype", st_file({"t": {"dtype": "F128", "shape": [1], "data_offsets": [0, 1]}}, b"a"), False),
        ("wrong_byte_count", st_file({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"abcd"), False),
        ("f4_half_byte", st_file({"t": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}}, b"ab"), False),
        ("gap_at_start", st_file({"t": u8([1], [1, 2])}, b"ab"), False),
        ("overlap", st_file({"a": u8([2], [0, 2]), "b": u8([1], [1, 2])}, b"ab"), False),
        ("end_before_begin", st_file({"a": u8([0], [0, 0]), "b": u8([0], [1, 0])}, b"a"), False),
        ("trailing_bytes", st_file(one, b"ab"), False),
        ("truncated_data", st_file({"t": u8([4], [0, 4])}, b"ab"), False),
        ("offsets_three_items", st_file({"t": u8([1], [0, 1, 2])}, b"a"), False),
        ("missing_shape", st_file({"t": {"dtype": "U8", "data_offsets": [0, 1]}}, b"a"), False),
        ("metadata_not_string", st_file({"__metadata__": {"a": 1}, **one}, b"a"), False),
        ("top_level_array", st_file([]), False),
        ("nul_padding", st_file(b"{}\0\0\0\0\0\0", pad=False), False),
        ("trailing_json", st_file(b"{} x"), False),
        ("invalid_utf8", st_file(b'{"\xff":' + json.dumps(u8([1], [0, 1])).encode() + b"}", b"a"), False),
        ("zero_header_length", SAFETENSORS_LENGTH.pack(0), False),
        ("header_over_100mb", SAFETENSORS_LENGTH.pack(100_000_001) + b"{}", False),
        ("header_length_past_eof", SAFETENSORS_LENGTH.pack(64) + b"{}      ", False),
        ("header_length_above_2_63", SAFETENSORS_LENGTH.pack(2**64 - 8) + b"{}      ", False),
        ("short_file", b"\x02\x00\x00", False),
        ("deep_nesting", st_file(b'{"t":' + b"[" * 100_000 + b"]" * 100_000 + b"}"), False),
    ]


# Why ckpt4j refuses each malformed file it refuses (CheckpointException.Kind).
JAVA_KINDS = {
    "duplicate_key_same": "MALFORMED_CONTAINER",
    "duplicate_key_different": "MALFORMED_CONTAINER",
    "negative_dim": "MALFORMED_CONTAINER",
    "float_dim": "MALFORMED_CONTAINER",
    "huge_dims_overflow": "INVALID_TENSOR",
    "dim_above_u64": "MALFORMED_CONTAINER",
    "unknown_dtype": "UNSUPPORTED_FORMAT",
    "wrong_byte_count": "INVALID_TENSOR",
    "f4_half_byte": "INVALID_TENSOR",
    "gap_at_start": "MALFORMED_CONTAINER",
    "overlap": "MALFORMED_CONTAINER",
    "end_before_begin": "MALFORMED_CONTAINER",
    "trailing_bytes": "MALFORMED_CONTAINER",
    "truncated_data": "TRUNCATED",
    "offsets_three_items": "MALFORMED_CONTAINER",
    "missing_shape": "MALFORMED_CONTAINER",
    "metadata_not_string": "MALFORMED_CONTAINER",
    "top_level_array": "MALFORMED_CONTAINER",
    "nul_padding": "MALFORMED_CONTAINER",
    "trailing_json": "MALFORMED_CONTAINER",
    "invalid_utf8": "MALFORMED_CONTAINER",
    "zero_header_length": "MALFORMED_CONTAINER",
    "header_over_100mb": "MALFORMED_CONTAINER",
    "header_length_past_eof": "TRUNCATED",
    "header_length_above_2_63": "MALFORMED_CONTAINER",
    "short_file": "TRUNCATED",
    "deep_nesting": "MALFORMED_CONTAINER",
}


def python_verdict(path):
    try:
        with safetensors.safe_open(str(path), framework="np") as f:
            list(f.keys())
        return True, ""
    except Exception as e:  # the library raises several types (SafetensorError, ValueError...)
        return False, f"{type(e).__name__}: {e}"


def write_safetensors_cases(out):
    described = []
    tensors = safetensors_tensors()
    safetensors.torch.save_file(tensors, out / "st_dtypes.safetensors")
    described.append(describe_safetensors(out / "st_dtypes.safetensors", "st_dtypes.safetensors", True))

    small = {"b": torch.arange(6, dtype=torch.int16).reshape(2, 3), "a": torch.ones(2, 2)}
    safetensors.torch.save_file(small, out / "st_meta1.safetensors", metadata={"format": "pt"})
    described.append(describe_safetensors(out / "st_meta1.safetensors", "st_meta1.safetensors", True))

    meta = {"format": "pt", "note": "quote \" back \\ tab \t é", "a": "1", "zz": ""}
    safetensors.torch.save_file(small, out / "st_meta_many.safetensors", metadata=meta)
    described.append(
        describe_safetensors(out / "st_meta_many.safetensors", "st_meta_many.safetensors", False))

    arrays = {"x": np.arange(12, dtype=np.float32).reshape(3, 4), "y": np.array([1, 2], dtype=np.uint64)}
    safetensors.numpy.save_file(arrays, str(out / "st_numpy.safetensors"))
    described.append(describe_safetensors(out / "st_numpy.safetensors", "st_numpy.safetensors", True))

    malformed = []
    bad = out / "st_malformed"
    bad.mkdir(exist_ok=True)
    for name, data, stricter in malformed_safetensors():
        path = bad / (name + ".safetensors")
        path.write_bytes(data)
        accepted, error = python_verdict(path)
        case = {
            "file": f"st_malformed/{path.name}",
            "python_accepts": accepted,
            "python_error": error,
            "java_stricter": stricter,
        }
        if stricter or not accepted:
            case["java_kind"] = JAVA_KINDS[name]
        malformed.append(case)
    return described, malformed
