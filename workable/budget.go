package workable

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/workablegw/gateway/ctxkey"
)

// MaxAdoptedLimit bounds the X-Rate-Limit-Limit a limiter adopts: a header
// announcing more is taken as this many. Workable's documented budgets are
// 10 and 50 per 10 s (API.md §7); the bound only stops a corrupt header from
// switching the limiter off.
const MaxAdoptedLimit = 1000

// Rank orders the callers of one priority queued in a rate limiter: a
// lower rank gets the next slot first, and equal ranks are served in
// arrival order. Ranks compare element by element (a prefix comes first),
// so a caller can rank its calls by several keys, e.g. the request they
// belong to, then the position of the item in a list.
type Rank []int64

// Compare returns -1, 0 or +1 as r ranks before, with or after o.
func (r Rank) Compare(o Rank) int { return slices.Compare(r, o) }

// rankKey carries the Rank of WithRank.
var rankKey = ctxkey.New[Rank]("workable.Rank")

// WithRank returns a copy of ctx whose Workable calls queue for the rate
// budget at rank (see Rank). A GraphQL gateway ranks the calls of a page by
// the list position of the item they serve, so that when the budget is short
// whole items complete in list order rather than a little of every item.
func WithRank(ctx context.Context, rank Rank) context.Context {
	return rankKey.With(ctx, rank)
}

// RankFrom returns the rank of ctx, nil (first among equals) when none was set.
func RankFrom(ctx context.Context) Rank {
	return rankKey.Get(ctx)
}

// reserveKey carries the call reserve of WithCallReserve.
var reserveKey = ctxkey.New[func() time.Duration]("workable.CallReserve")

// WithCallReserve returns a copy of ctx asking rate limiters to give its
// calls only a slot that leaves reserve() before ctx's deadline: the time
// the call is expected to take, read each time a slot is decided (so a
// caller queued early and one queued late are judged alike). The Client
// sets it from its moving average of call durations.
func WithCallReserve(ctx context.Context, reserve func() time.Duration) context.Context {
	return reserveKey.With(ctx, reserve)
}

// SlotDeadline returns the latest time a slot may have for a call under
// ctx: ctx's deadline less the call reserve (see WithCallReserve); ok is
// false when ctx has no deadline.
func SlotDeadline(ctx context.Context) (t time.Time, ok bool) {
	dl, ok := ctx.Deadline()
	if !ok {
		return time.Time{}, false
	}
	if f, has := reserveKey.Value(ctx); has {
		dl = dl.Add(-f())
	}
	return dl, true
}

// Place is where a caller stands among those queued in a rate limiter:
// served by priority (higher first), then by rank, then in arrival order,
// and only with a slot that leaves its call time before its deadline.
// WindowLimiter and the Redis limiter of the ratebudget package queue
// their callers by it.
type Place struct {
	Priority Priority
	Rank     Rank
	// Seq is the caller's arrival in its queue, which the queue sets.
	Seq      uint64
	Deadline time.Time // zero: none
	// Reserve is the time the call needs before the deadline (see
	// WithCallReserve), read each time a slot is judged; nil for none.
	Reserve func() time.Duration
}

// PlaceOf returns the place of a caller of priority p under ctx: its rank
// (RankFrom), its deadline and its call reserve. The queue sets Seq.
func PlaceOf(ctx context.Context, p Priority) Place {
	pl := Place{Priority: p, Rank: RankFrom(ctx)}
	if dl, ok := ctx.Deadline(); ok {
		pl.Deadline = dl
		pl.Reserve, _ = reserveKey.Value(ctx)
	}
	return pl
}

// Before reports whether a caller at p is served before one at o.
func (p Place) Before(o Place) bool {
	if p.Priority != o.Priority {
		return p.Priority > o.Priority
	}
	if c := p.Rank.Compare(o.Rank); c != 0 {
		return c < 0
	}
	return p.Seq < o.Seq
}

