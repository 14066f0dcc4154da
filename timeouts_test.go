package main

import (
	"strings"
	"testing"
	"time"

	"github.com/workablegw/gateway/workable/simulator"
)

// TestTimedOutReadIsRetriedWithinTheRequestDeadline: a Workable call that
// hangs is cut by WORKABLE_CALL_TIMEOUT and retried, and the query still
// answers with data inside REQUEST_TIMEOUT; a call that hangs every time ends
// with UPSTREAM_UNAVAILABLE once the retries are spent, not with a hang.
func TestTimedOutReadIsRetriedWithinTheRequestDeadline(t *testing.T) {
	g := startGateway(t, map[string]string{
		"WORKABLE_CALL_TIMEOUT": "200ms",
		"REQUEST_TIMEOUT":       "5s",
		"RESPONSE_CACHE":        "false",
	})
	id := g.sim.Candidates()[0].ID
	query := `query($id: ID!) { candidate(id: $id) { id summary } }`

	// The first attempt hangs (far past every timeout); the retry is answered.
	g.sim.InjectFault("GET /candidates/{id}", simulator.Fault{Delay: time.Hour, Times: 1})
	r := g.gql(readerKey, query, map[string]any{"id": id})
	if len(r.Errors) > 0 || !strings.Contains(r.Raw, id) {
		t.Fatalf("query after one hung attempt = %s, want the candidate", r.Raw)
	}
	if n := g.sim.RequestCount("GET /candidates/{id}"); n != 2 {
		t.Errorf("Workable saw %d GET /candidates/{id}, want 2 (the hung attempt and its retry)", n)
	}

	// Every attempt hangs: the bounded retries end it with a clear code.
	other := g.sim.Candidates()[1].ID
	g.sim.InjectFault("GET /candidates/{id}", simulator.Fault{Delay: time.Hour})
	r = g.gql(readerKey, query, map[string]any{"id": other})
	if got := r.code(); got != "UPSTREAM_UNAVAILABLE" {
		t.Errorf("query while Workable hangs: code %q (%s), want UPSTREAM_UNAVAILABLE", got, r.Raw)
	}
}

// TestRequestDeadlineReachesWorkableCalls: the request's deadline
// (REQUEST_TIMEOUT) cuts a Workable call even when the per-call timeout is
// far longer, so a hanging Workable cannot hold a request past it.
func TestRequestDeadlineReachesWorkableCalls(t *testing.T) {
	g := startGateway(t, map[string]string{
		"WORKABLE_CALL_TIMEOUT": "10m",
		"REQUEST_TIMEOUT":       "700ms",
		"RESPONSE_CACHE":        "false",
	})
	g.sim.InjectFault("GET /candidates/{id}", simulator.Fault{Delay: time.Hour})
	r := g.gql(readerKey, `query($id: ID!) { candidate(id: $id) { id summary } }`,
		map[string]any{"id": g.sim.Candidates()[0].ID})
	if got := r.code(); got != "UPSTREAM_UNAVAILABLE" {
		t.Errorf("query while Workable hangs past REQUEST_TIMEOUT: code %q (%s), want UPSTREAM_UNAVAILABLE", got, r.Raw)
	}
}
