#!/usr/bin/env bash
# Fuzzing long mode: every Jazzer target of ReaderFuzzTest in turn, each for DURATION, seeded with
# tests/resources/io/ckpt4j/load/ReaderFuzzTestInputs/TARGET (the project's fixtures); prints the
# executions and findings per target. Jazzer writes a finding to the project root as
# crash-<sha1>: fix it, and move the file into ReaderFuzzTestInputs/TARGET/ so that it runs as a
# regression input in every mvn verify.
# Runs the classes already built (mvn -DskipTests verify, or any test run, first).
#   tests/soak/fuzz.sh [DURATION] [TARGET...]
# Long mode (issue 11, >= 1M executions in total): tests/soak/fuzz.sh 30m
# (six targets x 30 min; at this machine's rates that is several million executions).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
duration=${1:-30m}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pickle checkpointFile zip legacy safetensors shardIndex)
venv=${CKPT4J_VENV:-$root/.venv}
logs=$root/target/fuzz
mkdir -p "$logs"
total=0
failed=0
cd "$root"
for t in "${targets[@]}"; do
  log=$logs/$t.log
  # Temporary files of the file targets go to memory; Jazzer keeps its corpus in .cifuzz-corpus/.
  JAZZER_FUZZ=1 JAZZER_MAX_DURATION=$duration JAVA_TOOL_OPTIONS="-Djava.io.tmpdir=/dev/shm" \
    mvn -o -B -Dckpt4j.venv="$venv" resources:testResources surefire:test -Dtest="ReaderFuzzTest#$t" -Dsurefire.failIfNoSpecifiedTests=false > "$log" 2>&1
  status=$?
  runs=$(grep -aoE 'Done [0-9]+ runs' "$log" | tail -1 | grep -oE '[0-9]+')
  runs=${runs:-$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#')}
  runs=${runs:-0}
  findings=$(grep -acE '== Java Exception|FuzzTestFinding|Crash|OutOfMemory|Timeout' "$log")
  total=$((total + runs))
  [ $status -eq 0 ] || failed=$((failed + 1))
  printf '%-15s %10d executions  %d finding lines  exit %d  (%s)\n' "$t" "$runs" "$findings" \
    "$status" "$log"
done
printf 'total          %10d executions, %d target(s) failed\n' "$total" "$failed"
ls "$root"/crash-* 2>/dev/null | sed 's/^/finding (move it next to its seeds): /'
[ $failed -eq 0 ]
