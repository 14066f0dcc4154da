package ratebudget

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable"
)

// decision is one answer of the admission script: admitted, or refused
// (the refused caller then holds a ticket), at the Redis server's time.
type decision struct {
	admitted bool
	serverMs int64
	p        workable.Priority
}

// redisWatch is a go-redis hook for a test's client: the limiter has no
// hooks of its own, so the tests read what Redis answered it. decided is
// called with each answer of the admission script, ticket each time a
// caller queued behind others in its process takes (or renews) its
// ticket; both with the caller's context (the one the limiter passes to
// the client), once the answer is in. Either may be nil.
type redisWatch struct {
	decided func(ctx context.Context, d decision)
	ticket  func(ctx context.Context)
}

// watched adds w to c and returns c.
func watched(c redis.UniversalClient, w redisWatch) redis.UniversalClient {
	c.AddHook(w)
	return c
}

func (w redisWatch) DialHook(next redis.DialHook) redis.DialHook { return next }

func (w redisWatch) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (w redisWatch) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := next(ctx, cmd); err != nil {
			return err
		}
		switch scriptOf(cmd) {
		case admitScript:
			res, err := cmd.(*redis.Cmd).Int64Slice()
			if err != nil || len(res) < 3 || w.decided == nil {
				return nil
			}
			// The priority is the second last argument (ARGV[9] of 10).
			args := cmd.Args()
			p, _ := args[len(args)-2].(int)
			w.decided(ctx, decision{admitted: res[0] == 1, serverMs: res[2], p: workable.Priority(p)})
		case ticketScript:
			if w.ticket != nil {
				w.ticket(ctx)
			}
		}
		return nil
	}
}

// scriptOf returns the limiter's script that cmd runs (EVALSHA, or EVAL
// when Redis did not have it yet), or nil.
func scriptOf(cmd redis.Cmder) *redis.Script {
	args := cmd.Args()
	if len(args) < 2 {
		return nil
	}
	id, _ := args[1].(string)
	switch cmd.Name() {
	case "evalsha":
	case "eval":
		sum := sha1.Sum([]byte(id))
		id = hex.EncodeToString(sum[:])
	default:
		return nil
	}
	for _, s := range []*redis.Script{admitScript, ticketScript} {
		if s.Hash() == id {
			return s
		}
	}
	return nil
}

// admissions records the Redis server time of every admission.
type admissions struct {
	mu    sync.Mutex
	times []int64
}

// watch records the admissions answered to c.
func (a *admissions) watch(c redis.UniversalClient) redis.UniversalClient {
	return watched(c, redisWatch{decided: func(_ context.Context, d decision) {
		if !d.admitted {
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		a.times = append(a.times, d.serverMs)
	}})
}

func (a *admissions) sorted() []int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Sorted(slices.Values(a.times))
}

// refusals calls f for every refusal answered to c.
func refusals(c redis.UniversalClient, f func(p workable.Priority)) redis.UniversalClient {
	return watched(c, redisWatch{decided: func(_ context.Context, d decision) {
		if !d.admitted {
			f(d.p)
		}
	}})
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
	srv := redistest.NewServer(t)
	key := srv.Prefix + "rate"
	var adm admissions
	opts := []Option{WithSafetyMargin(0), WithTimeout(5 * time.Second)}
	limiters := []*Limiter{
		NewLimiter(adm.watch(srv.NewClient(t)), key, limit, window, opts...),
		NewLimiter(adm.watch(srv.NewClient(t)), key, limit, window, opts...),
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
		if b, _ := l.share.Budget(ctx); b.Remaining != b.Limit {
			t.Error("the share was used with Redis up")
		}
	}
}

