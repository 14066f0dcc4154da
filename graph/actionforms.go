package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/workable"
)

// The ids a form for the hiring actions needs: the disqualification
// reasons (disqualifyCandidate's reasonId), a job's pipeline (the stage
// slugs of moveCandidate, copyCandidate and relocateCandidate) and a job's
// collaborators (the members who act). All three are account or job
// configuration that no write of the gateway changes, so they are cached
// like jobs and pipelines (cache.KindJob, no generation): a cached one
// costs no Workable call, and a response made of them may be cached whole.

const (
	// maxJobMemberPages bounds Job.members: Workable does not document the
	// paging of GET /jobs/{shortcode}/members; at most 5 pages are read
	// (500 members at GET /members' largest page), more is an error rather
	// than a silently cut list.
	maxJobMemberPages = 5
)

// disqualificationReasons resolves Query.disqualificationReasons.
func (r *Resolver) disqualificationReasons(ctx context.Context) ([]workable.DisqualificationReason, error) {
	reasons, err := load(ctx, r.loadersFor(ctx).reasons, "")
	if err != nil {
		return nil, fmt.Errorf("list disqualification reasons: %w", err)
	}
	out := make([]workable.DisqualificationReason, 0, len(reasons))
	for _, x := range reasons {
		out = append(out, *x)
	}
	return out, nil
}

// jobStages resolves Job.stages: the job's own pipeline, GET
// /jobs/{shortcode}/stages, through the same cached loader that types
// activities.
func (r *Resolver) jobStages(ctx context.Context, obj *model.Job) ([]workable.Stage, error) {
	stages, err := load(ctx, r.loadersFor(ctx).stages, obj.Shortcode)
	if err != nil {
		return nil, fmt.Errorf("list stages of job %s: %w", obj.Shortcode, err)
	}
	if stages == nil {
		return nil, errJobGone
	}
	out := make([]workable.Stage, 0, len(stages))
	for _, s := range stages {
		out = append(out, *s)
	}
	return out, nil
}

// jobMembers resolves Job.members: GET /jobs/{shortcode}/members.
func (r *Resolver) jobMembers(ctx context.Context, obj *model.Job) ([]workable.Member, error) {
	members, err := load(ctx, r.loadersFor(ctx).jobMembers, obj.Shortcode)
	if err != nil {
		return nil, fmt.Errorf("list members of job %s: %w", obj.Shortcode, err)
	}
	if members == nil {
		return nil, errJobGone
	}
	out := make([]workable.Member, 0, len(members))
	for _, m := range members {
		out = append(out, *m)
	}
	return out, nil
}

// fetchReasons reads GET /disqualification_reasons (API.md §9, §10).
func (l *loaders) fetchReasons(ctx context.Context, _, _ string) ([]*workable.DisqualificationReason, []cache.Item, error) {
	reasons, _, err := l.client.Accounts.ListDisqualificationReasons(ctx)
	if err != nil {
		return nil, nil, err
	}
	if reasons == nil {
		reasons = []*workable.DisqualificationReason{}
	}
	return reasons, nil, nil
}

// fetchJobMembers reads GET /jobs/{shortcode}/members and each paging.next
// exactly as given (API.md §9); a job Workable does not have gives nil
// without an error. A member listed twice is kept once.
func (l *loaders) fetchJobMembers(ctx context.Context, shortcode, _ string) ([]*workable.Member, []cache.Item, error) {
	out := []*workable.Member{}
	seen := make(map[string]bool)
	for m, err := range workable.Walk(ctx, l.client, func(ctx context.Context) ([]*workable.Member, *workable.Response, error) {
		return l.client.Jobs.ListMembers(ctx, shortcode)
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

// optionalID is s, or nil when it is empty (a nullable ID field).
func optionalID(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
