package workable

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// slotBySimulation is SlotAfter the slow way: grant ahead+1 sends one by
// one, each at the earliest time the log allows.
func slotBySimulation(sends []time.Time, limit int, span time.Duration, notBefore time.Time, ahead int) time.Time {
	log := append([]time.Time(nil), sends...)
	var t time.Time
	for range ahead + 1 {
		t = notBefore
		if n := len(log); n >= limit {
			if free := log[n-limit].Add(span); free.After(t) {
				t = free
			}
		}
		if n := len(log); n > 0 && log[n-1].After(t) {
			t = log[n-1]
		}
		log = append(log, t)
	}
	return t
}

func TestSlotAfterMatchesSimulation(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		limit := 1 + rng.IntN(12)
		span := time.Duration(1+rng.IntN(5)) * time.Second
		now := start.Add(time.Duration(rng.IntN(5000)) * time.Millisecond)
		var sends []time.Time
		for t := start; len(sends) < rng.IntN(20) && t.Before(now); t = t.Add(time.Duration(rng.IntN(800)) * time.Millisecond) {
			sends = append(sends, t)
		}
		notBefore := now
		if rng.IntN(4) == 0 {
			notBefore = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
		}
		ahead := rng.IntN(60)
		got := SlotAfter(sends, limit, span, notBefore, ahead)
		want := slotBySimulation(sends, limit, span, notBefore, ahead)
		if !got.Equal(want) {
			t.Fatalf("case %d: SlotAfter(%d sends, limit %d, span %s, ahead %d) = %s, want %s",
				i, len(sends), limit, span, ahead, got.Sub(start), want.Sub(start))
		}
	}
}

// TestWindowLimiterAdoptsAnnouncedLimit: the limiter starts at its own limit,
// follows X-Rate-Limit-Limit up and down, and never sends more than the
// current limit within one span, also just after the limit went down.
func TestWindowLimiterAdoptsAnnouncedLimit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		l := NewWindowLimiter(10, 10*time.Second, WithMargin(0))
		ctx := context.Background()
		for i := range 10 {
			if err := l.Wait(ctx, PriorityRead); err != nil {
				t.Fatalf("Wait %d: %v", i, err)
			}
		}
		// An OAuth token: Workable announces 50.
		l.Observe(Rate{Limit: 50, Remaining: 40, Reset: start.Add(10 * time.Second)})
		if got := l.Limit(); got != 50 {
			t.Fatalf("Limit after a response announcing 50 = %d", got)
		}
		for i := range 40 {
			if err := l.Wait(ctx, PriorityRead); err != nil {
				t.Fatalf("Wait %d after adopting 50: %v", i, err)
			}
		}
		if waited := time.Since(start); waited != 0 {
			t.Fatalf("the sends within the adopted 50 waited %s", waited)
		}
		b, _ := l.Budget(ctx)
		if b.Remaining != 0 || b.Delayed != 0 || !b.ResetsAt.Equal(start.Add(10*time.Second)) {
			t.Errorf("budget after 50 sends = %+v, want none remaining, none delayed, resets at +10s", b)
		}

		// Workable lowers the limit to 10: with 50 sends in the span, nothing
		// may go until 41 of them have left it.
		l.Observe(Rate{Limit: 10, Remaining: 5, Reset: start.Add(10 * time.Second)})
		time.Sleep(time.Second)
		short, cancel := context.WithDeadline(ctx, start.Add(9*time.Second))
		defer cancel()
		if err := l.Wait(short, PriorityRead); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("Wait after the limit went down = %v, want ErrRateLimited", err)
		}
		var be *BudgetError
		if err := l.Wait(short, PriorityRead); !errors.As(err, &be) || !be.NextSlot.Equal(start.Add(10*time.Second)) {
			t.Fatalf("Wait = %v, want a BudgetError with the next slot at +10s", err)
		}

		// Pinned: the header is ignored.
		p := NewWindowLimiter(10, 10*time.Second, WithFixedLimit())
		p.Observe(Rate{Limit: 50, Remaining: 49, Reset: start.Add(10 * time.Second)})
		if got := p.Limit(); got != 10 {
			t.Errorf("a fixed limiter adopted %d", got)
		}
		// A corrupt header cannot switch the limiter off.
		l.Observe(Rate{Limit: 1 << 30})
		if got := l.Limit(); got != MaxAdoptedLimit {
			t.Errorf("Limit after an absurd header = %d, want %d", got, MaxAdoptedLimit)
		}
	})
}

