#!/usr/bin/env bash
# DDP benchmark: 2 Java ranks (ckpt4j launch --nproc 2 -- bench-ddp) beside 2 Python ranks
# (torch.nn.parallel.DistributedDataParallel, tests/bench/ddp_python.py), in one run, on this
# host over 127.0.0.1 with Gloo, one thread per rank: the median training step of the ResNet-18
# layout (width 16 by default; zero_grad, forward, loss, backward with the gradient all-reduce,
# SGD step) on the same batch size, and the all-reduce time of a 64 MiB float32 tensor.
# Usage: tests/bench/ddp.sh [ARGS...]  (both sides take --width W --batch-size B --image-size S
#        --steps N --warmup N --allreduce-mib M --allreduce-runs N)
#        Env: PYTHON (torch 2.13; default .venv/bin/python), CKPT4J (default ./ckpt4j), ROUNDS
#        (default 2: the sides alternate, the best of each is kept).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
ckpt4j=${CKPT4J:-$root/ckpt4j}
rounds=${ROUNDS:-2}
[ -x "$py" ] || bash "$root/tests/python/venv.sh" "$root/.venv"
j=""; p=""
for _ in $(seq "$rounds"); do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  j+=$($ckpt4j launch --nproc 2 --master-port "$port" -- bench-ddp "$@" | sed -n 's/^\[rank 0\]: //p')$'\n'
  p+=$("$py" "$root/tests/bench/ddp_python.py" "$@")$'\n'
done
python3 - "$j" "$p" <<'PY'
import sys
def parse(text):
    step, reduce = float("inf"), float("inf")
    for line in text.strip().splitlines():
        parts = line.split()
        if parts[0] == "step":
            step = min(step, float(parts[1]))
        elif parts[0] == "allreduce":
            size, reduce = int(parts[1]), min(reduce, float(parts[2]))
    return step, size, reduce
(js, size, jr), (ps, _, pr) = parse(sys.argv[1]), parse(sys.argv[2])
print(f"{'':<28} {'Java (ckpt4j)':>14} {'Python (torch)':>15} {'Java/Python':>12}")
print(f"{'DDP step (median, 2 ranks)':<28} {js*1e3:>11.1f} ms {ps*1e3:>12.1f} ms {js/ps:>11.2f}x")
gb = size / 1e9
print(f"{'all_reduce %d MiB' % (size >> 20):<28} {jr*1e3:>11.1f} ms {pr*1e3:>12.1f} ms {jr/pr:>11.2f}x")
print(f"{'  bandwidth (size / time)':<28} {gb/jr:>9.2f} GB/s {gb/pr:>10.2f} GB/s")
print("step ratio aim: <= 1.1x. Java all-reduces after backward; Python's Reducer overlaps it with")
print("backward. Both: Gloo over 127.0.0.1, one LibTorch thread per rank.")
PY
