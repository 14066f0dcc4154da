package upstream

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/workablegw/gateway/cache"
)

// DefaultLocalTierBytes bounds the decoded tier when Config.LocalTierBytes
// is 0, counted in the encoded size of its entries.
const DefaultLocalTierBytes = 32 << 20

// localTier keeps DECODED cache values in the process, in front of the
// shared cache, so that a warm read neither decodes JSON nor, for a value a
// generation guards, transfers the value: it holds, per cache key, the value
// decoded from the shared cache's entry, the generation token the entry was
// made under, the entry's bytes and its fresh time.
//
// It is coherent with the shared cache by the same rules as the shared
// cache's own entries:
//   - an entry that a generation guards counts only while that generation,
//     read from the shared cache (so any replica's write replaces it at
//     once), is still the one it was made under;
//   - a value read from the shared cache is taken from the tier only when
//     the shared entry holds the very bytes the tier decoded (a replaced
//     entry is decoded anew);
//   - an entry of a kind without a generation (a pipeline, the members of a
//     job) counts until its fresh time ends, as the shared entry it copies
//     does: nothing but expiry replaces those.
//
// Values in the tier are shared by every request of the process: readers
// must never modify them (the resolvers copy what they change).
//
// It is bounded by the encoded size of its entries: two maps, the current
// and the previous; when the current one holds half the bound it becomes
// the previous one (dropping the older), and a hit in the previous one moves
// the entry back to the current one, so that what is read stays.
type localTier struct {
	max int64

	mu       sync.Mutex
	cur      map[string]*localEntry
	prev     map[string]*localEntry
	curBytes int64
}

// localEntry is one decoded value.
type localEntry struct {
	v          any
	gen        string
	raw        []byte
	freshUntil time.Time
}

// newLocalTier returns a tier bounded to about maxBytes; nil (no tier) when
// maxBytes is negative.
func newLocalTier(maxBytes int64) *localTier {
	if maxBytes < 0 {
		return nil
	}
	if maxBytes == 0 {
		maxBytes = DefaultLocalTierBytes
	}
	return &localTier{max: maxBytes, cur: make(map[string]*localEntry)}
}

// get returns the entry of key, or nil.
func (t *localTier) get(key string) *localEntry {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if le, ok := t.cur[key]; ok {
		return le
	}
	le, ok := t.prev[key]
	if ok {
		delete(t.prev, key)
		t.putLocked(key, le)
	}
	return le
}

// put stores le under key.
func (t *localTier) put(key string, le *localEntry) {
	if t == nil || int64(len(le.raw)) > t.max/2 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.putLocked(key, le)
}

func (t *localTier) putLocked(key string, le *localEntry) {
	if old, ok := t.cur[key]; ok {
		t.curBytes -= int64(len(old.raw))
	}
	if t.curBytes+int64(len(le.raw)) > t.max/2 {
		t.prev, t.cur, t.curBytes = t.cur, make(map[string]*localEntry), 0
	}
	t.cur[key] = le
	t.curBytes += int64(len(le.raw))
}

// clear forgets everything.
func (t *localTier) clear() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cur, t.prev, t.curBytes = make(map[string]*localEntry), nil, 0
}

// decodeEntry decodes the shared cache's entry of key, from the decoded
// tier when it holds the same bytes, and keeps what it decodes there.
func decodeEntry[V any](e *Economy, key string, ent cache.Entry) (V, string, error) {
	if le := e.local.get(key); le != nil && bytes.Equal(le.raw, ent.Value) {
		if v, ok := le.v.(V); ok {
			if le.freshUntil != ent.FreshUntil {
				// The same bytes stored again (another replica's
				// fetch after this entry expired): fresh anew.
				e.local.put(key, &localEntry{v: le.v, gen: le.gen, raw: le.raw, freshUntil: ent.FreshUntil})
			}
			return v, le.gen, nil
		}
	}
	v, gen, err := decodeValue[V](ent.Value)
	if err == nil {
		e.local.put(key, &localEntry{v: v, gen: gen, raw: ent.Value, freshUntil: ent.FreshUntil})
	}
	return v, gen, err
}

