#!/usr/bin/env python3
"""Hugging Face sharded checkpoints, written with torch 2.13 + safetensors as save_pretrained
writes them, for the Java reader; and the check of the ones Java wrote.

    python3 tests/python/make_shards.py OUTDIR              # write the cases
    python3 tests/python/make_shards.py check OUTDIR JAVADIR
        # JAVADIR/manifest.json lists what Java saved; each is compared with what
        # save_pretrained would have written for the same state_dict; prints
        # "shards check: N passed, M failed" and exits 1 on a failure
    python3 tests/python/make_shards.py demo OUTDIR         # the small copy `ckpt4j demo` ships

transformers is not installed: shards_reference.py holds its sharding, naming, index writing and
loading loop. Every expected value here comes from that loop run on the files written here.

OUTDIR/manifest.json: {"read": [CASE, ...], "sources": {name: file}, "sizes": {max_shard_size
string: bytes transformers reads, or null where it raises}}. A CASE:
  "name", "open" (the path Java opens, relative to OUTDIR: a directory or an index file),
  "format" ("hf-sharded", or "safetensors" for a one-file save), "expected" (the inspect --json
  document of what the loop returned, LEAF per tensor, entries in the loop's order), "shards"
  (the shard files, sorted), "shared" (groups of keys sharing one storage after loading),
  "unnamed" (keys a shard holds that the index does not name: Java must warn), and for a broken
  checkpoint "error": {"kind", "mentions": [strings the one-line message must name]}.
"sources": torch.save'd state_dicts the Java writer tests shard (see `check`).
"""
import hashlib
import json
import os
import shutil
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_expect  # noqa: E402
import corpus_values  # noqa: E402
import shards_reference as hf  # noqa: E402

SEED = 20260310
HIDDEN = 16
VOCAB = 64
LAYERS = 4
# dtypes a safetensors shard holds that LibTorch 2.13 has (complex128 has no safetensors type)
SAFETENSORS_DTYPES = [
    torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.complex64, torch.int8,
    torch.int16, torch.int32, torch.int64, torch.uint8, torch.bool, torch.uint16, torch.uint32,
    torch.uint64, torch.float8_e4m3fn, torch.float8_e5m2,
]


class Everything:
    """Device lookup for corpus_expect.walk: every storage here is on the CPU."""

    def location_of(self, untyped):
        return "cpu"


def model_state_dict(tied=False):
    """A small decoder's state_dict (Llama-style names), float32, in module order."""
    g = torch.Generator().manual_seed(SEED)
    randn = lambda *shape: torch.randn(*shape, generator=g)  # noqa: E731
    sd = {"model.embed_tokens.weight": randn(VOCAB, HIDDEN)}
    for i in range(LAYERS):
        p = "model.layers.%d." % i
        for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
            sd[p + "self_attn." + proj + ".weight"] = randn(HIDDEN, HIDDEN)
        sd[p + "mlp.up_proj.weight"] = randn(2 * HIDDEN, HIDDEN)
        sd[p + "mlp.down_proj.weight"] = randn(HIDDEN, 2 * HIDDEN)
        sd[p + "input_layernorm.weight"] = torch.ones(HIDDEN) + randn(HIDDEN) / 10
    sd["model.norm.weight"] = torch.ones(HIDDEN)
    sd["lm_head.weight"] = sd["model.embed_tokens.weight"] if tied else randn(VOCAB, HIDDEN)
    return sd


def extras(with_views=False):
    """Every safetensors dtype (all bit patterns of the small float types), a 0-dim and an empty
    tensor, a tensor larger than the shard size; views of one storage for torch shards."""
    sd = {"extras.%s" % corpus_expect.dtype_name(d): corpus_values.dtype_sample(d, seed=i)
          for i, d in enumerate(SAFETENSORS_DTYPES)}
    sd["extras.scalar"] = torch.tensor(3.25)
    sd["extras.empty"] = torch.zeros(0, 4)
    sd["extras.position_ids"] = torch.arange(128).reshape(1, 128)
    if with_views:
        base = torch.arange(48, dtype=torch.float32).reshape(6, 8)
        sd["extras.base"] = base
        sd["extras.rows"] = base[2:4]          # a view at an offset: shares base's storage
        sd["extras.transposed"] = base.t()     # non-contiguous: save_pretrained makes it contiguous
    return sd


