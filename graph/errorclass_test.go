package graph

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// The cache's rules for every class of Workable failure, pinned in two
// tables: a read that fails while an expired copy is held, and a candidate
// write that fails while candidate lists are cached. Each row says what the
// client is served (a stale copy, an error code, nothing), how many times
// the call reached Workable (what the client's own retries do), what is
// cached or invalidated, and what a retry of the request costs once
// Workable answers again.

// errorClass is one class of Workable failure, installed on a route.
type errorClass struct {
	name string
	// install makes route fail (fault on the simulator, or a dropped
	// connection on the proxy in front of it).
	install func(env *testEnv, drop *dropper, route string)
}

// dropper is a proxy in front of the simulator that, for one route,
// closes the connection after reading the request and before any answer:
// a network failure after the request was sent. It counts the requests of
// that route it sees, dropped or passed on.
type dropper struct {
	method, path string // path prefix under /spi/v3/
	on           atomic.Bool
	seen         atomic.Int64
}

func (d *dropper) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == d.method && strings.HasPrefix(r.URL.Path, "/spi/v3/"+d.path) {
			d.seen.Add(1)
			if d.on.Load() {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					conn.Close()
				}
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func faultClass(name string, f simulator.Fault) errorClass {
	return errorClass{name: name, install: func(env *testEnv, _ *dropper, route string) { env.sim.InjectFault(route, f) }}
}

// errorClasses are the classes of failure the tables cover. The timeout is
// the client's per-call timeout (errorClassCallTimeout) running out.
func errorClasses() []errorClass {
	return []errorClass{
		faultClass("401", simulator.Fault{Status: http.StatusUnauthorized}),
		faultClass("403", simulator.Fault{Status: http.StatusForbidden}),
		faultClass("404", simulator.Fault{Status: http.StatusNotFound}),
		faultClass("422", simulator.Fault{Status: http.StatusUnprocessableEntity,
			Body: `{"error":"Validation failed","validation_errors":{"email":["is invalid"]}}`}),
		faultClass("429", simulator.Fault{Status: http.StatusTooManyRequests}),
		faultClass("5xx", simulator.Fault{Status: http.StatusBadGateway}),
		faultClass("timeout", simulator.Fault{Delay: time.Hour}),
		{name: "network", install: func(_ *testEnv, d *dropper, _ string) { d.on.Store(true) }},
	}
}

// errorClassCallTimeout is the per-call timeout of the tables' clients.
const errorClassCallTimeout = 150 * time.Millisecond

// errorClassOpts make a gateway with the response cache, whose client tries
// a read twice, does not wait out a 429 (the client's own tests cover that)
// and gives each call errorClassCallTimeout; d drops the connections of its
// route when on.
func errorClassOpts(d *dropper) []envOption {
	return []envOption{withResponseCache(), withSimProxy(d.wrap), withClientOptions(
		workable.WithRetry(2, time.Millisecond, 2*time.Millisecond),
		workable.WithRateLimitRetries(0),
		workable.WithRequestTimeout(errorClassCallTimeout))}
}

// errorClassEnv is a gateway with an in-process cache and errorClassOpts.
func errorClassEnv(t *testing.T, d *dropper) *testEnv {
	t.Helper()
	return econEnv(t, backends()[0], errorClassOpts(d)...)
}

// TestReadErrorClasses: a candidate read fails while its expired copy is
// held. Only a failure that may pass (429, 5xx, timeout, network) is
// answered with the stale copy, flagged; a 401 or 403 is an error, never
// hidden behind old data; a 404 means the candidate is gone, and that
// answer is cached like any other. A stale answer is not cached as a
// response, so once Workable answers again the next query reads it (1
// call), while the cached 404 costs none.
func TestReadErrorClasses(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		stale    bool   // the stale copy is served
		code     string // else the error's code ("" for none)
		gone     bool   // else the candidate reads null
		attempts int64  // GET /candidates/{id} reaching Workable during the failure
		retry    int    // Workable calls of the same query once the fault is cleared
	}{
		"401":     {code: CodeWorkableAuthFailed, attempts: 1, retry: 1},
		"403":     {code: CodeWorkableAuthFailed, attempts: 1, retry: 1},
		"404":     {gone: true, attempts: 1, retry: 0},
		"422":     {code: CodeBadUserInput, attempts: 1, retry: 1},
		"429":     {stale: true, attempts: 1, retry: 1},
		"5xx":     {stale: true, attempts: 2, retry: 1},
		"timeout": {stale: true, attempts: 2, retry: 1},
		"network": {stale: true, attempts: 2, retry: 1},
	}
	for _, class := range errorClasses() {
		w, ok := want[class.name]
		if !ok {
			t.Fatalf("no expectation for class %s", class.name)
		}
		t.Run(class.name, func(t *testing.T) {
			t.Parallel()
			d := &dropper{method: http.MethodGet, path: "candidates/"}
			// In process, in a testing/synctest bubble: time.Sleep makes the
			// copy expire.
			econBubble(t, backends()[0], func(t *testing.T, env *testEnv) {
				c := env.sim.Candidates()[5]
				v := vars{"id": c.ID}
				fresh := env.query(qNameAndDetail, v)
				if len(fresh.Errors) > 0 {
					t.Fatalf("first query: %s", fresh.Raw)
				}
				time.Sleep(cache.DefaultTTLs().Candidate.Fresh * 2) // expired, still held
				class.install(env, d, "GET /candidates/{id}")
				before := d.seen.Load()

				resp := env.query(qNameAndDetail, v)
				ext := extensionsOf(t, resp)
				switch {
				case w.stale:
					if len(resp.Errors) > 0 || !ext.Stale || string(resp.Data) != string(fresh.Data) {
						t.Errorf("want the stale copy, flagged; got %s", resp.Raw)
					}
				case w.gone:
					if len(resp.Errors) > 0 || ext.Stale || string(resp.Data) != `{"candidate":null}` {
						t.Errorf("want candidate null, not stale; got %s", resp.Raw)
					}
				default:
					if ext.Stale {
						t.Errorf("a %s was hidden behind the stale copy: %s", class.name, resp.Raw)
					}
					resp.requireCode(t, w.code)
				}
				if n := d.seen.Load() - before; n != w.attempts {
					t.Errorf("the failing read reached Workable %d times, want %d", n, w.attempts)
				}

				env.sim.ClearFaults()
				d.on.Store(false)
				env.sim.ResetCounts()
				again := env.query(qNameAndDetail, v)
				if n := env.sim.TotalRequests(); n != w.retry {
					t.Errorf("the query once Workable answers again made %d calls, want %d: %s", n, w.retry, again.Raw)
				}
				if ext := extensionsOf(t, again); len(again.Errors) > 0 || ext.Stale {
					t.Errorf("the query once Workable answers again: %s", again.Raw)
				}
			}, errorClassOpts(d)...)
		})
	}
}

