package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable/simulator"
)

// BenchmarkWarm measures the warm path of the typical queries (see
// TestWorkableCallFigures) through the
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
			return cache.NewMemory(0), ""
		}},
		{"redis", func() (cache.Store, string) {
			srv := redistest.NewServer(b)
			return cache.NewRedis(srv.Client, cache.WithTimeout(5*time.Second)), srv.Prefix
		}},
	}
	for _, st := range stores {
		for _, responses := range []bool{false, true} {
			client := benchClient(b, simSrv.URL)
			store, prefix := st.open()
			h := NewHandler(Config{Credentials: oneCredential(client,
				upstream.Config{Cache: store, NamespacePrefix: prefix, ResponseCache: responses})})
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

// BenchmarkLoaderWait measures the dataloaders' batch wait (upstream.Config.LoaderWait)
// on the warm path of two multi-level typical queries, through the whole
// handler with the record cache warm and the response cache off, on the
// in-process cache and on Redis (REDIS_URL, else miniredis). Besides ns/op
// (the latency of one query, as queries run one after another) it reports
// batches/op, the batch-function calls per query: a wait too short splits a
// page's keys into several batches (more cache round trips, and more
// concurrent upstream fetches when cold), a long one adds itself to every
// level of the query. Run it with
//
//	go test -run '^$' -bench BenchmarkLoaderWait -benchtime 200x ./graph/
func BenchmarkLoaderWait(b *testing.B) {
	sim := simulator.New()
	simSrv := httptest.NewServer(sim.Handler())
	b.Cleanup(simSrv.Close)
	queries := []struct{ name, query string }{
		{"summaries_activities", qDetailsActs},
		{"list_job_state_location", qListJobState},
	}
	waits := []time.Duration{100 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond, 16 * time.Millisecond}
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
	for _, st := range stores {
		for _, q := range queries {
			body, err := json.Marshal(map[string]any{"query": q.query})
			if err != nil {
				b.Fatal(err)
			}
			for _, wait := range waits {
				name := fmt.Sprintf("%s/%s/wait=%s", st.name, q.name, strings.ReplaceAll(wait.String(), "µ", "u"))
				b.Run(name, func(b *testing.B) {
					client := benchClient(b, simSrv.URL)
					store, prefix := st.open(b)
					batches := &batchRecorder{}
					h := NewHandler(Config{Credentials: oneCredential(client,
						upstream.Config{Cache: store, NamespacePrefix: prefix, LoaderWait: wait, TracerProvider: batches})})
					serve := func() *httptest.ResponseRecorder {
						req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						return rec
					}
					for range 2 { // cold, then warm
						if rec := serve(); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
							b.Fatalf("warm-up: %d %s", rec.Code, rec.Body)
						}
					}
					calls, before := sim.TotalRequests(), batches.count()
					b.ReportAllocs()
					for b.Loop() {
						serve()
					}
					b.ReportMetric(float64(batches.count()-before)/float64(b.N), "batches/op")
					if n := sim.TotalRequests() - calls; n != 0 {
						b.Errorf("the warm path made %d Workable calls", n)
					}
				})
			}
		}
	}
}

// No test asserts that a cold page loads in one batch per level: whether a
// page's resolvers register their keys within the wait depends on the
// scheduler, and tests here must not depend on timing. BenchmarkLoaderWait
// measures it instead (batches/op), and DefaultLoaderWait's comment records
// the figures.

// batchRecorder is a TracerProvider that records the dataloader batches:
// upstream.Batch starts one span, "dataloader <kind>", per call of a batch
// function, with the batch's kind, size and whether it is derived. Every
// span it returns is a no-op one.
type batchRecorder struct {
	noop.TracerProvider
	mu      sync.Mutex
	batches []batchRecord
}

// batchRecord is one batch-function call.
type batchRecord struct {
	kind    string
	size    int
	derived bool
}

func (r *batchRecorder) Tracer(string, ...trace.TracerOption) trace.Tracer {
	return batchTracer{r: r}
}

// count returns how many batches were recorded.
func (r *batchRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.batches)
}

// batchTracer is the tracer of a batchRecorder.
type batchTracer struct {
	noop.Tracer
	r *batchRecorder
}

func (t batchTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if strings.HasPrefix(name, "dataloader ") {
		rec := batchRecord{}
		cfg := trace.NewSpanStartConfig(opts...)
		for _, kv := range cfg.Attributes() {
			switch string(kv.Key) {
			case "cache.kind":
				rec.kind = kv.Value.AsString()
			case "dataloader.batch_size":
				rec.size = int(kv.Value.AsInt64())
			case "dataloader.derived":
				rec.derived = kv.Value.AsBool()
			}
		}
		t.r.mu.Lock()
		t.r.batches = append(t.r.batches, rec)
		t.r.mu.Unlock()
	}
	return t.Tracer.Start(ctx, name, opts...)
}
