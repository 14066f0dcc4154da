package upstream

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

	"github.com/graph-gophers/dataloader/v7"
	"go.opentelemetry.io/otel/trace"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/ctxkey"
	"github.com/workablegw/gateway/telemetry"
	"github.com/workablegw/gateway/workable"
)

const (
	// genTTL is how long a generation token is kept. It must outlive every
	// entry it guards (fresh + stale TTL, an hour by default); a token that
	// is gone anyway (evicted) is replaced by a new one on the next read,
	// which invalidates what it guarded rather than reviving older entries.
	genTTL = 7 * 24 * time.Hour
	// listsGenID is the id of the candidate lists generation.
	listsGenID = "cands"
	// jobsGenID is the id of the jobs generation.
	jobsGenID = "jobs"
)

// Economy is the read-through engine of one Workable credential: its
// client (and so its rate limiter), its cache namespace and its coalescing
// of fetches, shared by every request made with the credential. The
// credentials registry builds one per credential (New) and GraphQL finds
// the request's in its context (RequestFrom).
type Economy struct {
	client *workable.Client
	// nickname is the name of the credential whose client this is
	// ("default" for the credential of the environment).
	nickname string
	// memberID is the credential's default acting member ("" for none).
	memberID string
	// requests numbers the requests in arrival order: the first element of
	// the rank of their Workable calls (see Request.Ordinal).
	requests atomic.Int64
	store    cache.Store // nil: no cache
	ns       string
	// listsGen and jobsGen are the keys of the account-wide generations
	// (ListsGenKey, JobsGenKey), which nearly every read checks.
	listsGen, jobsGen string
	ttls              cache.TTLs
	logger            *slog.Logger
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
	// local is the decoded tier in front of the cache (local.go); nil for
	// none.
	local *localTier
	// pending are the invalidations the cache did not take yet
	// (pendinginvalidation.go).
	pending pendingInvalidations
}

// DefaultLoaderWait is how long a loader collects keys before calling its
// batch function when Config.LoaderWait is 0. gqlgen starts the resolvers of
// a list's items together, and the wait must outlast the spread of their
// Load calls, or a page's keys split into several batches (each one more
// cache round trip; the Workable calls stay the same, as the loaders'
// per-request cache and the coalescing dedupe them). Every level of a query
// whose keys must be read from the cache or fetched pays the wait once; a
// key the decoded tier answers pays none (see Local).
//
// Measured with BenchmarkLoaderWait (2 cores, warm record cache, response
// cache off, in-process cache and miniredis): the two two-level
// queries take 6.0–7.6 ms at 2 ms, 0.17–0.21 of their 34.5–36 ms at
// dataloader's 16 ms default, with 3.01–3.03 batches per 20-candidate
// detail query (3 is one per level). 1 ms takes 0.11–0.15 (sub-millisecond
// timers fire late, so 500 µs gains little more) with 3.02–3.07 batches;
// 100 µs 0.08–0.11 with 4.75. Under -race, of 30 cold detail queries 25–30
// split at 100 µs, 2–5 at 500 µs, none at 1 ms or 2 ms; as 2 ms still
// splits now and then on a loaded 2-core machine, it is kept rather than
// shortened.
const DefaultLoaderWait = 2 * time.Millisecond

