package workable

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Priority orders callers queued in a RateLimiter: when several callers wait,
// a higher priority gets the next slot first.
type Priority int

const (
	// PriorityRead is the priority of GET requests.
	PriorityRead Priority = iota
	// PriorityWrite is the priority of POST and PATCH requests; a user who
	// waits on a mutation should not queue behind a page of background reads.
	PriorityWrite
)

// RateLimiter decides when the client may send a request to Workable. Every
// attempt, retries included, passes through Wait.
type RateLimiter interface {
	// Wait blocks until one request may be sent. It returns an error wrapping
	// ErrRateLimited at once when the wait would outlast ctx's deadline, and
	// ctx.Err() if ctx ends.
	Wait(ctx context.Context, p Priority) error
	// Observe keeps the limiter in step with Workable's X-Rate-Limit-*
	// headers (after every response, including 429).
	Observe(r Rate)
}

// LimiterOption configures a WindowLimiter.
type LimiterOption func(*WindowLimiter)

// WithMargin sets how much longer than the nominal window the limiter waits
// before a slot is reused, and how long after an X-Rate-Limit-Reset time it
// stays blocked. The margin absorbs network jitter (requests do not reach
// Workable in the order and at the spacing they left) and clock skew against
// Workable's fixed windows. The default is window/20 but at least 50 ms.
// A negative d is treated as zero.
func WithMargin(d time.Duration) LimiterOption {
	return func(l *WindowLimiter) {
		l.margin = max(d, 0)
	}
}

// WithFixedLimit pins the limiter to the limit it was made with: the
// X-Rate-Limit-Limit of responses is ignored. For operators who know their
// token's budget better than its headers (WORKABLE_RATE_LIMIT), and for
// tests that give a limiter a budget other than the server announces.
func WithFixedLimit() LimiterOption {
	return func(l *WindowLimiter) { l.fixed = true }
}

// WindowLimiter is a sliding-window-log rate limiter: it allows at most limit
// sends in any interval of length window+margin. It is safe for concurrent
// use.
//
// The limit starts at the one it was made with and then follows the
// X-Rate-Limit-Limit that Workable announces for the token (10 for account
// tokens, 50 for OAuth and partner tokens, API.md §7), up or down, unless
// it was made WithFixedLimit. Whatever the limit, no more sends than it
// allows are made within one span: the log keeps every send of the last
// span, so lowering the limit holds callers back until enough sends have
// left it.
//
// Queued callers are served by priority (writes first), then by Rank (see
// WithRank), then in arrival order. A caller whose slot, given the callers
// ahead of it, would come after its context's deadline (less its call
// reserve, see WithCallReserve) fails at once with a *BudgetError, also
// when a caller ranked before it joins the queue later and pushes its slot
// past the deadline; and so do the callers of its page ranked after it (see
// PageOrder), so that a page is served as a prefix of whole items.
//
// Besides the limit, only Remaining == 0 in observed headers changes its
// state (it then blocks until Reset plus the margin). A positive Remaining
// is deliberately ignored: responses arrive out of order and requests still
// in flight are not yet counted in it, so it is not a reliable bound, while
// the limiter's own log already bounds this process's traffic.
type WindowLimiter struct {
	window time.Duration
	margin time.Duration
	fixed  bool

	mu           sync.Mutex
	limit        int
	sends        []time.Time // the sends of the last span, oldest first
	blockedUntil time.Time
	queue        []*waiter // in service order: the head first
	seq          uint64
	delayed      uint64
	order        PageOrder
}

type waiter struct {
	Place
	// late is set, and the waiter removed from the queue, when its slot
	// falls after its deadline.
	late *BudgetError
	wake chan struct{}
}

// NewWindowLimiter returns a limiter allowing limit requests per window (plus
// the margin, see WithMargin), adopting the limit Workable announces unless
// WithFixedLimit is given. A limit below 1 is treated as 1 and a negative
// window as 0.
func NewWindowLimiter(limit int, window time.Duration, opts ...LimiterOption) *WindowLimiter {
	limit = max(limit, 1)
	window = max(window, 0)
	l := &WindowLimiter{
		limit:  limit,
		window: window,
		margin: defaultMargin(window),
	}
	for _, o := range opts {
		o(l)
	}
	return l
}

