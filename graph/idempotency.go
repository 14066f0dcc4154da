package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/workable"
)

// Idempotent writes (createCandidate and the hiring actions). A client sends an idempotency key in
// the Idempotency-Key header or the input's idempotencyKey field; the first
// request with a key makes the Workable write, and a repeat within the TTL
// (24 h) gets the first result without calling Workable, while a
// concurrent repeat waits for the first. The key is scoped to the
// credential's namespace, the caller's API key and the mutation
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

// write describes a mutation's Workable write for once.
type write struct {
	// op names the write in errors and logs ("create candidate"), past
	// what it does to the candidate ("created"), noun what a new key
	// stands for ("candidate").
	op, past, noun string
	// key is the request's idempotency key ("" for none) and scope what
	// else it is scoped by beside the credential and the caller ("" for
	// nothing).
	key, scope string
	// input is what the key is bound to: a repeat with another input is
	// refused.
	input any
}

// once runs send at most once per idempotency key (every time without
// one) and returns its outcome, or the outcome the first request with the
// key stored (replayed). send returns Workable's 404 and 422 in its
// outcome; an error matching workable.ErrOutcomeUnknown keeps the key
// locked, so that a retrying script can never repeat a write that may have
// happened. userErrs are the caller's to fix; err is a GraphQL error.
func once[T any](ctx context.Context, r *Resolver, w write, send func(context.Context) (T, error)) (out T, replayed bool, userErrs []model.UserError, err error) {
	if w.key == "" {
		if out, err = send(ctx); err != nil {
			return out, false, nil, r.writeFailed(ctx, w.op, w.past, err)
		}
		return out, false, nil, nil
	}
	// Without API keys every client is anonymous (""), so that a script
	// retrying from another address still finds its key.
	who := ""
	if p := access.PrincipalFrom(ctx); p.Authenticated {
		who = p.ID
	}
	fingerprint, err := json.Marshal(w.input)
	if err != nil {
		return out, false, nil, fmt.Errorf("%s: fingerprint the input: %w", w.op, err)
	}
	key := w.key
	if w.scope != "" {
		key = w.scope + "\x00" + key
	}
	scoped := idempotency.ScopedKey(r.econFor(ctx).Namespace(), who, key)
	result, replayed, err := r.idem.Do(ctx, scoped, idempotency.Fingerprint(fingerprint), r.idemTTL,
		func(ctx context.Context) ([]byte, error) {
			o, err := send(ctx)
			if err != nil {
				if errors.Is(err, workable.ErrOutcomeUnknown) {
					return nil, fmt.Errorf("%w: %w", idempotency.ErrOutcomeUnknown, err)
				}
				return nil, err
			}
			return json.Marshal(o)
		})
	switch {
	case errors.Is(err, idempotency.ErrKeyReused):
		return out, replayed, []model.UserError{{
			Field: inputAt("idempotencyKey"), Code: UserErrorIdempotencyKeyReused,
			Message: "this idempotency key was already used with a different input; use a new key for a new " + w.noun,
		}}, nil
	case err != nil && replayed && errors.Is(err, idempotency.ErrOutcomeUnknown):
		return out, replayed, nil, &gqlerror.Error{
			Path: graphql.GetPath(ctx),
			Message: fmt.Sprintf("Workable did not confirm the earlier request with this idempotency key: the candidate may or "+
				"may not have been %s. Check the candidate in Workable before retrying with a new key", w.past),
			Extensions: map[string]any{"code": CodeUpstreamUnavailable},
		}
	case err != nil:
		return out, replayed, nil, r.writeFailed(ctx, w.op, w.past, err)
	}
	if err := json.Unmarshal(result, &out); err != nil {
		return out, replayed, nil, fmt.Errorf("%s: decode the stored result: %w", w.op, err)
	}
	return out, replayed, nil, nil
}
