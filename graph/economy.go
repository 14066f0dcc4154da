package graph

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/graph-gophers/dataloader/v7"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/telemetry"
	"github.com/workablegw/gateway/workable"
)

// The upstream economy (issue 4): every Workable read of a query goes
//
//	dataloader (per request, dedupes keys) → batch → cache GetMany →
//	singleflight (per process, one fetch per key in flight) → Workable →
//	cache SetMany
//
// and falls back to an expired copy when Workable cannot answer.
//
// Writes invalidate with generation tokens. A generation is a random token
// kept in the cache (kind cache.KindGeneration); the entries it guards carry
// the token they were made under, and count only while it is current. A
// candidate write replaces the candidate lists generation (every cached
// candidate list page, Query.candidates and Job.candidates alike, and the
// list fields of every candidate) and that candidate's own generation (its
// detail and its activities), so exactly what the write can change stops
// counting, on every replica sharing the cache, without scanning keys. A
// token is read in the same GetMany as the entries it guards, so it costs no
// extra round trip; an entry stored by a read that started before a write
// carries the old token and never counts, so a slow read cannot put back
// data older than the write.

const (
	// genTTL is how long a generation token is kept. It must outlive every
	// entry it guards (fresh + stale TTL, an hour by default); a token that
	// is gone anyway (evicted) is replaced by a new one on the next read,
	// which invalidates what it guarded rather than reviving older entries.
	genTTL = 7 * 24 * time.Hour
	// listsGenID is the id of the candidate lists generation.
	listsGenID = "cands"
)

// economy is the process-wide part of the upstream economy, shared by every
// request of one handler (one Workable credential).
type economy struct {
	client *workable.Client
	// nickname is the name of the credential whose client this is
	// ("default" for the credential of the environment).
	nickname string
	// requests numbers the requests in arrival order: the first element of
	// the rank of their Workable calls (see rankOf).
	requests atomic.Int64
	store    cache.Store // nil: no cache
	ns       string
	ttls     cache.TTLs
	now      func() time.Time
	logger   *slog.Logger
	// flights coalesces concurrent identical fetches across requests (see
	// shared).
	flightMu sync.Mutex
	flights  map[string]*flight
	// responses enables the whole-response cache (responsecache.go).
	responses bool
	// obs and tp observe the cache layer (telemetry.go); nil for none.
	obs Observer
	tp  trace.TracerProvider
	// loaderWait is the batch wait of the request's loaders
	// (Config.LoaderWait, else DefaultLoaderWait).
	loaderWait time.Duration
}

// reqState is the per-request part: the request's dataloaders and what the
// request cost. It travels in the context (see withRequestState).
type reqState struct {
	loaders *loaders
	// econ is the economy of the request's Workable credential.
	econ *economy
	// idempotencyKey is the request's Idempotency-Key header ("" when
	// absent); idempotencyKeys counts the header's values.
	idempotencyKey  string
	idempotencyKeys int

	// ordinal is the request's place in arrival order (economy.requests).
	ordinal int64

	calls, hits, misses, stale atomic.Int64
	// stats is the request's log line counters (telemetry.RequestStats),
	// fed with the same counts as extensions.cost; nil outside a request.
	stats *telemetry.RequestStats

	mu        sync.Mutex
	staleRefs []staleRef
	// deps are the generation tokens the response was built under (token
	// key → value), and freshUntil the earliest time any of its data stops
	// being fresh; both decide whether and how long the whole response may
	// be cached.
	deps       map[string]string
	freshUntil time.Time
	// uncacheable is set when the response used data that is not cached
	// (stages, members, the account) or is not a query.
	uncacheable bool
	query       bool
	// operation is the query's operation label (telemetry.OperationLabel),
	// kept with a cached response for its metrics and log line.
	operation string
	// needed names the Workable calls the request could not make (see
	// noteServed), for extensions.workableCallsNeeded.
	needed map[string]struct{}
}