// TestRedisLimiterWritesFirst fills the budget, queues reads in other
// processes, then a write: the write must get the next slot. The limit is 1 so that the next slot is
// the only one for a whole window, which makes the order in which the clients
// receive Redis's answers the order in which Redis made them.
func TestRedisLimiterWritesFirst(t *testing.T) {
	const (
		limit   = 1
		window  = time.Second
		readers = 3
	)
	srv := redistest.NewServer(t)

	type event struct {
		admitted bool
		p        workable.Priority
	}
	var (
		mu     sync.Mutex
		events []event
	)
	refused := make(chan workable.Priority, 100)
	newLimiter := func() *Limiter {
		c := watched(srv.NewClient(t), redisWatch{decided: func(_ context.Context, d decision) {
			mu.Lock()
			events = append(events, event{admitted: d.admitted, p: d.p})
			mu.Unlock()
			if !d.admitted {
				refused <- d.p
			}
		}})
		return NewLimiter(c, srv.Prefix+"rate", limit, window, WithSafetyMargin(0), WithTimeout(5*time.Second))
	}
	l := newLimiter()
	// Each reader plays another process (within one process only the
	// first queued caller asks Redis), so that the readers and the write
	// meet in Redis.
	readerLimiters := make([]*Limiter, readers)
	for i := range readerLimiters {
		readerLimiters[i] = newLimiter()
	}

	ctx := t.Context()
	for range limit {
		if err := l.Wait(ctx, workable.PriorityRead); err != nil {
			t.Fatalf("filling the budget: %v", err)
		}
	}

	readCtx, stopReads := context.WithCancel(ctx)
	defer stopReads()
	readErrs := make(chan error, readers)
	for _, rl := range readerLimiters {
		go func() { readErrs <- rl.Wait(readCtx, workable.PriorityRead) }()
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
			srv := redistest.NewServer(t)
			l := NewLimiter(srv.Client, srv.Prefix+"rate", 1, 10*time.Second, WithTimeout(5*time.Second))
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
			// A write that gave up must not hold reads back,
			if n, err := srv.Client.ZCard(t.Context(), l.writersKey).Result(); err != nil || n != 0 {
				t.Errorf("waiting writers = %d, %v; want 0", n, err)
			}
			// Nor a user call that gave up the background.
			if n, err := srv.Client.ZCard(t.Context(), l.waitersKey).Result(); err != nil || n != 0 {
				t.Errorf("waiting user calls = %d, %v; want 0", n, err)
			}
		})
	}
}

func TestRedisLimiterContextEnds(t *testing.T) {
	srv := redistest.NewServer(t)
	l := NewLimiter(srv.Client, srv.Prefix+"rate", 1, 10*time.Second, WithTimeout(5*time.Second))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := l.Wait(ctx, workable.PriorityRead); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a canceled context = %v, want context.Canceled", err)
	}

	if err := l.Wait(t.Context(), workable.PriorityRead); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	ctx, cancel = context.WithCancel(t.Context())
	refusedLimiter := NewLimiter(refusals(srv.NewClient(t), func(workable.Priority) { cancel() }),
		srv.Prefix+"rate", 1, 10*time.Second, WithTimeout(5*time.Second))
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
			srv := redistest.NewServer(t)
			key := srv.Prefix + "rate"
			opts := []Option{WithTimeout(5 * time.Second), WithSafetyMargin(0)}
			// Another process observes the headers; this one must honour them.
			NewLimiter(srv.NewClient(t), key, 10, 10*time.Second, opts...).Observe(tt.rate(time.Now()))
			l := NewLimiter(srv.Client, key, 10, 10*time.Second, opts...)

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

// TestRedisLimiterAdoptsAnnouncedLimit: a limit one replica sees in
// X-Rate-Limit-Limit is used by every replica sharing the budget, up and
// down; a fixed limiter keeps its own.
func TestRedisLimiterAdoptsAnnouncedLimit(t *testing.T) {
	srv := redistest.NewServer(t)
	key := srv.Prefix + "rate"
	opts := []Option{WithSafetyMargin(0), WithTimeout(5 * time.Second)}
	a := NewLimiter(srv.Client, key, 10, 10*time.Second, opts...)
	var refused int
	b := NewLimiter(refusals(srv.NewClient(t), func(workable.Priority) { refused++ }), key, 10, 10*time.Second, opts...)
	ctx := t.Context()

	// Replica a learns the token's budget is 50 (an OAuth token).
	a.Observe(workable.Rate{Limit: 50, Remaining: 49, Reset: time.Now().Add(10 * time.Second)})
	for i := range 50 {
		if err := b.Wait(ctx, workable.PriorityRead); err != nil {
			t.Fatalf("replica b, Wait %d under the adopted 50: %v", i, err)
		}
	}
	if refused != 0 {
		t.Errorf("replica b was refused %d times within the adopted limit", refused)
	}
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := b.Wait(short, workable.PriorityRead); !errors.Is(err, workable.ErrRateLimited) {
		t.Errorf("the 51st Wait = %v, want ErrRateLimited", err)
	}
	bb, err := b.Budget(ctx)
	if err != nil || bb.Limit != 50 || bb.Remaining != 0 || bb.ResetsAt.IsZero() {
		t.Errorf("budget after 50 sends = %+v, %v; want limit 50, none remaining, a reset time", bb, err)
	}

	// Workable lowers it to 10: with 50 in the window nothing goes, on
	// either replica, and a fixed limiter keeps its own 10 all along.
	b.Observe(workable.Rate{Limit: 10, Remaining: 3, Reset: time.Now().Add(10 * time.Second)})
	fixed := NewLimiter(srv.NewClient(t), key, 60, 10*time.Second, append(opts, WithFixedLimit())...)
	fixed.Observe(workable.Rate{Limit: 10, Remaining: 3, Reset: time.Now().Add(10 * time.Second)})
	for name, l := range map[string]*Limiter{"a": a, "b": b} {
		short, cancel := context.WithTimeout(ctx, time.Second)
		if err := l.Wait(short, workable.PriorityRead); !errors.Is(err, workable.ErrRateLimited) {
			t.Errorf("replica %s after the limit went down: Wait = %v, want ErrRateLimited", name, err)
		}
		cancel()
	}
	if err := fixed.Wait(ctx, workable.PriorityRead); err != nil {
		t.Errorf("a limiter fixed at 60 with 50 sends in the window: %v", err)
	}
	if fb, err := fixed.Budget(ctx); err != nil || fb.Limit != 60 || fb.Remaining != 9 {
		t.Errorf("fixed budget = %+v, %v; want limit 60, 9 remaining", fb, err)
	}
}

