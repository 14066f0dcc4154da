#!/usr/bin/env bash
# Peer benchmark: the gateway against a peer GraphQL-over-REST gateway and a
# static handler, all over the same Workable simulator, everything warm,
# measured with wrk on this machine in one run.
#
# Systems (each its own process, all up for the whole run):
#   static   scripts/baseline answering each request with the bytes the
#            gateway's record path gave for it (the cheapest possible server)
#   gateway  the gateway, response cache on (the default)
#   records  the gateway with RESPONSE_CACHE=false: every request executes
#            the query over cached records (the record path)
#   tailcall Tailcall 1.0 (npm @tailcallhq/core-linux-x64-gnu, pinned in
#            scripts/peerbench/package.json) configured by
#            scripts/peerbench/tailcall.graphql (@http, @cache, batchKey)
# Workloads:
#   q1       candidates(first: 50) { nodes { id name job { shortcode title } } }
#   q3       candidates(first: 50) { nodes { id name job { shortcode state location { city } } } }
#   varied   50 queries in turn: 10 pages (cursor pages, job and stage
#            filters) times 5 field selections (scripts/peerbench/main.go),
#            each request with a URL parameter ?n= of its own, which the
#            servers ignore but the gateway's response cache keys on: every
#            request is one the response cache has not seen, as with a
#            frontend's varied queries (VARIED_DISTINCT=0 sends the 50 as
#            they are: the response cache then answers them all)
#
# The simulator runs alone without a rate limit. Each system is warmed
# with every query of every workload (the gateways until their cost
# extension shows no Workable call, the response cache until it answers),
# and the answers of the gateway, Tailcall and the static handler are
# checked to hold the same data. The gateways run with CACHE_TTL_SCALE=100
# (nothing expires for 50 minutes) and Tailcall's @cache keeps entries for
# an hour; a gateway that calls Workable during a measured run fails the
# benchmark, since the run would not be a warm one.
#
# Each round measures every workload on every system (the order rotates
# from round to round), ROUNDS rounds. For each run: req/s and p99 from wrk,
# CPU µs per request of the server process (utime+stime from
# /proc/<pid>/stat before and after, divided by the requests wrk made),
# the ratio to the static handler's req/s in the same round and workload,
# and the share of the machine's CPU that other processes (not the server,
# not wrk) used meanwhile. The table gives the medians over the rounds.
# Any wrk socket error or non-2xx answer, and any GraphQL error in the
# sampled answer checked after each run, fails the script (exit 1).
#
#   scripts/peerbench.sh [duration per run, default 10s]
#   ROUNDS=2 WORKLOADS="q1" scripts/peerbench.sh 5s
#
# Then each system and workload once at one connection (wrk -c1,
# LATENCY_DURATION): p50 and p99 of one request at a time.
#
# Settings (environment): ROUNDS (3), CONNS (50), THREADS (2), WORKLOADS
# ("q1 q3 varied"), VARIED_DISTINCT (1), WRK_TIMEOUT (10s), LATENCY_DURATION
# (5s; 0 skips the one-connection runs), PEERBENCH_PORT
# (18380: the simulator; the systems use the next four ports), TC_LOG_LEVEL
# (Tailcall's log level, error), KEEP_TMP (keep the logs and files). The
# gateway's own settings pass through to both gateways (e.g. GOGC=400,
# LOG_LEVEL=warn, REDIS_URL).
# Needs go, curl, npm and wrk (installed with apt-get when missing and root).
# Takes about 8 minutes with the defaults: not for CI.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT=peerbench
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

DURATION=${1:-10s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-50}
THREADS=${THREADS:-2}
WORKLOADS=${WORKLOADS:-q1 q3 varied}
VARIED_DISTINCT=${VARIED_DISTINCT:-1}
# wrk's own default (2 s) is shorter than the record path's worst latencies
# on a busy 2-core machine; a request slower than this counts as failed.
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}
# The one-connection latency runs (0 skips them).
LATENCY_DURATION=${LATENCY_DURATION:-5s}
PORT0=${PEERBENCH_PORT:-18380}
SIM_PORT=$PORT0
declare -A port=([static]=$((PORT0 + 1)) [gateway]=$((PORT0 + 2)) [records]=$((PORT0 + 3)) [tailcall]=$((PORT0 + 4)))
SYSTEMS=(static gateway records tailcall)
# shellcheck disable=SC2016 # the backquotes are Markdown
declare -A label=(
  [static]='static net/http, same bytes'
  [gateway]='gateway, response cache'
  [records]='gateway, record path (`RESPONSE_CACHE=false`)'
  [tailcall]='Tailcall 1.0.0 (`@cache`, `batchKey`)'
)

