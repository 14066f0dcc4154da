package workable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// allSentinels are checked in both directions: each error must match exactly
// the sentinels a test lists.
var allSentinels = []error{
	ErrNotFound, ErrUnauthorized, ErrRateLimited, ErrAlreadyExists, ErrValidation,
	ErrUnavailable, ErrOutcomeUnknown, context.DeadlineExceeded, context.Canceled,
}

func checkSentinels(t *testing.T, err error, want ...error) {
	t.Helper()
	for _, s := range allSentinels {
		wanted := false
		for _, w := range want {
			if w == s {
				wanted = true
			}
		}
		if got := errors.Is(err, s); got != wanted {
			t.Errorf("errors.Is(%v, %v) = %v, want %v", err, s, got, wanted)
		}
	}
}

func checkNoToken(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(s, testToken) {
			t.Errorf("error text contains the token: %s", s)
		}
	}
}

type reply struct {
	status  int
	body    string
	headers map[string]string
}

// scripted answers with replies in order, repeating the last one.
func scripted(replies ...reply) (http.HandlerFunc, *atomic.Int32) {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		rp := replies[min(i, len(replies)-1)]
		for k, v := range rp.headers {
			w.Header().Set(k, v)
		}
		writeJSON(w, rp.status, rp.body)
	}, &n
}

