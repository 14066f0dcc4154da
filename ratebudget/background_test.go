package ratebudget

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable"
)

// replicaDecision is one answer of Redis to a replica's limiter.
type replicaDecision struct {
	replica string
	decision
}

// decisions records the decisions of several limiters.
type decisions struct {
	mu  sync.Mutex
	all []replicaDecision
	// refused receives the refusals (while it has room).
	refused chan replicaDecision
}

// watch records the decisions answered to replica's client c.
func (d *decisions) watch(c redis.UniversalClient, replica string) redis.UniversalClient {
	return watched(c, redisWatch{decided: func(_ context.Context, e decision) {
		rd := replicaDecision{replica: replica, decision: e}
		d.mu.Lock()
		d.all = append(d.all, rd)
		d.mu.Unlock()
		if !e.admitted {
			select {
			case d.refused <- rd:
			default: // the test reads only the first ones
			}
		}
	}})
}

// admission returns the server time at which replica's call of priority p
// was admitted.
func (d *decisions) admission(replica string, p workable.Priority) (int64, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range d.all {
		if e.admitted && e.replica == replica && e.p == p {
			return e.serverMs, true
		}
	}
	return 0, false
}

// refusals counts the refusals of replica's calls of priority p.
func (d *decisions) refusals(replica string, p workable.Priority) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, e := range d.all {
		if !e.admitted && e.replica == replica && e.p == p {
			n++
		}
	}
	return n
}

// TestRedisLimiterBackgroundYieldsToUsersOnAnyReplica plays two replicas,
// A and B, sharing one budget of one call per window. A user read on B
// waits for the budget; then a slot frees (the log entry is removed, as
// when the window passes) and A asks for a background call: A must not be
// admitted before B's read, though B is still asleep until its own retry.
// Without a live user waiter (none, one that gave up, one of a crashed
// replica whose registration expired) the background call goes at once.
func TestRedisLimiterBackgroundYieldsToUsersOnAnyReplica(t *testing.T) {
	const window = time.Second
	tests := []struct {
		name string
		// userWaits queues a user read on B that is still waiting when
		// A's background call is made (it is cancelled at the end).
		userWaits bool
		// userGivesUp queues a user read on B that gives up (its context
		// ends) before A's background call is made.
		userGivesUp bool
		// staleWaiter registers an expired waiter, as a crashed replica
		// leaves it.
		staleWaiter bool
	}{
		{name: "a user read waits on another replica", userWaits: true},
		{name: "no user waits"},
		{name: "the waiting user gave up", userGivesUp: true},
		{name: "the waiter's registration expired", staleWaiter: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.NewServer(t)
			d := &decisions{refused: make(chan replicaDecision, 100)}
			newLimiter := func(replica string) *Limiter {
				return NewLimiter(d.watch(srv.NewClient(t), replica), srv.Prefix+"rate", 1, window,
					WithSafetyMargin(0), WithTimeout(5*time.Second))
			}
			a := newLimiter("A")
			b := newLimiter("B")
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()

			// The budget is exhausted.
			if err := a.Wait(ctx, workable.PriorityRead); err != nil {
				t.Fatalf("filling the budget: %v", err)
			}

			userErr := make(chan error, 1)
			userCtx, stopUser := context.WithCancel(ctx)
			defer stopUser()
			if tt.userWaits || tt.userGivesUp {
				go func() { userErr <- b.Wait(userCtx, workable.PriorityRead) }()
				if e := <-d.refused; e.replica != "B" || e.p != workable.PriorityRead {
					t.Fatalf("refused %+v, want B's user read", e)
				}
			}
			if tt.userGivesUp {
				stopUser()
				if err := <-userErr; !errors.Is(err, context.Canceled) {
					t.Fatalf("B's read = %v, want context.Canceled", err)
				}
			}
			if tt.staleWaiter {
				past := float64(time.Now().Add(-time.Hour).UnixMilli())
				if err := srv.Client.ZAdd(ctx, a.waitersKey, redis.Z{Score: past, Member: "crashed:1"}).Err(); err != nil {
					t.Fatalf("registering a stale waiter: %v", err)
				}
			}

			// A slot frees: the window of the call that filled it ends.
			if err := srv.Client.Del(ctx, a.logKey).Err(); err != nil {
				t.Fatalf("freeing a slot: %v", err)
			}
			if err := a.Wait(ctx, workable.PriorityBackground); err != nil {
				t.Fatalf("A's background Wait: %v", err)
			}
			bgAt, ok := d.admission("A", workable.PriorityBackground)
			if !ok {
				t.Fatal("A's background call was admitted without a decision of Redis")
			}

			if !tt.userWaits {
				if n := d.refusals("A", workable.PriorityBackground); n != 0 {
					t.Errorf("A's background call was refused %d times with no user waiting, want admitted at once", n)
				}
				return
			}
			if err := <-userErr; err != nil {
				t.Fatalf("B's read: %v", err)
			}
			userAt, _ := d.admission("B", workable.PriorityRead)
			if bgAt <= userAt {
				t.Errorf("A's background call was admitted at %d, B's waiting user read at %d: want the user read first", bgAt, userAt)
			}
			if d.refusals("A", workable.PriorityBackground) == 0 {
				t.Error("A's background call was never refused: the test did not make it meet B's waiting read")
			}
			if n, err := srv.Client.ZCard(ctx, a.waitersKey).Result(); err != nil || n != 0 {
				t.Errorf("waiters after every user call was admitted = %d, %v; want 0", n, err)
			}
		})
	}
}