case $VARIED_DISTINCT in 0 | 1) ;; *) die "VARIED_DISTINCT must be 0 or 1, not '$VARIED_DISTINCT'" ;; esac
case $ROUNDS in
  '' | *[!0-9]* | 0) die "ROUNDS must be a positive integer, not '$ROUNDS'" ;;
esac
for wl in $WORKLOADS; do
  case $wl in q1 | q3 | varied) ;; *) die "unknown workload '$wl' in WORKLOADS (q1, q3, varied)" ;; esac
done

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "peerbench: installing wrk (apt-get install -y wrk)" >&2
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; } ||
      die "could not install wrk"
  else
    die "wrk is missing (Debian: apt-get install -y wrk)"
  fi
fi
need go curl npm

for p in "$SIM_PORT" "${port[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    die "port $p is in use (set PEERBENCH_PORT to another base port)"
  fi
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# Tailcall, from npm at the exact version of package.json. 1.0.0 is the last
# build that runs on Debian 12's glibc.
TC_DIR=scripts/peerbench
TAILCALL=$TC_DIR/node_modules/@tailcallhq/core-linux-x64-gnu/bin/tailcall
TC_WANT=$(sed -n 's/.*"@tailcallhq\/core-linux-x64-gnu": *"\([^"]*\)".*/\1/p' "$TC_DIR/package.json")
if [ ! -x "$TAILCALL" ] || [ "$("$TAILCALL" --version 2>/dev/null)" != "tailcall v$TC_WANT" ]; then
  echo "peerbench: installing Tailcall $TC_WANT (npm ci in $TC_DIR)" >&2
  (cd "$TC_DIR" && npm ci --no-audit --no-fund >/dev/null)
fi
[ "$("$TAILCALL" --version)" = "tailcall v$TC_WANT" ] || die "$TAILCALL is not Tailcall $TC_WANT"

go build -o "$tmp/gateway" .
go build -o "$tmp/baseline" ./scripts/baseline
go build -o "$tmp/peerbench" ./scripts/peerbench

# The simulator enforces no budget; the gateways pin theirs (WORKABLE_RATE_LIMIT) so that
# warming is not held to the 10 per 10 s the simulator announces.
start "$tmp/simulator.log" "$tmp/gateway" simulator -addr "127.0.0.1:$SIM_PORT" -rate-limit 0
wait_up "http://127.0.0.1:$SIM_PORT/spi/v3/jobs" $! "$tmp/simulator.log"
simulator_account "$tmp/simulator.log"
SIM_BASE=http://127.0.0.1:$SIM_PORT/spi/v3

declare -A pid url
start_gateway() { # system response-cache
  PORT=${port[$1]} WORKABLE_SUBDOMAIN=$SUBDOMAIN WORKABLE_API_TOKEN=$TOKEN WORKABLE_BASE_URL=$SIM_BASE/ WORKABLE_RATE_LIMIT=1000 \
    RESPONSE_CACHE=$2 CACHE_PREFIX="peerbench:$$:$1:" CACHE_TTL_SCALE=100 REQUEST_TIMEOUT=120s REFRESH_ENABLED=false \
    "$tmp/gateway" >"$tmp/$1.log" 2>&1 &
  pids+=($!)
  pid[$1]=$!
  url[$1]=http://127.0.0.1:${port[$1]}/query
  wait_up "http://127.0.0.1:${port[$1]}/healthz" "${pid[$1]}" "$tmp/$1.log"
}
start_gateway gateway true
start_gateway records false

sed -e "s|@PORT@|${port[tailcall]}|g" -e "s|@BASE@|$SIM_BASE|g" -e "s|@TOKEN@|$TOKEN|g" \
  "$TC_DIR/tailcall.graphql" >"$tmp/tailcall.graphql"
"$TAILCALL" check "$tmp/tailcall.graphql" >"$tmp/tailcall-check.log" 2>&1 ||
  { cat "$tmp/tailcall-check.log" >&2; die "Tailcall rejected its configuration"; }
