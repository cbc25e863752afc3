# Shared start-up of the PRES-2C servers on loopback, sourced by run-herald.sh, run-floor.sh and run-native.sh.
# Each start_* function builds what is missing (Release), starts the server pinned to core 1 (taskset -c 1), waits for
# /healthz (bounded), sets $pid and installs an EXIT trap that stops the server and removes its files.
# Needs $root (the repository root) set by the caller.

# Reads --users and --roster from the generator options (defaults 5000 and 20) into $users and $roster.
bench_users_roster() {
  users=5000
  roster=20
  local args=("$@") i
  for ((i = 0; i < ${#args[@]}; i++)); do
    [ "${args[$i]}" = "--users" ] && users="${args[$((i + 1))]}"
    [ "${args[$i]}" = "--roster" ] && roster="${args[$((i + 1))]}"
  done
  return 0
}

# Waits (bounded: tries × 0.2 s) for http://127.0.0.1:$port/healthz while $pid lives; prints the log and fails otherwise.
bench_wait_healthy() {
  local what="$1" log="$2" tries="$3" up=0
  for _ in $(seq 1 "$tries"); do
    if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then up=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if [ "$up" != 1 ]; then echo "$what did not start:" >&2; tail -n 30 "$log" >&2; exit 1; fi
}

# Herald (Release build of src/Herald.Server) on $port (XMPP on $xport): a fresh data directory; for the run only PBKDF2
# iterations = 1 (the fairness rule's "plain password storage"; the production default is 100,000), login and
# per-principal rate limits raised.
start_herald() {
  local server="$root/src/Herald.Server/bin/Release/net10.0/Herald.Server.dll"
  [ -f "$server" ] || dotnet build "$root/src/Herald.Server" -c Release >/dev/null
  herald_dir="$(mktemp -d /tmp/herald-bench-herald.XXXXXX)"
  (
    export Herald__DataDirectory="$herald_dir/data"
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
    cd "$herald_dir" && exec taskset -c 1 dotnet "$server"
  ) > "$herald_dir/server.log" 2>&1 &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; tail -n 40 "$herald_dir/server.log" > /tmp/herald-bench-last-server.log 2>/dev/null || true; rm -rf "$herald_dir"' EXIT
  bench_wait_healthy Herald "$herald_dir/server.log" 600
  echo "herald $(git -C "$root" rev-parse --short HEAD) pid $pid on port $port" >&2
}

# The PRES-2C users and ring rosters on the Herald at $port, by the .NET generator's provisioner (admin API).
provision_herald() {
  local bench="$root/bench/Herald.Bench/bin/Release/net10.0/Herald.Bench.dll"
  [ -f "$bench" ] || dotnet build "$root/bench/Herald.Bench" -c Release >/dev/null
  dotnet "$bench" provision herald --url "http://127.0.0.1:$port" --admin-password bench-admin-pass --users "$users" --roster "$roster"
}

# The bare fan-out floor server (bench/Herald.Floor, Release) with transport $1 on $port, for $users and $roster.
start_floor() {
  local transport="$1" server="$root/bench/Herald.Floor/bin/Release/net10.0/Herald.Floor.dll"
  [ -f "$server" ] || dotnet build "$root/bench/Herald.Floor" -c Release >/dev/null
  if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then echo "port $port is already serving: stop that server first" >&2; exit 1; fi
  floor_log="$(mktemp /tmp/herald-bench-floor.XXXXXX.log)"
  taskset -c 1 dotnet "$server" --port "$port" --transport "$transport" --users "$users" --roster "$roster" > "$floor_log" 2>&1 &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; tail -n 40 "$floor_log" > /tmp/herald-bench-last-floor.log 2>/dev/null || true; rm -f "$floor_log"' EXIT
  bench_wait_healthy "the floor server" "$floor_log" 300
  echo "floor $transport $(git -C "$root" rev-parse --short HEAD) pid $pid on port $port" >&2
}
