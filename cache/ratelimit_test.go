package cache

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/workablegw/gateway/cache/cachetest"
	"github.com/workablegw/gateway/workable"
)

// admissions records the Redis server time of every admission.
type admissions struct {
	mu    sync.Mutex
	times []int64
}

func (a *admissions) record(serverMs int64, _ workable.Priority) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.times = append(a.times, serverMs)
}

func (a *admissions) sorted() []int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Sorted(slices.Values(a.times))
}

func withAdmitHook(f func(serverMs int64, p workable.Priority)) LimiterOption {
	return func(r *RedisLimiter) { r.onAdmit = f }
}

func withRefuseHook(f func(serverMs int64, p workable.Priority, wait time.Duration)) LimiterOption {
	return func(r *RedisLimiter) { r.onRefuse = f }
}

// TestRedisLimiterSharedBudget plays two gateway processes (two limiters,
// two connections) sharing one budget under a burst of concurrent callers,
// and checks by server time that no window ever held more than the limit.
func TestRedisLimiterSharedBudget(t *testing.T) {
	const (
		limit   = 5
		window  = 300 * time.Millisecond
		callers = 12
	)
	srv := cachetest.NewServer(t)
	key := srv.Prefix + "rate"
	var adm admissions
	opts := []LimiterOption{WithSafetyMargin(0), WithLimiterTimeout(5 * time.Second), withAdmitHook(adm.record)}
	limiters := []*RedisLimiter{
		NewRedisLimiter(srv.Client, key, limit, window, opts...),
		NewRedisLimiter(srv.NewClient(t), key, limit, window, opts...),
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	errs := make(chan error, callers)
	for i := range callers {
		go func() {
			p := workable.PriorityRead
			if i%4 == 0 {
				p = workable.PriorityWrite
			}
			errs <- limiters[i%2].Wait(ctx, p)
		}()
	}
	for range callers {
		if err := <-errs; err != nil {
			t.Errorf("Wait: %v", err)
		}
	}

	times := adm.sorted()
	if len(times) != callers {
		t.Fatalf("%d admissions, want %d", len(times), callers)
	}
	for i := 0; i+limit < len(times); i++ {
		if d := time.Duration(times[i+limit]-times[i]) * time.Millisecond; d < window {
			t.Errorf("admissions %d and %d are %v apart: %d requests within one %v window", i, i+limit, d, limit+1, window)
		}
	}
	for _, l := range limiters {
		if l.fallback.(*localLimiter).times != nil {
			t.Error("the fallback was used with Redis up")
		}
	}
}

// TestRedisLimiterWritesFirst fills the budget, queues reads, then a write:
// the write must get the next slot. The limit is 1 so that the next slot is
// the only one for a whole window, which makes the order in which the hooks
// record admissions the order in which Redis made them.
func TestRedisLimiterWritesFirst(t *testing.T) {
	const (
		limit   = 1
		window  = time.Second
		readers = 3
	)
	srv := cachetest.NewServer(t)

	type event struct {
		admitted bool
		p        workable.Priority
	}
	var (
		mu     sync.Mutex
		events []event
	)
	refused := make(chan workable.Priority, 100)
	l := NewRedisLimiter(srv.Client, srv.Prefix+"rate", limit, window,
		WithSafetyMargin(0), WithLimiterTimeout(5*time.Second),
		withAdmitHook(func(_ int64, p workable.Priority) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, event{admitted: true, p: p})
		}),
		withRefuseHook(func(_ int64, p workable.Priority, _ time.Duration) {
			mu.Lock()
			events = append(events, event{admitted: false, p: p})
			mu.Unlock()
			refused <- p
		}),
	)

	ctx := t.Context()
	for range limit {
		if err := l.Wait(ctx, workable.PriorityRead); err != nil {
			t.Fatalf("filling the budget: %v", err)
		}
	}

	readCtx, stopReads := context.WithCancel(ctx)
	defer stopReads()
	readErrs := make(chan error, readers)
	for range readers {
		go func() { readErrs <- l.Wait(readCtx, workable.PriorityRead) }()
	}
	for range readers {
		if p := <-refused; p != workable.PriorityRead {
			t.Fatalf("refused priority %v, want a read", p)
		}
	}
	writeErr := make(chan error, 1)
	go func() { writeErr <- l.Wait(ctx, workable.PriorityWrite) }()
	if err := <-writeErr; err != nil {
		t.Fatalf("write Wait: %v", err)
	}
	stopReads()
	for range readers {
		if err := <-readErrs; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("read Wait: %v", err)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	writeRefused := slices.Index(events, event{admitted: false, p: workable.PriorityWrite})
	if writeRefused < 0 {
		t.Fatalf("the write was never made to wait (events %v); the test did not exercise priority", events)
	}
	for _, e := range events[writeRefused:] {
		if e.admitted {
			if e.p != workable.PriorityWrite {
				t.Errorf("a read was admitted before the waiting write (events %v)", events)
			}
			break
		}
	}
}

