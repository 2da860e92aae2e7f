#!/usr/bin/env python3
"""torch.export `.pt2` archives (torch.export.save), written with the torch of the build, for
io.ckpt4j's pt2 reader; and the check of what Java converted them to.

    python3 tests/python/make_pt2.py OUTDIR
    python3 tests/python/make_pt2.py check OUTDIR JAVADIR

Write mode: OUTDIR holds
  program.pt2   a small module (float32 / float16 / bfloat16 / float64 / int8 / bool parameters
                and buffers, a transposed (non-contiguous) parameter, a parameter tied to another,
                a persistent buffer, a non-persistent buffer, a lifted tensor constant) exported
                with torch.export.export and saved with torch.export.save;
  dynamic.pt2   a module exported with a dynamic batch dimension (torch.export.Dim);
  multi.pt2     two exported programs in one archive (package_pt2 with {"model": ..., "other": ...});
  named.pt2     one program named "encoder" (no "model": torch.export.load cannot read it);
  aoti.pt2      an AOTInductor package (torch._inductor.aoti_compile_and_package) of a Linear,
                when the compiler works here (else left out, with the reason in the manifest);
                compiled once per torch version into OUTDIR-aoti-cache/ (1-2 minutes);
  aoti_source.pt2  the ExportedProgram it is compiled from (torch.export.save), which the
                package's refusal advises reading for the weights;
  damaged/*.pt2 copies of program.pt2 with one thing broken each.
and OUTDIR/manifest.json:
  "archives": [{"name", "file", "models": {MODEL: {"expected": inspect --json document of
      torch.export.load(file).state_dict (format "pt2"), "constants": the same for ep.constants,
      "signature": {"inputs": [[kind, name, target, persistent]], "outputs": [[kind, name,
      target]]}, "user_inputs": {name: {"dtype", "sizes": [int or symbol]}}, "range_constraints":
      {symbol: [min, max]}, "schema_version": "M.N", "torch_version"}}, "archive_version"}],
  "aoti": {"file", "models": [...]} or {"skipped": reason},
  "damaged": [{"file", "kind", "mentions": [...]}].
A program's "models" holds what Python's torch.export.load gives for the archive's default
model ("model"); for multi.pt2 each model is read through package_pt2's loader (load_pt2).

Check mode: JAVADIR/java.json lists {"converted": [{"archive": NAME, "model": MODEL, "file": F}]}:
torch.load(F, weights_only=True) must equal the model's ep.state_dict exactly: the same names in
the same order, dtypes, shapes and element bytes (SHA-256), tied entries sharing one storage.
Prints a JSON report {"passed": N, "failed": [...]} and exits 1 on a failure.
"""
import hashlib
import json
import os
import shutil
import sys
import time
import zipfile

import torch
from torch.export import Dim
from torch.export.pt2_archive._package import load_pt2, package_pt2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_expect  # noqa: E402

SEED = 20261206
FORMAT = "pt2"
# What the AOTInductor fixture compiles (its cache key names it).
AOTI_MODULE = "Linear(3, 2), input (1, 3)"


class Everything:
    """Device lookup for corpus_expect.walk: every storage here is on the CPU."""

    def location_of(self, untyped):
        return "cpu"


