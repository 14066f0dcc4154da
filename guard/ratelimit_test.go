package guard

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"
)

// The limiter reads time.Now: the tests run in testing/synctest bubbles,
// where time stands still until a test sleeps.

func TestClientLimiterMiddleware(t *testing.T) {
	t.Parallel()
	// Each step is one request, after sleeping its advance (in the bubble).
	type step struct {
		advance    time.Duration
		client     string
		wantStatus int
		wantRetry  string
	}
	tests := []struct {
		name       string
		perSecond  float64
		burst      int
		maxClients int
		steps      []step
	}{
		{
			name: "burst then refused then refilled", perSecond: 1, burst: 2,
			steps: []step{
				{client: "a", wantStatus: 200},
				{client: "a", wantStatus: 200},
				{client: "a", wantStatus: 429, wantRetry: "1"},
				{advance: 500 * time.Millisecond, client: "a", wantStatus: 429, wantRetry: "1"},
				{advance: 500 * time.Millisecond, client: "a", wantStatus: 200},
				{client: "a", wantStatus: 429, wantRetry: "1"},
			},
		},
		{
			name: "clients are independent", perSecond: 1, burst: 1,
			steps: []step{
				{client: "a", wantStatus: 200},
				{client: "a", wantStatus: 429, wantRetry: "1"},
				{client: "b", wantStatus: 200},
				{client: "b", wantStatus: 429, wantRetry: "1"},
			},
		},
		{
			name: "retry-after rounds up to whole seconds", perSecond: 0.1, burst: 1,
			steps: []step{
				{client: "a", wantStatus: 200},
				{client: "a", wantStatus: 429, wantRetry: "10"},
				{advance: 8500 * time.Millisecond, client: "a", wantStatus: 429, wantRetry: "2"},
				{advance: 1500 * time.Millisecond, client: "a", wantStatus: 200},
			},
		},
		{
			name: "retry-after is at least one second", perSecond: 50, burst: 1,
			steps: []step{
				{client: "a", wantStatus: 200},
				{client: "a", wantStatus: 429, wantRetry: "1"},
			},
		},
		{
			// A refused request takes no token: refusals do not push the
			// next allowed request further away.
			name: "refusals cost nothing", perSecond: 1, burst: 1,
			steps: []step{
				{client: "a", wantStatus: 200},
				{client: "a", wantStatus: 429, wantRetry: "1"},
				{client: "a", wantStatus: 429, wantRetry: "1"},
				{client: "a", wantStatus: 429, wantRetry: "1"},
				{advance: time.Second, client: "a", wantStatus: 200},
			},
		},
		{
			name: "least recently seen client is forgotten", perSecond: 1, burst: 1, maxClients: 1,
			steps: []step{
				{client: "a", wantStatus: 200},
				{client: "a", wantStatus: 429, wantRetry: "1"},
				{client: "b", wantStatus: 200},
				{client: "a", wantStatus: 200},
			},
		},
		{
			name: "burst defaults to the rate", perSecond: 3, burst: 0,
			steps: []step{
				{client: "a", wantStatus: 200},
				{client: "a", wantStatus: 200},
				{client: "a", wantStatus: 200},
				{client: "a", wantStatus: 429, wantRetry: "1"},
			},
		},
		{
			name: "no rate means no limit", perSecond: 0, burst: 1,
			steps: []step{
				{client: "a", wantStatus: 200},
				{client: "a", wantStatus: 200},
				{client: "a", wantStatus: 200},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				l := NewClientLimiter(tt.perSecond, tt.burst, tt.maxClients)
				calls := 0
				h := l.Middleware(func(r *http.Request) string { return r.Header.Get("X-Client") },
					http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls++ }))
				wantCalls := 0
				for i, s := range tt.steps {
					time.Sleep(s.advance)
					req := httptest.NewRequest(http.MethodPost, "/query", nil)
					req.Header.Set("X-Client", s.client)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if s.wantStatus == http.StatusTooManyRequests {
						requireError(t, rec, http.StatusTooManyRequests, CodeTooManyRequests)
					} else {
						wantCalls++
					}
					if rec.Code != s.wantStatus {
						t.Fatalf("step %d: status = %d, want %d", i, rec.Code, s.wantStatus)
					}
					if got := rec.Header().Get("Retry-After"); got != s.wantRetry {
						t.Errorf("step %d: Retry-After = %q, want %q", i, got, s.wantRetry)
					}
				}
				if calls != wantCalls {
					t.Errorf("next called %d times, want %d", calls, wantCalls)
				}
			})
		})
	}
}

func TestClientLimiterByAddress(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testClientLimiterByAddress)
}

func testClientLimiterByAddress(t *testing.T) {
	l := NewClientLimiter(1, 1, 10)
	h := l.Middleware(nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for i, tt := range []struct {
		addr string
		want int
	}{
		{"192.0.2.1:1000", 200},
		{"192.0.2.1:2000", 429}, // another port, same client
		{"192.0.2.2:1000", 200},
		{"[2001:db8::1]:443", 200},
	} {
		req := httptest.NewRequest(http.MethodGet, "/query", nil)
		req.RemoteAddr = tt.addr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("request %d from %s: status = %d, want %d", i, tt.addr, rec.Code, tt.want)
		}
	}
}

// TestClientLimiterConcurrent lets many goroutines share a limiter (for the
// race detector) and checks that exactly the burst gets through.
func TestClientLimiterConcurrent(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testClientLimiterConcurrent)
}

func testClientLimiterConcurrent(t *testing.T) {
	const burst = 10
	l := NewClientLimiter(1, burst, 4)
	results := make(chan bool)
	for i := 0; i < 4*burst; i++ {
		go func() {
			ok, _ := l.Allow("same")
			results <- ok
		}()
	}
	allowed := 0
	for i := 0; i < 4*burst; i++ {
		if <-results {
			allowed++
		}
	}
	if allowed != burst {
		t.Errorf("%d requests allowed, want the burst %d", allowed, burst)
	}
}
