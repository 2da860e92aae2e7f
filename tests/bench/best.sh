# Sourced by the whole-process benchmarks. best ARGS...: the best wall time of `ckpt4j ARGS` over
# $runs runs of a fresh JVM on classpath $cp, printed after ARGS (with "$strip/" removed from them).
# Exit statuses up to 3 count as runs (scan exits 1 to 3 for what it finds).
best() {
  local best=999
  for _ in $(seq "$runs"); do
    local s e
    s=$(date +%s.%N)
    java -cp "$cp" io.ckpt4j.cli.Main "$@" > /dev/null 2>&1 || [ $? -le 3 ]
    e=$(date +%s.%N)
    best=$(python3 -c "print(min($best, $e - $s))")
  done
  local label="$*"
  [ -z "${strip:-}" ] || label=${label//$strip\//}
  printf '%-90s %6.2f s\n' "$label" "$best"
}
