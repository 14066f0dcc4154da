package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rateHeaders reads the three X-Rate-Limit headers, failing when one is
// missing or not an integer.
func rateHeaders(t *testing.T, r response) (limit, remaining int, reset int64) {
	t.Helper()
	get := func(name string) int64 {
		v := r.header.Get(name)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("status %d: header %s = %q", r.status, name, v)
		}
		return n
	}
	return int(get("X-Rate-Limit-Limit")), int(get("X-Rate-Limit-Remaining")), get("X-Rate-Limit-Reset")
}

func TestEveryEndpointAndHeaders(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Unix(1_700_000_003, 0))
	ts := newTestServerAt(t, clock.Now, WithForbiddenToken("no-scope"))
	cand := ts.sim.Candidates()[3]
	newCand := map[string]any{"candidate": map[string]any{"name": "New Person", "email": "new.person@example.com"}}

	tests := []struct {
		method, path, token string
		body                any
		wantStatus          int
		wantKey             string // top-level key of the answer, "" for an unwrapped object
		wantErr             string
	}{
		{"GET", "/spi/v3/jobs", DemoToken, nil, 200, "jobs", ""},
		{"GET", "/spi/v3/jobs/GROOV005", DemoToken, nil, 200, "", ""},
		{"GET", "/spi/v3/candidates", DemoToken, nil, 200, "candidates", ""},
		{"GET", "/spi/v3/jobs/GROOV005/candidates", DemoToken, nil, 200, "candidates", ""},
		{"GET", "/spi/v3/candidates/" + cand.ID, DemoToken, nil, 200, "candidate", ""},
		{"POST", "/spi/v3/jobs/GROOV005/candidates", DemoToken, newCand, 201, "candidate", ""},
		{"PATCH", "/spi/v3/candidates/" + cand.ID, DemoToken, map[string]any{"candidate": map[string]any{"headline": "x"}}, 200, "candidate", ""},
		{"GET", "/spi/v3/candidates/" + cand.ID + "/activities", DemoToken, nil, 200, "activities", ""},
		{"GET", "/spi/v3/stages", DemoToken, nil, 200, "stages", ""},
		{"GET", "/spi/v3/members", DemoToken, nil, 200, "members", ""},
		{"GET", "/spi/v3/accounts", DemoToken, nil, 200, "accounts", ""},
		{"GET", "/spi/v3/accounts/groove-tech", DemoToken, nil, 200, "", ""},

		{"GET", "/spi/v3/jobs/NOPE", DemoToken, nil, 404, "", "Not found"},
		{"GET", "/spi/v3/candidates/abcdef0", DemoToken, nil, 404, "", "Not found"},
		{"GET", "/spi/v3/candidates/abcdef0/activities", DemoToken, nil, 404, "", "Not found"},
		{"GET", "/spi/v3/jobs/NOPE/candidates", DemoToken, nil, 404, "", "Not found"},
		{"GET", "/spi/v3/accounts/other", DemoToken, nil, 404, "", "Not found"},
		{"GET", "/spi/v3/nothing", DemoToken, nil, 404, "", "Not found"},
		{"GET", "/spi/v3/jobs/GROOV005/candidates/extra", DemoToken, nil, 404, "", "Not found"},
		{"GET", "/elsewhere", DemoToken, nil, 404, "", "Not found"},
		{"DELETE", "/spi/v3/jobs", DemoToken, nil, 405, "", "Method not allowed"},

		{"GET", "/spi/v3/jobs", "", nil, 401, "", "Not authorized"},
		{"GET", "/spi/v3/jobs", "wrong-token", nil, 401, "", "Not authorized"},
		{"GET", "/spi/v3/jobs", "no-scope", nil, 403, "", "Forbidden"},
		{"POST", "/spi/v3/jobs/GROOV005/candidates", "no-scope", newCand, 403, "", "Forbidden"},
		{"GET", "/spi/v3/jobs?limit=0", DemoToken, nil, 422, "", "Invalid parameter: limit"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.token, func(t *testing.T) {
			r := ts.call(t, tt.method, tt.path, tt.token, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if r.header.Get("Retry-After") != "" {
				t.Error("Retry-After is sent; Workable does not document it")
			}
			limit, remaining, reset := rateHeaders(t, r)
			if limit != 10 || remaining != 10 || reset != 1_700_000_010 {
				t.Errorf("rate headers %d/%d/%d, want 10/10/1700000010", limit, remaining, reset)
			}
			var body map[string]any
			r.decode(t, &body)
			if tt.wantErr != "" {
				if diff := cmp.Diff(tt.wantErr, body["error"]); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				return
			}
			if tt.wantKey != "" {
				if _, ok := body[tt.wantKey]; !ok {
					t.Errorf("answer lacks %q: %s", tt.wantKey, r.body)
				}
			} else if _, ok := body["id"]; !ok {
				t.Errorf("unwrapped answer lacks id: %s", r.body)
			}
		})
	}

	t.Run("bearer is case-insensitive, other schemes are not accepted", func(t *testing.T) {
		r := ts.call(t, "GET", "/spi/v3/stages", "", nil, "Authorization", "bearer "+DemoToken)
		if r.status != 200 {
			t.Errorf("lower-case bearer: %d", r.status)
		}
		r = ts.call(t, "GET", "/spi/v3/stages", "", nil, "Authorization", "Basic "+DemoToken)
		if r.status != 401 {
			t.Errorf("Basic: %d", r.status)
		}
	})
}

