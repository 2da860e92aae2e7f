#!/usr/bin/env bash
# DCP-load benchmark: ckpt4j (eager, lazy, mapped) beside Python's own DCP loaders, in one run, on
# a 2 GiB model saved by dcp.save from 2 Gloo ranks (32 x 4096x4096 float32, row-sharded).
# Usage: tests/bench/dcp.sh [DATA_DIR]   (default $OUT_DIR, else target/bench; made once, 2.1 GB)
# Python: $CKPT4J_PYTHON, else the build's .venv (made by tests/python/venv.sh when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-${OUT_DIR:-$root/target/bench}}
py=${CKPT4J_PYTHON:-$root/.venv/bin/python}
[ -x "$py" ] || { bash "$root/tests/python/venv.sh" "$root/.venv"; py=$root/.venv/bin/python; }
dir=$data/dcp-2g-2ranks
"$py" "$root/tests/bench/make_bench_dcp.py" "$dir"
cat "$dir"/*.distcp > /dev/null   # warm the page cache, for both sides alike
j=$("$root/ckpt4j" bench-load --warmup 2 --warmup-lazy 2000 "$dir")
p=$("$py" "$root/tests/bench/dcp_load.py" "$dir")
PYTHONPATH="$root/tests/bench" python3 - "$j" "$p" <<'PY'
import sys
from bench_lines import parse
j, p = parse(sys.argv[1]), parse(sys.argv[2])
py_eager = min(p["full"], p["prealloc"])
print("2 GiB DCP directory, 2 ranks (32 x 4096x4096 float32, row-sharded), best of 5, seconds"
      " (ckpt4j after 2000 untimed lazy opens and 2 that touch every tensor: a warm JVM)")
print(f"{'':<8} {'ckpt4j':>9} {'python':>9} {'ratio':>7}   python's loader")
print(f"{'eager':<8} {j['eager']:>9.4f} {py_eager:>9.4f} {py_eager / j['eager']:>6.2f}x   "
      f"best of dcp_to_torch_save's load {p['full']:.4f}, dcp.load into empty tensors"
      f" {p['prealloc']:.4f}")
print(f"{'lazy':<8} {j['lazy']:>9.4f} {p['lazy']:>9.4f} {p['lazy'] / j['lazy']:>6.2f}x   "
      "FileSystemReader.read_metadata() (.metadata unpickled, nothing else)")
print(f"{'touched':<8} {j['mapped']:>9.4f} {py_eager:>9.4f} {py_eager / j['mapped']:>6.2f}x   "
      "lazy open, then every tensor touched (assembled from its chunks)")
print("ratio = python / ckpt4j (above 1: ckpt4j faster). Aims: eager >= 2x, lazy >= 1x.")
PY
