// Package cost is what a GraphQL request spends of Workable's rate budget:
// the rank at which each field's Workable calls queue for the budget,
// extensions.cost in every response, and the retry hints of RATE_LIMITED
// errors.
package cost

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/telemetry"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// CodeRateLimited is the extensions.code of an error for a Workable call
// the rate budget could not make before the request's deadline.
const CodeRateLimited = "RATE_LIMITED"

// Serving pages within Workable's rate budget. When a query needs more calls
// than the budget allows before the request's deadline, the gateway spends
// the budget on whole items in list order and says when to come back:
//
//   - every Workable read is queued for the budget at a rank (RankOf): the
//     request's arrival order, then the list positions of the field that
//     asked for it, so candidate 1's detail and activities go before
//     candidate 2's, and an earlier request's page before a later one's;
//   - a call is only sent when its answer can come back before the deadline
//     (the client keeps the expected call time in reserve), so a page that
//     cannot be completed ends as soon as no more calls fit, with the items
//     it could fetch (and cached them: a retry completes the page);
//   - each RATE_LIMITED error carries extensions.retryAfter (seconds until
//     the limiter's next free slot) and extensions.workableCallsNeeded (the
//     reads and writes the request could not make).

// RankOf returns the rank at which ctx's field asks Workable: a rank set on
// ctx (a derived fetch made on behalf of another key), else the request's
// ordinal followed by the list indices of the field's path, so that
// candidates.nodes[3].summary ranks (n, 3).
func RankOf(ctx context.Context) workable.Rank {
	if r := workable.RankFrom(ctx); r != nil {
		return r
	}
	rank := workable.Rank{0}
	rank[0] = upstream.RequestFrom(ctx).Ordinal()
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		for _, el := range fc.Path() {
			if i, ok := el.(ast.PathIndex); ok {
				rank = append(rank, int64(i))
			}
		}
	}
	return rank
}

// Extension adds extensions.cost to every executed operation's
// response: {workableCalls, cacheHits, cacheMisses, stale}, counted for this
// GraphQL request only; and, when stale copies were served,
// extensions.stale = true with extensions.staleData naming them. Each
// RATE_LIMITED error gets its retry hints (addRetryHints). With @defer,
// every part carries the cost so far.
type Extension struct{}

var (
	_ graphql.HandlerExtension    = Extension{}
	_ graphql.ResponseInterceptor = Extension{}
)

// ExtensionName implements graphql.HandlerExtension.
func (Extension) ExtensionName() string { return "WorkableCost" }

// Validate implements graphql.HandlerExtension.
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse implements graphql.ResponseInterceptor.
func (Extension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	rs := upstream.RequestFrom(ctx)
	if resp == nil || rs == nil {
		return resp
	}
	if graphql.HasOperationContext(ctx) {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Query {
			rs.MarkQuery(telemetry.OperationLabel(ctx))
		}
	}
	if resp.Extensions == nil {
		resp.Extensions = make(map[string]any, 3)
	}
	cost := rs.Cost()
	resp.Extensions["cost"] = cost
	addRetryHints(ctx, rs, resp)
	if cost.Stale > 0 {
		resp.Extensions["stale"] = true
		resp.Extensions["staleData"] = rs.StaleRefs()
	}
	return resp
}

// addRetryHints gives every RATE_LIMITED error of resp
// extensions.retryAfter and extensions.workableCallsNeeded.
func addRetryHints(ctx context.Context, rs *upstream.Request, resp *graphql.Response) {
	var limited []*gqlerror.Error
	for _, e := range resp.Errors {
		if code, _ := e.Extensions["code"].(string); code == CodeRateLimited {
			limited = append(limited, e)
		}
	}
	if len(limited) == 0 {
		return
	}
	retryAfter := retryAfter(ctx, rs.Economy().Client(), limited)
	needed := max(rs.NeededCalls(), 1) // a RATE_LIMITED error stands for a call at least
	for _, e := range limited {
		e.Extensions["retryAfter"] = retryAfter
		e.Extensions["workableCallsNeeded"] = needed
	}
}

// retryAfter is how many seconds from now the request's credential (whose
// client is client) has a free slot: the limiter's next slot (after the
// calls already waiting), or, when the limiter cannot tell, the latest slot
// or Retry-After its errors carry. At least 1, so that a client never
// retries in a tight loop.
func retryAfter(ctx context.Context, client *workable.Client, errs []*gqlerror.Error) int {
	now := time.Now()
	var at time.Time
	if b, err := client.Budget(ctx); err == nil {
		at = b.NextSlot
	}
	if at.IsZero() {
		for _, e := range errs {
			var be *workable.BudgetError
			var er *workable.ErrorResponse
			switch {
			case errors.As(e.Err, &be) && be.NextSlot.After(at):
				at = be.NextSlot
			case errors.As(e.Err, &er) && now.Add(er.RetryAfter).After(at):
				at = now.Add(er.RetryAfter)
			}
		}
	}
	return max(int(math.Ceil(at.Sub(now).Seconds())), 1)
}
