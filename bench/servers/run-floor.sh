#!/usr/bin/env bash
# Runs PRES-2C (herald-ws protocol) against the bare fan-out floor server (bench/Herald.Floor, Release build) on
# loopback: the server pinned to core 1, the generator pinned to core 0, as run-herald.sh. No provisioning step: the
# floor server computes every user's ring roster from the user's index and accepts any password.
# Usage: bench/servers/run-floor.sh kestrel-each|kestrel-coalesced|raw [generator options]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
transport="${1:?transport: kestrel-each, kestrel-coalesced or raw}"
shift
bench="$root/bench/Herald.Bench/bin/Release/net10.0/Herald.Bench.dll"
server="$root/bench/Herald.Floor/bin/Release/net10.0/Herald.Floor.dll"
[ -f "$bench" ] || dotnet build "$root/bench/Herald.Bench" -c Release >/dev/null
[ -f "$server" ] || dotnet build "$root/bench/Herald.Floor" -c Release >/dev/null
port="${PORT:-5090}"
users=5000
roster=20
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--users" ] && users="${args[$((i + 1))]}"
  [ "${args[$i]}" = "--roster" ] && roster="${args[$((i + 1))]}"
done
if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then echo "port $port is already serving: stop that server first" >&2; exit 1; fi
log="$(mktemp /tmp/herald-bench-floor.XXXXXX.log)"
taskset -c 1 dotnet "$server" --port "$port" --transport "$transport" --users "$users" --roster "$roster" > "$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; tail -n 40 "$log" > /tmp/herald-bench-last-floor.log 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT
up=0
for _ in $(seq 1 300); do
  if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then up=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
if [ "$up" != 1 ]; then echo "the floor server did not start:" >&2; tail -n 30 "$log" >&2; exit 1; fi
echo "floor $transport $(git -C "$root" rev-parse --short HEAD) pid $pid on port $port" >&2
taskset -c 0 dotnet "$bench" pres2c --protocol herald-ws --server "floor-$transport" --url "http://127.0.0.1:$port" --server-pid "$pid" "$@"
