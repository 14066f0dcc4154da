package graph

import (
	"context"
	"sync"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// Per-request dataloaders. Every Workable read of a query goes through one of
// them, so a query never fetches the same thing twice and concurrent field
// resolvers share calls. Each batch function is a small method taking keys
// and returning values in key order; the cache layer slots in there
// (batch → cache GetMany → Workable for the misses → cache SetMany).

// jobIndexLimit is the page size of the jobs list used to resolve many job
// references with one call.
const jobIndexLimit = 100

// loaders holds the dataloaders of one request. A loader shared across
// requests would leak one caller's data into another's response; the cache
// and the coalescing of fetches across requests live in the credential's
// economy (upstream.Economy), below the loaders.
type loaders struct {
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
	// candidateListed loads a candidate's list item (the only shape with
	// resume_metadata, API.md §10): a cached list page's copy, else
	// GET /candidates?since_id={id}&limit=1; nil value when there is none.
	candidateListed *loader[string, *workable.Candidate]
	// stages loads a pipeline: the account's (key "") or a job's (key its
	// shortcode); nil value for a job Workable does not have.
	stages *loader[string, []*workable.Stage]
	// activityLog loads a candidate's whole activity stream, oldest first.
	activityLog *loader[string, []*workable.Activity]
	// reasons loads the account's disqualification reasons (key "");
	// jobMembers a job's collaborators (key its shortcode; nil value for a
	// job Workable does not have). See actionforms.go.
	reasons    *loader[string, []*workable.DisqualificationReason]
	jobMembers *loader[string, []*workable.Member]

	jobPages         *loader[upstream.JobPageKey, upstream.Page[workable.Job]]
	candidatePages   *loader[upstream.CandidatePageKey, upstream.Page[workable.Candidate]]
	activityPages    *loader[upstream.ActivityPageKey, upstream.Page[workable.Activity]]
	jobActivityPages *loader[upstream.JobActivityPageKey, upstream.Page[workable.Activity]]
	// activity loads one activity (Query.node); nil value when Workable no
	// longer has it. Every activity of a cached page is cached on its own
	// too, so a listed activity costs nothing more.
	activity *loader[upstream.ActivityKey, *workable.Activity]
}

// loader is a dataloader that remembers, per key, the rank of the field
// that asked for it (see rankOf): dataloader v7 calls a batch function with
// the context of one Load, so the rank of each key has to travel beside it
// for the batch to queue each key's Workable call at its own rank.
type loader[K comparable, V any] struct {
	e  *upstream.Economy
	rs *upstream.Request
	sp upstream.Spec[K, V]

	// dl is the dataloader, made when the request first needs it: most
	// requests use few of their loaders, and a warm one answered by the
	// decoded tier (upstream.Local) needs none.
	dlOnce sync.Once
	dl     *dataloader.Loader[K, *upstream.Pending[V]]

	mu    sync.Mutex
	ranks map[K]workable.Rank
	// primed are the keys given a value by prime: the loader's own cache
	// answers them, never the decoded tier.
	primed map[K]bool
	// local are the values the decoded tier gave this request, so that
	// the fields asking for one key again take it at once.
	local map[K]V
}

// loader returns the dataloader, making it on first use.
func (l *loader[K, V]) loader() *dataloader.Loader[K, *upstream.Pending[V]] {
	l.dlOnce.Do(func() {
		sp := l.sp
		sp.Rank = l.rank
		l.dl = dataloader.NewBatchedLoader(upstream.Batch(l.e, l.rs, sp), dataloader.WithWait[K, *upstream.Pending[V]](l.e.LoaderWait()))
	})
	return l.dl
}

// Load reads key through the dataloader (see loadAsync).
func (l *loader[K, V]) Load(ctx context.Context, key K) dataloader.Thunk[*upstream.Pending[V]] {
	return l.loader().Load(ctx, key)
}

// Prime gives key the value p in the dataloader's cache, unless it holds
// one already.
func (l *loader[K, V]) Prime(ctx context.Context, key K, p *upstream.Pending[V]) {
	l.loader().Prime(ctx, key, p)
}

// Clear forgets the dataloader's value of key.
func (l *loader[K, V]) Clear(ctx context.Context, key K) {
	l.loader().Clear(ctx, key)
}

// ClearAll forgets every value of the dataloader.
func (l *loader[K, V]) ClearAll() {
	l.loader().ClearAll()
}

// prime makes key read as v for the rest of the request.
func (l *loader[K, V]) prime(ctx context.Context, key K, v V) {
	l.mu.Lock()
	if l.primed == nil {
		l.primed = make(map[K]bool)
	}
	l.primed[key] = true
	l.mu.Unlock()
	l.Clear(ctx, key)
	l.Prime(ctx, key, upstream.Resolved(v, nil))
}

// fromLocal answers key from the decoded tier when it can (see
// upstream.Local) and the request has not primed it.
func (l *loader[K, V]) fromLocal(ctx context.Context, key K) (V, bool) {
	var zero V
	if l.rs.Wrote() {
		return zero, false
	}
	l.mu.Lock()
	primed := l.primed[key]
	v, ok := l.local[key]
	l.mu.Unlock()
	if primed {
		return zero, false
	}
	if ok {
		return v, true
	}
	v, ok = upstream.Local(ctx, l.e, l.rs, l.sp, key)
	if ok {
		l.mu.Lock()
		if l.local == nil {
			l.local = make(map[K]V)
		}
		l.local[key] = v
		l.mu.Unlock()
	}
	return v, ok
}

// noteRank records that key was asked for at rank r; a key asked for by
// several fields keeps the best rank.
func (l *loader[K, V]) noteRank(key K, r workable.Rank) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.ranks[key]; !ok || r.Compare(old) < 0 {
		if l.ranks == nil {
			l.ranks = make(map[K]workable.Rank)
		}
		l.ranks[key] = r
	}
}

