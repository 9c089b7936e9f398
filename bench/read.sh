#!/usr/bin/env bash
# Read-path benchmark at scale (issue 15 items 3 and 4): for each size and store, seed
# SIZE servers × VERSIONS versions, start `vetted serve`, and load it from this machine with
# the Go load generator (`vetted bench load`). Reported per size and store: seed time,
# database size, cold start to ready, RSS when ready and after the load (with the cache
# bound), and req/s with p99 for
#   latest          GET /v0.1/servers/{random}/versions/latest
#   page            GET /v0.1/servers?limit=100, walking the cursors
#   cached search   GET /v0.1/servers?search={one of 39 words}
#   uncached search GET /v0.1/servers?search={a term never sent before in the run}, each
#                   matching one server: every request misses the response cache
# and then the same uncached search against the same data with the search index bypassed
# (`serve --bench-search-scan`: the full scan search was before issue 15), in the same run.
#
# Usage: bash bench/read.sh [--size N[,N…]] [--stores "sqlite postgres"] [--versions 5]
#                           [--duration 10s] [--out DIR] [--no-scan]
#   --size       servers per data set (default 10000; the issue's sizes are 10000, 100000
#                and 200000; larger ones work too)
#   --out        directory for the results: summary.md (one table row per size and store)
#                and read-SIZE-STORE.txt (the raw output); default: print only
#
# Prebuilt binaries (no Go toolchain needed; SQLite needs nothing else):
#   VETTED_BIN=/path/vetted [LOADGEN_BIN=/path/vetted] bash bench/read.sh --size 100000 --stores sqlite --out /tmp/res
# LOADGEN_BIN is the binary whose `bench load` sends the load (default: VETTED_BIN).
#
# Environment: BENCH_CONNECTIONS (64), BENCH_CACHE_MB (256, serve --cache-mb),
# VETTED_BENCH_POSTGRES or VETTED_TEST_POSTGRES (PostgreSQL URL; schema vetted_bench is
# dropped and re-created; needs psql), BENCH_NICE (e.g. -10: run the server and the load
# generator at that priority), BENCH_PORT (18080), BENCH_WRK=1 (also run wrk when installed).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

sizes=${BENCH_SERVERS:-10000}
versions=${BENCH_VERSIONS:-5}
duration=${BENCH_DURATION:-10s}
stores=${BENCH_STORES:-sqlite postgres}
out=""
scan=1
while [ $# -gt 0 ]; do
  case $1 in
    --size) sizes=$2; shift 2 ;;
    --stores) stores=$2; shift 2 ;;
    --versions) versions=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-scan) scan=0; shift ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "read.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