# Tailcall logs nothing per request at any level, but at its default level
# (info) it also builds a tracing span per resolved field, which cost a
# quarter to a half of its CPU per warm Q3 request here; a user after speed
# turns that off.
TC_LOG_LEVEL=${TC_LOG_LEVEL:-error} "$TAILCALL" start "$tmp/tailcall.graphql" >"$tmp/tailcall.log" 2>&1 &
pids+=($!)
pid[tailcall]=$!
url[tailcall]=http://127.0.0.1:${port[tailcall]}/graphql
wait_up "http://127.0.0.1:${port[tailcall]}/status" "${pid[tailcall]}" "$tmp/tailcall.log"

# The request bodies: $tmp/w/<workload>.gateway (the gateways and the static
# handler) and $tmp/w/<workload>.tailcall (the same pages, with since_id
# cursors).
mkdir "$tmp/w"
"$tmp/peerbench" workload -gateway "${url[records]}" -dir "$tmp/w"
bodies() { # system workload
  if [ "$1" = tailcall ]; then echo "$tmp/w/$2.tailcall"; else echo "$tmp/w/$2.gateway"; fi
}

# Warm every system with every query, check every answer, and check that
# they all show the same data. The two gateways warm in parallel (each keeps
# to Workable's 10 calls per 10 s: about half a minute).
echo "peerbench: warming (the gateways wait for Workable's rate budget, ~30 s)" >&2
static_requests=() static_responses=()
for wl in $WORKLOADS; do
  "$tmp/peerbench" fetch -url "${url[records]}" -bodies "$(bodies records "$wl")" -warm-gateway \
    -out "$tmp/$wl.records.answers" &
  rec=$!
  "$tmp/peerbench" fetch -url "${url[gateway]}" -bodies "$(bodies gateway "$wl")" -warm-gateway -response-cache \
    -out "$tmp/$wl.gateway.answers" &
  gw=$!
  wait "$rec" || die "warming the record-path gateway with $wl failed"
  wait "$gw" || die "warming the gateway with $wl failed"
  for _ in 1 2; do
    "$tmp/peerbench" fetch -url "${url[tailcall]}" -bodies "$(bodies tailcall "$wl")" -out "$tmp/$wl.tailcall.answers" ||
      die "Tailcall failed on $wl"
  done
  "$tmp/peerbench" compare -a "$tmp/$wl.records.answers" -b "$tmp/$wl.gateway.answers" ||
    die "$wl: the two gateways disagree"
  "$tmp/peerbench" compare -a "$tmp/$wl.records.answers" -b "$tmp/$wl.tailcall.answers" ||
    die "$wl: Tailcall's data differs from the gateway's: the comparison would be unfair"
  static_requests+=("$(bodies static "$wl")")
  static_responses+=("$tmp/$wl.records.answers")
done
cat "${static_requests[@]}" >"$tmp/static.requests"
cat "${static_responses[@]}" >"$tmp/static.responses"
"$tmp/baseline" -addr "127.0.0.1:${port[static]}" -requests "$tmp/static.requests" -responses "$tmp/static.responses" \
  >"$tmp/static.log" 2>&1 &
pids+=($!)
pid[static]=$!
url[static]=http://127.0.0.1:${port[static]}/query
wait_up "${url[static]}" "${pid[static]}" "$tmp/static.log"
for wl in $WORKLOADS; do
  "$tmp/peerbench" fetch -url "${url[static]}" -bodies "$(bodies static "$wl")" -out "$tmp/$wl.static.answers" ||
    die "the static handler failed on $wl"
  cmp -s "$tmp/$wl.static.answers" "$tmp/$wl.records.answers" || die "$wl: the static handler's bytes differ from the gateway's"
done

HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
cpu_ticks() {
  [ -r "/proc/$1/stat" ] || die "the server process $1 has ended"
  awk '{ print $14 + $15 }' "/proc/$1/stat"
}
# machine_ticks prints the machine's busy and total CPU ticks (/proc/stat).
machine_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
# metric_sum sums the samples of a gateway metric whose line matches re.
metric_sum() { # system re
  curl -fs "http://127.0.0.1:${port[$1]}/metrics" | awk -v re="$2" '$0 ~ re && !/^#/ { s += $NF } END { printf "%d\n", s }'
}
calls_re='^workable_gateway_workable_calls_total'
resp_hit_re='^workable_gateway_cache_lookups_total[{]kind="resp",result="hit"[}]'
resp_all_re='^workable_gateway_cache_lookups_total[{]kind="resp",'

