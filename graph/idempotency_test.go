package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// Tests of createCandidate's idempotency keys over the real handler.

// queryWithHeaders POSTs a GraphQL request with extra headers.
func (e *testEnv) queryWithHeaders(h http.Header, q string, v vars) gqlResponse {
	e.t.Helper()
	body, err := json.Marshal(map[string]any{"query": q, "variables": v})
	if err != nil {
		e.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/query", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header = h.Clone()
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("POST /query: %v", err)
	}
	defer resp.Body.Close()
	return e.decode(resp)
}

// createWithKey runs createCandidate for email with the idempotency key in
// the input (field) or the header.
func createWithKey(env *testEnv, job, email, key string, inHeader bool) gqlResponse {
	in := map[string]any{"jobShortcode": job, "firstName": "Ida", "lastName": "Empotent", "email": email}
	h := http.Header{}
	if inHeader {
		h.Set("Idempotency-Key", key)
	} else {
		in["idempotencyKey"] = key
	}
	return env.queryWithHeaders(h, createMutation, vars{"in": in})
}

func decodeCreate(t *testing.T, resp gqlResponse) payloadOut {
	t.Helper()
	if len(resp.Errors) > 0 {
		t.Fatalf("createCandidate failed: %s", resp.Raw)
	}
	var out createOut
	if err := json.Unmarshal(resp.Data, &out); err != nil {
		t.Fatal(err)
	}
	return out.CreateCandidate
}

func TestCreateCandidateIdempotencyKey(t *testing.T) {
	t.Parallel()
	for _, inHeader := range []bool{false, true} {
		name := map[bool]string{false: "input field", true: "header"}[inHeader]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, withSimOptions(simulator.WithCandidates(5)))
			job := publishedJob(t, env.sim)
			env.sim.ResetCounts()
			first := decodeCreate(t, createWithKey(env, job.Shortcode, "ida@example.com", "retry-key-1", inHeader))
			second := decodeCreate(t, createWithKey(env, job.Shortcode, "ida@example.com", "retry-key-1", inHeader))
			if first.Candidate == nil || second.Candidate == nil || first.Candidate["id"] != second.Candidate["id"] {
				t.Fatalf("repeat returned another result: first %v, second %v", first, second)
			}
			if first.Candidate["email"] != "ida@example.com" || second.Candidate["job"] == nil {
				t.Errorf("replayed candidate lacks fields: %v", second.Candidate)
			}
			if got := env.sim.RequestCount(routeCreate); got != 1 {
				t.Errorf("%d creates reached Workable, want 1", got)
			}
			// Another key is another create (Workable then says the
			// candidate exists).
			third := decodeCreate(t, createWithKey(env, job.Shortcode, "ida@example.com", "retry-key-2", inHeader))
			if len(third.UserErrors) != 1 || third.UserErrors[0].Code != UserErrorAlreadyExists {
				t.Errorf("a new key = %+v, want Workable's ALREADY_EXISTS", third)
			}
			if got := env.sim.RequestCount(routeCreate); got != 2 {
				t.Errorf("%d creates reached Workable, want 2", got)
			}
		})
	}
}

func TestCreateCandidateIdempotencyKeyErrors(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withSimOptions(simulator.WithCandidates(5)))
	job := publishedJob(t, env.sim)
	decodeCreate(t, createWithKey(env, job.Shortcode, "first@example.com", "used-key", false))
	env.sim.ResetCounts()

	in := func(email string, key any) map[string]any {
		m := map[string]any{"jobShortcode": job.Shortcode, "firstName": "A", "lastName": "B", "email": email}
		if key != nil {
			m["idempotencyKey"] = key
		}
		return m
	}
	tests := []struct {
		name     string
		header   []string
		input    map[string]any
		wantCode string
	}{
		{"reused with another input", nil, in("other@example.com", "used-key"), UserErrorIdempotencyKeyReused},
		{"reused through the header", []string{"used-key"}, in("other@example.com", nil), UserErrorIdempotencyKeyReused},
		{"empty key", nil, in("x@example.com", ""), UserErrorInvalid},
		{"key with a space", nil, in("x@example.com", "a key"), UserErrorInvalid},
		{"key too long", nil, in("x@example.com", strings.Repeat("k", 256)), UserErrorInvalid},
		{"non-ASCII key", []string{"clé"}, in("x@example.com", nil), UserErrorInvalid},
		{"header and field differ", []string{"one"}, in("x@example.com", "two"), UserErrorInvalid},
		{"two headers", []string{"one", "two"}, in("x@example.com", nil), UserErrorInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.header {
				h.Add("Idempotency-Key", v)
			}
			out := decodeCreate(t, env.queryWithHeaders(h, createMutation, vars{"in": tt.input}))
			if out.Candidate != nil || len(out.UserErrors) != 1 || out.UserErrors[0].Code != tt.wantCode ||
				strings.Join(out.UserErrors[0].Field, ".") != "input.idempotencyKey" {
				t.Errorf("payload = %+v, want one %s on input.idempotencyKey", out, tt.wantCode)
			}
		})
	}
	if got := env.sim.TotalRequests(); got != 0 {
		t.Errorf("%d Workable calls for refused keys, want 0: %v", got, env.sim.RequestCounts())
	}
}

// enteredStore wraps a Store and reports every Do call on entered.
type enteredStore struct {
	idempotency.Store
	entered chan struct{}
}

