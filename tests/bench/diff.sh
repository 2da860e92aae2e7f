#!/usr/bin/env bash
# Diff benchmark: whole-process `ckpt4j diff A B` (tolerance mode, and --exact) beside Python's
# torch.load of both sides + torch.testing.assert_close on every key, in one run, on the load
# benchmark's 2 GiB and resnet152-shaped files against copies nudged by one float32 ulp
# (make_bench_diff.py: every tensor within tolerance, so every element of both sides is read).
# Usage: tests/bench/diff.sh [DATA_DIR]   (default target/bench; 4.6 GB of files, made once)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$root/target/bench}
py=$root/.venv/bin/python
runs=${RUNS:-3}
[ -x "$py" ] || bash "$root/tests/python/venv.sh" "$root/.venv"
"$py" "$root/tests/bench/make_bench_files.py" "$data"
"$py" "$root/tests/bench/make_bench_diff.py" "$data"
"$root/ckpt4j" --help > /dev/null   # builds on first use, outside the timings
best() {   # best whole-process seconds of N runs of a command (its exit status 0 or 1 is fine)
  local best=999 s e
  for _ in $(seq "$runs"); do
    s=$(date +%s.%N)
    "$@" > /dev/null 2>&1 || [ $? -eq 1 ]
    e=$(date +%s.%N)
    best=$(python3 -c "print(min($best, $e - $s))")
  done
  echo "$best"
}
printf '%-14s %13s %13s %13s %15s %8s\n' file "ckpt4j diff" "diff --exact" "torch+assert" "assert only" speedup
for name in big resnet152; do
  a="$data/$name.pt"; b="$data/$name-near.pt"
  cat "$a" "$b" > /dev/null   # warm page cache, for both sides alike
  "$root/ckpt4j" diff "$a" "$b" > /dev/null   # equal within tolerance, or the script stops here
  j=$(best "$root/ckpt4j" diff "$a" "$b")
  x=$(best "$root/ckpt4j" diff --exact "$a" "$b")
  read -r _ p _ c < <("$py" "$root/tests/bench/torch_diff.py" "$a" "$b")
  python3 -c "print(f'{\"$name.pt\":<14} {$j:>12.3f}s {$x:>12.3f}s {$p:>12.3f}s {$c:>14.3f}s {$p/$j:>7.2f}x')"
done
echo "ckpt4j diff = whole process (JVM start included), default tolerances; --exact = SHA-256 per"
echo "tensor; torch+assert = torch.load of both sides + assert_close per key (Python started before"
echo "the clock); assert only = its assert_close loop alone; speedup = torch+assert / ckpt4j diff"
