package graph

import (
	"context"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/workable"
)

// candidateFilters are the filters of a candidate connection.
type candidateFilters struct {
	shortcode, stage, email    string
	createdAfter, updatedAfter *time.Time
}

// candidatesConnection resolves Query.candidates and Job.candidates: one
// GET /candidates per page. The list items carry every list field and the
// job's shortcode and title, so those cost nothing more.
func (r *Resolver) candidatesConnection(ctx context.Context, kind string, f candidateFilters, first *int, after *string, last *int, before *string) (*model.CandidateConnection, error) {
	key := candidatePageKey{
		Shortcode: f.shortcode, Stage: f.stage, Email: f.email,
		CreatedAfter: keyTime(f.createdAfter), UpdatedAfter: keyTime(f.updatedAfter),
	}
	// Filters go to Workable in the query string: bound them, so a hostile
	// request cannot send megabytes upstream.
	if (f.shortcode != "" && !validRef(f.shortcode)) || len(f.stage) > maxShortTextLen || len(f.email) > maxEmailLen {
		return nil, badInput("a filter is too long or malformed (jobShortcode: at most %d printable ASCII characters; stage at most %d, email %d characters)",
			maxIDLen, maxShortTextLen, maxEmailLen)
	}
	filters := map[string]string{"shortcode": key.Shortcode, "stage": key.Stage}
	if kind == kindCandidates {
		filters["email"] = key.Email
		filters["createdAfter"] = key.CreatedAfter
		filters["updatedAfter"] = key.UpdatedAfter
	}
	p, err := newPageRequest(ctx, kind, filters, first, after, last, before)
	if err != nil {
		return nil, err
	}
	conn := &model.CandidateConnection{Edges: []model.CandidateEdge{}, Nodes: []workable.Candidate{}, PageInfo: &model.PageInfo{}}
	if p.skip {
		return conn, nil
	}
	pages := r.loadersFor(ctx).candidatePages
	items, hasPrev, hasNext, err := connectionPage(ctx, p, func(ctx context.Context, since, until string, limit int) (page[workable.Candidate], error) {
		k := key
		k.SinceID, k.MaxID, k.Limit = since, until, limit
		return load(ctx, pages, k)
	}, candidateID)
	if err != nil {
		return nil, err
	}
	cursors, info := edgeCursors(p, items, candidateID, hasPrev, hasNext)
	conn.PageInfo = info
	conn.Nodes = make([]workable.Candidate, len(items))
	conn.Edges = make([]model.CandidateEdge, len(items))
	for i, c := range items {
		conn.Nodes[i] = *c
		conn.Edges[i] = model.CandidateEdge{Cursor: cursors[i], Node: &conn.Nodes[i]}
	}
	return conn, nil
}

func candidateID(c *workable.Candidate) string { return c.ID }

// candidateByID resolves Query.candidate: GET /candidates/{id} through the
// candidate loader (so its detail fields cost nothing more), null on 404.
// When the selection asks for no detail field, a cached list page's copy of
// the candidate's list fields serves it instead.
func (r *Resolver) candidateByID(ctx context.Context, id string) (*workable.Candidate, error) {
	if !validRef(id) {
		return nil, badInput("id must be 1 to %d printable ASCII characters without spaces", maxIDLen)
	}
	l := r.loadersFor(ctx)
	if graphql.GetFieldContext(ctx) != nil && !slices.ContainsFunc(collectedNames(ctx), isCandidateDetailField) {
		return load(ctx, l.candidateBasic, id)
	}
	return load(ctx, l.candidate, id)
}

// isCandidateDetailField reports whether a Candidate field needs
// GET /candidates/{id} (the list items lack it).
func isCandidateDetailField(name string) bool {
	switch name {
	case "summary", "coverLetter", "tags", "educationEntries", "experienceEntries", "socialProfiles",
		"skills", "imageUrl", "resumeUrl", "disqualifiedAt", "location":
		return true
	}
	return false
}

// candidateDetail returns the full record of a candidate for its detail
// fields: one GET /candidates/{id} per candidate and request, made only
// when a detail field is asked for. It returns nil when the candidate no
// longer exists.
func (r *Resolver) candidateDetail(ctx context.Context, obj *workable.Candidate) (*workable.Candidate, error) {
	return load(ctx, r.loadersFor(ctx).candidate, obj.ID)
}

// detailString resolves an optional string detail field.
func (r *Resolver) detailString(ctx context.Context, obj *workable.Candidate, get func(*workable.Candidate) *string) (*string, error) {
	c, err := r.candidateDetail(ctx, obj)
	if err != nil || c == nil {
		return nil, err
	}
	return get(c), nil
}

// detailList resolves a list detail field; never null.
func detailList[T any](ctx context.Context, r *Resolver, obj *workable.Candidate, get func(*workable.Candidate) []T) ([]T, error) {
	c, err := r.candidateDetail(ctx, obj)
	if err != nil {
		return nil, err
	}
	if c == nil || get(c) == nil {
		return []T{}, nil
	}
	return get(c), nil
}

// activitiesConnection resolves Candidate.activities: one
// GET /candidates/{id}/activities per forward page.
func (r *Resolver) activitiesConnection(ctx context.Context, candidateID string, first *int, after *string, last *int, before *string) (*model.ActivityConnection, error) {
	p, err := newPageRequest(ctx, kindActivities, map[string]string{"candidate": candidateID}, first, after, last, before)
	if err != nil {
		return nil, err
	}
	conn := &model.ActivityConnection{Edges: []model.ActivityEdge{}, Nodes: []workable.Activity{}, PageInfo: &model.PageInfo{}}
	if p.skip {
		return conn, nil
	}
	pages := r.loadersFor(ctx).activityPages
	items, hasPrev, hasNext, err := connectionPage(ctx, p, func(ctx context.Context, since, until string, limit int) (page[workable.Activity], error) {
		return load(ctx, pages, activityPageKey{CandidateID: candidateID, SinceID: since, MaxID: until, Limit: limit})
	}, activityID)
	if err != nil {
		return nil, err
	}
	cursors, info := edgeCursors(p, items, activityID, hasPrev, hasNext)
	conn.PageInfo = info
	conn.Nodes = make([]workable.Activity, len(items))
	conn.Edges = make([]model.ActivityEdge, len(items))
	for i, a := range items {
		// A copy: the loaded activity may be shared with other requests.
		conn.Nodes[i] = *a
		conn.Nodes[i].CandidateID = candidateID
		conn.Edges[i] = model.ActivityEdge{Cursor: cursors[i], Node: &conn.Nodes[i]}
	}
	return conn, nil
}

func activityID(a *workable.Activity) string { return a.ID }

// validRef reports whether s can be a Workable id or shortcode in a query
// argument: 1 to maxIDLen printable ASCII characters without spaces.
// Workable's are short alphanumeric strings; anything else (a megabyte, or
// the U+FFFD that JSON decoding makes of invalid UTF-8) would only cost a
// pointless call upstream.
func validRef(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
