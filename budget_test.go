package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/workablegw/gateway/workable/simulator"
)

// secondToken is the Workable token of the credential added at run time.
const secondToken = "wk-token-second-fedcba9876543210"

// TestRateBudgetIsPerCredential runs the binary in front of a simulator
// that rate-limits each token like Workable (10 requests per 10 s) and shows
// that each credential has its own rate budget: once the default
// credential's budget is spent, its next request is refused at once with
// RATE_LIMITED (REQUEST_TIMEOUT is far shorter than the wait), while a
// request with X-Workable-Credential: second is served at once, not queued
// behind the default's. It runs with the in-process limiter and with the
// Redis one (REDIS_URL, or an embedded Redis).
//
// No clock is involved: the budget is 10 calls per 10 s window and the
// test spends it in far less; REQUEST_TIMEOUT (2 s) only needs to be
// shorter than what is left of the window, and long enough for one
// simulator call.
func TestRateBudgetIsPerCredential(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		redis bool
	}{
		{"in process", false},
		{"redis", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim := simulator.New(simulator.WithTokens(workableToken, secondToken),
				simulator.WithRateLimit(10, 10*time.Second), simulator.WithCandidates(30))
			simSrv := httptest.NewServer(sim.Handler())
			t.Cleanup(simSrv.Close)
			env := map[string]string{
				"PORT": "0", "WORKABLE_SUBDOMAIN": simulator.DemoSubdomain, "WORKABLE_API_TOKEN": workableToken,
				"WORKABLE_BASE_URL": simSrv.URL + "/spi/v3/", "GATEWAY_API_KEYS": apiKeys,
				"REQUEST_TIMEOUT": "2s",
			}
			if tc.redis {
				// Its own key prefix: the budget keys of an earlier run
				// (-count) must not count here.
				env["REDIS_URL"], env["CACHE_PREFIX"] = redisURL(t)
				env["CREDENTIALS_KEY"] = testCredentialsKey
			}
			logs := &syncBuffer{}
			base, stop := startRunLogging(t, nil, env, `listening on (http://localhost:\d+)/query`, logs)
			t.Cleanup(func() {
				if err := stop(); err != nil {
					t.Errorf("run: %v", err)
				}
			})
			g := &gateway{t: t, base: base, sim: sim, logs: logs}

			r := g.gql(adminKey, `mutation($in: AddWorkableCredentialInput!) { addWorkableCredential(input: $in) { userErrors { code message } } }`,
				map[string]any{"in": map[string]any{"nickname": "second", "subdomain": simulator.DemoSubdomain, "apiToken": secondToken}})
			if r.code() != "" || len(r.Errors) > 0 {
				t.Fatalf("add the second credential: %s", r.Raw)
			}

			// Spend the default credential's budget: distinct candidates, so
			// that no answer comes from the cache, until one is refused.
			const candidate = `query($id: ID!) { candidate(id: $id) { id name } }`
			cands := sim.Candidates()
			served, limited := 0, false
			for _, c := range cands[:20] {
				r := g.gql(readerKey, candidate, map[string]any{"id": c.ID})
				if r.code() == "RATE_LIMITED" {
					limited = true
					break
				}
				if len(r.Errors) > 0 {
					t.Fatalf("request %d with the default credential: %s", served+1, r.Raw)
				}
				served++
			}
			if !limited || served == 0 || served > 10 {
				t.Fatalf("default credential: %d requests served before RATE_LIMITED (limited: %v), want 1 to 10 then RATE_LIMITED",
					served, limited)
			}

			t.Logf("default credential: %d requests served, then RATE_LIMITED", served)

			// The second credential is served at once from its own budget.
			r = g.gql(readerKey, candidate, map[string]any{"id": cands[0].ID}, "X-Workable-Credential", "second")
			var got struct{ ID string }
			if len(r.Errors) > 0 || json.Unmarshal(r.Data["candidate"], &got) != nil || got.ID != cands[0].ID {
				t.Fatalf("request with the second credential while the default's budget is spent: %s", r.Raw)
			}
			// Meanwhile the default credential's budget is still spent.
			r = g.gql(readerKey, candidate, map[string]any{"id": cands[25].ID})
			if r.code() != "RATE_LIMITED" {
				t.Errorf("default credential after the second's request = %s, want RATE_LIMITED", r.Raw)
			}
			if n := sim.RequestCount("GET /candidates/{id}"); n > served+1 {
				t.Errorf("the simulator got %d candidate calls, want at most %d: refused requests must not reach Workable", n, served+1)
			}
		})
	}
}

// TestIncrementalDeliveryThroughTheGateway runs @defer through the whole
// binary (API keys, request guards, error codes, the request log): over
// multipart/mixed and SSE the list comes first and the deferred detail
// follows; a client that takes neither gets the whole answer in one JSON
// response; workableBudget answers without a Workable call.
func TestIncrementalDeliveryThroughTheGateway(t *testing.T) {
	t.Parallel()
	g := startGateway(t, map[string]string{"RESPONSE_CACHE": "false"})
	const q = `{ job(shortcode: "GROOV005") { title ... @defer { description } } }`
	for _, tc := range []struct {
		accept, contentType string
		wantParts           []string // substrings of each part, in order
	}{
		{"multipart/mixed;deferSpec=20220824, application/json", "multipart/mixed",
			[]string{`"description":null`, `"incremental":[{"data":{"description":"\u003cp\u003e`}},
		{"text/event-stream", "text/event-stream",
			[]string{`"description":null`, `{"data":{"description":"\u003cp\u003e`}},
		{"application/json", "application/json", []string{`"description":"\u003cp\u003e`}},
	} {
		t.Run(tc.contentType, func(t *testing.T) {
			r := g.send(http.MethodPost, "/query",
				hdr("Authorization", "Bearer "+readerKey, "Content-Type", "application/json", "Accept", tc.accept), gqlBody(q))
			if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), tc.contentType) {
				t.Fatalf("status %d, Content-Type %q: %s", r.Status, r.Header.Get("Content-Type"), r.Raw)
			}
			rest := r.Raw
			for _, part := range tc.wantParts {
				i := strings.Index(rest, part)
				if i < 0 {
					t.Fatalf("the answer lacks %s after what came before: %s", part, r.Raw)
				}
				rest = rest[i+len(part):]
			}
			if tc.contentType == "application/json" && strings.Contains(r.Raw, "hasNext") {
				t.Errorf("the JSON answer announces more parts: %s", r.Raw)
			}
		})
	}
	before := g.sim.TotalRequests()
	r := g.gql(readerKey, `{ workableBudget { credential limit remaining queued } }`, nil)
	if len(r.Errors) > 0 || !strings.Contains(r.Raw, `"credential":"default","limit":10`) {
		t.Errorf("workableBudget = %s", r.Raw)
	}
	if n := g.sim.TotalRequests() - before; n != 0 {
		t.Errorf("workableBudget made %d Workable calls", n)
	}
}