func defaultMargin(window time.Duration) time.Duration {
	if window <= 0 {
		return 0
	}
	return max(window/20, 50*time.Millisecond)
}

// Limit returns the number of requests allowed per window now.
func (l *WindowLimiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// SetLimit sets the number of requests allowed per window, as an adopted
// limit would (a limit below 1 counts as 1); a limiter made WithFixedLimit
// takes it too. Queued callers re-check their slots.
func (l *WindowLimiter) SetLimit(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n = min(max(n, 1), MaxAdoptedLimit)
	if n == l.limit {
		return
	}
	l.limit = n
	l.dropLate(time.Now(), 0)
	l.notifyHead()
}

// Window returns the nominal window, without the margin.
func (l *WindowLimiter) Window() time.Duration { return l.window }

// Wait blocks until one request may be sent. It fails at once with a
// *BudgetError (matching ErrRateLimited) when the earliest slot this caller
// can get, given the callers queued ahead of it, is after ctx's deadline,
// and returns ctx.Err() if ctx ends while it waits. The caller's rank is
// RankFrom(ctx); NotifyQueued(ctx) is called once it has its place.
func (l *WindowLimiter) Wait(ctx context.Context, p Priority) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &waiter{Place: PlaceOf(ctx, p), wake: make(chan struct{}, 1)}
	l.mu.Lock()
	w.Seq = l.seq
	l.seq++
	now := time.Now()
	pos, _ := slices.BinarySearchFunc(l.queue, w, func(q, w *waiter) int {
		if q.Before(w.Place) {
			return -1
		}
		return 1
	})
	at := l.slot(now, pos)
	if w.Misses(at) || l.order.Behind(w.Rank, now) {
		l.lateAt(w, now)
		l.mu.Unlock()
		NotifyQueued(ctx)
		return budgetError(now, at)
	}
	if pos == 0 && !at.After(now) {
		l.record(now)
		l.mu.Unlock()
		NotifyQueued(ctx)
		return nil
	}

	l.delayed++
	l.queue = slices.Insert(l.queue, pos, w)
	// Callers behind the new one now get later slots.
	l.dropLate(now, pos+1)
	l.mu.Unlock()
	NotifyQueued(ctx)
	l.mu.Lock()
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		// l.mu is held here.
		if w.late != nil {
			l.mu.Unlock()
			return w.late
		}
		if l.head() == w {
			now := time.Now()
			at := l.slot(now, 0)
			if !at.After(now) {
				l.remove(w)
				l.record(now)
				l.notifyHead()
				l.mu.Unlock()
				return nil
			}
			if w.Misses(at) {
				l.remove(w)
				l.lateAt(w, now)
				l.notifyHead()
				l.mu.Unlock()
				return budgetError(now, at)
			}
			if stop != nil {
				stop()
			}
			stop = time.AfterFunc(time.Until(at), func() { signal(w.wake) }).Stop
		}
		l.mu.Unlock()
		select {
		case <-w.wake:
		case <-ctx.Done():
			l.mu.Lock()
			if w.late == nil {
				l.remove(w)
				l.notifyHead()
			}
			l.mu.Unlock()
			return ctx.Err()
		}
		l.mu.Lock()
	}
}

// Observe adopts r.Limit as the limit (unless the limiter is fixed), and
// blocks the limiter until r.Reset (plus the margin) when r reports no
// remaining requests. A Rate without a Reset time does not block.
func (l *WindowLimiter) Observe(r Rate) {
	l.mu.Lock()
	defer l.mu.Unlock()
	changed := false
	if !l.fixed && r.Limit > 0 {
		if n := min(r.Limit, MaxAdoptedLimit); n != l.limit {
			l.limit = n
			changed = true
		}
	}
	if !r.Reset.IsZero() && r.Remaining <= 0 {
		if until := r.Reset.Add(l.margin); until.After(l.blockedUntil) {
			l.blockedUntil = until
			changed = true
		}
	}
	if changed {
		// Slots may have moved either way: waiters re-check theirs.
		l.dropLate(time.Now(), 0)
		l.notifyHead()
	}
}

