package graph

import (
	"encoding/json"
	"testing"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/redisconn/redistest"
)

// TestInvalidationFromOutside: what Workable changed without the gateway
// (a move in its UI, a job edited there) is served from the cache until
// the economy is told (upstream.InvalidateCandidates and InvalidateJobs,
// as webhooks and the refresher do); then the next query fetches it, the
// whole-response cache included. On the in-process cache and on Redis.
func TestInvalidationFromOutside(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) (cache.Store, string){
		"memory": func(*testing.T) (cache.Store, string) { return cache.NewMemory(16 << 20), "" },
		"redis": func(t *testing.T) (cache.Store, string) {
			rdb, prefix := redistest.Redis(t)
			return cache.NewRedis(rdb), prefix
		},
	}
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			store, prefix := mk(t)
			env := newTestEnv(t, withCache(store, prefix), withResponseCache())
			ctx := t.Context()
			c := env.sim.Candidates()[0]
			const q = `query($id: ID!, $sc: String!) { candidate(id: $id) { stage } job(shortcode: $sc) { title } jobs(first: 3) { nodes { shortcode } } }`
			v := vars{"id": c.ID, "sc": c.Job.Shortcode}
			stage := func() string {
				t.Helper()
				r := env.query(q, v)
				if len(r.Errors) > 0 {
					t.Fatalf("query: %s", r.Raw)
				}
				var d struct {
					Candidate struct{ Stage string }
				}
				if err := json.Unmarshal(r.Data, &d); err != nil {
					t.Fatal(err)
				}
				return d.Candidate.Stage
			}
			before := stage()
			calls := env.sim.TotalRequests()
			if _, err := env.sim.MoveCandidateInUI(ctx, c.ID, "offer"); err != nil {
				t.Fatal(err)
			}
			if got := stage(); got != before || env.sim.TotalRequests() != calls {
				t.Fatalf("before any invalidation: stage %q and %d calls, want the cached %q and none", got, env.sim.TotalRequests()-calls, before)
			}
			if err := env.econ.InvalidateCandidates(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			if got := stage(); got != "Offer" {
				t.Errorf("after InvalidateCandidates: stage %q, want Offer", got)
			}
			jobCalls := env.sim.RequestCount("GET /jobs") + env.sim.RequestCount("GET /jobs/{shortcode}")
			stage()
			if n := env.sim.RequestCount("GET /jobs") + env.sim.RequestCount("GET /jobs/{shortcode}"); n != jobCalls {
				t.Fatalf("the jobs were not cached: %d more calls", n-jobCalls)
			}
			if err := env.econ.InvalidateJobs(ctx); err != nil {
				t.Fatal(err)
			}
			stage()
			if n := env.sim.RequestCount("GET /jobs") + env.sim.RequestCount("GET /jobs/{shortcode}"); n == jobCalls {
				t.Error("after InvalidateJobs the jobs were still served from the cache")
			}
		})
	}
}
