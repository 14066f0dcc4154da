package ratebudget

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// liveReplicas makes n replicas beat once on srv, so that each sees n, and
// returns the first.
func liveReplicas(t *testing.T, srv *redistest.Server, n int) *Replicas {
	t.Helper()
	key := srv.Prefix + "replicas"
	var first *Replicas
	for i := range n {
		r := NewReplicas(srv.NewClient(t), key, nil)
		if err := r.Beat(t.Context()); err != nil {
			t.Fatalf("heartbeat %d: %v", i, err)
		}
		if first == nil {
			first = r
		}
	}
	if err := first.Beat(t.Context()); err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	if got := first.Live(); got != n {
		t.Fatalf("Live() = %d, want %d", got, n)
	}
	return first
}

// shareLog records what a limiter said about its share.
type shareLog struct {
	mu     sync.Mutex
	shares []int
}

func (s *shareLog) record(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shares = append(s.shares, n)
}

func (s *shareLog) get() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.shares...)
}

// syncBuffer is a bytes.Buffer for a logger written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLimiterOutageWaitsThenSharesThenReconciles walks one replica of three
// through a Redis outage in a testing/synctest bubble: for one span after
// the first failure it sends nothing (callers wait for Redis); then it sends
// its share of the limit (6 / 3 replicas = 2 per window) and not one more,
// saying so in the log and the share hook; when Redis is back its two sends
// and the other replicas' possible shares (2 × 2) are in the shared log
// before it admits anything, so the shared budget stays spent for that
// window. miniredis runs outside the bubble, on its own clock: admission
// reads the server's TIME, so the bubble's clock moves only the limiter's
// own spans and cool-downs.
func TestLimiterOutageWaitsThenSharesThenReconciles(t *testing.T) {
	const (
		limit  = 6
		window = 10 * time.Second
	)
	srv := redistest.Mini(t)
	outside := redistest.Outside(t)
	synctest.Test(t, func(t *testing.T) {
		replicas := liveReplicas(t, srv, 3)
		var shares shareLog
		var logs syncBuffer
		var refused atomic.Int32
		rdb := refusals(redistest.Dial(t, srv.Mini.Addr()), func(workable.Priority) { refused.Add(1) })
		defer redistest.CloseInBubble(rdb)
		l := NewLimiter(rdb, srv.Prefix+"rate", limit, window,
			WithFixedLimit(), WithReplicas(replicas),
			WithCoolDown(5*time.Millisecond), WithTimeout(500*time.Millisecond),
			WithShareHook(shares.record), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		short := func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(t.Context(), 2*time.Second)
		}

		ctx, cancel := short()
		err := l.Wait(ctx, workable.PriorityRead)
		cancel()
		if err != nil {
			t.Fatalf("Wait with Redis up: %v", err)
		}
		srv.Mini.Close()

		// Within the span after the failure: nothing is sent (with Redis
		// down, a Wait that returns nil was admitted by the share).
		ctx, cancel = context.WithTimeout(t.Context(), 300*time.Millisecond)
		err = l.Wait(ctx, workable.PriorityRead)
		cancel()
		if err == nil {
			t.Fatal("Wait within the first span of the outage admitted a send, want it to wait for Redis")
		}
		if !errors.Is(err, workable.ErrRateLimited) && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait within the first span of the outage = %v, want ErrRateLimited or the deadline", err)
		}
		if _, err := l.Budget(t.Context()); err == nil {
			t.Error("Budget while waiting for Redis succeeded, want an error")
		}

		// After the span: the share, 2 per window, and no more.
		time.Sleep(window + l.margin)
		for i := range 2 {
			ctx, cancel := short()
			if err := l.Wait(ctx, workable.PriorityRead); err != nil {
				t.Fatalf("Wait %d on the share: %v", i, err)
			}
			cancel()
		}
		ctx, cancel = short()
		if err := l.Wait(ctx, workable.PriorityRead); !errors.Is(err, workable.ErrRateLimited) {
			t.Errorf("third Wait on a share of 2 = %v, want ErrRateLimited", err)
		}
		cancel()
		if b, err := l.Budget(t.Context()); err != nil || b.Limit != 2 || b.Remaining != 0 {
			t.Errorf("Budget on the share = %+v, %v; want limit 2, none remaining", b, err)
		}
		if got := shares.get(); len(got) != 1 || got[0] != 2 {
			t.Errorf("share hook calls %v, want [2]", got)
		}
		if !strings.Contains(logs.String(), "share=2") || !strings.Contains(logs.String(), "replicas=3") {
			t.Errorf("no warning naming the share and the replicas in the log:\n%s", logs.String())
		}

		// Redis is back: the share's 2 sends and 2 × 2 phantoms join the
		// entry made before the outage, so the window is full. The
		// restarted server's goroutines must not join the bubble.
		outside(func() {
			if err := srv.Mini.Restart(); err != nil {
				t.Errorf("restart miniredis: %v", err)
			}
		})
		time.Sleep(time.Second) // past the cool-down
		refused.Store(0)        // count the refusals from Redis's return on
		ctx, cancel = short()
		err = l.Wait(ctx, workable.PriorityRead)
		cancel()
		if err == nil || refused.Load() == 0 {
			t.Errorf("Wait once Redis is back = %v after %d refusals, want Redis to refuse (the outage's sends fill the window)", err, refused.Load())
		}
		if n, err := redistest.Dial(t, srv.Mini.Addr()).ZCard(t.Context(), l.logKey).Result(); err != nil || n != 1+2+4 {
			t.Errorf("shared log holds %d entries (%v), want 7: 1 before the outage, 2 on the share, 4 for the other replicas' shares", n, err)
		}
		if got := shares.get(); len(got) != 2 || got[1] != 0 {
			t.Errorf("share hook calls %v, want [2 0]", got)
		}
		if !strings.Contains(logs.String(), "back on the shared budget") {
			t.Errorf("no line saying the replica is back on the shared budget:\n%s", logs.String())
		}
	})
}

