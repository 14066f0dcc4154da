package idempotency

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// DefaultMemoryCapacity is how many finished keys a MemoryStore keeps by
// default.
const DefaultMemoryCapacity = 100_000

// MemoryStore is a Store in process memory, for a single gateway without
// Redis. Keys being run are never evicted; finished keys (results and
// unknown outcomes) live in a bounded LRU, so under more than its capacity
// of distinct keys within the TTL the oldest lose their protection: use
// Redis where that matters.
type MemoryStore struct {
	mu       sync.Mutex
	running  map[string]*memoryCall
	finished *lru.Cache[string, memoryOutcome]
}

// memoryCall is a key being run.
type memoryCall struct {
	fingerprint string
	done        chan struct{} // closed when the run ends
}

// memoryOutcome is a finished key.
type memoryOutcome struct {
	fingerprint string
	result      []byte
	unknown     bool
	expires     time.Time
}

var _ Store = (*MemoryStore)(nil)

// MemoryOption configures a MemoryStore.
type MemoryOption func(*memoryConfig)

type memoryConfig struct {
	capacity int
}

// WithCapacity sets how many finished keys are kept (default
// DefaultMemoryCapacity); values below 1 are ignored.
func WithCapacity(n int) MemoryOption {
	return func(c *memoryConfig) {
		if n > 0 {
			c.capacity = n
		}
	}
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(opts ...MemoryOption) *MemoryStore {
	cfg := memoryConfig{capacity: DefaultMemoryCapacity}
	for _, o := range opts {
		o(&cfg)
	}
	finished, err := lru.New[string, memoryOutcome](cfg.capacity)
	if err != nil {
		// Unreachable: the capacity is positive.
		panic(fmt.Sprintf("idempotency: create LRU: %v", err))
	}
	return &MemoryStore{
		running:  make(map[string]*memoryCall),
		finished: finished,
	}
}

// Do implements Store.
func (s *MemoryStore) Do(ctx context.Context, key, fingerprint string, ttl time.Duration, fn func(context.Context) ([]byte, error)) ([]byte, bool, error) {
	if err := checkArgs(key, ttl, fn); err != nil {
		return nil, false, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, errWait(err)
		}
		s.mu.Lock()
		if c, ok := s.running[key]; ok {
			s.mu.Unlock()
			if c.fingerprint != fingerprint {
				return nil, false, ErrKeyReused
			}
			select {
			case <-c.done:
				continue
			case <-ctx.Done():
				return nil, false, errWait(ctx.Err())
			}
		}
		if o, ok := s.finished.Get(key); ok {
			if time.Now().Before(o.expires) {
				s.mu.Unlock()
				return replay(o.fingerprint, o.result, o.unknown, fingerprint)
			}
			s.finished.Remove(key)
		}
		c := &memoryCall{fingerprint: fingerprint, done: make(chan struct{})}
		s.running[key] = c
		s.mu.Unlock()
		return s.run(ctx, key, c, ttl, fn)
	}
}

// run runs fn for the caller that holds key.
func (s *MemoryStore) run(ctx context.Context, key string, c *memoryCall, ttl time.Duration, fn func(context.Context) ([]byte, error)) ([]byte, bool, error) {
	var outcome *memoryOutcome // nil: release the key (failure or panic)
	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.running, key)
		if outcome != nil {
			outcome.expires = time.Now().Add(ttl)
			s.finished.Add(key, *outcome)
		}
		close(c.done)
	}()
	result, err := fn(ctx)
	switch {
	case err == nil:
		outcome = &memoryOutcome{fingerprint: c.fingerprint, result: bytes.Clone(result)}
		return result, false, nil
	case errors.Is(err, ErrOutcomeUnknown):
		outcome = &memoryOutcome{fingerprint: c.fingerprint, unknown: true}
		return nil, false, err
	default:
		return nil, false, err
	}
}