// staleRef names one stale answer served, for extensions.staleData.
type staleRef struct {
	Kind string `json:"kind"`
	// ID is the opaque reference of the stale entry (economy.staleID), never
	// its cache id: a list's cache id holds the query's filters, which may
	// be personal data (an e-mail address).
	ID string `json:"id"`
}

// staleIDLen is the length of a stale entry's reference, in hex digits (48
// bits: enough to tell the entries of one response apart and to find the
// log line of a stale answer, too short to serve as a key).
const staleIDLen = 12

// staleID returns the reference of the cached entry kind/id shown in
// extensions.staleData and in the log line of a stale answer: the first
// staleIDLen hex digits of HMAC-SHA256(namespace, kind NUL id). Keyed with
// the credential's namespace (a digest of its token), it cannot be reversed
// by trying likely filters (e-mail addresses) without knowing the token,
// and it is the same on every replica sharing a credential, so a client's
// staleData matches the gateways' log lines.
func (e *economy) staleID(kind cache.Kind, id string) string {
	m := hmac.New(sha256.New, []byte(e.ns))
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))[:staleIDLen]
}

type reqStateKey struct{}

// stateFrom returns the request state in ctx, or nil outside a request.
func stateFrom(ctx context.Context) *reqState {
	rs, _ := ctx.Value(reqStateKey{}).(*reqState)
	return rs
}

// CountWorkableCalls is a workable.WithRequestHook hook that counts each
// Workable attempt in the calling GraphQL request's extensions.cost. Pass it
// to workable.NewClient for the client given to NewHandler.
//
// A fetch coalesced across requests runs on the context of the request that
// started it (detached from its cancellation, see economy.shared), so only
// that request counts the call; the others waited for it and count 0 calls
// for it, which is the call they saved.
//
// It is also the one source of the request log line's workable_calls
// (telemetry.RequestStats, also for calls made outside GraphQL execution),
// so the log and extensions.cost always agree.
func CountWorkableCalls(ctx context.Context, _ workable.RequestEvent) {
	if rs := stateFrom(ctx); rs != nil {
		rs.calls.Add(1)
	}
	telemetry.StatsFrom(ctx).WorkableCalls.Add(1)
}

