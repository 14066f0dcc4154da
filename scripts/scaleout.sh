#!/usr/bin/env bash
# Scale-out check: three gateway replicas on one 3-master Redis Cluster, all
# on loopback, in front of the built-in Workable simulator enforcing
# Workable's budget (10 requests per 10 s per token). Runs the checks of
# scripts/scaleout/main.go and prints their table:
#
#   burst      30 distinct cold candidates at once over the 3 replicas: 0×429
#              from the simulator, no error; the time of the last answer
#   coherence  updateCandidate on replica 1 is seen at once on replicas 2, 3
#   pause      the burst again while the master holding the rate budget's
#              keys is paused (CLIENT PAUSE 12 s, longer than a window, so
#              that the replicas count on their shares; again 2 s after each
#              pause): 0×429; queries the shares cannot serve before their
#              deadline answer RATE_LIMITED, any other error fails
#   coalescing one cold candidate asked on the 3 replicas at once: 1 Workable
#              call
#
#   scripts/scaleout.sh
#   KEEP_TMP=1 scripts/scaleout.sh    # keep the logs
#   PAUSE_MS=250 scripts/scaleout.sh  # a shorter pause
#
# It pauses only the Redis servers it starts itself, never a shared one.
# Exits non-zero, saying which check failed, when one fails; stops every
# process it started on exit. Needs go, curl, redis-server and redis-cli
# (Redis 7). Takes about two minutes; CI runs it (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT=scaleout
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
need go curl redis-server redis-cli

go build -o "$tmp/gateway" .
go build -o "$tmp/scaleout" ./scripts/scaleout

# The Redis Cluster: three masters, no replicas, nothing saved to disk.
redis_ports=()
for _ in 1 2 3; do
  p=$(free_port)
  mkdir -p "$tmp/redis-$p"
  start "$tmp/redis-$p.out" redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "nodes.conf" \
    --dir "$tmp/redis-$p" --save "" --appendonly no --logfile "$tmp/redis-$p.log"
  redis_ports+=("$p")
done
for p in "${redis_ports[@]}"; do redis_up "$p" "$tmp/redis-$p.log"; done
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
start "$tmp/simulator.log" "$tmp/gateway" simulator -addr "127.0.0.1:$sim_port" -rate-limit 10 -rate-window 10s
wait_up "http://127.0.0.1:$sim_port/spi/v3/" $! "$tmp/simulator.log"
simulator_account "$tmp/simulator.log"

# Three replicas on the cluster. The refresher is off, so that every
# Workable call is one the checks asked for.
redis_url="redis+cluster://$(
  IFS=,
  echo "${nodes[*]}"
)"
replicas=()
for i in 1 2 3; do
  p=$(free_port)
  start "$tmp/gateway-$i.log" env PORT="$p" WORKABLE_SUBDOMAIN="$SUBDOMAIN" WORKABLE_API_TOKEN="$TOKEN" \
    WORKABLE_BASE_URL="http://127.0.0.1:$sim_port/spi/v3/" REDIS_URL="$redis_url" REFRESH_ENABLED=false HOST=127.0.0.1 \
    "$tmp/gateway"
  wait_up "http://127.0.0.1:$p/readyz" $! "$tmp/gateway-$i.log"
  replicas+=("http://127.0.0.1:$p")
done

echo "$SCRIPT: Redis Cluster on ${redis_ports[*]}, simulator on $sim_port (10 per 10 s), replicas ${replicas[*]}" >&2
status=0
"$tmp/scaleout" -subdomain "$SUBDOMAIN" -token "$TOKEN" -pause "${PAUSE_MS:-12000}" -replicas "$(
  IFS=,
  echo "${replicas[*]}"
)" -redis-ports "$(
  IFS=,
  echo "${redis_ports[*]}"
)" || status=$?
if [ "$status" != 0 ]; then
  echo "$SCRIPT: FAILED (exit $status); the replicas' warnings:" >&2
  grep -h -E 'level=(WARN|ERROR)' "$tmp"/gateway-*.log | tail -20 >&2 || true
  exit "$status"
fi
echo "$SCRIPT: every check passed" >&2