// TestLimiterOutageWithoutReplicaCount: a replica that never reached Redis
// cannot know how many share the budget; after the first span it sends 1
// per window, the least share. Without WithReplicas it only waits.
func TestLimiterOutageWithoutReplicaCount(t *testing.T) {
	tests := []struct {
		name      string
		replicas  bool
		wantSends int
	}{
		{"never counted", true, 1},
		{"no replica count", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := redistest.ClosedAddr(t)
			synctest.Test(t, func(t *testing.T) {
				rdb := redistest.Dial(t, addr)
				defer redistest.CloseInBubble(rdb)
				opts := []Option{WithCoolDown(5 * time.Millisecond), WithTimeout(20 * time.Millisecond)}
				if tt.replicas {
					opts = append(opts, WithReplicas(NewReplicas(rdb, "replicas", nil)))
				}
				l := NewLimiter(rdb, "rate", 10, 10*time.Second, opts...)
				ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
				defer cancel()
				if err := l.Wait(ctx, workable.PriorityRead); err == nil {
					t.Error("Wait in the first span of the outage admitted a send")
				}
				// Redis never answers: a Wait that returns nil was
				// admitted by the share.
				time.Sleep(time.Hour)
				sends := 0
				for range 2 {
					ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
					if l.Wait(ctx, workable.PriorityRead) == nil {
						sends++
					}
					cancel()
				}
				if sends != tt.wantSends {
					t.Errorf("%d sends on the share in one window, want %d", sends, tt.wantSends)
				}
			})
		})
	}
}

