package upstream

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/workable"
)

// TestLocalTierIsBounded: the tier holds about its bound of encoded bytes,
// keeps what was put or read last, and refuses an entry larger than half
// of it.
func TestLocalTierIsBounded(t *testing.T) {
	t.Parallel()
	const max, size = 1000, 100
	tier := newLocalTier(max)
	entry := func() *localEntry { return &localEntry{raw: make([]byte, size)} }
	for i := range 30 {
		tier.put(fmt.Sprint(i), entry())
		if i == 20 {
			// Read the oldest still held: it stays.
			if tier.get("16") == nil {
				t.Fatal("entry 16 is gone after 4 newer puts")
			}
		}
	}
	held := 0
	var bytes int64
	for i := range 30 {
		if le := tier.get(fmt.Sprint(i)); le != nil {
			held++
			bytes += int64(len(le.raw))
		}
	}
	if bytes > max {
		t.Errorf("the tier holds %d bytes, bound %d", bytes, max)
	}
	for _, k := range []string{"29", "25"} {
		if tier.get(k) == nil {
			t.Errorf("recent entry %s is gone", k)
		}
	}
	if tier.get("0") != nil {
		t.Error("the oldest entry is still held")
	}
	tier.put("big", &localEntry{raw: make([]byte, max/2+1)})
	if tier.get("big") != nil {
		t.Error("an entry larger than half the bound was kept")
	}
	if newLocalTier(-1) != nil {
		t.Error("a negative bound made a tier")
	}
	if got := newLocalTier(0).max; got != DefaultLocalTierBytes {
		t.Errorf("bound 0 means %d, want DefaultLocalTierBytes", got)
	}
}

// TestDecodeEntryReusesDecodedValues: the same bytes give the same decoded
// value (no decoding); other bytes under the same key are decoded anew.
func TestDecodeEntryReusesDecodedValues(t *testing.T) {
	t.Parallel()
	type rec struct{ Name string }
	e := New(Config{Cache: cache.NewMemory(0)}, Credential{Nickname: "default", Namespace: "ns"}, nil)
	encode := func(gen string, v rec) []byte {
		b, err := encodeValue(gen, v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fresh := time.Now().Add(time.Minute)
	first := cache.Entry{Value: encode("g1", rec{"Ada"}), FreshUntil: fresh}
	a, gen, err := decodeEntry[*rec](e, "k", first)
	if err != nil || gen != "g1" || a.Name != "Ada" {
		t.Fatalf("decodeEntry = %+v, %q, %v", a, gen, err)
	}
	same := cache.Entry{Value: append([]byte(nil), first.Value...), FreshUntil: fresh}
	if b, _, _ := decodeEntry[*rec](e, "k", same); b != a {
		t.Error("the same bytes were decoded again")
	}
	changed := cache.Entry{Value: encode("g2", rec{"Grace"}), FreshUntil: fresh}
	c, gen, err := decodeEntry[*rec](e, "k", changed)
	if err != nil || gen != "g2" || c.Name != "Grace" || c == a {
		t.Errorf("new bytes under the key gave %+v, %q, %v", c, gen, err)
	}
}

// TestLocalNeedsTheCurrentGeneration: Local answers a fresh value only
// under the generation it was made under, as the request read it; nothing
// when the value is past its fresh time, or after a write of the request.
func TestLocalNeedsTheCurrentGeneration(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		store := cache.NewMemory(0)
		defer store.Close()
		e := New(Config{Cache: store}, Credential{Nickname: "default", Namespace: "ns"}, nil)
		sp := Spec[string, string]{Kind: cache.KindCandidateList, ID: func(k string) string { return k },
			Gen: func(string) string { return e.ListsGenKey() }}
		ctx := context.Background()
		if err := store.SetMany(ctx, []cache.Item{genItem(e.ListsGenKey(), "g1")}); err != nil {
			t.Fatal(err)
		}
		key := cache.Key(e.ns, sp.Kind, "page")
		e.local.put(key, &localEntry{v: "cached page", gen: "g1", raw: []byte("x"), freshUntil: start.Add(time.Minute)})

		if v, ok := Local(ctx, e, &Request{econ: e}, sp, "page"); !ok || v != "cached page" {
			t.Errorf("under its generation: %q, %v", v, ok)
		}
		if err := store.SetMany(ctx, []cache.Item{genItem(e.ListsGenKey(), "g2")}); err != nil {
			t.Fatal(err)
		}
		if _, ok := Local(ctx, e, &Request{econ: e}, sp, "page"); ok {
			t.Error("answered under a replaced generation")
		}
		rs := &Request{econ: e}
		rs.noteGen(e.ListsGenKey(), "g1") // the request read g1 before
		if _, ok := Local(ctx, e, rs, sp, "page"); !ok {
			t.Error("a request that read g1 is not answered under g1")
		}
		rs.markWrote()
		if _, ok := Local(ctx, e, rs, sp, "page"); ok {
			t.Error("answered after a write of the request")
		}
		time.Sleep(2 * time.Minute)
		rs = &Request{econ: e}
		rs.noteGen(e.ListsGenKey(), "g1")
		if _, ok := Local(ctx, e, rs, sp, "page"); ok {
			t.Error("answered past the fresh time")
		}
	})
}