// dep records that the response used data guarded by the generation token
// genKey=gen (genKey "" for none) and fresh until freshUntil.
func (rs *reqState) dep(genKey, gen string, freshUntil time.Time) {
	if rs == nil {
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if genKey != "" {
		if rs.deps == nil {
			rs.deps = make(map[string]string)
		}
		if old, ok := rs.deps[genKey]; ok && old != gen {
			// Two tokens of one generation in one response: a write
			// happened while it was built; never cache it.
			rs.uncacheable = true
		}
		rs.deps[genKey] = gen
	}
	if rs.freshUntil.IsZero() || freshUntil.Before(rs.freshUntil) {
		rs.freshUntil = freshUntil
	}
}

// markStale records that a stale copy of kind was served; ref is its
// reference (economy.staleID), never its cache id.
func (rs *reqState) markStale(kind cache.Kind, ref string) {
	if rs == nil {
		return
	}
	rs.stale.Add(1)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.staleRefs = append(rs.staleRefs, staleRef{Kind: string(kind), ID: ref})
	rs.uncacheable = true
}

// noResponseCache marks the response as not cacheable as a whole.
func (rs *reqState) noResponseCache() {
	if rs == nil {
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.uncacheable = true
}

// spec describes one kind of cached read for cachedBatch.
type spec[K comparable, V any] struct {
	kind cache.Kind
	// id is the canonical id of k within its kind.
	id func(K) string
	// gen returns the key of the generation token guarding k's entry, or
	// nil when the kind has none.
	gen func(K) string
	// fetch reads k from Workable (or, for derived kinds, through other
	// loaders). gen is the token the value will be stored under; fetch
	// returns extra entries to store along with it (e.g. each job of a
	// jobs page), built with economy.item.
	fetch func(ctx context.Context, k K, gen string) (V, []cache.Item, error)
	// derived kinds are computed from other loaders, which do the caching,
	// coalescing and stale fallback themselves: a derived miss is neither
	// stored nor coalesced here.
	derived bool
	// rank returns the rank k was asked for at (see rankOf); nil ranks
	// nothing. The misses of a batch are fetched in rank order, each at its
	// own rank in the rate limiter's queue.
	rank func(K) workable.Rank
}

// lookup is one key of a batch.
type lookup struct {
	key, genKey, gen string
}

// cachedBatch returns the batch function of a loader of sp: cache GetMany
// (entries and their generation tokens in one round trip), then one shared
// fetch per miss, at most maxParallelFetches at a time and in rank order,
// falling back to an expired copy when the fetch fails transiently.
//
// The batch answers at once, with one pending value per key: a hit is
// resolved already, a miss when its own fetch ends. So a field waits for
// its own key only, and with @defer the part of the first item of a page
// is sent as soon as its calls are made, not when the last item's are.
func cachedBatch[K comparable, V any](e *economy, rs *reqState, sp spec[K, V]) dataloader.BatchFunc[K, *pending[V]] {
	return func(ctx context.Context, keys []K) []*dataloader.Result[*pending[V]] {
		ctx, span := e.startSpan(ctx, "dataloader "+string(sp.kind),
			cacheKindKey.String(string(sp.kind)), batchSizeKey.Int(len(keys)), derivedKey.Bool(sp.derived))
		lks := make([]lookup, len(keys))
		want := make([]string, 0, 2*len(keys))
		for i, k := range keys {
			lks[i].key = cache.Key(e.ns, sp.kind, sp.id(k))
			want = append(want, lks[i].key)
			if sp.gen != nil {
				lks[i].genKey = sp.gen(k)
				want = append(want, lks[i].genKey)
			}
		}
		entries, readOK := e.getMany(ctx, want)
		if sp.gen != nil {
			gens := e.generations(ctx, lks, entries, readOK)
			for i := range lks {
				lks[i].gen = gens[lks[i].genKey]
			}
		}

		now := e.now()
		results := make([]*dataloader.Result[*pending[V]], len(keys))
		stale := make([]*V, len(keys))
		var missIdx []int
		for i := range keys {
			if ent, ok := entries[lks[i].key]; ok {
				if v, gen, err := decodeValue[V](ent.Value); err == nil {
					if gen != lks[i].gen {
						// Made under a generation a write has
						// replaced (or that was lost): obsolete, a
						// plain miss, never a stale fallback.
						missIdx = append(missIdx, i)
						continue
					}
					if ent.IsFresh(now) {
						results[i] = &dataloader.Result[*pending[V]]{Data: resolved(v, nil)}
						rs.dep(lks[i].genKey, lks[i].gen, ent.FreshUntil)
						continue
					}
					stale[i] = &v
				}
			}
			missIdx = append(missIdx, i)
		}
		misses := 0
		if e.store != nil && !sp.derived {
			misses = len(missIdx)
		}
		e.countLookups(rs, sp.kind, len(keys)-len(missIdx), misses)
		if len(missIdx) == 0 {
			span.End()
			return results
		}
		for _, i := range missIdx {
			results[i] = &dataloader.Result[*pending[V]]{Data: newPending[V]()}
		}
		var ranks []workable.Rank
		if sp.rank != nil {
			ranks = make([]workable.Rank, len(keys))
			for _, i := range missIdx {
				ranks[i] = sp.rank(keys[i])
			}
			slices.SortStableFunc(missIdx, func(a, b int) int { return ranks[a].Compare(ranks[b]) })
		}
		done := startEach(len(missIdx), func(j int, placed func()) {
			i := missIdx[j]
			if sp.derived {
				// Reads other loaders, which order their own calls.
				placed()
			}
			v, err := func() (v V, err error) {
				// A panic here would end the process (it is not the
				// resolver's goroutine, which gqlgen recovers): make it
				// this key's error.
				defer func() {
					if p := recover(); p != nil {
						err = fmt.Errorf("%w: %v", errFetchPanicked, p)
					}
				}()
				fctx := workable.WithOnQueued(ctx, placed)
				if ranks != nil {
					fctx = workable.WithRank(fctx, ranks[i])
				}
				return fetchOne(fctx, e, sp, keys[i], lks[i])
			}()
			switch {
			case err == nil:
				if !sp.derived {
					rs.dep(lks[i].genKey, lks[i].gen, now.Add(e.minFresh(sp.kind)))
				}
			case stale[i] != nil && staleWorthy(err):
				// Never the entry's id (a list's holds the query's
				// filters, personal data), nor the error (whose text
				// names the request): its reference and the error's
				// class only.
				ref := e.staleID(sp.kind, sp.id(keys[i]))
				e.logger.LogAttrs(ctx, slog.LevelWarn, "serving a stale copy: Workable did not answer",
					slog.String("kind", string(sp.kind)), slog.String("ref", ref), slog.String("reason", staleReason(err)))
				v, err = *stale[i], nil
				e.servedStale(rs, sp.kind, ref)
			}
			if !sp.derived {
				rs.noteServed(lks[i].key, err)
			}
			results[i].Data.resolve(v, err)
		})
		go func() {
			<-done
			span.End()
		}()
		return results
	}
}

// fetchOne fetches one missing key. A derived kind asks its source
// loaders. Any other goes through the process-wide singleflight, so that
// concurrent requests for the same key (and generation) make one Workable
// call; the shared fetch re-reads the cache first, because a fetch that
// completed just before it started has stored the value, and stores what it
// fetched before it completes.
func fetchOne[K comparable, V any](ctx context.Context, e *economy, sp spec[K, V], k K, lk lookup) (V, error) {
	if sp.derived {
		v, _, err := sp.fetch(ctx, k, lk.gen)
		return v, err
	}
	v, err := e.shared(ctx, lk.key+"\x00"+lk.gen, func(ctx context.Context) (any, error) {
		if e.store != nil {
			if ents, err := e.store.GetMany(ctx, []string{lk.key}); err == nil {
				if ent, ok := ents[lk.key]; ok && ent.IsFresh(e.now()) {
					if v, gen, err := decodeValue[V](ent.Value); err == nil && gen == lk.gen {
						return v, nil
					}
				}
			}
		}
		v, items, err := sp.fetch(ctx, k, lk.gen)
		if err != nil {
			return nil, err
		}
		if e.store != nil {
			it, err := e.item(sp.kind, sp.id(k), lk.gen, v)
			if err != nil {
				return nil, err
			}
			e.setMany(ctx, append(items, it))
		}
		return v, nil
	})
	if err != nil {
		var zero V
		return zero, err
	}
	return v.(V), nil
}

// errFetchPanicked is the error of a shared fetch that panicked; the panic
// itself is logged, never shown to a client (it classifies as INTERNAL).
var errFetchPanicked = errors.New("shared fetch failed unexpectedly")

// shared runs fn once for all concurrent callers with the same key. fn runs
// detached from the cancellation of the caller that started it
// (context.WithoutCancel), bounded by that caller's deadline, so that one
// client disconnecting does not fail the others; each caller still stops
// waiting when its own context ends. A caller that joins a fetch already
// running takes no place in the rate limiter's queue: it is told so at once
// (workable.NotifyQueued), so that the calls started after it need not
// wait for that fetch.
//
// A panic in fn is recovered, logged with its stack and returned to every
// caller as errFetchPanicked: fn runs in a goroutine of its own, where a
// panic would be out of reach of any handler's recovery and crash the
// process.
func (e *economy) shared(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	e.flightMu.Lock()
	f, joined := e.flights[key]
	if !joined {
		f = &flight{done: make(chan struct{})}
		if e.flights == nil {
			e.flights = make(map[string]*flight)
		}
		e.flights[key] = f
		go e.run(ctx, key, f, fn)
	}
	e.flightMu.Unlock()
	if joined {
		workable.NotifyQueued(ctx)
	}
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// flight is one fetch of shared, with its outcome once done is closed.
type flight struct {
	done chan struct{}
	val  any
	err  error
}

// run runs the fetch of f (see shared) and forgets it when it ends, so that
// a later caller starts a new one.
func (e *economy) run(ctx context.Context, key string, f *flight, fn func(context.Context) (any, error)) {
	defer func() {
		if p := recover(); p != nil {
			e.logger.LogAttrs(ctx, slog.LevelError, "shared Workable fetch panicked",
				slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
			f.val, f.err = nil, errFetchPanicked
		}
		e.flightMu.Lock()
		delete(e.flights, key)
		e.flightMu.Unlock()
		close(f.done)
	}()
	fctx := context.WithoutCancel(ctx)
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		fctx, cancel = context.WithDeadline(fctx, dl)
		defer cancel()
	}
	f.val, f.err = fn(fctx)
}

// staleWorthy reports whether a failed fetch may be answered with a stale
// copy: Workable rate-limited us (or the budget cannot serve in time), failed
// or timed out. A caller that went away (Canceled) gets no answer anyway.
func staleWorthy(err error) bool {
	return errors.Is(err, workable.ErrRateLimited) || errors.Is(err, workable.ErrUnavailable) ||
		errors.Is(err, context.DeadlineExceeded)
}

// staleReason is the class of a staleWorthy error, for the log line of a
// stale answer: the error's own text may name the request (a list's query
// string, with its filters).
func staleReason(err error) string {
	switch {
	case errors.Is(err, workable.ErrRateLimited):
		return "rate limited"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	default:
		return "unavailable"
	}
}

// getMany reads keys from the cache. A cache failure is logged and reads as
// all misses; ok is false then.
func (e *economy) getMany(ctx context.Context, keys []string) (map[string]cache.Entry, bool) {
	if e.store == nil || len(keys) == 0 {
		return nil, e.store != nil
	}
	entries, err := e.store.GetMany(ctx, keys)
	if err != nil {
		e.logger.LogAttrs(ctx, slog.LevelDebug, "cache read failed; reading from Workable", slog.Any("err", err))
		return entries, false
	}
	return entries, true
}

// setMany writes items to the cache, logging a failure: the answer is good
// without the cache.
func (e *economy) setMany(ctx context.Context, items []cache.Item) {
	if e.store == nil || len(items) == 0 {
		return
	}
	if err := e.store.SetMany(ctx, items); err != nil {
		e.logger.LogAttrs(ctx, slog.LevelDebug, "cache write failed", slog.Any("err", err))
	}
}

// generations returns the current token of every generation among lks. A
// token missing from a successful read is created with SetIfAbsent, so that
// concurrent first readers agree on one token (and coalesce their fetches),
// and so that entries made under a token that was evicted never count
// again. When the cache cannot be read the token is "", which no stored
// entry carries as a current token, so nothing is trusted.
func (e *economy) generations(ctx context.Context, lks []lookup, entries map[string]cache.Entry, readOK bool) map[string]string {
	gens := make(map[string]string, len(lks))
	var created []cache.Item
	for _, lk := range lks {
		if _, done := gens[lk.genKey]; done {
			continue
		}
		if ent, ok := entries[lk.genKey]; ok {
			gens[lk.genKey] = string(ent.Value)
			continue
		}
		gens[lk.genKey] = ""
		if readOK {
			created = append(created, genItem(lk.genKey, newGeneration()))
		}
	}
	if len(created) == 0 {
		return gens
	}
	held, err := e.store.SetIfAbsent(ctx, created)
	if err != nil {
		e.logger.LogAttrs(ctx, slog.LevelDebug, "cache write failed", slog.Any("err", err))
	}
	for k, ent := range held {
		gens[k] = string(ent.Value)
	}
	return gens
}

// newGeneration returns a fresh generation token (never "").
func newGeneration() string {
	return strconv.FormatUint(rand.Uint64()|1, 36)
}

// genItem is the cache item of a generation token.
func genItem(key, gen string) cache.Item {
	return cache.Item{Key: key, Value: []byte(gen), FreshFor: genTTL}
}

// listsGenKey is the key of the candidate lists generation.
func (e *economy) listsGenKey() string {
	return cache.Key(e.ns, cache.KindGeneration, listsGenID)
}

// candidateGenKey is the key of one candidate's generation (its detail and
// activities).
func (e *economy) candidateGenKey(id string) string {
	return cache.Key(e.ns, cache.KindGeneration, "c:"+id)
}

// item encodes v as the cache item of kind/id made under generation gen,
// with the kind's jittered TTLs.
func (e *economy) item(kind cache.Kind, id, gen string, v any) (cache.Item, error) {
	b, err := encodeValue(gen, v)
	if err != nil {
		return cache.Item{}, err
	}
	return e.ttls.For(kind).Item(cache.Key(e.ns, kind, id), b), nil
}

// minFresh is the shortest fresh time an entry of kind can get (its fresh
// TTL less the jitter).
func (e *economy) minFresh(kind cache.Kind) time.Duration {
	t := e.ttls.For(kind)
	return time.Duration(float64(t.Fresh) * (1 - min(max(t.Jitter, 0), 1)))
}

// encodeValue lays out a cached value as its generation token, a newline
// and the JSON of v.
func encodeValue(gen string, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(gen)+1+len(b))
	out = append(out, gen...)
	out = append(out, '\n')
	return append(out, b...), nil
}

// decodeValue reverses encodeValue.
func decodeValue[V any](b []byte) (V, string, error) {
	var v V
	for i, c := range b {
		if c == '\n' {
			err := json.Unmarshal(b[i+1:], &v)
			return v, string(b[:i]), err
		}
	}
	return v, "", errCorruptValue
}

var errCorruptValue = errors.New("corrupt cached value")

// candidateWritten makes the cache show a candidate Workable has just
// created or updated (c is Workable's answer, detail fields included): it
// stores c as the candidate's detail instead of merely dropping it, and
// replaces the candidate lists generation (every cached candidate list,
// whose membership or fields the write may change) and the candidate's own
// generation (its detail and activities). c is not stored as the
// candidate's list item: a write answers with the detail, which lacks what
// only list items carry (resume_metadata, API.md §10); the list fields of
// candidate(id:) derive from the stored detail anyway. Jobs are not
// touched: a candidate write changes no job. The cache is written even if
// the caller has gone away, since the write happened. A failure is logged:
// the cached lists then show the old data until their fresh TTL ends.
func (e *economy) candidateWritten(ctx context.Context, c *workable.Candidate) {
	if e.store == nil || c == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	listsGen, candGen := newGeneration(), newGeneration()
	items := []cache.Item{genItem(e.listsGenKey(), listsGen), genItem(e.candidateGenKey(c.ID), candGen)}
	// The new generations alone invalidate the old copies; the new copies
	// spare the next reader a call.
	if detail, err := e.item(cache.KindCandidate, detailID(c.ID), candGen, c); err == nil {
		items = append(items, detail)
	}
	if err := e.store.SetMany(ctx, items); err != nil {
		e.logger.LogAttrs(ctx, slog.LevelWarn, "cache invalidation after a candidate write failed; cached lists may show old data until they expire",
			slog.Any("err", err))
	}
}

// candidateMaybeWritten invalidates what a write whose outcome is unknown
// (workable.ErrOutcomeUnknown) may have changed, with no answer to store:
// the candidate lists and, for an update (id != ""), the candidate's detail
// and activities.
func (e *economy) candidateMaybeWritten(ctx context.Context, id string) {
	if e.store == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	items := []cache.Item{genItem(e.listsGenKey(), newGeneration())}
	if id != "" {
		items = append(items, genItem(e.candidateGenKey(id), newGeneration()))
	}
	if err := e.store.SetMany(ctx, items); err != nil {
		e.logger.LogAttrs(ctx, slog.LevelWarn, "cache invalidation after an uncertain candidate write failed", slog.Any("err", err))
	}
}

// candidatesChanged invalidates what a write changed when Workable's answer
// does not carry the candidate (the hiring actions: move, comment, …), or
// when its outcome is unknown: the candidate lists generation (list pages
// show a candidate's stage, state and updated_at, and it also guards the
// job activity pages, where a new activity appears) and the generation of
// each of ids (its detail and its activities). Nothing is stored: the next
// reader fetches the new state.
func (e *economy) candidatesChanged(ctx context.Context, ids ...string) {
	if e.store == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	items := []cache.Item{genItem(e.listsGenKey(), newGeneration())}
	for _, id := range ids {
		if id != "" {
			items = append(items, genItem(e.candidateGenKey(id), newGeneration()))
		}
	}
	if err := e.store.SetMany(ctx, items); err != nil {
		e.logger.LogAttrs(ctx, slog.LevelWarn, "cache invalidation after a candidate action failed; cached data may show the old state until it expires",
			slog.Any("err", err))
	}
}

// middleware gives each request its state (dataloaders, cost counters) and,
// with the response cache on, answers repeated queries from it.
func (e *economy) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.serve(w, r, next)
	})
}

