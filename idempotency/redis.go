package idempotency

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/redisconn"
)

// Record states.
const (
	statePending = "pending"
	stateDone    = "done"
	stateUnknown = "unknown"
)

// Scripts that change a key only while it still holds the caller's own
// pending record (ARGV[1]), so that a run whose lock expired and was taken
// over never overwrites the new holder's record.
const (
	// completeScript stores ARGV[2] for ARGV[3] ms.
	completeScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`
	releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`
	// refreshScript extends the lock to ARGV[2] ms.
	refreshScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`
)

// RedisStore is a Store in Redis, shared by every gateway replica.
//
// Each key is one Redis string, "<prefix>idem:v1:<sha256 of key>", holding a
// small JSON record. The first caller takes it with SET NX PX as "pending"
// (with a random owner id and a lock TTL that a goroutine refreshes while fn
// runs, so a crashed process frees the key after the lock TTL); on success
// the record becomes "done" with the result, for the TTL; on an unknown
// outcome it becomes "unknown", for the TTL; on failure it is deleted.
// Waiting callers poll the key with a jittered backoff.
//
// If Redis cannot be reached, Do fails without running fn: the store fails
// closed, since running fn unprotected could apply it twice. If only the
// final write fails after fn succeeded, the result is still returned, and the
// pending lock (no longer refreshed) makes repeats wait until it expires.
type RedisStore struct {
	rdb              redis.UniversalClient
	prefix           string
	lockTTL          time.Duration
	pollMin, pollMax time.Duration
	complete         *redis.Script
	release          *redis.Script
	refresh          *redis.Script
}

var _ Store = (*RedisStore)(nil)

// redisRecord is the JSON stored under a key.
type redisRecord struct {
	State       string `json:"s"`
	Owner       string `json:"o,omitempty"`
	Fingerprint string `json:"f"`
	Result      []byte `json:"r,omitempty"`
	// HasResult tells a nil result from an empty one.
	HasResult bool `json:"h,omitempty"`
}

// Defaults of RedisStore.
const (
	// DefaultLockTTL is how long a run's lock outlives its last refresh:
	// the time after which the key of a crashed process frees itself.
	DefaultLockTTL = 15 * time.Second
	// DefaultPollMin and DefaultPollMax bound the backoff with which a
	// waiting caller looks at the key again.
	DefaultPollMin = 20 * time.Millisecond
	DefaultPollMax = 500 * time.Millisecond
	// writeTimeout bounds writing a run's outcome, which happens even when
	// the caller's context has ended.
	writeTimeout = 5 * time.Second
)

// RedisOption configures a RedisStore.
type RedisOption func(*RedisStore)

// WithLockTTL sets the lock TTL (default DefaultLockTTL); it is refreshed
// every third of it while fn runs. Values below 3 ms are ignored.
func WithLockTTL(d time.Duration) RedisOption {
	return func(s *RedisStore) {
		if d >= 3*time.Millisecond {
			s.lockTTL = d
		}
	}
}

// WithPolling sets the backoff of waiting callers: from min, doubling up to
// max (defaults DefaultPollMin, DefaultPollMax). Invalid values are ignored.
func WithPolling(min, max time.Duration) RedisOption {
	return func(s *RedisStore) {
		if min > 0 && max >= min {
			s.pollMin, s.pollMax = min, max
		}
	}
}

// NewRedisStore returns a store on rdb (a single node, Sentinel or Cluster
// client) whose keys start with keyPrefix.
func NewRedisStore(rdb redis.UniversalClient, keyPrefix string, opts ...RedisOption) *RedisStore {
	s := &RedisStore{
		rdb:      rdb,
		prefix:   keyPrefix,
		lockTTL:  DefaultLockTTL,
		pollMin:  DefaultPollMin,
		pollMax:  DefaultPollMax,
		complete: redis.NewScript(completeScript),
		release:  redis.NewScript(releaseScript),
		refresh:  redis.NewScript(refreshScript),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// redisKey returns the Redis key of key; hashing keeps it short and keeps
// the caller's key out of Redis.
func (s *RedisStore) redisKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return s.prefix + "idem:v1:" + hex.EncodeToString(sum[:])
}

// Do implements Store.
func (s *RedisStore) Do(ctx context.Context, key, fingerprint string, ttl time.Duration, fn func(context.Context) ([]byte, error)) ([]byte, bool, error) {
	if err := checkArgs(key, ttl, fn); err != nil {
		return nil, false, err
	}
	rkey := s.redisKey(key)
	delay := s.pollMin
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, errWait(err)
		}
		owner, err := newOwner()
		if err != nil {
			return nil, false, err
		}
		pending, err := json.Marshal(redisRecord{State: statePending, Owner: owner, Fingerprint: fingerprint})
		if err != nil {
			return nil, false, fmt.Errorf("idempotency: encode record: %w", err)
		}
		took, err := s.rdb.SetNX(ctx, rkey, pending, s.lockTTL).Result()
		if err != nil {
			return nil, false, storeError(ctx, "take key", err)
		}
		if took {
			return s.run(ctx, rkey, string(pending), fingerprint, ttl, fn)
		}

		raw, err := s.rdb.Get(ctx, rkey).Bytes()
		if errors.Is(err, redis.Nil) {
			continue // released or expired meanwhile: try to take it
		}
		if err != nil {
			return nil, false, storeError(ctx, "read key", err)
		}
		var rec redisRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, false, fmt.Errorf("idempotency: read key: damaged record: %w", err)
		}
		switch rec.State {
		case stateDone, stateUnknown:
			result := rec.Result
			if rec.HasResult && result == nil {
				result = []byte{}
			}
			return replay(rec.Fingerprint, result, rec.State == stateUnknown, fingerprint)
		case statePending:
			if rec.Fingerprint != fingerprint {
				return nil, false, ErrKeyReused
			}
		default:
			return nil, false, fmt.Errorf("idempotency: read key: unknown state %q", rec.State)
		}
		select {
		case <-ctx.Done():
			return nil, false, errWait(ctx.Err())
		case <-time.After(jitter(delay)):
		}
		delay = min(2*delay, s.pollMax)
	}
}

// storeError wraps a Redis failure of op: as redisconn.ErrUnavailable (a
// store outage: nothing was done, a retry is safe once Redis answers) unless
// the caller's own context ended.
func storeError(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("idempotency: %s: redis: %w", op, err)
	}
	return fmt.Errorf("idempotency: %s: %w: %w", op, redisconn.ErrUnavailable, err)
}

// run runs fn while holding rkey with the record pending, then stores the
// outcome or releases the key.
func (s *RedisStore) run(ctx context.Context, rkey, pending, fingerprint string, ttl time.Duration, fn func(context.Context) ([]byte, error)) ([]byte, bool, error) {
	stop := s.keepLocked(rkey, pending)
	var final []byte // nil: release the key (failure or panic)
	defer func() {
		stop()
		// The outcome is written even if the caller's context has ended.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
		defer cancel()
		if final != nil {
			_ = s.complete.Run(wctx, s.rdb, []string{rkey}, pending, final, max(ttl.Milliseconds(), 1)).Err()
		} else {
			_ = s.release.Run(wctx, s.rdb, []string{rkey}, pending).Err()
		}
	}()
	result, err := fn(ctx)
	rec := redisRecord{State: stateDone, Fingerprint: fingerprint, Result: result, HasResult: result != nil}
	switch {
	case err == nil:
	case errors.Is(err, ErrOutcomeUnknown):
		rec = redisRecord{State: stateUnknown, Fingerprint: fingerprint}
	default:
		return nil, false, err
	}
	// Encoding this struct cannot fail; if it did, the unrefreshed lock
	// would still hold repeats off until it expires.
	final, _ = json.Marshal(rec)
	if err != nil {
		return nil, false, err
	}
	return result, false, nil
}

// keepLocked refreshes the lock on rkey every third of the lock TTL until
// the returned stop is called; stop waits for the refresher to end.
func (s *RedisStore) keepLocked(rkey, pending string) (stop func()) {
	ticker := time.NewTicker(s.lockTTL / 3)
	quit, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		defer ticker.Stop()
		for {
			select {
			case <-quit:
				return
			case <-ticker.C:
				// A refresh that fails (or finds the lock gone) changes
				// nothing here: the final write checks the lock again.
				ctx, cancel := context.WithTimeout(context.Background(), s.lockTTL/3)
				_ = s.refresh.Run(ctx, s.rdb, []string{rkey}, pending, s.lockTTL.Milliseconds()).Err()
				cancel()
			}
		}
	}()
	return func() {
		close(quit)
		<-exited
	}
}

// newOwner returns a random id for one run's lock.
func newOwner() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("idempotency: make lock owner: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// jitter returns d moved at random within ±25%, so that waiters do not poll
// in lockstep.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	q := d / 4
	return d - q + mrand.N(2*q+1)
}
