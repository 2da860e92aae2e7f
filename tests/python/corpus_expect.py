"""What Python sees in a checkpoint: the `ckpt4j inspect --json` contract, computed with torch.

The functions here turn whatever `torch.load` (or `safetensors.torch.load_file`) returns into the
list of LEAF objects that `ckpt4j inspect --json` must print, and collect facts about a file
(format, archive root, pickle protocol, globals, weights_only verdict) for the corpus index.

Walk order is depth-first: dicts in insertion order, lists and tuples (torch.Size included) by
index. See tests/python/README.md for every LEAF kind.
"""

import hashlib
import io
import json
import math
import pickletools
import zipfile

import torch

# Legacy (non-zip) torch.save files start with this number, pickled (the first of 5 pickles).
LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
SAFETENSORS_HEADER_LENGTH_BYTES = 8
ZIP_LOCAL_HEADER_MAGIC = b"PK\x03\x04"

# Modules whose globals a checkpoint reader knows (builtins, collections, torch, _codecs): a
# refused global from anywhere else is a class only an inert-object reader can take.
STANDARD_MODULES = {"builtins", "__builtin__", "collections", "_codecs", "torch"}

FORMAT_ZIP = "zip"
FORMAT_LEGACY = "legacy"
FORMAT_TORCHSCRIPT = "torchscript"
FORMAT_LIBTORCH = "libtorch"
FORMAT_SAFETENSORS = "safetensors"


# --------------------------------------------------------------------------------------------
# Element bytes and hashes
# --------------------------------------------------------------------------------------------

def dtype_name(dtype):
    """torch.float32 -> "float32" (str(dtype) without the "torch." prefix)."""
    return str(dtype)[len("torch."):]


def tensor_bytes(t):
    """The elements' bytes in row-major order, little-endian, as torch holds them.

    Lazy conjugation / negation bits are resolved first, so the bytes are those of the values the
    tensor reads as. Every dtype is viewed as uint8, which keeps bit patterns (NaN payloads,
    float8, bool) exactly.
    """
    t = t.detach().resolve_conj().resolve_neg()
    if t.dim() == 0:
        t = t.reshape(1)
    return t.contiguous().view(torch.uint8).numpy().tobytes()


def tensor_sha256(t):
    return hashlib.sha256(tensor_bytes(t)).hexdigest()


def storage_bytes(untyped):
    return bytes(untyped.tolist())


# --------------------------------------------------------------------------------------------
# Where each storage was saved: record the location strings torch.load passes to map_location
# --------------------------------------------------------------------------------------------

class LocationRecorder:
    """A map_location callable that keeps every (storage, saved location) torch.load hands it.

    The storages are returned unchanged (they are on the CPU already), and kept alive here so
    that their `_cdata` handles stay unique while the loaded object is walked.
    """

    def __init__(self):
        self.records = []

    def __call__(self, storage, location):
        self.records.append((storage, location))
        return storage

    def locations(self):
        return sorted({loc for _, loc in self.records})

    def location_of(self, untyped):
        """The saved location of the storage that `untyped` is (or is a slice of)."""
        for storage, loc in self.records:
            if storage._cdata == untyped._cdata:
                return loc
        ptr = untyped.data_ptr()
        if ptr != 0:
            for storage, loc in self.records:
                start = storage.data_ptr()
                if start != 0 and start <= ptr < start + max(storage.nbytes(), 1):
                    return loc
        distinct = {loc for _, loc in self.records}
        if len(distinct) == 1:
            return next(iter(distinct))
        raise AssertionError("cannot tell which saved storage a tensor uses (ptr %#x)" % ptr)


class FixedLocations:
    """Device lookup for objects that were never saved: a data_ptr -> location map, else cpu."""

    def __init__(self, by_data_ptr=None):
        self.by_data_ptr = dict(by_data_ptr or {})

    def location_of(self, untyped):
        return self.by_data_ptr.get(untyped.data_ptr(), "cpu")


# --------------------------------------------------------------------------------------------
# The walk
# --------------------------------------------------------------------------------------------

def _json_float(x):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _path_key(key):
    if type(key) is str or (isinstance(key, int) and not isinstance(key, bool)):
        return key
    return repr(key)


def _tensor_leaf(path, t, devices):
    return {
        "path": path,
        "kind": "tensor",
        "dtype": dtype_name(t.dtype),
        "shape": list(t.shape),
        "device": devices.location_of(t.untyped_storage()),
        "requires_grad": bool(t.requires_grad),
        "sha256": tensor_sha256(t),
    }