// Budget reports the limiter's state; it never fails.
func (l *WindowLimiter) Budget(context.Context) (Budget, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	span := l.window + l.margin
	b := Budget{Limit: l.limit, Window: l.window, Queued: len(l.queue), Delayed: l.delayed}
	counted := l.sends[l.firstInSpan(now):]
	b.Remaining = max(l.limit-len(counted), 0)
	if len(counted) > 0 {
		b.ResetsAt = counted[0].Add(span)
	}
	if now.Before(l.blockedUntil) {
		b.Remaining = 0
		b.ResetsAt = l.blockedUntil
	}
	b.NextSlot = l.slot(now, len(l.queue))
	return b, nil
}

func budgetError(now, at time.Time) *BudgetError {
	return &BudgetError{NextSlot: at, Wait: at.Sub(now)}
}

// slot returns when a send could happen if ahead other sends were granted
// first (each as early as possible). l.mu must be held.
func (l *WindowLimiter) slot(now time.Time, ahead int) time.Time {
	notBefore := now
	if l.blockedUntil.After(notBefore) {
		notBefore = l.blockedUntil
	}
	return SlotAfter(l.sends, l.limit, l.window+l.margin, notBefore, ahead)
}

// lateAt records that w (no longer queued) could not be served in time, so
// that the callers of its page ranked after it are not served either (see
// PageOrder), and fails those already queued. l.mu must be held.
func (l *WindowLimiter) lateAt(w *waiter, now time.Time) {
	l.order.Late(w.Rank, w.Deadline, now)
	l.dropLate(now, 0)
}

// dropLate fails the queued callers from position from on whose slots now
// fall after their deadlines, or that come after a caller of their page
// that could not be served, and wakes them. l.mu must be held.
func (l *WindowLimiter) dropLate(now time.Time, from int) {
	head := l.head()
	i, kept := 0, 0 // the caller's position before and after the drop
	l.queue = slices.DeleteFunc(l.queue, func(w *waiter) bool {
		i++
		if i > from {
			at := l.slot(now, kept)
			late := w.Misses(at)
			if late {
				l.order.Late(w.Rank, w.Deadline, now)
			}
			if late || l.order.Behind(w.Rank, now) {
				w.late = budgetError(now, at)
				signal(w.wake)
				return true
			}
		}
		kept++
		return false
	})
	if h := l.head(); h != head && h != nil {
		signal(h.wake)
	}
}

// firstInSpan returns the index of the first send within the span ending
// at now. l.mu must be held.
func (l *WindowLimiter) firstInSpan(now time.Time) int {
	cutoff := now.Add(-(l.window + l.margin))
	i := 0
	for i < len(l.sends) && !l.sends[i].After(cutoff) {
		i++
	}
	return i
}

// record logs a send at t, forgetting sends that have left the span (and,
// at most, keeping MaxAdoptedLimit). l.mu must be held.
func (l *WindowLimiter) record(t time.Time) {
	l.sends = append(l.sends, t)
	drop := l.firstInSpan(t)
	if n := len(l.sends) - MaxAdoptedLimit; n > drop {
		drop = n
	}
	if drop > 0 {
		l.sends = slices.Clone(l.sends[drop:])
	}
}

// head returns the waiter that gets the next slot. l.mu must be held.
func (l *WindowLimiter) head() *waiter {
	if len(l.queue) == 0 {
		return nil
	}
	return l.queue[0]
}

func (l *WindowLimiter) remove(w *waiter) {
	l.queue = slices.DeleteFunc(l.queue, func(x *waiter) bool { return x == w })
}

func (l *WindowLimiter) notifyHead() {
	if h := l.head(); h != nil {
		signal(h.wake)
	}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