// Config holds what every credential's Economy shares.
type Config struct {
	// Cache stores Workable answers (see the cache package); nil caches
	// nothing, but concurrent identical fetches are still made once.
	Cache cache.Store
	// NamespacePrefix is put before the namespace of every credential
	// (CACHE_PREFIX; see Namespace).
	NamespacePrefix string
	// TTLs sets how long each kind of data stays fresh, then stale but
	// servable when Workable fails; the zero value means cache.DefaultTTLs().
	TTLs cache.TTLs
	// ResponseCache also caches whole responses of queries (keyed by the
	// request's bytes and the namespace), invalidated per record by the same
	// generations as the data. It needs Cache.
	ResponseCache bool
	// LoaderWait is how long a per-request dataloader collects keys before
	// it makes its batch (one cache multi-get, then Workable for the
	// misses); 0 or less means DefaultLoaderWait. Longer catches more of a
	// page in one batch on a slow or busy host, shorter adds less latency
	// to each level of a query.
	LoaderWait time.Duration
	// Logger receives cache failures, stale answers and panics of shared
	// fetches; nil discards.
	Logger *slog.Logger
	// Observer receives cache hits, misses and stale answers for metrics
	// (a *telemetry.Metrics); nil observes nothing.
	Observer Observer
	// TracerProvider, when set, gets a span per dataloader batch and per
	// cache call; nil makes none.
	TracerProvider trace.TracerProvider
	// LocalTierBytes bounds the in-process tier of decoded values in front
	// of Cache (see localTier), counted in their encoded size: 0 means
	// DefaultLocalTierBytes, a negative value turns the tier off.
	LocalTierBytes int64
}

// Namespace returns the cache namespace of the credential with subdomain
// and token: NamespacePrefix + cache.Namespace(subdomain, token), so that
// two accounts or tokens sharing a Redis never see each other's data, and
// two credentials with the same subdomain and token share their entries.
func (c Config) Namespace(subdomain, token string) string {
	return c.NamespacePrefix + cache.Namespace(subdomain, token)
}

// Credential is what an Economy knows of its Workable credential.
type Credential struct {
	// Nickname names the credential ("default" for the environment's).
	Nickname string
	// Namespace starts every cache key of the credential
	// (Config.Namespace).
	Namespace string
	// MemberID is the member the credential's writes act as when a write
	// names none ("" for none).
	MemberID string
}