// Misses reports whether a slot at t leaves too little time before p's
// deadline for its call.
func (p Place) Misses(t time.Time) bool {
	if p.Deadline.IsZero() {
		return false
	}
	if p.Reserve != nil {
		t = t.Add(p.Reserve())
	}
	return t.After(p.Deadline)
}

// PageOrder keeps the callers of one page served as a prefix: once a caller
// could not be given a slot before its deadline, the callers of the same
// group (the first element of their ranks: one request, for the gateway)
// ranked after it are refused too, even if a slot frees up for them later
// (a faster call, a call that failed): their items would otherwise
// complete while an earlier item of the page stays empty. Callers ranked
// before it still go. The zero PageOrder is ready to use; it is not safe
// for concurrent use (limiters hold their lock).
type PageOrder struct {
	marks map[int64]pageMark
}

type pageMark struct {
	rank  Rank
	until time.Time
}

// Late records that the caller at rank r could not be served; the mark is
// kept until its deadline, after which no caller of its group can be
// served anyway. An unranked caller marks nothing.
func (o *PageOrder) Late(r Rank, until time.Time, now time.Time) {
	if len(r) == 0 {
		return
	}
	for g, m := range o.marks {
		if !now.Before(m.until) {
			delete(o.marks, g)
		}
	}
	if o.marks == nil {
		o.marks = make(map[int64]pageMark)
	}
	if m, ok := o.marks[r[0]]; ok && m.rank.Compare(r) <= 0 {
		if until.After(m.until) {
			m.until = until
			o.marks[r[0]] = m
		}
		return
	}
	if until.IsZero() {
		until = now.Add(time.Minute)
	}
	o.marks[r[0]] = pageMark{rank: r, until: until}
}

// Behind reports whether a caller at rank r comes after a caller of its
// group that could not be served.
func (o *PageOrder) Behind(r Rank, now time.Time) bool {
	if len(r) == 0 {
		return false
	}
	m, ok := o.marks[r[0]]
	return ok && now.Before(m.until) && r.Compare(m.rank) > 0
}

// onQueuedKey carries the function of WithOnQueued.
var onQueuedKey = ctxkey.New[func()]("workable.OnQueued")

// WithOnQueued returns a copy of ctx whose Workable calls run f once they
// have their place among the callers of the rate limiter: sent at once,
// queued, or refused. A caller that starts several calls one after another
// can wait for it before starting the next, so that the limiter sees them
// in that order even when it has free slots (which it gives in arrival
// order). f may be called more than once (a retried call queues again).
func WithOnQueued(ctx context.Context, f func()) context.Context {
	return onQueuedKey.With(ctx, f)
}

// NotifyQueued runs the function of WithOnQueued, if ctx has one. Rate
// limiters call it once a caller has its place; it must not be called with
// a lock held that f could need.
func NotifyQueued(ctx context.Context) {
	if f, ok := onQueuedKey.Value(ctx); ok {
		f()
	}
}

// sendGateKey carries the function of WithSendGate.
var sendGateKey = ctxkey.New[func() bool]("workable.SendGate")

// WithSendGate returns a copy of ctx whose Workable calls ask send, each
// time the rate limiter has given one of them a slot and before it goes out,
// whether it is still wanted: false abandons the call, which then fails with
// ErrAbandoned and sends nothing (its slot is spent). A call shared by
// several clients uses it to give up its place in the rate limiter's queue
// once every client has gone, yet to complete once it was sent.
func WithSendGate(ctx context.Context, send func() bool) context.Context {
	return sendGateKey.With(ctx, send)
}

// ErrAbandoned is the error of a call whose send gate (WithSendGate) said it
// was no longer wanted.
var ErrAbandoned = errors.New("workable: call abandoned before it was sent: nobody waits for it")

// sendWanted asks the send gate of ctx, if it has one.
func sendWanted(ctx context.Context) bool {
	f, ok := sendGateKey.Value(ctx)
	return !ok || f()
}