// serve runs one request with e as its economy.
func (e *economy) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	rs := &reqState{econ: e, stats: telemetry.StatsFrom(r.Context()), ordinal: e.requests.Add(1)}
	if vals := r.Header.Values("Idempotency-Key"); len(vals) > 0 {
		rs.idempotencyKey, rs.idempotencyKeys = vals[0], len(vals)
	}
	r = r.WithContext(context.WithValue(r.Context(), reqStateKey{}, rs))
	if e.responses {
		e.serveWithResponseCache(w, r, rs, next)
		return
	}
	rs.loaders = newLoaders(e, rs)
	next.ServeHTTP(w, r)
}

// costExtension adds extensions.cost to every executed operation's
// response: {workableCalls, cacheHits, cacheMisses, stale}, counted for this
// GraphQL request only; and, when stale copies were served,
// extensions.stale = true with extensions.staleData naming them. Each
// RATE_LIMITED error gets its retry hints (addRetryHints). With @defer,
// every part carries the cost so far.
type costExtension struct{}

var (
	_ graphql.HandlerExtension    = costExtension{}
	_ graphql.ResponseInterceptor = costExtension{}
)

// ExtensionName implements graphql.HandlerExtension.
func (costExtension) ExtensionName() string { return "WorkableCost" }

// Validate implements graphql.HandlerExtension.
func (costExtension) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse implements graphql.ResponseInterceptor.
func (costExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	rs := stateFrom(ctx)
	if resp == nil || rs == nil {
		return resp
	}
	if graphql.HasOperationContext(ctx) {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Query {
			rs.mu.Lock()
			rs.query = true
			rs.operation = telemetry.OperationLabel(ctx)
			rs.mu.Unlock()
		}
	}
	if resp.Extensions == nil {
		resp.Extensions = make(map[string]any, 3)
	}
	resp.Extensions["cost"] = rs.cost()
	rs.addRetryHints(ctx, resp)
	if rs.stale.Load() > 0 {
		rs.mu.Lock()
		refs := slices.Clone(rs.staleRefs)
		rs.mu.Unlock()
		resp.Extensions["stale"] = true
		resp.Extensions["staleData"] = refs
	}
	return resp
}

// cost is the value of extensions.cost.
type cost struct {
	WorkableCalls int64 `json:"workableCalls"`
	CacheHits     int64 `json:"cacheHits"`
	CacheMisses   int64 `json:"cacheMisses"`
	Stale         int64 `json:"stale"`
}

func (rs *reqState) cost() cost {
	return cost{
		WorkableCalls: rs.calls.Load(),
		CacheHits:     rs.hits.Load(),
		CacheMisses:   rs.misses.Load(),
		Stale:         rs.stale.Load(),
	}
}
