package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/redisconn"
)

// Defaults of RedisStore.
const (
	// DefaultRedisTimeout bounds each call (measured: see
	// redisconn.DefaultTimeout).
	DefaultRedisTimeout = redisconn.DefaultTimeout
	DefaultScanTimeout  = time.Second
	// DefaultCoolDown is how long Redis is kept out of the path after a
	// failure.
	DefaultCoolDown = redisconn.DefaultCoolDown
)

// scanBatch is the SCAN COUNT hint and the size of one UNLINK pipeline.
const scanBatch = 500

// RedisStore is a Store in Redis, shared by every gateway replica. Each call
// is bounded by a short timeout, and after a failure a tiny circuit breaker
// keeps Redis out of the path for a cool-down (calls then fail at once with
// ErrUnavailable) before trying again, so a slow or down Redis costs the
// gateway little and the cache comes back by itself when Redis does.
//
// Errors are returned so that callers can log them; callers treat them as
// misses. For timeouts to interrupt a slow server, the client must have
// ContextTimeoutEnabled set, as NewUniversalClient does.
type RedisStore struct {
	client      redis.UniversalClient
	timeout     time.Duration
	scanTimeout time.Duration
	coolDown    time.Duration
	breaker     *redisconn.Breaker
}

var _ Store = (*RedisStore)(nil)

// RedisOption configures a RedisStore.
type RedisOption func(*RedisStore)

// WithTimeout bounds every call but DeletePrefix (default DefaultRedisTimeout).
func WithTimeout(d time.Duration) RedisOption {
	return func(s *RedisStore) { s.timeout = d }
}

// WithScanTimeout bounds DeletePrefix, which walks the keyspace with SCAN
// (default DefaultScanTimeout).
func WithScanTimeout(d time.Duration) RedisOption {
	return func(s *RedisStore) { s.scanTimeout = d }
}

// WithCoolDown sets how long Redis is skipped after a failure (default
// DefaultCoolDown).
func WithCoolDown(d time.Duration) RedisOption {
	return func(s *RedisStore) { s.coolDown = d }
}

// NewRedis returns a Store on client, which may be a single node, a Sentinel
// failover client or a Cluster client.
func NewRedis(client redis.UniversalClient, opts ...RedisOption) *RedisStore {
	s := &RedisStore{
		client:      client,
		timeout:     DefaultRedisTimeout,
		scanTimeout: DefaultScanTimeout,
		coolDown:    DefaultCoolDown,
	}
	for _, o := range opts {
		o(s)
	}
	s.breaker = redisconn.NewBreaker(s.coolDown)
	return s
}

// Healthy reports whether the last call to Redis succeeded. It turns false on
// a failure and true again on the next success (after the cool-down).
func (s *RedisStore) Healthy() bool { return s.breaker.Healthy() }

// GetMany reads keys with pipelined GETs (not MGET, which a cluster refuses
// across slots). Misses are absent from the map. A read that fails or times
// out is tried once more (redisconn.Breaker.DoRead) before it counts; on a
// failure it returns the entries the last attempt could read along with the
// error.
func (s *RedisStore) GetMany(ctx context.Context, keys []string) (map[string]Entry, error) {
	out := make(map[string]Entry, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	// One late answer is tried again before the keys count as missing,
	// which would send them to Workable.
	err := s.breaker.DoRead(ctx, s.timeout, func(ctx context.Context) error {
		clear(out)
		cmds := make([]*redis.StringCmd, len(keys))
		// Exec reports the first failing command, a miss included, so each
		// command is checked below instead.
		_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.Get(ctx, k)
			}
			return nil
		})
		var errs []error
		for i, cmd := range cmds {
			b, err := cmd.Bytes()
			if errors.Is(err, redis.Nil) {
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			e, err := decodeEntry(b)
			if err != nil {
				// A corrupt value is a miss; the next SetMany replaces it.
				continue
			}
			out[keys[i]] = e
		}
		return firstErr(errs)
	})
	if err != nil {
		err = fmt.Errorf("cache get: %w", err)
	}
	return out, err
}

