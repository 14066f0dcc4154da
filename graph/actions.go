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
	"github.com/workablegw/gateway/upstream"
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
//  3. with an idempotency key (all but setCandidateTags, which a repeat
//     cannot double), runs at most once per key, like createCandidate;
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
const maxCommentLen = maxLongTextLen

// defaultActingMember is the acting member of an action whose input names
// none: the request's credential's ("" for none).
func (r *Resolver) defaultActingMember(ctx context.Context) string {
	return r.econFor(ctx).MemberID()
}

// candidateAction is a validated hiring action, ready for Workable.
type candidateAction struct {
	// op is the mutation's name; it scopes idempotency keys.
	op string
	// past says what happened to the candidate, for the message of an
	// unknown outcome ("moved", "rated", …).
	past string
	// id is the candidate acted on.
	id string
	// keyed actions take an idempotency key.
	keyed bool
	// request is what is sent to Workable, the fingerprint of the input
	// for idempotency.
	request any
	// fields maps the keys of Workable's validation_errors to the input's
	// fields (a key's first segment is tried too: "comment.body").
	fields map[string]string
	// notFound is the message of a 404.
	notFound string
	// send makes the Workable write.
	send func(ctx context.Context, c *workable.Client) (actionOutcome, error)
	// event is the candidate event the action publishes once it happened
	// ("" for none), about the candidate the payload answers; job and stage
	// are what the input says of them, used when the candidate cannot be
	// read back.
	event      events.Kind
	job, stage string
}

// actionOutcome is what an action's Workable write gave; the idempotency
// store keeps it for repeats.
type actionOutcome struct {
	// CandidateID is the candidate the payload answers when it is not the
	// one acted on: the new candidate of a copy or a relocation.
	CandidateID string `json:"candidateId,omitempty"`
	// Unnamed reports a copy or relocation whose answer named no new
	// candidate (the write happened).
	Unnamed bool `json:"unnamed,omitempty"`
	// CommentID is Workable's id of a new comment, when it gave one.
	CommentID string `json:"commentId,omitempty"`
	// UserErrors are Workable's 404 or 422, mapped to the input.
	UserErrors []model.UserError `json:"userErrors,omitempty"`
	// sent reports that this request made the write (false for a replay of
	// an earlier request's with the same idempotency key).
	sent bool
}