const okCandidate = `{"candidate":{"id":"abc","name":"A B","job":{"shortcode":"J","title":"T"},"created_at":"2015-07-01T00:00:00Z"}}`

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	type op int
	const (
		read op = iota
		write
	)
	tests := []struct {
		name         string
		op           op
		replies      []reply
		wantSentinel []error // nil with wantOK
		wantOK       bool
		wantAttempts int32
		wantText     string // substring of the error text
		check        func(t *testing.T, er *ErrorResponse)
	}{
		{name: "401", op: read, replies: []reply{{401, `{"error":"Not authorized"}`, nil}},
			wantSentinel: []error{ErrUnauthorized}, wantAttempts: 1, wantText: "GET /candidates/{id}: 401 Not authorized"},
		{name: "403", op: read, replies: []reply{{403, `{"error":"Forbidden"}`, nil}},
			wantSentinel: []error{ErrUnauthorized}, wantAttempts: 1, wantText: "403 Forbidden"},
		{name: "404", op: read, replies: []reply{{404, `{"error":"Not found"}`, nil}},
			wantSentinel: []error{ErrNotFound}, wantAttempts: 1, wantText: "workable: GET /candidates/{id}: 404 Not found"},
		{name: "404 keeps Workable's request id", op: read,
			replies:      []reply{{404, `{"error":"Not found"}`, map[string]string{"X-Request-Id": "5c1b7f7e-3d0a-4b8e-9f55-2e7c1a0d9b44"}}},
			wantSentinel: []error{ErrNotFound}, wantAttempts: 1, wantText: "workable: GET /candidates/{id}: 404 Not found",
			check: func(t *testing.T, er *ErrorResponse) {
				if er.RequestID != "5c1b7f7e-3d0a-4b8e-9f55-2e7c1a0d9b44" {
					t.Errorf("RequestID = %q, want the answer's X-Request-Id", er.RequestID)
				}
				if strings.Contains(er.Error(), er.RequestID) {
					t.Errorf("Error() = %q carries the request id", er.Error())
				}
			}},
		{name: "a request id that does not look like one is left out", op: read,
			replies:      []reply{{404, `{"error":"Not found"}`, map[string]string{"X-Request-Id": "id with spaces; and=more"}}},
			wantSentinel: []error{ErrNotFound}, wantAttempts: 1,
			check: func(t *testing.T, er *ErrorResponse) {
				if er.RequestID != "" {
					t.Errorf("RequestID = %q, want none", er.RequestID)
				}
			}},
		{name: "an overlong request id is left out", op: read,
			replies:      []reply{{404, `{"error":"Not found"}`, map[string]string{"X-Request-Id": strings.Repeat("a", 129)}}},
			wantSentinel: []error{ErrNotFound}, wantAttempts: 1,
			check: func(t *testing.T, er *ErrorResponse) {
				if er.RequestID != "" {
					t.Errorf("RequestID = %q, want none", er.RequestID)
				}
			}},
		{name: "404 on a write", op: write, replies: []reply{{404, `{"error":"Not found"}`, nil}},
			wantSentinel: []error{ErrNotFound}, wantAttempts: 1},
		{name: "400 matches no sentinel", op: read, replies: []reply{{400, `{"message":"bad request"}`, nil}},
			wantSentinel: nil, wantAttempts: 1, wantText: "400 bad request"},
		{name: "422 validation", op: write,
			replies:      []reply{{422, `{"error":"Validation failed","validation_errors":{"email":["is invalid"],"education_entries":["school is required"]}}`, nil}},
			wantSentinel: []error{ErrValidation}, wantAttempts: 1,
			wantText: "422 Validation failed (education_entries: school is required; email: is invalid)",
			check: func(t *testing.T, er *ErrorResponse) {
				want := map[string][]string{"email": {"is invalid"}, "education_entries": {"school is required"}}
				if diff := cmp.Diff(want, er.ValidationErrors); diff != "" {
					t.Errorf("ValidationErrors (-want +got):\n%s", diff)
				}
			}},
		{name: "422 already exists", op: write,
			replies:      []reply{{422, `{"error":"Validation failed","validation_errors":{"email":["candidate already exists"]}}`, nil}},
			wantSentinel: []error{ErrValidation, ErrAlreadyExists}, wantAttempts: 1},
		{name: "500 on a read is retried up to the attempt limit", op: read,
			replies:      []reply{{500, `{"error":"boom"}`, nil}},
			wantSentinel: []error{ErrUnavailable}, wantAttempts: 3, wantText: "500 boom"},
		{name: "503 then success on a read", op: read,
			replies: []reply{{503, `{"error":"request takes too long"}`, nil}, {200, okCandidate, nil}},
			wantOK:  true, wantAttempts: 2},
		{name: "500 on a write is not retried", op: write,
			replies:      []reply{{500, `{"error":"boom"}`, nil}, {201, `{"status":"created",` + okCandidate[1:], nil}},
			wantSentinel: []error{ErrUnavailable, ErrOutcomeUnknown}, wantAttempts: 1},
		{name: "502 on a PATCH is not retried", op: write,
			replies:      []reply{{502, `<html>bad gateway</html>`, nil}},
			wantSentinel: []error{ErrUnavailable, ErrOutcomeUnknown}, wantAttempts: 1, wantText: "502 Bad Gateway"},
		{name: "429 then success on a read", op: read,
			replies: []reply{{429, `{"error":"Too many requests"}`, map[string]string{"Retry-After": "2"}}, {200, okCandidate, nil}},
			wantOK:  true, wantAttempts: 2},
		{name: "429 then success on a write (Workable applied nothing)", op: write,
			replies: []reply{{429, `{"error":"Too many requests"}`, map[string]string{"Retry-After": "2"}}, {201, `{"status":"created",` + okCandidate[1:], nil}},
			wantOK:  true, wantAttempts: 2},
		{name: "429 retries are bounded", op: read,
			replies:      []reply{{429, `{"error":"Too many requests"}`, map[string]string{"Retry-After": "1"}}},
			wantSentinel: []error{ErrRateLimited}, wantAttempts: 4, // 1 + WithRateLimitRetries default 3
			check: func(t *testing.T, er *ErrorResponse) {
				if er.RetryAfter != time.Second {
					t.Errorf("RetryAfter = %s, want 1s", er.RetryAfter)
				}
			}},
		{name: "bad JSON on 200", op: read, replies: []reply{{200, `{"candidate":`, nil}},
			wantSentinel: []error{ErrUnavailable}, wantAttempts: 1, wantText: "decode response body"},
		{name: "200 without the candidate key", op: read, replies: []reply{{200, `{"id":"abc"}`, nil}},
			wantSentinel: []error{ErrUnavailable}, wantAttempts: 1},
		{name: "empty 200 body", op: read, replies: []reply{{200, ``, nil}},
			wantSentinel: []error{ErrUnavailable}, wantAttempts: 1},
	}
	// Each case runs in a synctest bubble: the waits of 429s (Retry-After)
	// and of backoff take virtual time.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				env := setupInProcess(t)
				h, n := scripted(tt.replies...)
				var err error
				switch tt.op {
				case read:
					env.mux.Handle("GET /candidates/{id}", h)
					_, _, err = env.client.Candidates.Get(context.Background(), "abc")
				case write:
					env.mux.Handle("POST /jobs/{shortcode}/candidates", h)
					_, _, err = env.client.Candidates.Create(context.Background(), "J", &NewCandidate{Firstname: "A", Lastname: "B", Email: "a@b.c"}, nil)
				}
				if got := n.Load(); got != tt.wantAttempts {
					t.Errorf("server saw %d attempts, want %d", got, tt.wantAttempts)
				}
				if got := int32(len(env.limiter.recordedWaits())); got != tt.wantAttempts {
					t.Errorf("limiter saw %d attempts, want %d", got, tt.wantAttempts)
				}
				if tt.wantOK {
					if err != nil {
						t.Fatalf("got error %v, want success", err)
					}
					return
				}
				if err == nil {
					t.Fatal("got success, want error")
				}
				checkSentinels(t, err, tt.wantSentinel...)
				checkNoToken(t, err)
				if !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("error %q does not contain %q", err, tt.wantText)
				}
				var er *ErrorResponse
				if tt.check != nil {
					if !errors.As(err, &er) {
						t.Fatalf("error %v is not an *ErrorResponse", err)
					}
					tt.check(t, er)
				}
			})
		})
	}
}

func TestRateLimitedWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		headers  func(now time.Time) map[string]string
		wantWait time.Duration
	}{
		{"Retry-After seconds", func(time.Time) map[string]string { return map[string]string{"Retry-After": "7"} }, 7 * time.Second},
		{"Retry-After HTTP date", func(now time.Time) map[string]string {
			return map[string]string{"Retry-After": now.Add(5 * time.Second).UTC().Format(http.TimeFormat)}
		}, 5 * time.Second},
		{"X-Rate-Limit-Reset", func(now time.Time) map[string]string {
			return map[string]string{"X-Rate-Limit-Limit": "10", "X-Rate-Limit-Remaining": "0",
				"X-Rate-Limit-Reset": strconv.FormatInt(now.Add(4*time.Second).Unix(), 10)}
		}, 4 * time.Second},
		{"later of both", func(now time.Time) map[string]string {
			return map[string]string{"Retry-After": "1", "X-Rate-Limit-Remaining": "0",
				"X-Rate-Limit-Reset": strconv.FormatInt(now.Add(4*time.Second).Unix(), 10)}
		}, 4 * time.Second},
		{"Reset alone without Remaining", func(now time.Time) map[string]string {
			return map[string]string{"X-Rate-Limit-Reset": strconv.FormatInt(now.Add(4*time.Second).Unix(), 10)}
		}, 4 * time.Second},
		{"no headers: 10 s", func(time.Time) map[string]string { return nil }, 10 * time.Second},
		{"reset in the past: no wait", func(now time.Time) map[string]string {
			return map[string]string{"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)}
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// In a bubble the clock starts on a whole second and stands
			// still while the client works: the wait is the virtual time
			// the call took.
			synctest.Test(t, func(t *testing.T) {
				now := time.Now()
				env := setupInProcess(t)
				h, n := scripted(reply{429, `{"error":"Too many requests"}`, tt.headers(now)}, reply{200, `{"stages":[]}`, nil})
				env.mux.Handle("GET /stages", h)
				if _, _, err := env.client.Accounts.ListStages(context.Background()); err != nil {
					t.Fatalf("ListStages: %v", err)
				}
				if n.Load() != 2 {
					t.Errorf("attempts = %d, want 2", n.Load())
				}
				if waited := time.Since(now); waited != tt.wantWait {
					t.Errorf("waited %s, want %s", waited, tt.wantWait)
				}
				// The limiter is held until the retry time, so concurrent callers
				// sharing it pause too.
				obs := env.limiter.recordedObserved()
				last := obs[len(obs)-2] // the synthetic observation precedes the 200's
				if last.Remaining != 0 || !last.Reset.Equal(now.Add(tt.wantWait)) {
					t.Errorf("limiter observed %+v, want Remaining 0 until %s", last, now.Add(tt.wantWait))
				}
			})
		})
	}
}

