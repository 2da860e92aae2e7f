"""Checks on what torch.load gives back that the inspect entries cannot show (for
make_corpus.py): object identity of tied weights, shared storages, Python attributes on tensors,
lazy conj/neg bits, OrderedDict _metadata, Namespace objects."""

import argparse
from collections import OrderedDict

import torch


def _same_storage(*tensors):
    return len({t.untyped_storage().data_ptr() for t in tensors}) == 1


def _state_dict(loaded):
    assert isinstance(loaded, OrderedDict) and isinstance(loaded._metadata, OrderedDict)
    assert loaded["bn.num_batches_tracked"].dim() == 0
    assert loaded["bn.num_batches_tracked"].dtype == torch.int64


def _prefixed(prefix):
    def check(loaded):
        assert all(key.startswith(prefix) for key in loaded), list(loaded)
        assert prefix.rstrip(".") in loaded._metadata
    return check


def _shared(loaded):
    assert loaded["embed.weight"] is loaded["lm_head.weight"]
    assert isinstance(loaded["embed.weight"], torch.nn.Parameter)
    assert _same_storage(loaded["whole"], loaded["first_half"], loaded["second_half"],
                         loaded["as_matrix"])
    assert loaded["second_half"].storage_offset() == 5


def _views(loaded):
    assert _same_storage(*[loaded[k] for k in ("rows_from_1", "transposed", "diagonal")])
    assert loaded["transposed"].stride() == (1, 6)
    assert loaded["narrow_dim1_at_2_len_3"].storage_offset() == 2
    assert loaded["expanded_row"].stride() == (0, 1)
    assert loaded["expanded_scalar"].stride() == (0, 0)


def _attributes(loaded):
    assert loaded["tensor"].foo == 1 and loaded["tensor"].note == "calibrated"
    assert isinstance(loaded["parameter"], torch.nn.Parameter) and loaded["parameter"].bar == "x"


def _conj_neg(loaded):
    assert loaded["conj"].is_conj() and loaded["neg"].is_neg()


def _namespace(loaded):
    assert isinstance(loaded["args"], argparse.Namespace)


def _zero_dim(loaded):
    assert loaded["element_of_base"].storage_offset() == 3
    assert loaded["element_of_base"].untyped_storage().nbytes() == 40


def _legacy_views(loaded):
    _views(loaded["views"])
    _shared(loaded["shared"])


CHECKS = {
    "state_dict_small.pt": _state_dict,
    "state_dict_data_parallel.pt": _prefixed("module."),
    "state_dict_compiled.pt": _prefixed("_orig_mod."),
    "tensors_shared_storage.pt": _shared,
    "tensors_views.pt": _views,
    "tensors_with_attributes.pt": _attributes,
    "tensors_conj_neg.pt": _conj_neg,
    "training_checkpoint_namespace.pt": _namespace,
    "tensors_zero_dim.pt": _zero_dim,
    "legacy_views_shared.pt": _legacy_views,
    "legacy_state_dict.pt": _state_dict,
    "located_cuda1.pt": _state_dict,
}


def check(name, loaded):
    if name in CHECKS:
        CHECKS[name](loaded)