def _storage_leaf(path, storage, devices):
    if isinstance(storage, torch.storage.TypedStorage):
        untyped, dtype, size = storage._untyped_storage, storage.dtype, storage.size()
    else:
        untyped, dtype, size = storage, torch.uint8, storage.nbytes()
    return {
        "path": path,
        "kind": "storage",
        "dtype": dtype_name(dtype),
        "size": size,
        "device": devices.location_of(untyped),
        "sha256": hashlib.sha256(storage_bytes(untyped)).hexdigest(),
    }


def walk(obj, devices, path=None, out=None):
    """Flattens a loaded object into LEAF dicts (the inspect --json "entries")."""
    path = [] if path is None else path
    out = [] if out is None else out
    if isinstance(obj, torch.Tensor):
        out.append(_tensor_leaf(path, obj, devices))
    elif isinstance(obj, (torch.storage.TypedStorage, torch.UntypedStorage)):
        out.append(_storage_leaf(path, obj, devices))
    elif isinstance(obj, dict):
        if not obj:
            out.append({"path": path, "kind": "empty", "type": "dict"})
        for key, value in obj.items():
            walk(value, devices, path + [_path_key(key)], out)
    elif isinstance(obj, (list, tuple)):
        if not obj:
            kind = "list" if isinstance(obj, list) else "tuple"
            out.append({"path": path, "kind": "empty", "type": kind})
        for index, value in enumerate(obj):
            walk(value, devices, path + [index], out)
    elif obj is None:
        out.append({"path": path, "kind": "none", "value": None})
    elif isinstance(obj, bool):
        out.append({"path": path, "kind": "bool", "value": obj})
    elif isinstance(obj, int):
        out.append({"path": path, "kind": "int", "value": int(obj)})
    elif isinstance(obj, float):
        out.append({"path": path, "kind": "float", "value": _json_float(obj)})
    elif isinstance(obj, complex):
        out.append({"path": path, "kind": "complex",
                    "value": [_json_float(obj.real), _json_float(obj.imag)]})
    elif isinstance(obj, str):
        out.append({"path": path, "kind": "str", "value": obj})
    elif isinstance(obj, bytes):
        out.append({"path": path, "kind": "bytes", "value": obj.hex()})
    elif isinstance(obj, torch.device):
        out.append({"path": path, "kind": "device", "value": str(obj)})
    elif isinstance(obj, torch.dtype):
        out.append({"path": path, "kind": "dtype", "value": dtype_name(obj)})
    elif hasattr(obj, "__dict__"):
        # An object of a class that is not a container (argparse.Namespace): one "object" entry
        # naming the class, then its attribute dict (the pickle BUILD state) walked beneath it.
        cls = type(obj)
        out.append({"path": path, "kind": "object", "type": cls.__module__ + "." + cls.__qualname__})
        for key, value in vars(obj).items():
            walk(value, devices, path + [_path_key(key)], out)
    else:
        raise TypeError("corpus walk has no LEAF kind for %r at %r" % (type(obj), path))
    return out


def shared_storages(obj):
    """Groups of tensor paths (2 or more) whose tensors share ONE storage after torch.load, in
    walk order: tied weights and views must come back shared."""
    by_storage = {}

    def visit(value, path):
        if isinstance(value, torch.Tensor):
            storage = value.untyped_storage()
            if storage.nbytes() > 0:
                by_storage.setdefault(storage.data_ptr(), []).append(path)
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, path + [_path_key(key)])
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                visit(item, path + [index])
        elif hasattr(value, "__dict__") and not isinstance(value, (torch.device, torch.dtype)):
            for key, item in vars(value).items():
                visit(item, path + [_path_key(key)])

    visit(obj, [])
    return [paths for paths in by_storage.values() if len(paths) > 1]


def expected_document(fmt, obj, devices):
    return {"format": fmt, "entries": walk(obj, devices)}


def write_json(path, document):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(document, f, indent=1, ensure_ascii=True, allow_nan=False)
        f.write("\n")


def write_expected(path, document):
    """An expected document with one LEAF per line (diff-friendly; ordinary JSON)."""
    def dumps(value):
        return json.dumps(value, ensure_ascii=True, allow_nan=False)

    leaves = document.get("entries")
    if leaves is None:
        text = dumps(document)
    else:
        head = {key: value for key, value in document.items() if key != "entries"}
        body = ",\n".join(" " + dumps(leaf) for leaf in leaves)
        text = dumps(head)[:-1] + ', "entries": [\n' + body + "\n]}"
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text + "\n")


