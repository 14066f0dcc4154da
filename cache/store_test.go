package cache

import (
	"context"
	"fmt"
	"github.com/redis/go-redis/v9"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/workablegw/gateway/redisconn/redistest"
)

// backend is one Store under test, in a testing/synctest bubble whose clock
// decides freshness.
type backend struct {
	name   string
	store  Store
	prefix string
	// redis is the server behind a RedisStore, nil for the memory store;
	// client is the bubble's own client of it.
	redis  *redistest.Server
	client redis.UniversalClient
}

// canExpire reports whether advance also makes physical TTLs elapse (not on
// a real Redis server, whose clock cannot be moved).
func (b backend) canExpire() bool { return b.redis == nil || b.redis.Mini != nil }

// advance moves the bubble's clock, and miniredis's TTLs, by d: Redis
// expires keys on its own clock, not the bubble's.
func (b backend) advance(d time.Duration) {
	time.Sleep(d)
	if b.redis != nil && b.redis.Mini != nil {
		b.redis.Mini.FastForward(d)
	}
}

// forBackends runs f in a testing/synctest bubble once on a fresh memory
// store and once on a Redis store (on REDIS_URL, else miniredis), each with
// its own key prefix. The server runs outside the bubbles (its goroutines
// wait on the network, which would keep the bubble's clock from moving);
// the client and the store are made, and closed, inside.
func forBackends(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	srv := redistest.NewServer(t)
	t.Run("memory", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := NewMemory(1 << 20)
			defer m.Close()
			f(t, backend{name: "memory", store: m, prefix: redistest.Prefix(t)})
		})
	})
	t.Run("redis", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := srv.NewClient(t)
			f(t, backend{name: "redis", store: NewRedis(c, WithTimeout(5*time.Second)), prefix: srv.Prefix, redis: srv, client: c})
		})
	})
}

var entryOpts = cmp.Options{cmpopts.EquateEmpty()}

func TestStoreRoundTrip(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		p := b.prefix
		now := time.Now()
		items := []Item{
			{Key: p + "a", Value: []byte(`{"id":"a"}`), FreshFor: time.Minute, StaleFor: time.Hour},
			{Key: p + "b", Value: []byte{0, 1, 2, 255}, FreshFor: 2 * time.Minute, StaleFor: time.Hour},
			{Key: p + "empty", Value: nil, FreshFor: time.Second, StaleFor: time.Second},
		}
		if err := b.store.SetMany(ctx, items); err != nil {
			t.Fatalf("SetMany: %v", err)
		}
		got, err := b.store.GetMany(ctx, []string{p + "a", p + "missing", p + "b", p + "empty"})
		if err != nil {
			t.Fatalf("GetMany: %v", err)
		}
		want := map[string]Entry{
			p + "a":     {Value: []byte(`{"id":"a"}`), FreshUntil: now.Add(time.Minute)},
			p + "b":     {Value: []byte{0, 1, 2, 255}, FreshUntil: now.Add(2 * time.Minute)},
			p + "empty": {Value: nil, FreshUntil: now.Add(time.Second)},
		}
		if diff := cmp.Diff(want, got, entryOpts); diff != "" {
			t.Errorf("GetMany (-want +got):\n%s", diff)
		}

		// Overwriting replaces value and freshness.
		b.advance(10 * time.Second)
		if err := b.store.SetMany(ctx, []Item{{Key: p + "a", Value: []byte("v2"), FreshFor: time.Minute, StaleFor: time.Hour}}); err != nil {
			t.Fatalf("SetMany: %v", err)
		}
		got, err = b.store.GetMany(ctx, []string{p + "a"})
		if err != nil {
			t.Fatalf("GetMany: %v", err)
		}
		want = map[string]Entry{p + "a": {Value: []byte("v2"), FreshUntil: now.Add(10*time.Second + time.Minute)}}
		if diff := cmp.Diff(want, got, entryOpts); diff != "" {
			t.Errorf("GetMany after overwrite (-want +got):\n%s", diff)
		}
	})
}

func TestStoreSetIfAbsent(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		p := b.prefix
		now := time.Now()
		if err := b.store.SetMany(ctx, []Item{{Key: p + "held", Value: []byte("old"), FreshFor: time.Minute}}); err != nil {
			t.Fatalf("SetMany: %v", err)
		}
		got, err := b.store.SetIfAbsent(ctx, []Item{
			{Key: p + "held", Value: []byte("new"), FreshFor: time.Hour},
			{Key: p + "free", Value: []byte("first"), FreshFor: time.Hour},
			{Key: p + "no-ttl", Value: []byte("x")},
		})
		if err != nil {
			t.Fatalf("SetIfAbsent: %v", err)
		}
		want := map[string]Entry{
			p + "held": {Value: []byte("old"), FreshUntil: now.Add(time.Minute)},
			p + "free": {Value: []byte("first"), FreshUntil: now.Add(time.Hour)},
		}
		if diff := cmp.Diff(want, got, entryOpts); diff != "" {
			t.Errorf("SetIfAbsent (-want +got):\n%s", diff)
		}
		// A second caller finds the first one's value.
		got, err = b.store.SetIfAbsent(ctx, []Item{{Key: p + "free", Value: []byte("second"), FreshFor: time.Hour}})
		if err != nil {
			t.Fatalf("SetIfAbsent: %v", err)
		}
		if string(got[p+"free"].Value) != "first" {
			t.Errorf("second SetIfAbsent found %q, want the first value", got[p+"free"].Value)
		}
		held, err := b.store.GetMany(ctx, []string{p + "free", p + "no-ttl"})
		if err != nil {
			t.Fatalf("GetMany: %v", err)
		}
		if diff := cmp.Diff(map[string]Entry{p + "free": want[p+"free"]}, held, entryOpts); diff != "" {
			t.Errorf("GetMany after SetIfAbsent (-want +got):\n%s", diff)
		}
	})
}

