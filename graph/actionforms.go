package graph

import (
	"context"
	"fmt"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// The ids a form for the hiring actions needs: the disqualification
// reasons (disqualifyCandidate's reasonId), a job's pipeline (the stage
// slugs of moveCandidate, copyCandidate and relocateCandidate) and a job's
// collaborators (the members who act). All three are account or job
// configuration that no write of the gateway changes, so they are cached
// like jobs and pipelines (cache.KindJob, no generation): a cached one
// costs no Workable call, and a response made of them may be cached whole.

// disqualificationReasons resolves Query.disqualificationReasons.
func (r *Resolver) disqualificationReasons(ctx context.Context) ([]workable.DisqualificationReason, error) {
	return loadValues(ctx, r.loadersFor(ctx).reasons, "", "list disqualification reasons")
}

// jobStages resolves Job.stages: the job's own pipeline, GET
// /jobs/{shortcode}/stages, through the same cached loader that types
// activities.
func (r *Resolver) jobStages(ctx context.Context, obj *model.Job) ([]workable.Stage, error) {
	return loadValues(ctx, r.loadersFor(ctx).stages, obj.Shortcode, "list stages of job "+obj.Shortcode)
}

// jobMembers resolves Job.members: GET /jobs/{shortcode}/members.
func (r *Resolver) jobMembers(ctx context.Context, obj *model.Job) ([]workable.Member, error) {
	return loadValues(ctx, r.loadersFor(ctx).jobMembers, obj.Shortcode, "list members of job "+obj.Shortcode)
}

// loadValues loads the list of key through l and copies its items. A nil
// list is a job Workable no longer has (errJobGone), except for the key
// "" of an account-wide list.
func loadValues[T any](ctx context.Context, l *upstream.Loader[string, []*T], key, what string) ([]T, error) {
	items, err := load(ctx, l, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if items == nil && key != "" {
		return nil, errJobGone
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		out = append(out, *it)
	}
	return out, nil
}

// optionalID is s, or nil when it is empty (a nullable ID field).
func optionalID(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
