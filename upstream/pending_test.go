package upstream

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/workable"
)

// heldReads is a cache whose reads of one key alone wait until release is
// closed: a batch, or a fetch re-reading the cache, that is slow.
type heldReads struct {
	cache.Store
	key     string
	release chan struct{}
}

func (h heldReads) GetMany(ctx context.Context, keys []string) (map[string]cache.Entry, error) {
	if slices.Equal(keys, []string{h.key}) {
		select {
		case <-h.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return h.Store.GetMany(ctx, keys)
}

// heldEconomy returns an economy whose cache holds the single-key reads of
// the candidate id until release is called, a rate limiter recording the
// arrivals, and a spec of candidates fetched through that limiter. It must
// be called in a testing/synctest bubble, whose test closes the cache when it
// ends, so that no clean-up goroutine outlives the bubble.
func heldEconomy(t *testing.T, id string) (e *Economy, lim *arrivals, sp Spec[string, string], release func()) {
	ns := "ns:"
	store := cache.NewMemory(0)
	t.Cleanup(store.Close)
	held := heldReads{Store: store, key: cache.Key(ns, cache.KindCandidate, DetailID(id)),
		release: make(chan struct{})}
	e = New(Config{Cache: held, LocalTierBytes: -1}, Credential{Nickname: "default", Namespace: ns}, nil)
	lim = &arrivals{}
	sp = Spec[string, string]{Kind: cache.KindCandidate, ID: DetailID, Fetch: func(ctx context.Context, k, _ string) (string, []cache.Item, error) {
		return k, nil, lim.Wait(ctx, workable.PriorityRead)
	}}
	return e, lim, sp, func() { close(held.release) }
}

// TestCallsJoinTheLimiterInRankOrderAcrossBatches: the fields of a page read
// an earlier item's detail and a later item's activities, which go to the
// rate limiter through two batches (two loaders). The earlier item's batch
// is slow to read the cache, so the later item's call is ready first; it
// still reaches the limiter (which has free slots, given in arrival order)
// after the earlier one, so that a short budget cannot go to the later item
// while the earlier one stays incomplete.
func TestCallsJoinTheLimiterInRankOrderAcrossBatches(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e, lim, sp, release := heldEconomy(t, "c2")
		rs := &Request{}
		detail := NewLoader(e, rs, sp)
		sp.Kind = cache.KindActivities
		activities := NewLoader(e, rs, sp)

		ctx := t.Context()
		readDetail := detail.Read(ctx, "c2", func() workable.Rank { return workable.Rank{1, 2} })
		readActivities := activities.Read(ctx, "c5", func() workable.Rank { return workable.Rank{1, 5} })
		// Both batches start after the loaders' wait; the earlier item's
		// then waits for the cache.
		time.Sleep(e.LoaderWait())
		synctest.Wait()
		release()
		for _, read := range []func() (string, error){readDetail, readActivities} {
			if _, err := read(); err != nil {
				t.Fatal(err)
			}
		}
		want := []workable.Rank{{1, 2}, {1, 5}}
		if diff := cmp.Diff(want, lim.ranks); diff != "" {
			t.Errorf("arrival ranks (-want +got):\n%s", diff)
		}
	})
}

// TestJoinOrderNeverWaitsForALaterKeyOfItsBatch: a key read again at an
// earlier rank once its batch has ordered its misses keeps the rank it was
// announced at, so the batch's earlier fetch does not wait for it (that
// key's fetch starts once the earlier one has its place: each would wait
// for the other).
func TestJoinOrderNeverWaitsForALaterKeyOfItsBatch(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e, lim, sp, release := heldEconomy(t, "a")
		detail := NewLoader(e, &Request{}, sp)
		ctx := t.Context()
		rank := func(r ...int64) func() workable.Rank { return func() workable.Rank { return r } }
		reads := []func() (string, error){detail.Read(ctx, "a", rank(1, 5)), detail.Read(ctx, "b", rank(1, 7))}
		// The batch has ordered a before b; a's fetch re-reads the cache.
		time.Sleep(e.LoaderWait())
		synctest.Wait()
		reads = append(reads, detail.Read(ctx, "b", rank(1, 2)))
		release()
		for _, read := range reads {
			if _, err := read(); err != nil {
				t.Fatal(err)
			}
		}
		want := []workable.Rank{{1, 5}, {1, 7}}
		if diff := cmp.Diff(want, lim.ranks); diff != "" {
			t.Errorf("arrival ranks (-want +got):\n%s", diff)
		}
	})
}
