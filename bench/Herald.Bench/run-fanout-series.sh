#!/usr/bin/env bash
# Runs the fan-out configurations quoted in docs/benchmarks.md, RUNS times each (default 3), then prints the
# median of every figure per configuration. Every run is bounded (count, seconds, and a 10-minute timeout).
#   bench/Herald.Bench/run-fanout-series.sh [results.jsonl]
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS="${RUNS:-3}"
OUT="${1:-$(mktemp -t herald-fanout-XXXXXX.jsonl)}"
dotnet build bench/Herald.Bench -c Release -nologo -v q
# The runs are short (15-30 s): let hot methods reach tier 1 at once. On a process that sees one processor (taskset)
# .NET delays tier-up by 1 s after every new tier-0 method, which kept the engine on tier-0 code for whole runs
# (docs/benchmarks.md, "Engine path, tier-up on one core"). A long-running server is not affected.
export DOTNET_TC_CallCountingDelayMs="${DOTNET_TC_CallCountingDelayMs:-0}"
BENCH=(dotnet bench/Herald.Bench/bin/Release/net10.0/Herald.Bench.dll)
CONFIGS=(
  "--users 500 --updates 20000 --seconds 10"                         # smoke: SetStatus (durable)
  "--users 5000"                                                      # main: SetStatus, 200k updates or 30 s
  "--users 5000 --source status --rate 500 --seconds 20"              # SetStatus below its saturation
  "--users 5000 --source device --updates 400000"                     # PutDevice (no storage), saturating
  "--users 5000 --source device --rate 6000 --updates 400000 --seconds 20"  # PutDevice at 120k deliveries/s
)
echo "results: $OUT (stderr in $OUT.log)"
for config in "${CONFIGS[@]}"; do
  for run in $(seq 1 "$RUNS"); do
    echo "== fanout $config (run $run/$RUNS, load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo n/a))"
    # shellcheck disable=SC2086
    timeout 600 "${BENCH[@]}" fanout $config 2>>"$OUT.log" | tee -a "$OUT" | grep -E '^  (updates|deliveries|update->)' || true
  done
done
"${BENCH[@]}" summarize "$OUT"