// rank returns the rank key was asked for at (nil when unknown).
func (l *loader[K, V]) rank(key K) workable.Rank {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ranks[key]
}

// newCachedLoader returns a loader over upstream.Batch(sp) whose batches
// rank their keys' Workable calls.
func newCachedLoader[K comparable, V any](e *upstream.Economy, rs *upstream.Request, sp upstream.Spec[K, V]) *loader[K, V] {
	return &loader[K, V]{e: e, rs: rs, sp: sp}
}

// newLoaders returns a fresh set of loaders for one request, counting its
// cost in rs.
func newLoaders(e *upstream.Economy, rs *upstream.Request) *loaders {
	l := &loaders{}
	listsGen := func(string) string { return e.ListsGenKey() }
	l.candidate = newCachedLoader(e, rs, upstream.Spec[string, *workable.Candidate]{
		Kind: cache.KindCandidate, ID: upstream.DetailID, Gen: e.CandidateGenKey, Fetch: e.FetchCandidate,
	})
	l.candidateBasic = newCachedLoader(e, rs, upstream.Spec[string, *workable.Candidate]{
		Kind: cache.KindCandidate, ID: upstream.ListedID, Gen: listsGen, Fetch: l.basicFromDetail, Derived: true,
	})
	// The jobs generation guards every job and jobs page: the refresher
	// replaces it when Workable reports a job changed.
	jobsGen := func(string) string { return e.JobsGenKey() }
	l.jobDetail = newCachedLoader(e, rs, upstream.Spec[string, *workable.Job]{
		Kind: cache.KindJob, ID: upstream.DetailID, Gen: jobsGen, Fetch: e.FetchJobDetail,
	})
	l.job = newCachedLoader(e, rs, upstream.Spec[string, *workable.Job]{
		Kind: cache.KindJob, ID: upstream.ListedID, Gen: jobsGen, Fetch: l.jobFromIndex, Derived: true,
	})
	l.jobPages = newCachedLoader(e, rs, upstream.Spec[upstream.JobPageKey, upstream.Page[workable.Job]]{
		Kind: cache.KindJobList, ID: upstream.JobPageKey.Canonical, Gen: func(upstream.JobPageKey) string { return e.JobsGenKey() }, Fetch: e.FetchJobPage,
	})
	l.candidatePages = newCachedLoader(e, rs, upstream.Spec[upstream.CandidatePageKey, upstream.Page[workable.Candidate]]{
		Kind: cache.KindCandidateList, ID: upstream.CandidatePageKey.Canonical,
		Gen: func(upstream.CandidatePageKey) string { return e.ListsGenKey() }, Fetch: e.FetchCandidatePage,
	})
	l.activityPages = newCachedLoader(e, rs, upstream.Spec[upstream.ActivityPageKey, upstream.Page[workable.Activity]]{
		Kind: cache.KindActivities, ID: upstream.ActivityPageKey.Canonical,
		Gen: func(k upstream.ActivityPageKey) string { return e.CandidateGenKey(k.CandidateID) }, Fetch: e.FetchActivityPage,
	})
	l.candidateListed = newCachedLoader(e, rs, upstream.Spec[string, *workable.Candidate]{
		Kind: cache.KindCandidate, ID: upstream.ListedID, Gen: listsGen, Fetch: e.FetchCandidateListed,
	})
	// A pipeline is job configuration: cached like jobs, without generation
	// (no write of the gateway changes it).
	l.stages = newCachedLoader(e, rs, upstream.Spec[string, []*workable.Stage]{
		Kind: cache.KindJob, ID: func(k string) string { return "stages:" + k }, Fetch: e.FetchStages,
	})
	l.activityLog = newCachedLoader(e, rs, upstream.Spec[string, []*workable.Activity]{
		Kind: cache.KindActivities, ID: func(id string) string { return "log:" + id },
		Gen: e.CandidateGenKey, Fetch: e.FetchActivityLog,
	})
	// Disqualification reasons and a job's members are account and job
	// configuration, cached like the pipeline.
	l.reasons = newCachedLoader(e, rs, upstream.Spec[string, []*workable.DisqualificationReason]{
		Kind: cache.KindJob, ID: func(string) string { return "dqreasons" }, Fetch: e.FetchReasons,
	})
	l.jobMembers = newCachedLoader(e, rs, upstream.Spec[string, []*workable.Member]{
		Kind: cache.KindJob, ID: func(k string) string { return "members:" + k }, Fetch: e.FetchJobMembers,
	})
	// A job's activities change with any of its candidates: the candidate
	// lists generation, which every candidate write replaces, guards them.
	l.jobActivityPages = newCachedLoader(e, rs, upstream.Spec[upstream.JobActivityPageKey, upstream.Page[workable.Activity]]{
		Kind: cache.KindActivities, ID: upstream.JobActivityPageKey.Canonical,
		Gen: func(upstream.JobActivityPageKey) string { return e.ListsGenKey() }, Fetch: e.FetchJobActivityPage,
	})
	l.activity = newCachedLoader(e, rs, upstream.Spec[upstream.ActivityKey, *workable.Activity]{
		Kind: cache.KindActivities, ID: upstream.ActivityKey.Canonical, Gen: e.ActivityGenKey, Fetch: e.FetchActivity,
	})
	return l
}

