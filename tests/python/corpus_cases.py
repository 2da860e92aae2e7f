"""The corpus cases: what each file holds and how torch 2.13 writes it (for make_corpus.py)."""

import contextlib
import io
import os
import zipfile
from dataclasses import dataclass, field
from typing import Callable, Optional

import safetensors.torch
import torch

import corpus_models as models
import corpus_values as values


@dataclass
class Case:
    """One corpus file. `make` builds the object to save (called once, seeds fixed inside);
    `tags` maps storage data_ptr -> location tag written instead of "cpu" (a CUDA save)."""

    file: str
    description: str
    make: Callable[[], object]
    legacy: bool = False
    protocol: Optional[int] = None
    tags_for: Optional[Callable[[object], dict]] = None
    to_buffer: bool = False
    rewrite: Optional[Callable[[str], None]] = None
    safetensors: bool = False
    torch_cannot_load: bool = False
    flags: dict = field(default_factory=dict)


@contextlib.contextmanager
def saved_locations(tags):
    """Make torch.save record `tags[data_ptr]` as a storage's location (e.g. "cuda:1").

    torch.save asks torch.serialization.location_tag(storage) for the string it writes into the
    pickle's persistent id; nothing else in the file depends on the device (storage bytes are
    written from a host copy). So with this patch the file is what a save on that GPU writes.
    """
    original = torch.serialization.location_tag

    def location_tag(storage):
        tag = tags.get(storage.data_ptr())
        return tag if tag is not None else original(storage)

    torch.serialization.location_tag = location_tag
    try:
        yield
    finally:
        torch.serialization.location_tag = original


def save_case(case, obj, path):
    """Writes `obj` as `case` says; returns the data_ptr -> location map that was used."""
    if case.safetensors:
        safetensors.torch.save_file(obj, path, metadata={"format": "pt"})
        return {}
    tags = case.tags_for(obj) if case.tags_for else {}
    kwargs = {"_use_new_zipfile_serialization": not case.legacy}
    if case.protocol is not None:
        kwargs["pickle_protocol"] = case.protocol
    with saved_locations(tags):
        if case.to_buffer:
            buffer = io.BytesIO()
            torch.save(obj, buffer, **kwargs)
            with open(path, "wb") as f:
                f.write(buffer.getvalue())
        else:
            torch.save(obj, path, **kwargs)
    if case.rewrite:
        case.rewrite(path)
    return tags


def rezip(new_root=None, compression=zipfile.ZIP_STORED):
    """A rewrite step: copy the archive with Python's zipfile, renaming the root folder and/or
    compressing the records (no 64-byte alignment, plain local headers)."""

    def rewrite(path):
        tmp = path + ".tmp"
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", compression) as dst:
            for info in src.infolist():
                name = info.filename
                if new_root is not None:
                    name = new_root + name[name.index("/"):]
                dst.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)),
                             src.read(info), compress_type=compression)
        os.replace(tmp, path)

    return rewrite


def _all_cuda1(obj):
    return values.all_on(obj, "cuda:1")


