// Package cache stores Workable answers so that the gateway spends as few
// upstream requests as possible.
//
// Two backends implement the byte-level [Store]: [RedisStore] (shared by all
// gateway replicas, built on a go-redis UniversalClient so a single node,
// Sentinel or Cluster all work) and [MemoryStore] (in-process, bounded, for
// when no Redis is configured). Both keep an entry physically for
// FreshFor+StaleFor and report when it stops being fresh, so that a caller can
// serve a stale copy when Workable fails.
//
// The intended call sequence from a dataloader batch function is:
//
//	entries, err := store.GetMany(ctx, keys) // err: log it, treat every key as a miss
//	// fetch the keys missing from entries (or stale) from Workable
//	err = store.SetMany(ctx, items)          // err: log it, the answer is still good
//
// Keys are built with [Namespace] and [Key] so that two Workable accounts (or
// two tokens) never share an entry and a token never appears in Redis.
//
// The Redis connection itself comes from package redisconn, and the rate
// budget that replicas share through Redis from package ratebudget.
package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/workablegw/gateway/redisconn"
)

// Entry is a cached value as read back from a Store.
type Entry struct {
	// Value is the bytes given to SetMany.
	Value []byte
	// FreshUntil is when the entry stops being fresh. After it the entry is
	// stale but still servable when Workable fails (until its physical TTL,
	// FreshFor+StaleFor, runs out and the store forgets it).
	FreshUntil time.Time
}

// IsFresh reports whether the entry is still fresh at now.
func (e Entry) IsFresh(now time.Time) bool {
	return now.Before(e.FreshUntil)
}

// Item is one value to store with SetMany.
type Item struct {
	Key   string
	Value []byte
	// FreshFor is how long the value counts as fresh.
	FreshFor time.Duration
	// StaleFor is how much longer the stale value is kept to be served when
	// Workable fails. The physical TTL is FreshFor+StaleFor; an item whose
	// physical TTL is not positive is not stored, and any previous entry under
	// its key is removed.
	StaleFor time.Duration
}

// ttl returns the item's physical time to live.
func (it Item) ttl() time.Duration {
	return it.FreshFor + it.StaleFor
}

// Store is the byte-level cache implemented by both backends. Implementations
// are safe for concurrent use.
type Store interface {
	// GetMany returns the entries held for keys; absent (or expired) keys are
	// simply missing from the map. On error the map may be nil or partial;
	// callers treat the keys it lacks as misses.
	GetMany(ctx context.Context, keys []string) (map[string]Entry, error)
	// SetMany stores items, each with its own TTL.
	SetMany(ctx context.Context, items []Item) error
	// SetIfAbsent stores each item whose key holds nothing (live) and
	// returns, for every item's key, the entry it holds afterwards: the one
	// found or the one just stored. Concurrent callers thus agree on one
	// value, e.g. the first generation token of a record. On error the map
	// may be nil or partial.
	SetIfAbsent(ctx context.Context, items []Item) (map[string]Entry, error)
	// Delete removes keys; absent keys are not an error.
	Delete(ctx context.Context, keys ...string) error
	// DeletePrefix removes every key that starts with prefix, e.g. all the
	// keys of one credential (a Namespace).
	DeletePrefix(ctx context.Context, prefix string) error
	// Ping checks that the store is reachable.
	Ping(ctx context.Context) error
}

// ErrUnavailable is returned (wrapped) by RedisStore while its circuit
// breaker keeps Redis out of the path after a failure. Callers treat it as a
// miss, like any other cache error. It is redisconn.ErrUnavailable.
var ErrUnavailable = redisconn.ErrUnavailable

// errCorrupt is returned when a stored value is too short to hold the header.
var errCorrupt = errors.New("cache: corrupt entry")

// headerLen is the size of the FreshUntil prefix of an encoded entry.
const headerLen = 8

// encodeEntry lays out an entry as its FreshUntil in Unix milliseconds
// (8 bytes, big endian) followed by the value.
func encodeEntry(value []byte, freshUntil time.Time) []byte {
	b := make([]byte, headerLen+len(value))
	binary.BigEndian.PutUint64(b, uint64(freshUntil.UnixMilli()))
	copy(b[headerLen:], value)
	return b
}

// decodeEntry reverses encodeEntry. The returned Value aliases b.
func decodeEntry(b []byte) (Entry, error) {
	if len(b) < headerLen {
		return Entry{}, errCorrupt
	}
	ms := int64(binary.BigEndian.Uint64(b))
	return Entry{Value: b[headerLen:], FreshUntil: time.UnixMilli(ms)}, nil
}