// loadersFor returns the request's loaders (set up by withRequest, or by
// newRequest for resolvers called outside the handler).
func (r *Resolver) loadersFor(ctx context.Context) *loaders {
	return requestFrom(ctx).loaders
}

// econFor returns the economy of the request's Workable credential.
func (r *Resolver) econFor(ctx context.Context) *upstream.Economy {
	return upstream.RequestFrom(ctx).Economy()
}

// clientFor returns the Workable client of the request's credential.
func (r *Resolver) clientFor(ctx context.Context) *workable.Client {
	return r.econFor(ctx).Client()
}

// load reads one key, at the rank of the field asking (see rankOf).
// dataloader v7.1.0 has no NewSkipCacheError, so a transient failure (rate
// limit, upstream trouble) is cleared from the loader's cache here instead:
// a later read in the same request tries again.
func load[K comparable, V any](ctx context.Context, l *loader[K, V], key K) (V, error) {
	return loadAsync(ctx, l, key)()
}

// loadAsync starts reading one key and returns a function that waits for
// it, so that reads through different loaders run together; like load, it
// clears a transient failure from the loader's cache.
func loadAsync[K comparable, V any](ctx context.Context, l *loader[K, V], key K) func() (V, error) {
	ctx = requestContext(ctx)
	// A key the decoded tier answers needs no batch, so it does not wait
	// for one: the batch wait is for keys that must be read or fetched.
	if v, ok := l.fromLocal(ctx, key); ok {
		return func() (V, error) { return v, nil }
	}
	l.noteRank(key, rankOf(ctx))
	thunk := l.Load(ctx, key)
	return func() (V, error) {
		p, err := thunk()
		var v V
		if err == nil {
			v, err = p.Wait()
		}
		if err != nil && upstream.Transient(err) {
			l.Clear(ctx, key)
		}
		return v, err
	}
}

