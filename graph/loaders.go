package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/workablegw/gateway/workable"
)

// Per-request dataloaders. Every Workable read of a query goes through one of
// them, so a query never fetches the same thing twice and concurrent field
// resolvers share calls. Each batch function is a small method taking keys
// and returning values in key order; the cache layer slots in there
// (batch → cache GetMany → Workable for the misses → cache SetMany).

const (
	// loaderWait is how long a loader collects keys before calling its batch
	// function. gqlgen starts the resolvers of a list's items together, so a
	// couple of milliseconds catches a whole page; the default 16 ms would
	// add that much latency to every level of a query.
	loaderWait = 2 * time.Millisecond
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
	Limit        int
	// WithText adds include_fields=description,full_description,requirements,benefits.
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
// requests would leak one caller's data into another's response.
type loaders struct {
	client *workable.Client

	// candidate loads GET /candidates/{id} (detail); nil value for a 404.
	candidate *dataloader.Loader[string, *workable.Candidate]
	// jobDetail loads GET /jobs/{shortcode}; nil value for a 404.
	jobDetail *dataloader.Loader[string, *workable.Job]
	// job loads a job's list fields by shortcode; nil value when Workable
	// has no such job. See batchJobs for the strategy.
	job *dataloader.Loader[string, *workable.Job]

	jobPages       *dataloader.Loader[jobPageKey, page[workable.Job]]
	candidatePages *dataloader.Loader[candidatePageKey, page[workable.Candidate]]
	activityPages  *dataloader.Loader[activityPageKey, page[workable.Activity]]

	// jobIndex is the first page of GET /jobs?limit=100 by shortcode, nil
	// until fetched; fetched at most once per request (see batchJobs).
	jobIndexMu sync.Mutex
	jobIndex   map[string]*workable.Job
}

// newLoaders returns a fresh set of loaders for one request.
func newLoaders(client *workable.Client) *loaders {
	l := &loaders{client: client}
	l.candidate = newLoader(l.batchCandidates)
	l.jobDetail = newLoader(l.batchJobDetails)
	l.job = newLoader(l.batchJobs)
	l.jobPages = newLoader(l.batchJobPages)
	l.candidatePages = newLoader(l.batchCandidatePages)
	l.activityPages = newLoader(l.batchActivityPages)
	return l
}

func newLoader[K comparable, V any](batch dataloader.BatchFunc[K, V]) *dataloader.Loader[K, V] {
	return dataloader.NewBatchedLoader(batch, dataloader.WithWait[K, V](loaderWait))
}

type loadersKey struct{}

// withLoaders is the HTTP middleware that gives each request its own
// loaders.
func withLoaders(client *workable.Client, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), loadersKey{}, newLoaders(client))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// loadersFor returns the request's loaders. Outside the middleware (a
// resolver called directly) it returns fresh loaders that dedupe nothing
// across calls but still work.
func (r *Resolver) loadersFor(ctx context.Context) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return newLoaders(r.client)
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

// primeCandidate stores a candidate Workable just returned in full (create,
// update) so that its detail fields cost no further call in this request.
func (r *Resolver) primeCandidate(ctx context.Context, c *workable.Candidate) {
	if c == nil {
		return
	}
	l := r.loadersFor(ctx)
	l.candidate.Clear(ctx, c.ID)
	l.candidate.Prime(ctx, c.ID, c)
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
			v, err := fetch(ctx, k)
			results[i] = &dataloader.Result[V]{Data: v, Error: err}
		})
	}
	wg.Wait()
	return results
}

// batchCandidates loads candidate details, one GET /candidates/{id} per id
// (Workable has no batch read). A 404 gives nil without an error.
func (l *loaders) batchCandidates(ctx context.Context, ids []string) []*dataloader.Result[*workable.Candidate] {
	return fetchEach(ctx, ids, func(ctx context.Context, id string) (*workable.Candidate, error) {
		c, _, err := l.client.Candidates.Get(ctx, id)
		if errors.Is(err, workable.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("get candidate: %w", err)
		}
		return c, nil
	})
}

// batchJobDetails loads job details, one GET /jobs/{shortcode} each. A 404
// gives nil without an error.
func (l *loaders) batchJobDetails(ctx context.Context, shortcodes []string) []*dataloader.Result[*workable.Job] {
	return fetchEach(ctx, shortcodes, l.getJob)
}