# --------------------------------------------------------------------------------------------
# Loading, as torch does it
# --------------------------------------------------------------------------------------------

def load_recording_locations(path, weights_only):
    """torch.load(path) with every storage left on the CPU; returns (object, LocationRecorder)."""
    recorder = LocationRecorder()
    obj = torch.load(path, map_location=recorder, weights_only=weights_only)
    return obj, recorder


def _opcode_name(code):
    for op in pickletools.opcodes:
        if op.code == chr(code):
            return op.name
    return "opcode %d" % code


def weights_only_verdict(path):
    """{"weights_only": True} or {"weights_only": False, "weights_only_error": ..., maybe
    "refused_by_default": "<global>"} from what torch.load(weights_only=True) says."""
    try:
        torch.load(path, map_location=LocationRecorder(), weights_only=True)
        return {"weights_only": True}
    except Exception as e:  # noqa: BLE001 - we record whatever torch says
        message = str(e)
        verdict = {"weights_only": False}
        marker = "Unsupported global: GLOBAL "
        operand = "Unsupported operand "
        if marker in message:
            name = message.split(marker, 1)[1].split(" ", 1)[0]
            verdict["weights_only_error"] = "unsupported global " + name
            verdict["weights_only_refused_global"] = name
            if "." in name and name.split(".", 1)[0] not in STANDARD_MODULES:
                verdict["refused_by_default"] = name
        elif operand in message:
            code = int(message.split(operand, 1)[1].split()[0])
            verdict["weights_only_error"] = "unsupported pickle opcode %s (%d)" % (
                _opcode_name(code), code)
        else:
            verdict["weights_only_error"] = first_line(message)
        return verdict


def first_line(message):
    """The first sentence of an error message (torch's run on for paragraphs)."""
    for line in str(message).splitlines():
        line = line.strip()
        if line:
            end = line.find(". ")
            return line[:end + 1] if end > 0 else line
    return ""


def needs_map_location(path):
    """True when torch.load(path) without map_location fails on this CPU-only machine because a
    storage was saved on a device that is not here (e.g. cuda:1)."""
    try:
        torch.load(path, weights_only=False)
        return False, None
    except RuntimeError as e:
        return True, first_line(e)


# --------------------------------------------------------------------------------------------
# File facts: format, archive root, pickle protocol and globals
# --------------------------------------------------------------------------------------------

def _zip_records(path):
    """(root folder or None, {name below the root: ZipInfo}) of a zip archive."""
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
    first = infos[0].filename
    root = first.split("/", 1)[0] if "/" in first else None
    records = {}
    for info in infos:
        name = info.filename
        records[name.split("/", 1)[1] if "/" in name else name] = info
    return root, records


def _read_record(path, info):
    with zipfile.ZipFile(path) as z:
        return z.read(info)


def sniff_format(path):
    """The inspect "format" of a file, decided from its content the way ckpt4j must."""
    with open(path, "rb") as f:
        head = f.read(64)
    if head.startswith(ZIP_LOCAL_HEADER_MAGIC):
        _, records = _zip_records(path)
        tails = list(records)
        if "model.json" in tails:
            # 2019 archives: TorchScript modules carry code (torchscriptArena); C++
            # torch::serialize::OutputArchive ones carry parameters only.
            has_code = any(t.startswith("code/") for t in tails)
            return FORMAT_TORCHSCRIPT if has_code else FORMAT_LIBTORCH
        if "constants.pkl" in tails or any(t.startswith("code/") for t in tails):
            return FORMAT_TORCHSCRIPT
        return FORMAT_ZIP
    if len(head) > SAFETENSORS_HEADER_LENGTH_BYTES and head[SAFETENSORS_HEADER_LENGTH_BYTES:
                                                          SAFETENSORS_HEADER_LENGTH_BYTES + 1] == b"{":
        return FORMAT_SAFETENSORS
    with open(path, "rb") as f:
        try:  # read the first pickle's opcodes without running it
            for op, arg, _pos in pickletools.genops(f):
                if op.name in ("LONG1", "LONG4", "LONG", "INT"):
                    if arg == LEGACY_MAGIC_NUMBER:
                        return FORMAT_LEGACY
                    break
        except Exception:  # noqa: BLE001 - not a pickle
            pass
    raise ValueError("%s: not a format the corpus knows" % path)


