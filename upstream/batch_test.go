package upstream

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/workable"
)

// arrivals is a rate limiter with every slot free that records the rank of
// each caller in arrival order.
type arrivals struct {
	mu    sync.Mutex
	ranks []workable.Rank
}

func (a *arrivals) Wait(ctx context.Context, _ workable.Priority) error {
	a.mu.Lock()
	a.ranks = append(a.ranks, workable.RankFrom(ctx))
	a.mu.Unlock()
	workable.NotifyQueued(ctx)
	return nil
}

func (a *arrivals) Observe(workable.Rate) {}

// TestBatchCallsArriveInRankOrder: the misses of a batch reach the rate
// limiter in rank order, whatever order their keys came in, even when the
// limiter has free slots (which it gives in arrival order) and the fetches
// run concurrently.
func TestBatchCallsArriveInRankOrder(t *testing.T) {
	t.Parallel()
	lim := &arrivals{}
	e := New(Config{}, Credential{Nickname: "default"}, nil)
	keys := []string{"k7", "k3", "k9", "k0", "k5", "k1", "k8", "k2", "k6", "k4"}
	rankOfKey := func(k string) workable.Rank { return workable.Rank{1, int64(k[1] - '0')} }
	batch := Batch(e, &Request{}, Spec[string, string]{
		Kind: cache.KindCandidate,
		ID:   DetailID,
		Rank: rankOfKey,
		Fetch: func(ctx context.Context, k, _ string) (string, []cache.Item, error) {
			return k, nil, lim.Wait(ctx, workable.PriorityRead)
		},
	})
	for i, r := range batch(t.Context(), keys) {
		if v, err := r.Data.Wait(); err != nil || v != keys[i] {
			t.Fatalf("key %s = %q, %v", keys[i], v, err)
		}
	}
	want := make([]workable.Rank, 10)
	for i := range want {
		want[i] = workable.Rank{1, int64(i)}
	}
	if diff := cmp.Diff(want, lim.ranks); diff != "" {
		t.Errorf("arrival ranks (-want +got):\n%s", diff)
	}
}

func TestConfigLoaderWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   time.Duration
		want time.Duration
	}{
		{"zero means the default", 0, DefaultLoaderWait},
		{"negative means the default", -time.Millisecond, DefaultLoaderWait},
		{"set", 5 * time.Millisecond, 5 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := New(Config{LoaderWait: tt.in}, Credential{Nickname: "default"}, nil).LoaderWait(); got != tt.want {
				t.Errorf("loaderWait = %v, want %v", got, tt.want)
			}
		})
	}
}

// failingReads is a cache whose reads fail (a busy Redis timing out) while
// its writes go through.
type failingReads struct{ cache.Store }

func (failingReads) GetMany(context.Context, []string) (map[string]cache.Entry, error) {
	return nil, errors.New("i/o timeout")
}

func (failingReads) SetIfAbsent(context.Context, []cache.Item) (map[string]cache.Entry, error) {
	return nil, errors.New("i/o timeout")
}

// TestFailedReadNeverOverwritesAGoodEntry: when the cache cannot be read,
// the record is fetched (no generation can be trusted) but not stored: under
// no generation it would replace the good entry with one nobody can use.
func TestFailedReadNeverOverwritesAGoodEntry(t *testing.T) {
	t.Parallel()
	mem := cache.NewMemory(0)
	e := New(Config{Cache: mem}, Credential{Nickname: "default", Namespace: "ns:"}, nil)
	sp := Spec[string, string]{
		Kind: cache.KindCandidate,
		ID:   DetailID,
		Gen:  e.CandidateGenKey,
		Fetch: func(context.Context, string, string) (string, []cache.Item, error) {
			return "fetched", nil, nil
		},
	}
	good, err := e.Item(cache.KindCandidate, DetailID("7"), "g1", "good")
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.SetMany(t.Context(), []cache.Item{genItem(e.CandidateGenKey("7"), "g1"), good}); err != nil {
		t.Fatal(err)
	}
	e.store = failingReads{mem}
	res := Batch(e, &Request{}, sp)(t.Context(), []string{"7"})
	if v, err := res[0].Data.Wait(); err != nil || v != "fetched" {
		t.Fatalf("with the cache unreadable: %q, %v; want the fetched value", v, err)
	}
	ents, err := mem.GetMany(t.Context(), []string{good.Key})
	if err != nil {
		t.Fatal(err)
	}
	if ent, ok := ents[good.Key]; !ok || !bytes.Equal(ent.Value, good.Value) {
		t.Errorf("the good entry was overwritten: %q", ent.Value)
	}
}
