package graph

import (
	"context"
	"math"

	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/upstream"
)

// noteCall records the outcome of a Workable call made outside the loaders
// (stages, members, the account, writes); key names it within the request.
func noteCall(ctx context.Context, key string, err error) {
	upstream.RequestFrom(ctx).NoteServed("call:"+key, err)
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