// New returns the Economy of cred, reading Workable with client. For
// extensions.cost to count Workable calls, client must have been built with
// workable.WithRequestHook(CountWorkableCalls). It panics if cfg.Cache is
// set without a namespace.
func New(cfg Config, cred Credential, client *workable.Client) *Economy {
	if cfg.Cache != nil && cred.Namespace == "" {
		panic("upstream: a cache needs a namespace (Config.Namespace)")
	}
	e := &Economy{
		client:     client,
		nickname:   cred.Nickname,
		memberID:   cred.MemberID,
		store:      traceStore(cfg.Cache, cfg.TracerProvider),
		ns:         cred.Namespace,
		ttls:       cfg.TTLs,
		logger:     cfg.Logger,
		responses:  cfg.ResponseCache && cfg.Cache != nil,
		obs:        cfg.Observer,
		tp:         cfg.TracerProvider,
		loaderWait: cfg.LoaderWait,
	}
	e.listsGen = cache.Key(e.ns, cache.KindGeneration, listsGenID)
	e.jobsGen = cache.Key(e.ns, cache.KindGeneration, jobsGenID)
	if cfg.Cache != nil {
		e.local = newLocalTier(cfg.LocalTierBytes)
	}
	if e.loaderWait <= 0 {
		e.loaderWait = DefaultLoaderWait
	}
	if e.ttls == (cache.TTLs{}) {
		e.ttls = cache.DefaultTTLs()
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	return e
}

// Client returns the credential's Workable client.
func (e *Economy) Client() *workable.Client { return e.client }

// Nickname returns the credential's nickname.
func (e *Economy) Nickname() string { return e.nickname }

// MemberID returns the member the credential's writes act as when a write
// names none ("" for none).
func (e *Economy) MemberID() string { return e.memberID }

// Namespace returns the credential's cache namespace.
func (e *Economy) Namespace() string { return e.ns }

// LoaderWait returns how long a request's loader collects keys.
func (e *Economy) LoaderWait() time.Duration { return e.loaderWait }

// Caches reports whether the Economy has a cache (extra entries built with
// Item are worth making).
func (e *Economy) Caches() bool { return e.store != nil }

// DropCache deletes every cache entry under the credential's namespace.
func (e *Economy) DropCache(ctx context.Context) error {
	if e.store == nil {
		return nil
	}
	e.local.clear()
	return e.store.DeletePrefix(ctx, e.ns)
}

// Request is the per-request part: what the request cost, what its
// response was built from and what it could not fetch. It travels in the
// context (see RequestFrom).
type Request struct {
	// econ is the Economy of the request's Workable credential.
	econ *Economy

	// ordinal is the request's place in arrival order (Economy.requests).
	ordinal int64

	calls, hits, misses, stale atomic.Int64
	// wrote is set once the request has written to Workable: from then on
	// it reads through batches only (see Local).
	wrote atomic.Bool
	// stats is the request's log line counters (telemetry.RequestStats),
	// fed with the same counts as extensions.cost; nil outside a request.
	stats *telemetry.RequestStats

	mu        sync.Mutex
	staleRefs []StaleRef
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
	// NoteServed), for extensions.workableCallsNeeded.
	needed map[string]struct{}
	// gens are the generation tokens the request has read (token key →
	// value), the first read of each (see Local).
	gens map[string]string
	// looked are the cache keys the request has looked up (see
	// firstLookup).
	looked map[string]struct{}
	// genReads are the reads of generation tokens made by Local.
	genReads map[string]*genRead
	// order makes the request's calls join the rate limiter in rank order
	// across batches (see joinOrder).
	order joinOrder
}

// StaleRef names one stale answer served, for extensions.staleData.
type StaleRef struct {
	Kind string `json:"kind"`
	// ID is the opaque reference of the stale entry (Economy.StaleID), never
	// its cache id: a list's cache id holds the query's filters, which may
	// be personal data (an e-mail address).
	ID string `json:"id"`
}

// staleIDLen is the length of a stale entry's reference, in hex digits (48
// bits: enough to tell the entries of one response apart and to find the
// log line of a stale answer, too short to serve as a key).
const staleIDLen = 12

// StaleID returns the reference of the cached entry kind/id shown in
// extensions.staleData and in the log line of a stale answer: the first
// staleIDLen hex digits of HMAC-SHA256(namespace, kind NUL id). Keyed with
// the credential's namespace (a digest of its token), it cannot be reversed
// by trying likely filters (e-mail addresses) without knowing the token,
// and it is the same on every replica sharing a credential, so a client's
// staleData matches the gateways' log lines.
func (e *Economy) StaleID(kind cache.Kind, id string) string {
	m := hmac.New(sha256.New, []byte(e.ns))
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return hex.EncodeToString(m.Sum(nil))[:staleIDLen]
}

// requestKey carries a request's state in its context.
var requestKey = ctxkey.New[*Request]("upstream.Request")

// RequestFrom returns the request state in ctx, or nil outside a request.
func RequestFrom(ctx context.Context) *Request { return requestKey.Get(ctx) }

// CountWorkableCalls is a workable.WithRequestHook hook that counts each
// Workable attempt in the calling GraphQL request's extensions.cost. Pass it
// to workable.NewClient for the client given to NewHandler.
//
// A fetch coalesced across requests runs on the context of the request that
// started it (detached from its cancellation, see Economy.shared), so only
// that request counts the call; the others waited for it and count 0 calls
// for it, which is the call they saved.
//
// It is also the one source of the request log line's workable_calls
// (telemetry.RequestStats, also for calls made outside GraphQL execution),
// so the log and extensions.cost always agree.
func CountWorkableCalls(ctx context.Context, _ workable.RequestEvent) {
	if rs := RequestFrom(ctx); rs != nil {
		rs.calls.Add(1)
	}
	telemetry.StatsFrom(ctx).WorkableCalls.Add(1)
}

// dep records that the response used data guarded by the generation token
// genKey=gen (genKey "" for none) and fresh until freshUntil.
func (rs *Request) dep(genKey, gen string, freshUntil time.Time) {
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
// reference (Economy.StaleID), never its cache id.
func (rs *Request) markStale(kind cache.Kind, ref string) {
	if rs == nil {
		return
	}
	rs.stale.Add(1)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.staleRefs = append(rs.staleRefs, StaleRef{Kind: string(kind), ID: ref})
	rs.uncacheable = true
}

// NoResponseCache marks the response as not cacheable as a whole.
func (rs *Request) NoResponseCache() {
	if rs == nil {
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.uncacheable = true
}

// Spec describes one kind of cached read for Batch.
type Spec[K comparable, V any] struct {
	Kind cache.Kind
	// ID is the canonical id of k within its kind.
	ID func(K) string
	// Gen returns the key of the generation token guarding k's entry, or
	// nil when the kind has none.
	Gen func(K) string
	// Fetch reads k from Workable (or, for derived kinds, through other
	// loaders). gen is the token the value will be stored under; Fetch
	// returns extra entries to store along with it (e.g. each job of a
	// jobs page), built with Economy.Item.
	Fetch func(ctx context.Context, k K, gen string) (V, []cache.Item, error)
	// Derived kinds are computed from other loaders, which do the caching,
	// coalescing and stale fallback themselves: a derived miss is neither
	// stored nor coalesced here.
	Derived bool
	// Rank returns the rank k was asked for at; nil ranks nothing. The
	// misses of a batch are fetched in rank order, each at its own rank in
	// the rate limiter's queue, once the keys of the request announced at
	// lower ranks have their places (see joinOrder).
	Rank func(K) workable.Rank
	// Placed, if set, is called for each key of a batch once it needs no
	// Workable call (a hit) or its fetch has its place in the rate
	// limiter's queue (or ended); it may be called more than once.
	Placed func(K)
}

// lookup is one key of a batch.
type lookup struct {
	key, genKey, gen string
}

// Batch returns the batch function of a loader of sp: cache GetMany
// (entries and their generation tokens in one round trip), then one shared
// fetch per miss, at most maxParallelFetches at a time and in rank order,
// falling back to an expired copy when the fetch fails transiently.
//
// The batch answers at once, with one pending value per key: a hit is
// resolved already, a miss when its own fetch ends. So a field waits for
// its own key only, and with @defer the part of the first item of a page
// is sent as soon as its calls are made, not when the last item's are.
func Batch[K comparable, V any](e *Economy, rs *Request, sp Spec[K, V]) dataloader.BatchFunc[K, *Pending[V]] {
	return func(ctx context.Context, keys []K) []*dataloader.Result[*Pending[V]] {
		ctx, span := e.startSpan(ctx, "dataloader "+string(sp.Kind),
			cacheKindKey.String(string(sp.Kind)), batchSizeKey.Int(len(keys)), derivedKey.Bool(sp.Derived))
		now := time.Now()
		lks := make([]lookup, len(keys))
		want := make([]string, 0, 2*len(keys))
		// locals holds the fresh values of the decoded tier: their shared
		// entries are not read, only their generations.
		var locals []*localEntry
		for i, k := range keys {
			lks[i].key = cache.Key(e.ns, sp.Kind, sp.ID(k))
			rs.firstLookup(lks[i].key)
			if sp.Gen != nil {
				lks[i].genKey = sp.Gen(k)
				want = append(want, lks[i].genKey)
			}
			if le := e.local.get(lks[i].key); le != nil && now.Before(le.freshUntil) {
				if _, ok := le.v.(V); ok {
					if locals == nil {
						locals = make([]*localEntry, len(keys))
					}
					locals[i] = le
					continue
				}
			}
			want = append(want, lks[i].key)
		}
		entries, readOK := e.getMany(ctx, want)
		if sp.Gen != nil {
			gens := e.generations(ctx, lks, entries, readOK)
			for i := range lks {
				lks[i].gen = gens[lks[i].genKey]
				if lks[i].gen != "" {
					rs.noteGen(lks[i].genKey, lks[i].gen)
				}
			}
		}

		results := make([]*dataloader.Result[*Pending[V]], len(keys))
		stale := make([]*V, len(keys))
		var missIdx []int
		for i := range keys {
			if locals != nil && locals[i] != nil {
				if le := locals[i]; le.gen == lks[i].gen {
					results[i] = &dataloader.Result[*Pending[V]]{Data: Resolved(le.v.(V), nil)}
					rs.dep(lks[i].genKey, lks[i].gen, le.freshUntil)
					continue
				}
				// Made under a generation a write has replaced: a
				// plain miss, whose shared fetch reads the cache again.
				missIdx = append(missIdx, i)
				continue
			}
			if ent, ok := entries[lks[i].key]; ok {
				if v, gen, err := decodeEntry[V](e, lks[i].key, ent); err == nil {
					if gen != lks[i].gen {
						// Made under a generation a write has
						// replaced (or that was lost): obsolete, a
						// plain miss, never a stale fallback.
						missIdx = append(missIdx, i)
						continue
					}
					if ent.IsFresh(now) {
						results[i] = &dataloader.Result[*Pending[V]]{Data: Resolved(v, nil)}
						rs.dep(lks[i].genKey, lks[i].gen, ent.FreshUntil)
						continue
					}
					stale[i] = &v
				}
			}
			missIdx = append(missIdx, i)
		}
		misses := 0
		if e.store != nil && !sp.Derived {
			misses = len(missIdx)
		}
		e.countLookups(rs, sp.Kind, len(keys)-len(missIdx), misses)
		if sp.Placed != nil {
			for i, k := range keys {
				if results[i] != nil {
					sp.Placed(k)
				}
			}
		}
		if len(missIdx) == 0 {
			span.End()
			return results
		}
		for _, i := range missIdx {
			results[i] = &dataloader.Result[*Pending[V]]{Data: NewPending[V]()}
		}
		var ranks []workable.Rank
		if sp.Rank != nil {
			ranks = make([]workable.Rank, len(keys))
			for _, i := range missIdx {
				ranks[i] = sp.Rank(keys[i])
			}
			slices.SortStableFunc(missIdx, func(a, b int) int { return ranks[a].Compare(ranks[b]) })
		}
		done := startEach(len(missIdx), func(j int, queued func()) {
			i := missIdx[j]
			placed := queued
			if sp.Placed != nil {
				placed = func() {
					queued()
					sp.Placed(keys[i])
				}
				defer sp.Placed(keys[i])
			}
			if sp.Derived {
				// Reads other loaders, which order their own calls.
				placed()
			}
			v, err := func() (v V, err error) {
				// A panic here would end the process (it is not the
				// resolver's goroutine, which gqlgen recovers): make it
				// this key's error.
				defer func() {
					if p := recover(); p != nil {
						err = fmt.Errorf("%w: %v", ErrFetchPanicked, p)
					}
				}()
				fctx := workable.WithOnQueued(ctx, placed)
				if ranks != nil {
					fctx = workable.WithRank(fctx, ranks[i])
					fctx = withJoinTurn(fctx, rs, ranks[i])
				}
				return fetchOne(fctx, e, sp, keys[i], lks[i])
			}()
			switch {
			case err == nil:
				if !sp.Derived {
					rs.dep(lks[i].genKey, lks[i].gen, now.Add(e.minFresh(sp.Kind)))
				}
			case stale[i] != nil && staleWorthy(err):
				// Never the entry's id (a list's holds the query's
				// filters, personal data), nor the error (whose text
				// names the request): its reference and the error's
				// class only.
				ref := e.StaleID(sp.Kind, sp.ID(keys[i]))
				e.logger.LogAttrs(ctx, slog.LevelWarn, "serving a stale copy: Workable did not answer",
					slog.String("kind", string(sp.Kind)), slog.String("ref", ref), slog.String("reason", staleReason(err)))
				v, err = *stale[i], nil
				e.servedStale(rs, sp.Kind, ref)
			}
			if !sp.Derived {
				rs.NoteServed(lks[i].key, err)
			}
			results[i].Data.Resolve(v, err)
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
func fetchOne[K comparable, V any](ctx context.Context, e *Economy, sp Spec[K, V], k K, lk lookup) (V, error) {
	if sp.Derived {
		v, _, err := sp.Fetch(ctx, k, lk.gen)
		return v, err
	}
	v, err := e.shared(ctx, lk.key+"\x00"+lk.gen, func(ctx context.Context) (any, error) {
		if e.store != nil {
			if v, ok := cachedFresh[V](ctx, e, lk); ok {
				return v, nil
			}
		}
		// Across replicas: one of them fetches, the others wait for its
		// answer in the cache (coalesce.go).
		v, found, release := awaitReplica[V](ctx, e, sp.Gen != nil, lk)
		defer release()
		if found {
			return v, nil
		}
		if err := awaitJoinTurn(ctx); err != nil {
			return nil, err
		}
		v, items, err := sp.Fetch(ctx, k, lk.gen)
		if err != nil {
			return nil, err
		}
		// A key whose generation could not be read (the cache failed) is
		// not stored: under no token, it would replace a good entry with
		// one nobody can use.
		if e.store != nil && (sp.Gen == nil || lk.gen != "") {
			it, err := e.Item(sp.Kind, sp.ID(k), lk.gen, v)
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

// ErrFetchPanicked is the error of a shared fetch that panicked; the panic
// itself is logged, never shown to a client (it classifies as INTERNAL).
var ErrFetchPanicked = errors.New("shared fetch failed unexpectedly")

// shared runs fn once for all concurrent callers with the same key. fn runs
// detached from the cancellation of the caller that started it, bounded by
// that caller's deadline, so that one client disconnecting does not fail
// the others; each caller still stops waiting when its own context ends. A
// caller that joins a fetch already running takes no place in the rate
// limiter's queue: it is told so at once (workable.NotifyQueued), so that
// the calls started after it need not wait for that fetch.
//
// Clients that hung up cause no Workable call: while the fetch has sent
// nothing (it waits for the rate budget, or for another replica's fetch),
// the last caller to leave cancels it, which gives up its place in the
// rate limiter's queue, and a later caller starts a fetch of its own. Once
// one of its calls was sent (workable.WithSendGate) the fetch completes and
// stores its answer whoever still waits, so that no answer Workable was
// asked for is lost.
//
// A panic in fn is recovered, logged with its stack and returned to every
// caller as ErrFetchPanicked: fn runs in a goroutine of its own, where a
// panic would be out of reach of any handler's recovery and crash the
// process.
func (e *Economy) shared(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	e.flightMu.Lock()
	f, joined := e.flights[key]
	if !joined {
		f = &flight{done: make(chan struct{})}
		if e.flights == nil {
			e.flights = make(map[string]*flight)
		}
		e.flights[key] = f
		fctx := context.WithoutCancel(ctx)
		var stopDeadline context.CancelFunc = func() {}
		if dl, ok := ctx.Deadline(); ok {
			fctx, stopDeadline = context.WithDeadline(fctx, dl)
		}
		fctx, cancel := context.WithCancel(fctx)
		f.cancel = func() { cancel(); stopDeadline() }
		fctx = workable.WithSendGate(fctx, func() bool { return e.send(f) })
		go e.run(fctx, key, f, fn)
	}
	f.waiters++
	e.flightMu.Unlock()
	if joined {
		workable.NotifyQueued(ctx)
	}
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		e.leave(key, f)
		return nil, ctx.Err()
	}
}

// flight is one fetch of shared, with its outcome once done is closed.
type flight struct {
	done chan struct{}
	val  any
	err  error
	// Guarded by Economy.flightMu: the callers still waiting; sent once a
	// call of the fetch went to Workable; abandoned once every caller left
	// before that. cancel ends the fetch's context.
	waiters   int
	sent      bool
	abandoned bool
	cancel    context.CancelFunc
}

// leave records that a caller of f stopped waiting. The last one abandons
// a fetch that has sent nothing yet: it is cancelled and forgotten.
func (e *Economy) leave(key string, f *flight) {
	e.flightMu.Lock()
	defer e.flightMu.Unlock()
	f.waiters--
	if f.waiters > 0 || f.sent || f.abandoned {
		return
	}
	f.abandoned = true
	if e.flights[key] == f {
		delete(e.flights, key)
	}
	f.cancel()
}

// send is the send gate of f's calls: a fetch not abandoned may send, and
// from then on is never abandoned.
func (e *Economy) send(f *flight) bool {
	e.flightMu.Lock()
	defer e.flightMu.Unlock()
	if f.abandoned {
		return false
	}
	f.sent = true
	return true
}

// run runs the fetch of f (see shared) and forgets it when it ends, so that
// a later caller starts a new one.
func (e *Economy) run(ctx context.Context, key string, f *flight, fn func(context.Context) (any, error)) {
	defer func() {
		if p := recover(); p != nil {
			e.logger.LogAttrs(ctx, slog.LevelError, "shared Workable fetch panicked",
				slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
			f.val, f.err = nil, ErrFetchPanicked
		}
		e.flightMu.Lock()
		if e.flights[key] == f {
			delete(e.flights, key)
		}
		e.flightMu.Unlock()
		f.cancel()
		close(f.done)
	}()
	f.val, f.err = fn(ctx)
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
func (e *Economy) getMany(ctx context.Context, keys []string) (map[string]cache.Entry, bool) {
	if e.store == nil || len(keys) == 0 {
		return nil, e.store != nil
	}
	if e.hasPending() && !e.applyPending(ctx) {
		// An invalidation made during an outage is not in the cache yet:
		// what the cache holds may predate it, so nothing is trusted.
		return nil, false
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
func (e *Economy) setMany(ctx context.Context, items []cache.Item) {
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
func (e *Economy) generations(ctx context.Context, lks []lookup, entries map[string]cache.Entry, readOK bool) map[string]string {
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

// ListsGenKey is the key of the candidate lists generation.
func (e *Economy) ListsGenKey() string { return e.listsGen }

// CandidateGenKey is the key of one candidate's generation (its detail and
// activities).
func (e *Economy) CandidateGenKey(id string) string {
	return cache.Key(e.ns, cache.KindGeneration, "c:"+id)
}

// item encodes v as the cache item of kind/id made under generation gen,
// with the kind's jittered TTLs.
func (e *Economy) Item(kind cache.Kind, id, gen string, v any) (cache.Item, error) {
	b, err := encodeValue(gen, v)
	if err != nil {
		return cache.Item{}, err
	}
	return e.ttls.For(kind).Item(cache.Key(e.ns, kind, id), b), nil
}

// minFresh is the shortest fresh time an entry of kind can get (its fresh
// TTL less the jitter).
func (e *Economy) minFresh(kind cache.Kind) time.Duration {
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

// CandidateWritten makes the cache show a candidate Workable has just
// created or updated (c is Workable's answer, detail fields included): it
// stores c as the candidate's detail instead of merely dropping it, and
// replaces the candidate lists generation (every cached candidate list,
// whose membership or fields the write may change) and the candidate's own
// generation (its detail and activities). c is not stored as the
// candidate's list item: a write answers with the detail, which lacks what
// only list items carry (resume_metadata, API.md §10); the list fields of
// candidate(id:) derive from the stored detail anyway. Jobs are not
// touched: a candidate write changes no job. The cache is written even if
// the caller has gone away, since the write happened. A failure is logged,
// and the invalidation recorded and applied as soon as the cache answers
// (see pendingInvalidations).
func (e *Economy) CandidateWritten(ctx context.Context, c *workable.Candidate) {
	RequestFrom(ctx).markWrote()
	if e.store == nil || c == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	listsGen, candGen := newGeneration(), newGeneration()
	items := []cache.Item{genItem(e.ListsGenKey(), listsGen), genItem(e.CandidateGenKey(c.ID), candGen)}
	// The new generations alone invalidate the old copies; the new copies
	// spare the next reader a call.
	if detail, err := e.Item(cache.KindCandidate, DetailID(c.ID), candGen, c); err == nil {
		items = append(items, detail)
	}
	if err := e.invalidate(ctx, items); err != nil {
		e.logger.LogAttrs(ctx, slog.LevelWarn, "cache invalidation after a candidate write failed; recorded, to be applied when the cache answers",
			slog.Any("err", err))
	}
}

// CandidatesChanged invalidates what a write changed when Workable's answer
// does not carry the candidate (the hiring actions: move, comment, …), or
// when its outcome is unknown (workable.ErrOutcomeUnknown: a create names
// no candidate, an update its own): the candidate lists generation (list pages
// show a candidate's stage, state and updated_at, and it also guards the
// job activity pages, where a new activity appears) and the generation of
// each of ids (its detail and its activities). Nothing is stored: the next
// reader fetches the new state.
func (e *Economy) CandidatesChanged(ctx context.Context, ids ...string) {
	RequestFrom(ctx).markWrote()
	if err := e.InvalidateCandidates(ctx, ids...); err != nil {
		e.logger.LogAttrs(ctx, slog.LevelWarn, "cache invalidation after a candidate action failed; recorded, to be applied when the cache answers",
			slog.Any("err", err))
	}
}

// Serve runs one request with e as its Economy: it gives the request its
// state (cost counters, what the response was built from) and, with the
// response cache on, answers repeated queries from it; next runs only when
// the request is executed. inParts reports whether a request is answered as
// a stream of parts (@defer, Server-Sent Events), which is not one body to
// cache; it is asked only with the response cache on.
func (e *Economy) Serve(w http.ResponseWriter, r *http.Request, next http.Handler, inParts func(*http.Request) bool) {
	ctx, rs := e.begin(r.Context())
	r = r.WithContext(ctx)
	if e.responses && !inParts(r) {
		e.serveWithResponseCache(w, r, rs, next)
		return
	}
	next.ServeHTTP(w, r)
}

// NewRequest returns ctx carrying a new request state on e, for running
// resolvers outside Serve (tests).
func (e *Economy) NewRequest(ctx context.Context) context.Context {
	ctx, _ = e.begin(ctx)
	return ctx
}

// begin returns ctx carrying a new request state on e.
func (e *Economy) begin(ctx context.Context) (context.Context, *Request) {
	rs := &Request{econ: e, stats: telemetry.StatsFrom(ctx), ordinal: e.requests.Add(1)}
	return requestKey.With(ctx, rs), rs
}

// Economy returns the economy of the request's credential (nil for a nil
// Request).
func (rs *Request) Economy() *Economy {
	if rs == nil {
		return nil
	}
	return rs.econ
}

// Ordinal returns the request's place in arrival order among the requests
// of its credential.
func (rs *Request) Ordinal() int64 {
	if rs == nil {
		return 0
	}
	return rs.ordinal
}

// MarkQuery records that the request is a query with operation label op
// (telemetry.OperationLabel): only a query's response may be cached whole.
func (rs *Request) MarkQuery(op string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.query = true
	rs.operation = op
}

// StaleRefs returns the stale answers served so far, for
// extensions.staleData.
func (rs *Request) StaleRefs() []StaleRef {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return slices.Clone(rs.staleRefs)
}

// Cost is the value of extensions.cost.
type Cost struct {
	WorkableCalls int64 `json:"workableCalls"`
	CacheHits     int64 `json:"cacheHits"`
	CacheMisses   int64 `json:"cacheMisses"`
	Stale         int64 `json:"stale"`
}

// Cost returns what the request has cost so far.
func (rs *Request) Cost() Cost {
	return Cost{
		WorkableCalls: rs.calls.Load(),
		CacheHits:     rs.hits.Load(),
		CacheMisses:   rs.misses.Load(),
		Stale:         rs.stale.Load(),
	}
}