func TestTokensAndScopes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithTokens("t1", "t2"), WithScopedToken("reader", ScopeReadJobs, ScopeReadCandidates))
	tests := []struct {
		token, method, path string
		want                int
	}{
		{"t1", "GET", "/spi/v3/jobs", 200},
		{"t2", "GET", "/spi/v3/jobs", 200},
		{DemoToken, "GET", "/spi/v3/jobs", 401}, // replaced by WithTokens
		{"reader", "GET", "/spi/v3/candidates", 200},
		{"reader", "GET", "/spi/v3/members", 200},
		{"reader", "PATCH", "/spi/v3/candidates/ce4da98", 403},
	}
	for _, tt := range tests {
		r := ts.call(t, tt.method, tt.path, tt.token, map[string]any{"candidate": map[string]any{}})
		if r.status != tt.want {
			t.Errorf("%s %s as %s: %d, want %d", tt.method, tt.path, tt.token, r.status, tt.want)
		}
	}
	ts2 := newTestServer(t, WithScopedToken("jobs-only", ScopeReadJobs))
	if r := ts2.call(t, "GET", "/spi/v3/candidates", "jobs-only", nil); r.status != 403 {
		t.Errorf("jobs-only token on candidates: %d", r.status)
	}
	if r := ts2.call(t, "GET", "/spi/v3/candidates", DemoToken, nil); r.status != 200 {
		t.Errorf("DemoToken beside a scoped token: %d", r.status)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0) // a window boundary for 10 s windows
	clock := newFakeClock(start.Add(2 * time.Second))
	ts := newTestServerAt(t, clock.Now, WithRateLimit(3, 10*time.Second), WithTokens("a", "b"))

	wantLimit := 3
	check := func(t *testing.T, token string, wantStatus, wantRemaining int, wantReset int64) {
		t.Helper()
		r := ts.call(t, "GET", "/spi/v3/stages", token, nil)
		if r.status != wantStatus {
			t.Fatalf("status %d, want %d", r.status, wantStatus)
		}
		limit, remaining, reset := rateHeaders(t, r)
		if limit != wantLimit || remaining != wantRemaining || reset != wantReset {
			t.Fatalf("headers %d/%d/%d, want %d/%d/%d", limit, remaining, reset, wantLimit, wantRemaining, wantReset)
		}
		if wantStatus == 429 {
			if e := r.errBody(t); e.Error != "Too many requests" {
				t.Fatalf("429 body %s", r.body)
			}
			if r.header.Get("Retry-After") != "" {
				t.Fatal("429 carries Retry-After")
			}
		}
	}

	check(t, "a", 200, 2, 1_700_000_010)
	check(t, "a", 200, 1, 1_700_000_010)
	clock.Set(start.Add(9 * time.Second))
	check(t, "a", 200, 0, 1_700_000_010)
	check(t, "a", 429, 0, 1_700_000_010)
	check(t, "a", 429, 0, 1_700_000_010)
	check(t, "b", 200, 2, 1_700_000_010) // each token has its own budget
	if got := ts.sim.TooManyRequests(); got != 2 {
		t.Errorf("TooManyRequests = %d, want 2", got)
	}
	if got := ts.sim.RequestCount("GET /stages"); got != 6 {
		t.Errorf("429s are counted as requests: got %d, want 6", got)
	}

	// A 401 neither uses nor reports a token's budget.
	r := ts.call(t, "GET", "/spi/v3/stages", "zzz", nil)
	if _, remaining, _ := rateHeaders(t, r); r.status != 401 || remaining != 3 {
		t.Errorf("unknown token: %d, remaining %d", r.status, remaining)
	}

	// The next fixed window starts fresh at its boundary.
	clock.Set(start.Add(10 * time.Second))
	check(t, "a", 200, 2, 1_700_000_020)

	// Windows are fixed, not sliding: a burst at the end of one window and
	// the start of the next both pass.
	clock.Set(start.Add(19*time.Second + 900*time.Millisecond))
	check(t, "a", 200, 1, 1_700_000_020)
	check(t, "a", 200, 0, 1_700_000_020)
	clock.Set(start.Add(20 * time.Second))
	check(t, "a", 200, 2, 1_700_000_030)

	t.Run("sub-second windows round Reset up", func(t *testing.T) {
		ts.sim.SetRateLimit(1, 200*time.Millisecond)
		wantLimit = 1
		clock.Set(start.Add(100 * time.Millisecond))
		check(t, "a", 200, 0, 1_700_000_001)
		check(t, "a", 429, 0, 1_700_000_001)
		clock.Set(start.Add(200 * time.Millisecond))
		check(t, "a", 200, 0, 1_700_000_001)
	})
	t.Run("switched off", func(t *testing.T) {
		ts.sim.SetRateLimit(0, 0)
		for range 20 {
			r := ts.call(t, "GET", "/spi/v3/stages", "a", nil)
			limit, remaining, _ := rateHeaders(t, r)
			if r.status != 200 || limit != 10 || remaining != 10 {
				t.Fatalf("off: %d %d/%d", r.status, limit, remaining)
			}
		}
	})
}

