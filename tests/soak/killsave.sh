#!/usr/bin/env bash
# kill -9 during save: ROUNDS rounds of SIGKILL at a random point of an MIB-MiB save; after each,
# torch 2.13 must load the target bit-exact (SHA-256 per tensor) as the old or the new version,
# and no temporary file may outlive the next save. See tests/soak/killsave.py.
#   tests/soak/killsave.sh [ROUNDS] [MIB] [DIR]
# Long mode (issue 11): tests/soak/killsave.sh 100 200
# Quick version in mvn verify: AtomicSaveTest (4 rounds of a 64 MiB save, checked in Java and Python).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-100}
mib=${2:-200}
dir=${3:-$(mktemp -d "${TMPDIR:-/tmp}/ckpt4j-killsave.XXXXXX")}
py=${CKPT4J_PYTHON:-$root/.venv/bin/python}
[ -f "$root/target/classpath.txt" ] && [ -d "$root/target/test-classes" ] || {
  echo "killsave.sh: build first: mvn -DskipTests verify" >&2; exit 2; }
cp="$root/target/test-classes:$root/target/classes:$(cat "$root/target/classpath.txt")"
status=0
"$py" "$root/tests/soak/killsave.py" "$rounds" "$mib" "$dir" "$cp" || status=$?
rm -rf "$dir"
exit $status
