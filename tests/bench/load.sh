#!/usr/bin/env bash
# Load benchmark: ckpt4j (eager, lazy) beside Python torch.load (mmap False, True), in one run.
# Usage: tests/bench/load.sh [DATA_DIR]   (default target/bench; files are made once, 2.3 GB)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$root/target/bench}
py=$root/.venv/bin/python
[ -x "$py" ] || bash "$root/tests/python/venv.sh" "$root/.venv"
"$py" "$root/tests/bench/make_bench_files.py" "$data"
files=("$data/big.pt" "$data/resnet152.pt")
cat "${files[@]}" > /dev/null   # warm page cache, as the Python baselines were measured
# cold: a fresh JVM's best of 5 (parsing code still being compiled); warm: after 20 untimed mapped
# opens, as in a service that has loaded before; steady: after 300, as in a service that loads all
# day (the JIT has compiled the parsing code with C2: about 100 opens are needed here).
cold=$("$root/ckpt4j" bench-load "${files[@]}")
warm=$("$root/ckpt4j" bench-load --warmup 20 "${files[@]}")
steady=$("$root/ckpt4j" bench-load --warmup 300 "${files[@]}")
p=$("$py" "$root/tests/bench/torch_load.py" "${files[@]}")
python3 - "$cold" "$warm" "$steady" "$p" <<'PY'
import sys
def parse(text):
    out = {}
    for line in text.strip().splitlines():
        path, mode, value = line.rsplit(" ", 2)
        out[(path.rsplit("/", 1)[-1], mode)] = float(value)
    return out
cold, warm, steady, p = (parse(a) for a in sys.argv[1:5])
print(f"{'file':<14} {'JVM':<6} {'ckpt4j eager':>13} {'torch eager':>12} {'speedup':>8}   {'ckpt4j lazy':>12} {'ckpt4j mapped':>14} {'torch mmap':>11} {'ratio':>7} {'us/tensor':>10}")
for f in sorted({k[0] for k in cold}):
    pe, pm = p[(f, 'eager')], p[(f, 'mmap')]
    for name, j in (("cold", cold), ("warm", warm), ("steady", steady)):
        je, jl, jm, n = j[(f, 'eager')], j[(f, 'lazy')], j[(f, 'mapped')], j[(f, 'tensors')]
        print(f"{f:<14} {name:<6} {je:>12.4f}s {pe:>11.4f}s {pe/je:>7.2f}x   {jl:>11.4f}s {jm:>13.4f}s {pm:>10.4f}s {pm/jm:>6.2f}x {jm/n*1e6:>9.1f}")
print("speedup = torch eager / ckpt4j eager (aim >= 3x)")
print("ratio = torch mmap=True / ckpt4j mapped (open + every tensor built over mapped storage; aim >= 1x)")
print("ckpt4j lazy = open only: pickle parsed, no tensor bytes touched")
print("us/tensor = ckpt4j mapped / tensors: the per-tensor cost with no tensor bytes copied (aim <= 20)")
PY
