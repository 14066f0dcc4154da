package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/workable"
)

// Idempotent createCandidate (issue 5). A client sends an idempotency key in
// the Idempotency-Key header or the input's idempotencyKey field; the first
// request with a key makes the Workable write, and a repeat within the TTL
// (24 h) gets the first result without calling Workable, while a
// concurrent repeat waits for the first. The key is scoped to the
// credential's namespace and the caller's API key
// (idempotency.ScopedKey), and bound to the normalised input: a repeat with
// another input is userError IDEMPOTENCY_KEY_REUSED. A write whose outcome
// is unknown keeps the key locked, so a retrying script can never create a
// second candidate; its repeats get UPSTREAM_UNAVAILABLE.

// storedCreate is what the idempotency store keeps of a createCandidate:
// Workable's candidate, or the userErrors of Workable's 404/422 (a repeat
// gets the same answer).
type storedCreate struct {
	Candidate  *workable.Candidate `json:"candidate,omitempty"`
	UserErrors []model.UserError   `json:"userErrors,omitempty"`
}

// idempotencyKeyOf returns the request's idempotency key ("" when it has
// none), or the userErrors of a malformed one.
func idempotencyKeyOf(ctx context.Context, in model.CreateCandidateInput) (string, []model.UserError) {
	return requestIdempotencyKey(ctx, in.IdempotencyKey)
}

// requestIdempotencyKey returns the idempotency key of a mutation whose
// input field idempotencyKey is field: the field or the request's
// Idempotency-Key header, which must agree when both are given ("" when
// neither is), or the userErrors of a malformed key.
func requestIdempotencyKey(ctx context.Context, field *string) (string, []model.UserError) {
	at := inputAt("idempotencyKey")
	var header string
	if rs := requestFrom(ctx); rs != nil {
		if rs.idempotencyKeys > 1 {
			return "", []model.UserError{{Field: at, Code: UserErrorInvalid,
				Message: "send at most one Idempotency-Key header"}}
		}
		header = rs.idempotencyKey
	}
	key := header
	if field != nil {
		if header != "" && *field != header {
			return "", []model.UserError{{Field: at, Code: UserErrorInvalid,
				Message: "the idempotencyKey field and the Idempotency-Key header differ; send one of them"}}
		}
		key = *field
	}
	if key == "" && field == nil {
		return "", nil
	}
	if err := idempotency.ValidateKey(key); err != nil {
		return "", []model.UserError{{Field: at, Code: UserErrorInvalid,
			Message: "the idempotency key must be 1 to 255 printable ASCII characters without spaces"}}
	}
	return key, nil
}

// createCandidateOnce runs a valid createCandidate at most once per
// idempotency key.
func (r *Resolver) createCandidateOnce(ctx context.Context, key string, req createRequest) (*model.CreateCandidatePayload, error) {
	e := r.econFor(ctx)
	// Without API keys every client is anonymous (""), so that a script
	// retrying from another address still finds its key.
	who := ""
	if p := access.PrincipalFrom(ctx); p.Authenticated {
		who = p.ID
	}
	input, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("create candidate: fingerprint the input: %w", err)
	}
	var created *workable.Candidate
	client := e.Client()
	result, replayed, err := r.idem.Do(ctx, idempotency.ScopedKey(e.Namespace(), who, key), idempotency.Fingerprint(input), r.idemTTL,
		func(ctx context.Context) ([]byte, error) {
			c, _, err := client.Candidates.Create(ctx, req.Shortcode, req.Candidate, req.Options)
			if err != nil {
				if userErrs := writeUserErrors(err, inputAt("jobShortcode"), "Workable has no job with this shortcode"); userErrs != nil {
					return json.Marshal(storedCreate{UserErrors: userErrs})
				}
				if errors.Is(err, workable.ErrOutcomeUnknown) {
					return nil, fmt.Errorf("%w: %w", idempotency.ErrOutcomeUnknown, err)
				}
				return nil, err
			}
			created = c
			return json.Marshal(storedCreate{Candidate: c})
		})
	switch {
	case errors.Is(err, idempotency.ErrKeyReused):
		return &model.CreateCandidatePayload{UserErrors: []model.UserError{{
			Field: inputAt("idempotencyKey"), Code: UserErrorIdempotencyKeyReused,
			Message: "this idempotency key was already used with a different input; use a new key for a new candidate",
		}}}, nil
	case err != nil && replayed && errors.Is(err, idempotency.ErrOutcomeUnknown):
		return nil, &gqlerror.Error{
			Message: "an earlier request with this idempotency key may or may not have created the candidate: " +
				"check the candidate in Workable before retrying with a new key",
			Extensions: map[string]any{"code": CodeUpstreamUnavailable},
		}
	case err != nil:
		if errors.Is(err, workable.ErrOutcomeUnknown) {
			e.CandidateMaybeWritten(ctx, "")
		}
		return nil, r.writeFailed(ctx, "create candidate", "created", err)
	}
	var out storedCreate
	if err := json.Unmarshal(result, &out); err != nil {
		return nil, fmt.Errorf("create candidate: decode the stored result: %w", err)
	}
	if out.Candidate == nil {
		return &model.CreateCandidatePayload{UserErrors: out.UserErrors}, nil
	}
	if created != nil && !replayed {
		r.primeCandidate(ctx, created)
		r.publishCreated(ctx, created, req.Shortcode)
		return &model.CreateCandidatePayload{Candidate: created, UserErrors: []model.UserError{}}, nil
	}
	// A replay: this request's loaders serve the stored candidate; the
	// cache already saw the write when it happened.
	l := r.loadersFor(ctx)
	l.candidate.prime(ctx, out.Candidate.ID, out.Candidate)
	l.candidateBasic.prime(ctx, out.Candidate.ID, out.Candidate)
	return &model.CreateCandidatePayload{Candidate: out.Candidate, UserErrors: []model.UserError{}}, nil
}
