#!/usr/bin/env bash
# One session of PRES-2C runs, the same workload against every server, one after the other:
# Herald native (its WebSocket protocol, SignalR MessagePack and JSON), Herald XMPP (when the gateway is built in), Prosody, ejabberd.
# Results (one JSON line per run, with per-step figures) go to $OUT (default bench-results/pres2c-<date>.jsonl);
# progress and tables to stderr/stdout. Usage: bench/servers/run-all.sh [generator options]
# Default options (the shared document's smoke size): N = 5000, R = 20, logins at 500/s (50 in flight), 60 s of
# unmeasured warm-up (JIT tiering), then steps of 5 s from 1,000 to 40,000 offered deliveries/s, stopping after two
# failed steps in a row.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
stamp="$(date -u +%Y%m%dT%H%MZ)"
out="${OUT:-$root/bench-results/pres2c-$stamp.jsonl}"
mkdir -p "$(dirname "$out")"
opts=("$@")
if [ ${#opts[@]} -eq 0 ]; then
  opts=(--users 5000 --roster 20 --login-rate 500 --login-inflight 50 --settle 5 --warmup 60
        --steps 1000,2000,5000,10000,20000,40000 --step-seconds 5 --drain 5 --stop-after 2 --max-seconds 900)
fi
run() {
  local name="$1"; shift
  echo "== $name $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  "$@" "${opts[@]}" | tee -a "$out.log" | grep '"herald.bench.pres2c"' >> "$out" || echo "$name failed" >&2
}
run herald-ws "$here/run-herald.sh" herald-ws
run herald-msgpack "$here/run-herald.sh" signalr-msgpack
run herald-json "$here/run-herald.sh" signalr-json
if [ -d "$root/src/Herald.Xmpp" ]; then run herald-xmpp "$here/run-herald.sh" xmpp; else echo "Herald.Xmpp not in this tree: skipped" >&2; fi
run prosody "$here/run-prosody.sh"
run ejabberd "$here/run-ejabberd.sh"
echo "results: $out" >&2