def document(state_dict):
    return corpus_expect.expected_document("hf-sharded", state_dict, Everything())


def shared_keys(state_dict):
    groups = {}
    for key, t in state_dict.items():
        if t.untyped_storage().nbytes() > 0:
            groups.setdefault(t.untyped_storage().data_ptr(), []).append(key)
    return [keys for keys in groups.values() if len(keys) > 1]


def rewrite_shard(path, change):
    """Re-saves one shard after change(state_dict) edits it (the index is left as it was)."""
    if path.endswith(".safetensors"):
        sd = load_file(path)
        change(sd)
        save_file(sd, path, metadata={"format": "pt"})
    else:
        sd = torch.load(path, weights_only=True)
        change(sd)
        torch.save(sd, path)


def read_case(out, name, opened, fmt, loaded_from, error=None, unnamed=()):
    """A case entry: what the Python loop loads from `loaded_from` (an index or one file)."""
    case = {"name": name, "open": os.path.relpath(opened, out), "format": fmt, "error": error,
            "unnamed": list(unnamed)}
    if error is None:
        if loaded_from.endswith(".json"):
            sd = hf.load_sharded(loaded_from)
            with open(loaded_from, encoding="utf-8") as f:
                shards = sorted(set(json.load(f)["weight_map"].values()))
        else:
            sd, shards = hf.load_shard(loaded_from), [os.path.basename(loaded_from)]
        expected = os.path.join(out, name + ".expected.json")
        doc = corpus_expect.expected_document(fmt, sd, Everything())
        corpus_expect.write_expected(expected, doc)
        case.update({"expected": os.path.relpath(expected, out), "shards": shards,
                     "shared": shared_keys(sd), "keys": len(sd)})
    return case


MAX_SHARD_SIZES = ["5GB", "5GiB", "5Gb", "5gb", "10MB", "3mib", "1_000KB", " 7MB", "+3KiB",
                   "100Kb", "12kib", "0KB", "-1GB", "10", "5.5GB", "GB", "5TB", "9999999999GiB"]


def max_shard_sizes():
    """transformers' reading of each max_shard_size string: bytes, or null where it raises."""
    sizes = {}
    for text in MAX_SHARD_SIZES:
        try:
            sizes[text] = hf.convert_file_size_to_int(text)
        except ValueError:
            sizes[text] = None
    return sizes


def index_json_sample():
    """Keys that test the index text: sort order by code point (U+FFFF before U+1F600, which
    UTF-16 order reverses), ensure_ascii escapes, control characters, DEL."""
    keys = ["b.weight", "a.bias", "B", "\u00e9t\u00e9", "\u65e5\u672c", "\U0001F600", "\uffff",
            "tab\tkey", 'quote"key', "back\\slash", "del\x7fkey", "nul\x00key", "ctrl\x1fkey",
            "line\nfeed", "slash/key"]
    weight_map = {k: "model-%05d-of-00002.safetensors" % (1 + i % 2) for i, k in enumerate(keys)}
    index = {"metadata": {"total_size": 123456789012}, "weight_map": weight_map}
    return {"total_size": 123456789012, "weight_map": weight_map, "text": hf.index_text(index)}


