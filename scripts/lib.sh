# shellcheck shell=bash
# What the scripts in scripts/ share: messages, a temporary folder, the
# processes they start (stopped on exit) and waiting for a server. Source it
# from a script after `set -euo pipefail`, with SCRIPT set to the script's
# name for its messages:
#
#   SCRIPT=scaleout
#   . "$(dirname "$0")/lib.sh"
#
# It defines die, need, start (with pids), wait_up, free_port, redis_up,
# simulator_account and the readers of wrk's output (check_wrk, rps,
# pctms), creates $tmp (removed on exit unless KEEP_TMP is set) and stops
# every process started with start when the script ends.

die() {
  echo "$SCRIPT: $*" >&2
  exit 1
}

# need fails unless each command named exists.
need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool is missing"
  done
}

tmp=$(mktemp -d)
pids=()

# start runs a command in the background with its output in a log file, and
# remembers it so that it is stopped on exit; $! is its pid.
start() { # log command...
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  pids+=($!)
}

cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ -n "${KEEP_TMP:-}" ]; then echo "$SCRIPT: logs and files kept in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'echo "$SCRIPT: interrupted" >&2; exit 130' INT TERM

# wait_up waits until url answers (any HTTP status) or the process pid ends,
# for 30 s at most; it shows the process's log when it fails.
wait_up() { # url pid log
  for _ in $(seq 1 300); do
    curl -s -o /dev/null "$1" && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; die "the process serving $1 ended"; }
    sleep 0.1
  done
  cat "$3" >&2
  die "$1 did not come up"
}

# free_port prints a loopback port that nothing listens on, nor on port+10000
# (a Redis Cluster node's bus port), and that this script has not handed out
# yet. Both lie below the kernel's ephemeral range, where an outgoing
# connection could hold the port without listening on it.
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
taken=" "
free_port() {
  local p
  [ "$ephemeral_low" -gt 12000 ] || die "the ephemeral port range starts at $ephemeral_low: no room below it"
  for _ in $(seq 1 200); do
    p=$((1024 + RANDOM % (ephemeral_low - 10000 - 1024)))
    case $taken in *" $p "* | *" $((p + 10000)) "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 10000))") 2>/dev/null; then
      taken+="$p $((p + 10000)) "
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# redis_up waits until the Redis on port answers PING.
redis_up() { # port log
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$1" PING 2>/dev/null)" = PONG ] && return 0
    sleep 0.1
  done
  die "Redis on port $1 did not come up: $(cat "$2")"
}

# simulator_account reads the subdomain and token the simulator printed in
# its log ("… listening on http://…/spi/v3/ (subdomain groove-tech, token
# demo-token)") into SUBDOMAIN and TOKEN.
simulator_account() { # log
  SUBDOMAIN=$(sed -n 's/.*(subdomain \([^,]*\), token .*/\1/p' "$1")
  TOKEN=$(sed -n 's/.*, token \([^)]*\)).*/\1/p' "$1")
  [ -n "$SUBDOMAIN" ] && [ -n "$TOKEN" ] || die "could not read the simulator's subdomain and token: $(cat "$1")"
}

# check_wrk fails the script when wrk saw socket errors (connect, read,
# write, timeout: wrk prints the line only when one is non-zero) or
# non-2xx/3xx answers, or printed no throughput at all: the figures would be
# meaningless.
check_wrk() { # out label
  local bad
  bad=$(awk '
    /Socket errors:/ { n = 0; for (i = 3; i <= NF; i++) { v = $i; gsub(/[^0-9]/, "", v); n += v } if (n > 0) print }
    /Non-2xx or 3xx responses:/ { if ($NF + 0 > 0) print }
  ' "$1")
  [ -z "$bad" ] || die "$2: wrk reported failed requests: $bad"
  grep -q '^Requests/sec' "$1" || { cat "$1" >&2; die "$2: wrk printed no Requests/sec"; }
}

# rps prints the requests per second of wrk output $1.
rps() { awk '/^Requests\/sec/ { print $2 }' "$1"; }

# pctms prints wrk's latency percentile $2 ("50%", "99%") of output $1 in ms.
pctms() { # out pct
  awk -v pct="$2" '$1 == pct {
    v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
    if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
    printf "%.2f\n", v
  }' "$1"
}
