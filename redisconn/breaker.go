package redisconn

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrUnavailable is returned (wrapped) by the users of a Breaker while it
// keeps Redis out of the path after a failure, and by anything that could not
// reach Redis at all: a store outage, which a caller may retry once Redis
// answers again.
var ErrUnavailable = errors.New("redis unavailable")

// DefaultCoolDown is how long a Breaker keeps Redis out of the path after a
// failure.
const DefaultCoolDown = time.Second

// Breaker is a tiny circuit breaker in front of Redis: after a failure it
// stays open for a cool-down, then lets calls through again; the first
// success closes it. It is safe for concurrent use.
type Breaker struct {
	now      func() time.Time
	coolDown time.Duration

	mu sync.Mutex
	// openUntil is the end of the cool-down after the last call, which
	// failed; zero when the last call succeeded.
	openUntil time.Time
}

// NewBreaker returns a closed breaker that reads the time from now (nil:
// time.Now) and stays open for coolDown after each failure (<= 0:
// DefaultCoolDown).
func NewBreaker(now func() time.Time, coolDown time.Duration) *Breaker {
	if now == nil {
		now = time.Now
	}
	if coolDown <= 0 {
		coolDown = DefaultCoolDown
	}
	return &Breaker{now: now, coolDown: coolDown}
}

// Allow reports whether a call may go to Redis now.
func (b *Breaker) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.openUntil.IsZero() || !b.now().Before(b.openUntil)
}

// RetryAt returns when the breaker lets calls through again: the end of the
// cool-down, or the zero time when it is closed.
func (b *Breaker) RetryAt() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.openUntil
}

// Success records a call that Redis answered, and closes the breaker.
func (b *Breaker) Success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.openUntil = time.Time{}
}

// Failure records a call that Redis did not answer (in time), and opens the
// breaker for the cool-down.
func (b *Breaker) Failure() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.openUntil = b.now().Add(b.coolDown)
}

// Healthy reports whether the last call to Redis succeeded.
func (b *Breaker) Healthy() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.openUntil.IsZero()
}

// Do is one call to Redis through the breaker: it fails at once with
// ErrUnavailable while the breaker is open, else runs fn bounded by
// timeout and records the outcome. A call whose caller gave up (ctx ended)
// says nothing about Redis and changes nothing.
func (b *Breaker) Do(ctx context.Context, timeout time.Duration, fn func(context.Context) error) error {
	if !b.Allow() {
		return ErrUnavailable
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := fn(cctx)
	switch {
	case err == nil:
		b.Success()
	case ctx.Err() == nil:
		b.Failure()
	}
	return err
}
