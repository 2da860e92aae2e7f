#!/usr/bin/env bash
# Whole-process times of CLI commands on a small file (JVM start, LibTorch load where the command
# needs it, the work, exit): best of N runs each, in seconds.
# Usage: tests/bench/startup.sh [RUNS]      (CKPT4J_ROOT=<another checkout, built> to compare)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tree=${CKPT4J_ROOT:-$root}
runs=${1:-5}
py=$root/.venv/bin/python
[ -x "$py" ] || bash "$root/tests/python/venv.sh" "$root/.venv"
[ -f "$root/target/classpath.txt" ] || "$root/ckpt4j" --help > /dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
PYTHONPATH="$root/tests/python" "$py" - "$work" <<'PY'
import sys, torch
from collections import OrderedDict
from reference_resnet import resnet
torch.save(resnet("resnet18").state_dict(), sys.argv[1] + "/resnet18.pt")
g = torch.Generator().manual_seed(0)
torch.save(OrderedDict((f"layer{i}.weight", torch.randn(64, 64, generator=g)) for i in range(8)),
           sys.argv[1] + "/small.pt")
torch.save(torch.randn(1, 3, 32, 32, generator=g), sys.argv[1] + "/input.pt")
PY
cp="$tree/target/classes:$(cat "$root/target/classpath.txt")"
strip=$work
# shellcheck source=tests/bench/best.sh
source "$root/tests/bench/best.sh"
echo "ckpt4j at $tree, best of $runs"
best --help
best inspect "$work/small.pt"
best inspect --json "$work/small.pt"
best convert "$work/small.pt" "$work/out.pt"
best run --arch resnet18 --weights "$work/resnet18.pt" --device cpu --input "$work/input.pt" --output "$work/y.pt"
