package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// Typed activities. A live account's activities (API.md §10) do not say
// what they are in one field: a stage move's action is the slug of the
// stage entered ("interview"), "moved" is a relocation to another job, and
// stage_name names the stage LEFT. activityKind reads them; the stages of
// action_stage and target_stage ({id, identifier, name, slug}) get their
// kind and position from the pipeline, GET /stages (one cached call for the
// account, whatever the number of activities), and, for a stage the
// account's pipeline lacks, from the job's own, GET /jobs/{shortcode}/stages.

// actionKinds are the actions that name their kind themselves (API.md §6,
// §10). "disqualification" is the name the documentation uses.
var actionKinds = map[string]model.ActivityKind{
	"moved":            model.ActivityKindRelocation,
	"applied":          model.ActivityKindApplied,
	"sourced":          model.ActivityKindSourced,
	"uploaded":         model.ActivityKindUploaded,
	"comment":          model.ActivityKindComment,
	"message":          model.ActivityKindMessage,
	"rating":           model.ActivityKindRating,
	"event":            model.ActivityKindEvent,
	"disqualified":     model.ActivityKindDisqualified,
	"disqualification": model.ActivityKindDisqualified,
	"reverted":         model.ActivityKindReverted,
	"copied":           model.ActivityKindCopied,
	"referral":         model.ActivityKindReferral,
	"recommended":      model.ActivityKindRecommended,
	"opened":           model.ActivityKindOpened,
}

// staticKind is the kind of a that needs no pipeline: ok is false when only
// the pipeline can tell (an action that may be a stage's slug).
func staticKind(a *workable.Activity) (kind model.ActivityKind, ok bool) {
	switch {
	case a.Action == "moved":
		// "moved" is a relocation to another job, with or without
		// target_stage (API.md §10).
		return model.ActivityKindRelocation, true
	case a.TargetStage != nil:
		// Only moves carry a target stage; their action is its slug, which
		// may also be an action name ("applied" is a stage too).
		return model.ActivityKindStageMove, true
	}
	if k, found := actionKinds[a.Action]; found {
		return k, true
	}
	switch {
	case strings.HasPrefix(a.Action, "assessment-"):
		return model.ActivityKindAssessment, true
	case strings.HasPrefix(a.Action, "video-interview"):
		return model.ActivityKindVideoInterview, true
	}
	return "", false
}

// activityKind resolves Activity.kind. An action that names no kind is a
// stage move when it is the slug of a stage of the pipeline (activities in
// the documented form carry no target_stage), else OTHER.
func (r *Resolver) activityKind(ctx context.Context, a *model.Activity) (model.ActivityKind, error) {
	if k, ok := staticKind(&a.Activity); ok {
		return k, nil
	}
	st, err := r.findStage(ctx, a.JobShortcode, func(s *workable.Stage) bool { return s.Slug == a.Action })
	if err != nil {
		return "", err
	}
	if st != nil {
		return model.ActivityKindStageMove, nil
	}
	return model.ActivityKindOther, nil
}

// isMove reports whether kind has a from and a to stage.
func isMove(kind model.ActivityKind) bool {
	return kind == model.ActivityKindStageMove || kind == model.ActivityKindRelocation
}

// activityFromStage resolves Activity.fromStage: for a move, the stage
// left, action_stage (or, without it, the stage stage_name names).
func (r *Resolver) activityFromStage(ctx context.Context, a *model.Activity) (*workable.Stage, error) {
	kind, err := r.activityKind(ctx, a)
	if err != nil || !isMove(kind) {
		return nil, err
	}
	return r.activityStage(ctx, a)
}

// activityToStage resolves Activity.toStage: for a move, target_stage (or,
// in the documented form without it, the stage whose slug is the action).
func (r *Resolver) activityToStage(ctx context.Context, a *model.Activity) (*workable.Stage, error) {
	kind, err := r.activityKind(ctx, a)
	if err != nil || !isMove(kind) {
		return nil, err
	}
	if a.TargetStage != nil {
		return r.findStage(ctx, a.JobShortcode, matchStageRef(*a.TargetStage))
	}
	if kind == model.ActivityKindStageMove {
		return r.findStage(ctx, a.JobShortcode, func(s *workable.Stage) bool { return s.Slug == a.Action })
	}
	return nil, nil
}

// activityStage resolves Activity.stage: the stage the candidate was in,
// action_stage, or the stage stage_name names (on a move, the stage left,
// API.md §10).
func (r *Resolver) activityStage(ctx context.Context, a *model.Activity) (*workable.Stage, error) {
	switch {
	case a.ActionStage != nil:
		return r.findStage(ctx, a.JobShortcode, matchStageRef(*a.ActionStage))
	case a.StageName != nil && *a.StageName != "":
		name := *a.StageName
		return r.findStage(ctx, a.JobShortcode, func(s *workable.Stage) bool { return s.Name == name })
	}
	return nil, nil
}

// activityDisqualificationReason resolves Activity.disqualificationReason:
// a disqualification's body is the reason (API.md §10).
func (r *Resolver) activityDisqualificationReason(ctx context.Context, a *model.Activity) (*string, error) {
	kind, err := r.activityKind(ctx, a)
	if err != nil || kind != model.ActivityKindDisqualified {
		return nil, err
	}
	return a.Body, nil
}

