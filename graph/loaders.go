package graph

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/workable"
)

// Per-request dataloaders. Every Workable read of a query goes through one of
// them, so a query never fetches the same thing twice and concurrent field
// resolvers share calls. Each batch function is a small method taking keys
// and returning values in key order; the cache layer slots in there
// (batch → cache GetMany → Workable for the misses → cache SetMany).

// DefaultLoaderWait is how long a loader collects keys before calling its
// batch function when Config.LoaderWait is 0. gqlgen starts the resolvers of
// a list's items together, and the wait must outlast the spread of their
// Load calls, or a page's keys split into several batches (each one more
// cache round trip; the Workable calls stay the same, as the loaders'
// per-request cache and the coalescing dedupe them). Every level of a query
// pays the wait once.
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
// shortened. TestDefaultLoaderWaitBatchesAColdPage guards it.
const DefaultLoaderWait = 2 * time.Millisecond

const (
	// maxParallelFetches bounds the fetches one batch runs at once. They
	// start in rank order and all wait for the rate budget together, so
	// that the limiter can serve the items of a page in list order: were
	// fewer queued than a window's worth of slots, a later item could take
	// a slot while an earlier one had not yet joined the queue. 100 is
	// Workable's largest page, so a page's items always queue together.
	maxParallelFetches = 100
	// jobIndexLimit is the page size of the jobs list used to resolve many
	// job references with one call.
	jobIndexLimit = 100
)

// page is one Workable list page: its items and whether more follow
// (paging.next was present).
type page[T any] struct {
	Items []*T
	More  bool
}

// jobPageKey identifies one GET /jobs call.
type jobPageKey struct {
	State        string
	CreatedAfter string // RFC 3339, "" when unset
	UpdatedAfter string
	SinceID      string
	Limit        int
	// WithText adds include_fields=description,full_description,requirements,benefits
	// (the jobTexts); the page's jobs carry those that Workable returned.
	WithText bool
}

// candidatePageKey identifies one GET /candidates call.
type candidatePageKey struct {
	Shortcode    string
	Stage        string
	Email        string
	CreatedAfter string // RFC 3339, "" when unset
	UpdatedAfter string
	SinceID      string
	Limit        int
}

// activityPageKey identifies one GET /candidates/{id}/activities call.
type activityPageKey struct {
	CandidateID string
	SinceID     string
	Limit       int
}

// loaders holds the dataloaders of one request. A loader shared across
// requests would leak one caller's data into another's response; the cache
// and the coalescing of fetches across requests live in the economy, below
// the loaders, and are keyed by credential.
type loaders struct {
	client *workable.Client
	e      *economy

	// candidate loads GET /candidates/{id} (detail); nil value for a 404.
	candidate *loader[string, *workable.Candidate]
	// candidateBasic loads a candidate's list fields: from a cached list
	// page's copy when there is one, else through candidate.
	candidateBasic *loader[string, *workable.Candidate]
	// jobDetail loads GET /jobs/{shortcode}; nil value for a 404.
	jobDetail *loader[string, *workable.Job]
	// job loads a job's list fields by shortcode; nil value when Workable
	// has no such job. See jobFromIndex for the strategy.
	job *loader[string, *workable.Job]

	jobPages       *loader[jobPageKey, page[workable.Job]]
	candidatePages *loader[candidatePageKey, page[workable.Candidate]]
	activityPages  *loader[activityPageKey, page[workable.Activity]]
}

// loader is a dataloader that remembers, per key, the rank of the field
// that asked for it (see rankOf): dataloader v7 calls a batch function with
// the context of one Load, so the rank of each key has to travel beside it
// for the batch to queue each key's Workable call at its own rank.
type loader[K comparable, V any] struct {
	*dataloader.Loader[K, *pending[V]]

	mu    sync.Mutex
	ranks map[K]workable.Rank
}

// prime makes key read as v for the rest of the request.
func (l *loader[K, V]) prime(ctx context.Context, key K, v V) {
	l.Clear(ctx, key)
	l.Prime(ctx, key, resolved(v, nil))
}

// pending is the value of one key of a batch, set once its fetch ends (see
// cachedBatch).
type pending[V any] struct {
	done chan struct{}
	v    V
	err  error
}

func newPending[V any]() *pending[V] { return &pending[V]{done: make(chan struct{})} }

// resolved returns a pending value that is already set.
func resolved[V any](v V, err error) *pending[V] {
	p := newPending[V]()
	p.resolve(v, err)
	return p
}

// resolve sets the value; it is called once.
func (p *pending[V]) resolve(v V, err error) {
	p.v, p.err = v, err
	close(p.done)
}

