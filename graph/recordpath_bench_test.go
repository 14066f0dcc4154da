package graph

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable/simulator"
)

// The peer benchmark's two list queries (scripts/peerbench.sh, q1 and q3):
// a page of 50 candidates with their job's shortcode and title, and the same
// page with the job's state and location instead of its title.
const (
	qRecordQ1 = `{ candidates(first: 50) { nodes { id name job { shortcode title } } } }`
	qRecordQ3 = `{ candidates(first: 50) { nodes { id name job { shortcode state location { city } } } } }`
)

// qRecordDetail is a candidate's detail with its activities: outside the
// record fast path's shape, so gqlgen executes it over the cached records.
const qRecordDetail = `query D($id: ID!) { candidate(id: $id) { id name email headline summary createdAt job { shortcode title } activities(first: 20) { nodes { id action stageName createdAt } } } }`

// BenchmarkRecordPath measures the warm record path (the response cache
// off, every record cached) of q1, q3 and a candidate's detail with its
// activities (qRecordDetail, executed by gqlgen) through the whole handler
// (no network), on the in-process cache and on Redis (REDIS_URL, else
// miniredis):
//
//   - serial: one query at a time, so ns/op is a query's latency (what a
//     single connection sees);
//   - parallel: 50 queries in flight, so ns/op is the inverse of the
//     throughput on this machine's cores.
//
// Besides B/op and allocs/op it reports cpu-µs/op, the CPU time (user and
// system, all threads, the GC included) the process spent per query. Run it
// with
//
//	go test -run '^$' -bench BenchmarkRecordPath -benchmem ./graph/
func BenchmarkRecordPath(b *testing.B) {
	sim := simulator.New()
	simSrv := httptest.NewServer(sim.Handler())
	b.Cleanup(simSrv.Close)
	stores := []struct {
		name string
		open func(b *testing.B) (cache.Store, string)
	}{
		{"memory", func(*testing.B) (cache.Store, string) { return cache.NewMemory(0), "" }},
		{"redis", func(b *testing.B) (cache.Store, string) {
			srv := redistest.NewServer(b)
			return cache.NewRedis(srv.Client, cache.WithTimeout(5*time.Second)), srv.Prefix
		}},
	}
	queries := []struct {
		name, query string
		detail      bool
	}{{"q1", qRecordQ1, false}, {"q3", qRecordQ3, false}, {"detail", qRecordDetail, true}}
	for _, st := range stores {
		client := benchClient(b, simSrv.URL)
		store, prefix := st.open(b)
		h := NewHandler(Config{Credentials: oneCredential(client, upstream.Config{Cache: store, NamespacePrefix: prefix})})
		for _, q := range queries {
			req := map[string]any{"query": q.query}
			if q.detail {
				req["variables"] = map[string]any{"id": firstCandidateID(b, h)}
			}
			body, err := json.Marshal(req)
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
			// Twice: the first read fills the shared cache, the second
			// the decoded tier.
			for range 2 {
				if rec := serve(); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
					b.Fatalf("warm-up: %d %s", rec.Code, rec.Body)
				}
			}
			b.Run(st.name+"/serial/"+q.name, func(b *testing.B) {
				calls := sim.TotalRequests()
				b.ReportAllocs()
				cpu := startCPU(b)
				for b.Loop() {
					serve()
				}
				cpu.report(b)
				if n := sim.TotalRequests() - calls; n != 0 {
					b.Errorf("the warm path made %d Workable calls", n)
				}
			})
			b.Run(st.name+"/parallel/"+q.name, func(b *testing.B) {
				calls := sim.TotalRequests()
				b.ReportAllocs()
				b.SetParallelism(max(1, 50/runtime.GOMAXPROCS(0)))
				cpu := startCPU(b)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if rec := serve(); rec.Code != http.StatusOK {
							b.Errorf("status %d: %s", rec.Code, rec.Body)
						}
					}
				})
				cpu.report(b)
				if n := sim.TotalRequests() - calls; n != 0 {
					b.Errorf("the warm path made %d Workable calls", n)
				}
			})
		}
	}
}

// firstCandidateID returns the id of the first candidate h lists.
func firstCandidateID(b *testing.B, h http.Handler) string {
	b.Helper()
	req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":"{ candidates(first: 1) { nodes { id } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var resp struct {
		Data struct {
			Candidates struct{ Nodes []struct{ ID string } }
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Data.Candidates.Nodes) == 0 {
		b.Fatalf("first candidate: %v %s", err, rec.Body)
	}
	return resp.Data.Candidates.Nodes[0].ID
}

// cpuClock is the process's CPU time at the start of a measurement.
type cpuClock struct{ start time.Duration }

// startCPU reads the process's CPU time (user and system, all threads).
func startCPU(b *testing.B) cpuClock { return cpuClock{start: processCPU(b)} }

// report adds cpu-µs/op: the CPU time since startCPU divided by b.N.
func (c cpuClock) report(b *testing.B) {
	b.ReportMetric(float64((processCPU(b)-c.start).Microseconds())/float64(b.N), "cpu-µs/op")
}

// processCPU returns the CPU time the process has used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
