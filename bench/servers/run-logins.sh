#!/usr/bin/env bash
# Runs PRES-2C's login phase (native generator, `--login-only`) against one Herald several times in a row: round 1 logs
# everyone in on a fresh server (the first calls of every code path: JIT at tier 0, first grain activations, empty
# caches), later rounds on the same, warm server after everyone logged out (the generator's connections close when it
# exits). Server pinned to core 1, generator to core 0, loopback only; start-up and provisioning as run-native.sh.
# Usage: bench/servers/run-logins.sh ROUNDS [generator options]   (e.g. 3 --users 5000 --roster 20 --login-rate 3000
#        --login-inflight 200 --settle 2 --login-only); SERVER_ENV="NAME=value …" adds environment to the server only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds="${1:?rounds: how many login rounds (1-10)}"
shift
case "$rounds" in [1-9]|10) ;; *) echo "rounds must be 1-10" >&2; exit 2 ;; esac
. "$here/start-servers.sh"
gen="$("$root/bench/native/build.sh")"
bench_users_roster "$@"
port="${PORT:-5088}"
xport="${XMPP_PORT:-5252}"
for kv in ${SERVER_ENV:-}; do export "${kv?}"; done
start_herald
provision_herald
for ((r = 1; r <= rounds; r++)); do
  echo "== login round $r of $rounds ($([ "$r" = 1 ] && echo fresh server || echo warm server))" >&2
  taskset -c 0 "$gen" --server herald --url "http://127.0.0.1:$port" --server-pid "$pid" "$@"
  sleep 3 # the closed connections' clean-up (unwatch, detach) is not charged to the next round
done