// wait returns the value once it is set. It does not give up when the
// request's context ends: the fetch ends then too (every fetch of a request
// runs under the request's deadline), and its outcome may still be a stale
// copy worth answering with.
func (p *pending[V]) wait() (V, error) {
	<-p.done
	return p.v, p.err
}

// noteRank records that key was asked for at rank r; a key asked for by
// several fields keeps the best rank.
func (l *loader[K, V]) noteRank(key K, r workable.Rank) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.ranks[key]; !ok || r.Compare(old) < 0 {
		l.ranks[key] = r
	}
}

// rank returns the rank key was asked for at (nil when unknown).
func (l *loader[K, V]) rank(key K) workable.Rank {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ranks[key]
}

// newCachedLoader returns a loader over cachedBatch(sp) whose batches rank
// their keys' Workable calls.
func newCachedLoader[K comparable, V any](e *economy, rs *reqState, sp spec[K, V]) *loader[K, V] {
	l := &loader[K, V]{ranks: make(map[K]workable.Rank)}
	sp.rank = l.rank
	l.Loader = dataloader.NewBatchedLoader(cachedBatch(e, rs, sp), dataloader.WithWait[K, *pending[V]](e.loaderWait))
	return l
}

// newLoaders returns a fresh set of loaders for one request, counting its
// cost in rs.
func newLoaders(e *economy, rs *reqState) *loaders {
	l := &loaders{client: e.client, e: e}
	listsGen := func(string) string { return e.listsGenKey() }
	l.candidate = newCachedLoader(e, rs, spec[string, *workable.Candidate]{
		kind: cache.KindCandidate, id: detailID, gen: e.candidateGenKey, fetch: l.fetchCandidate,
	})
	l.candidateBasic = newCachedLoader(e, rs, spec[string, *workable.Candidate]{
		kind: cache.KindCandidate, id: listedID, gen: listsGen, fetch: l.basicFromDetail, derived: true,
	})
	l.jobDetail = newCachedLoader(e, rs, spec[string, *workable.Job]{
		kind: cache.KindJob, id: detailID, fetch: l.fetchJobDetail,
	})
	l.job = newCachedLoader(e, rs, spec[string, *workable.Job]{
		kind: cache.KindJob, id: listedID, fetch: l.jobFromIndex, derived: true,
	})
	l.jobPages = newCachedLoader(e, rs, spec[jobPageKey, page[workable.Job]]{
		kind: cache.KindJobList, id: jobPageKey.canonical, fetch: l.fetchJobPage,
	})
	l.candidatePages = newCachedLoader(e, rs, spec[candidatePageKey, page[workable.Candidate]]{
		kind: cache.KindCandidateList, id: candidatePageKey.canonical,
		gen: func(candidatePageKey) string { return e.listsGenKey() }, fetch: l.fetchCandidatePage,
	})
	l.activityPages = newCachedLoader(e, rs, spec[activityPageKey, page[workable.Activity]]{
		kind: cache.KindActivities, id: activityPageKey.canonical,
		gen: func(k activityPageKey) string { return e.candidateGenKey(k.CandidateID) }, fetch: l.fetchActivityPage,
	})
	return l
}

// detailID and listedID are the cache ids of a record's full (detail) copy
// and of its list fields. A detail copy also serves the list fields.
func detailID(id string) string { return "d:" + id }
func listedID(id string) string { return "l:" + id }

// canonical encodes the key for a cache id (sorted, escaped, stable).
func (k jobPageKey) canonical() string {
	v := url.Values{}
	v.Set("state", k.State)
	v.Set("ca", k.CreatedAfter)
	v.Set("ua", k.UpdatedAfter)
	v.Set("since", k.SinceID)
	v.Set("limit", strconv.Itoa(k.Limit))
	v.Set("text", strconv.FormatBool(k.WithText))
	return v.Encode()
}

// canonical encodes the key for a cache id (sorted, escaped, stable).
func (k candidatePageKey) canonical() string {
	v := url.Values{}
	v.Set("job", k.Shortcode)
	v.Set("stage", k.Stage)
	v.Set("email", k.Email)
	v.Set("ca", k.CreatedAfter)
	v.Set("ua", k.UpdatedAfter)
	v.Set("since", k.SinceID)
	v.Set("limit", strconv.Itoa(k.Limit))
	return v.Encode()
}

// canonical encodes the key for a cache id (sorted, escaped, stable).
func (k activityPageKey) canonical() string {
	v := url.Values{}
	v.Set("since", k.SinceID)
	v.Set("limit", strconv.Itoa(k.Limit))
	return url.PathEscape(k.CandidateID) + "?" + v.Encode()
}

// loadersFor returns the request's loaders. Outside a request (a resolver
// called directly) it returns fresh loaders that dedupe nothing across calls
// but still work.
func (r *Resolver) loadersFor(ctx context.Context) *loaders {
	if rs := stateFrom(ctx); rs != nil && rs.loaders != nil {
		return rs.loaders
	}
	return newLoaders(r.econFor(ctx), &reqState{})
}

