#!/usr/bin/env bash
# Concurrency soak: THREADS threads x ROUNDS loads each (eager and mmap alternating) of a
# real-sized checkpoint, every checkpoint closed; RSS and JavaCPP physicalBytes/totalBytes sampled
# after each round; fails (exit 1) on any exception or growth beyond 5% after warm-up.
#   tests/soak/soak.sh [THREADS] [ROUNDS] [FILE]
# Long mode (issue 11): tests/soak/soak.sh 16 1000 target/bench/resnet152.pt
# Defaults: 16 threads x 1000 rounds of target/bench/resnet152.pt (tests/bench/make_bench_files.py
# writes it). LoadSoakTest runs a short one (4 x 30 of a resnet152-shaped 15 MB file) in mvn verify.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
threads=${1:-16}
rounds=${2:-1000}
file=${3:-$root/target/bench/resnet152.pt}
heap=${SOAK_HEAP:-256m}
if [ ! -f "$file" ]; then
  py=${CKPT4J_PYTHON:-$root/.venv/bin/python}
  "$py" "$root/tests/bench/make_bench_files.py" "$(dirname "$file")"
fi
[ -f "$root/target/classpath.txt" ] && [ -d "$root/target/test-classes" ] || {
  echo "soak.sh: build first: mvn -DskipTests verify" >&2; exit 2; }
# JavaCPP refuses allocations once the process's physical memory passes maxPhysicalBytes (by
# default a multiple of -Xmx): 16 concurrent eager loads of a 241 MB file need about 4 GB of
# native memory, so the soak lifts that limit (a service that loads big files concurrently must
# too, or size it). SOAK_JAVA_OPTS adds JVM options.
exec java -Xms$heap -Xmx$heap -XX:+AlwaysPreTouch -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 \
  ${SOAK_JAVA_OPTS:-} \
  -Dorg.bytedeco.javacpp.logger=slf4j -Dorg.slf4j.simpleLogger.log.org.bytedeco.javacpp.Loader=error \
  -cp "$root/target/test-classes:$root/target/classes:$(cat "$root/target/classpath.txt")" \
  io.ckpt4j.soak.LoadSoak "$file" "$threads" "$rounds"