func TestRequestCounts(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithCandidates(10))
	id := ts.sim.Candidates()[0].ID
	ts.call(t, "GET", "/spi/v3/jobs", DemoToken, nil)
	ts.call(t, "GET", "/spi/v3/jobs", "", nil)                       // 401
	ts.call(t, "GET", "/spi/v3/jobs?state=x", DemoToken, nil)        // 422
	ts.call(t, "GET", "/spi/v3/jobs/NOPE", DemoToken, nil)           // 404 on a route
	ts.call(t, "GET", "/spi/v3/unknown", DemoToken, nil)             // not a route
	ts.call(t, "DELETE", "/spi/v3/jobs", DemoToken, nil)             // not a route
	ts.call(t, "PATCH", "/spi/v3/candidates/"+id, DemoToken, "{bad") // 400
	ts.call(t, "GET", "/spi/v3/candidates/"+id+"/activities", DemoToken, nil)

	want := map[string]int{
		"GET /jobs":                       3,
		"GET /jobs/{shortcode}":           1,
		"PATCH /candidates/{id}":          1,
		"GET /candidates/{id}/activities": 1,
	}
	got := ts.sim.RequestCounts()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	got["GET /jobs"] = 100
	if ts.sim.RequestCount("GET /jobs") != 3 {
		t.Error("RequestCounts is not a copy")
	}
	if ts.sim.TotalRequests() != 6 {
		t.Errorf("TotalRequests = %d, want 6", ts.sim.TotalRequests())
	}
	ts.sim.ResetCounts()
	if ts.sim.TotalRequests() != 0 || len(ts.sim.RequestCounts()) != 0 || ts.sim.RequestCount("GET /jobs") != 0 {
		t.Error("ResetCounts left counts")
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithCandidates(10))

	status := func(path string) response {
		t.Helper()
		return ts.call(t, "GET", path, DemoToken, nil)
	}
	t.Run("status and times", func(t *testing.T) {
		ts.sim.InjectFault("GET /jobs", Fault{Status: 503, Times: 2})
		for i, want := range []int{503, 503, 200} {
			r := status("/spi/v3/jobs")
			if r.status != want {
				t.Fatalf("request %d: %d, want %d", i, r.status, want)
			}
			if want == 503 {
				if e := r.errBody(t); e.Error != "Service Unavailable" {
					t.Errorf("default body %s", r.body)
				}
				rateHeaders(t, r)
			}
		}
		if status("/spi/v3/stages").status != 200 {
			t.Error("fault leaked to another route")
		}
		if got := ts.sim.RequestCount("GET /jobs"); got != 3 {
			t.Errorf("faulty requests not counted: %d", got)
		}
	})
	t.Run("custom body, until cleared, route wins over *", func(t *testing.T) {
		ts.sim.InjectFault("*", Fault{Status: 500})
		ts.sim.InjectFault("GET /stages", Fault{Status: 502, Body: `{"error":"bad gateway"}`})
		for range 3 {
			r := status("/spi/v3/stages")
			if r.status != 502 || string(r.body) != `{"error":"bad gateway"}` {
				t.Fatalf("stages: %d %s", r.status, r.body)
			}
			if r := status("/spi/v3/members"); r.status != 500 {
				t.Fatalf("members: %d", r.status)
			}
		}
		ts.sim.ClearFaults()
		if r := status("/spi/v3/stages"); r.status != 200 {
			t.Fatalf("after ClearFaults: %d", r.status)
		}
	})
	t.Run("429 faults are counted", func(t *testing.T) {
		before := ts.sim.TooManyRequests()
		ts.sim.InjectFault("GET /members", Fault{Status: 429, Times: 1})
		if r := status("/spi/v3/members"); r.status != 429 {
			t.Fatalf("%d", r.status)
		}
		if got := ts.sim.TooManyRequests(); got != before+1 {
			t.Errorf("TooManyRequests %d, want %d", got, before+1)
		}
	})
	t.Run("auth comes first", func(t *testing.T) {
		ts.sim.InjectFault("GET /accounts", Fault{Status: 500, Times: 1})
		if r := ts.call(t, "GET", "/spi/v3/accounts", "", nil); r.status != 401 {
			t.Fatalf("%d", r.status)
		}
		if r := status("/spi/v3/accounts"); r.status != 500 {
			t.Fatalf("fault not kept for an authorised request: %d", r.status)
		}
	})
	t.Run("delay then status, delay only", func(t *testing.T) {
		ts.sim.InjectFault("GET /accounts", Fault{Status: 504, Delay: time.Millisecond, Times: 1})
		if r := status("/spi/v3/accounts"); r.status != 504 {
			t.Fatalf("%d", r.status)
		}
		ts.sim.InjectFault("GET /accounts", Fault{Delay: time.Millisecond, Times: 1})
		if r := status("/spi/v3/accounts"); r.status != 200 {
			t.Fatalf("delay-only fault: %d", r.status)
		}
	})
}

