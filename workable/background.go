package workable

import (
	"context"

	"github.com/workablegw/gateway/ctxkey"
)

// PriorityBackground is the priority of reads no user waits for (the
// gateway's background refresher): every user call queued in a limiter
// goes first (in a budget shared through Redis, a user call waiting on any
// replica), so that background work takes only slots nobody else wants
// and delays a user call by at most the one call it already holds.
const PriorityBackground Priority = -1

// backgroundKey carries the background of Background.
var backgroundKey = ctxkey.New[background]("workable.Background")

// background is what Background puts in a context.
type background struct {
	onSlot func()
}

// Background returns a copy of ctx whose reads queue for the rate budget
// at PriorityBackground (writes keep PriorityWrite) and are never retried
// (a 429, a 5xx or a timeout ends the call at once: background work tries
// again later rather than spend more of the budget now). onSlot, when not
// nil, is called each time one of its calls gets a slot, so that the
// caller can count exactly what it spends of the budget.
func Background(ctx context.Context, onSlot func()) context.Context {
	return backgroundKey.With(ctx, background{onSlot: onSlot})
}

// priorityOf returns the priority of a call of method under ctx, and the
// function to call when one of its attempts gets a slot (nil for none).
func priorityOf(ctx context.Context, method string) (Priority, func()) {
	if isWrite(method) {
		return PriorityWrite, nil
	}
	if bg, ok := backgroundKey.Value(ctx); ok {
		return PriorityBackground, bg.onSlot
	}
	return PriorityRead, nil
}
