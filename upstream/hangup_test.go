package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/ratebudget"
	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable"
)

// countingWorkable answers GET /candidates/{id} in process (no network, so
// that synctest's clock can run) and counts the calls per id. While hold
// is set, an answer waits for it to close once the call has arrived
// (arrived gets the id), or for the call to be cancelled.
type countingWorkable struct {
	mu      sync.Mutex
	calls   map[string]int
	hold    chan struct{}
	arrived chan string
}

func (w *countingWorkable) RoundTrip(r *http.Request) (*http.Response, error) {
	id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	w.mu.Lock()
	if w.calls == nil {
		w.calls = map[string]int{}
	}
	w.calls[id]++
	hold := w.hold
	w.mu.Unlock()
	if hold != nil {
		w.arrived <- id
		select {
		case <-hold:
		case <-r.Context().Done(): // as a real connection would
			return nil, r.Context().Err()
		}
	}
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(rec, `{"candidate":{"id":%q,"name":"Candidate %s"}}`, id, id)
	return rec.Result(), nil
}

func (w *countingWorkable) count(id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[id]
}

// hangupEconomy returns an economy with a memory cache over wk, whose
// client sends at most 1 call per window (in process), and the candidate
// detail batch of one request.
func hangupEconomy(t *testing.T, wk *countingWorkable, window time.Duration) (*Economy, func(ctx context.Context, id string) (*workable.Candidate, error)) {
	t.Helper()
	return hangupEconomyWith(t, wk, workable.NewWindowLimiter(1, window, workable.WithFixedLimit(), workable.WithMargin(0)))
}

// hangupEconomyWith is hangupEconomy with the rate limiter lim.
func hangupEconomyWith(t *testing.T, wk *countingWorkable, lim workable.RateLimiter) (*Economy, func(ctx context.Context, id string) (*workable.Candidate, error)) {
	t.Helper()
	client, err := workable.NewClient("acme", "token",
		workable.WithHTTPClient(&http.Client{Transport: wk}),
		workable.WithRateLimiter(lim))
	if err != nil {
		t.Fatal(err)
	}
	// Closed when the bubble's test ends: no clean-up goroutine outliving it.
	store := cache.NewMemory(0)
	t.Cleanup(store.Close)
	e := New(Config{Cache: store, LocalTierBytes: -1}, Credential{Nickname: "default", Namespace: "ns:"}, client)
	get := func(ctx context.Context, id string) (*workable.Candidate, error) {
		batch := Batch(e, &Request{}, Spec[string, *workable.Candidate]{Kind: cache.KindCandidate, ID: DetailID, Fetch: e.FetchCandidate})
		return batch(ctx, []string{id})[0].Data.Wait()
	}
	return e, get
}

// TestClientsThatHungUpCauseNoWorkableCall: a shared fetch still waiting
// for the rate budget when every caller has hung up gives up its place (no
// call is sent, the next caller takes the slot); one that a caller still
// waits for goes on; one already sent completes and is cached.
func TestClientsThatHungUpCauseNoWorkableCall(t *testing.T) {
	t.Parallel()
	const window = 10 * time.Second

	// The only caller hangs up while queued, in process or for the budget
	// shared through Redis (where it holds a ticket): no call, its place is
	// given up (the ticket removed) and the next caller takes the slot.
	for _, tt := range []struct {
		name string
		// limiter returns a limiter of 1 call per window, and how many
		// tickets its shared queue holds (nil: it has none).
		limiter func(t *testing.T) (workable.RateLimiter, func() int64)
	}{
		{"in process", func(*testing.T) (workable.RateLimiter, func() int64) {
			return workable.NewWindowLimiter(1, window, workable.WithFixedLimit(), workable.WithMargin(0)), nil
		}},
		{"for the shared budget", func(t *testing.T) (workable.RateLimiter, func() int64) {
			_, dial := redistest.InBubble(t)
			rdb := dial()
			tickets := func() int64 {
				n, err := rdb.ZCard(context.Background(), "{rate}:tickets").Result()
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			return ratebudget.NewLimiter(rdb, "rate", 1, window, ratebudget.WithFixedLimit(), ratebudget.WithSafetyMargin(0)), tickets
		}},
	} {
		t.Run("the only caller hangs up while queued "+tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				lim, tickets := tt.limiter(t)
				wk := &countingWorkable{}
				_, get := hangupEconomyWith(t, wk, lim)
				if _, err := get(t.Context(), "c0"); err != nil { // spends the window's slot
					t.Fatal(err)
				}
				ctx, hangUp := context.WithCancel(t.Context())
				gone := make(chan error, 1)
				go func() { _, err := get(ctx, "gone"); gone <- err }()
				synctest.Wait() // queued for the budget
				if tickets != nil && tickets() != 1 {
					t.Fatalf("tickets while queued: %d, want 1", tickets())
				}
				hangUp()
				if err := <-gone; !errors.Is(err, context.Canceled) {
					t.Fatalf("the caller that hung up got %v", err)
				}
				synctest.Wait()
				if tickets != nil && tickets() != 0 {
					t.Errorf("tickets after the caller hung up: %d, want 0", tickets())
				}
				start := time.Now()
				if _, err := get(t.Context(), "next"); err != nil {
					t.Fatal(err)
				}
				if waited := time.Since(start); waited > window {
					t.Errorf("the next caller waited %v: the abandoned fetch kept its place (one window is %v)", waited, window)
				}
				time.Sleep(3 * window)
				synctest.Wait()
				if n := wk.count("gone"); n != 0 {
					t.Errorf("%d Workable calls for a caller that hung up while queued, want 0", n)
				}
			})
		})
	}

	t.Run("one of two callers hangs up", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			wk := &countingWorkable{}
			_, get := hangupEconomy(t, wk, window)
			if _, err := get(t.Context(), "c0"); err != nil {
				t.Fatal(err)
			}
			first, hangUp := context.WithCancel(t.Context())
			errs := make(chan error, 1)
			go func() { _, err := get(first, "both"); errs <- err }()
			synctest.Wait()
			got := make(chan *workable.Candidate, 1)
			go func() {
				c, err := get(t.Context(), "both")
				if err != nil {
					t.Errorf("the caller that stayed got %v", err)
				}
				got <- c
			}()
			synctest.Wait() // joined the first one's fetch
			hangUp()
			if err := <-errs; !errors.Is(err, context.Canceled) {
				t.Fatalf("the caller that hung up got %v", err)
			}
			if c := <-got; c == nil || c.ID != "both" {
				t.Errorf("the caller that stayed got %+v", c)
			}
			if n := wk.count("both"); n != 1 {
				t.Errorf("%d Workable calls, want 1", n)
			}
		})
	})

	t.Run("the caller hangs up once the call was sent", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			wk := &countingWorkable{hold: make(chan struct{}), arrived: make(chan string, 1)}
			_, get := hangupEconomy(t, wk, window)
			ctx, hangUp := context.WithCancel(t.Context())
			errs := make(chan error, 1)
			go func() { _, err := get(ctx, "sent"); errs <- err }()
			<-wk.arrived
			hangUp()
			if err := <-errs; !errors.Is(err, context.Canceled) {
				t.Fatalf("the caller that hung up got %v", err)
			}
			close(wk.hold)
			synctest.Wait() // the answer is stored
			if c, err := get(t.Context(), "sent"); err != nil || c == nil || c.ID != "sent" {
				t.Fatalf("next read = %+v, %v", c, err)
			}
			if n := wk.count("sent"); n != 1 {
				t.Errorf("%d Workable calls, want 1: the answer of the call sent was not cached", n)
			}
		})
	})
}
