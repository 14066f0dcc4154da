#!/usr/bin/env bash
# Scale-out check: three gateway replicas on one 3-master Redis Cluster, all
# on loopback, in front of the built-in Workable simulator enforcing
# Workable's budget (10 requests per 10 s per token). Runs the checks of
# scripts/scaleout/main.go and prints their table:
#
#   burst      30 distinct cold candidates at once over the 3 replicas: 0×429
#              from the simulator, no error; the time of the last answer
#   coherence  updateCandidate on replica 1 is seen at once on replicas 2, 3
#   pause      the burst again while every master is paused (CLIENT PAUSE
#              250 ms, again every 2 s): 0×429
#   coalescing one cold candidate asked on the 3 replicas at once: 1 Workable
#              call
#
#   scripts/scaleout.sh
#   KEEP_TMP=1 scripts/scaleout.sh    # keep the logs
#
# Exits non-zero when a check fails; stops every process it started on exit.
# Needs go, curl, redis-server and redis-cli (Redis 7). Takes about a minute and a half;
# not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "scaleout: $*" >&2
  exit 1
}
for tool in go curl redis-server redis-cli; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done

tmp=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ -n "${KEEP_TMP:-}" ]; then echo "scaleout: logs kept in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'echo "scaleout: interrupted" >&2; exit 130' INT TERM

# free_port prints a loopback port that nothing listens on, nor on port+10000
# (a cluster node's bus port), and that this script has not handed out yet.
# Both lie below the kernel's ephemeral range, where an outgoing connection
# could hold the port without listening on it.
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "$ephemeral_low" -gt 12000 ] || die "the ephemeral port range starts at $ephemeral_low: no room below it"
taken=" "
free_port() {
  local p
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

# wait_up waits until url answers (any HTTP status) or the process pid ends.
wait_up() { # url pid log
  for _ in $(seq 1 300); do
    curl -s -o /dev/null "$1" && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; die "the process serving $1 ended"; }
    sleep 0.1
  done
  cat "$3" >&2
  die "$1 did not come up"
}

go build -o "$tmp/gateway" .
go build -o "$tmp/scaleout" ./scripts/scaleout

# The Redis Cluster: three masters, no replicas, nothing saved to disk.
redis_ports=()
for _ in 1 2 3; do
  p=$(free_port)
  mkdir -p "$tmp/redis-$p"
  redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "nodes.conf" \
    --dir "$tmp/redis-$p" --save "" --appendonly no --logfile "$tmp/redis-$p.log" &
  pids+=($!)
  redis_ports+=("$p")
done
for p in "${redis_ports[@]}"; do
  for _ in $(seq 1 100); do
    [ "$(redis-cli -p "$p" PING 2>/dev/null)" = PONG ] && break
    sleep 0.1
  done
  [ "$(redis-cli -p "$p" PING 2>/dev/null)" = PONG ] || die "Redis on port $p did not come up: $(cat "$tmp/redis-$p.log")"
done
nodes=()
for p in "${redis_ports[@]}"; do nodes+=("127.0.0.1:$p"); done
redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$tmp/cluster-create.log" 2>&1 ||
  die "redis-cli --cluster create failed: $(cat "$tmp/cluster-create.log")"
for _ in $(seq 1 100); do
  ok=1
  for p in "${redis_ports[@]}"; do
    redis-cli -p "$p" CLUSTER INFO | grep -q '^cluster_state:ok' || ok=0
  done
  [ "$ok" = 1 ] && break
  sleep 0.1
done
[ "$ok" = 1 ] || die "the cluster did not reach cluster_state:ok"

# The simulator, enforcing Workable's budget.
sim_port=$(free_port)
"$tmp/gateway" simulator -addr "127.0.0.1:$sim_port" -rate-limit 10 -rate-window 10s >"$tmp/simulator.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$sim_port/spi/v3/" $! "$tmp/simulator.log"
# "… listening on http://…/spi/v3/ (subdomain groove-tech, token demo-token)"
SUBDOMAIN=$(sed -n 's/.*(subdomain \([^,]*\), token .*/\1/p' "$tmp/simulator.log")
TOKEN=$(sed -n 's/.*, token \([^)]*\)).*/\1/p' "$tmp/simulator.log")
[ -n "$SUBDOMAIN" ] && [ -n "$TOKEN" ] || die "could not read the simulator's subdomain and token: $(cat "$tmp/simulator.log")"

# Three replicas on the cluster. The refresher is off, so that every
# Workable call is one the checks asked for.
redis_url="redis+cluster://$(
  IFS=,
  echo "${nodes[*]}"
)"
replicas=()
for i in 1 2 3; do
  p=$(free_port)
  PORT=$p WORKABLE_SUBDOMAIN=$SUBDOMAIN WORKABLE_API_TOKEN=$TOKEN WORKABLE_BASE_URL="http://127.0.0.1:$sim_port/spi/v3/" \
    REDIS_URL=$redis_url REFRESH_ENABLED=false HOST=127.0.0.1 \
    "$tmp/gateway" >"$tmp/gateway-$i.log" 2>&1 &
  pids+=($!)
  wait_up "http://127.0.0.1:$p/readyz" $! "$tmp/gateway-$i.log"
  replicas+=("http://127.0.0.1:$p")
done

echo "scaleout: Redis Cluster on ${redis_ports[*]}, simulator on $sim_port (10 per 10 s), replicas ${replicas[*]}" >&2
status=0
"$tmp/scaleout" -replicas "$(
  IFS=,
  echo "${replicas[*]}"
)" -redis-ports "$(
  IFS=,
  echo "${redis_ports[*]}"
)" || status=$?
if [ "$status" != 0 ]; then
  echo "scaleout: a check failed; the replicas' warnings:" >&2
  grep -h -E 'level=(WARN|ERROR)' "$tmp"/gateway-*.log | tail -20 >&2 || true
fi
exit "$status"
