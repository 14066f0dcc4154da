package upstream

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/workable"
)

// The Workable reads under the GraphQL loaders: one function per kind of
// read, each the Fetch of a Spec, and the keys of the list pages
// and records they read (whose Canonical form is the cache id).

const (
	// maxFillPages bounds the extra calls that complete one short page (see
	// fillPage).
	maxFillPages = 3
	// ActivityLogLimit and MaxActivityLogPages bound the read of a
	// candidate's whole activity stream (Candidate.latestStageMove): at most
	// 2,000 activities, 20 calls.
	ActivityLogLimit    = 100
	MaxActivityLogPages = 20
)

// JobTextFields are the job text fields include_fields can add to the jobs
// list (API.md §2), asked for by a JobPageKey with WithText.
var JobTextFields = []string{"description", "full_description", "requirements", "benefits"}

// page is one Workable list page: its items and whether more follow
// (paging.next was present).
type Page[T any] struct {
	Items []*T
	More  bool
}

// PageRange is the part of a list page's key that says which items of the
// list it holds: since_id, max_id and limit. The page keys embed it.
type PageRange struct {
	SinceID string
	MaxID   string // "" for no upper bound (backward paging sets it)
	Limit   int
}

// SetRange sets the range of the page key that embeds r, so that code
// generic over the keys can page through any list.
func (r *PageRange) SetRange(to PageRange) { *r = to }

// query encodes the key of a page of the list filters (name, value pairs)
// names, in this range, as a query string sorted by name. max is there
// only when set, so that the keys of forward pages stay what they were
// before backward paging set it.
func (r PageRange) query(filters ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(filters); i += 2 {
		v.Set(filters[i], filters[i+1])
	}
	v.Set("since", r.SinceID)
	if r.MaxID != "" {
		v.Set("max", r.MaxID)
	}
	v.Set("limit", strconv.Itoa(r.Limit))
	return v.Encode()
}

// activityOptions are the parameters of an activity list call for this
// range (API.md §6).
func (r PageRange) activityOptions() *workable.ActivityListOptions {
	return &workable.ActivityListOptions{Limit: r.Limit, SinceID: r.SinceID, MaxID: r.MaxID}
}

// listOptions are the paging and date parameters of a jobs or candidates
// list call for this range.
func (r PageRange) listOptions(createdAfter, updatedAfter string) workable.ListOptions {
	return workable.ListOptions{Limit: r.Limit, SinceID: r.SinceID, MaxID: r.MaxID,
		CreatedAfter: parseKeyTime(createdAfter), UpdatedAfter: parseKeyTime(updatedAfter)}
}

// JobPageKey identifies one GET /jobs call.
type JobPageKey struct {
	State        string
	CreatedAfter string // RFC 3339, "" when unset
	UpdatedAfter string
	PageRange
	// WithText adds include_fields=description,full_description,requirements,benefits
	// (JobTextFields); the page's jobs carry those that Workable returned.
	WithText bool
}

// CandidatePageKey identifies one GET /candidates call.
type CandidatePageKey struct {
	Shortcode    string
	Stage        string
	Email        string
	CreatedAfter string // RFC 3339, "" when unset
	UpdatedAfter string
	PageRange
}

// ActivityPageKey identifies one GET /candidates/{id}/activities call.
type ActivityPageKey struct {
	CandidateID string
	PageRange
}

// JobActivityPageKey identifies one GET /jobs/{shortcode}/activities call.
type JobActivityPageKey struct {
	Shortcode string
	PageRange
}

// ActivityKey identifies one activity. Workable reads activities only
// through a list: the candidate's (CandidateID set) or, for a job's own
// events that name no candidate, the job's (Shortcode set).
type ActivityKey struct {
	CandidateID, Shortcode, ID string
}

// Canonical encodes the key for a cache id (sorted, escaped, stable).
func (k JobPageKey) Canonical() string {
	return k.query("state", k.State, "ca", k.CreatedAfter, "ua", k.UpdatedAfter,
		"text", strconv.FormatBool(k.WithText))
}

// Canonical encodes the key for a cache id (sorted, escaped, stable).
func (k CandidatePageKey) Canonical() string {
	return k.query("job", k.Shortcode, "stage", k.Stage, "email", k.Email,
		"ca", k.CreatedAfter, "ua", k.UpdatedAfter)
}