def cases():
    sd = models.small_state_dict
    views_and_sharing = lambda: {"views": values.strided_views(),  # noqa: E731
                                 "shared": values.shared_storage()}
    result = [
        Case("state_dict_small.pt", "SmallNet().state_dict(): OrderedDict with _metadata, "
             "conv/bn/fc, num_batches_tracked 0-dim int64", sd),
        Case("state_dict_data_parallel.pt", "nn.DataParallel(SmallNet()).state_dict(): keys "
             "start with 'module.'", models.data_parallel_state_dict),
        Case("state_dict_compiled.pt", "torch.compile(SmallNet()).state_dict(): keys start "
             "with '_orig_mod.'", models.compiled_state_dict),
        Case("dtypes_all.pt", "one tensor per dtype (17), bit patterns incl. negatives, NaN "
             "payloads, infinities, subnormals; every 8/16-bit float pattern",
             lambda: values.dtype_dict(values.ALL_DTYPES)),
        Case("tensors_zero_dim.pt", "0-dim tensors of several dtypes, one a view at storage "
             "offset 3", values.zero_dim_tensors),
        Case("tensors_empty.pt", "empty tensors: [0], [2,0,3], bool, bfloat16 [0,4], an empty "
             "slice at offset 5", values.empty_tensors),
        Case("tensors_views.pt", "strided views (slices, steps, transpose, narrow at an offset, "
             "diagonal, permute, overlapping as_strided) and stride-0 expands",
             values.strided_views),
        Case("tensors_shared_storage.pt", "tied weights (same Parameter under two keys) and "
             "several views of one base", values.shared_storage),
        Case("tensors_untyped_view_of_typed.pt", "a uint8 tensor and a uint16 view of its bytes:"
             " one storage named as ByteStorage and as UntypedStorage (_rebuild_tensor_v3)",
             values.untyped_view_of_typed),
        Case("tensors_requires_grad.pt", "Parameters with requires_grad True/False, a plain "
             "tensor with requires_grad=True", values.grad_flags),
        Case("tensors_with_attributes.pt", "a tensor with Python attributes "
             "(_rebuild_from_type_v2) and a Parameter with one (_rebuild_parameter_with_state)",
             values.tensor_with_attributes),
        Case("tensors_conj_neg.pt", "lazily conjugated complex64 and negated float64 views "
             "(conj/neg bit saved as _rebuild_tensor_v2 metadata)", values.conj_neg_bits,
             flags={"tensor_metadata": ["conj", "neg"]}),
        Case("training_checkpoint.pt", "training checkpoint: model, SGD-momentum and AdamW "
             "state after 2 steps, StepLR, epoch 7, rng_state, args=vars(Namespace)",
             lambda: models.training_checkpoint(args_as_namespace=False)),
        Case("training_checkpoint_namespace.pt", "the same checkpoint with args an "
             "argparse.Namespace object", lambda: models.training_checkpoint(True)),
        Case("nested_values.pt", "lists of tuples of dicts, int/tuple/float/None keys, every "
             "scalar kind, torch.Size, torch.device, torch.dtype, empty containers",
             values.nested_values),
        Case("bytes_values.pt", "bytes values incl. b'' (pickled as __builtin__.bytes(), "
             "which weights_only refuses)", values.bytes_values),
        Case("bare_tensor.pt", "the saved object is one tensor (path [])",
             lambda: values.dtype_sample(torch.float32)),
        Case("bare_empty_dict.pt", "the saved object is {}", dict),
        Case("located_cuda1.pt", "SmallNet state dict saved with every storage on cuda:1",
             sd, tags_for=_all_cuda1),
        Case("located_mixed.pt", "storages on cpu, cuda:0 and cuda:3 (for map_location dicts)",
             values.mixed_location_tensors, tags_for=values.tags_by_key_prefix),
        Case("resnet18_w16.pt", "resnet18-shaped state dict (torchvision keys, 122 entries), "
             "channels / 4", models.resnet18_shaped_state_dict),
        Case("root_from_buffer.pt", "torch.save to a BytesIO: archive root 'archive'", sd,
             to_buffer=True),
        Case("root_renamed_odd.pt", "root folder renamed to 'my odd-root.v1' by Python zipfile",
             sd, rewrite=rezip("my odd-root.v1")),
        Case("root_renamed_unicode.pt", "root folder renamed to a non-ASCII name (UTF-8 flag)",
             sd, rewrite=rezip("mod\u00e8le_\u00fc")),
        Case("root_renamed_empty.pt", "root folder renamed to '' (records named '/data.pkl')",
             sd, rewrite=rezip("")),
        Case("zip_deflated.pt", "the archive re-zipped with DEFLATE compression (torch.load "
             "reads it)", sd, rewrite=rezip(compression=zipfile.ZIP_DEFLATED)),
        Case("safetensors_mixed.safetensors", "safetensors.torch.save_file of several dtypes, "
             "a 0-dim and an empty tensor", _safetensors_tensors, safetensors=True),
        Case("legacy_state_dict.pt", "legacy format (pickle protocol 2): SmallNet state dict",
             sd, legacy=True),
        Case("legacy_dtypes.pt", "legacy format: every dtype the legacy format can round-trip",
             lambda: values.dtype_dict(values.LEGACY_DTYPES), legacy=True),
        Case("legacy_views_shared.pt", "legacy format: strided views and shared storages",
             views_and_sharing, legacy=True),
        Case("legacy_located_cuda1.pt", "legacy format: every storage on cuda:1", sd,
             legacy=True, tags_for=_all_cuda1),
        Case("legacy_proto5.pt", "legacy format written with pickle protocol 5", sd,
             legacy=True, protocol=5),
        Case("legacy_unreadable_new_dtypes.pt", "legacy format with uint16/32/64 and float8: "
             "torch.save writes it, torch.load cannot read it (no expected file)",
             lambda: values.dtype_dict(values.LEGACY_UNREADABLE_DTYPES), legacy=True,
             torch_cannot_load=True),
    ]
    for protocol in range(1, 6):
        result.append(Case("protocol_%d.pt" % protocol, "SmallNet state dict, zip, "
                           "pickle_protocol=%d" % protocol, sd, protocol=protocol))
    return result


def _safetensors_tensors():
    torch.manual_seed(9)
    return {
        "zeta.weight": torch.randn(3, 4),
        "alpha.bias": torch.randn(5, dtype=torch.float16),
        "mid.bf16": values.dtype_sample(torch.bfloat16)[:2].clone(),
        "counts": torch.arange(6, dtype=torch.int64).reshape(2, 3),
        "mask": torch.tensor([True, False, True]),
        "f8": values.dtype_sample(torch.float8_e4m3fn)[0].clone(),
        "u16": values.dtype_sample(torch.uint16),
        "c64": values.dtype_sample(torch.complex64),
        "i8": values.dtype_sample(torch.int8),
        "scalar": torch.tensor(2.5, dtype=torch.float64),
        "empty": torch.zeros(0, 2),
    }