// activityCandidate resolves Activity.candidate, which only a job's
// activities carry ({id, name}, API.md §10). A selection of id and name
// costs nothing; any other field loads the candidate as candidate(id:)
// does.
func (r *Resolver) activityCandidate(ctx context.Context, a *model.Activity) (*workable.Candidate, error) {
	if a.Candidate == nil {
		return nil, nil
	}
	if selectsOnly(ctx, "id", "name", "__typename") {
		return &workable.Candidate{ID: a.Candidate.ID, Name: a.Candidate.Name}, nil
	}
	return r.candidateByID(ctx, a.Candidate.ID)
}

// latestActivity resolves Candidate.latestActivity and
// Candidate.latestStageMove: the newest activity of the candidate whose
// kind is one of kinds (any kind when kinds is empty). Newest is by
// created_at, not by position: the stream comes in id order, which may
// differ from created_at order (API.md §10); of activities created at the
// same instant the later one in the stream is the newer. It reads the
// whole stream (activityLog: one call per 100 activities, cached) and types
// the activities from the newest back, so the pipeline is only read when
// an action does not tell its kind.
func (r *Resolver) latestActivity(ctx context.Context, c *workable.Candidate, kinds []model.ActivityKind) (*model.Activity, error) {
	log, err := load(ctx, r.loadersFor(ctx).activityLog, c.ID)
	if err != nil {
		return nil, activityLogError(err)
	}
	for _, i := range newestFirst(log) {
		a := &model.Activity{Activity: *log[i], JobShortcode: c.Job.Shortcode, CandidateID: c.ID}
		if len(kinds) == 0 {
			return a, nil
		}
		kind, err := r.activityKind(ctx, a)
		if err != nil {
			return nil, err
		}
		if slices.Contains(kinds, kind) {
			return a, nil
		}
	}
	return nil, nil
}

// newestFirst returns the positions of log from the newest activity to the
// oldest: by created_at, descending, and of equal created_at the later
// position first.
func newestFirst(log []*workable.Activity) []int {
	order := make([]int, len(log))
	for i := range order {
		order[i] = len(log) - 1 - i
	}
	// order starts from the last position, so a stable sort keeps later
	// positions first among equal created_at.
	slices.SortStableFunc(order, func(a, b int) int {
		return log[b].CreatedAt.Compare(log[a].CreatedAt)
	})
	return order
}

// candidateStageSlug resolves Candidate.stageSlug. Candidates carry their
// stage's name and kind, not its slug (API.md §3), while the stage filter
// takes the slug: the stage of that name (and kind, when known) in the
// account's pipeline, else in the job's, gives it.
func (r *Resolver) candidateStageSlug(ctx context.Context, c *workable.Candidate) (*string, error) {
	if c.Stage == nil || *c.Stage == "" {
		return nil, nil
	}
	name, kind := *c.Stage, ""
	if c.StageKind != nil {
		kind = *c.StageKind
	}
	st, err := r.findStage(ctx, c.Job.Shortcode, func(s *workable.Stage) bool {
		return s.Name == name && (kind == "" || s.Kind == kind)
	})
	if err != nil || st == nil {
		return nil, err
	}
	return &st.Slug, nil
}

// matchStageRef matches a stage of a pipeline against a stage embedded in
// an activity by the strongest key both have: id, identifier, slug, name.
func matchStageRef(ref workable.StageRef) func(*workable.Stage) bool {
	return func(s *workable.Stage) bool {
		switch {
		case ref.ID != "" && s.ID != "":
			return ref.ID == s.ID
		case ref.Identifier != "" && s.Identifier != "":
			return ref.Identifier == s.Identifier
		case ref.Slug != "":
			return ref.Slug == s.Slug
		default:
			return ref.Name == s.Name
		}
	}
}

// findStage returns a copy of the first stage match accepts: in the
// account's pipeline, else in the pipeline of the job with shortcode ("" for
// none). It returns nil when neither has one (a stage deleted since, say).
func (r *Resolver) findStage(ctx context.Context, shortcode string, match func(*workable.Stage) bool) (*workable.Stage, error) {
	l := r.loadersFor(ctx)
	keys := []string{""}
	if shortcode != "" {
		keys = append(keys, shortcode)
	}
	for _, key := range keys {
		stages, err := load(ctx, l.stages, key)
		if err != nil {
			return nil, err
		}
		for _, s := range stages {
			if match(s) {
				st := *s
				return &st, nil
			}
		}
	}
	return nil, nil
}

// stageID resolves Stage.id: Workable's id, null when it gave none.
func stageID(s *workable.Stage) *string {
	if s.ID == "" {
		return nil
	}
	id := string(s.ID)
	return &id
}

// errActivityLogTooLong is the error of a latest-activity field whose
// candidate has more activities than the gateway reads for one field.
var errActivityLogTooLong = fmt.Errorf("the candidate has more than %d activities, more than one field reads; page through Candidate.activities instead",
	upstream.ActivityLogLimit*upstream.MaxActivityLogPages)

// activityLogError turns a stream too long to read into
// errActivityLogTooLong (RESULT_TOO_LARGE).
func activityLogError(err error) error {
	if errors.Is(err, workable.ErrPageLimit) {
		return errActivityLogTooLong
	}
	return err
}

// selectsOnly reports whether the current field's selection asks for no
// field but those given.
func selectsOnly(ctx context.Context, names ...string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if !slices.Contains(names, f.Name) {
			return false
		}
	}
	return true
}