// Local answers k from the decoded tier alone when it can, without waiting
// for a batch: the tier must hold a fresh value of k and, when a generation
// guards k, that generation must be the one the value was made under. The
// generation is read once per request (Request.gen): the candidate lists
// and the jobs generations, each guarding many keys, are read at once from
// the shared cache (one small read each, no batch wait); a record's own
// generation is known only once a batch of the request has read it, so
// that the records of a page are checked in one round trip. After a write of the request, Local
// answers nothing: what the request reads next must see the write.
//
// A hit counts as a cache hit in extensions.cost and the metrics, as a hit
// of a batch does, once per key and request.
func Local[K comparable, V any](ctx context.Context, e *Economy, rs *Request, sp Spec[K, V], k K) (V, bool) {
	var zero V
	if e.local == nil || rs == nil || rs.wrote.Load() {
		return zero, false
	}
	key := cache.Key(e.ns, sp.Kind, sp.ID(k))
	le := e.local.get(key)
	if le == nil || !time.Now().Before(le.freshUntil) {
		return zero, false
	}
	v, ok := le.v.(V)
	if !ok {
		return zero, false
	}
	genKey := ""
	if sp.Gen != nil {
		genKey = sp.Gen(k)
		gen, known := rs.gen(genKey)
		if !known && (genKey == e.listsGen || genKey == e.jobsGen) {
			gen, known = rs.readGenOnce(ctx, e, genKey)
		}
		if !known || gen != le.gen {
			return zero, false
		}
	}
	rs.dep(genKey, le.gen, le.freshUntil)
	if rs.firstLookup(key) {
		e.countLookups(rs, sp.Kind, 1, 0)
	}
	return v, true
}

// firstLookup reports whether the request looks key up for the first time,
// and remembers that it did: a key counts once per request in
// extensions.cost, however many fields ask for it (as the request's
// dataloaders ask a batch for it once).
func (rs *Request) firstLookup(key string) bool {
	if rs == nil {
		return true
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if _, ok := rs.looked[key]; ok {
		return false
	}
	if rs.looked == nil {
		rs.looked = make(map[string]struct{})
	}
	rs.looked[key] = struct{}{}
	return true
}

// genRead is one read of generation tokens by Request.readGenOnce.
type genRead struct {
	done chan struct{}
	// gens are the tokens read, by key; set before done closes.
	gens map[string]string
}

// readGenOnce reads the generation token genKey, one of the account-wide
// ones (the candidate lists and the jobs), from the shared cache once for
// the request, however many fields ask for it at once, and remembers it;
// false when the cache does not hold it (a batch then makes it) or cannot
// be read. The other account-wide token, unless known or being read, comes
// in the same read (one round trip): a page of candidates with their jobs
// needs both.
func (rs *Request) readGenOnce(ctx context.Context, e *Economy, genKey string) (string, bool) {
	rs.mu.Lock()
	if gen, ok := rs.gens[genKey]; ok {
		rs.mu.Unlock()
		return gen, true
	}
	r, running := rs.genReads[genKey]
	var keys []string
	if !running {
		if rs.genReads == nil {
			rs.genReads = make(map[string]*genRead)
		}
		r = &genRead{done: make(chan struct{})}
		keys = []string{genKey}
		for _, k := range []string{e.listsGen, e.jobsGen} {
			_, known := rs.gens[k]
			_, reading := rs.genReads[k]
			if k != genKey && !known && !reading {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			rs.genReads[k] = r
		}
	}
	rs.mu.Unlock()
	if running {
		<-r.done
		gen, ok := r.gens[genKey]
		return gen, ok
	}
	defer close(r.done)
	ents, ok := e.getMany(ctx, keys)
	if !ok {
		// Unreadable, or an invalidation made during an outage is not in
		// the cache yet (see pendingInvalidations): no token is trusted.
		return "", false
	}
	r.gens = make(map[string]string, len(keys))
	for _, k := range keys {
		if ent, ok := ents[k]; ok {
			r.gens[k] = string(ent.Value)
			rs.noteGen(k, r.gens[k])
		}
	}
	gen, ok := r.gens[genKey]
	return gen, ok
}

// Wrote reports whether the request has written to Workable: from then on
// the decoded tier answers it nothing (see Local).
func (rs *Request) Wrote() bool {
	return rs != nil && rs.wrote.Load()
}

// markWrote records that the request wrote to Workable (see Local).
func (rs *Request) markWrote() {
	if rs != nil {
		rs.wrote.Store(true)
	}
}

// gen returns the token of the generation genKey as this request read it.
func (rs *Request) gen(genKey string) (string, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	gen, ok := rs.gens[genKey]
	return gen, ok
}

// noteGen records the token of the generation genKey as this request read
// it (the first read wins: a request is answered under one token of each
// generation, or not cached, see dep).
func (rs *Request) noteGen(genKey, gen string) {
	if rs == nil || genKey == "" {
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.gens == nil {
		rs.gens = make(map[string]string)
	}
	if _, ok := rs.gens[genKey]; !ok {
		rs.gens[genKey] = gen
	}
}