// TestRedisLimiterServesByRank: within one process, callers of one priority
// get the shared budget by rank, whatever their arrival order. Each caller
// starts once the one before it has its place in the queue, as the limiter
// tells a caller's context (workable.WithOnQueued).
func TestRedisLimiterServesByRank(t *testing.T) {
	srv := redistest.NewServer(t)
	l := NewLimiter(srv.Client, srv.Prefix+"rate", 1, 300*time.Millisecond,
		WithSafetyMargin(0), WithTimeout(5*time.Second))
	joined := make(chan struct{}, 8)
	ctx := workable.WithOnQueued(t.Context(), func() { joined <- struct{}{} })
	if err := l.Wait(ctx, workable.PriorityRead); err != nil {
		t.Fatal(err)
	}
	<-joined
	ranks := []workable.Rank{{4, 3}, {4, 1}, {4, 2}}
	done := make(chan int64, len(ranks))
	for _, r := range ranks {
		go func() {
			if err := l.Wait(workable.WithRank(ctx, r), workable.PriorityRead); err != nil {
				t.Error(err)
			}
			done <- r[1]
		}()
		<-joined
	}
	var order []int64
	for range ranks {
		order = append(order, <-done)
	}
	if want := []int64{1, 2, 3}; !slices.Equal(order, want) {
		t.Errorf("served in rank order %v, want %v", order, want)
	}
}

// TestRedisLimiterFailsQueuedCallersPastDeadline: a caller that joins the
// local queue behind another, when the log shows its slot cannot come
// before its deadline, fails at once with a BudgetError.
func TestRedisLimiterFailsQueuedCallersPastDeadline(t *testing.T) {
	srv := redistest.NewServer(t)
	refused := make(chan struct{}, 8)
	l := NewLimiter(refusals(srv.NewClient(t), func(workable.Priority) { refused <- struct{}{} }),
		srv.Prefix+"rate", 1, 10*time.Second, WithSafetyMargin(0), WithTimeout(5*time.Second))
	ctx := t.Context()
	if err := l.Wait(ctx, workable.PriorityRead); err != nil {
		t.Fatal(err)
	}
	headCtx, stopHead := context.WithCancel(ctx)
	head := make(chan error, 1)
	go func() { head <- l.Wait(workable.WithRank(headCtx, workable.Rank{1}), workable.PriorityRead) }()
	<-refused // the head waits for the slot ~10 s away

	// Behind it, this one's slot is ~20 s away: past its 15 s deadline.
	late, cancel := context.WithTimeout(workable.WithRank(ctx, workable.Rank{2}), 15*time.Second)
	defer cancel()
	var be *workable.BudgetError
	if err := l.Wait(late, workable.PriorityRead); !errors.As(err, &be) || late.Err() != nil {
		t.Errorf("queued caller = %v (ctx %v), want a BudgetError at once", err, late.Err())
	} else if d := time.Until(be.NextSlot); d < 15*time.Second {
		t.Errorf("its slot was said to be %s away, want about 20s", d)
	}
	stopHead()
	if err := <-head; !errors.Is(err, context.Canceled) {
		t.Errorf("head = %v, want context.Canceled", err)
	}
}