// Budget is a rate limiter's view of the token's budget, for showing a
// user how fast Workable can be read right now. No Workable call is made to
// build it.
type Budget struct {
	// Limit is the requests allowed per window: the limit Workable announced
	// in X-Rate-Limit-Limit, or the one the limiter was pinned to.
	Limit int
	// Window is the interval the limit applies to (without safety margin).
	Window time.Duration
	// Remaining is how many requests could be sent now without waiting.
	Remaining int
	// ResetsAt is when the budget next grows: when the oldest request
	// counted in the window leaves it, or when a block Workable asked for
	// ends. Zero when nothing is counted (the whole budget is available).
	ResetsAt time.Time
	// NextSlot is when a request asking now would be sent, after the
	// callers already queued: now when Remaining > 0 and nobody waits.
	NextSlot time.Time
	// Queued is how many callers wait for a slot in this process.
	Queued int
	// Delayed counts the calls that had to wait for a slot since the
	// limiter was made.
	Delayed uint64
}

// BudgetReporter is implemented by rate limiters that can report their
// Budget (WindowLimiter, and the Redis limiter of the cache package).
type BudgetReporter interface {
	Budget(ctx context.Context) (Budget, error)
}

// ErrNoBudget is returned by Client.Budget when the client's rate limiter
// cannot report its budget.
var ErrNoBudget = errors.New("workable: the rate limiter does not report its budget")

// BudgetError is the error of a call that the rate budget cannot serve in
// time: its slot (plus the expected duration of the call) comes after the
// context's deadline. It matches ErrRateLimited.
type BudgetError struct {
	// NextSlot is when the call could have been sent; zero when unknown.
	NextSlot time.Time
	// Wait is how long the call would have waited for it.
	Wait time.Duration
}

// Error says how far away the slot was, e.g. "workable: rate limited: next
// slot in 10.489s is after the context deadline".
func (e *BudgetError) Error() string {
	if e.Wait <= 0 {
		return fmt.Sprintf("%v: no slot before the context deadline", ErrRateLimited)
	}
	return fmt.Sprintf("%v: next slot in %s is after the context deadline", ErrRateLimited, e.Wait.Round(time.Millisecond))
}

// Is makes a BudgetError match ErrRateLimited.
func (e *BudgetError) Is(target error) bool { return target == ErrRateLimited }

// SlotAfter returns when a request could be sent if ahead other requests
// were sent first, each as early as possible, under a sliding-window log
// of at most limit sends per span: sends are the recent sends, oldest
// first, and nothing may go before notBefore (now, or the end of a block).
// It is the scheduling rule shared by WindowLimiter and the Redis limiter.
// It takes O(len(sends) + min(ahead, limit)) time whatever ahead is.
func SlotAfter(sends []time.Time, limit int, span time.Duration, notBefore time.Time, ahead int) time.Time {
	limit = max(limit, 1)
	if n := len(sends); n > limit {
		sends = sends[n-limit:]
	}
	// t[j] is the j-th future send: at or after notBefore, and at least
	// span after the send limit places before it (a past send for the
	// first ones, else the future send t[j-limit]). Past the first limit
	// future sends the pattern repeats one span later each round.
	steps := min(ahead, limit-1)
	future := make([]time.Time, 0, steps+1)
	all := func(i int) time.Time { // i indexes sends followed by future
		if i < len(sends) {
			return sends[i]
		}
		return future[i-len(sends)]
	}
	for j := 0; j <= steps; j++ {
		t := notBefore
		if k := len(sends) + j - limit; k >= 0 {
			if free := all(k).Add(span); free.After(t) {
				t = free
			}
		}
		if j > 0 && future[j-1].After(t) {
			t = future[j-1]
		}
		future = append(future, t)
	}
	if ahead <= steps {
		return future[ahead]
	}
	// ahead >= limit: t[ahead] = t[ahead-limit] + span, repeatedly.
	// Here steps == limit-1, so every residue has been computed.
	return future[ahead%limit].Add(time.Duration(ahead/limit) * span)
}
