package graph

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/cache/cachetest"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// BenchmarkWarm measures the warm path of the queries through the
// whole handler (no network): with the record cache only ("records") and
// with the response cache on ("responses"), on the in-process cache and on
// Redis (REDIS_URL, else miniredis). Run it with
//
//	go test -run '^$' -bench BenchmarkWarm -benchmem ./graph/
func BenchmarkWarm(b *testing.B) {
	sim := simulator.New()
	simSrv := httptest.NewServer(sim.Handler())
	b.Cleanup(simSrv.Close)
	id := sim.Candidates()[7].ID
	queries := []struct {
		name, query string
		v           vars
	}{
		{"list_job_title", qListJobs, nil},
		{"list_job_state_location", qListJobState, nil},
		{"summaries_activities", qDetailsActs, nil},
		{"summary_two_aliases", qAliasSummary, vars{"id": id}},
		{"summary", qSummary, vars{"id": id}},
	}
	stores := []struct {
		name string
		open func() (cache.Store, string)
	}{
		{"memory", func() (cache.Store, string) {
			return cache.NewMemory(0), cache.Namespace(simulator.DemoSubdomain, simulator.DemoToken)
		}},
		{"redis", func() (cache.Store, string) {
			srv := cachetest.NewServer(b)
			return cache.NewRedis(srv.Client, cache.WithTimeout(5*time.Second)), srv.Prefix + cache.Namespace(simulator.DemoSubdomain, simulator.DemoToken)
		}},
	}
	for _, st := range stores {
		for _, responses := range []bool{false, true} {
			client, err := workable.NewClient(simulator.DemoSubdomain, simulator.DemoToken,
				workable.WithBaseURL(simSrv.URL+"/spi/v3/"),
				workable.WithRateLimiter(workable.NewWindowLimiter(1_000_000, time.Second)),
				workable.WithRequestHook(CountWorkableCalls))
			if err != nil {
				b.Fatal(err)
			}
			store, ns := st.open()
			h := NewHandler(Config{Workable: client, Cache: store, Namespace: ns, ResponseCache: responses})
			mode := "records"
			if responses {
				mode = "responses"
			}
			for _, q := range queries {
				body, err := json.Marshal(map[string]any{"query": q.query, "variables": q.v})
				if err != nil {
					b.Fatal(err)
				}
				serve := func() *httptest.ResponseRecorder {
					req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					return rec
				}
				b.Run(st.name+"/"+mode+"/"+q.name, func(b *testing.B) {
					for range 2 { // cold, then warm (stores the response)
						if rec := serve(); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
							b.Fatalf("warm-up: %d %s", rec.Code, rec.Body)
						}
					}
					calls := sim.TotalRequests()
					b.ReportAllocs()
					for b.Loop() {
						serve()
					}
					if n := sim.TotalRequests() - calls; n != 0 {
						b.Errorf("the warm path made %d Workable calls", n)
					}
				})
			}
		}
	}
}
