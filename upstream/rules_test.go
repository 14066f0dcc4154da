package upstream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/workable"
)

// TestResponseStoredOnlyWhenWhole: a response is cached whole only when it
// is a query's, has data and no errors, and was built from cached records
// under one token per generation, none of them stale.
func TestResponseStoredOnlyWhenWhole(t *testing.T) {
	t.Parallel()
	const body = `{"data":{"candidate":{"id":"1"}}}`
	tests := []struct {
		name   string
		build  func(rs *Request, fresh time.Time)
		body   string
		stored bool
	}{
		{"a query over one generation", func(rs *Request, fresh time.Time) {
			rs.dep("g:1", "a", fresh)
			rs.dep("g:1", "a", fresh)
		}, body, true},
		{"two tokens of one generation: a write happened meanwhile", func(rs *Request, fresh time.Time) {
			rs.dep("g:1", "a", fresh)
			rs.dep("g:1", "b", fresh)
		}, body, false},
		{"a stale copy served", func(rs *Request, fresh time.Time) {
			rs.dep("g:1", "a", fresh)
			rs.markStale(cache.KindCandidate, "ref")
		}, body, false},
		{"data that is not cached by record", func(rs *Request, fresh time.Time) {
			rs.dep("g:1", "a", fresh)
			rs.NoResponseCache()
		}, body, false},
		{"errors", func(rs *Request, fresh time.Time) {
			rs.dep("g:1", "a", fresh)
		}, `{"data":{"candidate":null},"errors":[{"message":"x"}]}`, false},
		{"no record read", func(*Request, time.Time) {}, body, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := cache.NewMemory(0)
			e := New(Config{Cache: store, ResponseCache: true}, Credential{Nickname: "default", Namespace: "ns:"}, nil)
			rs := &Request{econ: e}
			rs.MarkQuery("Q")
			tt.build(rs, time.Now().Add(time.Minute))
			cw := &captureWriter{ResponseWriter: httptest.NewRecorder(), status: http.StatusOK}
			cw.Header().Set("Content-Type", "application/json")
			cw.Write([]byte(tt.body))
			e.storeResponse(t.Context(), "ns:resp:k", rs, cw)
			got, err := store.GetMany(t.Context(), []string{"ns:resp:k"})
			if err != nil {
				t.Fatal(err)
			}
			if _, stored := got["ns:resp:k"]; stored != tt.stored {
				t.Errorf("stored = %v, want %v", stored, tt.stored)
			}
		})
	}
	t.Run("not a query", func(t *testing.T) {
		t.Parallel()
		store := cache.NewMemory(0)
		e := New(Config{Cache: store, ResponseCache: true}, Credential{Nickname: "default", Namespace: "ns:"}, nil)
		rs := &Request{econ: e}
		rs.dep("g:1", "a", time.Now().Add(time.Minute))
		cw := &captureWriter{ResponseWriter: httptest.NewRecorder(), status: http.StatusOK}
		cw.Write([]byte(body))
		e.storeResponse(t.Context(), "ns:resp:k", rs, cw)
		if got, _ := store.GetMany(t.Context(), []string{"ns:resp:k"}); len(got) != 0 {
			t.Error("a mutation's response was stored")
		}
	})
}

// ctxStore is a cache store that, like Redis, refuses to work for a
// context that has ended.
type ctxStore struct{ cache.Store }

func (s ctxStore) SetMany(ctx context.Context, items []cache.Item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Store.SetMany(ctx, items)
}

// TestInvalidationOutlivesTheCaller: the invalidation after a write is made
// even when the caller has gone away by then, since the write happened (or
// may have); a client hanging up must not leave old data counting.
func TestInvalidationOutlivesTheCaller(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		invalidate func(ctx context.Context, e *Economy)
	}{
		{"written", func(ctx context.Context, e *Economy) { e.CandidateWritten(ctx, &workable.Candidate{ID: "c1"}) }},
		{"changed", func(ctx context.Context, e *Economy) { e.CandidatesChanged(ctx, "c1") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := ctxStore{cache.NewMemory(0)}
			e := New(Config{Cache: store}, Credential{Nickname: "default", Namespace: "ns:"}, nil)
			keys := []string{e.ListsGenKey(), e.CandidateGenKey("c1")}
			if err := store.SetMany(t.Context(), []cache.Item{genItem(keys[0], "old"), genItem(keys[1], "old")}); err != nil {
				t.Fatal(err)
			}
			gone, hangUp := context.WithCancel(t.Context())
			hangUp()
			tt.invalidate(gone, e)
			got, err := store.GetMany(t.Context(), keys)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if v := string(got[k].Value); v == "old" || v == "" {
					t.Errorf("generation %s = %q after the write: not replaced", k, v)
				}
			}
		})
	}
}

// TestBatchBoundsParallelFetches: one batch runs at most 100 fetches at
// once (Workable's largest page, so that a page's items queue for the rate
// budget together), and the others start as those end.
func TestBatchBoundsParallelFetches(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const keys = 150
		var (
			mu       sync.Mutex
			running  int
			peak     int
			release  = make(chan struct{})
			keyNames = make([]string, keys)
		)
		for i := range keyNames {
			keyNames[i] = string(rune('a'+i/26)) + string(rune('a'+i%26))
		}
		e := New(Config{}, Credential{Nickname: "default"}, nil)
		batch := Batch(e, &Request{}, Spec[string, string]{
			Kind: cache.KindCandidate,
			ID:   DetailID,
			Fetch: func(ctx context.Context, k, _ string) (string, []cache.Item, error) {
				workable.NotifyQueued(ctx) // as the rate limiter does: the next one may start
				mu.Lock()
				running++
				peak = max(peak, running)
				mu.Unlock()
				<-release
				mu.Lock()
				running--
				mu.Unlock()
				return k, nil, nil
			},
		})
		results := batch(t.Context(), keyNames)
		synctest.Wait()
		mu.Lock()
		held := running
		mu.Unlock()
		if held != 100 {
			t.Errorf("%d fetches running at once, want 100", held)
		}
		close(release)
		for i, r := range results {
			if v, err := r.Data.Wait(); err != nil || v != keyNames[i] {
				t.Errorf("key %s = %q, %v", keyNames[i], v, err)
			}
		}
		if peak != 100 {
			t.Errorf("peak of fetches at once = %d, want 100", peak)
		}
	})
}
