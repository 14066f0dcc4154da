package graph

import (
	"fmt"
	"testing"

	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable/simulator"
)

// TestWarmRecordsNeedNoBatch: once the decoded tier holds a page's records,
// a query over them is answered without a single dataloader batch (so
// without the batch wait) and without a Workable call, and it costs the same
// cache hits as when a batch served it: on the in-process cache, and on
// Redis, where the candidate lists generation is read at once instead.
func TestWarmRecordsNeedNoBatch(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		for _, q := range []struct{ name, query string }{{"q1", qRecordQ1}, {"q3", qRecordQ3}} {
			t.Run(b.name+"/"+q.name, func(t *testing.T) {
				t.Parallel()
				batches := &batchRecorder{}
				env := econEnv(t, b, withUpstream(func(c *upstream.Config) { c.TracerProvider = batches }))
				env.mustQuery(q.query, nil, nil) // cold: fetched and stored
				batched := extensionsOf(t, env.query(q.query, nil))
				if batched.Cost.CacheHits == 0 || batched.Cost.WorkableCalls != 0 {
					t.Fatalf("second run cost %+v, want hits and no calls", batched.Cost)
				}
				before := batches.count()
				env.sim.ResetCounts()
				local := env.query(q.query, nil)
				if len(local.Errors) > 0 {
					t.Fatalf("errors: %s", local.Raw)
				}
				if n := batches.count() - before; n != 0 {
					t.Errorf("a query over decoded records made %d batches, want 0", n)
				}
				if n := env.sim.TotalRequests(); n != 0 {
					t.Errorf("it made %d Workable calls", n)
				}
				if got := extensionsOf(t, local).Cost; got != batched.Cost {
					t.Errorf("cost from the decoded tier %+v, from a batch %+v", got, batched.Cost)
				}
			})
		}
	}
}

// TestReplicasSeeWritesAtOnce: two gateways (each with its own decoded
// tier) share one cache; once both hold a page and a candidate warm, a
// write through one is seen by the other at once, in lists and details.
func TestReplicasSeeWritesAtOnce(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			store, prefix := b.store(t, b.server(t))
			sim := simulator.New()
			replica := func() *testEnv {
				return newTestEnv(t, withSim(sim), withCache(store, prefix))
			}
			a, other := replica(), replica()
			target := sim.Candidates()[3]
			const list = `query($sc: String) { candidates(jobShortcode: $sc, first: 100) { nodes { id headline job { shortcode state } } } }`
			sc := vars{"sc": target.Job.Shortcode}
			const detail = `query($id: ID!) { candidate(id: $id) { id headline summary } }`
			type listOut struct {
				Candidates struct {
					Nodes []struct {
						ID       string
						Headline *string
					}
				}
			}
			type detailOut struct {
				Candidate struct {
					ID       string
					Headline *string
				}
			}
			for _, env := range []*testEnv{a, other} {
				for range 3 { // cold, read from the cache, from the decoded tier
					env.mustQuery(list, sc, nil)
					env.mustQuery(detail, vars{"id": target.ID}, nil)
				}
			}
			headline := func(h *string) string {
				if h == nil {
					return "<nil>"
				}
				return *h
			}
			for i, want := range []string{"Written on the first replica", "Written again"} {
				var upd struct {
					UpdateCandidate struct{ UserErrors []map[string]any }
				}
				a.mustQuery(`mutation($in: UpdateCandidateInput!) { updateCandidate(input: $in) { userErrors { field message } } }`,
					vars{"in": map[string]any{"id": target.ID, "headline": want}}, &upd)
				if len(upd.UpdateCandidate.UserErrors) > 0 {
					t.Fatalf("update %d: %+v", i, upd)
				}
				for _, env := range []*testEnv{other, a} {
					var d detailOut
					env.mustQuery(detail, vars{"id": target.ID}, &d)
					if got := headline(d.Candidate.Headline); got != want {
						t.Errorf("write %d: detail headline %q, want %q", i, got, want)
					}
					var l listOut
					env.mustQuery(list, sc, &l)
					found := false
					for _, n := range l.Candidates.Nodes {
						if n.ID == target.ID {
							found = true
							if got := headline(n.Headline); got != want {
								t.Errorf("write %d: list headline %q, want %q", i, got, want)
							}
						}
					}
					if !found {
						t.Errorf("write %d: candidate %s missing from the list", i, target.ID)
					}
				}
			}

			var created struct {
				CreateCandidate struct{ Candidate struct{ ID string } }
			}
			a.mustQuery(`mutation($in: CreateCandidateInput!) { createCandidate(input: $in) { candidate { id } } }`,
				vars{"in": map[string]any{"jobShortcode": target.Job.Shortcode, "firstName": "Replica", "lastName": "Probe",
					"email": fmt.Sprintf("replica.probe.%s@example.com", b.name)}}, &created)
			newID := created.CreateCandidate.Candidate.ID
			if newID == "" {
				t.Fatalf("create failed: %+v", created)
			}
			var l listOut
			other.mustQuery(list, sc, &l)
			if len(l.Candidates.Nodes) >= 100 {
				t.Fatalf("the job's list is full: %d candidates", len(l.Candidates.Nodes))
			}
			found := false
			for _, n := range l.Candidates.Nodes {
				found = found || n.ID == newID
			}
			if !found {
				t.Errorf("the other replica's list lacks the candidate created on the first")
			}
		})
	}
}