// TestWindowLimiterServesByRank: callers of one priority are served by
// rank, whatever their arrival order; writes still go first.
func TestWindowLimiterServesByRank(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := NewWindowLimiter(1, time.Second, WithMargin(0))
		if err := l.Wait(context.Background(), PriorityRead); err != nil {
			t.Fatal(err)
		}
		callers := []struct {
			name string
			prio Priority
			rank Rank
		}{
			{"item 3", PriorityRead, Rank{7, 3}},
			{"item 1", PriorityRead, Rank{7, 1}},
			{"unranked", PriorityRead, nil},
			{"item 1 again", PriorityRead, Rank{7, 1}},
			{"write", PriorityWrite, Rank{9}},
			{"item 2", PriorityRead, Rank{7, 2}},
		}
		done := make(chan string, len(callers))
		for _, c := range callers {
			go func() {
				if err := l.Wait(WithRank(context.Background(), c.rank), c.prio); err != nil {
					t.Error(err)
				}
				done <- c.name
			}()
			synctest.Wait() // one at a time, so arrival order is the slice's
		}
		var order []string
		for range callers {
			order = append(order, <-done)
		}
		want := []string{"write", "unranked", "item 1", "item 1 again", "item 2", "item 3"}
		if diff := cmp.Diff(want, order); diff != "" {
			t.Errorf("service order (-want +got):\n%s", diff)
		}
	})
}

// TestWindowLimiterDropsCallersPushedPastDeadline: a queued caller whose
// slot is pushed past its deadline by a better-ranked newcomer fails at
// once, instead of waiting until it reaches the head of the queue.
func TestWindowLimiterDropsCallersPushedPastDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		l := NewWindowLimiter(1, 10*time.Second, WithMargin(0))
		if err := l.Wait(context.Background(), PriorityRead); err != nil {
			t.Fatal(err)
		}
		// Its slot at +10 s fits its deadline at +15 s.
		late, cancel := context.WithDeadline(WithRank(context.Background(), Rank{5}), start.Add(15*time.Second))
		defer cancel()
		lateErr := make(chan error, 1)
		go func() { lateErr <- l.Wait(late, PriorityRead) }()
		synctest.Wait()
		// A caller ranked before it takes +10 s: the first one's slot is now
		// +20 s, after its deadline.
		first := make(chan error, 1)
		go func() { first <- l.Wait(WithRank(context.Background(), Rank{1}), PriorityRead) }()
		var be *BudgetError
		if err := <-lateErr; !errors.As(err, &be) || !be.NextSlot.Equal(start.Add(20*time.Second)) {
			t.Fatalf("the pushed-back caller got %v, want a BudgetError for +20s", err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("the pushed-back caller failed after %s, want at once", waited)
		}
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 10*time.Second {
			t.Errorf("the first-ranked caller went at %s, want +10s", got)
		}
	})
}

// TestWindowLimiterBudget reports what is left, when it grows, and who waits.
func TestWindowLimiterBudget(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		l := NewWindowLimiter(3, 10*time.Second, WithMargin(500*time.Millisecond))
		ctx := context.Background()
		b, err := l.Budget(ctx)
		want := Budget{Limit: 3, Window: 10 * time.Second, Remaining: 3, NextSlot: start}
		if err != nil || b != want {
			t.Errorf("fresh budget = %+v, %v; want %+v", b, err, want)
		}
		for range 3 {
			if err := l.Wait(ctx, PriorityRead); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
		}
		queued := make(chan error, 1)
		go func() { queued <- l.Wait(ctx, PriorityRead) }()
		synctest.Wait()
		b, _ = l.Budget(ctx)
		want = Budget{Limit: 3, Window: 10 * time.Second, Remaining: 0, Queued: 1, Delayed: 1,
			ResetsAt: start.Add(10500 * time.Millisecond), NextSlot: start.Add(11500 * time.Millisecond)}
		if b != want {
			t.Errorf("budget with one caller queued = %+v, want %+v", b, want)
		}
		if err := <-queued; err != nil {
			t.Fatal(err)
		}
	})
}

// reserveLimiter is a limiter that records the latest slot time each Wait
// was allowed (SlotDeadline) and waits for the context to end.
type reserveLimiter struct {
	got chan time.Time
}

func (d reserveLimiter) Wait(ctx context.Context, _ Priority) error {
	dl, _ := SlotDeadline(ctx)
	d.got <- dl
	<-ctx.Done()
	return ctx.Err()
}

