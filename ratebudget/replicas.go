package ratebudget

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of Replicas.
const (
	// DefaultHeartbeat is how often a replica tells Redis it is alive.
	DefaultHeartbeat = 2 * time.Second
	// DefaultReplicaTTL is how long a replica counts as live after its last
	// heartbeat: long enough that a replica whose Redis connection hiccups
	// for a few heartbeats is still counted by the others, since it may be
	// spending its share of the budget all that time.
	DefaultReplicaTTL = 30 * time.Second
)

// heartbeatScript records one replica's heartbeat with the Redis server's
// clock, forgets replicas silent for longer than the TTL and counts the
// rest. KEYS: the replica set. ARGV: member, TTL ms.
var heartbeatScript = redis.NewScript(`
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
return redis.call('ZCARD', KEYS[1])
`)

// Replicas knows how many gateway replicas share the Redis deployment: each
// replica beats a heartbeat into one sorted set, and counts the members
// heard from within the TTL. A Limiter that cannot reach Redis divides the
// budget by the count it last saw (see Limiter). It is safe for concurrent
// use.
type Replicas struct {
	client redis.UniversalClient
	key    string
	member string
	logger *slog.Logger

	mu   sync.Mutex
	live int // 0 until the first heartbeat is answered
}

// NewReplicas returns the replica count kept under key (e.g. CACHE_PREFIX +
// "wgw:replicas"). Call Beat once, or Run, before relying on Live.
func NewReplicas(client redis.UniversalClient, key string, logger *slog.Logger) *Replicas {
	var id [8]byte
	_, _ = rand.Read(id[:]) // never fails (crypto/rand)
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Replicas{
		client: client,
		key:    key,
		member: hex.EncodeToString(id[:]),
		logger: logger,
	}
}

// Live returns the number of live replicas, this one included, as last seen
// in Redis; 0 when Redis has never answered a heartbeat (a Limiter then
// takes the least share).
func (r *Replicas) Live() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.live
}

// Beat sends one heartbeat and updates Live.
func (r *Replicas) Beat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	n, err := heartbeatScript.Run(ctx, r.client, []string{r.key}, r.member, DefaultReplicaTTL.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("replica heartbeat: %w", err)
	}
	r.mu.Lock()
	changed := n != r.live
	r.live = n
	r.mu.Unlock()
	if changed {
		r.logger.Info("rate budget: live gateway replicas", "replicas", n)
	}
	return nil
}

// Run beats until ctx ends, then removes this replica from the set so that
// the others stop counting it at once.
func (r *Replicas) Run(ctx context.Context) {
	t := time.NewTicker(DefaultHeartbeat)
	defer t.Stop()
	for {
		// Failures are expected while Redis is down; Live keeps the last
		// count, which is what an unreachable Redis calls for.
		_ = r.Beat(ctx)
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultTimeout)
			_ = r.client.ZRem(rctx, r.key, r.member).Err()
			cancel()
			return
		case <-t.C:
		}
	}
}
