#!/usr/bin/env bash
# Warm-cache load test: the gateway (demo mode, its built-in simulator) against a
# plain net/http handler serving the very same response bytes (scripts/baseline),
# measured in the same run with wrk, for each query of issue 4's table.
#
#   scripts/loadtest.sh [duration, default 10s] [connections, default 50]
#
# The gateway's own settings pass through the environment, e.g.
#   RESPONSE_CACHE=false scripts/loadtest.sh       # record cache only
#   REDIS_URL=redis://127.0.0.1:6379/0 scripts/loadtest.sh
# Needs wrk (Debian: apt-get install -y wrk) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-10s}
CONNS=${2:-50}
THREADS=${THREADS:-2}
GW_PORT=${GW_PORT:-18080}
BASE_PORT=${BASE_PORT:-18090}

for tool in wrk curl go; do
  command -v "$tool" >/dev/null || { echo "loadtest: $tool is missing (wrk: apt-get install -y wrk)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/gateway" .
go build -o "$tmp/baseline" ./scripts/baseline

wait_up() { # url
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "loadtest: $1 did not come up" >&2
  exit 1
}

post() { # body-file url
  curl -fs -X POST -H 'Content-Type: application/json' --data-binary "@$1" "$2"
}

# Demo mode unless WORKABLE_* are set; CACHE_PREFIX keeps a shared Redis clean.
# The gateway keeps to Workable's 10 requests per 10 s even in demo mode, so
# the cold run of the 41-call query needs about 40 s: QUERY_TIMEOUT allows it.
# The default fresh TTLs (30 s for candidate lists and activities) would run
# out during the run, which is then no longer a warm-cache measurement:
# CACHE_TTL_SCALE=20 keeps everything fresh for at least 9 minutes.
PORT=$GW_PORT CACHE_PREFIX="${CACHE_PREFIX:-loadtest:$$:}" QUERY_TIMEOUT="${QUERY_TIMEOUT:-120s}" \
  CACHE_TTL_SCALE="${CACHE_TTL_SCALE:-20}" \
  "$tmp/gateway" >"$tmp/gateway.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$GW_PORT/healthz"

printf '{"query":"{ candidates(first: 8) { nodes { id } } }"}' >"$tmp/ids.json"
ID=$(post "$tmp/ids.json" "http://127.0.0.1:$GW_PORT/query" | grep -o '"id":"[^"]*"' | sed -n 8p | cut -d'"' -f4)

names=(list_job_title list_job_state_location summaries_activities summary_two_aliases)
bodies=(
  '{"query":"{ candidates(first: 50) { nodes { id name job { shortcode title } } } }"}'
  '{"query":"{ candidates(first: 50) { nodes { id name job { shortcode title state location { city } } } } }"}'
  '{"query":"{ candidates(first: 20) { nodes { summary activities(first: 5) { nodes { action } } } } }"}'
  '{"query":"query($id: ID!) { a: candidate(id: $id) { summary } b: candidate(id: $id) { summary } }","variables":{"id":"'"$ID"'"}}'
)

wrk_run() { # lua url out
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$1" "$2" >"$3"
}
rps() { awk '/^Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" {print $2}' "$1"; }

printf '\nwarm-cache load, %s connections, %s threads, %s each (gateway RESPONSE_CACHE=%s, REDIS_URL %s, %s cores)\n\n' \
  "$CONNS" "$THREADS" "$DURATION" "${RESPONSE_CACHE:-true}" "$([ -n "${REDIS_URL:-}" ] && echo set || echo unset)" "$(nproc)"
printf '| query | gateway req/s | baseline req/s | ratio | gateway p99 | baseline p99 |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: |\n'
for i in "${!names[@]}"; do
  name=${names[$i]}
  printf '%s' "${bodies[$i]}" >"$tmp/$name.json"
  for _ in 1 2; do post "$tmp/$name.json" "http://127.0.0.1:$GW_PORT/query" >"$tmp/$name.resp"; done
  if grep -q '"errors"' "$tmp/$name.resp"; then
    echo "loadtest: $name answered with errors: $(cat "$tmp/$name.resp")" >&2
    exit 1
  fi
  cat >"$tmp/$name.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$tmp/$name.json", "rb")
wrk.body = f:read("*a")
f:close()
LUA
  "$tmp/baseline" -addr "127.0.0.1:$BASE_PORT" -body "$tmp/$name.resp" &
  bpid=$!
  wait_up "http://127.0.0.1:$BASE_PORT/query"
  wrk_run "$tmp/$name.lua" "http://127.0.0.1:$BASE_PORT/query" "$tmp/$name.base"
  kill "$bpid"
  wait "$bpid" 2>/dev/null || true
  wrk_run "$tmp/$name.lua" "http://127.0.0.1:$GW_PORT/query" "$tmp/$name.gw"
  g=$(rps "$tmp/$name.gw")
  b=$(rps "$tmp/$name.base")
  printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$g" "$b" \
    "$(awk -v g="$g" -v b="$b" 'BEGIN { printf "%.2f", g / b }')" "$(p99 "$tmp/$name.gw")" "$(p99 "$tmp/$name.base")"
done