// TestWriteErrorClasses: createCandidate fails while candidate lists are
// cached, with and without an idempotency key. A write that Workable
// refused (401, 403, 404, 422, 429) changed nothing, so the cached lists
// still count and the next list read costs nothing; a write whose outcome
// is unknown (5xx, timeout, a connection lost after sending) may have
// created the candidate, so the lists are invalidated and read again. A
// write is sent once: the client never retries one whose outcome it cannot
// know, and no row here waits out a 429.
func TestWriteErrorClasses(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		code        string // the error's code, or
		userError   string // the userError's code
		invalidated bool   // the next candidate list read calls Workable
	}{
		"401":     {code: CodeWorkableAuthFailed},
		"403":     {code: CodeWorkableAuthFailed},
		"404":     {userError: UserErrorNotFound},
		"422":     {userError: UserErrorInvalid},
		"429":     {code: CodeRateLimited},
		"5xx":     {code: CodeUpstreamUnavailable, invalidated: true},
		"timeout": {code: CodeUpstreamUnavailable, invalidated: true},
		"network": {code: CodeUpstreamUnavailable, invalidated: true},
	}
	for _, class := range errorClasses() {
		w, ok := want[class.name]
		if !ok {
			t.Fatalf("no expectation for class %s", class.name)
		}
		for _, keyed := range []bool{false, true} {
			name := class.name
			if keyed {
				name += "/idempotency-key"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				d := &dropper{method: http.MethodPost, path: "jobs/"}
				env := errorClassEnv(t, d)
				job := env.sim.Jobs()[0]
				env.mustQuery(qListJobs, nil, nil)
				class.install(env, d, "POST /jobs/{shortcode}/candidates")
				before := d.seen.Load()

				in := map[string]any{"jobShortcode": job.Shortcode, "firstName": "Error", "lastName": "Class",
					"email": "error.class@example.com"}
				if keyed {
					in["idempotencyKey"] = "error-class-" + class.name
				}
				resp := env.query(createMutation, vars{"in": in})
				switch {
				case w.code != "":
					resp.requireCode(t, w.code)
				default:
					var out createOut
					if err := json.Unmarshal(resp.Data, &out); err != nil {
						t.Fatalf("decode %s: %v", resp.Raw, err)
					}
					ues := out.CreateCandidate.UserErrors
					if len(ues) == 0 || ues[0].Code != w.userError || out.CreateCandidate.Candidate != nil {
						t.Errorf("want userError %s, got %s", w.userError, resp.Raw)
					}
				}
				if n := d.seen.Load() - before; n != 1 {
					t.Errorf("the write was sent %d times, want 1", n)
				}

				env.sim.ClearFaults()
				d.on.Store(false)
				env.sim.ResetCounts()
				env.mustQuery(qListJobs, nil, nil)
				calls := env.sim.RequestCount("GET /candidates")
				if got := calls > 0; got != w.invalidated {
					t.Errorf("after the failed write the cached lists were read again: %v, want %v (%d calls)", got, w.invalidated, calls)
				}
			})
		}
	}
}