// econFor returns the economy of the request's Workable credential: the one
// the handler's middleware put in the request state, else the handler's
// single one (Config.Workable).
func (r *Resolver) econFor(ctx context.Context) *economy {
	if rs := stateFrom(ctx); rs != nil && rs.econ != nil {
		return rs.econ
	}
	return r.econ
}

// clientFor returns the Workable client of the request's credential.
func (r *Resolver) clientFor(ctx context.Context) *workable.Client {
	return r.econFor(ctx).client
}

// load reads one key, at the rank of the field asking (see rankOf).
// dataloader v7.1.0 has no NewSkipCacheError, so a transient failure (rate
// limit, upstream trouble) is cleared from the loader's cache here instead:
// a later read in the same request tries again.
func load[K comparable, V any](ctx context.Context, l *loader[K, V], key K) (V, error) {
	ctx = requestContext(ctx)
	l.noteRank(key, rankOf(ctx))
	p, err := l.Load(ctx, key)()
	var v V
	if err == nil {
		v, err = p.wait()
	}
	if err != nil && transient(err) {
		l.Clear(ctx, key)
	}
	return v, err
}

// transient reports whether err may go away on a retry.
func transient(err error) bool {
	return errors.Is(err, workable.ErrRateLimited) || errors.Is(err, workable.ErrUnavailable) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// primeCandidate records a candidate Workable just returned in full after a
// write (create, update): its detail fields cost no further call in this
// request, and the write invalidates what it changed in the cache (see
// candidateWritten).
func (r *Resolver) primeCandidate(ctx context.Context, c *workable.Candidate) {
	if c == nil {
		return
	}
	l := r.loadersFor(ctx)
	l.candidate.prime(ctx, c.ID, c)
	l.candidateBasic.prime(ctx, c.ID, c)
	r.econFor(ctx).candidateWritten(ctx, c)
}

// startEach runs run(0, …), …, run(n-1, …), each in a goroutine of its
// own, at most maxParallelFetches at a time, and in order: run(j+1) starts
// once run(j) has called its placed function (or returned). A run that
// makes a Workable call passes placed on with workable.WithOnQueued, so
// that the calls join the rate limiter's queue in this order, even while
// it has free slots, which it gives in arrival order. It returns at once;
// the channel is closed when every run has returned. run must not panic.
func startEach(n int, run func(j int, placed func())) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		sem := make(chan struct{}, maxParallelFetches)
		for j := range n {
			sem <- struct{}{}
			ready := make(chan struct{})
			var once sync.Once
			placed := func() { once.Do(func() { close(ready) }) }
			wg.Go(func() {
				defer func() { <-sem }()
				defer placed()
				run(j, placed)
			})
			<-ready
		}
		wg.Wait()
		close(done)
	}()
	return done
}

// fetchEach runs fetch for every key like startEach and returns the results
// in key order once all are done; a panic in fetch becomes that key's error.
func fetchEach[K comparable, V any](ctx context.Context, keys []K, fetch func(context.Context, K) (V, error)) []*dataloader.Result[V] {
	results := make([]*dataloader.Result[V], len(keys))
	<-startEach(len(keys), func(j int, placed func()) {
		ctx := workable.WithOnQueued(ctx, placed)
		defer func() {
			if p := recover(); p != nil {
				results[j] = &dataloader.Result[V]{Error: fmt.Errorf("%w: %v", errFetchPanicked, p)}
			}
		}()
		v, err := fetch(ctx, keys[j])
		results[j] = &dataloader.Result[V]{Data: v, Error: err}
	})
	return results
}