// TestThreeReplicasThroughARedisOutageDrawNo429 plays three gateway
// replicas (three clients, three limiters, three Redis connections) against
// the simulator with rate limiting on, before, during and after a Redis
// outage: every call is answered and the simulator never answers 429. The
// limiters get half the simulator's budget (6 against 12 per second) for
// the scheduling noise explained at graph's clientBudget; a replica that
// fell back to the whole budget (the old behaviour) would send up to 18 in
// a window, so the test fails then.
func TestThreeReplicasThroughARedisOutageDrawNo429(t *testing.T) {
	const (
		simBudget = 12
		limit     = simBudget / 2
		window    = time.Second
		replicas  = 3
	)
	srv := redistest.Mini(t)
	sim := simulator.New()
	sim.SetRateLimit(simBudget, window)
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)
	live := liveReplicas(t, srv, replicas)

	var shares [replicas]shareLog
	clients := make([]*workable.Client, replicas)
	for i := range clients {
		l := NewLimiter(srv.NewClient(t), srv.Prefix+"rate", limit, window,
			WithFixedLimit(), WithReplicas(live), WithCoolDown(50*time.Millisecond),
			WithTimeout(50*time.Millisecond), WithShareHook(shares[i].record))
		c, err := workable.NewClient(simulator.DemoSubdomain, simulator.DemoToken,
			workable.WithBaseURL(simSrv.URL+"/spi/v3/"), workable.WithRateLimiter(l))
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	burst := func(phase string, n int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		errs := make(chan error, n)
		for i := range n {
			go func() {
				_, _, err := clients[i%replicas].Accounts.Get(ctx)
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("%s: call failed: %v", phase, err)
			}
		}
	}

	burst("Redis up", 2*limit)
	srv.Mini.Close()
	burst("Redis down", 3*limit)
	if err := srv.Mini.Restart(); err != nil {
		t.Fatalf("restart miniredis: %v", err)
	}
	burst("Redis back", 2*limit)

	if n := sim.TooManyRequests(); n != 0 {
		t.Errorf("the simulator answered %d calls with 429", n)
	}
	for i := range shares {
		if got := shares[i].get(); len(got) == 0 || got[0] != limit/replicas {
			t.Errorf("replica %d reported shares %v, want %d first", i, got, limit/replicas)
		}
	}
}

// TestThreeReplicasThroughARedisPauseDrawNo429 plays the pause that broke
// the shared budget: three replicas on one Redis against the simulator with
// rate limiting on, and as a burst starts every command to Redis is held (as
// CLIENT PAUSE does) for longer than the limiters' timeout (DefaultTimeout).
// Callers wait for Redis instead of each replica taking the whole budget:
// every call is answered and the simulator never answers 429. Budgets as in
// TestThreeReplicasThroughARedisOutageDrawNo429.
func TestThreeReplicasThroughARedisPauseDrawNo429(t *testing.T) {
	const (
		simBudget = 12
		limit     = simBudget / 2
		window    = time.Second
		replicas  = 3
		calls     = 3 * limit
	)
	srv := redistest.NewServer(t)
	proxy := srv.NewProxy(t)
	sim := simulator.New()
	sim.SetRateLimit(simBudget, window)
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)
	live := liveReplicas(t, srv, replicas)

	clients := make([]*workable.Client, replicas)
	for i := range clients {
		l := NewLimiter(srv.NewClientVia(t, proxy), srv.Prefix+"rate", limit, window,
			WithFixedLimit(), WithReplicas(live), WithCoolDown(50*time.Millisecond))
		c, err := workable.NewClient(simulator.DemoSubdomain, simulator.DemoToken,
			workable.WithBaseURL(simSrv.URL+"/spi/v3/"), workable.WithRateLimiter(l))
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	// The pause starts as the burst does, so that every replica's first
	// call to Redis times out: a replica that then took the whole budget
	// would send 6 at once, 18 in all, where the simulator takes 12.
	proxy.Pause(DefaultTimeout + 150*time.Millisecond)
	done := make(chan error, calls)
	for i := range calls {
		go func() {
			_, _, err := clients[i%replicas].Accounts.Get(ctx)
			done <- err
		}()
	}
	for range calls {
		if err := <-done; err != nil {
			t.Errorf("call failed: %v", err)
		}
	}
	if n := sim.TooManyRequests(); n != 0 {
		t.Errorf("the simulator answered %d calls with 429", n)
	}
}
