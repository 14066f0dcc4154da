package graph

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/workablegw/gateway/workable/simulator"
)

// TestWorkableAnswerHeadersStayUpstream: the caching headers and the
// request id of Workable's answers (API.md §10) describe those answers, not
// the GraphQL response, so the gateway passes none of them on; the id of a
// failed call is logged as workable_request_id with the error.
func TestWorkableAnswerHeadersStayUpstream(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		ids []string // the X-Request-Id of every simulator answer, in order
	)
	env := newTestEnv(t, withSimProxy(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			mu.Lock()
			ids = append(ids, w.Header().Get("X-Request-Id"))
			mu.Unlock()
		})
	}))
	post := func(q string) (http.Header, string) {
		t.Helper()
		resp, err := http.Post(env.srv.URL+"/query", "application/json", strings.NewReader(`{"query":"`+q+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.Header, env.decode(resp).Raw
	}
	check := func(h http.Header, what string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if len(ids) == 0 || slices.Contains(ids, "") {
			t.Fatalf("%s: the simulator's answers carry no X-Request-Id: %q", what, ids)
		}
		if id := h.Get("X-Request-Id"); slices.Contains(ids, id) {
			t.Errorf("%s: the GraphQL response carries Workable's X-Request-Id %q", what, id)
		}
		if h.Get("ETag") != "" || strings.Contains(h.Get("Cache-Control"), "must-revalidate") {
			t.Errorf("%s: the GraphQL response carries Workable's caching headers: ETag %q, Cache-Control %q",
				what, h.Get("ETag"), h.Get("Cache-Control"))
		}
	}

	h, raw := post("{ jobs(first: 2) { nodes { shortcode } } stages { slug } }")
	if strings.Contains(raw, `"errors"`) {
		t.Fatalf("query failed: %s", raw)
	}
	check(h, "a successful query")

	env.sim.InjectFault("GET /candidates", simulator.Fault{Status: http.StatusInternalServerError})
	h, raw = post("{ candidates(first: 1) { nodes { id } } }")
	if !strings.Contains(raw, CodeUpstreamUnavailable) {
		t.Fatalf("candidates with Workable failing = %s, want %s", raw, CodeUpstreamUnavailable)
	}
	check(h, "a failed query")
	mu.Lock()
	last := ids[len(ids)-1]
	mu.Unlock()
	if !env.logs.contains("workable_request_id=" + last) {
		t.Errorf("the error's log line lacks workable_request_id=%s (the failed call's id):\n%s", last, env.logs.String())
	}
}
