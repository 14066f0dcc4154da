package graph

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/hiring"
	"github.com/workablegw/gateway/workable"
)

// The hiring actions: moveCandidate, disqualifyCandidate,
// revertDisqualification, commentOnCandidate, rateCandidate,
// setCandidateTags, copyCandidate and relocateCandidate (API.md §9, in the
// answer shapes of a live account, §10). Each one
//
//  1. validates its whole input (validate.go's rules: ids by
//     workable.ValidID, stage slugs, grades per scale, lengths) and answers
//     every problem as a userError without calling Workable;
//  2. names the acting member: the input's memberId, else the credential's
//     default (WORKABLE_MEMBER_ID, or the memberId given to
//     addWorkableCredential); with neither it is userError MEMBER_REQUIRED;
//  3. runs in hiring.Writes.Act: with an idempotency key (all but
//     setCandidateTags, which a repeat cannot double), at most once per
//     key, like createCandidate;
//  4. makes one Workable write, never retried: 404 is userError NOT_FOUND
//     on id, 422 one userError per Workable message on the input field it
//     names, an unknown outcome (5xx, timeout) UPSTREAM_UNAVAILABLE;
//  5. invalidates what the write made stale (upstream.Economy.CandidatesChanged:
//     the candidate lists, which also guard job activity pages, and the
//     detail and activities of the candidate acted on and of the one a
//     copy or relocation made), whole responses with them, also when the
//     outcome is unknown; and forgets this request's loaded copies;
//  6. reads the candidate it answers again, through the cache (whose
//     entries the write made obsolete no longer count): Workable's answer
//     to an action never carries the candidate. A copy or relocation
//     answers the new candidate.

// UserErrorMemberRequired is an action without an acting member: the input
// has no memberId and the credential has no default acting member.
const UserErrorMemberRequired = "MEMBER_REQUIRED"

// maxCommentLen bounds a comment's body and a rating's comment. Workable
// documents no limit; this is the gateway's bound for long texts.
const maxCommentLen = hiring.MaxLongTextLen

// defaultActingMember is the acting member of an action whose input names
// none: the request's credential's ("" for none).
func (r *Resolver) defaultActingMember(ctx context.Context) string {
	return r.econFor(ctx).MemberID()
}

// candidateAction is a validated hiring action, ready for hiring.Act,
// with what the GraphQL answer needs beside it.
type candidateAction struct {
	hiring.Action
	// past says what happened to the candidate, for the message of an
	// unknown outcome ("moved", "rated", …).
	past string
	// keyed actions take an idempotency key.
	keyed bool
	// event is the candidate event the action publishes once it happened
	// ("" for none), about the candidate the payload answers; job and stage
	// are what the input says of them, used when the candidate cannot be
	// read back.
	event      events.Kind
	job, stage string
}

// runAction runs a valid action once (once per idempotency key, when
// keyField or the Idempotency-Key header gives one and a.keyed) and reads
// the candidate the payload answers. userErrors are the caller's to fix;
// err is a GraphQL error.
func (r *Resolver) runAction(ctx context.Context, a candidateAction, keyField *string) (out hiring.Outcome, cand *workable.Candidate, userErrs []model.UserError, err error) {
	ctx = gqlhttp.RequestContext(ctx) // the Workable call and the stores wait within the request's deadline
	if a.keyed {
		k, keyErrs := requestIdempotencyKey(ctx, keyField)
		if len(keyErrs) > 0 {
			return out, nil, keyErrs, nil
		}
		a.Key = k
	}
	out, err = r.writes.Act(ctx, r.econFor(ctx), a.Action)
	switch {
	case out.Sent:
		r.forgetCandidates(ctx, a.ID, out.CandidateID)
	case errors.Is(err, workable.ErrOutcomeUnknown):
		r.forgetCandidates(ctx, a.ID)
	}
	if err != nil {
		userErrs, err := r.writeError(ctx, a.Op, a.past, "action", err)
		return out, nil, userErrs, err
	}
	if len(out.Problems) > 0 {
		return out, nil, problemUserErrors(out.Problems), nil
	}
	if out.Unnamed {
		graphql.AddError(ctx, &gqlerror.Error{
			Path: graphql.GetPath(ctx),
			Message: fmt.Sprintf("Workable %s the candidate but its answer did not name the new candidate: "+
				"find it in the target job's candidates", a.past),
			Extensions: map[string]any{"code": CodeUpstreamUnavailable},
		})
		return out, nil, []model.UserError{}, nil
	}
	// The action happened: a failure to read the candidate back is reported
	// next to the payload, not instead of it.
	cand, err = load(ctx, r.loadersFor(ctx).candidate, cmp.Or(out.CandidateID, a.ID))
	if err != nil {
		graphql.AddError(ctx, fmt.Errorf("read the candidate after the action: %w", err))
		cand = nil
	}
	if out.Sent && a.event != "" {
		job := a.job
		if cand != nil {
			job = cmp.Or(cand.Job.Shortcode, job)
		}
		r.publish(ctx, a.event, cmp.Or(out.CandidateID, a.ID), job, cmp.Or(cand.StageName(), a.stage), cand.LastUpdated())
	}
	return out, cand, []model.UserError{}, nil
}