// TestWriteSuccessStoresAndInvalidates: a successful create invalidates
// the cached lists (the new candidate is listed at once) and stores
// Workable's answer as the candidate's detail, so reading it costs no call.
func TestWriteSuccessStoresAndInvalidates(t *testing.T) {
	t.Parallel()
	env := errorClassEnv(t, &dropper{})
	job := env.sim.Jobs()[0]
	const email = "fresh.write@example.com"
	const byEmail = `query($e: String) { candidates(email: $e) { nodes { id } } }`
	type listOut struct {
		Candidates struct{ Nodes []struct{ ID string } }
	}
	var before listOut
	env.mustQuery(byEmail, vars{"e": email}, &before)
	if len(before.Candidates.Nodes) != 0 {
		t.Fatalf("a candidate with %s exists already: %+v", email, before)
	}
	var out createOut
	env.mustQuery(createMutation, vars{"in": map[string]any{"jobShortcode": job.Shortcode, "firstName": "Fresh",
		"lastName": "Write", "email": email}}, &out)
	id, _ := out.CreateCandidate.Candidate["id"].(string)
	if id == "" {
		t.Fatalf("no candidate created: %+v", out)
	}
	env.sim.ResetCounts()
	env.mustQuery(qNameAndDetail, vars{"id": id}, nil)
	if n := env.sim.TotalRequests(); n != 0 {
		t.Errorf("reading the created candidate made %d calls, want 0", n)
	}
	var after listOut
	env.mustQuery(byEmail, vars{"e": email}, &after)
	if n := env.sim.RequestCount("GET /candidates"); n != 1 {
		t.Errorf("the list after a create made %d calls, want 1", n)
	}
	if len(after.Candidates.Nodes) != 1 || after.Candidates.Nodes[0].ID != id {
		t.Errorf("the list after a create = %+v, want candidate %s", after, id)
	}
}
