#!/usr/bin/env bash
# Read-path benchmark (issue 2, item 9): seed 10,000 servers × 5 versions into SQLite and into
# PostgreSQL, start `vetted serve` on each, and load it from this machine with the Go load
# generator (`vetted bench load`) and, when installed, wrk (2 threads, 64 connections, as
# the reference numbers of the official registry were measured).
#
# Environment: BENCH_DURATION (default 10s per scenario), BENCH_CONNECTIONS (64),
# BENCH_SERVERS (10000), BENCH_VERSIONS (5), BENCH_STORES ("sqlite postgres"),
# VETTED_BENCH_POSTGRES or VETTED_TEST_POSTGRES (PostgreSQL URL; the benchmark uses its own
# schema vetted_bench, dropped and re-created), BENCH_NICE (e.g. -10: run the server and
# the load generators at that priority, so that other work on the machine disturbs the
# measurement less).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3

duration=${BENCH_DURATION:-10s}
conns=${BENCH_CONNECTIONS:-64}
servers=${BENCH_SERVERS:-10000}
versions=${BENCH_VERSIONS:-5}
stores=${BENCH_STORES:-sqlite postgres}
pg=${VETTED_BENCH_POSTGRES:-${VETTED_TEST_POSTGRES:-postgres://root@127.0.0.1:5432/test?sslmode=disable}}
port=${BENCH_PORT:-18080}
nice_cmd=()
if [ -n "${BENCH_NICE:-}" ]; then nice_cmd=(nice -n "$BENCH_NICE"); fi
url="http://127.0.0.1:$port"

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/vetted" ./cmd/vetted
# All the load comes from one address: lift the per-address (and per-identity) rate limits.
cat > "$work/vetted.yaml" <<'YAML'
auth:
  rate_limits:
    per_address: {rate: 0, burst: 0}
    per_identity: {rate: 0, burst: 0}
YAML

wait_ready() {
  for _ in $(seq 1 100); do
    if curl -fsS "$url/readyz" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "server did not become ready" >&2
  cat "$work/serve.log" >&2
  return 1
}

write_wrk_scripts() {
  cat > "$work/latest.lua" <<LUA
math.randomseed(os.time())
local words = {$(printf '"%s",' weather github postgres slack files search browser notion jira calendar maps kubernetes docker aws azure gcp redis mongo sqlite email pdf images translate finance stocks crypto news wiki code memory time shell git sentry grafana stripe figma linear zoom)}
local n = $servers
request = function()
  local i = math.random(0, n - 1)
  local a = words[(i % #words) + 1]
  local b = words[(math.floor(i / #words) % #words) + 1]
  return wrk.format("GET", string.format("/v0.1/servers/io.github.org%05d%%2F%s-%s-mcp/versions/latest", i, a, b))
end
LUA
  cat > "$work/search.lua" <<LUA
math.randomseed(os.time())
local words = {$(printf '"%s",' weather github postgres slack files search browser notion jira calendar maps kubernetes docker aws azure gcp redis mongo sqlite email pdf images translate finance stocks crypto news wiki code memory time shell git sentry grafana stripe figma linear zoom)}
request = function()
  return wrk.format("GET", "/v0.1/servers?search=" .. words[math.random(1, #words)])
end
LUA
}

run_store() {
  local store=$1 db_args=()
  case $store in
    sqlite) db_args=(--data-dir "$work/data-sqlite") ;;
    postgres)
      psql "$pg" -q -c "DROP SCHEMA IF EXISTS vetted_bench CASCADE" -c "CREATE SCHEMA vetted_bench" >/dev/null
      local sep='?'; case $pg in *\?*) sep='&' ;; esac
      db_args=(--database "${pg}${sep}search_path=vetted_bench") ;;
  esac
  echo "== $store"
  "$work/vetted" bench seed "${db_args[@]}" --servers "$servers" --versions "$versions"
  "${nice_cmd[@]}" "$work/vetted" serve "${db_args[@]}" --addr "127.0.0.1:$port" --config "$work/vetted.yaml" --log-level warn >"$work/serve.log" 2>&1 &
  server_pid=$!
  wait_ready
  # wrk walks the pages of ?limit=100 from a list of their cursors (collected here by
  # walking them once), so that it does not have to hand every body to Lua.
  {
    echo 'local pages = {"/v0.1/servers?limit=100"'
    local cur="" n=0
    while :; do
      cur=$(curl -fsS "$url/v0.1/servers?limit=100${cur:+&cursor=$cur}" | tail -c 400 | sed -n 's/.*"nextCursor":"\([^"]*\)".*/\1/p')
      [ -n "$cur" ] || break
      echo ",\"/v0.1/servers?limit=100&cursor=$cur\""
      n=$((n + 1))
    done
    echo '}'
    echo 'local i = 0'
    echo 'request = function() i = i + 1; return wrk.format("GET", pages[(i % #pages) + 1]) end'
  } > "$work/list.lua"
  # Warm the cache (one pass of each scenario), then measure.
  "$work/vetted" bench load --url "$url" --connections "$conns" --duration 3s --servers "$servers" >/dev/null
  echo "-- Go load generator ($conns connections, $duration each; load average $(cut -d' ' -f1 /proc/loadavg))"
  "${nice_cmd[@]}" "$work/vetted" bench load --url "$url" --connections "$conns" --duration "$duration" --servers "$servers"
  if command -v wrk >/dev/null; then
    echo "-- wrk (2 threads, $conns connections, $duration each)"
    for s in latest list search; do
      printf '%-10s ' "$s"
      "${nice_cmd[@]}" wrk -t2 -c"$conns" -d"$duration" --latency -s "$work/$s.lua" "$url" |
        awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$NF}
             END {printf "%9.0f req/s  p50 %s  p99 %s  non-2xx %s\n", rps, p50, p99, (bad==""?0:bad)}'
    done
  fi
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  if [ "$store" = postgres ]; then psql "$pg" -q -c "DROP SCHEMA vetted_bench CASCADE" >/dev/null; fi
}

write_wrk_scripts
for s in $stores; do run_store "$s"; done