def _main_pickle_bytes(path, fmt):
    """The pickle that holds the saved object (zip: data.pkl; legacy: the 4th pickle)."""
    if fmt == FORMAT_ZIP:
        _, records = _zip_records(path)
        return _read_record(path, records["data.pkl"])
    with open(path, "rb") as f:
        data = f.read()
    stream = io.BytesIO(data)
    for _ in range(3):  # magic number, protocol version, sys_info
        for _op in pickletools.genops(stream):
            pass
    return data[stream.tell():]


def pickle_facts(path, fmt):
    """Protocol (from the PROTO opcode; 1 when there is none) and the globals the pickle names,
    in first-use order."""
    data = _main_pickle_bytes(path, fmt)
    protocol = 1
    names = []
    memo = {}
    strings = []  # values of recent pushes, strings only (None for anything else)
    for op, arg, _pos in pickletools.genops(data):
        if op.name == "PROTO":
            protocol = arg
        if op.name in ("GLOBAL", "INST"):
            name = arg.replace(" ", ".")
            strings.append(None)
        elif op.name == "STACK_GLOBAL":
            name = "%s.%s" % (strings[-2], strings[-1])
            strings.append(None)
        else:
            name = None
            if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
                strings.append(arg)
            elif op.name == "MEMOIZE":
                memo[len(memo)] = strings[-1] if strings else None
            elif op.name in ("BINPUT", "LONG_BINPUT", "PUT"):
                memo[arg] = strings[-1] if strings else None
            elif op.name in ("BINGET", "LONG_BINGET", "GET"):
                strings.append(memo.get(arg))
            elif op.stack_after:
                strings.append(None)
        if name is not None and name not in names:
            names.append(name)
    return protocol, names


def file_facts(path, fmt):
    """Index flags every case gets: archive root and records (zip), protocol, globals."""
    facts = {"format": fmt}
    if fmt == FORMAT_ZIP:
        root, records = _zip_records(path)
        facts["archive_root"] = root
        if "version" in records:
            facts["archive_version"] = _read_record(path, records["version"]).decode().strip()
        byteorder = records.get("byteorder")
        facts["byteorder_record"] = _read_record(path, byteorder).decode() if byteorder else None
        methods = sorted({i.compress_type for i in records.values()} - {zipfile.ZIP_STORED})
        if methods:
            facts["compressed"] = ["deflate" if m == zipfile.ZIP_DEFLATED else str(m)
                                   for m in methods]
    if fmt in (FORMAT_ZIP, FORMAT_LEGACY):
        protocol, names = pickle_facts(path, fmt)
        facts["pickle_protocol"] = protocol
        facts["globals"] = names
    return facts


# --------------------------------------------------------------------------------------------
# All of it for one torch checkpoint
# --------------------------------------------------------------------------------------------

def describe_checkpoint(path):
    """Loads a torch.save file as torch 2.13 does; returns (expected document, index flags,
    loaded object, LocationRecorder). weights_only=True is used where torch accepts the file."""
    fmt = sniff_format(path)
    flags = file_facts(path, fmt)
    verdict = weights_only_verdict(path)
    flags.update(verdict)
    loaded, recorder = load_recording_locations(path, verdict["weights_only"])
    flags["locations"] = recorder.locations()
    needs, message = needs_map_location(path)
    flags["needs_map_location"] = needs
    if needs:
        flags["load_error_without_map_location"] = message
        # What a user does about it must work: map everything, or each device, to the CPU.
        torch.load(path, map_location="cpu", weights_only=verdict["weights_only"])
        per_device = {loc: "cpu" for loc in recorder.locations() if loc != "cpu"}
        torch.load(path, map_location=per_device, weights_only=verdict["weights_only"])
    if not torch.cuda.is_available():
        assert needs == any(loc != "cpu" for loc in recorder.locations()), path
    if fmt == FORMAT_LEGACY:
        flags["storage_keys"] = "memory addresses (str(storage._cdata) when saved), not 0..N"
    flags["shared_storages"] = shared_storages(loaded)
    document = expected_document(fmt, loaded, recorder)
    if verdict["weights_only"]:  # the full unpickler must see the same thing
        again, recorder2 = load_recording_locations(path, False)
        assert expected_document(fmt, again, recorder2) == document, path
    return document, flags, loaded, recorder