// forgetCandidates forgets the copies this request's loaders hold of the
// candidates ids after an action on them (which invalidated the cache), so
// that the payload reads the new state.
func (r *Resolver) forgetCandidates(ctx context.Context, ids ...string) {
	l := r.loadersFor(ctx)
	for _, id := range ids {
		if id == "" {
			continue
		}
		l.candidate.Clear(ctx, id)
		l.candidateBasic.Clear(ctx, id)
		l.candidateListed.Clear(ctx, id)
		l.activityLog.Clear(ctx, id)
	}
	// Pages are keyed by their filters, not by candidate: drop them all
	// (a request seldom pages before an action).
	l.candidatePages.ClearAll()
	l.activityPages.ClearAll()
	l.jobActivityPages.ClearAll()
	l.activity.ClearAll()
}

// actingMember checks the input's memberId, or takes the credential's
// default acting member when there is none.
func (r *Resolver) actingMember(ctx context.Context, v *validator, in *string) string {
	path := hiring.InputAt("memberId")
	if in != nil {
		return v.Identifier(path, *in, "member id")
	}
	id := r.defaultActingMember(ctx)
	if id == "" {
		v.Problems = append(v.Problems, hiring.Problem{Field: path, Code: UserErrorMemberRequired,
			Message: "Workable needs the acting member of every action: give memberId (an id of Job.members or members), " +
				"or configure the credential's default acting member (WORKABLE_MEMBER_ID, or addWorkableCredential's memberId)"})
	}
	return id
}

// withMember returns fields (Workable's validation keys → the input's
// fields) with member_id → memberId, which every action but tags has.
func withMember(fields map[string]string) map[string]string {
	out := map[string]string{"member_id": "memberId"}
	for k, v := range fields {
		out[k] = v
	}
	return out
}

// act answers a hiring action: the userErrors of v when the input has
// problems, else the candidate of running a (see runAction) and its
// userErrors.
func (r *Resolver) act(ctx context.Context, v *validator, a candidateAction, keyField *string) (*model.CandidatePayload, error) {
	if len(v.Problems) > 0 {
		return &model.CandidatePayload{UserErrors: v.userErrors()}, nil
	}
	_, c, userErrs, err := r.runAction(ctx, a, keyField)
	if err != nil {
		return nil, err
	}
	return &model.CandidatePayload{Candidate: c, UserErrors: userErrs}, nil
}

// sendOnly is the Send of an action whose Workable answer names nothing
// the payload needs: method (a workable.CandidatesService method) called
// with the candidate's id and req.
func sendOnly[R any](method func(*workable.CandidatesService, context.Context, string, R) (*workable.Response, error), id string, req R) func(context.Context, *workable.Client) (hiring.Outcome, error) {
	return func(ctx context.Context, wc *workable.Client) (hiring.Outcome, error) {
		_, err := method(wc.Candidates, ctx, id, req)
		return hiring.Outcome{}, err
	}
}

// moveCandidate implements Mutation.moveCandidate: POST
// /candidates/{id}/move.
func (r *Resolver) moveCandidate(ctx context.Context, in model.MoveCandidateInput) (*model.CandidatePayload, error) {
	var v validator
	id := v.Identifier(hiring.InputAt("id"), in.ID, "candidate id")
	req := workable.Move{TargetStage: v.StageSlug(hiring.InputAt("toStage"), in.ToStage)}
	req.MemberID = r.actingMember(ctx, &v, in.MemberID)
	a := candidateAction{past: "moved", keyed: true, event: events.CandidateMoved, stage: req.TargetStage,
		Action: hiring.Action{Op: "moveCandidate", ID: id, Request: req,
			Fields: withMember(map[string]string{"target_stage": "toStage"}),
			Send:   sendOnly((*workable.CandidatesService).Move, id, req)}}
	return r.act(ctx, &v, a, in.IdempotencyKey)
}

