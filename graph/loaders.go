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
	// maxParallelFetches bounds the Workable calls one batch runs at once
	// (the client's rate limiter queues them anyway).
	maxParallelFetches = 8
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
	MaxID        string // "" for no upper bound (backward paging sets it)
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
	MaxID        string // "" for no upper bound (backward paging sets it)
	Limit        int
}

// activityPageKey identifies one GET /candidates/{id}/activities call.
type activityPageKey struct {
	CandidateID string
	SinceID     string
	MaxID       string // "" for no upper bound (backward paging sets it)
	Limit       int
}

// activityKey identifies one activity: Workable reads it only through its
// candidate's list.
type activityKey struct {
	CandidateID, ID string
}

// loaders holds the dataloaders of one request. A loader shared across
// requests would leak one caller's data into another's response; the cache
// and the coalescing of fetches across requests live in the economy, below
// the loaders, and are keyed by credential.
type loaders struct {
	client *workable.Client
	e      *economy

	// candidate loads GET /candidates/{id} (detail); nil value for a 404.
	candidate *dataloader.Loader[string, *workable.Candidate]
	// candidateBasic loads a candidate's list fields: from a cached list
	// page's copy when there is one, else through candidate.
	candidateBasic *dataloader.Loader[string, *workable.Candidate]
	// jobDetail loads GET /jobs/{shortcode}; nil value for a 404.
	jobDetail *dataloader.Loader[string, *workable.Job]
	// job loads a job's list fields by shortcode; nil value when Workable
	// has no such job. See jobFromIndex for the strategy.
	job *dataloader.Loader[string, *workable.Job]

	jobPages       *dataloader.Loader[jobPageKey, page[workable.Job]]
	candidatePages *dataloader.Loader[candidatePageKey, page[workable.Candidate]]
	activityPages  *dataloader.Loader[activityPageKey, page[workable.Activity]]
	// activity loads one activity (Query.node); nil value when Workable no
	// longer has it. Every activity of a cached page is cached on its own
	// too, so a listed activity costs nothing more.
	activity *dataloader.Loader[activityKey, *workable.Activity]
}

// newLoaders returns a fresh set of loaders for one request, counting its
// cost in rs.
func newLoaders(e *economy, rs *reqState) *loaders {
	l := &loaders{client: e.client, e: e}
	listsGen := func(string) string { return e.listsGenKey() }
	l.candidate = newLoader(e.loaderWait, cachedBatch(e, rs, spec[string, *workable.Candidate]{
		kind: cache.KindCandidate, id: detailID, gen: e.candidateGenKey, fetch: l.fetchCandidate,
	}))
	l.candidateBasic = newLoader(e.loaderWait, cachedBatch(e, rs, spec[string, *workable.Candidate]{
		kind: cache.KindCandidate, id: listedID, gen: listsGen, fetch: l.basicFromDetail, derived: true,
	}))
	l.jobDetail = newLoader(e.loaderWait, cachedBatch(e, rs, spec[string, *workable.Job]{
		kind: cache.KindJob, id: detailID, fetch: l.fetchJobDetail,
	}))
	l.job = newLoader(e.loaderWait, cachedBatch(e, rs, spec[string, *workable.Job]{
		kind: cache.KindJob, id: listedID, fetch: l.jobFromIndex, derived: true,
	}))
	l.jobPages = newLoader(e.loaderWait, cachedBatch(e, rs, spec[jobPageKey, page[workable.Job]]{
		kind: cache.KindJobList, id: jobPageKey.canonical, fetch: l.fetchJobPage,
	}))
	l.candidatePages = newLoader(e.loaderWait, cachedBatch(e, rs, spec[candidatePageKey, page[workable.Candidate]]{
		kind: cache.KindCandidateList, id: candidatePageKey.canonical,
		gen: func(candidatePageKey) string { return e.listsGenKey() }, fetch: l.fetchCandidatePage,
	}))
	l.activityPages = newLoader(e.loaderWait, cachedBatch(e, rs, spec[activityPageKey, page[workable.Activity]]{
		kind: cache.KindActivities, id: activityPageKey.canonical,
		gen: func(k activityPageKey) string { return e.candidateGenKey(k.CandidateID) }, fetch: l.fetchActivityPage,
	}))
	l.activity = newLoader(e.loaderWait, cachedBatch(e, rs, spec[activityKey, *workable.Activity]{
		kind: cache.KindActivities, id: activityKey.canonical,
		gen: func(k activityKey) string { return e.candidateGenKey(k.CandidateID) }, fetch: l.fetchActivity,
	}))
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
	setMax(v, k.MaxID)
	v.Set("limit", strconv.Itoa(k.Limit))
	v.Set("text", strconv.FormatBool(k.WithText))
	return v.Encode()
}

