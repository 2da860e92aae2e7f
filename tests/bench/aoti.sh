#!/usr/bin/env bash
# Inference on a ResNet-18 (224x224), in one run: Java AOTInductor (ExportedModel), Python
# aoti_load_package, Python eager and Java TorchScript — latency at batch 1, throughput at batch
# 32 with 1 and 2 threads (AOTI: num_runners=2; TorchScript: one model per thread).
# Usage: tests/bench/aoti.sh [DATA_DIR]   (default target/bench-aoti; packages compiled once)
# The Java bench class is a test class: build with mvn first (target/test-classes).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$root/target/bench-aoti}
py=${CKPT4J_PYTHON:-$root/.venv/bin/python}
[ -x "$py" ] || bash "$root/tests/python/venv.sh" "$root/.venv"
[ -f "$root/target/classpath.txt" ] || "$root/ckpt4j" --help > /dev/null
"$py" "$root/tests/bench/aoti_bench.py" make "$data"
p=$("$py" "$root/tests/bench/aoti_bench.py" time "$data" 2>/dev/null)
j=$(java -cp "$root/target/test-classes:$root/target/classes:$(cat "$root/target/classpath.txt")" \
    io.ckpt4j.aoti.AotiBench "$data" 2>/dev/null)
python3 - "$p" "$j" <<'PY'
import json, sys
rows = [json.loads(l) for text in sys.argv[1:] for l in text.splitlines() if l.startswith("{")]
by = {(r["runner"], r["batch"], r["threads"]): r for r in rows}
runners = ["java_aoti", "python_aoti", "python_eager", "java_torchscript"]
cases = [(1, 1, "latency ms, batch 1", "ms_per_call"), (32, 1, "images/s, batch 32, 1 thread",
         "images_per_s"), (32, 2, "images/s, batch 32, 2 threads", "images_per_s")]
print(f"{'':<32}" + "".join(f"{r:>18}" for r in runners))
for b, t, label, key in cases:
    print(f"{label:<32}" + "".join(f"{by[(r, b, t)][key]:>18.2f}" for r in runners))
print()
for b, t, label, key in cases:
    ja = by[("java_aoti", b, t)][key]
    ratios = []
    for r in runners[1:]:
        other = by[(r, b, t)][key]
        # > 1 means Java AOTI is better: shorter latency, or more images per second
        ratios.append(f"vs {r}: {(other / ja if key == 'ms_per_call' else ja / other):.2f}x")
    print(f"{label:<32} Java AOTI " + ", ".join(ratios))
print("(ratios > 1: Java AOTI faster)")
PY
