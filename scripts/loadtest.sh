#!/usr/bin/env bash
# Warm-cache load test: the gateway (demo mode, its built-in simulator) against a
# plain net/http handler serving the very same response bytes (scripts/baseline),
# measured in the same run with wrk, for each of the typical queries below. For each
# query the two are measured alternately, baseline then gateway, ROUNDS times
# (default 2), and the table gives the median of the rounds (req/s, p99 and the
# ratio of each round's pair), so that both see the same conditions. Any wrk
# run that reports socket errors or non-2xx/3xx responses, on either side,
# fails the script.
#
#   scripts/loadtest.sh [duration per run, default 10s] [connections, default 50]
#   ROUNDS=3 QUERIES="list_job_title summary_two_aliases" scripts/loadtest.sh 5s
#
# The gateway's own settings pass through the environment, e.g.
#   RESPONSE_CACHE=false scripts/loadtest.sh       # record cache only
#   REDIS_URL=redis://127.0.0.1:6379/0 scripts/loadtest.sh
# Needs wrk (Debian: apt-get install -y wrk) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT=loadtest
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

DURATION=${1:-10s}
CONNS=${2:-50}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-2}
# QUERIES picks some of the queries by name (space-separated), e.g.
# QUERIES=list_job_title for a quick check of the script.
QUERIES=${QUERIES:-}
GW_PORT=${GW_PORT:-18080}
BASE_PORT=${BASE_PORT:-18090}

case $ROUNDS in
  '' | *[!0-9]* | 0) die "ROUNDS must be a positive integer, not '$ROUNDS'" ;;
esac

command -v wrk >/dev/null || die "wrk is missing (Debian: apt-get install -y wrk)"
need curl go

go build -o "$tmp/gateway" .
go build -o "$tmp/baseline" ./scripts/baseline

post() { # body-file url
  curl -fs -X POST -H 'Content-Type: application/json' --data-binary "@$1" "$2"
}

# Demo mode unless WORKABLE_* are set; CACHE_PREFIX keeps a shared Redis clean.
# The gateway keeps to Workable's 10 requests per 10 s even in demo mode, so
# the cold run of the 41-call query needs about 40 s: QUERY_TIMEOUT allows it.
# The default fresh TTLs (30 s for candidate lists and activities) would run
# out during the run, which is then no longer a warm-cache measurement:
# CACHE_TTL_SCALE=20 keeps everything fresh for at least 9 minutes.
start "$tmp/gateway.log" env PORT="$GW_PORT" CACHE_PREFIX="${CACHE_PREFIX:-loadtest:$$:}" \
  QUERY_TIMEOUT="${QUERY_TIMEOUT:-120s}" CACHE_TTL_SCALE="${CACHE_TTL_SCALE:-20}" "$tmp/gateway"
wait_up "http://127.0.0.1:$GW_PORT/healthz" $! "$tmp/gateway.log"

printf '{"query":"{ candidates(first: 8) { nodes { id } } }"}' >"$tmp/ids.json"
ID=$(post "$tmp/ids.json" "http://127.0.0.1:$GW_PORT/query" | grep -o '"id":"[^"]*"' | sed -n 8p | cut -d'"' -f4)

names=(list_job_title list_job_state_location summaries_activities summary_two_aliases)
bodies=(
  '{"query":"{ candidates(first: 50) { nodes { id name job { shortcode title } } } }"}'
  '{"query":"{ candidates(first: 50) { nodes { id name job { shortcode title state location { city } } } } }"}'
  '{"query":"{ candidates(first: 20) { nodes { summary activities(first: 5) { nodes { action } } } } }"}'
  '{"query":"query($id: ID!) { a: candidate(id: $id) { summary } b: candidate(id: $id) { summary } }","variables":{"id":"'"$ID"'"}}'
)

wrk_run() { # lua url out label
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$1" "$2" >"$3" || { cat "$3" >&2; die "$4: wrk failed"; }
  check_wrk "$3" "$4"
}
# median prints the median of its arguments (the mean of the middle two for
# an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
  }'
}

printf '\nwarm-cache load, %s connections, %s threads, %s per run, %s alternating rounds (baseline, gateway) per query (gateway RESPONSE_CACHE=%s, REDIS_URL %s, %s cores)\n\n' \
  "$CONNS" "$THREADS" "$DURATION" "$ROUNDS" "${RESPONSE_CACHE:-true}" "$([ -n "${REDIS_URL:-}" ] && echo set || echo unset)" "$(nproc)"
printf '| query | gateway req/s | baseline req/s | ratio | gateway p99 | baseline p99 | ratios per round |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: | --- |\n'
for i in "${!names[@]}"; do
  name=${names[$i]}
  if [ -n "$QUERIES" ] && [[ " $QUERIES " != *" $name "* ]]; then
    continue
  fi
  printf '%s' "${bodies[$i]}" >"$tmp/$name.json"
  for _ in 1 2; do post "$tmp/$name.json" "http://127.0.0.1:$GW_PORT/query" >"$tmp/$name.resp"; done
  if grep -q '"errors"' "$tmp/$name.resp"; then
    die "$name answered with errors: $(cat "$tmp/$name.resp")"
  fi
  cat >"$tmp/$name.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$tmp/$name.json", "rb")
wrk.body = f:read("*a")
f:close()
LUA
  # The baseline stays up for the query's rounds (idle while the gateway is
  # measured, as the gateway is while the baseline is).
  start "$tmp/$name.baseline.log" "$tmp/baseline" -addr "127.0.0.1:$BASE_PORT" -body "$tmp/$name.resp"
  bpid=$!
  wait_up "http://127.0.0.1:$BASE_PORT/query" "$bpid" "$tmp/$name.baseline.log"
  gs=() bs=() ratios=() gp=() bp=()
  for r in $(seq 1 "$ROUNDS"); do
    wrk_run "$tmp/$name.lua" "http://127.0.0.1:$BASE_PORT/query" "$tmp/$name.base.$r" "$name, baseline, round $r"
    wrk_run "$tmp/$name.lua" "http://127.0.0.1:$GW_PORT/query" "$tmp/$name.gw.$r" "$name, gateway, round $r"
    g=$(rps "$tmp/$name.gw.$r")
    b=$(rps "$tmp/$name.base.$r")
    gs+=("$g") bs+=("$b")
    ratios+=("$(awk -v g="$g" -v b="$b" 'BEGIN { printf "%.2f", g / b }')")
    gp+=("$(pctms "$tmp/$name.gw.$r" 99%)") bp+=("$(pctms "$tmp/$name.base.$r" 99%)")
  done
  kill "$bpid"
  wait "$bpid" 2>/dev/null || true
  # The gateway must still answer without errors after the load.
  if ! post "$tmp/$name.json" "http://127.0.0.1:$GW_PORT/query" >"$tmp/$name.after" ||
    grep -q '"errors"' "$tmp/$name.after"; then
    die "$name failed or answered with errors after the load: $(cat "$tmp/$name.after")"
  fi
  printf '| %s | %s | %s | %s | %sms | %sms | %s |\n' "$name" "$(median "${gs[@]}")" "$(median "${bs[@]}")" \
    "$(median "${ratios[@]}")" "$(median "${gp[@]}")" "$(median "${bp[@]}")" "${ratios[*]}"
done