func TestRateLimitedPastDeadlineFailsAtOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		env := setupInProcess(t)
		h, n := scripted(reply{429, `{"error":"Too many requests"}`, map[string]string{"Retry-After": "30"}}, reply{200, `{"stages":[]}`, nil})
		env.mux.Handle("GET /stages", h)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _, err := env.client.Accounts.ListStages(ctx)
		checkSentinels(t, err, ErrRateLimited)
		if waited := time.Since(start); n.Load() != 1 || waited != 0 {
			t.Errorf("attempts = %d, waited %s; want 1 attempt and no wait", n.Load(), waited)
		}
	})
}

func TestLimiterRefusalIsRateLimited(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.limiter.err = fmt.Errorf("%w: no slot before deadline", ErrRateLimited)
	_, _, err := env.client.Jobs.List(context.Background(), nil)
	checkSentinels(t, err, ErrRateLimited)
	if len(env.recordedEvents()) != 0 {
		t.Error("a request was sent although the limiter refused")
	}
}

func TestBackoffStopsAtDeadline(t *testing.T) {
	t.Parallel()
	env := setup(t, WithRetry(5, time.Hour, time.Hour))
	h, n := scripted(reply{503, `{"error":"busy"}`, nil})
	env.mux.Handle("GET /stages", h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _, err := env.client.Accounts.ListStages(ctx)
	checkSentinels(t, err, ErrUnavailable)
	if n.Load() != 1 {
		t.Errorf("attempts = %d, want 1: a backoff past the deadline must not be waited", n.Load())
	}
}

func TestNetworkErrors(t *testing.T) {
	t.Parallel()

	// A transport whose connections are refused: nothing is sent. (A closed
	// listener's port could be reused by a parallel test's server.)
	refused := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		},
	}}

	hangUp := func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("response writer cannot hijack")
			return
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	}

	tests := []struct {
		name         string
		dead         bool
		write        bool
		wantSentinel []error
		wantAttempts int
	}{
		{name: "connection refused on a read is retried", dead: true, wantSentinel: []error{ErrUnavailable}, wantAttempts: 3},
		{name: "connection refused on a write is retried (nothing was sent)", dead: true, write: true,
			wantSentinel: []error{ErrUnavailable}, wantAttempts: 3},
		{name: "connection dropped on a read is retried", wantSentinel: []error{ErrUnavailable}, wantAttempts: 3},
		{name: "connection dropped on a write: outcome unknown, not retried", write: true,
			wantSentinel: []error{ErrUnavailable, ErrOutcomeUnknown}, wantAttempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []Option
			if tt.dead {
				opts = append(opts, WithHTTPClient(refused))
			}
			env := setup(t, opts...)
			env.mux.HandleFunc("GET /stages", hangUp)
			env.mux.HandleFunc("PATCH /candidates/{id}", hangUp)
			var err error
			if tt.write {
				_, _, err = env.client.Candidates.Update(context.Background(), "abc", CandidatePatch{Headline: Some("x")})
			} else {
				_, _, err = env.client.Accounts.ListStages(context.Background())
			}
			checkSentinels(t, err, tt.wantSentinel...)
			checkNoToken(t, err)
			if got := len(env.recordedEvents()); got != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		write        bool
		wantSentinel []error
		wantAttempts int
	}{
		{name: "read times out and is retried", wantSentinel: []error{ErrUnavailable, context.DeadlineExceeded}, wantAttempts: 2},
		{name: "write times out: outcome unknown, not retried", write: true,
			wantSentinel: []error{ErrUnavailable, ErrOutcomeUnknown, context.DeadlineExceeded}, wantAttempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t, WithRequestTimeout(30*time.Millisecond), WithRetry(2, time.Millisecond, time.Millisecond))
			release := make(chan struct{})
			t.Cleanup(func() { close(release) }) // runs before the server closes
			stall := func(w http.ResponseWriter, r *http.Request) {
				// The body must be consumed for the server to notice the
				// client hanging up.
				io.Copy(io.Discard, r.Body)
				select {
				case <-r.Context().Done():
				case <-release:
				}
			}
			env.mux.HandleFunc("GET /candidates/{id}", stall)
			env.mux.HandleFunc("POST /jobs/{shortcode}/candidates", stall)
			var err error
			if tt.write {
				_, _, err = env.client.Candidates.Create(context.Background(), "J", &NewCandidate{Email: "a@b.c"}, nil)
			} else {
				_, _, err = env.client.Candidates.Get(context.Background(), "abc")
			}
			checkSentinels(t, err, tt.wantSentinel...)
			checkNoToken(t, err)
			if got := len(env.recordedEvents()); got != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
			}
		})
	}
}

