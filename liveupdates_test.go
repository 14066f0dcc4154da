package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// stripSignature drops X-Workable-Signature from the requests it sends
// while on is set: a delivery as someone without the token would send it.
type stripSignature struct{ on atomic.Bool }

func (s *stripSignature) RoundTrip(req *http.Request) (*http.Response, error) {
	if s.on.Load() {
		req = req.Clone(req.Context())
		req.Header.Del(workable.SignatureHeader)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestSignedWebhookChangesTheNextQuery runs the gateway in front of the
// simulator, subscribed to its candidate_moved deliveries. A candidate
// moved in Workable's UI keeps its cached stage while the delivery comes
// without a signature (401, nothing changes); the signed redelivery of
// the same event makes the next query answer the new stage; a replay of
// it is acknowledged and changes nothing more. In process and on Redis.
func TestSignedWebhookChangesTheNextQuery(t *testing.T) {
	t.Parallel()
	for _, withRedis := range []bool{false, true} {
		name := map[bool]string{false: "in process", true: "redis"}[withRedis]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			strip := &stripSignature{}
			sim := simulator.New(simulator.WithToken(workableToken), simulator.WithCandidates(20),
				simulator.WithWebhookClient(&http.Client{Transport: strip}))
			simSrv := httptest.NewServer(sim.Handler())
			t.Cleanup(simSrv.Close)
			env := map[string]string{"PORT": "0", "WORKABLE_SUBDOMAIN": simulator.DemoSubdomain,
				"WORKABLE_API_TOKEN": workableToken, "WORKABLE_BASE_URL": simSrv.URL + "/spi/v3/",
				// Only the webhook may tell the gateway about the move.
				"REFRESH_ENABLED": "false"}
			if withRedis {
				env["REDIS_URL"], env["CACHE_PREFIX"] = redisURL(t)
			}
			base, stop := startRun(t, nil, env, `listening on (http://localhost:\d+)/query`)
			t.Cleanup(func() {
				if err := stop(); err != nil {
					t.Errorf("run: %v", err)
				}
			})

			client, err := workable.NewClient(simulator.DemoSubdomain, workableToken, workable.WithBaseURL(simSrv.URL+"/spi/v3/"))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := client.Subscriptions.Create(ctx, workable.NewSubscription{
				Target: base + "/webhooks/workable/default?event=candidate_moved", Event: workable.EventCandidateMoved,
			}); err != nil {
				t.Fatal(err)
			}

			c := sim.Candidates()[2]
			body := `{"query":"query($id: ID!) { candidate(id: $id) { stage } }","variables":{"id":"` + c.ID + `"}}`
			stage := func() string {
				t.Helper()
				res, _ := postQuery(t, base, body, nil)
				if len(res.Errors) > 0 {
					t.Fatalf("query: %+v", res.Errors)
				}
				var d struct{ Candidate struct{ Stage string } }
				if err := json.Unmarshal(res.Data, &d); err != nil {
					t.Fatal(err)
				}
				return d.Candidate.Stage
			}
			before := stage()
			if before == "Offer" {
				t.Fatal("pick a candidate not in Offer")
			}

			strip.on.Store(true)
			ds, err := sim.MoveCandidateInUI(ctx, c.ID, "offer")
			if err != nil || len(ds) != 1 {
				t.Fatalf("MoveCandidateInUI = %+v, %v", ds, err)
			}
			if ds[0].Status != http.StatusUnauthorized {
				t.Fatalf("the unsigned delivery was answered %d, want 401", ds[0].Status)
			}
			if got := stage(); got != before {
				t.Fatalf("after the unsigned delivery: stage %q, want the cached %q (nothing changes)", got, before)
			}

			strip.on.Store(false)
			again, err := sim.Redeliver(ctx, ds[0].EventID)
			if err != nil || len(again) != 1 || again[0].Status != http.StatusOK {
				t.Fatalf("the signed redelivery: %+v, %v; want 200", again, err)
			}
			if got := stage(); got != "Offer" {
				t.Errorf("after the signed delivery: stage %q, want Offer", got)
			}
			calls := sim.TotalRequests()
			if replay, err := sim.Redeliver(ctx, ds[0].EventID); err != nil || len(replay) != 1 || replay[0].Status != http.StatusOK {
				t.Fatalf("a replay: %+v, %v; want 200", replay, err)
			}
			if got := stage(); got != "Offer" || sim.TotalRequests() != calls {
				t.Errorf("after a replay: stage %q and %d Workable calls, want Offer from the cache", got, sim.TotalRequests()-calls)
			}
		})
	}
}