func TestRedisLimiterFailsFastPastDeadline(t *testing.T) {
	tests := []struct {
		name string
		p    workable.Priority
	}{
		{"read", workable.PriorityRead},
		{"write", workable.PriorityWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := cachetest.NewServer(t)
			l := NewRedisLimiter(srv.Client, srv.Prefix+"rate", 1, 10*time.Second, WithLimiterTimeout(5*time.Second))
			if err := l.Wait(t.Context(), tt.p); err != nil {
				t.Fatalf("first Wait: %v", err)
			}
			// The next slot is ~10 s away, far past this deadline: fail at once
			// rather than wait for the deadline.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			short, cancelShort := context.WithDeadline(ctx, time.Now().Add(2*time.Second))
			defer cancelShort()
			err := l.Wait(short, tt.p)
			if !errors.Is(err, workable.ErrRateLimited) {
				t.Fatalf("Wait = %v, want ErrRateLimited", err)
			}
			if short.Err() != nil {
				t.Error("Wait returned only when the deadline passed, want at once")
			}
			// A write that gave up must not hold reads back.
			if n, err := srv.Client.ZCard(t.Context(), l.writersKey).Result(); err != nil || n != 0 {
				t.Errorf("waiting writers = %d, %v; want 0", n, err)
			}
		})
	}
}

func TestRedisLimiterContextEnds(t *testing.T) {
	srv := cachetest.NewServer(t)
	l := NewRedisLimiter(srv.Client, srv.Prefix+"rate", 1, 10*time.Second, WithLimiterTimeout(5*time.Second))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := l.Wait(ctx, workable.PriorityRead); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a canceled context = %v, want context.Canceled", err)
	}

	if err := l.Wait(t.Context(), workable.PriorityRead); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	ctx, cancel = context.WithCancel(t.Context())
	refusedLimiter := NewRedisLimiter(srv.Client, srv.Prefix+"rate", 1, 10*time.Second,
		WithLimiterTimeout(5*time.Second),
		withRefuseHook(func(int64, workable.Priority, time.Duration) { cancel() }))
	if err := refusedLimiter.Wait(ctx, workable.PriorityRead); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait canceled while waiting = %v, want context.Canceled", err)
	}
}

func TestRedisLimiterObserve(t *testing.T) {
	tests := []struct {
		name      string
		rate      func(now time.Time) workable.Rate
		wantBlock bool
	}{
		{"exhausted", func(now time.Time) workable.Rate {
			return workable.Rate{Limit: 10, Remaining: 0, Reset: now.Add(5 * time.Second)}
		}, true},
		{"remaining", func(now time.Time) workable.Rate {
			return workable.Rate{Limit: 10, Remaining: 3, Reset: now.Add(5 * time.Second)}
		}, false},
		{"no headers", func(time.Time) workable.Rate { return workable.Rate{} }, false},
		{"reset passed", func(now time.Time) workable.Rate {
			return workable.Rate{Limit: 10, Remaining: 0, Reset: now.Add(-time.Second)}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := cachetest.NewServer(t)
			key := srv.Prefix + "rate"
			opts := []LimiterOption{WithLimiterTimeout(5 * time.Second), WithSafetyMargin(0)}
			// Another process observes the headers; this one must honour them.
			NewRedisLimiter(srv.NewClient(t), key, 10, 10*time.Second, opts...).Observe(tt.rate(time.Now()))
			l := NewRedisLimiter(srv.Client, key, 10, 10*time.Second, opts...)

			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			err := l.Wait(ctx, workable.PriorityWrite)
			if tt.wantBlock && !errors.Is(err, workable.ErrRateLimited) {
				t.Errorf("Wait = %v, want ErrRateLimited until Reset", err)
			}
			if !tt.wantBlock && err != nil {
				t.Errorf("Wait = %v, want admitted", err)
			}
		})
	}
}

