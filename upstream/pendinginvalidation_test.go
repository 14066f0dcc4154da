package upstream

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/redisconn/redistest"
)

// TestInvalidationDuringAnOutageReachesEveryReplica plays two replicas (two
// economies, two Redis connections, one cache) through a Redis outage: the
// writer's invalidation cannot reach Redis, so it is recorded; while Redis
// is down the writer trusts nothing cached; as soon as Redis answers again
// the generations are replaced, and the other replica no longer serves what
// it holds under the old ones (here its decoded tier), nor does anyone else.
// It runs in a testing/synctest bubble, the replicas' clients inside it and
// the miniredis outside (a socket wait is waited for, not skipped), so the
// background retry ticks on the bubble's clock. The miniredis restarts
// from outside too: a listener's goroutine in the bubble, never durably
// blocked, would keep its clock still.
func TestInvalidationDuringAnOutageReachesEveryReplica(t *testing.T) {
	t.Parallel()
	srv := redistest.Mini(t)
	restart, restarted := make(chan struct{}), make(chan error)
	go func() {
		if _, ok := <-restart; ok {
			restarted <- srv.Mini.Restart()
		}
	}()
	defer close(restart)
	synctest.Test(t, func(t *testing.T) {
		ns := srv.Prefix + "ns:"
		replica := func() *Economy {
			store := cache.NewRedis(srv.NewClient(t), cache.WithTimeout(time.Second), cache.WithCoolDown(10*time.Millisecond))
			return New(Config{Cache: store}, Credential{Nickname: "default", Namespace: ns}, nil)
		}
		writer, reader := replica(), replica()
		ctx := context.Background()

		genKeys := []string{writer.ListsGenKey(), writer.CandidateGenKey("7")}
		var old []cache.Item
		for _, k := range genKeys {
			old = append(old, genItem(k, "before"))
		}
		if err := writer.store.SetMany(ctx, old); err != nil {
			t.Fatal(err)
		}
		sp := Spec[string, string]{Kind: cache.KindCandidateList, ID: func(k string) string { return k },
			Gen: func(string) string { return reader.ListsGenKey() }}
		key := cache.Key(ns, sp.Kind, "page")
		reader.local.put(key, &localEntry{v: "page from before the write", gen: "before", raw: []byte("x"), freshUntil: time.Now().Add(time.Hour)})
		if v, ok := Local(ctx, reader, &Request{econ: reader}, sp, "page"); !ok || v != "page from before the write" {
			t.Fatalf("before the outage the reader's decoded tier answers %q, %v", v, ok)
		}

		srv.Mini.Close()
		writer.CandidatesChanged(ctx, "7")
		if !writer.hasPending() {
			t.Fatal("the invalidation that could not reach Redis was not recorded")
		}
		if _, ok := writer.getMany(ctx, genKeys); ok {
			t.Error("the writer trusts the cache while its invalidation is pending")
		}

		restart <- struct{}{}
		if err := <-restarted; err != nil {
			t.Fatal(err)
		}
		// The background retry's ticks: the first finds Redis answering
		// (a retry of go-redis's own may take it one more).
		for range 3 {
			time.Sleep(pendingRetry)
			synctest.Wait()
		}
		if writer.hasPending() {
			t.Fatal("the recorded invalidation was not applied once Redis answered")
		}
		got, err := reader.store.GetMany(ctx, genKeys)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range genKeys {
			if ent, ok := got[k]; !ok || string(ent.Value) == "before" {
				t.Errorf("generation %s = %q after Redis came back, want a new token", k, ent.Value)
			}
		}
		if v, ok := Local(ctx, reader, &Request{econ: reader}, sp, "page"); ok {
			t.Errorf("the other replica still serves %q, made before the write", v)
		}
	})
}

// outageStore is a cache.Store whose writes fail while down is set, and
// which counts the writes it took.
type outageStore struct {
	cache.Store
	down   atomic.Bool
	writes atomic.Int32
}

func (s *outageStore) SetMany(ctx context.Context, items []cache.Item) error {
	if s.down.Load() {
		return errors.New("cache unreachable")
	}
	s.writes.Add(1)
	return s.Store.SetMany(ctx, items)
}

// TestPendingInvalidationsAppliedOnceByConcurrentReaders: when the cache
// answers again, readers that all find invalidations pending replace the
// tokens once between them: a second replacement would end what the
// readers of the first had cached, and refetch it from Workable.
func TestPendingInvalidationsAppliedOnceByConcurrentReaders(t *testing.T) {
	t.Parallel()
	store := &outageStore{Store: cache.NewMemory(0)}
	e := New(Config{Cache: store}, Credential{Nickname: "default", Namespace: "pending-once:"}, nil)
	ctx := context.Background()

	store.down.Store(true)
	e.CandidatesChanged(ctx, "7")
	if !e.hasPending() {
		t.Fatal("the invalidation that could not reach the cache was not recorded")
	}
	store.down.Store(false)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if !e.applyPending(ctx) {
				t.Error("applyPending reported invalidations left with the cache answering")
			}
		})
	}
	wg.Wait()
	if n := store.writes.Load(); n != 1 {
		t.Errorf("8 readers replaced the pending tokens in %d writes, want 1", n)
	}
}
