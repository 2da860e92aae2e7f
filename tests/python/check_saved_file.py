"""What check_saved.py checks in the saved file itself: torch.save's zip layout (records, their
order, 64-byte alignment, stored entries, the small records' contents) and a protocol 2 pickle that
names only globals torch.load(weights_only=True) accepts.
"""

import os
import pickletools
import struct
import sys
import zipfile

import torch

from check_saved_compare import Mismatch

ALIGNMENT = 64
TRAILING_RECORDS = ["version", ".data/serialization_id"]
LEADING_RECORDS = ["data.pkl", ".format_version", ".storage_alignment", "byteorder"]
SMALL_RECORDS = {".format_version": b"1", ".storage_alignment": b"64",
                 "byteorder": sys.byteorder.encode(), "version": b"3\n"}

# What ckpt4j may name in a pickle: torch.load(weights_only=True)'s globals.
TORCH_GLOBALS = {
    "collections OrderedDict", "torch._utils _rebuild_tensor_v2", "torch._utils _rebuild_tensor_v3",
    "torch._utils _rebuild_parameter", "torch._utils _rebuild_parameter_with_state",
    "torch._tensor _rebuild_from_type_v2", "torch Tensor", "torch device",
    "torch.storage UntypedStorage", "__builtin__ complex", "__builtin__ set", "_codecs encode",
}
STORAGE_CLASSES = {"DoubleStorage", "FloatStorage", "HalfStorage", "BFloat16Storage",
                   "ComplexDoubleStorage", "ComplexFloatStorage", "LongStorage", "IntStorage",
                   "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage"}


# ------------------------------------------------------------------------------------------------
# The file itself
# ------------------------------------------------------------------------------------------------

def expected_root(saved):
    """The root folder torch.save gives a file of this name in this directory (torch's own rule:
    the name without its extension; "archive" for a non-ASCII path). A name torch refuses
    (".hidden") gets "archive", ckpt4j's documented choice."""
    probe_dir = os.path.join(os.path.dirname(os.path.abspath(saved)), ".torch-root-probe")
    os.makedirs(probe_dir, exist_ok=True)
    probe = os.path.join(probe_dir, os.path.basename(saved))
    try:
        torch.save(None, probe)
    except RuntimeError:
        return "archive"
    with zipfile.ZipFile(probe) as z:
        root = z.namelist()[0].split("/")[0]
    os.remove(probe)
    return root


def check_layout(path, root):
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        names = [i.filename for i in infos]
        storages = [n for n in names if n.startswith(root + "/data/")]
        expected = ([root + "/" + n for n in LEADING_RECORDS]
                    + [root + "/data/%d" % k for k in range(len(storages))]
                    + [root + "/" + n for n in TRAILING_RECORDS])
        if names != expected:
            raise Mismatch("records %s, torch.save writes %s" % (names, expected))
        with open(path, "rb") as f:
            for info in infos:
                if info.compress_type != zipfile.ZIP_STORED:
                    raise Mismatch("record %s is compressed" % info.filename)
                f.seek(info.header_offset + 26)
                name_len, extra_len = struct.unpack("<HH", f.read(4))
                data_at = info.header_offset + 30 + name_len + extra_len
                if data_at % ALIGNMENT:
                    raise Mismatch("record %s data at %d, not %d-aligned"
                                   % (info.filename, data_at, ALIGNMENT))
        for name, content in SMALL_RECORDS.items():
            if z.read(root + "/" + name) != content:
                raise Mismatch("record %s holds %r" % (name, z.read(root + "/" + name)))
        sid = z.read(root + "/.data/serialization_id")
        if len(sid) != 40 or not sid.isdigit():
            raise Mismatch("serialization_id %r is not 40 digits" % sid)
        return z.read(root + "/data.pkl")


def check_pickle(data, safe_globals):
    if data[:2] != b"\x80\x02":
        raise Mismatch("data.pkl is not a protocol 2 pickle")
    for op, arg, _ in pickletools.genops(data):
        if op.name != "GLOBAL":
            continue
        module, name = arg.split(" ", 1)
        if arg in TORCH_GLOBALS or "%s.%s" % (module, name) in safe_globals:
            continue
        if module == "torch" and (name in STORAGE_CLASSES or isinstance(
                getattr(torch, name, None), torch.dtype)):
            continue
        raise Mismatch("data.pkl names global %s.%s, which weights_only does not accept"
                       % (module, name))
