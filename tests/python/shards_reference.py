"""transformers' sharded checkpoints, written out here because transformers is not installed.

What `model.save_pretrained(dir, max_shard_size=..., safe_serialization=...)` does with a
state_dict (transformers 4.48 modeling_utils + huggingface_hub.serialization), and the loop that
`from_pretrained` / `load_sharded_checkpoint` runs to read one back:

- `convert_file_size_to_int`: transformers.utils.hub, as it is.
- `split_state_dict_into_shards`: huggingface_hub's split_state_dict_into_shards_factory with
  the torch storage id and size (`untyped_storage()`: device, data_ptr, nbytes).
- `save_pretrained`: the split, each shard `.contiguous()`, safetensors shards with metadata
  {"format": "pt"} or `torch.save(shard)`, the clean-up of earlier shards, and the index
  `json.dumps(index, indent=2, sort_keys=True) + "\\n"`.
- `load_sharded`: `json.load(index)`, then for each of `sorted(set(weight_map.values()))`
  `state_dict.update(load_file(f))` (safetensors) or `torch.load(f, weights_only=True)`.
"""
import json
import os
import re

import torch
from safetensors.torch import load_file, save_file

SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
WEIGHTS_NAME = "pytorch_model.bin"
WEIGHTS_INDEX_NAME = "pytorch_model.bin.index.json"


def convert_file_size_to_int(size):
    """transformers.utils.hub.convert_file_size_to_int."""
    if isinstance(size, int):
        return size
    if size.upper().endswith("GIB"):
        return int(size[:-3]) * (2**30)
    if size.upper().endswith("MIB"):
        return int(size[:-3]) * (2**20)
    if size.upper().endswith("KIB"):
        return int(size[:-3]) * (2**10)
    if size.upper().endswith("GB"):
        int_size = int(size[:-2]) * (10**9)
        return int_size // 8 if size.endswith("b") else int_size
    if size.upper().endswith("MB"):
        int_size = int(size[:-2]) * (10**6)
        return int_size // 8 if size.endswith("b") else int_size
    if size.upper().endswith("KB"):
        int_size = int(size[:-2]) * (10**3)
        return int_size // 8 if size.endswith("b") else int_size
    raise ValueError("`size` is not in a valid format. Use an integer followed by the unit, e.g., '5GB'.")


def storage_id(tensor):
    storage = tensor.untyped_storage()
    return (tensor.device, storage.data_ptr(), storage.nbytes())


def split_state_dict_into_shards(state_dict, filename_pattern, max_shard_size):
    """huggingface_hub: returns (total_size, [(filename, [keys])]) in file order."""
    if isinstance(max_shard_size, str):
        max_shard_size = convert_file_size_to_int(max_shard_size)
    storage_id_to_tensors = {}
    shard_list = []
    current_shard = {}
    current_shard_size = 0
    total_size = 0
    for key, tensor in state_dict.items():
        sid = storage_id(tensor)
        if sid in storage_id_to_tensors:
            storage_id_to_tensors[sid].append(key)
            continue
        storage_id_to_tensors[sid] = [key]
        tensor_size = tensor.untyped_storage().nbytes()
        if tensor_size > max_shard_size:
            total_size += tensor_size
            shard_list.append({key: tensor})
            continue
        if current_shard_size + tensor_size > max_shard_size:
            shard_list.append(current_shard)
            current_shard = {}
            current_shard_size = 0
        current_shard[key] = tensor
        current_shard_size += tensor_size
        total_size += tensor_size
    if len(current_shard) > 0:
        shard_list.append(current_shard)
    nb_shards = len(shard_list)
    for sid, keys in storage_id_to_tensors.items():
        for shard in shard_list:
            if keys[0] in shard:
                for key in keys:
                    shard[key] = state_dict[key]
                break
    if nb_shards == 1:
        return total_size, [(filename_pattern.format(suffix=""), list(state_dict.keys()))]
    return total_size, [
        (filename_pattern.format(suffix=f"-{idx + 1:05d}-of-{nb_shards:05d}"), list(shard.keys()))
        for idx, shard in enumerate(shard_list)
    ]


def names(safe_serialization):
    weights = SAFE_WEIGHTS_NAME if safe_serialization else WEIGHTS_NAME
    index = SAFE_WEIGHTS_INDEX_NAME if safe_serialization else WEIGHTS_INDEX_NAME
    pattern = weights.replace(".bin", "{suffix}.bin").replace(".safetensors", "{suffix}.safetensors")
    return weights, index, pattern


def plan(state_dict, max_shard_size, safe_serialization):
    """(total_size, shards, index or None, index file name) as save_pretrained would write them."""
    _, index_name, pattern = names(safe_serialization)
    total_size, shards = split_state_dict_into_shards(state_dict, pattern, max_shard_size)
    index = None
    if len(shards) > 1:
        weight_map = {key: filename for filename, keys in shards for key in keys}
        index = {"metadata": {"total_size": total_size}, "weight_map": weight_map}
    return total_size, shards, index, index_name


def index_text(index):
    return json.dumps(index, indent=2, sort_keys=True) + "\n"


def save_pretrained(state_dict, save_directory, max_shard_size="5GB", safe_serialization=True,
                    torch_save=torch.save):
    """The weights part of PreTrainedModel.save_pretrained (no config, no tied-weight pruning:
    pass a state_dict safetensors can hold)."""
    os.makedirs(save_directory, exist_ok=True)
    weights_name, _, _ = names(safe_serialization)
    _, shards, index, index_name = plan(state_dict, max_shard_size, safe_serialization)
    weights_no_suffix = weights_name.replace(".bin", "").replace(".safetensors", "")
    reg = re.compile(r"(.*?)-\d{5}-of-\d{5}")
    filenames = {filename for filename, _ in shards}
    for filename in os.listdir(save_directory):
        full_filename = os.path.join(save_directory, filename)
        filename_no_suffix = filename.replace(".bin", "").replace(".safetensors", "")
        if (filename.startswith(weights_no_suffix) and os.path.isfile(full_filename)
                and filename not in filenames and reg.fullmatch(filename_no_suffix) is not None):
            os.remove(full_filename)
    for shard_file, keys in shards:
        shard = {key: state_dict[key].contiguous() for key in keys}
        path = os.path.join(save_directory, shard_file)
        if safe_serialization:
            save_file(shard, path, metadata={"format": "pt"})
        else:
            torch_save(shard, path)
    if index is not None:
        with open(os.path.join(save_directory, index_name), "w", encoding="utf-8") as f:
            f.write(index_text(index))
    return shards, index


def load_shard(path):
    if path.endswith(".safetensors"):
        return load_file(path)
    return torch.load(path, map_location="cpu", weights_only=True)


def load_sharded(index_file):
    """The loading loop: json + load_file / torch.load over sorted(set(weight_map.values()))."""
    with open(index_file, "r", encoding="utf-8") as f:
        index = json.load(f)
    folder = os.path.dirname(index_file)
    state_dict = {}
    for shard_file in sorted(set(index["weight_map"].values())):
        state_dict.update(load_shard(os.path.join(folder, shard_file)))
    return state_dict