func TestCallerContextEnds(t *testing.T) {
	t.Parallel()
	env := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	env.mux.HandleFunc("GET /stages", func(w http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	})
	_, _, err := env.client.Accounts.ListStages(ctx)
	checkSentinels(t, err, context.Canceled)
	if got := len(env.recordedEvents()); got != 1 {
		t.Errorf("attempts = %d, want 1 (a cancelled call is not retried)", got)
	}
}

func TestOversizeBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		size    int
		wantErr bool
	}{
		{name: "exactly the cap is fine", status: 200, size: 200},
		{name: "one byte over", status: 200, size: 201, wantErr: true},
		{name: "oversize error body", status: 404, size: 5000, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t, WithMaxResponseBytes(200))
			env.mux.HandleFunc("GET /stages", func(w http.ResponseWriter, r *http.Request) {
				body := `{"stages":[]}`
				writeJSON(w, tt.status, body+strings.Repeat(" ", tt.size-len(body)))
			})
			_, _, err := env.client.Accounts.ListStages(context.Background())
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			checkSentinels(t, err, ErrUnavailable)
			if !strings.Contains(fmt.Sprint(err), "exceeds 200 bytes") {
				t.Errorf("error %q does not say the body was too large", err)
			}
			if got := len(env.recordedEvents()); got != 1 {
				t.Errorf("attempts = %d, want 1", got)
			}
		})
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	env := setup(t)
	// A hostile or buggy server echoing the Authorization header back.
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			auth := r.Header.Get("Authorization")
			writeJSON(w, status, fmt.Sprintf(`{"error":"bad token %s","validation_errors":{"%s":["%s"]}}`, auth, auth, auth))
		}
	}
	env.mux.Handle("GET /candidates/{id}", echo(401))
	env.mux.Handle("POST /jobs/{shortcode}/candidates", echo(422))
	env.mux.Handle("GET /stages", echo(500))
	ctx := context.Background()
	var errs []error
	_, _, err := env.client.Candidates.Get(ctx, "abc")
	errs = append(errs, err)
	_, _, err = env.client.Candidates.Create(ctx, "J", &NewCandidate{}, nil)
	errs = append(errs, err)
	_, _, err = env.client.Accounts.ListStages(ctx)
	errs = append(errs, err)
	for _, e := range env.recordedEvents() {
		errs = append(errs, e.Err)
	}
	for _, err := range errs {
		if err == nil {
			t.Fatal("want an error")
		}
		checkNoToken(t, err)
		var er *ErrorResponse
		if errors.As(err, &er) {
			for k, msgs := range er.ValidationErrors {
				if strings.Contains(k, testToken) || strings.Contains(strings.Join(msgs, " "), testToken) {
					t.Errorf("validation errors contain the token: %v", er.ValidationErrors)
				}
			}
		}
	}
}