func TestStoreValuesAreNotShared(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		k := b.prefix + "k"
		v := []byte("original")
		if err := b.store.SetMany(ctx, []Item{{Key: k, Value: v, FreshFor: time.Minute}}); err != nil {
			t.Fatalf("SetMany: %v", err)
		}
		copy(v, "XXXXXXXX") // the caller reuses its buffer
		got, err := b.store.GetMany(ctx, []string{k})
		if err != nil {
			t.Fatalf("GetMany: %v", err)
		}
		got[k].Value[0] = 'Y' // and modifies what it read
		again, err := b.store.GetMany(ctx, []string{k})
		if err != nil {
			t.Fatalf("GetMany: %v", err)
		}
		if s := string(again[k].Value); s != "original" {
			t.Errorf("value = %q, want %q", s, "original")
		}
	})
}

func TestStoreMisses(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		tests := []struct {
			name string
			keys []string
		}{
			{"no keys", nil},
			{"unknown keys", []string{b.prefix + "x", b.prefix + "y"}},
		}
		// No subtests: t.Run cannot be called in a synctest bubble.
		for _, tt := range tests {
			got, err := b.store.GetMany(t.Context(), tt.keys)
			if err != nil {
				t.Fatalf("%s: GetMany: %v", tt.name, err)
			}
			if got == nil || len(got) != 0 {
				t.Errorf("%s: GetMany = %#v, want an empty map", tt.name, got)
			}
		}
	})
}

func TestStoreExpiryAndStale(t *testing.T) {
	const (
		fresh = 10 * time.Second
		stale = 20 * time.Second
	)
	forBackends(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		k := b.prefix + "job:1"
		start := time.Now()
		if err := b.store.SetMany(ctx, []Item{{Key: k, Value: []byte("j"), FreshFor: fresh, StaleFor: stale}}); err != nil {
			t.Fatalf("SetMany: %v", err)
		}
		if b.redis != nil {
			// The physical TTL is FreshFor+StaleFor, set with PX.
			pttl, err := b.client.PTTL(ctx, k).Result()
			if err != nil {
				t.Fatalf("PTTL: %v", err)
			}
			if pttl <= fresh || pttl > fresh+stale {
				t.Errorf("PTTL = %v, want in (%v, %v]", pttl, fresh, fresh+stale)
			}
		}

		get := func() (Entry, bool) {
			t.Helper()
			got, err := b.store.GetMany(ctx, []string{k})
			if err != nil {
				t.Fatalf("GetMany: %v", err)
			}
			e, ok := got[k]
			return e, ok
		}
		e, ok := get()
		if !ok || !e.IsFresh(time.Now()) {
			t.Fatalf("right after SetMany: entry %v (present %v), want fresh", e, ok)
		}

		// Past FreshFor the entry is stale but still served.
		b.advance(fresh + stale/2)
		e, ok = get()
		if !ok {
			t.Fatalf("stale entry missing, want it served")
		}
		if e.IsFresh(time.Now()) {
			t.Errorf("entry still fresh %v after FreshFor", time.Since(start))
		}
		if !e.FreshUntil.Equal(start.Add(fresh)) {
			t.Errorf("FreshUntil = %v, want %v", e.FreshUntil, start.Add(fresh))
		}

		if !b.canExpire() {
			return // the PTTL check above covers a real server's expiry
		}
		// Past FreshFor+StaleFor the entry is gone.
		b.advance(stale)
		if e, ok := get(); ok {
			t.Errorf("entry %v still present after its TTL", e)
		}
	})
}

func TestStoreNonPositiveTTLRemoves(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		k := b.prefix + "k"
		if err := b.store.SetMany(ctx, []Item{{Key: k, Value: []byte("v"), FreshFor: time.Minute}}); err != nil {
			t.Fatalf("SetMany: %v", err)
		}
		if err := b.store.SetMany(ctx, []Item{{Key: k, Value: []byte("v2")}}); err != nil {
			t.Fatalf("SetMany with zero TTL: %v", err)
		}
		got, err := b.store.GetMany(ctx, []string{k})
		if err != nil {
			t.Fatalf("GetMany: %v", err)
		}
		if len(got) != 0 {
			t.Errorf("GetMany = %v, want the key gone", got)
		}
	})
}