// disqualifyCandidate implements Mutation.disqualifyCandidate: POST
// /candidates/{id}/disqualify.
func (r *Resolver) disqualifyCandidate(ctx context.Context, in model.DisqualifyCandidateInput) (*model.CandidatePayload, error) {
	var v validator
	id := v.Identifier(hiring.InputAt("id"), in.ID, "candidate id")
	req := workable.Disqualification{Withdrew: in.Withdrew}
	if in.ReasonID != nil {
		req.ReasonID = v.Identifier(hiring.InputAt("reasonId"), *in.ReasonID, "disqualification reason id (see disqualificationReasons)")
	}
	if note := v.Optional(hiring.InputAt("note"), in.Note, workable.MaxDisqualifyNoteLen, hiring.MultiLine); note != nil {
		req.Note = *note
	}
	req.MemberID = r.actingMember(ctx, &v, in.MemberID)
	a := candidateAction{past: "disqualified", keyed: true, event: events.CandidateMoved,
		Action: hiring.Action{Op: "disqualifyCandidate", ID: id, Request: req,
			Fields: withMember(map[string]string{"disqualify_reason_id": "reasonId", "disqualification_reason": "reasonId",
				"disqualify_note": "note", "withdrew": "withdrew"}),
			Send: sendOnly((*workable.CandidatesService).Disqualify, id, req)}}
	return r.act(ctx, &v, a, in.IdempotencyKey)
}

// revertDisqualification implements Mutation.revertDisqualification: POST
// /candidates/{id}/revert.
func (r *Resolver) revertDisqualification(ctx context.Context, in model.RevertDisqualificationInput) (*model.CandidatePayload, error) {
	var v validator
	id := v.Identifier(hiring.InputAt("id"), in.ID, "candidate id")
	member := r.actingMember(ctx, &v, in.MemberID)
	a := candidateAction{past: "requalified", keyed: true, event: events.CandidateMoved,
		Action: hiring.Action{Op: "revertDisqualification", ID: id,
			Request: map[string]string{"member_id": member}, Fields: withMember(nil),
			Send: sendOnly((*workable.CandidatesService).RevertDisqualification, id, member)}}
	return r.act(ctx, &v, a, in.IdempotencyKey)
}