class Program(torch.nn.Module):
    """Parameters and buffers of several dtypes, a tied weight, a transposed parameter, a
    non-persistent buffer and a lifted tensor constant."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(SEED)
        randn = lambda *shape: torch.randn(*shape, generator=g)  # noqa: E731
        self.embed = torch.nn.Embedding(6, 4)
        self.proj = torch.nn.Linear(4, 4)
        self.head = torch.nn.Linear(4, 6, bias=False)
        self.head.weight = self.embed.weight  # tied
        self.scale16 = torch.nn.Parameter(randn(2, 3).half())
        self.scale_bf16 = torch.nn.Parameter(randn(3).bfloat16())
        self.wide = torch.nn.Parameter(randn(3).double())
        self.transposed = torch.nn.Parameter(randn(4, 3).t())
        self.register_buffer("steps", torch.arange(5, dtype=torch.int64))
        self.register_buffer("codes", torch.tensor([-3, 0, 7], dtype=torch.int8))
        self.register_buffer("mask", torch.tensor([True, False, True]))
        self.register_buffer("scratch", randn(3).bfloat16(), persistent=False)
        self.offsets = torch.tensor([0.25, -1.5, 3.0])  # a plain attribute: a lifted constant

    def forward(self, x):
        h = self.proj(x) + self.offsets.sum() + self.scale16.float().sum()
        h = h + self.scale_bf16.float().sum() + self.wide.float().sum()
        h = h + self.transposed.sum() + self.steps.sum() + self.codes.sum()
        h = h + self.mask.sum() + self.scratch.float().sum()
        return self.head(h)


class Dynamic(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)
        self.register_buffer("bias2", torch.ones(2))

    def forward(self, x, y):
        return self.lin(x) + self.bias2, y * 2


def leaves(tree):
    return corpus_expect.walk(tree, Everything())


def signature(ep):
    sig = ep.graph_signature
    inputs = []
    for spec in sig.input_specs:
        arg = getattr(spec.arg, "name", None)
        persistent = spec.persistent if spec.kind.name == "BUFFER" else None
        inputs.append([spec.kind.name, arg, spec.target, persistent])
    outputs = [[spec.kind.name, getattr(spec.arg, "name", None), spec.target]
               for spec in sig.output_specs]
    return {"inputs": inputs, "outputs": outputs}


def user_inputs(ep):
    out = {}
    for node in ep.graph.nodes:
        if node.op != "placeholder" or node.name not in ep.graph_signature.user_inputs:
            continue
        val = node.meta["val"]
        out[node.name] = {"dtype": corpus_expect.dtype_name(val.dtype),
                          "sizes": [int(s) if isinstance(s, int) else str(s) for s in val.shape]}
    return out


def ranges(ep):
    out = {}
    for symbol, vr in ep.range_constraints.items():
        upper = vr.upper
        out[str(symbol)] = [int(vr.lower), int(upper) if upper.is_finite else None]
    return out


def describe(ep, serialized):
    return {
        "expected": {"format": FORMAT, "entries": leaves(ep.state_dict)},
        "constants": {"format": FORMAT, "entries": leaves(ep.constants)},
        "tied": corpus_expect.shared_storages(ep.state_dict),
        "signature": signature(ep),
        "user_inputs": user_inputs(ep),
        "range_constraints": ranges(ep),
        "schema_version": "%d.%d" % (serialized["schema_version"]["major"],
                                     serialized["schema_version"]["minor"]),
        "torch_version": serialized["torch_version"],
    }


def serialized_program(path, model):
    with zipfile.ZipFile(path) as z:
        root = z.namelist()[0].split("/")[0]
        return json.loads(z.read("%s/models/%s.json" % (root, model)))


def archive_entry(out, name, file, programs):
    path = os.path.join(out, file)
    with zipfile.ZipFile(path) as z:
        root = z.namelist()[0].split("/")[0]
        version = z.read(root + "/archive_version").decode()
    return {"name": name, "file": file, "archive_version": version,
            "models": {m: describe(ep, serialized_program(path, m)) for m, ep in programs.items()}}


def write_programs(out):
    torch.manual_seed(SEED)
    archives = []
    ep = torch.export.export(Program().eval(), (torch.randn(2, 4),))
    torch.export.save(ep, os.path.join(out, "program.pt2"))
    loaded = torch.export.load(os.path.join(out, "program.pt2"))
    archives.append(archive_entry(out, "program", "program.pt2", {"model": loaded}))

    batch = Dim("batch", min=1, max=64)
    dyn = torch.export.export(Dynamic().eval(), (torch.randn(4, 3), torch.randn(4, 5)),
                              dynamic_shapes={"x": {0: batch}, "y": {0: batch}})
    torch.export.save(dyn, os.path.join(out, "dynamic.pt2"))
    loaded = torch.export.load(os.path.join(out, "dynamic.pt2"))
    archives.append(archive_entry(out, "dynamic", "dynamic.pt2", {"model": loaded}))

    package_pt2(os.path.join(out, "multi.pt2"), exported_programs={"model": ep, "other": dyn})
    contents = load_pt2(os.path.join(out, "multi.pt2"))
    archives.append(archive_entry(out, "multi", "multi.pt2", contents.exported_programs))

    # No program named "model": torch.export.load fails; ckpt4j asks which one to read.
    package_pt2(os.path.join(out, "named.pt2"), exported_programs={"encoder": dyn})
    contents = load_pt2(os.path.join(out, "named.pt2"))
    archives.append(archive_entry(out, "named", "named.pt2", contents.exported_programs))
    return archives


def write_aoti(out):
    """An AOTInductor package of a tiny module, or why there is none.

    The compile takes one to two minutes here, so the package is kept in OUTDIR-aoti-cache/,
    keyed by the torch version, and compiled again only when that changes."""
    # What its refusal advises for the weights: the ExportedProgram, saved with torch.export.save.
    torch.manual_seed(SEED)
    source = torch.export.export(torch.nn.Linear(3, 2).eval(), (torch.randn(1, 3),))
    torch.export.save(source, os.path.join(out, "aoti_source.pt2"))
    cache = out.rstrip("/") + "-aoti-cache"
    key = "torch %s, %s\n" % (torch.__version__, AOTI_MODULE)
    cached = os.path.join(cache, "aoti.pt2")
    took = 0.0
    if not (os.path.isfile(cached) and read_text(os.path.join(cache, "key")) == key):
        shutil.rmtree(cache, ignore_errors=True)
        os.makedirs(cache)
        try:
            started = time.monotonic()
            torch._inductor.aoti_compile_and_package(source, package_path=cached)
            took = time.monotonic() - started
        except Exception as e:  # a missing compiler, headers...: a reason, not a failure
            reason = "aoti_compile_and_package failed: %s" % corpus_expect.first_line(str(e))
            print("make_pt2: no AOTInductor fixture (%s)" % reason, file=sys.stderr)
            return {"skipped": reason}
        with open(os.path.join(cache, "key"), "w", encoding="utf-8") as f:
            f.write(key)
    path = os.path.join(out, "aoti.pt2")
    shutil.copyfile(cached, path)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    root = names[0].split("/")[0]
    prefix = root + "/data/aotinductor/"
    models = sorted({n[len(prefix):].split("/")[0] for n in names if n.startswith(prefix)})
    return {"file": "aoti.pt2", "models": models, "compile_seconds": round(took, 1),
            "source": {"file": "aoti_source.pt2",
                       "expected": {"format": FORMAT, "entries": leaves(source.state_dict)}}}


def read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def rewrite(src, dst, change):
    """A copy of the zip src with change(name, data) -> data or None (drop) applied per entry."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)


