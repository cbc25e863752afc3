#!/usr/bin/env bash
# Runs PRES-2C against Prosody (Debian package) on loopback: provisions N users with ring rosters as Prosody's
# internal storage files (plain passwords), starts Prosody pinned to core 1, runs the generator pinned to core 0,
# stops Prosody. Usage: bench/servers/run-prosody.sh [generator options, e.g. --users 5000 --think 60,20,10,5,2]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bench="$root/bench/Herald.Bench/bin/Release/net10.0/Herald.Bench.dll"
[ -f "$bench" ] || dotnet build "$root/bench/Herald.Bench" -c Release >/dev/null
port="${PORT:-5232}"
users=5000
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[$i]}" = "--users" ] && users="${args[$((i + 1))]}"; done
dir="$(mktemp -d /tmp/herald-bench-prosody.XXXXXX)"
mkdir -p "$dir/data" "$dir/certs"
sed -e "s|@DIR@|$dir|g" -e "s|@PORT@|$port|g" "$here/prosody.cfg.lua.in" > "$dir/prosody.cfg.lua"
dotnet "$bench" provision prosody --data "$dir/data" --users "$users"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
taskset -c 1 prosody --config "$dir/prosody.cfg.lua" -F > "$dir/stdout.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
echo "prosody $(dpkg-query -W -f '${Version}' prosody) pid $pid on port $port" >&2
taskset -c 0 dotnet "$bench" pres2c --protocol xmpp --server prosody --port "$port" --domain localhost --server-pid "$pid" "$@"