// commentOnCandidate implements Mutation.commentOnCandidate: POST
// /candidates/{id}/comments.
func (r *Resolver) commentOnCandidate(ctx context.Context, in model.CommentOnCandidateInput) (*model.CommentOnCandidatePayload, error) {
	var v validator
	id := v.Identifier(hiring.InputAt("id"), in.ID, "candidate id")
	req := workable.NewComment{Body: v.Required(hiring.InputAt("body"), in.Body, maxCommentLen, hiring.MultiLine)}
	if in.VisibleTo != nil {
		if len(in.VisibleTo) == 0 {
			v.Fail(hiring.InputAt("visibleTo"), "must name at least one role: leave visibleTo out for Workable's default, or give [ADMIN] for admins only")
		}
		req.Policy = []string{}
		for _, role := range in.VisibleTo {
			if p := strings.ToLower(string(role)); !slices.Contains(req.Policy, p) {
				req.Policy = append(req.Policy, p)
			}
		}
	}
	req.MemberID = r.actingMember(ctx, &v, in.MemberID)
	a := candidateAction{past: "commented on", keyed: true,
		Action: hiring.Action{Op: "commentOnCandidate", ID: id, Request: req,
			Fields: withMember(map[string]string{"comment": "body", "body": "body", "policy": "visibleTo", "comment.policy": "visibleTo"}),
			Send: func(ctx context.Context, wc *workable.Client) (hiring.Outcome, error) {
				commentID, _, err := wc.Candidates.Comment(ctx, id, req)
				return hiring.Outcome{CommentID: commentID}, err
			}}}
	if len(v.Problems) > 0 {
		return &model.CommentOnCandidatePayload{UserErrors: v.userErrors()}, nil
	}
	out, c, userErrs, err := r.runAction(ctx, a, in.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	return &model.CommentOnCandidatePayload{Candidate: c, CommentID: optionalID(out.CommentID), UserErrors: userErrs}, nil
}

// rateCandidate implements Mutation.rateCandidate: POST
// /candidates/{id}/ratings.
func (r *Resolver) rateCandidate(ctx context.Context, in model.RateCandidateInput) (*model.CandidatePayload, error) {
	var v validator
	id := v.Identifier(hiring.InputAt("id"), in.ID, "candidate id")
	req := workable.NewRating{Scale: strings.ToLower(string(in.Scale)), Grade: in.Grade}
	if top, ok := workable.MaxGrade(req.Scale); !ok {
		v.Fail(hiring.InputAt("scale"), "must be THUMBS, STARS or NUMBERS")
	} else if in.Grade < 0 || in.Grade > top {
		v.Fail(hiring.InputAt("grade"), "must be 0 to %d on the %s scale (got %d)", top, in.Scale, in.Grade)
	}
	if comment := v.Optional(hiring.InputAt("comment"), in.Comment, maxCommentLen, hiring.MultiLine); comment != nil {
		req.Comment = *comment
	}
	req.MemberID = r.actingMember(ctx, &v, in.MemberID)
	a := candidateAction{past: "rated", keyed: true,
		Action: hiring.Action{Op: "rateCandidate", ID: id, Request: req,
			Fields: withMember(map[string]string{"scale": "scale", "grade": "grade", "score": "grade", "comment": "comment"}),
			Send:   sendOnly((*workable.CandidatesService).Rate, id, req)}}
	return r.act(ctx, &v, a, in.IdempotencyKey)
}

// setCandidateTags implements Mutation.setCandidateTags: PUT
// /candidates/{id}/tags. It takes no idempotency key: a repeat sets the
// same tags again.
func (r *Resolver) setCandidateTags(ctx context.Context, in model.SetCandidateTagsInput) (*model.CandidatePayload, error) {
	var v validator
	id := v.Identifier(hiring.InputAt("id"), in.ID, "candidate id")
	tags := v.Tags(hiring.InputAt("tags"), in.Tags)
	a := candidateAction{past: "given these tags",
		Action: hiring.Action{Op: "setCandidateTags", ID: id, Request: tags,
			Fields: map[string]string{"tags": "tags"},
			Send: func(ctx context.Context, wc *workable.Client) (hiring.Outcome, error) {
				_, _, err := wc.Candidates.SetTags(ctx, id, tags)
				return hiring.Outcome{}, err
			}}}
	return r.act(ctx, &v, a, nil)
}

// transferMethod is the Workable call of a copy or relocation.
type transferMethod func(*workable.CandidatesService, context.Context, string, workable.Transfer) (workable.CandidateLink, *workable.Response, error)

// transfer answers copyCandidate (POST /candidates/{id}/copy) or
// relocateCandidate (POST /candidates/{id}/relocate): op, past, whose
// Workable call is send, with the new candidate (a copy; the relocated
// candidate, which has a new id).
func (r *Resolver) transfer(ctx context.Context, in model.TransferCandidateInput, op, past string, send transferMethod) (*model.CandidatePayload, error) {
	var v validator
	id := v.Identifier(hiring.InputAt("id"), in.ID, "candidate id")
	req := workable.Transfer{
		TargetJobShortcode: v.Identifier(hiring.InputAt("toJob"), in.ToJob, "job shortcode"),
		TargetStage:        v.StageSlug(hiring.InputAt("toStage"), in.ToStage),
	}
	req.MemberID = r.actingMember(ctx, &v, in.MemberID)
	a := candidateAction{past: past, keyed: true,
		// The copy or relocated candidate is a new one in the target job.
		event: events.CandidateCreated, job: req.TargetJobShortcode, stage: req.TargetStage,
		Action: hiring.Action{Op: op, ID: id, Request: req,
			Fields: withMember(map[string]string{"target_job_shortcode": "toJob", "target_stage": "toStage",
				"email": "toJob"}),
			NotFound: "Workable has no candidate with this id (or no job with the shortcode toJob)",
			Send: func(ctx context.Context, wc *workable.Client) (hiring.Outcome, error) {
				link, _, err := send(wc.Candidates, ctx, id, req)
				return hiring.Outcome{CandidateID: link.ID, Unnamed: err == nil && link.ID == ""}, err
			}}}
	return r.act(ctx, &v, a, in.IdempotencyKey)
}