conns=${BENCH_CONNECTIONS:-64}
cache_mb=${BENCH_CACHE_MB:-256}
pg=${VETTED_BENCH_POSTGRES:-${VETTED_TEST_POSTGRES:-postgres://root@127.0.0.1:5432/test?sslmode=disable}}
port=${BENCH_PORT:-18080}
url="http://127.0.0.1:$port"
nice_cmd=()
if [ -n "${BENCH_NICE:-}" ]; then nice_cmd=(nice -n "$BENCH_NICE"); fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

vetted=${VETTED_BIN:-}
if [ -z "$vetted" ]; then
  (cd "$here" && GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3} go build -o "$work/vetted" ./cmd/vetted)
  vetted=$work/vetted
fi
loadgen=${LOADGEN_BIN:-$vetted}
if [ -n "$out" ]; then mkdir -p "$out"; fi

# All the load comes from one address: lift the per-address (and per-identity) rate limits.
cat > "$work/vetted.yaml" <<'YAML'
auth:
  rate_limits:
    per_address: {rate: 0, burst: 0}
    per_identity: {rate: 0, burst: 0}
YAML

machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "machine: $machine; $(date -u +%FT%TZ)"

rss_mib() { awk '/^VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
hwm_mib() { awk '/^VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# start_serve STORE_ARGS… starts the server, waits until it is ready, and sets cold_ms.
start_serve() {
  local t0; t0=$(date +%s%N)
  "${nice_cmd[@]}" "$vetted" serve "$@" --addr "127.0.0.1:$port" --config "$work/vetted.yaml" \
    --cache-mb "$cache_mb" --log-level warn >"$work/serve.log" 2>&1 &
  server_pid=$!
  if ! cold_ms=$("$loadgen" bench ready --url "$url" --since "$t0" --timeout 10m); then
    cat "$work/serve.log" >&2
    return 1
  fi
}

stop_serve() {
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

# load SCENARIOS [--unique-run R]: runs `bench load` and prints its lines.
load() {
  local scen=$1; shift
  "${nice_cmd[@]}" "$loadgen" bench load --url "$url" --connections "$conns" --duration "$duration" \
    --servers "$size" --scenario "$scen" "$@"
}

# cell SCENARIO FILE: "req/s / p99 ms" of a scenario's line.
cell() { awk -v s="$1" '$1 == s {printf "%s / %s ms", $2, $8}' "$2"; }
rps() { awk -v s="$1" '$1 == s {print $2}' "$2"; }

run_wrk() {
  command -v wrk >/dev/null && command -v curl >/dev/null || return 0
  {
    echo 'local pages = {"/v0.1/servers?limit=100"'
    local cur=""
    while :; do
      cur=$(curl -fsS "$url/v0.1/servers?limit=100${cur:+&cursor=$cur}" | tail -c 400 | sed -n 's/.*"nextCursor":"\([^"]*\)".*/\1/p')
      [ -n "$cur" ] || break
      echo ",\"/v0.1/servers?limit=100&cursor=$cur\""
    done
    echo '}'
    echo 'local i = 0'
    echo 'request = function() i = i + 1; return wrk.format("GET", pages[(i % #pages) + 1]) end'
  } > "$work/list.lua"
  echo "-- wrk (2 threads, $conns connections, $duration): page"
  "${nice_cmd[@]}" wrk -t2 -c"$conns" -d"$duration" --latency -s "$work/list.lua" "$url" |
    awk '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} END {printf "%9.0f req/s  p99 %s\n", rps, p99}'
}

run_one() {
  local store=$1 db_args=() seed_t0 seed_s db_mib rss_ready rss_after hwm cold_index res="$work/res.txt"
  case $store in
    sqlite) rm -rf "$work/data-sqlite"; db_args=(--data-dir "$work/data-sqlite") ;;
    postgres)
      psql "$pg" -q -c "DROP SCHEMA IF EXISTS vetted_bench CASCADE" -c "CREATE SCHEMA vetted_bench" >/dev/null
      local sep='?'; case $pg in *\?*) sep='&' ;; esac
      db_args=(--database "${pg}${sep}search_path=vetted_bench") ;;
    *) echo "read.sh: unknown store $store" >&2; exit 2 ;;
  esac
  : > "$res"
  echo "== $store, $size servers × $versions versions (load average $(cut -d' ' -f1 /proc/loadavg))" | tee -a "$res"
  seed_t0=$(date +%s%N)
  "$vetted" bench seed "${db_args[@]}" --servers "$size" --versions "$versions" | tee -a "$res"
  seed_s=$(awk -v a="$seed_t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b-a)/1e9}')
  case $store in
    sqlite) db_mib=$(du -cb "$work/data-sqlite"/vetted.db* | awk 'END {printf "%.0f", $1/1048576}') ;;
    postgres) db_mib=$(psql "$pg" -Atq -c "SELECT round(sum(pg_total_relation_size(c.oid))/1048576.0) FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'vetted_bench' AND c.relkind = 'r'") ;;
  esac

  start_serve "${db_args[@]}"
  cold_index=$cold_ms
  rss_ready=$(rss_mib "$server_pid")
  echo "cold start to ready: ${cold_index} ms; RSS when ready ${rss_ready} MiB" | tee -a "$res"
  # Warm the caches (one short pass of the cached scenarios), then measure.
  load latest,list,search --duration 3s >/dev/null
  echo "-- indexed search; Go load generator, $conns connections, $duration each (load average $(cut -d' ' -f1 /proc/loadavg))" | tee -a "$res"
  load latest,list,search,search-unique --unique-run 0 | tee -a "$res"
  rss_after=$(rss_mib "$server_pid"); hwm=$(hwm_mib "$server_pid")
  echo "RSS after the load: ${rss_after} MiB (peak ${hwm} MiB; cache bound ${cache_mb} MiB)" | tee -a "$res"
  if [ "${BENCH_WRK:-}" = 1 ]; then run_wrk | tee -a "$res"; fi
  stop_serve

  local scan_cell="" ratio=""
  if [ "$scan" = 1 ]; then
    start_serve "${db_args[@]}" --bench-search-scan
    echo "-- the same uncached search with the index bypassed (serve --bench-search-scan: the full scan)" | tee -a "$res"
    load search-unique --unique-run 1 | sed 's/^search-unique /search-scan   /' | tee -a "$res"
    stop_serve
    scan_cell=$(cell search-scan "$res")
    ratio=$(awk -v a="$(rps search-unique "$res")" -v b="$(rps search-scan "$res")" 'BEGIN {if (b > 0) printf "%.0f×", a/b}')
  fi
  if [ "$store" = postgres ]; then psql "$pg" -q -c "DROP SCHEMA vetted_bench CASCADE" >/dev/null; fi
  rm -rf "$work/data-sqlite"

  local row="| $size × $versions | $store | $seed_s s | $db_mib MiB | $cold_index ms | $rss_ready / $rss_after MiB (cap $cache_mb) | $(cell latest "$res") | $(cell list "$res") | $(cell search "$res") | $(cell search-unique "$res") | $scan_cell | $ratio |"
  echo "$row"
  if [ -n "$out" ]; then
    cp "$res" "$out/read-$size-$store.txt"
    if [ ! -s "$out/summary.md" ]; then
      {
        echo "machine: $machine"
        echo
        echo "| servers × versions | store | seed | database | cold start to ready | RSS ready / after load | latest req/s / p99 | page req/s / p99 | cached search req/s / p99 | uncached search (index) req/s / p99 | uncached search (full scan) req/s / p99 | index ÷ scan |"
        echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
      } > "$out/summary.md"
    fi
    echo "$row" >> "$out/summary.md"
  fi
}

for size in ${sizes//,/ }; do
  for store in $stores; do run_one "$store"; done
done