// fetchCandidate reads one candidate's detail, GET /candidates/{id}
// (Workable has no batch read). A 404 gives nil without an error.
func (l *loaders) fetchCandidate(ctx context.Context, id, _ string) (*workable.Candidate, []cache.Item, error) {
	c, _, err := l.client.Candidates.Get(ctx, id)
	if errors.Is(err, workable.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return c, nil, nil
}

// basicFromDetail serves a candidate's list fields from its detail, when
// no list page has provided them.
func (l *loaders) basicFromDetail(ctx context.Context, id, _ string) (*workable.Candidate, []cache.Item, error) {
	c, err := load(ctx, l.candidate, id)
	return c, nil, err
}

// fetchJobDetail reads GET /jobs/{shortcode}; a 404 gives nil without an
// error. The detail also serves the job's list fields.
func (l *loaders) fetchJobDetail(ctx context.Context, shortcode, _ string) (*workable.Job, []cache.Item, error) {
	j, _, err := l.client.Jobs.Get(ctx, shortcode)
	if errors.Is(err, workable.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	it, err := l.e.item(cache.KindJob, listedID(shortcode), "", j)
	if err != nil {
		return nil, nil, err
	}
	return j, []cache.Item{it}, nil
}

// jobFromIndex serves the list fields of a job referenced by shortcode (a
// candidate's job). It reads the first page of GET /jobs?limit=100 (one call
// for every job of most accounts, loaded once per request and cached, with
// each of its jobs) and falls back to GET /jobs/{shortcode} for a job it
// lacks (accounts with more than 100 jobs). Even one reference goes through
// the page: it costs the same one call and fills the cache for the others.
func (l *loaders) jobFromIndex(ctx context.Context, shortcode, _ string) (*workable.Job, []cache.Item, error) {
	index, err := load(ctx, l.jobPages, jobPageKey{Limit: jobIndexLimit})
	if err != nil {
		return nil, nil, err
	}
	for _, j := range index.Items {
		if j.Shortcode == shortcode {
			return j, nil, nil
		}
	}
	j, err := load(ctx, l.jobDetail, shortcode)
	return j, nil, err
}

// fetchJobPage runs one GET /jobs; each job of the page is cached too, for
// references by shortcode.
func (l *loaders) fetchJobPage(ctx context.Context, k jobPageKey, _ string) (page[workable.Job], []cache.Item, error) {
	opts := &workable.JobListOptions{
		State:        k.State,
		Limit:        k.Limit,
		SinceID:      k.SinceID,
		CreatedAfter: parseKeyTime(k.CreatedAfter),
		UpdatedAfter: parseKeyTime(k.UpdatedAfter),
	}
	if k.WithText {
		// simulator guess: include_fields is a comma-separated list (the
		// reference marks its format as [I]; the client joins with commas).
		// Whether Workable honoured it is not assumed: see listedText.
		for _, f := range jobTexts {
			opts.IncludeFields = append(opts.IncludeFields, f.name)
		}
	}
	jobs, resp, err := l.client.Jobs.List(ctx, opts)
	if err != nil {
		return page[workable.Job]{}, nil, err
	}
	items, err := perRecord(l.e, cache.KindJob, "", jobs, func(j *workable.Job) string { return j.Shortcode })
	if err != nil {
		return page[workable.Job]{}, nil, err
	}
	return page[workable.Job]{Items: jobs, More: resp != nil && resp.NextURL != ""}, items, nil
}

// fetchCandidatePage runs one GET /candidates. The list fields of each
// candidate of the page are cached too, under the same lists generation
// (a later candidate(id) asking only list fields then costs nothing); the
// detail fields still come from GET /candidates/{id}, as list items lack
// them.
func (l *loaders) fetchCandidatePage(ctx context.Context, k candidatePageKey, gen string) (page[workable.Candidate], []cache.Item, error) {
	cands, resp, err := l.client.Candidates.List(ctx, &workable.CandidateListOptions{
		Shortcode:    k.Shortcode,
		Stage:        k.Stage,
		Email:        k.Email,
		Limit:        k.Limit,
		SinceID:      k.SinceID,
		CreatedAfter: parseKeyTime(k.CreatedAfter),
		UpdatedAfter: parseKeyTime(k.UpdatedAfter),
	})
	if err != nil {
		return page[workable.Candidate]{}, nil, err
	}
	items, err := perRecord(l.e, cache.KindCandidate, gen, cands, func(c *workable.Candidate) string { return c.ID })
	if err != nil {
		return page[workable.Candidate]{}, nil, err
	}
	return page[workable.Candidate]{Items: cands, More: resp != nil && resp.NextURL != ""}, items, nil
}

// fetchActivityPage runs one GET /candidates/{id}/activities.
func (l *loaders) fetchActivityPage(ctx context.Context, k activityPageKey, _ string) (page[workable.Activity], []cache.Item, error) {
	acts, resp, err := l.client.Candidates.ListActivities(ctx, k.CandidateID,
		&workable.ActivityListOptions{Limit: k.Limit, SinceID: k.SinceID})
	if err != nil {
		return page[workable.Activity]{}, nil, err
	}
	return page[workable.Activity]{Items: acts, More: resp != nil && resp.NextURL != ""}, nil, nil
}

// perRecord returns the cache items of the list fields of each record of a
// list page (id "l:"+key), made under generation gen.
func perRecord[T any](e *economy, kind cache.Kind, gen string, recs []*T, key func(*T) string) ([]cache.Item, error) {
	if e.store == nil {
		return nil, nil
	}
	items := make([]cache.Item, 0, len(recs))
	for _, r := range recs {
		it, err := e.item(kind, listedID(key(r)), gen, r)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// keyTime renders an optional time for a loader key.
func keyTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// parseKeyTime is the inverse of keyTime.
func parseKeyTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	return &t
}
