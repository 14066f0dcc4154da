package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/hiring"
	"github.com/workablegw/gateway/workable"
)

// The candidate mutations. Each one validates its whole input first
// (validate.go) and answers every problem as a userError without calling
// Workable; only a valid input costs one Workable write (package hiring),
// which is never retried. Workable's answers map as follows:
//
//   - 404 (unknown job or candidate): userError NOT_FOUND on the input's
//     jobShortcode or id;
//   - 422 "candidate already exists": userError ALREADY_EXISTS on email;
//   - any other 422: one userError INVALID per Workable message, on the
//     input path of the Workable field (snake_case keys such as
//     "education_entries[1].start_date" become
//     input.educationEntries.1.startDate; unknown keys the input root);
//   - a write whose outcome is unknown (5xx, timeout): a GraphQL error
//     UPSTREAM_UNAVAILABLE that says the write may or may not have happened;
//   - every other failure (auth, rate limit, …): the error itself, which the
//     error presenter maps to its extensions.code.

// createCandidate implements Mutation.createCandidate: one
// POST /jobs/{shortcode}/candidates for a valid input (hiring.Writes.Create).
// The payload's candidate is Workable's answer, which carries the detail
// fields, so reading them back costs no further call.
func (r *Resolver) createCandidate(ctx context.Context, input model.CreateCandidateInput) (*model.CandidatePayload, error) {
	ctx = gqlhttp.RequestContext(ctx)
	req, userErrs := validateCreateCandidateInput(input)
	if len(userErrs) > 0 {
		return &model.CandidatePayload{UserErrors: userErrs}, nil
	}
	key, keyErrs := requestIdempotencyKey(ctx, input.IdempotencyKey)
	if len(keyErrs) > 0 {
		return &model.CandidatePayload{UserErrors: keyErrs}, nil
	}
	out, replayed, err := r.writes.Create(ctx, r.econFor(ctx), key, req)
	switch {
	case err != nil:
		userErrs, err := r.writeError(ctx, "create candidate", "created", "candidate", err)
		if err != nil {
			return nil, err
		}
		return &model.CandidatePayload{UserErrors: userErrs}, nil
	case out.Candidate == nil:
		return &model.CandidatePayload{UserErrors: problemUserErrors(out.Problems)}, nil
	case replayed:
		// This request's loaders serve the stored candidate; the cache
		// already saw the write when it happened.
		r.loadersFor(ctx).prime(ctx, out.Candidate)
	default:
		r.primeCandidate(ctx, out.Candidate)
		r.publishCreated(ctx, out.Candidate, req.Shortcode)
	}
	return &model.CandidatePayload{Candidate: out.Candidate, UserErrors: []model.UserError{}}, nil
}

// updateCandidate implements Mutation.updateCandidate: one
// PATCH /candidates/{id} carrying only the fields present in the input (see
// validateUpdateCandidateInput for null, [] and an input with only the id).
// The payload's candidate is Workable's answer, detail fields included.
func (r *Resolver) updateCandidate(ctx context.Context, input model.UpdateCandidateInput) (*model.CandidatePayload, error) {
	ctx = gqlhttp.RequestContext(ctx)
	id, patch, userErrs := validateUpdateCandidateInput(input)
	if len(userErrs) > 0 {
		return &model.CandidatePayload{UserErrors: userErrs}, nil
	}
	c, problems, err := hiring.Update(ctx, r.econFor(ctx), id, patch)
	switch {
	case err != nil:
		return nil, r.writeFailed(ctx, "update candidate", "updated", err)
	case problems != nil:
		return &model.CandidatePayload{UserErrors: problemUserErrors(problems)}, nil
	}
	r.primeCandidate(ctx, c)
	return &model.CandidatePayload{Candidate: c, UserErrors: []model.UserError{}}, nil
}

// writeFailed returns the GraphQL error for a write Workable did not
// complete. A write whose outcome is unknown (5xx, timeout after sending)
// gets a message of its own, so that the caller checks Workable before
// trying again; it is logged here because the error presenter keeps errors
// that already carry a code as they are. past is the verb in the message
// ("created", "updated").
func (r *Resolver) writeFailed(ctx context.Context, op, past string, err error) error {
	noteCall(ctx, op+" "+graphql.GetPath(ctx).String(), err)
	if errors.Is(err, workable.ErrOutcomeUnknown) {
		r.logger.LogAttrs(ctx, slog.LevelWarn, "candidate write outcome unknown",
			slog.String("op", op), slog.Any("err", err))
		return &gqlerror.Error{
			Path: graphql.GetPath(ctx),
			Message: fmt.Sprintf("Workable did not confirm the write: the candidate may or may not have been %s. "+
				"Check the candidate in Workable before retrying.", past),
			Extensions: map[string]any{"code": CodeUpstreamUnavailable},
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}
