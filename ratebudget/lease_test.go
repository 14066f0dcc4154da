package ratebudget

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable"
)

// TestQueuedCallerKeepsItsPlaceLongerThanTwoWindows plays two replicas
// sharing a budget of 1 per window, on the bubble's clock. Replica A's
// first caller spends the window and four more queue behind it, then a
// caller arrives on replica B. A's last callers wait in their process for
// up to four windows, longer than a ticket's lease (two windows): they must
// keep their places, so that B's caller, who arrived after all of them,
// goes last.
func TestQueuedCallerKeepsItsPlaceLongerThanTwoWindows(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const window = 10 * time.Second
		_, dial := redistest.InBubble(t)
		var limiters []*Limiter
		for range 2 {
			limiters = append(limiters, NewLimiter(dial(), "rate", 1, window, WithSafetyMargin(0)))
		}
		var (
			mu       sync.Mutex
			admitted []int
			wg       sync.WaitGroup
		)
		arrive := func(caller int, l *Limiter) {
			wg.Go(func() {
				if err := l.Wait(t.Context(), workable.PriorityRead); err != nil {
					t.Errorf("caller %d: %v", caller, err)
					return
				}
				mu.Lock()
				admitted = append(admitted, caller)
				mu.Unlock()
			})
			synctest.Wait() // admitted, or holding its place
			// Tickets taken at the same server time rank by member,
			// not by arrival.
			time.Sleep(time.Millisecond)
		}
		for caller := range 5 {
			arrive(caller, limiters[0])
		}
		arrive(5, limiters[1])
		wg.Wait()
		if want := []int{0, 1, 2, 3, 4, 5}; !slices.Equal(admitted, want) {
			t.Errorf("admitted in the order %v, want %v (arrival order)", admitted, want)
		}
		if n, err := limiters[0].client.ZCard(t.Context(), limiters[0].ticketsKey).Result(); err != nil || n != 0 {
			t.Errorf("tickets left: %d, %v", n, err)
		}
	})
}
