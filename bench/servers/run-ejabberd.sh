#!/usr/bin/env bash
# Runs PRES-2C against ejabberd (Debian package) on loopback: starts ejabberd pinned to core 1 with a private
# spool (mnesia) directory, provisions N users with ring rosters through mod_http_api (plain passwords), runs the
# generator pinned to core 0, stops ejabberd. Usage: bench/servers/run-ejabberd.sh [generator options]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bench="$root/bench/Herald.Bench/bin/Release/net10.0/Herald.Bench.dll"
[ -f "$bench" ] || dotnet build "$root/bench/Herald.Bench" -c Release >/dev/null
port="${PORT:-5242}"
apiport="${APIPORT:-5281}"
users=5000
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[$i]}" = "--users" ] && users="${args[$((i + 1))]}"; done
dir="$(mktemp -d /tmp/herald-bench-ejabberd.XXXXXX)"
mkdir -p "$dir/spool" "$dir/logs"
sed -e "s|@PORT@|$port|g" -e "s|@APIPORT@|$apiport|g" "$here/ejabberd.yml.in" > "$dir/ejabberd.yml"
# Our own ejabberdctl.cfg: Debian's sets EJABBERD_CONFIG_PATH to /etc/ejabberd/ejabberd.yml.
printf 'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"\nEJABBERD_PID_PATH=%s/ejabberd.pid\n' "$dir" > "$dir/ejabberdctl.cfg"
cp /etc/ejabberd/inetrc "$dir/inetrc"
chown -R ejabberd: "$dir"
chmod 755 "$dir"
node="herald_bench_$$@localhost"
ctl=(setpriv --reuid=ejabberd --regid=ejabberd --init-groups env HOME=/var/lib/ejabberd ejabberdctl --config-dir "$dir" --config "$dir/ejabberd.yml" --spool "$dir/spool" --logs "$dir/logs" --node "$node")
taskset -c 1 "${ctl[@]}" foreground > "$dir/stdout.log" 2>&1 &
cleanup() {
  "${ctl[@]}" stop >/dev/null 2>&1 || true
  for _ in $(seq 1 50); do pgrep -f "beam.smp.*$node" >/dev/null || break; sleep 0.2; done
  pkill -f "beam.smp.*$node" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
up=0
for _ in $(seq 1 300); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$apiport") 2>/dev/null; then up=1; break; fi
  sleep 0.2
done
if [ "$up" != 1 ]; then echo "ejabberd did not start:" >&2; tail -n 30 "$dir/stdout.log" "$dir"/logs/*.log >&2 || true; exit 1; fi
pid="$(pgrep -f "beam.smp.*$node" | head -1)"
# ejabberdctl run as root would start beam through su as the ejabberd user, with a soft limit of 1,024 open files
# (about 990 clients, the rest of the logins time out): hence setpriv above, which keeps the caller's limit.
nofile="$(awk '/open files/ {print $4}' "/proc/$pid/limits")"
if [ "$nofile" -lt $((users + 100)) ]; then echo "warning: ejabberd may open only $nofile files; N = $users will not all log in" >&2; fi
echo "ejabberd $(dpkg-query -W -f '${Version}' ejabberd) beam pid $pid on port $port" >&2
dotnet "$bench" provision ejabberd --api "http://127.0.0.1:$apiport/api" --users "$users" \
  $(for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[$i]}" = "--roster" ] && echo "--roster ${args[$((i + 1))]}"; done)
taskset -c 0 dotnet "$bench" pres2c --protocol xmpp --server ejabberd --port "$port" --domain localhost --server-pid "$pid" "$@"
