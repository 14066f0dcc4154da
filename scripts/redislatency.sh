#!/usr/bin/env bash
# Redis latency under load: how long the gateway's own Redis operations take
# (the limiter's admission script, a batch's getMany, a generation read:
# scripts/redislatency) on a Redis this script starts, while
#
#   idle             nothing else runs (but whatever else the machine runs)
#   redis-benchmark  redis-benchmark hammers the same Redis with 50
#                    connections (GET, SET, INCR, LPUSH, LPOP; 512-byte values)
#   record path      a gateway on that Redis serves 50 connections (wrk) of a
#                    warm 50-candidate query with RESPONSE_CACHE=false, so that
#                    every request reads its records from Redis
#   both             the two at once
#
# and prints one Markdown table (calls, p50, p99, p99.9, max in ms). The
# record-path gateway runs with the production timeouts: the script also
# reports how many Workable calls it made while warm (a Redis call that
# timed out turns a cache hit into one), and fails if wrk saw errors.
#
#   scripts/redislatency.sh [seconds per load, default 20]
#
# Needs go, curl, wrk, redis-server, redis-cli and redis-benchmark. Takes
# about two minutes. Not part of CI (its figures depend on the machine).
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT=redislatency
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
need go curl wrk redis-server redis-cli redis-benchmark
SECONDS_PER_LOAD=${1:-20}

go build -o "$tmp/gateway" .
go build -o "$tmp/redislatency" ./scripts/redislatency

redis_port=$(free_port)
start "$tmp/redis.out" redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
  --logfile "$tmp/redis.log"
redis_up "$redis_port" "$tmp/redis.log"
redis_url="redis://127.0.0.1:$redis_port/0"

# The record-path gateway (demo mode: its own simulator), warmed.
gw_port=$(free_port)
start "$tmp/gateway.log" env PORT="$gw_port" HOST=127.0.0.1 REDIS_URL="$redis_url" RESPONSE_CACHE=false \
  CACHE_TTL_SCALE=20 REFRESH_ENABLED=false "$tmp/gateway"
gw_pid=$!
wait_up "http://127.0.0.1:$gw_port/healthz" "$gw_pid" "$tmp/gateway.log"
query='{"query":"{ candidates(first: 50) { nodes { id name job { shortcode title } } } }"}'
for _ in $(seq 1 60); do
  curl -fs -H 'Content-Type: application/json' -d "$query" "http://127.0.0.1:$gw_port/query" |
    grep -q '"workableCalls":0[,}]' && break
  sleep 1
done
curl -fs -H 'Content-Type: application/json' -d "$query" "http://127.0.0.1:$gw_port/query" |
  grep -q '"workableCalls":0[,}]' || die "the gateway did not warm up"
cat >"$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$query'
wrk.headers["Content-Type"] = "application/json"
LUA

workable_calls() {
  curl -fs "http://127.0.0.1:$gw_port/metrics" |
    awk '/^workable_gateway_workable_calls_total\{/ { n += $NF } END { printf "%d", n }'
}

bench_pid=
wrk_pid=
load_start() { # redis-benchmark|record|both
  case $1 in redis-benchmark | both)
    redis-benchmark -p "$redis_port" -c 50 -n 1000000000 -d 512 -r 100000 -t get,set,incr,lpush,lpop -q \
      >"$tmp/benchmark.log" 2>&1 &
    bench_pid=$!
    ;;
  esac
  case $1 in record | both)
    wrk -t2 -c50 -d"$((SECONDS_PER_LOAD + 5))s" -s "$tmp/post.lua" "http://127.0.0.1:$gw_port/query" \
      >"$tmp/wrk-$1.log" 2>&1 &
    wrk_pid=$!
    ;;
  esac
  sleep 2 # the load is on before the measurement starts
}
load_stop() { # name
  if [ -n "$bench_pid" ]; then kill "$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; fi
  if [ -n "$wrk_pid" ]; then
    wait "$wrk_pid" || die "wrk failed: $(cat "$tmp/wrk-$1.log")"
    check_wrk "$tmp/wrk-$1.log" "$1"
    echo "$SCRIPT: $1: record path $(rps "$tmp/wrk-$1.log") req/s" >&2
  fi
  bench_pid= wrk_pid=
}

echo "$SCRIPT: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
calls_before=$(workable_calls)
first=-header
for load in idle redis-benchmark record both; do
  load_start "$load"
  "$tmp/redislatency" -redis "$redis_url" -duration "${SECONDS_PER_LOAD}s" -label "$load" $first
  first=
  load_stop "$load"
done
calls_after=$(workable_calls)
echo "$SCRIPT: load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "$SCRIPT: Workable calls of the warm record-path gateway under load: $((calls_after - calls_before))" >&2
