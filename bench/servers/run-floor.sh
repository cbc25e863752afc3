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
. "$here/start-servers.sh"
bench="$root/bench/Herald.Bench/bin/Release/net10.0/Herald.Bench.dll"
[ -f "$bench" ] || dotnet build "$root/bench/Herald.Bench" -c Release >/dev/null
port="${PORT:-5090}"
bench_users_roster "$@"
start_floor "$transport"
taskset -c 0 dotnet "$bench" pres2c --protocol herald-ws --server "floor-$transport" --url "http://127.0.0.1:$port" --server-pid "$pid" "$@"
