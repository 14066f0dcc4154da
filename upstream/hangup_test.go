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
// client sends at most 1 call per window, and the candidate detail batch
// of one request.
func hangupEconomy(t *testing.T, wk *countingWorkable, window time.Duration) (*Economy, func(ctx context.Context, id string) (*workable.Candidate, error)) {
	t.Helper()
	client, err := workable.NewClient("acme", "token",
		workable.WithHTTPClient(&http.Client{Transport: wk}),
		workable.WithRateLimiter(workable.NewWindowLimiter(1, window, workable.WithFixedLimit(), workable.WithMargin(0))))
	if err != nil {
		t.Fatal(err)
	}
	// A custom clock: no clean-up goroutine outliving the bubble.
	e := New(Config{Cache: cache.NewMemory(0, cache.WithMemoryClock(time.Now)), LocalTierBytes: -1}, Credential{Nickname: "default", Namespace: "ns:"}, client)
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

	t.Run("the only caller hangs up while queued", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			wk := &countingWorkable{}
			_, get := hangupEconomy(t, wk, window)
			if _, err := get(t.Context(), "c0"); err != nil { // spends the window's slot
				t.Fatal(err)
			}
			ctx, hangUp := context.WithCancel(t.Context())
			gone := make(chan error, 1)
			go func() { _, err := get(ctx, "gone"); gone <- err }()
			synctest.Wait() // queued for the budget
			hangUp()
			if err := <-gone; !errors.Is(err, context.Canceled) {
				t.Fatalf("the caller that hung up got %v", err)
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