func (l *loaders) getJob(ctx context.Context, shortcode string) (*workable.Job, error) {
	j, _, err := l.client.Jobs.Get(ctx, shortcode)
	if errors.Is(err, workable.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get job: %w", err)
	}
	return j, nil
}

// batchJobs loads the list fields of jobs referenced by shortcode (a
// candidate's job). A single shortcode costs one GET /jobs/{shortcode}, as
// the list could not do better. Several shortcodes first consult the first
// page of GET /jobs?limit=100, fetched once per request and shared by every
// later batch, and fall back to GET /jobs/{shortcode} for the ones it lacks
// (accounts with more than 100 jobs, or jobs newer than that page).
func (l *loaders) batchJobs(ctx context.Context, shortcodes []string) []*dataloader.Result[*workable.Job] {
	if len(shortcodes) == 1 && !l.jobIndexLoaded() {
		return fetchEach(ctx, shortcodes, l.getJob)
	}
	index, err := l.loadJobIndex(ctx)
	if err != nil {
		results := make([]*dataloader.Result[*workable.Job], len(shortcodes))
		for i := range results {
			results[i] = &dataloader.Result[*workable.Job]{Error: err}
		}
		return results
	}
	return fetchEach(ctx, shortcodes, func(ctx context.Context, sc string) (*workable.Job, error) {
		if j, ok := index[sc]; ok {
			return j, nil
		}
		return l.getJob(ctx, sc)
	})
}

func (l *loaders) jobIndexLoaded() bool {
	l.jobIndexMu.Lock()
	defer l.jobIndexMu.Unlock()
	return l.jobIndex != nil
}

// loadJobIndex fetches the first page of the jobs list once per request;
// concurrent batches wait for the one fetch. A failure is not remembered.
func (l *loaders) loadJobIndex(ctx context.Context) (map[string]*workable.Job, error) {
	l.jobIndexMu.Lock()
	defer l.jobIndexMu.Unlock()
	if l.jobIndex != nil {
		return l.jobIndex, nil
	}
	jobs, _, err := l.client.Jobs.List(ctx, &workable.JobListOptions{Limit: jobIndexLimit})
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	index := make(map[string]*workable.Job, len(jobs))
	for _, j := range jobs {
		index[j.Shortcode] = j
	}
	l.jobIndex = index
	return index, nil
}

// batchJobPages runs one GET /jobs per key.
func (l *loaders) batchJobPages(ctx context.Context, keys []jobPageKey) []*dataloader.Result[page[workable.Job]] {
	return fetchEach(ctx, keys, func(ctx context.Context, k jobPageKey) (page[workable.Job], error) {
		opts := &workable.JobListOptions{
			State:        k.State,
			Limit:        k.Limit,
			SinceID:      k.SinceID,
			CreatedAfter: parseKeyTime(k.CreatedAfter),
			UpdatedAfter: parseKeyTime(k.UpdatedAfter),
		}
		if k.WithText {
			opts.IncludeFields = jobTextFields
		}
		jobs, resp, err := l.client.Jobs.List(ctx, opts)
		if err != nil {
			return page[workable.Job]{}, fmt.Errorf("list jobs: %w", err)
		}
		return page[workable.Job]{Items: jobs, More: resp != nil && resp.NextURL != ""}, nil
	})
}

// batchCandidatePages runs one GET /candidates per key.
func (l *loaders) batchCandidatePages(ctx context.Context, keys []candidatePageKey) []*dataloader.Result[page[workable.Candidate]] {
	return fetchEach(ctx, keys, func(ctx context.Context, k candidatePageKey) (page[workable.Candidate], error) {
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
			return page[workable.Candidate]{}, fmt.Errorf("list candidates: %w", err)
		}
		return page[workable.Candidate]{Items: cands, More: resp != nil && resp.NextURL != ""}, nil
	})
}

// batchActivityPages runs one GET /candidates/{id}/activities per key.
func (l *loaders) batchActivityPages(ctx context.Context, keys []activityPageKey) []*dataloader.Result[page[workable.Activity]] {
	return fetchEach(ctx, keys, func(ctx context.Context, k activityPageKey) (page[workable.Activity], error) {
		acts, resp, err := l.client.Candidates.ListActivities(ctx, k.CandidateID,
			&workable.ActivityListOptions{Limit: k.Limit, SinceID: k.SinceID})
		if err != nil {
			return page[workable.Activity]{}, fmt.Errorf("list activities: %w", err)
		}
		return page[workable.Activity]{Items: acts, More: resp != nil && resp.NextURL != ""}, nil
	})
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
