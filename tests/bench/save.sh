#!/usr/bin/env bash
# Save benchmark: ckpt4j (atomic + fsync, and without fsync) beside Python torch.save (plain, and
# followed by os.fsync), in one run. Each side loads the state dict onto the CPU first (not timed),
# then saves it to a new file beside the input, best of N runs; the two sides alternate ROUNDS
# times so that disk write-back from one does not land only on the other.
# Usage: tests/bench/save.sh [DATA_DIR]   (default target/bench; files are made once, 2.3 GB;
#        each save needs as much free space again). Env: RUNS (default 3), ROUNDS (default 2),
#        CKPT4J (the ckpt4j command, default ./ckpt4j), OUT_DIR (where the saves go, default
#        DATA_DIR; e.g. /dev/shm to time the CPU side alone, without the disk).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
data=${1:-$root/target/bench}
py=$root/.venv/bin/python
ckpt4j=${CKPT4J:-$root/ckpt4j}
runs=${RUNS:-3}
rounds=${ROUNDS:-2}
out=${OUT_DIR:-$data}
[ -x "$py" ] || bash "$root/tests/python/venv.sh" "$root/.venv"
"$py" "$root/tests/bench/make_bench_files.py" "$data"
files=("$data/big.pt" "$data/resnet152.pt")
j=""; p=""
for _ in $(seq "$rounds"); do
  sync
  j+=$($ckpt4j bench-save --runs "$runs" --out-dir "$out" "${files[@]}")$'\n'
  sync
  p+=$(RUNS=$runs "$py" "$root/tests/bench/torch_save.py" --out-dir "$out" "${files[@]}")$'\n'
done
python3 - "$j" "$p" <<'PY'
import sys
def parse(text):
    out = {}
    for line in text.strip().splitlines():
        path, mode, secs = line.rsplit(" ", 2)
        key = (path.rsplit("/", 1)[-1], mode)
        out[key] = min(out.get(key, float("inf")), float(secs))
    return out
j, p = parse(sys.argv[1]), parse(sys.argv[2])
print(f"{'file':<14} {'ckpt4j':>9} {'torch.save':>11} {'ratio':>6}   {'ckpt4j nofsync':>15} {'ratio':>6}   {'torch+fsync':>12} {'fsync cost':>11}")
for f in sorted({k[0] for k in j}):
    js, jn, ps, pf = j[(f, 'save')], j[(f, 'save-nofsync')], p[(f, 'save')], p[(f, 'save-fsync')]
    print(f"{f:<14} {js:>8.3f}s {ps:>10.3f}s {ps/js:>5.2f}x   {jn:>14.3f}s {ps/jn:>5.2f}x   {pf:>11.3f}s {js-jn:>10.3f}s")
print("ckpt4j = TorchSaver.save (the default): temp file flushed while written, fsync, atomic rename,")
print("         directory fsync")
print("ckpt4j nofsync = the same without the fsyncs (atomic for a killed process, not for power loss)")
print("ratio = torch.save / ckpt4j (aim >= 1x); fsync cost = ckpt4j - ckpt4j nofsync (below 0 when")
print("flushing while writing spares the writer the kernel's dirty-page throttling)")
PY