// TestFaultDelayHonoursContext proves a delayed handler returns when the
// client gives up: a one-hour delay would otherwise hang the test. POST
// matters: net/http only notices a gone client once the body is read.
func TestFaultDelayHonoursContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		route, method, path, body string
	}{
		{"GET /jobs", "GET", "/spi/v3/jobs", ""},
		{"POST /jobs/{shortcode}/candidates", "POST", "/spi/v3/jobs/GROOV005/candidates",
			`{"candidate":{"name":"A B","email":"a@b.c"}}`},
		{"PATCH /candidates/{id}", "PATCH", "/spi/v3/candidates/ce4da98", `{"candidate":{"headline":"x"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.route, func(t *testing.T) {
			t.Parallel()
			sim := New(WithCandidates(1))
			sim.InjectFault(tt.route, Fault{Status: 500, Delay: time.Hour})
			reached, returned := make(chan struct{}), make(chan struct{})
			h := sim.Handler()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(reached)
				h.ServeHTTP(w, r)
				close(returned)
			}))
			defer srv.Close()

			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() {
				req, _ := http.NewRequestWithContext(ctx, tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
				req.Header.Set("Authorization", "Bearer "+DemoToken)
				resp, err := srv.Client().Do(req)
				if err == nil {
					resp.Body.Close()
				}
				errc <- err
			}()
			<-reached
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("client error %v, want context.Canceled", err)
			}
			select {
			case <-returned:
			case <-time.After(30 * time.Second): // a failure guard, not synchronisation
				t.Fatal("handler still waiting after the client cancelled")
			}
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithCandidates(1))
	big := `{"candidate":{"name":"A B","email":"a@b.c","summary":"` + strings.Repeat("x", maxBodyBytes) + `"}}`
	r := ts.call(t, "POST", "/spi/v3/jobs/GROOV005/candidates", DemoToken, big)
	if r.status != http.StatusRequestEntityTooLarge || r.errBody(t).Error == "" {
		t.Errorf("status %d body %.100s", r.status, r.body)
	}
	rateHeaders(t, r)
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithCandidates(50), WithRateLimit(1000, time.Hour))
	ids := ts.sim.Candidates()
	// send may not call t.Fatal: it runs outside the test goroutine.
	send := func(method, path string, body string) (int, error) {
		req, err := http.NewRequest(method, ts.srv.URL+path, strings.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+DemoToken)
		resp, err := ts.srv.Client().Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, err
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				email := fmt.Sprintf("c%d-%d@example.com", g, i)
				calls := []struct {
					method, path, body string
					want               int
				}{
					{"POST", "/spi/v3/jobs/GROOV002/candidates", `{"candidate":{"name":"C C","email":"` + email + `"}}`, 201},
					{"PATCH", "/spi/v3/candidates/" + ids[i].ID, `{"candidate":{"tags":["` + email + `"]}}`, 200},
					{"GET", "/spi/v3/candidates?limit=100", "", 200},
				}
				for _, c := range calls {
					if got, err := send(c.method, c.path, c.body); err != nil || got != c.want {
						t.Errorf("%s %s: %d %v, want %d", c.method, c.path, got, err, c.want)
					}
				}
				ts.sim.RequestCounts()
			}
		}()
	}
	wg.Wait()
	all := ts.sim.Candidates()
	if len(all) != 50+80 {
		t.Fatalf("%d candidates, want 130", len(all))
	}
	for i := 1; i < len(all); i++ {
		if mustHex(t, all[i-1].ID) >= mustHex(t, all[i].ID) {
			t.Fatalf("ids not ascending at %d", i)
		}
	}
	if got := ts.sim.TotalRequests(); got != 240 {
		t.Errorf("TotalRequests = %d, want 240", got)
	}
}
