#!/usr/bin/env bash
# Runs PRES-2C against Herald (Release build of src/Herald.Server) on loopback: a fresh data directory, the server
# pinned to core 1, the generator pinned to core 0. For the run only: PBKDF2 iterations = 1 (the fairness rule's
# "plain password storage"; the production default is 100,000), login and per-principal rate limits raised
# (start_herald in start-servers.sh).
# Usage: bench/servers/run-herald.sh herald-ws|signalr-json|signalr-msgpack|xmpp [generator options]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
protocol="${1:?protocol: herald-ws, signalr-json, signalr-msgpack or xmpp}"
shift
. "$here/start-servers.sh"
bench="$root/bench/Herald.Bench/bin/Release/net10.0/Herald.Bench.dll"
[ -f "$bench" ] || dotnet build "$root/bench/Herald.Bench" -c Release >/dev/null
port="${PORT:-5088}"
xport="${XMPP_PORT:-5252}"
bench_users_roster "$@"
start_herald
provision_herald
if [ "$protocol" = xmpp ]; then
  taskset -c 0 dotnet "$bench" pres2c --protocol xmpp --server herald --port "$xport" --domain localhost --server-pid "$pid" "$@"
else
  taskset -c 0 dotnet "$bench" pres2c --protocol "$protocol" --server herald --url "http://127.0.0.1:$port" --server-pid "$pid" "$@"
fi
