package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/workable"
)

// The candidate mutations. Each one validates its whole input first
// (validate.go) and answers every problem as a userError without calling
// Workable; only a valid input costs one Workable write, which is never
// retried here. Workable's answers map as follows:
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
// POST /jobs/{shortcode}/candidates for a valid input. The payload's
// candidate is Workable's answer, which carries the detail fields, so reading
// them back costs no further call.
func (r *Resolver) createCandidate(ctx context.Context, input model.CreateCandidateInput) (*model.CreateCandidatePayload, error) {
	ctx = gqlhttp.RequestContext(ctx)
	req, userErrs := validateCreateCandidateInput(input)
	if len(userErrs) > 0 {
		return &model.CreateCandidatePayload{UserErrors: userErrs}, nil
	}
	key, keyErrs := idempotencyKeyOf(ctx, input)
	if len(keyErrs) > 0 {
		return &model.CreateCandidatePayload{UserErrors: keyErrs}, nil
	}
	e := r.econFor(ctx)
	w := write{op: "create candidate", past: "created", noun: "candidate", key: key, input: req}
	out, replayed, userErrs, err := once(ctx, r, w, func(ctx context.Context) (storedCreate, error) {
		c, _, err := e.Client().Candidates.Create(ctx, req.Shortcode, req.Candidate, req.Options)
		if err != nil {
			if userErrs := writeUserErrors(err, inputAt("jobShortcode"), "Workable has no job with this shortcode"); userErrs != nil {
				return storedCreate{UserErrors: userErrs}, nil
			}
			if errors.Is(err, workable.ErrOutcomeUnknown) {
				e.CandidatesChanged(ctx)
			}
			return storedCreate{}, err
		}
		return storedCreate{Candidate: c}, nil
	})
	switch {
	case err != nil:
		return nil, err
	case len(userErrs) > 0:
		return &model.CreateCandidatePayload{UserErrors: userErrs}, nil
	case out.Candidate == nil:
		return &model.CreateCandidatePayload{UserErrors: out.UserErrors}, nil
	case replayed:
		// This request's loaders serve the stored candidate; the cache
		// already saw the write when it happened.
		r.loadersFor(ctx).prime(ctx, out.Candidate)
	default:
		r.primeCandidate(ctx, out.Candidate)
		r.publishCreated(ctx, out.Candidate, req.Shortcode)
	}
	return &model.CreateCandidatePayload{Candidate: out.Candidate, UserErrors: []model.UserError{}}, nil
}

// updateCandidate implements Mutation.updateCandidate: one
// PATCH /candidates/{id} carrying only the fields present in the input (see
// validateUpdateCandidateInput for null, [] and an input with only the id).
// The payload's candidate is Workable's answer, detail fields included.
func (r *Resolver) updateCandidate(ctx context.Context, input model.UpdateCandidateInput) (*model.UpdateCandidatePayload, error) {
	ctx = gqlhttp.RequestContext(ctx)
	id, patch, userErrs := validateUpdateCandidateInput(input)
	if len(userErrs) > 0 {
		return &model.UpdateCandidatePayload{UserErrors: userErrs}, nil
	}
	c, _, err := r.clientFor(ctx).Candidates.Update(ctx, id, patch)
	if err != nil {
		if userErrs := writeUserErrors(err, inputAt("id"), "Workable has no candidate with this id"); userErrs != nil {
			return &model.UpdateCandidatePayload{UserErrors: userErrs}, nil
		}
		if errors.Is(err, workable.ErrOutcomeUnknown) {
			r.econFor(ctx).CandidatesChanged(ctx, id)
		}
		return nil, r.writeFailed(ctx, "update candidate", "updated", err)
	}
	r.primeCandidate(ctx, c)
	return &model.UpdateCandidatePayload{Candidate: c, UserErrors: []model.UserError{}}, nil
}

// writeUserErrors turns the Workable errors that are the caller's to fix
// (404, 422) into userErrors; it returns nil for every other error.
// notFoundPath is where a 404 points: the job or the candidate of the input.
func writeUserErrors(err error, notFoundPath fieldPath, notFoundMsg string) []model.UserError {
	switch {
	case errors.Is(err, workable.ErrNotFound):
		return []model.UserError{{Field: notFoundPath, Message: notFoundMsg, Code: UserErrorNotFound}}
	case errors.Is(err, workable.ErrAlreadyExists), errors.Is(err, workable.ErrValidation):
		return validationUserErrors(err)
	}
	return nil
}

// validationUserErrors maps a Workable 422 to userErrors: one per message
// of validation_errors, in key order. A duplicate candidate
// (workable.ErrAlreadyExists) gives ALREADY_EXISTS on email; everything
// else INVALID.
func validationUserErrors(err error) []model.UserError {
	alreadyExists := errors.Is(err, workable.ErrAlreadyExists)
	var out []model.UserError
	var er *workable.ErrorResponse
	if errors.As(err, &er) {
		keys := make([]string, 0, len(er.ValidationErrors))
		for k := range er.ValidationErrors {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, key := range keys {
			path := workableFieldPath(key)
			for _, msg := range er.ValidationErrors[key] {
				if alreadyExists && strings.Contains(strings.ToLower(msg), "already exists") {
					continue // reported once below
				}
				out = append(out, model.UserError{
					Field:   path,
					Message: fmt.Sprintf("Workable rejected %s: %s", key, msg),
					Code:    UserErrorInvalid,
				})
			}
		}
	}
	if alreadyExists {
		out = append([]model.UserError{{
			Field:   inputAt("email"),
			Message: "a candidate with this e-mail address already exists in this job",
			Code:    UserErrorAlreadyExists,
		}}, out...)
	}
	if len(out) == 0 {
		msg := "Workable rejected the input"
		if er != nil && er.Message != "" {
			msg += ": " + er.Message
		}
		out = append(out, model.UserError{Field: inputAt(), Message: msg, Code: UserErrorInvalid})
	}
	return out
}

// workableFieldPath maps a Workable validation key to the input path of the
// field it names. Keys are snake_case and may index lists in either
// "education_entries[1].start_date" or "education_entries.1.start_date"
// form (the exact form is not documented, API.md §4 [I]). A key that names
// no input field (e.g. "stage", "candidate") maps to the input root.
//
// simulator guess: the simulator uses the bracket form; both are accepted.
func workableFieldPath(key string) fieldPath {
	parts := strings.FieldsFunc(key, func(r rune) bool { return r == '[' || r == ']' || r == '.' })
	if len(parts) == 0 {
		return inputAt()
	}
	top, ok := workableInputFields(parts[0])
	if !ok {
		return inputAt()
	}
	path := inputAt(top)
	for _, p := range parts[1:] {
		path = path.at(snakeToCamel(p))
	}
	return path
}

// workableInputFields returns the input field of a top-level Workable
// candidate key. "name" is derived from firstName and lastName, so its
// problems point at firstName.
func workableInputFields(key string) (string, bool) {
	switch key {
	case "name", "firstname":
		return "firstName", true
	case "lastname":
		return "lastName", true
	case "email", "headline", "summary", "address", "phone", "cover_letter",
		"education_entries", "experience_entries", "social_profiles", "tags":
		return snakeToCamel(key), true
	}
	return "", false
}

// snakeToCamel turns field_of_study into fieldOfStudy; digits and names
// without underscores are returned as they are.
func snakeToCamel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if p := parts[i]; p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
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
