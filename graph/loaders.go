package graph

import (
	"context"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/cost"
	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// Per-request dataloaders. Every Workable read of a query goes through one of
// them, so a query never fetches the same thing twice and concurrent field
// resolvers share calls. Each is declared here over a read of upstream
// (upstream.Economy's Fetch functions, or a read composed of other loaders)
// and its cache id and generation; upstream.Loader does the rest (batch →
// cache GetMany → Workable for the misses → cache SetMany).

// jobIndexLimit is the page size of the jobs list used to resolve many job
// references with one call.
const jobIndexLimit = 100

// loaders holds the dataloaders of one request. A loader shared across
// requests would leak one caller's data into another's response; the cache
// and the coalescing of fetches across requests live in the credential's
// economy (upstream.Economy), below the loaders.
type loaders struct {
	// candidate loads GET /candidates/{id} (detail); nil value for a 404.
	candidate *upstream.Loader[string, *workable.Candidate]
	// candidateBasic loads a candidate's list fields: from a cached list
	// page's copy when there is one, else through candidate.
	candidateBasic *upstream.Loader[string, *workable.Candidate]
	// jobDetail loads GET /jobs/{shortcode}; nil value for a 404.
	jobDetail *upstream.Loader[string, *workable.Job]
	// job loads a job's list fields by shortcode; nil value when Workable
	// has no such job. See jobFromIndex for the strategy.
	job *upstream.Loader[string, *workable.Job]
	// candidateListed loads a candidate's list item (the only shape with
	// resume_metadata, API.md §10): a cached list page's copy, else
	// GET /candidates?since_id={id}&limit=1; nil value when there is none.
	candidateListed *upstream.Loader[string, *workable.Candidate]
	// stages loads a pipeline: the account's (key "") or a job's (key its
	// shortcode); nil value for a job Workable does not have.
	stages *upstream.Loader[string, []*workable.Stage]
	// activityLog loads a candidate's whole activity stream, oldest first.
	activityLog *upstream.Loader[string, []*workable.Activity]
	// reasons loads the account's disqualification reasons (key "");
	// jobMembers a job's collaborators (key its shortcode; nil value for a
	// job Workable does not have). See actionforms.go.
	reasons    *upstream.Loader[string, []*workable.DisqualificationReason]
	jobMembers *upstream.Loader[string, []*workable.Member]

	jobPages         *upstream.Loader[upstream.JobPageKey, upstream.Page[workable.Job]]
	candidatePages   *upstream.Loader[upstream.CandidatePageKey, upstream.Page[workable.Candidate]]
	activityPages    *upstream.Loader[upstream.ActivityPageKey, upstream.Page[workable.Activity]]
	jobActivityPages *upstream.Loader[upstream.JobActivityPageKey, upstream.Page[workable.Activity]]
	// activity loads one activity (Query.node); nil value when Workable no
	// longer has it. Every activity of a cached page is cached on its own
	// too, so a listed activity costs nothing more.
	activity *upstream.Loader[upstream.ActivityKey, *workable.Activity]
}

// newLoaders returns a fresh set of loaders for one request, counting its
// cost in rs.
func newLoaders(e *upstream.Economy, rs *upstream.Request) *loaders {
	l := &loaders{}
	listsGen := func(string) string { return e.ListsGenKey() }
	l.candidate = upstream.NewLoader(e, rs, upstream.Spec[string, *workable.Candidate]{
		Kind: cache.KindCandidate, ID: upstream.DetailID, Gen: e.CandidateGenKey, Fetch: e.FetchCandidate,
	})
	l.candidateBasic = upstream.NewLoader(e, rs, upstream.Spec[string, *workable.Candidate]{
		Kind: cache.KindCandidate, ID: upstream.ListedID, Gen: listsGen, Fetch: l.basicFromDetail, Derived: true,
	})
	// The jobs generation guards every job and jobs page: the refresher
	// replaces it when Workable reports a job changed.
	jobsGen := func(string) string { return e.JobsGenKey() }
	l.jobDetail = upstream.NewLoader(e, rs, upstream.Spec[string, *workable.Job]{
		Kind: cache.KindJob, ID: upstream.DetailID, Gen: jobsGen, Fetch: e.FetchJobDetail,
	})
	l.job = upstream.NewLoader(e, rs, upstream.Spec[string, *workable.Job]{
		Kind: cache.KindJob, ID: upstream.ListedID, Gen: jobsGen, Fetch: l.jobFromIndex, Derived: true,
	})
	l.jobPages = upstream.NewLoader(e, rs, upstream.Spec[upstream.JobPageKey, upstream.Page[workable.Job]]{
		Kind: cache.KindJobList, ID: upstream.JobPageKey.Canonical, Gen: func(upstream.JobPageKey) string { return e.JobsGenKey() }, Fetch: e.FetchJobPage,
	})
	l.candidatePages = upstream.NewLoader(e, rs, upstream.Spec[upstream.CandidatePageKey, upstream.Page[workable.Candidate]]{
		Kind: cache.KindCandidateList, ID: upstream.CandidatePageKey.Canonical,
		Gen: func(upstream.CandidatePageKey) string { return e.ListsGenKey() }, Fetch: e.FetchCandidatePage,
	})
	l.activityPages = upstream.NewLoader(e, rs, upstream.Spec[upstream.ActivityPageKey, upstream.Page[workable.Activity]]{
		Kind: cache.KindActivities, ID: upstream.ActivityPageKey.Canonical,
		Gen: func(k upstream.ActivityPageKey) string { return e.CandidateGenKey(k.CandidateID) }, Fetch: e.FetchActivityPage,
	})
	l.candidateListed = upstream.NewLoader(e, rs, upstream.Spec[string, *workable.Candidate]{
		Kind: cache.KindCandidate, ID: upstream.ListedID, Gen: listsGen, Fetch: e.FetchCandidateListed,
	})
	// A pipeline is job configuration: cached like jobs, without generation
	// (no write of the gateway changes it).
	l.stages = upstream.NewLoader(e, rs, upstream.Spec[string, []*workable.Stage]{
		Kind: cache.KindJob, ID: upstream.StagesID, Fetch: e.FetchStages,
	})
	l.activityLog = upstream.NewLoader(e, rs, upstream.Spec[string, []*workable.Activity]{
		Kind: cache.KindActivities, ID: upstream.ActivityLogID,
		Gen: e.CandidateGenKey, Fetch: e.FetchActivityLog,
	})
	// Disqualification reasons and a job's members are account and job
	// configuration, cached like the pipeline.
	l.reasons = upstream.NewLoader(e, rs, upstream.Spec[string, []*workable.DisqualificationReason]{
		Kind: cache.KindJob, ID: upstream.ReasonsID, Fetch: e.FetchReasons,
	})
	l.jobMembers = upstream.NewLoader(e, rs, upstream.Spec[string, []*workable.Member]{
		Kind: cache.KindJob, ID: upstream.JobMembersID, Fetch: e.FetchJobMembers,
	})
	// A job's activities change with any of its candidates: the candidate
	// lists generation, which every candidate write replaces, guards them.
	l.jobActivityPages = upstream.NewLoader(e, rs, upstream.Spec[upstream.JobActivityPageKey, upstream.Page[workable.Activity]]{
		Kind: cache.KindActivities, ID: upstream.JobActivityPageKey.Canonical,
		Gen: func(upstream.JobActivityPageKey) string { return e.ListsGenKey() }, Fetch: e.FetchJobActivityPage,
	})
	l.activity = upstream.NewLoader(e, rs, upstream.Spec[upstream.ActivityKey, *workable.Activity]{
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

// load reads one key, at the rank of the field asking (see cost.RankOf); a
// transient failure is not kept (see upstream.Loader.Read).
func load[K comparable, V any](ctx context.Context, l *upstream.Loader[K, V], key K) (V, error) {
	return loadAsync(ctx, l, key)()
}

// loadAsync starts reading one key and returns a function that waits for
// it, so that reads through different loaders run together.
func loadAsync[K comparable, V any](ctx context.Context, l *upstream.Loader[K, V], key K) func() (V, error) {
	ctx = gqlhttp.RequestContext(ctx)
	return l.Read(ctx, key, func() workable.Rank { return cost.RankOf(ctx) })
}

// primeCandidate records a candidate Workable just returned in full after a
// write (create, update): its detail fields cost no further call in this
// request, and the write invalidates what it changed in the cache (see
// upstream.Economy.CandidateWritten).
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
	l.candidate.Replace(ctx, c.ID, c)
	l.candidateBasic.Replace(ctx, c.ID, c)
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
	index, err := load(ctx, l.jobPages, upstream.JobPageKey{PageRange: upstream.PageRange{Limit: jobIndexLimit}})
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
	one, err := load(ctx, l.jobPages, upstream.JobPageKey{PageRange: upstream.PageRange{SinceID: detail.ID, Limit: 1}})
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
