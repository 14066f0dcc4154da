package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/hiring"
	"github.com/workablegw/gateway/idempotency"
)

// Idempotent writes (createCandidate and the hiring actions, run by
// hiring.Once). A client sends an idempotency key in the Idempotency-Key
// header or the input's idempotencyKey field. A repeat with another input
// is userError IDEMPOTENCY_KEY_REUSED; a repeat of a write whose outcome is
// unknown gets UPSTREAM_UNAVAILABLE.

// requestIdempotencyKey returns the idempotency key of a mutation whose
// input field idempotencyKey is field: the field or the request's
// Idempotency-Key header, which must agree when both are given ("" when
// neither is), or the userErrors of a malformed key.
func requestIdempotencyKey(ctx context.Context, field *string) (string, []model.UserError) {
	at := hiring.InputAt("idempotencyKey")
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

// writeError maps the error of a hiring write to the mutation's answer: a
// key used before with another input is userError IDEMPOTENCY_KEY_REUSED
// (noun says what a new key stands for), a repeat of a write whose outcome
// is unknown UPSTREAM_UNAVAILABLE, anything else writeFailed's error.
func (r *Resolver) writeError(ctx context.Context, op, past, noun string, err error) ([]model.UserError, error) {
	switch {
	case errors.Is(err, idempotency.ErrKeyReused):
		return []model.UserError{{
			Field: hiring.InputAt("idempotencyKey"), Code: UserErrorIdempotencyKeyReused,
			Message: "this idempotency key was already used with a different input; use a new key for a new " + noun,
		}}, nil
	case errors.Is(err, hiring.ErrEarlierOutcomeUnknown):
		return nil, &gqlerror.Error{
			Path: graphql.GetPath(ctx),
			Message: fmt.Sprintf("Workable did not confirm the earlier request with this idempotency key: the candidate may or "+
				"may not have been %s. Check the candidate in Workable before retrying with a new key", past),
			Extensions: map[string]any{"code": CodeUpstreamUnavailable},
		}
	}
	return nil, r.writeFailed(ctx, op, past, err)
}

// problemUserErrors returns the userErrors of Workable's rejections of a write.
func problemUserErrors(problems []hiring.Problem) []model.UserError {
	if problems == nil {
		return nil
	}
	out := make([]model.UserError, len(problems))
	for i, p := range problems {
		out[i] = model.UserError(p)
	}
	return out
}
