package refresher

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Lease makes one refresher run per credential across the replicas.
type Lease interface {
	// Hold takes the lease on key for ttl, or extends it when this
	// process holds it already; false when another process holds it.
	Hold(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Release gives the lease up, if this process holds it.
	Release(ctx context.Context, key string) error
}

// LocalLease is the lease of a gateway without Redis: a single process,
// which always holds it.
type LocalLease struct{}

// Hold implements Lease.
func (LocalLease) Hold(context.Context, string, time.Duration) (bool, error) { return true, nil }

// Release implements Lease.
func (LocalLease) Release(context.Context, string) error { return nil }

// holdScript takes KEYS[1] for ARGV[1] (the owner) for ARGV[2] ms, or
// extends it when ARGV[1] holds it already.
var holdScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if cur then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// RedisLease is a Lease in Redis: the key holds the owner's random id and
// expires after the ttl unless extended, so that a crashed replica's
// credentials are taken over after at most the ttl.
type RedisLease struct {
	rdb    redis.UniversalClient
	prefix string
	owner  string
}

// NewRedisLease returns a lease owner whose keys start with prefix; each
// call makes a new owner (one per process).
func NewRedisLease(rdb redis.UniversalClient, prefix string) *RedisLease {
	var id [12]byte
	_, _ = rand.Read(id[:]) // never fails (crypto/rand)
	return &RedisLease{rdb: rdb, prefix: prefix, owner: hex.EncodeToString(id[:])}
}

// Hold implements Lease.
func (l *RedisLease) Hold(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	n, err := holdScript.Run(ctx, l.rdb, []string{l.prefix + "lease:" + key}, l.owner, max(ttl.Milliseconds(), 1)).Int()
	if err != nil {
		return false, fmt.Errorf("lease %s: redis: %w", key, err)
	}
	return n == 1, nil
}

// Release implements Lease.
func (l *RedisLease) Release(ctx context.Context, key string) error {
	if err := releaseScript.Run(ctx, l.rdb, []string{l.prefix + "lease:" + key}, l.owner).Err(); err != nil {
		return fmt.Errorf("release lease %s: redis: %w", key, err)
	}
	return nil
}
