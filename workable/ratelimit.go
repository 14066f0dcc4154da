package workable

import (
	"context"
	"fmt"
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

// Clock is the time source of a WindowLimiter. Tests inject a fake one so
// that limiter behaviour can be checked without sleeping.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// CallAt calls f in its own goroutine once the time t (as read by Now)
	// is reached, unless the returned stop function is called first (stop
	// reports whether it prevented the call). The time is absolute so that
	// time passing between Now and CallAt cannot delay the call.
	CallAt(t time.Time, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) CallAt(t time.Time, f func()) func() bool {
	return time.AfterFunc(time.Until(t), f).Stop
}

// LimiterOption configures a WindowLimiter.
type LimiterOption func(*WindowLimiter)

// WithClock makes the limiter read time from c instead of the system clock.
func WithClock(c Clock) LimiterOption {
	return func(l *WindowLimiter) {
		if c != nil {
			l.clock = c
		}
	}
}

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

// WindowLimiter is a sliding-window-log rate limiter: it allows at most limit
// sends in any interval of length window+margin. It is safe for concurrent
// use. Queued callers are served by priority (writes first), then in arrival
// order.
//
// Only Remaining == 0 in observed headers changes its state (it then blocks
// until Reset plus the margin). A positive Remaining is deliberately ignored:
// responses arrive out of order and requests still in flight are not yet
// counted in it, so it is not a reliable bound, while the limiter's own log
// already bounds this process's traffic.
type WindowLimiter struct {
	limit  int
	window time.Duration
	margin time.Duration
	clock  Clock

	mu           sync.Mutex
	sends        []time.Time // the most recent sends, oldest first, at most limit of them
	blockedUntil time.Time
	queue        []*waiter
	seq          uint64

	// Test hooks, called with l.mu held when set: onEnqueue each time a
	// caller joins the queue, onGrant with the time of each send.
	onEnqueue func()
	onGrant   func(t time.Time)
}

type waiter struct {
	prio Priority
	seq  uint64
	wake chan struct{}
}

// NewWindowLimiter returns a limiter allowing limit requests per window (plus
// the margin, see WithMargin). A limit below 1 is treated as 1 and a negative
// window as 0.
func NewWindowLimiter(limit int, window time.Duration, opts ...LimiterOption) *WindowLimiter {
	limit = max(limit, 1)
	window = max(window, 0)
	l := &WindowLimiter{
		limit:  limit,
		window: window,
		margin: defaultMargin(window),
		clock:  realClock{},
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

// Limit returns the number of requests allowed per window.
func (l *WindowLimiter) Limit() int { return l.limit }

// Window returns the nominal window, without the margin.
func (l *WindowLimiter) Window() time.Duration { return l.window }

// Wait blocks until one request may be sent. It fails at once with an error
// wrapping ErrRateLimited when the earliest slot this caller can get (given
// the callers queued ahead of it) is after ctx's deadline, and returns
// ctx.Err() if ctx ends while it waits.
func (l *WindowLimiter) Wait(ctx context.Context, p Priority) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	now := l.clock.Now()
	ahead := 0
	for _, w := range l.queue {
		if w.prio >= p {
			ahead++
		}
	}
	at := l.earliest(now, ahead)
	if err := pastDeadline(ctx, now, at); err != nil {
		l.mu.Unlock()
		return err
	}
	if ahead == 0 && !at.After(now) {
		l.record(now)
		l.mu.Unlock()
		return nil
	}

	w := &waiter{prio: p, seq: l.seq, wake: make(chan struct{}, 1)}
	l.seq++
	l.queue = append(l.queue, w)
	if l.onEnqueue != nil {
		l.onEnqueue()
	}
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for {
		// l.mu is held here.
		if l.head() == w {
			now := l.clock.Now()
			at := l.earliest(now, 0)
			if !at.After(now) {
				l.remove(w)
				l.record(now)
				l.notifyHead()
				l.mu.Unlock()
				return nil
			}
			if err := pastDeadline(ctx, now, at); err != nil {
				l.remove(w)
				l.notifyHead()
				l.mu.Unlock()
				return err
			}
			if stop != nil {
				stop()
			}
			stop = l.clock.CallAt(at, func() { signal(w.wake) })
		}
		l.mu.Unlock()
		select {
		case <-w.wake:
		case <-ctx.Done():
			l.mu.Lock()
			l.remove(w)
			l.notifyHead()
			l.mu.Unlock()
			return ctx.Err()
		}
		l.mu.Lock()
	}
}

// Observe blocks the limiter until r.Reset (plus the margin) when r reports
// no remaining requests. Rates without a Reset time are ignored.
func (l *WindowLimiter) Observe(r Rate) {
	if r.Reset.IsZero() || r.Remaining > 0 {
		return
	}
	until := r.Reset.Add(l.margin)
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.blockedUntil) {
		l.blockedUntil = until
		l.notifyHead()
	}
}

func pastDeadline(ctx context.Context, now, at time.Time) error {
	if dl, ok := ctx.Deadline(); ok && at.After(dl) {
		return fmt.Errorf("%w: next slot in %s is after the context deadline",
			ErrRateLimited, at.Sub(now).Round(time.Millisecond))
	}
	return nil
}

// earliest returns when a send could happen if ahead other sends were
// granted first (each as early as possible). l.mu must be held.
func (l *WindowLimiter) earliest(now time.Time, ahead int) time.Time {
	span := l.window + l.margin
	sends := l.sends
	if ahead > 0 {
		sends = slices.Clone(l.sends)
	}
	t := now
	for i := 0; ; i++ {
		if t.Before(l.blockedUntil) {
			t = l.blockedUntil
		}
		if n := len(sends); n >= l.limit {
			if free := sends[n-l.limit].Add(span); t.Before(free) {
				t = free
			}
		}
		if i == ahead {
			return t
		}
		sends = append(sends, t)
	}
}

// record logs a send at t. l.mu must be held.
func (l *WindowLimiter) record(t time.Time) {
	if l.onGrant != nil {
		l.onGrant(t)
	}
	l.sends = append(l.sends, t)
	if n := len(l.sends); n > l.limit {
		l.sends = slices.Clone(l.sends[n-l.limit:])
	}
}

// head returns the waiter that gets the next slot. l.mu must be held.
func (l *WindowLimiter) head() *waiter {
	var h *waiter
	for _, w := range l.queue {
		if h == nil || w.prio > h.prio || (w.prio == h.prio && w.seq < h.seq) {
			h = w
		}
	}
	return h
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
