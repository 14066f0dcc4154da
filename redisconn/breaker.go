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

// DefaultTimeout bounds each of the gateway's own calls to Redis (the
// cache's reads and writes, the rate limiter's scripts). Measured with
// scripts/redislatency.sh (README, "Redis timeouts"; 2 cores shared with
// other work, load average 4 to 12): in two runs the limiter's admission
// script, a batch's getMany of 40 keys and a generation read took at most
// 90 ms, with a p99.9 of at most 36 ms, while redis-benchmark drove the same
// Redis with 50 connections and a gateway served 50 connections on the
// record path. The earlier 100 ms left almost no margin there. 250 ms is
// nearly three times that worst call and seven times the worst p99.9: the
// margin covers the gateway's own scheduling delay under load, which a
// separate probe does not see; a call that has not answered by then means
// Redis is not answering, and a request pays at most a quarter of a second
// for an outage per cool-down.
const DefaultTimeout = 250 * time.Millisecond

// DefaultCoolDown is how long a Breaker keeps Redis out of the path after a
// failure. One failure opens it (a read through DoRead fails twice first): with DefaultTimeout three times the
// slowest call measured under load, one timeout already means Redis is
// away, and the cool-down makes the calls in flight pay a timeout at most
// once a second while it is.
const DefaultCoolDown = time.Second

// Breaker is a tiny circuit breaker in front of Redis: after a failure it
// stays open for a cool-down, then lets calls through again; the first
// success closes it. It is safe for concurrent use.
type Breaker struct {
	coolDown time.Duration

	mu sync.Mutex
	// openUntil is the end of the cool-down after the last call, which
	// failed; zero when the last call succeeded.
	openUntil time.Time
}

// NewBreaker returns a closed breaker that stays open for coolDown after
// each failure (<= 0: DefaultCoolDown).
func NewBreaker(coolDown time.Duration) *Breaker {
	if coolDown <= 0 {
		coolDown = DefaultCoolDown
	}
	return &Breaker{coolDown: coolDown}
}

// Allow reports whether a call may go to Redis now.
func (b *Breaker) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.openUntil.IsZero() || !time.Now().Before(b.openUntil)
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
	b.openUntil = time.Now().Add(b.coolDown)
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
	err := attempt(ctx, timeout, fn)
	b.record(ctx, err)
	return err
}

// DoRead is Do for a call that is safe to repeat, a read: when it fails
// while its caller still waits, it is tried once more with a timeout of its
// own, unless another call has opened the breaker meanwhile, and only the
// second failure counts. One read that Redis answers late (a busy server, a
// scheduling delay) thus neither turns into misses nor opens the breaker
// for the other calls; a Redis that is away costs the read a second
// timeout, once per cool-down, and one that refuses connections nothing
// noticeable.
func (b *Breaker) DoRead(ctx context.Context, timeout time.Duration, fn func(context.Context) error) error {
	if !b.Allow() {
		return ErrUnavailable
	}
	err := attempt(ctx, timeout, fn)
	if err != nil && ctx.Err() == nil && b.Allow() {
		err = attempt(ctx, timeout, fn)
	}
	b.record(ctx, err)
	return err
}

// attempt runs fn once, bounded by timeout.
func attempt(ctx context.Context, timeout time.Duration, fn func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return fn(cctx)
}

// record records the outcome of a call made for ctx: a success closes the
// breaker, a failure opens it unless the caller gave up.
func (b *Breaker) record(ctx context.Context, err error) {
	switch {
	case err == nil:
		b.Success()
	case ctx.Err() == nil:
		b.Failure()
	}
}