func (s enteredStore) Do(ctx context.Context, key, fp string, ttl time.Duration, fn func(context.Context) ([]byte, error)) ([]byte, bool, error) {
	s.entered <- struct{}{}
	return s.Store.Do(ctx, key, fp, ttl, fn)
}

// gateCreates holds every create request until release is closed, after
// signalling on started.
type gateCreates struct {
	started chan struct{}
	release chan struct{}
}

func (g gateCreates) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost {
		g.started <- struct{}{}
		<-g.release
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestCreateCandidateIdempotencyConcurrent: concurrent repeats wait for the
// first and get its result; Workable sees one create.
func TestCreateCandidateIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	const n = 6
	store := enteredStore{Store: idempotency.NewMemoryStore(), entered: make(chan struct{}, n)}
	gate := gateCreates{started: make(chan struct{}, n), release: make(chan struct{})}
	env := newTestEnv(t, withSimOptions(simulator.WithCandidates(5)),
		withClientOptions(workable.WithHTTPClient(&http.Client{Transport: gate})),
		withHandler(func(c Config) http.Handler { c.Idempotency = store; return NewHandler(c) }))
	job := publishedJob(t, env.sim)
	env.sim.ResetCounts()

	results := make([]gqlResponse, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i] = createWithKey(env, job.Shortcode, "same@example.com", "concurrent-key", i%2 == 0) })
	}
	// Every request is inside Do while the first create is held upstream:
	// the others can only wait for it.
	for range n {
		<-store.entered
	}
	<-gate.started
	close(gate.release)
	wg.Wait()

	var id any
	for i, r := range results {
		out := decodeCreate(t, r)
		if out.Candidate == nil {
			t.Fatalf("request %d: no candidate: %s", i, r.Raw)
		}
		if i == 0 {
			id = out.Candidate["id"]
		} else if out.Candidate["id"] != id {
			t.Errorf("request %d got candidate %v, want %v", i, out.Candidate["id"], id)
		}
	}
	if got := env.sim.RequestCount(routeCreate); got != 1 {
		t.Errorf("%d creates reached Workable, want 1", got)
	}
}

// TestCreateCandidateIdempotencyUnknownOutcome: a create whose outcome is
// unknown keeps its key locked; a retry with it makes no second create.
func TestCreateCandidateIdempotencyUnknownOutcome(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withSimOptions(simulator.WithCandidates(5)))
	job := publishedJob(t, env.sim)
	env.sim.InjectFault(routeCreate, simulator.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	env.sim.ResetCounts()
	e := createWithKey(env, job.Shortcode, "maybe@example.com", "unknown-key", true).requireCode(t, CodeUpstreamUnavailable)
	if !strings.Contains(e.Message, "may or may not") {
		t.Errorf("first answer %q does not say the outcome is unknown", e.Message)
	}
	e = createWithKey(env, job.Shortcode, "maybe@example.com", "unknown-key", true).requireCode(t, CodeUpstreamUnavailable)
	if !strings.Contains(e.Message, "earlier request with this idempotency key") {
		t.Errorf("repeat answer %q does not point at the earlier request", e.Message)
	}
	if got := env.sim.RequestCount(routeCreate); got != 1 {
		t.Errorf("%d creates reached Workable, want 1", got)
	}
}

// TestCreateCandidateStoreUnavailable: while the idempotency store (Redis)
// does not answer, createCandidate with a key is refused before anything
// goes to Workable, with the retryable STORE_UNAVAILABLE and a retryAfter,
// never INTERNAL; once Redis answers, the same request creates the
// candidate.
func TestCreateCandidateStoreUnavailable(t *testing.T) {
	t.Parallel()
	srv := redistest.Mini(t)
	store := idempotency.NewRedisStore(srv.Client, srv.Prefix+"idem:")
	env := newTestEnv(t, withSimOptions(simulator.WithCandidates(5)),
		withHandler(func(c Config) http.Handler { c.Idempotency = store; return NewHandler(c) }))
	job := publishedJob(t, env.sim)
	env.sim.ResetCounts()

	srv.Mini.Close()
	resp := createWithKey(env, job.Shortcode, "outage@example.com", "outage-key", false)
	if len(resp.Errors) != 1 {
		t.Fatalf("createCandidate with Redis down = %s, want one error", resp.Raw)
	}
	ext := resp.Errors[0].Extensions
	if ext["code"] != CodeStoreUnavailable {
		t.Errorf("code = %v, want %s", ext["code"], CodeStoreUnavailable)
	}
	if ra, ok := ext["retryAfter"].(float64); !ok || ra < 1 {
		t.Errorf("retryAfter = %v, want a positive number of seconds", ext["retryAfter"])
	}
	if got := env.sim.RequestCount(routeCreate); got != 0 {
		t.Errorf("%d creates reached Workable while the store was down, want 0", got)
	}

	if err := srv.Mini.Restart(); err != nil {
		t.Fatal(err)
	}
	out := decodeCreate(t, createWithKey(env, job.Shortcode, "outage@example.com", "outage-key", false))
	if out.Candidate == nil {
		t.Fatalf("retry once Redis answers = %+v, want the candidate", out)
	}
	if got := env.sim.RequestCount(routeCreate); got != 1 {
		t.Errorf("%d creates reached Workable, want 1", got)
	}
}
