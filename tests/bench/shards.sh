#!/usr/bin/env bash
# Sharded-load benchmark: ckpt4j (eager, lazy, mapped) beside Python's own safetensors loading
# loop, in one run, on a 2 GiB model saved as 4 safetensors shards + model.safetensors.index.json.
# Usage: tests/bench/shards.sh [DATA_DIR]   (default target/bench; made once, 2.1 GB)
# Python: $CKPT4J_PYTHON, else the build's .venv (made by tests/python/venv.sh when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$root/target/bench}
py=${CKPT4J_PYTHON:-$root/.venv/bin/python}
[ -x "$py" ] || { bash "$root/tests/python/venv.sh" "$root/.venv"; py=$root/.venv/bin/python; }
dir=$data/sharded-2g
"$py" "$root/tests/bench/make_bench_shards.py" "$dir"
cat "$dir"/*.safetensors > /dev/null   # warm the page cache, for both sides alike
j=$("$root/ckpt4j" bench-load --warmup 1000 "$dir")
p=$("$py" "$root/tests/bench/hf_load.py" "$dir")
PYTHONPATH="$root/tests/bench" python3 - "$j" "$p" <<'PY'
import sys
from bench_lines import parse
j, p = parse(sys.argv[1]), parse(sys.argv[2])
py_eager = min(p["eager_pread"], p["eager_clone"])
print("2 GiB, 4 safetensors shards (32 x 4096x4096 float32), best of 5, seconds"
      " (ckpt4j after 1000 untimed mapped opens, about 1 s: a warm JVM)")
print(f"{'':<8} {'ckpt4j':>9} {'python':>9} {'ratio':>7}   python's loader")
print(f"{'eager':<8} {j['eager']:>9.4f} {py_eager:>9.4f} {py_eager / j['eager']:>6.2f}x   "
      f"loop + load_file: backend='pread' {p['eager_pread']:.4f}, mmap + clone {p['eager_clone']:.4f}")
print(f"{'lazy':<8} {j['lazy']:>9.4f} {p['lazy']:>9.4f} {p['lazy'] / j['lazy']:>6.2f}x   "
      "json.load(index) + safe_open(shard) each")
print(f"{'mapped':<8} {j['mapped']:>9.4f} {p['mmap']:>9.4f} {p['mmap'] / j['mapped']:>6.2f}x   "
      "loop + load_file (default mmap backend)")
print("ratio = python / ckpt4j (above 1: ckpt4j faster). Aims: eager >= 2x, lazy >= 1x.")
print("eager: every byte in memory, every tensor built; lazy: open only (index + shard headers);")
print("mapped: open + every tensor built over its mapping, bytes read on first touch.")
PY