def write_cases(out):
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    cases = []
    path = lambda *p: os.path.join(out, *p)  # noqa: E731

    # 1. safetensors shards, opened through the directory (save_pretrained's default)
    sd = {**model_state_dict(), **extras()}
    shards, index = hf.save_pretrained(sd, path("safetensors"), "40KB", safe_serialization=True)
    assert len(shards) >= 4, [s for s, _ in shards]
    cases.append(read_case(out, "safetensors", path("safetensors"), "hf-sharded",
                           path("safetensors", hf.SAFE_WEIGHTS_INDEX_NAME)))
    # ... and through the index file
    cases.append(read_case(out, "safetensors_index", path("safetensors", hf.SAFE_WEIGHTS_INDEX_NAME),
                           "hf-sharded", path("safetensors", hf.SAFE_WEIGHTS_INDEX_NAME)))

    # 2. torch.save shards (zip format), tied embedding and views of one storage
    sd = {**model_state_dict(tied=True), **extras(with_views=True)}
    shards, _ = hf.save_pretrained(sd, path("torch"), "20KiB", safe_serialization=False)
    assert len(shards) >= 4
    cases.append(read_case(out, "torch", path("torch"), "hf-sharded",
                           path("torch", hf.WEIGHTS_INDEX_NAME)))

    # 3. torch.save shards in the legacy format (pre-1.6 Hub repos); dtypes it can read back
    legacy = model_state_dict(tied=True)
    legacy.update({"extras.%s" % corpus_expect.dtype_name(d): corpus_values.dtype_sample(d, i)
                   for i, d in enumerate(corpus_values.LEGACY_DTYPES)})
    hf.save_pretrained(legacy, path("torch_legacy"), "30KB", safe_serialization=False,
                       torch_save=lambda obj, f: torch.save(obj, f, _use_new_zipfile_serialization=False))
    cases.append(read_case(out, "torch_legacy", path("torch_legacy"), "hf-sharded",
                           path("torch_legacy", hf.WEIGHTS_INDEX_NAME)))

    # 4. one shard: save_pretrained writes model.safetensors and no index
    hf.save_pretrained(model_state_dict(), path("single"), "5GB", safe_serialization=True)
    assert sorted(os.listdir(path("single"))) == [hf.SAFE_WEIGHTS_NAME]
    cases.append(read_case(out, "single", path("single"), "safetensors",
                           path("single", hf.SAFE_WEIGHTS_NAME)))

    # 5. diffusers' index name in a directory
    hf.save_pretrained(model_state_dict(), path("diffusers"), "10KB", safe_serialization=True)
    os.rename(path("diffusers", hf.SAFE_WEIGHTS_INDEX_NAME),
              path("diffusers", "diffusion_pytorch_model.safetensors.index.json"))
    cases.append(read_case(out, "diffusers", path("diffusers"), "hf-sharded",
                           path("diffusers", "diffusion_pytorch_model.safetensors.index.json")))

    # 6. a shard holding a key the index does not name: loaded (the loop loads it), with a warning
    shards, _ = hf.save_pretrained(model_state_dict(), path("unnamed_key"), "10KB")
    last = path("unnamed_key", shards[-1][0])
    rewrite_shard(last, lambda s: s.update({"stray.weight": torch.full((3,), 7.0)}))
    cases.append(read_case(out, "unnamed_key", path("unnamed_key"), "hf-sharded",
                           path("unnamed_key", hf.SAFE_WEIGHTS_INDEX_NAME),
                           unnamed=["stray.weight"]))

    # Broken: what the loop would silently get wrong or fail on deep inside.
    def broken(name, safe=True):
        shards, _ = hf.save_pretrained(model_state_dict(), path(name), "10KB",
                                       safe_serialization=safe)
        return shards

    shards = broken("missing_shard")
    os.remove(path("missing_shard", shards[1][0]))
    cases.append(read_case(out, "missing_shard", path("missing_shard"), "hf-sharded", None,
                           error={"kind": "missing shard",
                                  "mentions": [shards[1][0], min(shards[1][1])]}))

    shards = broken("key_in_two_shards")
    moved = shards[0][1][0]
    value = load_file(path("key_in_two_shards", shards[0][0]))[moved]
    rewrite_shard(path("key_in_two_shards", shards[2][0]), lambda s: s.update({moved: value}))
    cases.append(read_case(out, "key_in_two_shards", path("key_in_two_shards"), "hf-sharded", None,
                           error={"kind": "key in two shards",
                                  "mentions": [moved, shards[0][0], shards[2][0]]}))

    shards = broken("key_not_in_shard", safe=False)
    dropped = shards[1][1][-1]
    rewrite_shard(path("key_not_in_shard", shards[1][0]), lambda s: s.pop(dropped))
    cases.append(read_case(out, "key_not_in_shard", path("key_not_in_shard"), "hf-sharded", None,
                           error={"kind": "key not in its shard",
                                  "mentions": [dropped, shards[1][0]]}))

    os.makedirs(path("not_an_index"))
    with open(path("not_an_index", hf.SAFE_WEIGHTS_INDEX_NAME), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weights": {}}, f)
    cases.append(read_case(out, "not_an_index", path("not_an_index"), "hf-sharded", None,
                           error={"kind": "no weight_map", "mentions": ["weight_map"]}))

    os.makedirs(path("bad_json"))
    with open(path("bad_json", hf.WEIGHTS_INDEX_NAME), "w") as f:
        f.write('{"metadata": {"total_size": 0}, "weight_map": {"a": "x.bin",')
    cases.append(read_case(out, "bad_json", path("bad_json"), "hf-sharded", None,
                           error={"kind": "not JSON", "mentions": ["not valid JSON"]}))

    shards = broken("escaping_name")
    with open(path("escaping_name", hf.SAFE_WEIGHTS_INDEX_NAME)) as f:
        index = json.load(f)
    key = next(iter(index["weight_map"]))
    index["weight_map"][key] = "../" + index["weight_map"][key]
    with open(path("escaping_name", hf.SAFE_WEIGHTS_INDEX_NAME), "w") as f:
        f.write(hf.index_text(index))
    cases.append(read_case(out, "escaping_name", path("escaping_name"), "hf-sharded", None,
                           error={"kind": "shard outside the directory",
                                  "mentions": [index["weight_map"][key]]}))

    shards = broken("duplicate_key")
    index_file = path("duplicate_key", hf.SAFE_WEIGHTS_INDEX_NAME)
    with open(index_file, encoding="utf-8") as f:
        text = f.read()
    first = '"weight_map": {\n'
    line = text[text.index(first) + len(first):].split("\n", 1)[0]  # '    "key": "shard",'
    text = text.replace(first + line, first + line + "\n" + line.rstrip(",") .replace(
        shards[-1][0], shards[0][0]) + ",", 1)
    with open(index_file, "w", encoding="utf-8") as f:
        f.write(text)
    with open(index_file, encoding="utf-8") as f:
        assert len(json.load(f)["weight_map"]) == len(model_state_dict())  # json keeps the last
    cases.append(read_case(out, "duplicate_key", path("duplicate_key"), "hf-sharded", None,
                           error={"kind": "a key named twice in the index",
                                  "mentions": [line.split('"')[1]]}))

    os.makedirs(path("empty_dir"))
    cases.append(read_case(out, "empty_dir", path("empty_dir"), "hf-sharded", None,
                           error={"kind": "no checkpoint in the directory",
                                  "mentions": [hf.SAFE_WEIGHTS_INDEX_NAME, hf.WEIGHTS_INDEX_NAME]}))

    # Sources the Java writer shards (check() compares Java's shards with save_pretrained's)
    os.makedirs(path("sources"))
    sources = {
        "plain": {**model_state_dict(), **extras()},
        "tied": {**model_state_dict(tied=True), **extras(with_views=True)},
    }
    for name, sd in sources.items():
        torch.save(sd, path("sources", name + ".pt"))
    manifest = {"generator": "make_shards.py", "torch_version": torch.__version__,
                "read": cases, "sources": {n: "sources/%s.pt" % n for n in sources},
                "sizes": max_shard_sizes(), "index_json": index_json_sample()}
    with open(path("manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    print("make_shards: %d cases in %s" % (len(cases), out))


# --------------------------------------------------------------------------------------------
# check: what Java saved, against what save_pretrained would have saved
# --------------------------------------------------------------------------------------------

class Mismatch(AssertionError):
    pass


def expect(cond, message):
    if not cond:
        raise Mismatch(message)


def sha(t):
    return corpus_expect.tensor_sha256(t)


def check_case(out, javadir, case):
    """case: {"name", "dir", "source" (a torch.save'd state_dict or a shard index, relative to
    OUTDIR), "format": "safetensors"|"torch", "max_shard_size": str or int, "max_shard_bytes":
    what Java read it as}."""
    source_file = os.path.join(out, case["source"])
    if source_file.endswith(".json"):
        # a sharded checkpoint: the loop's state_dict, each tensor in a storage of its own (as
        # ckpt4j reads a safetensors tensor; load_file's tensors may view one mapping)
        source = {k: v.clone() for k, v in hf.load_sharded(source_file).items()}
    else:
        source = torch.load(source_file, weights_only=True)
    safe = case["format"] == "safetensors"
    size = case["max_shard_size"]
    expect(hf.convert_file_size_to_int(size) == case["max_shard_bytes"],
           "max_shard_size %r: Java read %d bytes, transformers %d"
           % (size, case["max_shard_bytes"], hf.convert_file_size_to_int(size)))
    total, shards, index, index_name = hf.plan(source, size, safe)
    directory = os.path.join(javadir, case["dir"])
    files = sorted(os.listdir(directory))
    want = sorted([f for f, _ in shards] + ([index_name] if index is not None else []))
    expect(files == want, "files %s, save_pretrained writes %s" % (files, want))
    if index is not None:
        with open(os.path.join(directory, index_name), encoding="utf-8") as f:
            text = f.read()
        expect(text == hf.index_text(index), "index differs from json.dumps(index, indent=2,"
               " sort_keys=True): %r..." % text[:200])
        expect(json.loads(text)["metadata"]["total_size"] == total, "total_size")
    loaded = {}
    for shard_file, keys in shards:
        path = os.path.join(directory, shard_file)
        if safe:
            with safe_open(path, "pt") as f:
                expect(f.metadata() == {"format": "pt"}, "%s metadata %r" % (shard_file, f.metadata()))
            part = load_file(path)
            expect(sorted(part) == sorted(keys), "%s holds %s, expected %s"
                   % (shard_file, sorted(part), sorted(keys)))
        else:
            part = torch.load(path, weights_only=True)
            expect(type(part) is dict, "%s holds a %s, torch.save(shard) writes a dict"
                   % (shard_file, type(part).__name__))
            expect(list(part) == keys, "%s keys %s, expected %s in this order"
                   % (shard_file, list(part), keys))
            reference = {k: source[k].contiguous() for k in keys}
            expect(shared_keys(part) == shared_keys(reference), "%s shares %s, expected %s"
                   % (shard_file, shared_keys(part), shared_keys(reference)))
        loaded.update(part)
    expect(list(loaded) == [k for _, keys in shards for k in keys] or safe, "key order")
    expect(set(loaded) == set(source), "keys %s vs %s" % (sorted(loaded), sorted(source)))
    for key, t in source.items():
        got = loaded[key]
        expect(got.dtype == t.dtype and list(got.shape) == list(t.shape),
               "%s: %s %s, expected %s %s" % (key, got.dtype, list(got.shape), t.dtype, list(t.shape)))
        expect(sha(got) == sha(t), "%s: SHA-256 of the elements differs" % key)
        expect(got.requires_grad == t.requires_grad, "%s requires_grad" % key)
    # what the loading loop gives over Java's files equals the source, entry for entry
    if index is not None:
        again = hf.load_sharded(os.path.join(directory, index_name))
        expect({k: sha(v) for k, v in again.items()} == {k: sha(v) for k, v in source.items()},
               "the loading loop over Java's shards differs from the source")


def check(out, javadir):
    with open(os.path.join(javadir, "manifest.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    passed = failed = 0
    for case in cases:
        try:
            check_case(out, javadir, case)
            print("ok   %s" % case["name"])
            passed += 1
        except Exception as e:  # noqa: BLE001 - report every case
            print("FAIL %s: %s" % (case["name"], e))
            failed += 1
    print("shards check: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


def write_demo(out):
    """A small sharded checkpoint for `ckpt4j demo`: three safetensors shards, and each tensor's
    SHA-256 as the loading loop computes it."""
    if os.path.isdir(out):
        shutil.rmtree(out)
    shards, _ = hf.save_pretrained(model_state_dict(), out, "12KB", safe_serialization=True)
    sd = hf.load_sharded(os.path.join(out, hf.SAFE_WEIGHTS_INDEX_NAME))
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"shards": [s for s, _ in shards],
                   "sha256": {k: sha(v) for k, v in sd.items()}}, f, indent=1)
    print("make_shards: demo checkpoint in %s (%d shards)" % (out, len(shards)))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 3 and sys.argv[1] == "demo":
        write_demo(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) == 2:
        write_cases(sys.argv[1])
        sys.exit(0)
    sys.exit(__doc__)