func (reserveLimiter) Observe(Rate) {}

// TestClientKeepsTimeForTheCall: the limiter is asked for a slot that
// leaves the expected duration of the call (the moving average of answered
// attempts) before the request's deadline, and running out of time while
// queued is a BudgetError (RATE_LIMITED), not a timeout.
func TestClientKeepsTimeForTheCall(t *testing.T) {
	t.Parallel()
	lim := reserveLimiter{got: make(chan time.Time, 1)}
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	c, err := NewClient("groove-tech", testToken, WithBaseURL(srv.URL+"/spi/v3/"), WithRateLimiter(lim))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{2 * time.Second, 2 * time.Second, 6 * time.Second} {
		c.observeCallTime(d)
	}
	if got, want := c.callEstimate(), 3*time.Second; got != want {
		t.Fatalf("estimate after 2s, 2s, 6s = %s, want %s", got, want)
	}
	deadline := time.Now().Add(3*time.Second + 200*time.Millisecond)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	_, _, err = c.Jobs.Get(ctx, "GROOV001")
	if got := <-lim.got; !got.Equal(deadline.Add(-3 * time.Second)) {
		t.Errorf("the limiter was allowed slots until %s before the request's deadline, want 3s", deadline.Sub(got))
	}
	var be *BudgetError
	if !errors.As(err, &be) || !errors.Is(err, ErrRateLimited) {
		t.Errorf("Get = %v, want a BudgetError", err)
	}
}

// TestWindowLimiterKeepsReserve: a slot is refused when the call's reserve,
// read when the slot is decided, would end after the deadline.
func TestWindowLimiterKeepsReserve(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		l := NewWindowLimiter(1, 10*time.Second, WithMargin(0))
		if err := l.Wait(context.Background(), PriorityRead); err != nil {
			t.Fatal(err)
		}
		reserve := 3 * time.Second
		ctx, cancel := context.WithDeadline(context.Background(), start.Add(12*time.Second))
		defer cancel()
		ctx = WithCallReserve(ctx, func() time.Duration { return reserve })
		// The slot at +10 s leaves 2 s, less than the 3 s reserve.
		if err := l.Wait(ctx, PriorityRead); !errors.Is(err, ErrRateLimited) {
			t.Errorf("Wait with a 3 s reserve = %v, want ErrRateLimited", err)
		}
		reserve = time.Second
		if err := l.Wait(ctx, PriorityRead); err != nil || time.Since(start) != 10*time.Second {
			t.Errorf("Wait with a 1 s reserve = %v at %s, want the slot at +10s", err, time.Since(start))
		}
	})
}

// TestWindowLimiterServesPagesAsPrefixes: once a caller of a page cannot be
// served in time, the callers of that page ranked after it are refused too,
// even when a slot would now fit them (here: the expected call time went
// down); earlier-ranked callers and other pages are not affected.
func TestWindowLimiterServesPagesAsPrefixes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		l := NewWindowLimiter(2, 10*time.Second, WithMargin(0))
		for range 2 {
			if err := l.Wait(context.Background(), PriorityRead); err != nil {
				t.Fatal(err)
			}
		}
		reserve := 8 * time.Second
		page := func(group, item int64) context.Context {
			ctx, cancel := context.WithDeadline(context.Background(), start.Add(15*time.Second))
			t.Cleanup(cancel)
			return WithRank(WithCallReserve(ctx, func() time.Duration { return reserve }), Rank{group, item})
		}
		// The next slots are at +10 s; with 8 s to keep for the call, item 3
		// cannot make its +15 s deadline.
		if err := l.Wait(page(1, 3), PriorityRead); !errors.Is(err, ErrRateLimited) {
			t.Fatalf("item 3 = %v, want ErrRateLimited", err)
		}
		// Calls get faster: item 5 would fit now, but item 3 is missing.
		reserve = time.Second
		if err := l.Wait(page(1, 5), PriorityRead); !errors.Is(err, ErrRateLimited) {
			t.Errorf("item 5 after item 3 was refused = %v, want ErrRateLimited", err)
		}
		// Item 2 of the page, and item 9 of another page, take the two slots.
		for _, c := range []struct{ group, item int64 }{{1, 2}, {2, 9}} {
			if err := l.Wait(page(c.group, c.item), PriorityRead); err != nil {
				t.Errorf("page %d item %d = %v, want a slot", c.group, c.item, err)
			}
		}
	})
}