// Canonical encodes the key for a cache id (sorted, escaped, stable).
func (k ActivityPageKey) Canonical() string {
	return url.PathEscape(k.CandidateID) + "?" + k.query()
}

// Canonical encodes the key for a cache id (sorted, escaped, stable; the
// "job:" prefix keeps it apart from a candidate's pages).
func (k JobActivityPageKey) Canonical() string {
	return "job:" + url.PathEscape(k.Shortcode) + "?" + k.query()
}

// Canonical is the cache id of one activity: "r:" (a candidate's) and
// "rj:" (a job's own) set it apart from the pages of the same kind.
func (k ActivityKey) Canonical() string {
	if k.CandidateID == "" {
		return "rj:" + url.PathEscape(k.Shortcode) + "/" + url.PathEscape(k.ID)
	}
	return "r:" + url.PathEscape(k.CandidateID) + "/" + url.PathEscape(k.ID)
}

// StagesID is the cache id of a pipeline (FetchStages): the account's (key
// "") or a job's (key its shortcode).
func StagesID(shortcode string) string { return "stages:" + shortcode }

// ActivityLogID is the cache id of a candidate's whole activity stream
// (FetchActivityLog).
func ActivityLogID(candidateID string) string { return "log:" + candidateID }

// ReasonsID is the cache id of the account's disqualification reasons
// (FetchReasons; the key is always "").
func ReasonsID(string) string { return "dqreasons" }

// JobMembersID is the cache id of a job's collaborators (FetchJobMembers).
func JobMembersID(shortcode string) string { return "members:" + shortcode }

