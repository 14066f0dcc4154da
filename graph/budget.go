package graph

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// Serving pages within Workable's rate budget. When a query needs more calls
// than the budget allows before the request's deadline, the gateway spends
// the budget on whole items in list order and says when to come back:
//
//   - every Workable read is queued for the budget at a rank (rankOf): the
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

// rankOf returns the rank at which ctx's field asks Workable: a rank set on
// ctx (a derived fetch made on behalf of another key), else the request's
// ordinal followed by the list indices of the field's path, so that
// candidates.nodes[3].summary ranks (n, 3).
func rankOf(ctx context.Context) workable.Rank {
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

// noteCall records the outcome of a Workable call made outside the loaders
// (stages, members, the account, writes); key names it within the request.
func noteCall(ctx context.Context, key string, err error) {
	upstream.RequestFrom(ctx).NoteServed("call:"+key, err)
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

// workableBudget resolves Query.workableBudget from the rate limiter of the
// request's credential: no Workable call.
func (r *Resolver) workableBudget(ctx context.Context) (*model.WorkableBudget, error) {
	ctx = gqlhttp.RequestContext(ctx)
	upstream.RequestFrom(ctx).NoResponseCache() // it changes with every call
	e := r.econFor(ctx)
	b, err := e.Client().Budget(ctx)
	if err != nil {
		return nil, err
	}
	out := &model.WorkableBudget{
		Credential:    e.Nickname(),
		Limit:         b.Limit,
		WindowSeconds: int(math.Ceil(b.Window.Seconds())),
		Remaining:     b.Remaining,
		NextSlotAt:    b.NextSlot.UTC(),
		Queued:        b.Queued,
	}
	if !b.ResetsAt.IsZero() {
		t := b.ResetsAt.UTC()
		out.ResetsAt = &t
	}
	return out, nil
}
