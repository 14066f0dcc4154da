package graph

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"sync"
	"time"

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

const (
	// jobIndexLimit is the page size of the jobs list used to resolve many
	// job references with one call.
	jobIndexLimit = 100
	// maxFillPages bounds the extra calls that complete one short page (see
	// fillPage).
	maxFillPages = 3
	// activityLogLimit and maxActivityLogPages bound the read of a
	// candidate's whole activity stream (Candidate.latestStageMove): at most
	// 2,000 activities, 20 calls.
	activityLogLimit    = 100
	maxActivityLogPages = 20
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

// jobActivityPageKey identifies one GET /jobs/{shortcode}/activities call.
type jobActivityPageKey struct {
	Shortcode string
	SinceID   string
	MaxID     string // "" for no upper bound (backward paging sets it)
	Limit     int
}

// activityKey identifies one activity. Workable reads activities only
// through a list: the candidate's (CandidateID set) or, for a job's own
// events that name no candidate, the job's (Shortcode set).
type activityKey struct {
	CandidateID, Shortcode, ID string
}

// loaders holds the dataloaders of one request. A loader shared across
// requests would leak one caller's data into another's response; the cache
// and the coalescing of fetches across requests live in the credential's
// economy (upstream.Economy), below the loaders.
type loaders struct {
	client *workable.Client
	e      *upstream.Economy

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

	jobPages         *loader[jobPageKey, page[workable.Job]]
	candidatePages   *loader[candidatePageKey, page[workable.Candidate]]
	activityPages    *loader[activityPageKey, page[workable.Activity]]
	jobActivityPages *loader[jobActivityPageKey, page[workable.Activity]]
	// activity loads one activity (Query.node); nil value when Workable no
	// longer has it. Every activity of a cached page is cached on its own
	// too, so a listed activity costs nothing more.
	activity *loader[activityKey, *workable.Activity]
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
	l := &loaders{client: e.Client(), e: e}
	listsGen := func(string) string { return e.ListsGenKey() }
	l.candidate = newCachedLoader(e, rs, upstream.Spec[string, *workable.Candidate]{
		Kind: cache.KindCandidate, ID: upstream.DetailID, Gen: e.CandidateGenKey, Fetch: l.fetchCandidate,
	})
	l.candidateBasic = newCachedLoader(e, rs, upstream.Spec[string, *workable.Candidate]{
		Kind: cache.KindCandidate, ID: upstream.ListedID, Gen: listsGen, Fetch: l.basicFromDetail, Derived: true,
	})
	// The jobs generation guards every job and jobs page: the refresher
	// replaces it when Workable reports a job changed.
	jobsGen := func(string) string { return e.JobsGenKey() }
	l.jobDetail = newCachedLoader(e, rs, upstream.Spec[string, *workable.Job]{
		Kind: cache.KindJob, ID: upstream.DetailID, Gen: jobsGen, Fetch: l.fetchJobDetail,
	})
	l.job = newCachedLoader(e, rs, upstream.Spec[string, *workable.Job]{
		Kind: cache.KindJob, ID: upstream.ListedID, Gen: jobsGen, Fetch: l.jobFromIndex, Derived: true,
	})
	l.jobPages = newCachedLoader(e, rs, upstream.Spec[jobPageKey, page[workable.Job]]{
		Kind: cache.KindJobList, ID: jobPageKey.canonical, Gen: func(jobPageKey) string { return e.JobsGenKey() }, Fetch: l.fetchJobPage,
	})
	l.candidatePages = newCachedLoader(e, rs, upstream.Spec[candidatePageKey, page[workable.Candidate]]{
		Kind: cache.KindCandidateList, ID: candidatePageKey.canonical,
		Gen: func(candidatePageKey) string { return e.ListsGenKey() }, Fetch: l.fetchCandidatePage,
	})
	l.activityPages = newCachedLoader(e, rs, upstream.Spec[activityPageKey, page[workable.Activity]]{
		Kind: cache.KindActivities, ID: activityPageKey.canonical,
		Gen: func(k activityPageKey) string { return e.CandidateGenKey(k.CandidateID) }, Fetch: l.fetchActivityPage,
	})
	l.candidateListed = newCachedLoader(e, rs, upstream.Spec[string, *workable.Candidate]{
		Kind: cache.KindCandidate, ID: upstream.ListedID, Gen: listsGen, Fetch: l.fetchCandidateListed,
	})
	// A pipeline is job configuration: cached like jobs, without generation
	// (no write of the gateway changes it).
	l.stages = newCachedLoader(e, rs, upstream.Spec[string, []*workable.Stage]{
		Kind: cache.KindJob, ID: func(k string) string { return "stages:" + k }, Fetch: l.fetchStages,
	})
	l.activityLog = newCachedLoader(e, rs, upstream.Spec[string, []*workable.Activity]{
		Kind: cache.KindActivities, ID: func(id string) string { return "log:" + id },
		Gen: e.CandidateGenKey, Fetch: l.fetchActivityLog,
	})
	// Disqualification reasons and a job's members are account and job
	// configuration, cached like the pipeline.
	l.reasons = newCachedLoader(e, rs, upstream.Spec[string, []*workable.DisqualificationReason]{
		Kind: cache.KindJob, ID: func(string) string { return "dqreasons" }, Fetch: l.fetchReasons,
	})
	l.jobMembers = newCachedLoader(e, rs, upstream.Spec[string, []*workable.Member]{
		Kind: cache.KindJob, ID: func(k string) string { return "members:" + k }, Fetch: l.fetchJobMembers,
	})
	// A job's activities change with any of its candidates: the candidate
	// lists generation, which every candidate write replaces, guards them.
	l.jobActivityPages = newCachedLoader(e, rs, upstream.Spec[jobActivityPageKey, page[workable.Activity]]{
		Kind: cache.KindActivities, ID: jobActivityPageKey.canonical,
		Gen: func(jobActivityPageKey) string { return e.ListsGenKey() }, Fetch: l.fetchJobActivityPage,
	})
	l.activity = newCachedLoader(e, rs, upstream.Spec[activityKey, *workable.Activity]{
		Kind: cache.KindActivities, ID: activityKey.canonical, Gen: l.activityGen, Fetch: l.fetchActivity,
	})
	return l
}

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

// canonical encodes the key for a cache id (sorted, escaped, stable; the
// "job:" prefix keeps it apart from a candidate's pages).
func (k jobActivityPageKey) canonical() string {
	v := url.Values{}
	v.Set("since", k.SinceID)
	setMax(v, k.MaxID)
	v.Set("limit", strconv.Itoa(k.Limit))
	return "job:" + url.PathEscape(k.Shortcode) + "?" + v.Encode()
}

// canonical is the cache id of one activity: "r:" (a candidate's) and
// "rj:" (a job's own) set it apart from the pages of the same kind.
func (k activityKey) canonical() string {
	if k.CandidateID == "" {
		return "rj:" + url.PathEscape(k.Shortcode) + "/" + url.PathEscape(k.ID)
	}
	return "r:" + url.PathEscape(k.CandidateID) + "/" + url.PathEscape(k.ID)
}

// activityGen is the generation guarding one cached activity: its
// candidate's, or the candidate lists' for a job's own events (the
// generation of the job activity pages that list them).
func (l *loaders) activityGen(k activityKey) string {
	if k.CandidateID == "" {
		return l.e.ListsGenKey()
	}
	return l.e.CandidateGenKey(k.CandidateID)
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

// fetchCandidate reads one candidate's detail, GET /candidates/{id}
// (Workable has no batch read). A 404 gives nil without an error.
func (l *loaders) fetchCandidate(ctx context.Context, id, _ string) (*workable.Candidate, []cache.Item, error) {
	c, _, err := l.client.Candidates.Get(ctx, id)
	return absentOn404(c, err)
}

// absentOn404 is the answer of a read of one record: v, or nil without an
// error when Workable has no such record (404), which is an answer like
// any other, cached as such.
func absentOn404[T any](v *T, err error) (*T, []cache.Item, error) {
	switch {
	case errors.Is(err, workable.ErrNotFound):
		return nil, nil, nil
	case err != nil:
		return nil, nil, err
	}
	return v, nil, nil
}

// basicFromDetail serves a candidate's list fields from its detail, when
// no list page has provided them.
func (l *loaders) basicFromDetail(ctx context.Context, id, _ string) (*workable.Candidate, []cache.Item, error) {
	c, err := load(ctx, l.candidate, id)
	return c, nil, err
}

// fetchJobDetail reads GET /jobs/{shortcode}; a 404 gives nil without an
// error. The detail serves the detail fields only: a live detail lacks
// location_str and sample (API.md §10), so it never stands in for the
// job's list item.
func (l *loaders) fetchJobDetail(ctx context.Context, shortcode, _ string) (*workable.Job, []cache.Item, error) {
	j, _, err := l.client.Jobs.Get(ctx, shortcode)
	return absentOn404(j, err)
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
	index, err := load(ctx, l.jobPages, jobPageKey{Limit: jobIndexLimit})
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
	one, err := load(ctx, l.jobPages, jobPageKey{SinceID: detail.ID, Limit: 1})
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

// fetchJobPage runs one GET /jobs; each job of the page is cached too, for
// references by shortcode. Its parameters are those of API.md §2: state,
// limit, since_id, created_after, updated_after and include_fields.
func (l *loaders) fetchJobPage(ctx context.Context, k jobPageKey, gen string) (page[workable.Job], []cache.Item, error) {
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
	pg, err := fillPage(ctx, l.client, jobs, resp, k.Limit)
	if err != nil {
		return page[workable.Job]{}, nil, err
	}
	items, err := perRecord(l.e, cache.KindJob, gen, pg.Items, func(j *workable.Job) string { return j.Shortcode })
	if err != nil {
		return page[workable.Job]{}, nil, err
	}
	return pg, items, nil
}

// fetchCandidatePage runs one GET /candidates. The list fields of each
// candidate of the page are cached too, under the same lists generation
// (a later candidate(id) asking only list fields then costs nothing); the
// detail fields still come from GET /candidates/{id}, as list items lack
// them. Its parameters are those of API.md §3: shortcode, stage, email,
// limit, since_id, created_after and updated_after. With shortcode, a live
// account's paging.next goes through /jobs/{shortcode}/candidates (API.md
// §10), which fillPage follows as given.
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
	pg, err := fillPage(ctx, l.client, cands, resp, k.Limit)
	if err != nil {
		return page[workable.Candidate]{}, nil, err
	}
	items, err := perRecord(l.e, cache.KindCandidate, gen, pg.Items, func(c *workable.Candidate) string { return c.ID })
	if err != nil {
		return page[workable.Candidate]{}, nil, err
	}
	return pg, items, nil
}

// fetchCandidateListed reads a candidate's list item: GET
// /candidates?since_id={id}&limit=1 (API.md §3; since_id is inclusive, so
// the first item is the candidate when it exists). It gives nil without an
// error when the first item is another candidate (there is no such
// candidate).
func (l *loaders) fetchCandidateListed(ctx context.Context, id, _ string) (*workable.Candidate, []cache.Item, error) {
	cands, _, err := l.client.Candidates.List(ctx, &workable.CandidateListOptions{SinceID: id, Limit: 1})
	if err != nil {
		return nil, nil, err
	}
	if len(cands) == 0 || cands[0].ID != id {
		return nil, nil, nil
	}
	return cands[0], nil, nil
}

// fetchActivityPage runs one GET /candidates/{id}/activities (API.md §6:
// limit, since_id, max_id). Each activity of the page is cached too, under
// the same generation, for Query.node.
func (l *loaders) fetchActivityPage(ctx context.Context, k activityPageKey, gen string) (page[workable.Activity], []cache.Item, error) {
	acts, resp, err := l.client.Candidates.ListActivities(ctx, k.CandidateID,
		&workable.ActivityListOptions{Limit: k.Limit, SinceID: k.SinceID, MaxID: k.MaxID})
	if err != nil {
		return page[workable.Activity]{}, nil, err
	}
	pg, err := fillPage(ctx, l.client, acts, resp, k.Limit)
	if err != nil {
		return page[workable.Activity]{}, nil, err
	}
	items, err := l.activityItems(pg.Items, gen, func(a *workable.Activity) activityKey {
		return activityKey{CandidateID: k.CandidateID, ID: a.ID}
	})
	return pg, items, err
}

// fetchJobActivityPage runs one GET /jobs/{shortcode}/activities (API.md
// §6: limit, since_id, max_id). The job's own events of the page (those
// naming no candidate) are cached one by one too, for Query.node; an
// activity about a candidate is found again through that candidate's list.
func (l *loaders) fetchJobActivityPage(ctx context.Context, k jobActivityPageKey, gen string) (page[workable.Activity], []cache.Item, error) {
	acts, resp, err := l.client.Jobs.ListActivities(ctx, k.Shortcode,
		&workable.ActivityListOptions{Limit: k.Limit, SinceID: k.SinceID, MaxID: k.MaxID})
	if err != nil {
		return page[workable.Activity]{}, nil, err
	}
	pg, err := fillPage(ctx, l.client, acts, resp, k.Limit)
	if err != nil {
		return page[workable.Activity]{}, nil, err
	}
	var own []*workable.Activity
	for _, a := range pg.Items {
		if a.Candidate == nil || a.Candidate.ID == "" {
			own = append(own, a)
		}
	}
	items, err := l.activityItems(own, gen, func(a *workable.Activity) activityKey {
		return activityKey{Shortcode: k.Shortcode, ID: a.ID}
	})
	return pg, items, err
}

// activityItems returns the cache items of activities of a page, each made
// under the page's generation gen.
func (l *loaders) activityItems(acts []*workable.Activity, gen string, key func(*workable.Activity) activityKey) ([]cache.Item, error) {
	if !l.e.Caches() {
		return nil, nil
	}
	items := make([]cache.Item, 0, len(acts))
	for _, a := range acts {
		it, err := l.e.Item(cache.KindActivities, key(a).canonical(), gen, a)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// fetchActivity reads one activity: the page of its candidate's (or job's)
// list that starts and ends at it (since_id and max_id are inclusive,
// API.md §6). nil when Workable no longer has it.
func (l *loaders) fetchActivity(ctx context.Context, k activityKey, _ string) (*workable.Activity, []cache.Item, error) {
	opts := &workable.ActivityListOptions{Limit: 1, SinceID: k.ID, MaxID: k.ID}
	var acts []*workable.Activity
	var err error
	if k.CandidateID != "" {
		acts, _, err = l.client.Candidates.ListActivities(ctx, k.CandidateID, opts)
	} else {
		acts, _, err = l.client.Jobs.ListActivities(ctx, k.Shortcode, opts)
	}
	if errors.Is(err, workable.ErrNotFound) {
		return nil, nil, nil // the candidate or job is gone
	}
	if err != nil || len(acts) == 0 || acts[0].ID != k.ID {
		return nil, nil, err
	}
	return acts[0], nil, nil
}

// fetchActivityLog reads a candidate's whole activity stream: GET
// /candidates/{id}/activities?limit=100 (API.md §6), then each paging.next
// exactly as given, at most maxActivityLogPages pages; a longer stream is
// an error (workable.ErrPageLimit) rather than a wrong "latest".
func (l *loaders) fetchActivityLog(ctx context.Context, id, _ string) ([]*workable.Activity, []cache.Item, error) {
	out := []*workable.Activity{}
	for a, err := range workable.Walk(ctx, l.client, func(ctx context.Context) ([]*workable.Activity, *workable.Response, error) {
		return l.client.Candidates.ListActivities(ctx, id, &workable.ActivityListOptions{Limit: activityLogLimit})
	}, maxActivityLogPages) {
		if err != nil {
			return nil, nil, err
		}
		out = append(out, a)
	}
	return out, nil, nil
}

// fetchStages reads a pipeline: GET /stages for the account (key ""), GET
// /jobs/{shortcode}/stages for a job (API.md §9); a job Workable does not
// have gives nil without an error.
func (l *loaders) fetchStages(ctx context.Context, shortcode, _ string) ([]*workable.Stage, []cache.Item, error) {
	var stages []*workable.Stage
	var err error
	if shortcode == "" {
		stages, _, err = l.client.Accounts.ListStages(ctx)
	} else {
		stages, _, err = l.client.Jobs.ListStages(ctx, shortcode)
		if errors.Is(err, workable.ErrNotFound) {
			return nil, nil, nil
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if stages == nil {
		stages = []*workable.Stage{}
	}
	return stages, nil, nil
}

// fillPage makes a list page of limit items out of a Workable answer that
// had fewer although its paging.next says more follow: it follows
// paging.next exactly as given (on the base URL's host only; it may name
// another path, e.g. /jobs/{shortcode}/candidates, API.md §10), at most
// maxFillPages times. More reports that items remain after the page.
func fillPage[T any](ctx context.Context, c *workable.Client, items []*T, resp *workable.Response, limit int) (page[T], error) {
	for extra := 0; len(items) < limit && resp != nil && resp.NextURL != "" && extra < maxFillPages; extra++ {
		more, next, err := workable.NextPage[*T](ctx, c, resp)
		if err != nil {
			return page[T]{}, err
		}
		items, resp = append(items, more...), next
	}
	pg := page[T]{Items: items, More: resp != nil && resp.NextURL != ""}
	if len(items) > limit {
		pg.Items, pg.More = items[:limit], true
	}
	return pg, nil
}

// perRecord returns the cache items of the list fields of each record of a
// list page (id "l:"+key), made under generation gen.
func perRecord[T any](e *upstream.Economy, kind cache.Kind, gen string, recs []*T, key func(*T) string) ([]cache.Item, error) {
	if !e.Caches() {
		return nil, nil
	}
	items := make([]cache.Item, 0, len(recs))
	for _, r := range recs {
		it, err := e.Item(kind, upstream.ListedID(key(r)), gen, r)
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