// countingLimiter is a fallback that admits everything and counts.
type countingLimiter struct {
	mu       sync.Mutex
	waits    int
	observed []workable.Rate
}

func (c *countingLimiter) Wait(context.Context, workable.Priority) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits++
	return nil
}

func (c *countingLimiter) Observe(r workable.Rate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.observed = append(c.observed, r)
}

func (c *countingLimiter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waits
}

func TestRedisLimiterFallback(t *testing.T) {
	srv := cachetest.Mini(t)
	clock := newFakeClock()
	fallback := &countingLimiter{}
	var adm admissions
	l := NewRedisLimiter(srv.Client, srv.Prefix+"rate", 10, 10*time.Second,
		WithFallback(fallback), WithLimiterClock(clock.Now), WithLimiterCoolDown(time.Second),
		WithLimiterTimeout(200*time.Millisecond), withAdmitHook(adm.record))
	ctx := t.Context()

	if err := l.Wait(ctx, workable.PriorityRead); err != nil {
		t.Fatalf("Wait with Redis up: %v", err)
	}
	srv.Mini.Close()
	for i := range 3 {
		if err := l.Wait(ctx, workable.PriorityRead); err != nil {
			t.Fatalf("Wait %d with Redis down: %v", i, err)
		}
	}
	if got := fallback.count(); got != 3 {
		t.Errorf("fallback used %d times, want 3", got)
	}
	if l.Healthy() {
		t.Error("Healthy() = true with Redis down")
	}
	rate := workable.Rate{Limit: 10, Remaining: 0, Reset: clock.Now().Add(time.Second)}
	l.Observe(rate)
	if len(fallback.observed) != 1 || fallback.observed[0] != rate {
		t.Errorf("fallback observed %v, want %v", fallback.observed, rate)
	}

	if err := srv.Mini.Restart(); err != nil {
		t.Fatalf("restart miniredis: %v", err)
	}
	clock.Advance(time.Second)
	if err := l.Wait(ctx, workable.PriorityRead); err != nil {
		t.Fatalf("Wait after the cool-down: %v", err)
	}
	if got := fallback.count(); got != 3 {
		t.Errorf("fallback used %d times, want Redis back after the cool-down", got)
	}
	if n := len(adm.sorted()); n != 2 {
		t.Errorf("%d admissions in Redis, want 2", n)
	}
	if !l.Healthy() {
		t.Error("Healthy() = false after Redis came back")
	}
}

// TestRedisLimiterDefaultFallbackIsBounded checks that without WithFallback
// a dead Redis does not mean unbounded admissions.
func TestRedisLimiterDefaultFallbackIsBounded(t *testing.T) {
	l := NewRedisLimiter(newTestClient(t, closedAddr(t)), "rate", 2, 10*time.Second,
		WithLimiterTimeout(20*time.Millisecond))
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for i := range 2 {
		if err := l.Wait(ctx, workable.PriorityRead); err != nil {
			t.Fatalf("Wait %d: %v", i, err)
		}
	}
	if err := l.Wait(ctx, workable.PriorityRead); !errors.Is(err, workable.ErrRateLimited) {
		t.Errorf("third Wait = %v, want ErrRateLimited from the local fallback", err)
	}

	t.Run("observe", func(t *testing.T) {
		l := NewRedisLimiter(newTestClient(t, closedAddr(t)), "rate", 2, 10*time.Second,
			WithLimiterTimeout(20*time.Millisecond))
		l.Observe(workable.Rate{Limit: 2, Remaining: 0, Reset: time.Now().Add(5 * time.Second)})
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := l.Wait(ctx, workable.PriorityRead); !errors.Is(err, workable.ErrRateLimited) {
			t.Errorf("Wait after an exhausted Rate = %v, want ErrRateLimited", err)
		}
	})
}
