package graph

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/hiring"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// candidateFilters are the filters of a candidate connection.
type candidateFilters struct {
	shortcode, email string
	// stage is nil when the argument is absent (every stage); an empty
	// slug is refused, not read as absent.
	stage                      *string
	createdAfter, updatedAfter *time.Time
}

// candidatesConnection resolves Query.candidates and Job.candidates: one
// GET /candidates per page. The list items carry every list field and the
// job's shortcode and title, so those cost nothing more.
func (r *Resolver) candidatesConnection(ctx context.Context, kind string, f candidateFilters, first *int, after *string, last *int, before *string) (*model.CandidateConnection, error) {
	return candidatesPage(ctx, kind, f, r.loadersFor(ctx).candidatePages, load, first, after, last, before)
}

// candidatesPage builds a page of candidates from the list pages read
// returns (candidatesConnection's loads, or the decoded tier alone for the
// fast path).
func candidatesPage(ctx context.Context, kind string, f candidateFilters,
	pages *upstream.Loader[upstream.CandidatePageKey, upstream.Page[workable.Candidate]], read pageReader[upstream.CandidatePageKey, workable.Candidate],
	first *int, after *string, last *int, before *string) (*model.CandidateConnection, error) {
	key := upstream.CandidatePageKey{
		Shortcode: f.shortcode, Stage: deref(f.stage), Email: f.email,
		CreatedAfter: upstream.KeyTime(f.createdAfter), UpdatedAfter: upstream.KeyTime(f.updatedAfter),
	}
	// Filters go to Workable in the query string: refuse what Workable
	// could only refuse (without asking it) and bound them, so a hostile
	// request cannot send megabytes upstream.
	if f.shortcode != "" {
		if err := checkRef("jobShortcode", f.shortcode); err != nil {
			return nil, err
		}
	}
	if f.stage != nil {
		if msg := slugProblem(*f.stage); msg != "" {
			return nil, badInput("stage must be a stage slug such as phone-screen (see Query.stages): %s", msg)
		}
	}
	if len(f.email) > hiring.MaxEmailLen {
		return nil, badInput("the email filter is too long (at most %d characters)", hiring.MaxEmailLen)
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
	conn := &model.CandidateConnection{}
	conn.Nodes, conn.Edges, conn.PageInfo, err = connection(ctx, p, listPages(pages, key, read), candidateID,
		// The page's own candidates, not copies: they are read-only.
		func(items []*workable.Candidate) []*workable.Candidate { return items },
		func(cursor string, c **workable.Candidate) model.CandidateEdge {
			return model.CandidateEdge{Cursor: cursor, Node: *c}
		})
	if err != nil {
		return nil, err
	}
	return conn, nil
}

func candidateID(c *workable.Candidate) string { return c.ID }

// candidateByID resolves Query.candidate: GET /candidates/{id} through the
// candidate loader (so its detail fields cost nothing more), null on 404.
// When the selection asks for no detail field, the candidate's list item
// serves it instead: a cached list page's copy when there is one, and the
// list item itself (one GET /candidates) when a field only list items carry
// is asked for.
func (r *Resolver) candidateByID(ctx context.Context, id string) (*workable.Candidate, error) {
	if err := checkRef("id", id); err != nil {
		return nil, err
	}
	l := r.loadersFor(ctx)
	if graphql.GetFieldContext(ctx) != nil {
		names := collectedNames(ctx)
		switch {
		case slices.ContainsFunc(names, isCandidateDetailField):
		case slices.ContainsFunc(names, isCandidateListOnlyField):
			return load(ctx, l.candidateListed, id)
		default:
			return load(ctx, l.candidateBasic, id)
		}
	}
	return load(ctx, l.candidate, id)
}

// isCandidateDetailField reports whether a Candidate field needs
// GET /candidates/{id} (the list items lack it; a live list item lacks
// withdrew, API.md §10).
func isCandidateDetailField(name string) bool {
	switch name {
	case "summary", "coverLetter", "tags", "educationEntries", "experienceEntries", "socialProfiles",
		"skills", "imageUrl", "resumeUrl", "disqualifiedAt", "location", "withdrew":
		return true
	}
	return false
}

// isCandidateListOnlyField reports whether a Candidate field comes only with
// list items (resume_metadata, API.md §10), so a detail cannot serve it.
func isCandidateListOnlyField(name string) bool { return name == "resumeMetadata" }

// candidateWithdrew resolves Candidate.withdrew from the candidate's
// detail, which alone carries it in live answers (API.md §10); a record
// that has it (a detail, or a documented list item) serves it directly.
func (r *Resolver) candidateWithdrew(ctx context.Context, obj *workable.Candidate) (*bool, error) {
	if obj.Withdrew != nil {
		return obj.Withdrew, nil
	}
	c, err := r.candidateDetail(ctx, obj)
	if err != nil || c == nil {
		return nil, err
	}
	return c.Withdrew, nil
}

// candidateResume resolves Candidate.resumeMetadata from the candidate's
// list item, which alone carries it (API.md §10): obj when it is one, else
// the cached list copy or, failing that, the list item itself, GET
// /candidates?since_id={id}&limit=1 (since_id is inclusive, API.md §3, so
// the first item is the candidate).
func (r *Resolver) candidateResume(ctx context.Context, obj *workable.Candidate) (*workable.ResumeMetadata, error) {
	if obj.ResumeMetadata.Set {
		return obj.ResumeMetadata.Value, nil
	}
	c, err := load(ctx, r.loadersFor(ctx).candidateListed, obj.ID)
	if err != nil || c == nil {
		return nil, err
	}
	return c.ResumeMetadata.Value, nil
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

// activitiesConnection resolves Candidate.activities (kind kindActivities:
// one GET /candidates/{id}/activities per forward page) and Job.activities
// (kind kindJobActivities: one GET /jobs/{shortcode}/activities per forward
// page). The nodes are copies that say their job (shortcode) and candidate.
func (r *Resolver) activitiesConnection(ctx context.Context, kind, shortcode, candidateID string, first *int, after *string, last *int, before *string) (*model.ActivityConnection, error) {
	l := r.loadersFor(ctx)
	var (
		filters map[string]string
		read    upstream.ListPage[workable.Activity]
	)
	if kind == kindActivities {
		filters = map[string]string{"candidate": candidateID}
		read = listPages(l.activityPages, upstream.ActivityPageKey{CandidateID: candidateID}, load)
	} else {
		filters = map[string]string{"job": shortcode}
		read = listPages(l.jobActivityPages, upstream.JobActivityPageKey{Shortcode: shortcode}, load)
	}
	p, err := newPageRequest(ctx, kind, filters, first, after, last, before)
	if err != nil {
		return nil, err
	}
	conn := &model.ActivityConnection{}
	conn.Nodes, conn.Edges, conn.PageInfo, err = connection(ctx, p, read, activityID,
		func(items []*workable.Activity) []model.Activity {
			nodes := make([]model.Activity, len(items))
			for i, a := range items {
				// A copy: the loaded activity may be shared with other requests.
				nodes[i] = model.Activity{Activity: *a, JobShortcode: shortcode, CandidateID: activityCandidate(a, candidateID)}
			}
			return nodes
		},
		func(cursor string, a *model.Activity) model.ActivityEdge {
			return model.ActivityEdge{Cursor: cursor, Node: a}
		})
	if err != nil {
		return nil, err
	}
	return conn, nil
}

// activityCandidate is the candidate an activity is about: the list's, or
// the one a job activity names ("" for a job's own event).
func activityCandidate(a *workable.Activity, listCandidate string) string {
	if listCandidate == "" && a.Candidate != nil {
		return a.Candidate.ID
	}
	return listCandidate
}

func activityID(a *workable.Activity) string { return a.ID }

// checkRef checks an id or shortcode argument with the one rule for
// Workable identifiers (workable.ValidID); a failure is BAD_USER_INPUT. It
// costs no call: anything else could not be Workable's (and a megabyte, or
// the U+FFFD that JSON decoding makes of invalid UTF-8, would only cost a
// pointless call upstream).
func checkRef(what, s string) error {
	if err := workable.CheckID(what, s); err != nil {
		var inv *workable.InvalidIDError
		if errors.As(err, &inv) {
			return badInput("%s", inv.Reason())
		}
		return err
	}
	return nil
}