// runAction runs a valid action once (once per idempotency key, when
// keyField or the Idempotency-Key header gives one and a.keyed) and reads
// the candidate the payload answers. userErrors are the caller's to fix;
// err is a GraphQL error.
func (r *Resolver) runAction(ctx context.Context, a candidateAction, keyField *string) (out actionOutcome, cand *workable.Candidate, userErrs []model.UserError, err error) {
	ctx = gqlhttp.RequestContext(ctx) // the Workable call and the stores wait within the request's deadline
	key := ""
	if a.keyed {
		k, keyErrs := requestIdempotencyKey(ctx, keyField)
		if len(keyErrs) > 0 {
			return out, nil, keyErrs, nil
		}
		key = k
	}
	e := r.econFor(ctx)
	// The mutation's name scopes the key: one Idempotency-Key header may
	// cover actions of different kinds in one request.
	w := write{op: a.op, past: a.past, noun: "action", key: key, scope: a.op, input: struct {
		Op, ID  string
		Request any
	}{a.op, a.id, a.request}}
	out, replayed, userErrs, err := once(ctx, r, w, func(ctx context.Context) (actionOutcome, error) {
		return r.sendAction(ctx, e, a)
	})
	if err != nil || len(userErrs) > 0 {
		return out, nil, userErrs, err
	}
	out.sent = !replayed
	if len(out.UserErrors) > 0 {
		return out, nil, out.UserErrors, nil
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
	cand, err = load(ctx, r.loadersFor(ctx).candidate, cmp.Or(out.CandidateID, a.id))
	if err != nil {
		graphql.AddError(ctx, fmt.Errorf("read the candidate after the action: %w", err))
		cand = nil
	}
	if out.sent && a.event != "" {
		job := a.job
		if cand != nil {
			job = cmp.Or(cand.Job.Shortcode, job)
		}
		r.publish(ctx, a.event, cmp.Or(out.CandidateID, a.id), job, cmp.Or(cand.StageName(), a.stage), cand.LastUpdated())
	}
	return out, cand, []model.UserError{}, nil
}

// sendAction makes the Workable write of a valid action and invalidates
// what it made stale. Workable's 404 and 422 come back as the outcome's
// userErrors; any other failure as the error.
func (r *Resolver) sendAction(ctx context.Context, e *upstream.Economy, a candidateAction) (actionOutcome, error) {
	out, err := a.send(ctx, e.Client())
	switch {
	case err == nil:
		r.candidatesChanged(ctx, e, a.id, out.CandidateID)
		out.sent = true
		return out, nil
	case errors.Is(err, workable.ErrNotFound):
		return actionOutcome{UserErrors: []model.UserError{{Field: inputAt("id"), Message: a.notFound, Code: UserErrorNotFound}}}, nil
	case errors.Is(err, workable.ErrValidation):
		return actionOutcome{UserErrors: actionUserErrors(err, a.fields)}, nil
	case errors.Is(err, workable.ErrOutcomeUnknown):
		// Nothing of the answer is trusted: everything the action could
		// have changed is read again. (A copy's or relocation's new
		// candidate is unknown; the lists generation covers its lists.)
		r.candidatesChanged(ctx, e, a.id)
	}
	return out, err
}

// candidatesChanged invalidates the cache after an action on the
// candidates ids (see upstream.Economy.CandidatesChanged) and forgets the copies
// this request's loaders hold, so that the payload reads the new state.
func (r *Resolver) candidatesChanged(ctx context.Context, e *upstream.Economy, ids ...string) {
	e.CandidatesChanged(ctx, ids...)
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

// actionUserErrors maps a Workable 422 to userErrors: one per message of
// validation_errors, in key order, on the input field fields names for its
// key (or for the key's first segment, e.g. "comment" of "comment.body"),
// else on the input root. "already exists" messages (a copy into a job
// that has the candidate's e-mail address) get ALREADY_EXISTS.
func actionUserErrors(err error, fields map[string]string) []model.UserError {
	var er *workable.ErrorResponse
	if !errors.As(err, &er) {
		return []model.UserError{{Field: inputAt(), Code: UserErrorInvalid, Message: "Workable rejected the input"}}
	}
	keys := make([]string, 0, len(er.ValidationErrors))
	for k := range er.ValidationErrors {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []model.UserError
	for _, key := range keys {
		path := inputAt()
		if f, ok := fields[key]; ok {
			path = inputAt(f)
		} else if i := strings.IndexAny(key, ".["); i > 0 && fields[key[:i]] != "" {
			path = inputAt(fields[key[:i]])
		}
		for _, msg := range er.ValidationErrors[key] {
			code := UserErrorInvalid
			if strings.Contains(strings.ToLower(msg), "already exists") {
				code = UserErrorAlreadyExists
			}
			out = append(out, model.UserError{Field: path, Code: code, Message: fmt.Sprintf("Workable rejected %s: %s", key, msg)})
		}
	}
	if len(out) == 0 {
		msg := "Workable rejected the action"
		if er.Message != "" {
			msg += ": " + er.Message
		}
		out = append(out, model.UserError{Field: inputAt(), Code: UserErrorInvalid, Message: msg})
	}
	return out
}

// actingMember checks the input's memberId, or takes the credential's
// default acting member when there is none.
func (r *Resolver) actingMember(ctx context.Context, v *validator, in *string) string {
	path := inputAt("memberId")
	if in != nil {
		return v.identifier(path, *in, "member id")
	}
	id := r.defaultActingMember(ctx)
	if id == "" {
		v.errs = append(v.errs, model.UserError{Field: path, Code: UserErrorMemberRequired,
			Message: "Workable needs the acting member of every action: give memberId (an id of Job.members or members), " +
				"or configure the credential's default acting member (WORKABLE_MEMBER_ID, or addWorkableCredential's memberId)"})
	}
	return id
}

// stageSlug checks a stage slug: Workable takes slugs (phone-screen), not
// names (Phone Screen), and every slug fits the one id rule.
func (v *validator) stageSlug(path fieldPath, s string) string {
	return v.identifier(path, s, "stage slug (e.g. phone-screen, see Job.stages)")
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

// moveCandidate implements Mutation.moveCandidate: POST
// /candidates/{id}/move.
func (r *Resolver) moveCandidate(ctx context.Context, in model.MoveCandidateInput) (*model.MoveCandidatePayload, error) {
	var v validator
	id := v.identifier(inputAt("id"), in.ID, "candidate id")
	req := workable.Move{TargetStage: v.stageSlug(inputAt("toStage"), in.ToStage)}
	req.MemberID = r.actingMember(ctx, &v, in.MemberID)
	if len(v.errs) > 0 {
		return &model.MoveCandidatePayload{UserErrors: v.errs}, nil
	}
	_, c, userErrs, err := r.runAction(ctx, candidateAction{
		op: "moveCandidate", past: "moved", id: id, keyed: true, request: req,
		event: events.CandidateMoved, stage: req.TargetStage,
		fields:   withMember(map[string]string{"target_stage": "toStage"}),
		notFound: "Workable has no candidate with this id",
		send: func(ctx context.Context, wc *workable.Client) (actionOutcome, error) {
			_, err := wc.Candidates.Move(ctx, id, req)
			return actionOutcome{}, err
		},
	}, in.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	return &model.MoveCandidatePayload{Candidate: c, UserErrors: userErrs}, nil
}

// disqualifyCandidate implements Mutation.disqualifyCandidate: POST
// /candidates/{id}/disqualify.
func (r *Resolver) disqualifyCandidate(ctx context.Context, in model.DisqualifyCandidateInput) (*model.DisqualifyCandidatePayload, error) {
	var v validator
	id := v.identifier(inputAt("id"), in.ID, "candidate id")
	req := workable.Disqualification{Withdrew: in.Withdrew}
	if in.ReasonID != nil {
		req.ReasonID = v.identifier(inputAt("reasonId"), *in.ReasonID, "disqualification reason id (see disqualificationReasons)")
	}
	if note := v.optional(inputAt("note"), in.Note, workable.MaxDisqualifyNoteLen, multiLine); note != nil {
		req.Note = *note
	}
	req.MemberID = r.actingMember(ctx, &v, in.MemberID)
	if len(v.errs) > 0 {
		return &model.DisqualifyCandidatePayload{UserErrors: v.errs}, nil
	}
	_, c, userErrs, err := r.runAction(ctx, candidateAction{
		op: "disqualifyCandidate", past: "disqualified", id: id, keyed: true, request: req,
		event: events.CandidateMoved,
		fields: withMember(map[string]string{"disqualify_reason_id": "reasonId", "disqualification_reason": "reasonId",
			"disqualify_note": "note", "withdrew": "withdrew"}),
		notFound: "Workable has no candidate with this id",
		send: func(ctx context.Context, wc *workable.Client) (actionOutcome, error) {
			_, err := wc.Candidates.Disqualify(ctx, id, req)
			return actionOutcome{}, err
		},
	}, in.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	return &model.DisqualifyCandidatePayload{Candidate: c, UserErrors: userErrs}, nil
}

// revertDisqualification implements Mutation.revertDisqualification: POST
// /candidates/{id}/revert.
func (r *Resolver) revertDisqualification(ctx context.Context, in model.RevertDisqualificationInput) (*model.RevertDisqualificationPayload, error) {
	var v validator
	id := v.identifier(inputAt("id"), in.ID, "candidate id")
	member := r.actingMember(ctx, &v, in.MemberID)
	if len(v.errs) > 0 {
		return &model.RevertDisqualificationPayload{UserErrors: v.errs}, nil
	}
	_, c, userErrs, err := r.runAction(ctx, candidateAction{
		op: "revertDisqualification", past: "requalified", id: id, keyed: true,
		event:   events.CandidateMoved,
		request: map[string]string{"member_id": member}, fields: withMember(nil),
		notFound: "Workable has no candidate with this id",
		send: func(ctx context.Context, wc *workable.Client) (actionOutcome, error) {
			_, err := wc.Candidates.RevertDisqualification(ctx, id, member)
			return actionOutcome{}, err
		},
	}, in.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	return &model.RevertDisqualificationPayload{Candidate: c, UserErrors: userErrs}, nil
}

// commentOnCandidate implements Mutation.commentOnCandidate: POST
// /candidates/{id}/comments.
func (r *Resolver) commentOnCandidate(ctx context.Context, in model.CommentOnCandidateInput) (*model.CommentOnCandidatePayload, error) {
	var v validator
	id := v.identifier(inputAt("id"), in.ID, "candidate id")
	req := workable.NewComment{Body: v.required(inputAt("body"), in.Body, maxCommentLen, multiLine)}
	if in.VisibleTo != nil {
		if len(in.VisibleTo) == 0 {
			v.fail(inputAt("visibleTo"), "must name at least one role: leave visibleTo out for Workable's default, or give [ADMIN] for admins only")
		}
		req.Policy = []string{}
		for _, role := range in.VisibleTo {
			if p := strings.ToLower(string(role)); !slices.Contains(req.Policy, p) {
				req.Policy = append(req.Policy, p)
			}
		}
	}
	req.MemberID = r.actingMember(ctx, &v, in.MemberID)
	if len(v.errs) > 0 {
		return &model.CommentOnCandidatePayload{UserErrors: v.errs}, nil
	}
	out, c, userErrs, err := r.runAction(ctx, candidateAction{
		op: "commentOnCandidate", past: "commented on", id: id, keyed: true, request: req,
		fields:   withMember(map[string]string{"comment": "body", "body": "body", "policy": "visibleTo", "comment.policy": "visibleTo"}),
		notFound: "Workable has no candidate with this id",
		send: func(ctx context.Context, wc *workable.Client) (actionOutcome, error) {
			commentID, _, err := wc.Candidates.Comment(ctx, id, req)
			return actionOutcome{CommentID: commentID}, err
		},
	}, in.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	return &model.CommentOnCandidatePayload{Candidate: c, CommentID: optionalID(out.CommentID), UserErrors: userErrs}, nil
}

// rateCandidate implements Mutation.rateCandidate: POST
// /candidates/{id}/ratings.
func (r *Resolver) rateCandidate(ctx context.Context, in model.RateCandidateInput) (*model.RateCandidatePayload, error) {
	var v validator
	id := v.identifier(inputAt("id"), in.ID, "candidate id")
	req := workable.NewRating{Scale: strings.ToLower(string(in.Scale)), Grade: in.Grade}
	if top, ok := workable.MaxGrade(req.Scale); !ok {
		v.fail(inputAt("scale"), "must be THUMBS, STARS or NUMBERS")
	} else if in.Grade < 0 || in.Grade > top {
		v.fail(inputAt("grade"), "must be 0 to %d on the %s scale (got %d)", top, in.Scale, in.Grade)
	}
	if comment := v.optional(inputAt("comment"), in.Comment, maxCommentLen, multiLine); comment != nil {
		req.Comment = *comment
	}
	req.MemberID = r.actingMember(ctx, &v, in.MemberID)
	if len(v.errs) > 0 {
		return &model.RateCandidatePayload{UserErrors: v.errs}, nil
	}
	_, c, userErrs, err := r.runAction(ctx, candidateAction{
		op: "rateCandidate", past: "rated", id: id, keyed: true, request: req,
		fields:   withMember(map[string]string{"scale": "scale", "grade": "grade", "score": "grade", "comment": "comment"}),
		notFound: "Workable has no candidate with this id",
		send: func(ctx context.Context, wc *workable.Client) (actionOutcome, error) {
			_, err := wc.Candidates.Rate(ctx, id, req)
			return actionOutcome{}, err
		},
	}, in.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	return &model.RateCandidatePayload{Candidate: c, UserErrors: userErrs}, nil
}

// setCandidateTags implements Mutation.setCandidateTags: PUT
// /candidates/{id}/tags. It takes no idempotency key: a repeat sets the
// same tags again.
func (r *Resolver) setCandidateTags(ctx context.Context, in model.SetCandidateTagsInput) (*model.SetCandidateTagsPayload, error) {
	var v validator
	id := v.identifier(inputAt("id"), in.ID, "candidate id")
	tags := v.tags(inputAt("tags"), in.Tags)
	if len(v.errs) > 0 {
		return &model.SetCandidateTagsPayload{UserErrors: v.errs}, nil
	}
	_, c, userErrs, err := r.runAction(ctx, candidateAction{
		op: "setCandidateTags", past: "given these tags", id: id, request: tags,
		fields:   map[string]string{"tags": "tags"},
		notFound: "Workable has no candidate with this id",
		send: func(ctx context.Context, wc *workable.Client) (actionOutcome, error) {
			_, _, err := wc.Candidates.SetTags(ctx, id, tags)
			return actionOutcome{}, err
		},
	}, nil)
	if err != nil {
		return nil, err
	}
	return &model.SetCandidateTagsPayload{Candidate: c, UserErrors: userErrs}, nil
}

// transferAction validates a copyCandidate or relocateCandidate input.
func (r *Resolver) transferAction(ctx context.Context, in model.TransferCandidateInput, op, past string,
	send func(*workable.Client) func(context.Context, string, workable.Transfer) (workable.CandidateLink, *workable.Response, error),
) (candidateAction, []model.UserError) {
	var v validator
	id := v.identifier(inputAt("id"), in.ID, "candidate id")
	req := workable.Transfer{
		TargetJobShortcode: v.identifier(inputAt("toJob"), in.ToJob, "job shortcode"),
		TargetStage:        v.stageSlug(inputAt("toStage"), in.ToStage),
	}
	req.MemberID = r.actingMember(ctx, &v, in.MemberID)
	return candidateAction{
		op: op, past: past, id: id, keyed: true, request: req,
		// The copy or relocated candidate is a new one in the target job.
		event: events.CandidateCreated, job: req.TargetJobShortcode, stage: req.TargetStage,
		fields: withMember(map[string]string{"target_job_shortcode": "toJob", "target_stage": "toStage",
			"email": "toJob"}),
		notFound: "Workable has no candidate with this id (or no job with the shortcode toJob)",
		send: func(ctx context.Context, wc *workable.Client) (actionOutcome, error) {
			link, _, err := send(wc)(ctx, id, req)
			return actionOutcome{CandidateID: link.ID, Unnamed: err == nil && link.ID == ""}, err
		},
	}, v.errs
}

// copyCandidate implements Mutation.copyCandidate: POST
// /candidates/{id}/copy. The payload answers the copy.
func (r *Resolver) copyCandidate(ctx context.Context, in model.TransferCandidateInput) (*model.CopyCandidatePayload, error) {
	a, errs := r.transferAction(ctx, in, "copyCandidate", "copied",
		func(wc *workable.Client) func(context.Context, string, workable.Transfer) (workable.CandidateLink, *workable.Response, error) {
			return wc.Candidates.Copy
		})
	if len(errs) > 0 {
		return &model.CopyCandidatePayload{UserErrors: errs}, nil
	}
	_, c, userErrs, err := r.runAction(ctx, a, in.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	return &model.CopyCandidatePayload{Candidate: c, UserErrors: userErrs}, nil
}

// relocateCandidate implements Mutation.relocateCandidate: POST
// /candidates/{id}/relocate. The payload answers the relocated candidate,
// which has a new id.
func (r *Resolver) relocateCandidate(ctx context.Context, in model.TransferCandidateInput) (*model.RelocateCandidatePayload, error) {
	a, errs := r.transferAction(ctx, in, "relocateCandidate", "relocated",
		func(wc *workable.Client) func(context.Context, string, workable.Transfer) (workable.CandidateLink, *workable.Response, error) {
			return wc.Candidates.Relocate
		})
	if len(errs) > 0 {
		return &model.RelocateCandidatePayload{UserErrors: errs}, nil
	}
	_, c, userErrs, err := r.runAction(ctx, a, in.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	return &model.RelocateCandidatePayload{Candidate: c, UserErrors: userErrs}, nil
}
