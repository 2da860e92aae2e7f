#!/usr/bin/env bash
# Scan benchmark: whole-process time of `ckpt4j scan` (JVM start, scan, exit) on the 2 GiB and the
# resnet152-shaped checkpoint, beside `ckpt4j --version` (the JVM's start alone): best of N runs.
# A scan reads no tensor bytes, so its time does not grow with the file's size.
# Usage: tests/bench/scan.sh [RUNS] [DATA_DIR]   (default 5, target/bench; files are made once)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-5}
data=${2:-$root/target/bench}
py=$root/.venv/bin/python
[ -x "$py" ] || bash "$root/tests/python/venv.sh" "$root/.venv"
"$py" "$root/tests/bench/make_bench_files.py" "$data"
[ -f "$root/target/classpath.txt" ] || "$root/ckpt4j" --help > /dev/null
cp="$root/target/classes:$(cat "$root/target/classpath.txt")"
# shellcheck source=tests/bench/best.sh
source "$root/tests/bench/best.sh"
echo "best of $runs, whole process, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
best --version
best scan "$data/big.pt"
best scan "$data/resnet152.pt"
