#!/usr/bin/env bash
# Runs PRES-2C against Herald (Release build of src/Herald.Server) on loopback: a fresh data directory, the server
# pinned to core 1, the generator pinned to core 0. For the run only: PBKDF2 iterations = 1 (the fairness rule's
# "plain password storage"; the production default is 100,000), login and per-principal rate limits raised.
# Usage: bench/servers/run-herald.sh herald-ws|signalr-json|signalr-msgpack|xmpp [generator options]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
protocol="${1:?protocol: herald-ws, signalr-json, signalr-msgpack or xmpp}"
shift
bench="$root/bench/Herald.Bench/bin/Release/net10.0/Herald.Bench.dll"
server="$root/src/Herald.Server/bin/Release/net10.0/Herald.Server.dll"
[ -f "$bench" ] || dotnet build "$root/bench/Herald.Bench" -c Release >/dev/null
[ -f "$server" ] || dotnet build "$root/src/Herald.Server" -c Release >/dev/null
port="${PORT:-5088}"
xport="${XMPP_PORT:-5252}"
users=5000
roster=20
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--users" ] && users="${args[$((i + 1))]}"
  [ "${args[$i]}" = "--roster" ] && roster="${args[$((i + 1))]}"
done
dir="$(mktemp -d /tmp/herald-bench-herald.XXXXXX)"
export Herald__DataDirectory="$dir/data"
export Herald__Bootstrap__AdminPassword="bench-admin-pass"
export Herald__Auth__PasswordIterations=1
export Herald__RateLimits__LoginsPerMinute=10000000
export Herald__RateLimits__PerPrincipalPerSecond=100000
export Herald__RateLimits__PerPrincipalBurst=100000
export Herald__Xmpp__Port="$xport"
export Herald__Xmpp__AllowPlainWithoutTls=true
export Herald__Xmpp__Domain=localhost
export Logging__LogLevel__Default=Warning
export ASPNETCORE_URLS="http://127.0.0.1:$port"
(cd "$dir" && exec taskset -c 1 dotnet "$server") > "$dir/server.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; tail -n 40 "$dir/server.log" > /tmp/herald-bench-last-server.log 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
up=0
for _ in $(seq 1 600); do
  if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then up=1; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
if [ "$up" != 1 ]; then echo "Herald did not start:" >&2; tail -n 30 "$dir/server.log" >&2; exit 1; fi
echo "herald $(git -C "$root" rev-parse --short HEAD) pid $pid on port $port" >&2
dotnet "$bench" provision herald --url "http://127.0.0.1:$port" --admin-password bench-admin-pass --users "$users" --roster "$roster"
if [ "$protocol" = xmpp ]; then
  taskset -c 0 dotnet "$bench" pres2c --protocol xmpp --server herald --port "$xport" --domain localhost --server-pid "$pid" "$@"
else
  taskset -c 0 dotnet "$bench" pres2c --protocol "$protocol" --server herald --url "http://127.0.0.1:$port" --server-pid "$pid" "$@"
fi
