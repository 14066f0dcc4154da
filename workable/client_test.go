package workable

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestNewClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		subdomain string
		token     string
		opts      []Option
		wantBase  string
		wantErr   bool
	}{
		{name: "default base URL", subdomain: "groove-tech", token: testToken, wantBase: "https://groove-tech.workable.com/spi/v3/"},
		{name: "base URL gets a trailing slash", subdomain: "groove-tech", token: testToken,
			opts: []Option{WithBaseURL("http://127.0.0.1:1234/spi/v3")}, wantBase: "http://127.0.0.1:1234/spi/v3/"},
		{name: "base URL kept", subdomain: "acme", token: testToken,
			opts: []Option{WithBaseURL("http://localhost:8080/spi/v3/")}, wantBase: "http://localhost:8080/spi/v3/"},
		{name: "empty subdomain", subdomain: "", token: testToken, wantErr: true},
		{name: "subdomain with dot", subdomain: "evil.com/x", token: testToken, wantErr: true},
		{name: "subdomain leading hyphen", subdomain: "-acme", token: testToken, wantErr: true},
		{name: "subdomain underscore", subdomain: "ac_me", token: testToken, wantErr: true},
		{name: "subdomain too long", subdomain: strings.Repeat("a", 64), token: testToken, wantErr: true},
		{name: "empty token", subdomain: "acme", token: "", wantErr: true},
		{name: "token with newline", subdomain: "acme", token: testToken + "\r\nX: y", wantErr: true},
		{name: "base URL bad scheme", subdomain: "acme", token: testToken, opts: []Option{WithBaseURL("ftp://x/")}, wantErr: true},
		{name: "base URL without host", subdomain: "acme", token: testToken, opts: []Option{WithBaseURL("http:///spi/v3/")}, wantErr: true},
		{name: "base URL with query", subdomain: "acme", token: testToken, opts: []Option{WithBaseURL("http://x/spi/v3/?a=b")}, wantErr: true},
		{name: "nil HTTP client", subdomain: "acme", token: testToken, opts: []Option{WithHTTPClient(nil)}, wantErr: true},
		{name: "nil limiter", subdomain: "acme", token: testToken, opts: []Option{WithRateLimiter(nil)}, wantErr: true},
		{name: "zero timeout", subdomain: "acme", token: testToken, opts: []Option{WithRequestTimeout(0)}, wantErr: true},
		{name: "zero max body", subdomain: "acme", token: testToken, opts: []Option{WithMaxResponseBytes(0)}, wantErr: true},
		{name: "bad retry", subdomain: "acme", token: testToken, opts: []Option{WithRetry(0, time.Second, time.Second)}, wantErr: true},
		{name: "retry max below base", subdomain: "acme", token: testToken, opts: []Option{WithRetry(2, time.Second, time.Millisecond)}, wantErr: true},
		{name: "negative 429 retries", subdomain: "acme", token: testToken, opts: []Option{WithRateLimitRetries(-1)}, wantErr: true},
		{name: "nil hook", subdomain: "acme", token: testToken, opts: []Option{WithRequestHook(nil)}, wantErr: true},
		{name: "bad user agent", subdomain: "acme", token: testToken, opts: []Option{WithUserAgent("a\nb")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(tt.subdomain, tt.token, tt.opts...)
			if tt.wantErr {
				if err == nil {
					t.Fatal("NewClient succeeded, want error")
				}
				if strings.Contains(err.Error(), testToken) {
					t.Errorf("error %q contains the token", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			if got := c.BaseURL().String(); got != tt.wantBase {
				t.Errorf("BaseURL = %q, want %q", got, tt.wantBase)
			}
			if got := c.Subdomain(); got != tt.subdomain {
				t.Errorf("Subdomain = %q, want %q", got, tt.subdomain)
			}
			if c.Jobs == nil || c.Candidates == nil || c.Accounts == nil {
				t.Error("services not set")
			}
		})
	}
}

func TestBaseURLIsACopy(t *testing.T) {
	t.Parallel()
	c, err := NewClient("acme", testToken)
	if err != nil {
		t.Fatal(err)
	}
	u := c.BaseURL()
	u.Host = "evil.example.com"
	if got := c.BaseURL().Host; got != "acme.workable.com" {
		t.Errorf("BaseURL host changed to %q through the copy", got)
	}
}

func TestDefaultLimiter(t *testing.T) {
	t.Parallel()
	c, err := NewClient("acme", testToken)
	if err != nil {
		t.Fatal(err)
	}
	wl, ok := c.limiter.(*WindowLimiter)
	if !ok {
		t.Fatalf("default limiter is %T, want *WindowLimiter", c.limiter)
	}
	if wl.Limit() != 10 || wl.Window() != 10*time.Second {
		t.Errorf("default limiter = %d per %s, want 10 per 10s", wl.Limit(), wl.Window())
	}
}

func TestUserAgentOption(t *testing.T) {
	t.Parallel()
	env := setup(t, WithUserAgent("custom/2"))
	env.mux.HandleFunc("GET /stages", func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("User-Agent"); got != "custom/2" {
			t.Errorf("User-Agent = %q, want custom/2", got)
		}
		writeJSON(w, 200, `{"stages":[]}`)
	})
	if _, _, err := env.client.Accounts.ListStages(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRequestHookAndLimiterSeeEveryAttempt(t *testing.T) {
	t.Parallel()
	env := setup(t)
	calls := 0
	env.mux.HandleFunc("GET /candidates/{id}", func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("X-Rate-Limit-Limit", "10")
		w.Header().Set("X-Rate-Limit-Remaining", "7")
		w.Header().Set("X-Rate-Limit-Reset", "1700000000")
		if calls == 1 {
			writeJSON(w, 503, `{"error":"Service unavailable"}`)
			return
		}
		writeJSON(w, 200, `{"candidate":{"id":"abc","name":"A B"}}`)
	})
	cand, resp, err := env.client.Candidates.Get(context.Background(), "abc")
	if err != nil {
		t.Fatal(err)
	}
	if cand.ID != "abc" {
		t.Errorf("ID = %q", cand.ID)
	}
	wantRate := Rate{Limit: 10, Remaining: 7, Reset: time.Unix(1700000000, 0)}
	if diff := cmp.Diff(wantRate, resp.Rate); diff != "" {
		t.Errorf("Rate mismatch (-want +got):\n%s", diff)
	}
	got := env.recordedEvents()
	want := []RequestEvent{
		{Method: "GET", Route: "GET /candidates/{id}", Status: 503, Attempt: 1},
		{Method: "GET", Route: "GET /candidates/{id}", Status: 200, Attempt: 2},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(RequestEvent{}, "Duration", "Err")); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
	if len(got) == 2 && (!errors.Is(got[0].Err, ErrUnavailable) || got[1].Err != nil) {
		t.Errorf("event errors = %v, %v; want unavailable, nil", got[0].Err, got[1].Err)
	}
	if diff := cmp.Diff([]Priority{PriorityRead, PriorityRead}, env.limiter.recordedWaits()); diff != "" {
		t.Errorf("limiter waits mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Rate{wantRate, wantRate}, env.limiter.recordedObserved()); diff != "" {
		t.Errorf("limiter observed mismatch (-want +got):\n%s", diff)
	}
}

func TestParseRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers map[string]string
		want    Rate
	}{
		{"all headers", map[string]string{"X-Rate-Limit-Limit": "10", "X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "1436356721"},
			Rate{Limit: 10, Remaining: 0, Reset: time.Unix(1436356721, 0)}},
		{"none", nil, Rate{}},
		{"remaining missing is not zero remaining", map[string]string{"X-Rate-Limit-Limit": "10", "X-Rate-Limit-Reset": "1436356721"},
			Rate{Limit: 10}},
		{"garbage reset", map[string]string{"X-Rate-Limit-Remaining": "3", "X-Rate-Limit-Reset": "soon"}, Rate{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			if diff := cmp.Diff(tt.want, parseRate(h)); diff != "" {
				t.Errorf("parseRate mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	t.Parallel()
	c, err := NewClient("acme", testToken, WithRetry(10, 100*time.Millisecond, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 8; n++ {
		full := min(100*time.Millisecond<<(n-1), time.Second)
		for range 20 {
			d := c.backoff(n)
			if d < full/2 || d > full {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n, d, full/2, full)
			}
		}
	}
}

// TestRedirectToAnotherHostIsRefused: the token never follows a redirect
// off the base URL's origin, with the client's own HTTP client and with one
// supplied without a redirect policy (the tracing transport's).
func TestRedirectToAnotherHostIsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
	}{
		{"own HTTP client", nil},
		{"supplied HTTP client", []Option{WithHTTPClient(&http.Client{Transport: http.DefaultTransport})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stolen atomic.Bool
			elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				stolen.Store(true)
			}))
			t.Cleanup(elsewhere.Close)
			env := setup(t, tt.opts...)
			env.mux.HandleFunc("GET /stages", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere.URL+"/steal", http.StatusFound)
			})
			_, _, err := env.client.Accounts.ListStages(context.Background())
			if err == nil {
				t.Fatal("redirect to another host was followed")
			}
			if stolen.Load() {
				t.Error("the request reached the other host")
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}