# measure runs wrk against one system and appends a line to $tmp/results:
# round workload system req/s p99-ms cpu-µs/req others-cpu-%.
measure() { # round workload system
  local r=$1 wl=$2 sys=$3 out="$tmp/wrk.$1.$2.$3" what="round $1, $2, $3"
  local calls0 hits0=0 all0=0 c0 c1 m0 m1 n wrk_s
  if [ "$sys" = gateway ] || [ "$sys" = records ]; then
    calls0=$(metric_sum "$sys" "$calls_re")
    hits0=$(metric_sum "$sys" "$resp_hit_re")
    all0=$(metric_sum "$sys" "$resp_all_re")
  fi
  load1+=("$(cut -d' ' -f1 /proc/loadavg)")
  m0=$(machine_ticks)
  c0=$(cpu_ticks "${pid[$sys]}")
  local tag=()
  if [ "$wl" = varied ] && [ "$VARIED_DISTINCT" = 1 ]; then tag=("r$r$sys"); fi
  local TIMEFORMAT='%U %S'
  { time wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout "$WRK_TIMEOUT" --latency -s "$TC_DIR/bodies.lua" "${url[$sys]}" \
    -- "$(bodies "$sys" "$wl")" "${tag[@]}" >"$out" 2>&1; } 2>"$out.time" || { cat "$out" >&2; die "$what: wrk failed"; }
  c1=$(cpu_ticks "${pid[$sys]}")
  m1=$(machine_ticks)
  check_wrk "$out" "$what"
  n=$(awk '/requests in/ { print $1; exit }' "$out")
  wrk_s=$(awk '{ print $1 + $2 }' "$out.time")
  # The answer to one of the measured requests, after the run: the server
  # must still answer it with data and without a GraphQL error.
  "$tmp/peerbench" fetch -url "${url[$sys]}" -bodies "$(bodies "$sys" "$wl")" -pick "$((r * 7))" >/dev/null ||
    die "$what: the sampled answer failed"
  if [ "$sys" = gateway ] || [ "$sys" = records ]; then
    local calls1
    calls1=$(metric_sum "$sys" "$calls_re")
    [ "$calls1" = "$calls0" ] || die "$what: the gateway called Workable $((calls1 - calls0)) times: not a warm run"
    echo "$wl $sys $(($(metric_sum "$sys" "$resp_hit_re") - hits0)) $(($(metric_sum "$sys" "$resp_all_re") - all0))" >>"$tmp/resp"
  fi
  awk -v r="$r" -v wl="$wl" -v sys="$sys" -v rps="$(rps "$out")" \
    -v p99="$(pctms "$out" 99%)" -v c0="$c0" -v c1="$c1" -v n="$n" -v hz="$HZ" -v ncpu="$NCPU" \
    -v m0="$m0" -v m1="$m1" -v wrk_s="$wrk_s" 'BEGIN {
      split(m0, a, " "); split(m1, b, " ")
      busy = b[1] - a[1]; total = b[2] - a[2]
      others = busy - (c1 - c0) - wrk_s * hz
      if (others < 0) others = 0
      share = 0
      if (total > 0) share = 100 * others / total
      printf "%s %s %s %.1f %s %.1f %.1f\n", r, wl, sys, rps, p99, (c1 - c0) / hz * 1e6 / n, share
    }' >>"$tmp/results"
}

