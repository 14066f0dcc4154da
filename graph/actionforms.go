package graph

import (
	"context"
	"fmt"

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

// optionalID is s, or nil when it is empty (a nullable ID field).
func optionalID(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
