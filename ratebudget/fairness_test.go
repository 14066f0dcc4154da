package ratebudget

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable"
)

// callerKey names a caller in its context, which the limiter passes on to
// its Redis client.
type callerKey struct{}

// arrivals follows callers, named by their contexts, through two or more
// limiters: when each first holds its place (a ticket) and the server time
// at which each was admitted, as Redis answered them.
type arrivals struct {
	mu       sync.Mutex
	placed   map[int]chan struct{}
	admitted map[int]int64
}

func newArrivals(n int) *arrivals {
	a := &arrivals{placed: map[int]chan struct{}{}, admitted: map[int]int64{}}
	for i := range n {
		a.placed[i] = make(chan struct{})
	}
	return a
}

// watch follows the callers whose calls go through c: a caller holds its
// place once it took a ticket, was refused (which takes one) or admitted.
func (a *arrivals) watch(c redis.UniversalClient) redis.UniversalClient {
	return watched(c, redisWatch{
		ticket: a.place,
		decided: func(ctx context.Context, d decision) {
			a.place(ctx)
			if d.admitted {
				a.mu.Lock()
				a.admitted[ctx.Value(callerKey{}).(int)] = d.serverMs
				a.mu.Unlock()
			}
		},
	})
}

// place closes the caller's placed channel the first time.
func (a *arrivals) place(ctx context.Context) {
	i := ctx.Value(callerKey{}).(int)
	a.mu.Lock()
	defer a.mu.Unlock()
	select {
	case <-a.placed[i]:
	default:
		close(a.placed[i])
	}
}

// burst starts n callers of priority p, caller i on limiters[on(i)], each
// once the one before it holds its place, and waits for all of them.
func (a *arrivals) burst(t *testing.T, ctx context.Context, limiters []*Limiter, n int, p workable.Priority, on func(i int) int) {
	t.Helper()
	results := make([]chan error, n)
	for i := range n {
		results[i] = make(chan error, 1)
		cctx := context.WithValue(ctx, callerKey{}, i)
		go func() { results[i] <- limiters[on(i)].Wait(cctx, p) }()
		select {
		case <-a.placed[i]:
		case err := <-results[i]:
			if err != nil {
				t.Fatalf("caller %d: %v", i, err)
			}
			results[i] <- nil // admitted: it held its place before it returned
		}
	}
	for i, res := range results {
		if err := <-res; err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
}

// TestRedisLimiterAdmitsFirstComeFirstServedAcrossReplicas plays two
// replicas sharing a budget of 10 per window that is already spent. Ten
// read callers arrive one after the other, spread over both replicas in an
// order where each replica has callers queued behind its first; the log's
// entries leave one at a time, and each freed slot must go to the caller
// that arrived first, whichever replica it waits on.
func TestRedisLimiterAdmitsFirstComeFirstServedAcrossReplicas(t *testing.T) {
	const (
		limit  = 10
		window = 2 * time.Second
		// The first slot frees lead after the budget was spent (time
		// for the callers to arrive), then one every step.
		lead = window / 4
		step = 100 * time.Millisecond
	)
	srv := redistest.NewServer(t)
	a := newArrivals(limit)
	opts := []Option{WithSafetyMargin(0), WithTimeout(5 * time.Second)}
	key := srv.Prefix + "rate"
	limiters := []*Limiter{
		NewLimiter(a.watch(srv.NewClient(t)), key, limit, window, opts...),
		NewLimiter(a.watch(srv.NewClient(t)), key, limit, window, opts...),
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	// The budget is spent: the log holds limit sends whose windows end
	// one step apart, the first lead from now (by the server's clock).
	now, err := srv.Client.Time(ctx).Result()
	if err != nil {
		t.Fatalf("server time: %v", err)
	}
	first := now.Add(lead - window).UnixMilli()
	entries := make([]redis.Z, limit)
	for k := range entries {
		entries[k] = redis.Z{Score: float64(first + int64(k)*step.Milliseconds()), Member: fmt.Sprintf("spent:%d", k)}
	}
	if err := srv.Client.ZAdd(ctx, limiters[0].logKey, entries...).Err(); err != nil {
		t.Fatalf("spending the budget: %v", err)
	}

	// B, A, A, A, A, A, B, B, B, B: replica A's five callers queue behind
	// its first, and B's last four behind B's first, which arrived before
	// all of A's.
	onReplica := func(i int) int {
		if i >= 1 && i <= 5 {
			return 0
		}
		return 1
	}
	a.burst(t, ctx, limiters, limit, workable.PriorityRead, onReplica)

	for i := 1; i < limit; i++ {
		if a.admitted[i] <= a.admitted[i-1] {
			t.Errorf("caller %d (replica %d) was admitted at %d, not after caller %d (replica %d) who arrived before it, at %d",
				i, onReplica(i), a.admitted[i], i-1, onReplica(i-1), a.admitted[i-1])
		}
	}
	for _, k := range []string{limiters[0].ticketsKey, limiters[0].expiryKey} {
		if n, err := srv.Client.ZCard(ctx, k).Result(); err != nil || n != 0 {
			t.Errorf("%s after every caller was admitted holds %d, %v; want 0", k, n, err)
		}
	}
}

// TestRedisLimiterColdBurstWaitsAtMostAWindowMore plays a cold burst of 10
// read callers over two replicas sharing a budget of 5 per window: each
// caller must be admitted at most one window (plus margin) later than an
// in-process workable.WindowLimiter would admit it: the k-th caller of a
// burst (from 0) goes k/limit windows after the first.
func TestRedisLimiterColdBurstWaitsAtMostAWindowMore(t *testing.T) {
	const (
		limit   = 5
		callers = 10
		window  = 500 * time.Millisecond
	)
	srv := redistest.NewServer(t)
	a := newArrivals(callers)
	opts := []Option{WithSafetyMargin(0), WithTimeout(5 * time.Second)}
	key := srv.Prefix + "rate"
	limiters := []*Limiter{
		NewLimiter(a.watch(srv.NewClient(t)), key, limit, window, opts...),
		NewLimiter(a.watch(srv.NewClient(t)), key, limit, window, opts...),
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	a.burst(t, ctx, limiters, callers, workable.PriorityRead, func(i int) int { return i % 2 })

	start := a.admitted[0]
	for k := range callers {
		inProcess := int64(k/limit) * window.Milliseconds()
		if got := a.admitted[k] - start; got > inProcess+window.Milliseconds() {
			t.Errorf("caller %d was admitted %d ms into the burst; an in-process limiter admits it after %d ms, want at most a window (%d ms) more",
				k, got, inProcess, window.Milliseconds())
		}
	}
}