// SetMany writes items with pipelined SETs, each with its physical TTL
// (FreshFor+StaleFor) as PX. Items with a non-positive TTL are unlinked.
func (s *RedisStore) SetMany(ctx context.Context, items []Item) error {
	if len(items) == 0 {
		return nil
	}
	now := time.Now()
	return s.call(ctx, s.timeout, "cache set", func(ctx context.Context) error {
		cmds, _ := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, it := range items {
				ttl := it.ttl()
				if ttl <= 0 {
					p.Unlink(ctx, it.Key)
					continue
				}
				// Round up to whole milliseconds: PX 0 would be refused.
				ttl = max(ttl, time.Millisecond)
				p.Set(ctx, it.Key, encodeEntry(it.Value, now.Add(it.FreshFor)), ttl)
			}
			return nil
		})
		return cmdsErr(cmds)
	})
}

// SetIfAbsent runs, for each item, SET NX with its physical TTL followed by
// a GET of the key, all in one pipeline, so that the GET sees the value
// that won. Items with a non-positive TTL are skipped.
func (s *RedisStore) SetIfAbsent(ctx context.Context, items []Item) (map[string]Entry, error) {
	out := make(map[string]Entry, len(items))
	if len(items) == 0 {
		return out, nil
	}
	now := time.Now()
	err := s.call(ctx, s.timeout, "cache set if absent", func(ctx context.Context) error {
		gets := make([]*redis.StringCmd, len(items))
		cmds, _ := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, it := range items {
				ttl := it.ttl()
				if ttl <= 0 {
					continue
				}
				p.SetNX(ctx, it.Key, encodeEntry(it.Value, now.Add(it.FreshFor)), max(ttl, time.Millisecond))
				gets[i] = p.Get(ctx, it.Key)
			}
			return nil
		})
		var errs []error
		for _, c := range cmds {
			if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
				errs = append(errs, err)
			}
		}
		for i, g := range gets {
			if g == nil {
				continue
			}
			b, err := g.Bytes()
			if err != nil {
				continue
			}
			if e, err := decodeEntry(b); err == nil {
				out[items[i].Key] = e
			}
		}
		return firstErr(errs)
	})
	return out, err
}

// Delete unlinks keys, one pipelined UNLINK per key so that keys of
// different cluster slots can go together.
func (s *RedisStore) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	return s.call(ctx, s.timeout, "cache delete", func(ctx context.Context) error {
		return unlinkAll(ctx, s.client, keys)
	})
}

// DeletePrefix unlinks every key starting with prefix, walking the keyspace
// with SCAN MATCH (on every master of a Cluster). It is bounded by the scan
// timeout rather than the per-call one.
func (s *RedisStore) DeletePrefix(ctx context.Context, prefix string) error {
	pattern := escapeGlob(prefix) + "*"
	return s.call(ctx, s.scanTimeout, "cache delete prefix", func(ctx context.Context) error {
		if cc, ok := s.client.(*redis.ClusterClient); ok {
			return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
				return scanUnlink(ctx, node, pattern)
			})
		}
		return scanUnlink(ctx, s.client, pattern)
	})
}

// Ping checks Redis even while the breaker is open, and closes the breaker
// when Redis answers; it suits a readiness probe.
func (s *RedisStore) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		s.breaker.Failure()
		return fmt.Errorf("cache ping: %w", err)
	}
	s.breaker.Success()
	return nil
}

// call is one call to Redis through the breaker (redisconn.Breaker.Do),
// its error wrapped with op.
func (s *RedisStore) call(ctx context.Context, timeout time.Duration, op string, fn func(context.Context) error) error {
	if err := s.breaker.Do(ctx, timeout, fn); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// scanUnlink unlinks the keys matching pattern on one node (or on the
// single/failover client).
func scanUnlink(ctx context.Context, c redis.Cmdable, pattern string) error {
	it := c.Scan(ctx, 0, pattern, scanBatch).Iterator()
	batch := make([]string, 0, scanBatch)
	for it.Next(ctx) {
		batch = append(batch, it.Val())
		if len(batch) == scanBatch {
			if err := unlinkAll(ctx, c, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("scan %q: %w", pattern, err)
	}
	return unlinkAll(ctx, c, batch)
}

// unlinkAll unlinks keys with one UNLINK per key in a pipeline.
func unlinkAll(ctx context.Context, c redis.Cmdable, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	cmds, _ := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Unlink(ctx, k)
		}
		return nil
	})
	return cmdsErr(cmds)
}

// cmdsErr returns the first error among a pipeline's commands.
func cmdsErr(cmds []redis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			return err
		}
	}
	return nil
}

func firstErr(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}

// escapeGlob escapes the characters SCAN MATCH treats specially.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