load1=()
: >"$tmp/results"
: >"$tmp/resp"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
echo "peerbench: measuring: $ROUNDS rounds of ($WORKLOADS) x (${SYSTEMS[*]}), $DURATION each" >&2
for r in $(seq 1 "$ROUNDS"); do
  for wl in $WORKLOADS; do
    for i in "${!SYSTEMS[@]}"; do
      sys=${SYSTEMS[$(((i + r - 1) % ${#SYSTEMS[@]}))]}
      measure "$r" "$wl" "$sys"
      echo "peerbench: $(tail -n1 "$tmp/results")" >&2
    done
  done
done
# One connection: the latency of one request at a time (p50 and p99), each
# system and workload once, LATENCY_DURATION each.
: >"$tmp/latency"
if [ "$LATENCY_DURATION" != 0 ]; then
  echo "peerbench: one connection, $LATENCY_DURATION each" >&2
  for wl in $WORKLOADS; do
    for sys in "${SYSTEMS[@]}"; do
      out="$tmp/wrk1.$wl.$sys"
      wrk -t1 -c1 -d"$LATENCY_DURATION" --timeout "$WRK_TIMEOUT" --latency -s "$TC_DIR/bodies.lua" "${url[$sys]}" \
        -- "$(bodies "$sys" "$wl")" >"$out" 2>&1 || { cat "$out" >&2; die "one connection, $wl, $sys: wrk failed"; }
      check_wrk "$out" "one connection, $wl, $sys"
      echo "$wl $sys $(pctms "$out" 50%) $(pctms "$out" 99%)" >>"$tmp/latency"
      echo "peerbench: one connection: $(tail -n1 "$tmp/latency")" >&2
    done
  done
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

rss_mib() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

printf '\n## Peer benchmark, %s\n\n' "$started"
printf -- '- machine: %s cores (%s), %s GiB; Go: %s; Tailcall %s\n' "$NCPU" "$cpu_model" \
  "$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)" "$(go env GOVERSION)" "$TC_WANT"
printf -- '- wrk -t%s -c%s -d%s --timeout %s, %s rounds, systems in rotating order; medians of the rounds\n' "$THREADS" "$CONNS" "$DURATION" "$WRK_TIMEOUT" "$ROUNDS"
printf -- '- load average (1, 5, 15 min) before the benchmark: %s; after: %s; 1-min load before each run: %s–%s (wrk and the server under test add about 2)\n' \
  "$load_before" "$load_after" "$(printf '%s\n' "${load1[@]}" | sort -g | head -n1)" "$(printf '%s\n' "${load1[@]}" | sort -g | tail -n1)"
printf -- '- RSS after the runs: gateway %s MiB, record path %s MiB, Tailcall %s MiB, static %s MiB\n' \
  "$(rss_mib "${pid[gateway]}")" "$(rss_mib "${pid[records]}")" "$(rss_mib "${pid[tailcall]}")" "$(rss_mib "${pid[static]}")"
resp_share=''
for wl in $WORKLOADS; do
  resp_share+=$(awk -v wl="$wl" '$1 == wl && $2 == "gateway" { h += $3; n += $4 } END { if (n > 0) printf "%s %.0f%%, ", wl, 100 * h / n }' "$tmp/resp")
done
printf -- '- answers from the response cache (response cache on): %s\n' "${resp_share%, }"
printf '\n| system | query | req/s | p99 ms | CPU µs/req | ratio to static | req/s per round | others'"'"' CPU |\n'
printf '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |\n'
for wl in $WORKLOADS; do
  for sys in "${SYSTEMS[@]}"; do
    awk -v wl="$wl" -v sys="$sys" -v label="${label[$sys]}" '
      function median(a, k,   i, j, t) {
        for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
      }
      $2 == wl && $3 == "static" { base[$1] = $4 }
      $2 == wl && $3 == sys { k++; round[k] = $1; rps[k] = $4; p99[k] = $5; cpu[k] = $6; oth[k] = $7; list = list (k > 1 ? ", " : "") sprintf("%.0f", $4) }
      END {
        for (i = 1; i <= k; i++) ratio[i] = rps[i] / base[round[i]]
        printf "| %s | %s | %.0f | %.1f | %.0f | %.2f | %s | %.0f%% |\n", label, wl, median(rps, k), median(p99, k), median(cpu, k), median(ratio, k), list, median(oth, k)
      }' "$tmp/results"
  done
done
if [ -s "$tmp/latency" ]; then
  printf '\nOne connection (wrk -t1 -c1 -d%s), latency in ms:\n\n' "$LATENCY_DURATION"
  printf '| system | query | p50 ms | p99 ms |\n| --- | --- | ---: | ---: |\n'
  while read -r wl sys p50 p99; do
    printf '| %s | %s | %s | %s |\n' "${label[$sys]}" "$wl" "$p50" "$p99"
  done <"$tmp/latency"
fi