func TestStoreDelete(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		p := b.prefix
		keys := []string{p + "a", p + "b", p + "c"}
		var items []Item
		for _, k := range keys {
			items = append(items, Item{Key: k, Value: []byte(k), FreshFor: time.Minute})
		}
		if err := b.store.SetMany(ctx, items); err != nil {
			t.Fatalf("SetMany: %v", err)
		}
		if err := b.store.Delete(ctx, p+"a", p+"c", p+"never-set"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if err := b.store.Delete(ctx); err != nil {
			t.Fatalf("Delete of no keys: %v", err)
		}
		got, err := b.store.GetMany(ctx, keys)
		if err != nil {
			t.Fatalf("GetMany: %v", err)
		}
		if diff := cmp.Diff([]string{p + "b"}, sortedKeys(got)); diff != "" {
			t.Errorf("keys left (-want +got):\n%s", diff)
		}
	})
}

func TestStoreDeletePrefix(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		nsA := b.prefix + Namespace("acme", "token-a")
		nsB := b.prefix + Namespace("acme", "token-b")
		var keys []string
		var items []Item
		// Enough keys for several SCAN batches on Redis.
		for i := range 1200 {
			ns := nsA
			if i%2 == 1 {
				ns = nsB
			}
			k := Key(ns, KindCandidate, fmt.Sprint(i))
			keys = append(keys, k)
			items = append(items, Item{Key: k, Value: []byte("c"), FreshFor: time.Minute})
		}
		// Keys whose prefix holds glob characters must be matched literally.
		globKey, plainKey := b.prefix+"g*[x]?\\1", b.prefix+"gz1"
		keys = append(keys, globKey, plainKey)
		items = append(items,
			Item{Key: globKey, Value: []byte("g"), FreshFor: time.Minute},
			Item{Key: plainKey, Value: []byte("g"), FreshFor: time.Minute})
		if err := b.store.SetMany(ctx, items); err != nil {
			t.Fatalf("SetMany: %v", err)
		}

		if err := b.store.DeletePrefix(ctx, nsA); err != nil {
			t.Fatalf("DeletePrefix: %v", err)
		}
		if err := b.store.DeletePrefix(ctx, b.prefix+"g*[x]?\\"); err != nil {
			t.Fatalf("DeletePrefix with glob characters: %v", err)
		}
		got, err := b.store.GetMany(ctx, keys)
		if err != nil {
			t.Fatalf("GetMany: %v", err)
		}
		var want []string
		for _, k := range keys {
			if strings.HasPrefix(k, nsB) || k == plainKey {
				want = append(want, k)
			}
		}
		slices.Sort(want)
		if diff := cmp.Diff(want, sortedKeys(got)); diff != "" {
			t.Errorf("keys left (-want +got):\n%s", diff)
		}
	})
}

func TestStoreNamespaceIsolation(t *testing.T) {
	forBackends(t, func(t *testing.T, b backend) {
		ctx := t.Context()
		accounts := []struct{ subdomain, token string }{
			{"acme", "tok-1"},
			{"acme", "tok-2"},   // another token of the same account
			{"globex", "tok-1"}, // the same token string on another account
		}
		var keys []string
		var items []Item
		for i, a := range accounts {
			k := Key(b.prefix+Namespace(a.subdomain, a.token), KindJob, "J1")
			keys = append(keys, k)
			items = append(items, Item{Key: k, Value: []byte(fmt.Sprint(i)), FreshFor: time.Minute})
		}
		if err := b.store.SetMany(ctx, items); err != nil {
			t.Fatalf("SetMany: %v", err)
		}
		got, err := b.store.GetMany(ctx, keys)
		if err != nil {
			t.Fatalf("GetMany: %v", err)
		}
		for i, k := range keys {
			if v := string(got[k].Value); v != fmt.Sprint(i) {
				t.Errorf("account %d reads %q, want its own %q", i, v, fmt.Sprint(i))
			}
		}
	})
}

func sortedKeys(m map[string]Entry) []string {
	return slices.Sorted(maps.Keys(m))
}

// BenchmarkGetMany reads a warm batch of 50 keys of 512 bytes, the size of a
// dataloader batch of candidates.
func BenchmarkGetMany(b *testing.B) {
	const n, size = 50, 512
	srv := redistest.NewServer(b)
	stores := []struct {
		name   string
		store  Store
		prefix string
	}{
		{"memory", NewMemory(64 << 20), redistest.Prefix(b)},
		{"redis", NewRedis(srv.Client, WithTimeout(time.Second)), srv.Prefix},
	}
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			ctx := context.Background()
			keys := make([]string, n)
			items := make([]Item, n)
			for i := range keys {
				keys[i] = Key(s.prefix+Namespace("acme", "tok"), KindCandidate, fmt.Sprint(i))
				items[i] = Item{Key: keys[i], Value: make([]byte, size), FreshFor: time.Hour}
			}
			if err := s.store.SetMany(ctx, items); err != nil {
				b.Fatalf("SetMany: %v", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				got, err := s.store.GetMany(ctx, keys)
				if err != nil || len(got) != n {
					b.Fatalf("GetMany: %d entries, %v", len(got), err)
				}
			}
		})
	}
}