// FetchCandidate reads one candidate's detail, GET /candidates/{id}
// (Workable has no batch read). A 404 gives nil without an error.
func (e *Economy) FetchCandidate(ctx context.Context, id, _ string) (*workable.Candidate, []cache.Item, error) {
	c, _, err := e.client.Candidates.Get(ctx, id)
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

// FetchJobDetail reads GET /jobs/{shortcode}; a 404 gives nil without an
// error. The detail serves the detail fields only: a live detail lacks
// location_str and sample (API.md §10), so it never stands in for the
// job's list item.
func (e *Economy) FetchJobDetail(ctx context.Context, shortcode, _ string) (*workable.Job, []cache.Item, error) {
	j, _, err := e.client.Jobs.Get(ctx, shortcode)
	return absentOn404(j, err)
}

// FetchJobPage runs one GET /jobs; each job of the page is cached too, for
// references by shortcode. Its parameters are those of API.md §2: state,
// limit, since_id, created_after, updated_after and include_fields.
func (e *Economy) FetchJobPage(ctx context.Context, k JobPageKey, gen string) (Page[workable.Job], []cache.Item, error) {
	opts := &workable.JobListOptions{
		State:       k.State,
		ListOptions: k.listOptions(k.CreatedAfter, k.UpdatedAfter),
	}
	if k.WithText {
		// simulator guess: include_fields is a comma-separated list (the
		// reference marks its format as [I]; the client joins with commas).
		// Whether Workable honoured it is not assumed: see listedText.
		opts.IncludeFields = append(opts.IncludeFields, JobTextFields...)
	}
	jobs, resp, err := e.client.Jobs.List(ctx, opts)
	return recordPage(ctx, e, cache.KindJob, gen, jobs, resp, err, k.Limit, func(j *workable.Job) string { return ListedID(j.Shortcode) })
}

// FetchCandidatePage runs one GET /candidates. The list fields of each
// candidate of the page are cached too, under the same lists generation
// (a later candidate(id) asking only list fields then costs nothing); the
// detail fields still come from GET /candidates/{id}, as list items lack
// them. Its parameters are those of API.md §3: shortcode, stage, email,
// limit, since_id, created_after and updated_after. With shortcode, a live
// account's paging.next goes through /jobs/{shortcode}/candidates (API.md
// §10), which fillPage follows as given.
func (e *Economy) FetchCandidatePage(ctx context.Context, k CandidatePageKey, gen string) (Page[workable.Candidate], []cache.Item, error) {
	cands, resp, err := e.client.Candidates.List(ctx, &workable.CandidateListOptions{
		Shortcode:   k.Shortcode,
		Stage:       k.Stage,
		Email:       k.Email,
		ListOptions: k.listOptions(k.CreatedAfter, k.UpdatedAfter),
	})
	return recordPage(ctx, e, cache.KindCandidate, gen, cands, resp, err, k.Limit, func(c *workable.Candidate) string { return ListedID(c.ID) })
}

// recordPage completes the first answer of a list (recs, resp, err) to a
// page of limit records (fillPage), with a cache item of kind, made under
// generation gen, for each record whose cache id (id) is not "".
func recordPage[T any](ctx context.Context, e *Economy, kind cache.Kind, gen string, recs []*T, resp *workable.Response, err error, limit int, id func(*T) string) (Page[T], []cache.Item, error) {
	if err != nil {
		return Page[T]{}, nil, err
	}
	pg, err := fillPage(ctx, e.client, recs, resp, limit)
	if err != nil || !e.Caches() {
		return pg, nil, err
	}
	items := make([]cache.Item, 0, len(pg.Items))
	for _, r := range pg.Items {
		cid := id(r)
		if cid == "" {
			continue
		}
		it, err := e.Item(kind, cid, gen, r)
		if err != nil {
			return Page[T]{}, nil, err
		}
		items = append(items, it)
	}
	return pg, items, nil
}

// FetchCandidateListed reads a candidate's list item: GET
// /candidates?since_id={id}&limit=1 (API.md §3; since_id is inclusive, so
// the first item is the candidate when it exists). It gives nil without an
// error when the first item is another candidate (there is no such
// candidate).
func (e *Economy) FetchCandidateListed(ctx context.Context, id, _ string) (*workable.Candidate, []cache.Item, error) {
	cands, _, err := e.client.Candidates.List(ctx, &workable.CandidateListOptions{ListOptions: workable.ListOptions{SinceID: id, Limit: 1}})
	if err != nil {
		return nil, nil, err
	}
	if len(cands) == 0 || cands[0].ID != id {
		return nil, nil, nil
	}
	return cands[0], nil, nil
}

// FetchActivityPage runs one GET /candidates/{id}/activities (API.md §6:
// limit, since_id, max_id). Each activity of the page is cached too, under
// the same generation, for Query.node.
func (e *Economy) FetchActivityPage(ctx context.Context, k ActivityPageKey, gen string) (Page[workable.Activity], []cache.Item, error) {
	acts, resp, err := e.client.Candidates.ListActivities(ctx, k.CandidateID,
		k.activityOptions())
	return recordPage(ctx, e, cache.KindActivities, gen, acts, resp, err, k.Limit, func(a *workable.Activity) string {
		return ActivityKey{CandidateID: k.CandidateID, ID: a.ID}.Canonical()
	})
}

// FetchJobActivityPage runs one GET /jobs/{shortcode}/activities (API.md
// §6: limit, since_id, max_id). The job's own events of the page (those
// naming no candidate) are cached one by one too, for Query.node; an
// activity about a candidate is found again through that candidate's list.
func (e *Economy) FetchJobActivityPage(ctx context.Context, k JobActivityPageKey, gen string) (Page[workable.Activity], []cache.Item, error) {
	acts, resp, err := e.client.Jobs.ListActivities(ctx, k.Shortcode,
		k.activityOptions())
	return recordPage(ctx, e, cache.KindActivities, gen, acts, resp, err, k.Limit, func(a *workable.Activity) string {
		if a.Candidate != nil && a.Candidate.ID != "" {
			return ""
		}
		return ActivityKey{Shortcode: k.Shortcode, ID: a.ID}.Canonical()
	})
}

// FetchActivity reads one activity: the page of its candidate's (or job's)
// list that starts and ends at it (since_id and max_id are inclusive,
// API.md §6). nil when Workable no longer has it.
func (e *Economy) FetchActivity(ctx context.Context, k ActivityKey, _ string) (*workable.Activity, []cache.Item, error) {
	opts := &workable.ActivityListOptions{Limit: 1, SinceID: k.ID, MaxID: k.ID}
	var acts []*workable.Activity
	var err error
	if k.CandidateID != "" {
		acts, _, err = e.client.Candidates.ListActivities(ctx, k.CandidateID, opts)
	} else {
		acts, _, err = e.client.Jobs.ListActivities(ctx, k.Shortcode, opts)
	}
	if errors.Is(err, workable.ErrNotFound) {
		return nil, nil, nil // the candidate or job is gone
	}
	if err != nil || len(acts) == 0 || acts[0].ID != k.ID {
		return nil, nil, err
	}
	return acts[0], nil, nil
}

// FetchActivityLog reads a candidate's whole activity stream: GET
// /candidates/{id}/activities?limit=100 (API.md §6), then each paging.next
// exactly as given, at most MaxActivityLogPages pages; a longer stream is
// an error (workable.ErrPageLimit) rather than a wrong "latest".
func (e *Economy) FetchActivityLog(ctx context.Context, id, _ string) ([]*workable.Activity, []cache.Item, error) {
	out := []*workable.Activity{}
	for a, err := range workable.Walk(ctx, e.client, func(ctx context.Context) ([]*workable.Activity, *workable.Response, error) {
		return e.client.Candidates.ListActivities(ctx, id, &workable.ActivityListOptions{Limit: ActivityLogLimit})
	}, MaxActivityLogPages) {
		if err != nil {
			return nil, nil, err
		}
		out = append(out, a)
	}
	return out, nil, nil
}

// FetchStages reads a pipeline: GET /stages for the account (key ""), GET
// /jobs/{shortcode}/stages for a job (API.md §9); a job Workable does not
// have gives nil without an error.
func (e *Economy) FetchStages(ctx context.Context, shortcode, _ string) ([]*workable.Stage, []cache.Item, error) {
	var stages []*workable.Stage
	var err error
	if shortcode == "" {
		stages, _, err = e.client.Accounts.ListStages(ctx)
	} else {
		stages, _, err = e.client.Jobs.ListStages(ctx, shortcode)
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
func fillPage[T any](ctx context.Context, c *workable.Client, items []*T, resp *workable.Response, limit int) (Page[T], error) {
	for extra := 0; len(items) < limit && resp != nil && resp.NextURL != "" && extra < maxFillPages; extra++ {
		more, next, err := workable.NextPage[*T](ctx, c, resp)
		if err != nil {
			return Page[T]{}, err
		}
		items, resp = append(items, more...), next
	}
	pg := Page[T]{Items: items, More: resp != nil && resp.NextURL != ""}
	if len(items) > limit {
		pg.Items, pg.More = items[:limit], true
	}
	return pg, nil
}

// KeyTime renders an optional time for a loader key.
func KeyTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// parseKeyTime is the inverse of KeyTime.
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

// activityGen is the generation guarding one cached activity: its
// candidate's, or the candidate lists' for a job's own events (the
// generation of the job activity pages that list them).
func (e *Economy) ActivityGenKey(k ActivityKey) string {
	if k.CandidateID == "" {
		return e.ListsGenKey()
	}
	return e.CandidateGenKey(k.CandidateID)
}

// maxJobMemberPages bounds Job.members (FetchJobMembers): Workable does not
// document the paging of GET /jobs/{shortcode}/members; at most 5 pages are
// read (500 members at GET /members' largest page), more is an error rather
// than a silently cut list.
const maxJobMemberPages = 5

// FetchReasons reads GET /disqualification_reasons (API.md §9, §10).
func (e *Economy) FetchReasons(ctx context.Context, _, _ string) ([]*workable.DisqualificationReason, []cache.Item, error) {
	reasons, _, err := e.client.Accounts.ListDisqualificationReasons(ctx)
	if err != nil {
		return nil, nil, err
	}
	if reasons == nil {
		reasons = []*workable.DisqualificationReason{}
	}
	return reasons, nil, nil
}

// FetchJobMembers reads GET /jobs/{shortcode}/members and each paging.next
// exactly as given (API.md §9); a job Workable does not have gives nil
// without an error. A member listed twice is kept once.
func (e *Economy) FetchJobMembers(ctx context.Context, shortcode, _ string) ([]*workable.Member, []cache.Item, error) {
	out := []*workable.Member{}
	seen := make(map[string]bool)
	for m, err := range workable.Walk(ctx, e.client, func(ctx context.Context) ([]*workable.Member, *workable.Response, error) {
		return e.client.Jobs.ListMembers(ctx, shortcode)
	}, maxJobMemberPages) {
		if errors.Is(err, workable.ErrNotFound) {
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if !seen[m.ID] {
			seen[m.ID] = true
			out = append(out, m)
		}
	}
	return out, nil, nil
}
