package cache

import (
	"bytes"
	"context"
	"math"
	"strings"
	"time"

	"github.com/maypok86/otter/v2"
)

// DefaultMemoryBytes is the bound NewMemory uses when given a non-positive size.
const DefaultMemoryBytes = 64 << 20

// memoryEntryOverhead approximates the bookkeeping bytes of one entry (node,
// slice headers, timestamps) so that many tiny entries still count.
const memoryEntryOverhead = 64

// memoryValue is what MemoryStore keeps per key.
type memoryValue struct {
	value      []byte
	freshUntil time.Time
	ttl        time.Duration
}

// MemoryStore is an in-process Store with the same semantics as RedisStore
// (per-entry TTL, FreshUntil, DeletePrefix), bounded in memory. It is built on
// github.com/maypok86/otter/v2, weighing each entry by the length of its key
// and value (plus a small fixed overhead). It never fails.
type MemoryStore struct {
	cache *otter.Cache[string, memoryValue]
}

var _ Store = (*MemoryStore)(nil)

// NewMemory returns an in-process store holding at most about maxBytes of
// keys and values (DefaultMemoryBytes when maxBytes is not positive).
func NewMemory(maxBytes int64) *MemoryStore {
	if maxBytes <= 0 {
		maxBytes = DefaultMemoryBytes
	}
	o := &otter.Options[string, memoryValue]{
		MaximumWeight: uint64(maxBytes),
		Weigher: func(key string, v memoryValue) uint32 {
			w := int64(len(key)) + int64(len(v.value)) + memoryEntryOverhead
			return uint32(min(w, math.MaxUint32))
		},
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, memoryValue]) time.Duration {
			return e.Value.ttl
		}),
	}
	return &MemoryStore{cache: otter.Must(o)}
}

// Close stops the goroutine that drops expired entries once a second; the
// store still works afterwards, dropping them when read or evicted. A test
// in a testing/synctest bubble closes the store before the bubble ends,
// whose clock stops then and would leave that goroutine waiting forever.
func (m *MemoryStore) Close() { m.cache.StopAllGoroutines() }

// GetMany returns the live entries among keys. The returned values are
// copies: callers may keep or modify them.
func (m *MemoryStore) GetMany(_ context.Context, keys []string) (map[string]Entry, error) {
	out := make(map[string]Entry, len(keys))
	for _, k := range keys {
		v, ok := m.cache.GetIfPresent(k)
		if !ok {
			continue
		}
		out[k] = Entry{Value: bytes.Clone(v.value), FreshUntil: v.freshUntil}
	}
	return out, nil
}

// SetMany stores copies of the items' values.
func (m *MemoryStore) SetMany(_ context.Context, items []Item) error {
	now := time.Now()
	for _, it := range items {
		ttl := it.ttl()
		if ttl <= 0 {
			m.cache.Invalidate(it.Key)
			continue
		}
		m.cache.Set(it.Key, memoryValue{
			value:      bytes.Clone(it.Value),
			freshUntil: now.Add(it.FreshFor),
			ttl:        ttl,
		})
	}
	return nil
}

// SetIfAbsent stores copies of the items whose keys hold nothing and
// returns the entries the keys hold afterwards.
func (m *MemoryStore) SetIfAbsent(_ context.Context, items []Item) (map[string]Entry, error) {
	now := time.Now()
	out := make(map[string]Entry, len(items))
	for _, it := range items {
		ttl := it.ttl()
		if ttl <= 0 {
			continue
		}
		v, _ := m.cache.SetIfAbsent(it.Key, memoryValue{
			value:      bytes.Clone(it.Value),
			freshUntil: now.Add(it.FreshFor),
			ttl:        ttl,
		})
		out[it.Key] = Entry{Value: bytes.Clone(v.value), FreshUntil: v.freshUntil}
	}
	return out, nil
}

// Delete removes keys.
func (m *MemoryStore) Delete(_ context.Context, keys ...string) error {
	for _, k := range keys {
		m.cache.Invalidate(k)
	}
	return nil
}

// DeletePrefix removes every key starting with prefix. It walks all keys, so
// it costs O(entries); it is meant for rare, account-wide invalidations.
func (m *MemoryStore) DeletePrefix(_ context.Context, prefix string) error {
	var doomed []string
	for k := range m.cache.Keys() {
		if strings.HasPrefix(k, prefix) {
			doomed = append(doomed, k)
		}
	}
	for _, k := range doomed {
		m.cache.Invalidate(k)
	}
	return nil
}

// Ping always succeeds: the store is in process.
func (m *MemoryStore) Ping(context.Context) error { return nil }
