package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/telemetry"
	"github.com/workablegw/gateway/upstream"
)

// Tests of the process-wide part of the upstream economy around one shared
// fetch: it outlives the request that started it, a panic in it fails its
// callers instead of the process, and whole responses are shared only by
// callers of one role.

// missSignal is an Observer that reports every lookup that missed the
// cache for kind, just before the request goes on to the shared fetch.
type missSignal struct {
	kind   cache.Kind
	misses chan struct{}
}

func (m *missSignal) ObserveCache(kind, result string, n int) {
	if kind == string(m.kind) && result == telemetry.CacheMiss && n > 0 {
		m.misses <- struct{}{}
	}
}
func (*missSignal) ObserveStale(string)                          {}
func (*missSignal) ObserveRequest(string, string, time.Duration) {}

// callerHeader names a test request, so that a handler wrapper can tell
// requests apart.
const callerHeader = "X-Test-Caller"

// postWith POSTs a GraphQL request with ctx and the headers; it returns an
// error instead of failing the test, for use from any goroutine.
func postWith(ctx context.Context, url string, headers map[string]string, q string, v vars) (gqlResponse, error) {
	body, err := json.Marshal(map[string]any{"query": q, "variables": v})
	if err != nil {
		return gqlResponse{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/query", bytes.NewReader(body))
	if err != nil {
		return gqlResponse{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, val := range headers {
		req.Header.Set(k, val)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return gqlResponse{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return gqlResponse{}, err
	}
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return gqlResponse{}, fmt.Errorf("decode %q: %w", raw, err)
	}
	out.Status, out.Raw = resp.StatusCode, string(raw)
	return out, nil
}

// TestSharedFetchSurvivesItsCallerHangingUp: two requests for the same cold
// candidate share one Workable call; the first client hangs up while that
// call is in flight, and the second still gets its answer from it.
func TestSharedFetchSurvivesItsCallerHangingUp(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			var (
				arrived = make(chan struct{}, 2)
				release = make(chan struct{})
				calls   atomic.Int32
				once    sync.Once
			)
			releaseAll := func() { once.Do(func() { close(release) }) }
			t.Cleanup(releaseAll) // never leave the simulator's handler blocked
			// Hold every GET /candidates/{id} at the simulator until
			// released (or until the gateway gives the call up).
			hold := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/spi/v3/candidates/") {
						calls.Add(1)
						arrived <- struct{}{}
						select {
						case <-release:
						case <-r.Context().Done():
							return
						}
					}
					next.ServeHTTP(w, r)
				})
			}
			obs := &missSignal{kind: cache.KindCandidate, misses: make(chan struct{}, 2)}
			firstDone := make(chan struct{})
			env := econEnv(t, b, withSimProxy(hold), withObserver(obs), withHandler(func(c Config) http.Handler {
				h := NewHandler(c)
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Header.Get(callerHeader) == "first" {
						defer close(firstDone)
					}
					h.ServeHTTP(w, r)
				})
			}))
			c := env.sim.Candidates()[4]
			v := vars{"id": c.ID}

			// The first request starts the shared fetch, which reaches
			// Workable and is held there.
			ctx1, hangUp := context.WithCancel(context.Background())
			defer hangUp()
			first := make(chan error, 1)
			go func() {
				_, err := postWith(ctx1, env.srv.URL, map[string]string{callerHeader: "first"}, qSummary, v)
				first <- err
			}()
			<-obs.misses
			<-arrived

			// The second misses the cache too and waits for the same fetch.
			type result struct {
				resp gqlResponse
				err  error
			}
			second := make(chan result, 1)
			go func() {
				resp, err := postWith(context.Background(), env.srv.URL, map[string]string{callerHeader: "second"}, qSummary, v)
				second <- result{resp, err}
			}()
			<-obs.misses

			// The first client hangs up; its request ends at the gateway.
			hangUp()
			if err := <-first; !errors.Is(err, context.Canceled) {
				t.Errorf("first request: err = %v, want context.Canceled", err)
			}
			<-firstDone

			// Workable answers; the second request gets the answer.
			releaseAll()
			got := <-second
			if got.err != nil {
				t.Fatalf("second request: %v", got.err)
			}
			if len(got.resp.Errors) > 0 {
				t.Fatalf("second request failed after the first hung up: %s", got.resp.Raw)
			}
			var out struct{ Candidate *struct{ Summary *string } }
			if err := json.Unmarshal(got.resp.Data, &out); err != nil || out.Candidate == nil {
				t.Fatalf("second request: data %s (%v)", got.resp.Data, err)
			}
			if want := c.Summary; want != nil && (out.Candidate.Summary == nil || *out.Candidate.Summary != *want) {
				t.Errorf("second request: summary = %v, want %q", out.Candidate.Summary, *want)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("Workable was called %d times, want 1", n)
			}
			if n := env.sim.RequestCount("GET /candidates/{id}"); n != 1 {
				t.Errorf("the simulator counted %d GET /candidates/{id}, want 1", n)
			}
		})
	}
}

// TestSharedFetchPanicIsInternal: the error of a fetch that panicked
// (upstream.ErrFetchPanicked) shows the client nothing of the panic.
func TestSharedFetchPanicIsInternal(t *testing.T) {
	t.Parallel()
	code, msg := classify(fmt.Errorf("load candidate: %w: fetch exploded: internal detail", upstream.ErrFetchPanicked))
	if code != CodeInternal || strings.Contains(msg, "internal detail") {
		t.Errorf("client sees %s %q", code, msg)
	}
}

// TestResponseCacheRespectsRoles: a response cached for a caller whose role
// may see a field is not served to a caller whose role may not; the field
// guard refuses that caller as if nothing were cached.
func TestResponseCacheRespectsRoles(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			const roleHeader = "X-Test-Role"
			roles := map[string]access.Role{"reader": access.RoleReader, "writer": access.RoleWriter}
			env := econEnv(t, b, withResponseCache(), withHandler(func(c Config) http.Handler {
				c.AccessRules = map[string]access.Role{"Query.candidate": access.RoleWriter}
				h := NewHandler(c)
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					p := access.Principal{ID: r.Header.Get(roleHeader), Role: roles[r.Header.Get(roleHeader)]}
					h.ServeHTTP(w, r.WithContext(access.WithPrincipal(r.Context(), p)))
				})
			}))
			v := vars{"id": env.sim.Candidates()[1].ID}
			as := func(role string) gqlResponse {
				t.Helper()
				resp, err := postWith(context.Background(), env.srv.URL, map[string]string{roleHeader: role}, qNameAndDetail, v)
				if err != nil {
					t.Fatalf("as %s: %v", role, err)
				}
				return resp
			}
			for _, step := range []struct {
				name   string
				cached bool
			}{{"cold", false}, {"again", true}} {
				resp := as("writer")
				if len(resp.Errors) > 0 {
					t.Fatalf("writer, %s: %s", step.name, resp.Raw)
				}
				if got := extensionsOf(t, resp).ResponseCache; got != step.cached {
					t.Fatalf("writer, %s: responseCache = %v, want %v", step.name, got, step.cached)
				}
			}
			env.sim.ResetCounts()
			as("reader").requireCode(t, "FORBIDDEN")
			if n := env.sim.TotalRequests(); n != 0 {
				t.Errorf("a refused reader cost %d Workable calls", n)
			}
		})
	}
}
