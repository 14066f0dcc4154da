package telemetry

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/redis/go-redis/v9"
)

const (
	// DefaultAPQTTL is how long a persisted query stays in Redis after its
	// last use when NewAPQCache is given no positive TTL.
	DefaultAPQTTL = 24 * time.Hour
	// MaxAPQQueryBytes caps a stored query; a longer one is neither stored
	// nor served (the client just keeps sending the full text).
	MaxAPQQueryBytes = 100 << 10
	// apqTimeout bounds each Redis call: a slow Redis must not slow every
	// request down, a miss only costs the client one retry with the text.
	apqTimeout = 250 * time.Millisecond
)

// NewAPQCache returns a store for gqlgen's automatic persisted queries
// (extension.AutomaticPersistedQuery{Cache: …}) in Redis, so that every
// replica knows a query once one has seen it. Keys are prefix + the
// query's SHA-256 (the extension checks the hash of a query before adding
// it); each use renews the entry's ttl (DefaultAPQTTL when ttl <= 0).
//
// Each call is bounded by a short timeout (the client must be made with
// ContextTimeoutEnabled, as redisconn.NewClient does, for Redis to
// honour it). Every failure is a miss, silently: the protocol recovers by
// itself (the client resends the text) and the readiness probe reports an
// unreachable Redis. Hashes that are not 64 lower-case hex digits and queries over
// MaxAPQQueryBytes are never looked up or stored.
func NewAPQCache(rdb redis.UniversalClient, prefix string, ttl time.Duration) graphql.Cache[string] {
	if ttl <= 0 {
		ttl = DefaultAPQTTL
	}
	return &apqCache{rdb: rdb, prefix: prefix, ttl: ttl}
}

type apqCache struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
}

// Get returns the query stored under hash and renews its TTL.
func (c *apqCache) Get(ctx context.Context, hash string) (string, bool) {
	if !isSHA256Hex(hash) {
		return "", false
	}
	ctx, cancel := context.WithTimeout(ctx, apqTimeout)
	defer cancel()
	q, err := c.rdb.GetEx(ctx, c.prefix+hash, c.ttl).Result()
	if err != nil || q == "" || len(q) > MaxAPQQueryBytes {
		return "", false
	}
	return q, true
}

// Add stores query under hash.
func (c *apqCache) Add(ctx context.Context, hash, query string) {
	if !isSHA256Hex(hash) || query == "" || len(query) > MaxAPQQueryBytes {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, apqTimeout)
	defer cancel()
	_ = c.rdb.Set(ctx, c.prefix+hash, query, c.ttl).Err() // a failed store is a later miss
}

// isSHA256Hex reports whether s is 64 lower-case hex digits, the form in
// which gqlgen checks an APQ hash (so no other form can have been stored).
func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
