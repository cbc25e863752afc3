#!/usr/bin/env bash
# Runs PRES-2C with the native generator (bench/native/pres2c.c, built here by bench/native/build.sh) over Herald's
# live WebSocket protocol: the server pinned to core 1 (started as run-herald.sh / run-floor.sh start it, by
# start-servers.sh), the generator pinned to core 0, loopback only. Herald gets its users and ring rosters from the .NET
# generator's provisioner first; the floor server needs none.
# Usage: bench/servers/run-native.sh herald|floor-kestrel-each|floor-kestrel-coalesced|floor-raw [generator options]
# (generator options: bench/native/bin/pres2c-native --help; the same names as the .NET generator's pres2c)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${1:?target: herald, floor-kestrel-each, floor-kestrel-coalesced or floor-raw}"
shift
. "$here/start-servers.sh"
gen="$("$root/bench/native/build.sh")"
bench_users_roster "$@"
case "$target" in
  herald)
    port="${PORT:-5088}"
    xport="${XMPP_PORT:-5252}"
    start_herald
    provision_herald
    ;;
  floor-kestrel-each|floor-kestrel-coalesced|floor-raw)
    port="${PORT:-5090}"
    start_floor "${target#floor-}"
    ;;
  *) echo "unknown target $target: herald, floor-kestrel-each, floor-kestrel-coalesced or floor-raw" >&2; exit 2 ;;
esac
taskset -c 0 "$gen" --server "$target" --url "http://127.0.0.1:$port" --server-pid "$pid" "$@"