// primeCandidate records a candidate Workable just returned in full after a
// write (create, update): its detail fields cost no further call in this
// request, and the write invalidates what it changed in the cache (see
// candidateWritten).
func (r *Resolver) primeCandidate(ctx context.Context, c *workable.Candidate) {
	if c == nil {
		return
	}
	r.loadersFor(ctx).prime(ctx, c)
	r.econFor(ctx).CandidateWritten(ctx, c)
}

// prime makes c, a candidate Workable returned in full, read as the
// candidate's detail and list fields for the rest of the request; its list
// item (which only a list carries) is read again.
func (l *loaders) prime(ctx context.Context, c *workable.Candidate) {
	l.candidate.prime(ctx, c.ID, c)
	l.candidateBasic.prime(ctx, c.ID, c)
	l.candidateListed.Clear(ctx, c.ID)
}

// basicFromDetail serves a candidate's list fields from its detail, when
// no list page has provided them.
func (l *loaders) basicFromDetail(ctx context.Context, id, _ string) (*workable.Candidate, []cache.Item, error) {
	c, err := load(ctx, l.candidate, id)
	return c, nil, err
}

// jobFromIndex serves the list fields of a job referenced by shortcode (a
// candidate's job). It reads the first page of GET /jobs?limit=100 (one call
// for every job of most accounts, loaded once per request and cached, with
// each of its jobs). A job it lacks (accounts with more than 100 jobs) is
// looked up by id: its detail gives the id, and GET /jobs?since_id={id}&limit=1
// its list item (since_id is inclusive, API.md §2). Even one reference goes
// through the page: it costs the same one call and fills the cache for the
// others.
func (l *loaders) jobFromIndex(ctx context.Context, shortcode, _ string) (*workable.Job, []cache.Item, error) {
	index, err := load(ctx, l.jobPages, upstream.JobPageKey{Limit: jobIndexLimit})
	if err != nil {
		return nil, nil, err
	}
	for _, j := range index.Items {
		if j.Shortcode == shortcode {
			return j, nil, nil
		}
	}
	detail, err := load(ctx, l.jobDetail, shortcode)
	if err != nil || detail == nil {
		return nil, nil, err
	}
	one, err := load(ctx, l.jobPages, upstream.JobPageKey{SinceID: detail.ID, Limit: 1})
	if err != nil {
		return nil, nil, err
	}
	if len(one.Items) == 1 && one.Items[0].Shortcode == shortcode {
		return one.Items[0], nil, nil
	}
	// Workable lists no such job although it has its detail: the detail is
	// all there is (its list-only fields read null).
	return workable.MergeJobDetail(nil, detail), nil, nil
}
