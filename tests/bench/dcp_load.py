"""Times Python's own loaders on a DCP directory, best of N runs, printing `<dir> <mode> <seconds>`
lines like `ckpt4j bench-load`:

  full      dcp_to_torch_save's load (without its torch.save): _load_state_dict into {} with
            _EmptyStateDictLoadPlanner, no_dist=True — every tensor allocated whole and filled from
            its chunks (each chunk torch.load'ed from its .distcp file, then copied)
  prealloc  dcp.load(state_dict, checkpoint_id=dir) into a state_dict of torch.empty tensors of the
            metadata's sizes (allocated inside the timing: a loader has to allocate them too)
  lazy      FileSystemReader(dir).read_metadata(): the .metadata unpickled, no chunk read (what a
            lazy open must do at least)
"""
import sys
import warnings

import torch
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint import FileSystemReader
from torch.distributed.checkpoint.default_planner import _EmptyStateDictLoadPlanner
from torch.distributed.checkpoint.state_dict_loader import _load_state_dict

from bench_lines import best  # noqa: E402  (tests/bench is the script's directory)

RUNS = 5
warnings.filterwarnings("ignore")


def full(directory):
    sd = {}
    _load_state_dict(sd, storage_reader=FileSystemReader(directory),
                     planner=_EmptyStateDictLoadPlanner(), no_dist=True)
    return sd


def prealloc(directory):
    md = FileSystemReader(directory).read_metadata()
    sd = {k: torch.empty(v.size, dtype=v.properties.dtype)
          for k, v in md.state_dict_metadata.items()}
    dcp.load(sd, checkpoint_id=directory)
    return sd


def lazy(directory):
    return FileSystemReader(directory).read_metadata()


if __name__ == "__main__":
    for directory in sys.argv[1:]:
        for mode in (full, prealloc, lazy):
            print("%s %s %.4f" % (directory, mode.__name__, best(mode, directory, RUNS)), flush=True)