def write_damaged(out):
    src = os.path.join(out, "program.pt2")
    dst = os.path.join(out, "damaged")
    os.makedirs(dst, exist_ok=True)
    with zipfile.ZipFile(src) as z:
        root = z.namelist()[0].split("/")[0]
        config = json.loads(z.read(root + "/data/weights/model_weights_config.json"))
    first_key = next(iter(config["config"]))
    first_file = config["config"][first_key]["path_name"]
    weights_config = root + "/data/weights/model_weights_config.json"

    def edit_config(edit):
        """A change of the weights config's first entry (its dict, edited in place)."""
        def change(name, data):
            if name != weights_config:
                return data
            doc = json.loads(data)
            edit(doc["config"][first_key], doc)
            return json.dumps(doc).encode()
        return change

    def meta(field, value):
        return edit_config(lambda e, doc: e["tensor_meta"].__setitem__(field, value))

    def tied_as_other_dtype(entry, doc):
        # head.weight shares embed.weight's record; read it as float64 instead
        doc["config"]["head.weight"]["tensor_meta"]["dtype"] = 8

    cases = [
        ("no_weights_config.pt2", lambda n, d: None if n == weights_config else d,
         "MALFORMED_CONTAINER", ["model_weights_config.json"]),
        ("short_weight.pt2", lambda n, d: d[:len(d) // 2] if n.endswith("/" + first_file) else d,
         "INVALID_TENSOR", [first_key]),
        ("empty_weight.pt2", lambda n, d: b"" if n.endswith("/" + first_file) else d,
         "INVALID_TENSOR", [first_key]),
        ("odd_length_weight.pt2", lambda n, d: d[:-1] if n.endswith("/" + first_file) else d,
         "INVALID_TENSOR", [first_key, "float16"]),
        ("missing_weight.pt2", lambda n, d: None if n.endswith("data/weights/" + first_file) else d,
         "MALFORMED_CONTAINER", [first_file]),
        ("bad_dtype.pt2", meta("dtype", 99), "UNSUPPORTED_FORMAT", [first_key, "99"]),
        ("sparse_layout.pt2", meta("layout", 1), "UNSUPPORTED_FORMAT", [first_key, "layout"]),
        ("symbolic_size.pt2", meta("sizes", [{"as_expr": {"expr_str": "Symbol('s0')"}},
                                             {"as_int": 3}]),
         "INVALID_TENSOR", [first_key, "symbolic"]),
        ("huge_size.pt2", meta("sizes", [{"as_int": 2 ** 62}, {"as_int": 2 ** 62}]),
         "INVALID_TENSOR", [first_key]),
        ("sizes_not_a_list.pt2", meta("sizes", "2x3"), "MALFORMED_CONTAINER", ["sizes"]),
        ("pickled_weight.pt2", edit_config(lambda e, doc: e.__setitem__("use_pickle", True)),
         "UNSUPPORTED_FORMAT", [first_key, "pickled"]),
        ("path_outside.pt2", edit_config(lambda e, doc: e.__setitem__("path_name", "../x")),
         "MALFORMED_CONTAINER", [first_key, "../x"]),
        ("tied_other_dtype.pt2", edit_config(tied_as_other_dtype), "INVALID_TENSOR",
         ["head.weight", "float64"]),
        ("config_not_json.pt2", lambda n, d: b"{not json" if n == weights_config else d,
         "MALFORMED_CONTAINER", ["model_weights_config.json", "not valid JSON"]),
        ("not_pt2_format.pt2", lambda n, d: b"zip" if n.endswith("/archive_format") else d,
         "MALFORMED_CONTAINER", ["archive_format", "zip"]),
        ("future_version.pt2", lambda n, d: b"1" if n.endswith("/archive_version") else d,
         "UNSUPPORTED_FORMAT", ["archive_version", "1"]),
    ]
    damaged = []
    for file, change, kind, mentions in cases:
        rewrite(src, os.path.join(dst, file), change)
        damaged.append({"file": "damaged/" + file, "kind": kind, "mentions": mentions})
    return damaged


def write_cases(out):
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    manifest = {"archives": write_programs(out), "aoti": write_aoti(out),
                "damaged": write_damaged(out)}
    corpus_expect.write_json(os.path.join(out, "manifest.json"), manifest)


def storage_groups(sd):
    by_ptr = {}
    for key, t in sd.items():
        by_ptr.setdefault(t.untyped_storage().data_ptr(), []).append(key)
    return sorted(sorted(keys) for keys in by_ptr.values() if len(keys) > 1)


def check(out, java):
    with open(os.path.join(java, "java.json"), encoding="utf-8") as f:
        todo = json.load(f)
    passed, failed = 0, []
    for item in todo["converted"]:
        where = "%s/%s -> %s" % (item["archive"], item["model"], item["file"])
        source = os.path.join(out, item["archive"])
        expected = load_pt2(source).exported_programs[item["model"]].state_dict
        got = torch.load(os.path.join(java, item["file"]), weights_only=True)
        problems = []
        if list(got) != list(expected):
            problems.append("keys %s, expected %s" % (list(got), list(expected)))
        for key, t in expected.items():
            g = got.get(key)
            if not isinstance(g, torch.Tensor):
                problems.append("%s: %r is not a tensor" % (key, type(g)))
            elif (g.dtype, tuple(g.shape)) != (t.dtype, tuple(t.shape)):
                problems.append("%s: %s %s, expected %s %s" % (key, g.dtype, tuple(g.shape),
                                                               t.dtype, tuple(t.shape)))
            elif corpus_expect.tensor_sha256(g) != corpus_expect.tensor_sha256(t):
                problems.append("%s: element bytes differ" % key)
        if not problems and storage_groups(got) != storage_groups(expected):
            problems.append("shared storages %s, expected %s" % (storage_groups(got),
                                                                 storage_groups(expected)))
        if problems:
            failed.append({"case": where, "problems": problems})
        else:
            passed += 1
    print(json.dumps({"passed": passed, "failed": failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 2:
        write_cases(sys.argv[1])
        sys.exit(0)
    sys.exit(__doc__)