// TestWritesEndLocalAnswers: each write path marks the request in its
// context as having written, so that its later reads go through batches
// (which read the generations the write replaced) rather than Local.
func TestWritesEndLocalAnswers(t *testing.T) {
	t.Parallel()
	e := New(Config{Cache: cache.NewMemory(0)}, Credential{Nickname: "default", Namespace: "ns"}, nil)
	writes := map[string]func(context.Context){
		"CandidateWritten":  func(ctx context.Context) { e.CandidateWritten(ctx, &workable.Candidate{ID: "c1"}) },
		"CandidatesChanged": func(ctx context.Context) { e.CandidatesChanged(ctx, "c1") },
	}
	for name, write := range writes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := e.NewRequest(context.Background())
			rs := RequestFrom(ctx)
			if rs.Wrote() {
				t.Fatal("a new request has written")
			}
			write(ctx)
			if !rs.Wrote() {
				t.Errorf("%s left the request unmarked", name)
			}
		})
	}
}

// getManyCounter is a store that counts its GetMany calls.
type getManyCounter struct {
	cache.Store
	calls atomic.Int64
}

func (s *getManyCounter) GetMany(ctx context.Context, keys []string) (map[string]cache.Entry, error) {
	s.calls.Add(1)
	return s.Store.GetMany(ctx, keys)
}

// TestLocalReadsTheAccountGenerationsTogether: a request answered by the
// decoded tier reads the candidate lists and the jobs generations in one
// cache read (one Redis round trip), not one per generation.
func TestLocalReadsTheAccountGenerationsTogether(t *testing.T) {
	t.Parallel()
	store := &getManyCounter{Store: cache.NewMemory(0)}
	e := New(Config{Cache: store}, Credential{Nickname: "default", Namespace: "ns"}, nil)
	ctx := context.Background()
	if err := store.SetMany(ctx, []cache.Item{genItem(e.ListsGenKey(), "l1"), genItem(e.JobsGenKey(), "j1")}); err != nil {
		t.Fatal(err)
	}
	fresh := time.Now().Add(time.Minute)
	specs := []struct {
		sp  Spec[string, string]
		gen string
	}{
		{Spec[string, string]{Kind: cache.KindCandidateList, ID: func(k string) string { return k }, Gen: func(string) string { return e.ListsGenKey() }}, "l1"},
		{Spec[string, string]{Kind: cache.KindJob, ID: func(k string) string { return k }, Gen: func(string) string { return e.JobsGenKey() }}, "j1"},
	}
	for _, s := range specs {
		e.local.put(cache.Key(e.ns, s.sp.Kind, "k"), &localEntry{v: s.gen, gen: s.gen, raw: []byte(s.gen), freshUntil: fresh})
	}
	rs := &Request{econ: e}
	for _, s := range specs {
		if v, ok := Local(ctx, e, rs, s.sp, "k"); !ok || v != s.gen {
			t.Errorf("%s: %q, %v", s.sp.Kind, v, ok)
		}
	}
	if n := store.calls.Load(); n != 1 {
		t.Errorf("the two account generations took %d cache reads, want 1", n)
	}
}

// TestLoaderKeepsItsLocalAnswers: a loader answers each key the decoded
// tier gave it, the first as the later ones, with the same value for the
// rest of the request, even once the tier no longer holds it.
func TestLoaderKeepsItsLocalAnswers(t *testing.T) {
	t.Parallel()
	e := New(Config{Cache: cache.NewMemory(0)}, Credential{Nickname: "default", Namespace: "ns"}, nil)
	sp := Spec[string, string]{Kind: cache.KindCandidateList, ID: func(k string) string { return k }}
	ctx := e.NewRequest(context.Background())
	l := NewLoader(e, RequestFrom(ctx), sp)
	keys := []string{"a", "b", "c"}
	for _, k := range keys {
		e.local.put(cache.Key(e.ns, sp.Kind, k), &localEntry{v: "value " + k, raw: []byte("x"), freshUntil: time.Now().Add(time.Hour)})
	}
	for _, k := range keys {
		if v, ok := l.Local(ctx, k); !ok || v != "value "+k {
			t.Fatalf("first read of %s: %q, %v", k, v, ok)
		}
	}
	for _, k := range keys {
		e.local.put(cache.Key(e.ns, sp.Kind, k), &localEntry{v: "replaced " + k, raw: []byte("x"), freshUntil: time.Now().Add(time.Hour)})
	}
	for _, k := range []string{"c", "a", "b", "a"} {
		if v, ok := l.Local(ctx, k); !ok || v != "value "+k {
			t.Errorf("read of %s again: %q, %v; want the request's first answer", k, v, ok)
		}
	}
	if _, ok := l.Local(ctx, "d"); ok {
		t.Error("answered a key the tier never held")
	}
}
