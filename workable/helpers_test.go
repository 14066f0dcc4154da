package workable

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testToken is the token every test client uses; no error text may contain it.
const testToken = "tok-S3CR3T-5f1e9d"

// testEnv is a client wired to an httptest server whose API mux is mounted
// under /spi/v3/, as go-github's tests do: a request built from a wrong
// absolute URL misses the mount and fails the test.
type testEnv struct {
	client  *Client
	mux     *http.ServeMux // patterns relative to /spi/v3, e.g. "GET /jobs"
	server  *httptest.Server
	limiter *recordingLimiter

	mu     sync.Mutex
	events []RequestEvent
}

func setup(t *testing.T, opts ...Option) *testEnv {
	t.Helper()
	return newTestEnv(t, false, opts...)
}

// setupInProcess is setup with the mux called in process instead of over
// an httptest server, for tests in a testing/synctest bubble (a real socket
// is not durably blocking): the client's waits (429, backoff) then take
// virtual time, which the test reads with time.Since.
func setupInProcess(t *testing.T, opts ...Option) *testEnv {
	t.Helper()
	return newTestEnv(t, true, opts...)
}

func newTestEnv(t *testing.T, inProcess bool, opts ...Option) *testEnv {
	t.Helper()
	env := &testEnv{mux: http.NewServeMux(), limiter: &recordingLimiter{}}
	env.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"error":"no handler"}`, http.StatusTeapot)
	})
	root := http.NewServeMux()
	root.Handle("/spi/v3/", http.StripPrefix("/spi/v3", env.mux))
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside /spi/v3/: %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"error":"outside the API"}`, http.StatusTeapot)
	})
	base := []Option{WithBaseURL("http://workable.test/spi/v3/"), WithHTTPClient(&http.Client{Transport: inProcessTransport{root}})}
	if !inProcess {
		env.server = httptest.NewServer(root)
		t.Cleanup(env.server.Close)
		base = []Option{WithBaseURL(env.server.URL + "/spi/v3/")}
	}
	base = append(base,
		WithRateLimiter(env.limiter),
		WithRetry(3, time.Millisecond, 4*time.Millisecond),
		WithRequestHook(func(_ context.Context, e RequestEvent) {
			env.mu.Lock()
			defer env.mu.Unlock()
			env.events = append(env.events, e)
		}),
	)
	c, err := NewClient("groove-tech", testToken, append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	env.client = c
	return env
}

func (e *testEnv) recordedEvents() []RequestEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.events)
}

// recordingLimiter admits everything and records what it was asked.
type recordingLimiter struct {
	mu       sync.Mutex
	waits    []Priority
	observed []Rate
	err      error // returned by Wait when set
}

func (l *recordingLimiter) Wait(ctx context.Context, p Priority) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits = append(l.waits, p)
	if l.err != nil {
		return l.err
	}
	return ctx.Err()
}

func (l *recordingLimiter) Observe(r Rate) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.observed = append(l.observed, r)
}

func (l *recordingLimiter) recordedWaits() []Priority {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.waits)
}

func (l *recordingLimiter) recordedObserved() []Rate {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.observed)
}

// checkRequest asserts the method, the standard headers and the exact query.
func checkRequest(t *testing.T, r *http.Request, method string, wantQuery url.Values) {
	t.Helper()
	if r.Method != method {
		t.Errorf("method = %s, want %s", r.Method, method)
	}
	if got, want := r.Header.Get("Authorization"), "Bearer "+testToken; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q, want application/json", got)
	}
	if got := r.Header.Get("User-Agent"); got != defaultUserAgent {
		t.Errorf("User-Agent = %q, want %q", got, defaultUserAgent)
	}
	if wantQuery == nil {
		wantQuery = url.Values{}
	}
	if diff := cmp.Diff(wantQuery, r.URL.Query()); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
}

// checkJSONBody asserts the request body is JSON equal to want, and that it
// is labelled as JSON.
func checkJSONBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	var got, wantV any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, b)
	}
	if err := json.Unmarshal([]byte(want), &wantV); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	if diff := cmp.Diff(wantV, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

// checkNoBody asserts a request carries no body.
func checkNoBody(t *testing.T, r *http.Request) {
	t.Helper()
	b, _ := io.ReadAll(r.Body)
	if len(b) != 0 {
		t.Errorf("unexpected request body %q", b)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		t.Errorf("Content-Type = %q on a request without body", ct)
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func ptr[T any](v T) *T { return &v }

// inProcessTransport serves a client's requests with a handler, in the
// caller's goroutine.
type inProcessTransport struct{ h http.Handler }

func (t inProcessTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}