// setMax adds max_id to a page key's canonical form only when it is set,
// so that the keys of forward pages stay what they were.
func setMax(v url.Values, maxID string) {
	if maxID != "" {
		v.Set("max", maxID)
	}
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
	setMax(v, k.MaxID)
	v.Set("limit", strconv.Itoa(k.Limit))
	return v.Encode()
}

// canonical encodes the key for a cache id (sorted, escaped, stable).
func (k activityPageKey) canonical() string {
	v := url.Values{}
	v.Set("since", k.SinceID)
	setMax(v, k.MaxID)
	v.Set("limit", strconv.Itoa(k.Limit))
	return url.PathEscape(k.CandidateID) + "?" + v.Encode()
}

// canonical is the cache id of one activity: "r:" sets it apart from the
// pages of the same kind.
func (k activityKey) canonical() string {
	return "r:" + url.PathEscape(k.CandidateID) + "/" + url.PathEscape(k.ID)
}

// newLoader returns a loader over batch that collects keys for wait (the
// economy's loaderWait).
func newLoader[K comparable, V any](wait time.Duration, batch dataloader.BatchFunc[K, V]) *dataloader.Loader[K, V] {
	return dataloader.NewBatchedLoader(batch, dataloader.WithWait[K, V](wait))
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

// load reads one key. dataloader v7.1.0 has no NewSkipCacheError, so a
// transient failure (rate limit, upstream trouble) is cleared from the
// loader's cache here instead: a later read in the same request tries again.
func load[K comparable, V any](ctx context.Context, l *dataloader.Loader[K, V], key K) (V, error) {
	v, err := l.Load(ctx, key)()
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
	l.candidate.Clear(ctx, c.ID)
	l.candidate.Prime(ctx, c.ID, c)
	l.candidateBasic.Clear(ctx, c.ID)
	l.candidateBasic.Prime(ctx, c.ID, c)
	r.econFor(ctx).candidateWritten(ctx, c)
}

// fetchEach runs fetch for every key, at most maxParallelFetches at a time,
// and returns the results in key order.
func fetchEach[K comparable, V any](ctx context.Context, keys []K, fetch func(context.Context, K) (V, error)) []*dataloader.Result[V] {
	results := make([]*dataloader.Result[V], len(keys))
	sem := make(chan struct{}, maxParallelFetches)
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			// A panic here would end the process (it is not the resolver's
			// goroutine, which gqlgen recovers): make it this key's error.
			defer func() {
				if p := recover(); p != nil {
					results[i] = &dataloader.Result[V]{Error: fmt.Errorf("%w: %v", errFetchPanicked, p)}
				}
			}()
			v, err := fetch(ctx, k)
			results[i] = &dataloader.Result[V]{Data: v, Error: err}
		})
	}
	wg.Wait()
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
		MaxID:        k.MaxID,
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
		MaxID:        k.MaxID,
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

// fetchActivityPage runs one GET /candidates/{id}/activities. Each activity
// of the page is cached too, under the same generation, for Query.node.
func (l *loaders) fetchActivityPage(ctx context.Context, k activityPageKey, gen string) (page[workable.Activity], []cache.Item, error) {
	acts, resp, err := l.client.Candidates.ListActivities(ctx, k.CandidateID,
		&workable.ActivityListOptions{Limit: k.Limit, SinceID: k.SinceID, MaxID: k.MaxID})
	if err != nil {
		return page[workable.Activity]{}, nil, err
	}
	var items []cache.Item
	if l.e.store != nil {
		items = make([]cache.Item, 0, len(acts))
		for _, a := range acts {
			it, err := l.e.item(cache.KindActivities, activityKey{k.CandidateID, a.ID}.canonical(), gen, a)
			if err != nil {
				return page[workable.Activity]{}, nil, err
			}
			items = append(items, it)
		}
	}
	return page[workable.Activity]{Items: acts, More: resp != nil && resp.NextURL != ""}, items, nil
}

// fetchActivity reads one activity: the page of its candidate's list that
// starts at it (since_id is inclusive). nil when Workable no longer has it.
func (l *loaders) fetchActivity(ctx context.Context, k activityKey, _ string) (*workable.Activity, []cache.Item, error) {
	acts, _, err := l.client.Candidates.ListActivities(ctx, k.CandidateID,
		&workable.ActivityListOptions{Limit: 1, SinceID: k.ID, MaxID: k.ID})
	if errors.Is(err, workable.ErrNotFound) {
		return nil, nil, nil // the candidate is gone
	}
	if err != nil || len(acts) == 0 || acts[0].ID != k.ID {
		return nil, nil, err
	}
	return acts[0], nil, nil
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
