package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// histograms returns the histograms of family name, keyed by their label
// values joined with ",".
func histograms(t *testing.T, g prometheus.Gatherer, name string) map[string]*dto.Histogram {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]*dto.Histogram{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetValue())
			}
			out[strings.Join(labels, ",")] = m.GetHistogram()
		}
	}
	return out
}

// histogramCounts returns the sample count of each series of histogram name.
func histogramCounts(t *testing.T, g prometheus.Gatherer, name string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for k, h := range histograms(t, g, name) {
		out[k] = h.GetSampleCount()
	}
	return out
}

// histogramSums returns the sample sum of each series of histogram name.
func histogramSums(t *testing.T, g prometheus.Gatherer, name string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for k, h := range histograms(t, g, name) {
		out[k] = h.GetSampleSum()
	}
	return out
}

func TestGraphQLExtensionCountsOperations(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	long := "Q" + strings.Repeat("x", 64)
	m := NewMetrics(reg, WithOperations("Version", "B", "Broken", long, "not a name"))
	ts := toyServer(t, newToySchema(), nil, m.GraphQLExtension())

	long = "Q" + strings.Repeat("x", 64) // 65 characters: a valid GraphQL name, too long a label
	requests := []struct {
		name string
		req  gqlRequest
	}{
		{"named ok", gqlRequest{Query: `query Version { version }`}},
		{"named ok again", gqlRequest{Query: `query Version { version }`}},
		{"anonymous ok", gqlRequest{Query: `{ version }`}},
		{"partial", gqlRequest{Query: `query Broken { version fail }`}},
		{"chosen by operationName", gqlRequest{Query: `query A { version } query B { fail }`, OperationName: "B"}},
		{"parse error", gqlRequest{Query: `{ version`}},
		// A document that fails validation has no operation to name.
		{"unknown field", gqlRequest{Query: `query Typo { versio }`}},
		{"unknown operation name", gqlRequest{Query: `query A { version }`, OperationName: "no such op"}},
		{"long name", gqlRequest{Query: `query ` + long + ` { version }`}},
		{"name not in the allow-list", gqlRequest{Query: `query Unlisted { version }`}},
	}
	for _, r := range requests {
		post(t, ts, r.req, nil)
	}

	const want = `
# HELP workable_gateway_graphql_requests_total GraphQL requests by operation name and outcome (ok, error, partial).
# TYPE workable_gateway_graphql_requests_total counter
workable_gateway_graphql_requests_total{operation="B",outcome="partial"} 1
workable_gateway_graphql_requests_total{operation="Broken",outcome="partial"} 1
workable_gateway_graphql_requests_total{operation="Version",outcome="ok"} 2
workable_gateway_graphql_requests_total{operation="anonymous",outcome="ok"} 1
workable_gateway_graphql_requests_total{operation="invalid",outcome="error"} 3
workable_gateway_graphql_requests_total{operation="other",outcome="ok"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "workable_gateway_graphql_requests_total"); err != nil {
		t.Error(err)
	}
	wantCounts := map[string]uint64{"B": 1, "Broken": 1, "Version": 2, "anonymous": 1, "invalid": 3, "other": 2}
	if diff := cmp.Diff(wantCounts, histogramCounts(t, reg, "workable_gateway_graphql_request_duration_seconds")); diff != "" {
		t.Errorf("duration histogram counts (-want +got):\n%s", diff)
	}
}

// TestOperationLabelsComeOnlyFromTheAllowList: clients sending ever new
// operation names (valid or not) add no series: only the allowed name and
// the fixed labels appear.
func TestOperationLabelsComeOnlyFromTheAllowList(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, WithOperations("Dashboard"))
	ts := toyServer(t, newToySchema(), nil, m.GraphQLExtension())
	for i := range 30 {
		post(t, ts, gqlRequest{Query: fmt.Sprintf("query Op%d { version }", i)}, nil)
		post(t, ts, gqlRequest{Query: fmt.Sprintf("query Broken%d { version", i)}, nil)
	}
	post(t, ts, gqlRequest{Query: "query Dashboard { version }"}, nil)
	counts := histogramCounts(t, reg, "workable_gateway_graphql_request_duration_seconds")
	if diff := cmp.Diff(map[string]uint64{"Dashboard": 1, "other": 30, "invalid": 30}, counts); diff != "" {
		t.Errorf("requests by operation label (-want +got):\n%s", diff)
	}
}

// TestRefusalsAndBuildInfo: refusals are counted by code, codes that are not
// the gateway's count as OTHER, and build_info carries the build's labels.
func TestRefusalsAndBuildInfo(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, WithBuildInfo("v1.2.3", "abc123"))
	for _, code := range []string{"UNAUTHENTICATED", "UNAUTHENTICATED", "REQUEST_TOO_LARGE", "weird code", strings.Repeat("A", 49)} {
		m.ObserveRefusal(code)
	}
	want := `
# HELP workable_gateway_refusals_total Requests refused before any resolver ran (401, 403, 413, 415, 429, parse and validation errors, query limits, …), by extensions.code.
# TYPE workable_gateway_refusals_total counter
workable_gateway_refusals_total{code="OTHER"} 2
workable_gateway_refusals_total{code="REQUEST_TOO_LARGE"} 1
workable_gateway_refusals_total{code="UNAUTHENTICATED"} 2
# HELP workable_gateway_build_info Always 1; its labels say which build of the gateway runs: version, VCS revision and Go version.
# TYPE workable_gateway_build_info gauge
workable_gateway_build_info{go_version="` + runtime.Version() + `",revision="abc123",version="v1.2.3"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "workable_gateway_refusals_total", "workable_gateway_build_info"); err != nil {
		t.Error(err)
	}
}

func TestBoundedOperationName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "anonymous"},
		{"Jobs", "Jobs"},
		{"_private2", "_private2"},
		{"a" + strings.Repeat("b", 63), "a" + strings.Repeat("b", 63)},
		{"a" + strings.Repeat("b", 64), "other"},
		{"2fast", "other"},
		{"with space", "other"},
		{"ada@example.com", "other"},
		{"Jöbs", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := boundedOperationName(tt.in); got != tt.want {
				t.Errorf("boundedOperationName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWorkableHookLabels(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	hook := m.WorkableHook("default")
	stats := new(RequestStats)
	ctx := ContextWithStats(context.Background(), stats)
	events := []workable.RequestEvent{
		{Method: "GET", Route: "GET /jobs", Status: 200, Duration: 30 * time.Millisecond, Attempt: 1},
		{Method: "GET", Route: "GET /candidates/{id}", Status: 404, Err: errors.New("not found"), Attempt: 1},
		{Method: "GET", Route: "GET /candidates/{id}", Status: 429, Err: errors.New("rate limited"), Attempt: 1},
		{Method: "GET", Route: "GET /candidates/{id}", Status: 200, Attempt: 2},
		{Method: "PATCH", Route: "PATCH /candidates/{id}", Err: errors.New("dial tcp: connection refused"), Attempt: 1},
	}
	for _, e := range events {
		hook(ctx, e)
	}
	hook(context.Background(), workable.RequestEvent{Method: "GET", Route: "GET /stages", Status: 200}) // outside a request

	const want = `
# HELP workable_gateway_workable_calls_total HTTP attempts to Workable (retries included) by route template and status code ("error" when no response arrived).
# TYPE workable_gateway_workable_calls_total counter
workable_gateway_workable_calls_total{route="GET /candidates/{id}",status="200"} 1
workable_gateway_workable_calls_total{route="GET /candidates/{id}",status="404"} 1
workable_gateway_workable_calls_total{route="GET /candidates/{id}",status="429"} 1
workable_gateway_workable_calls_total{route="GET /jobs",status="200"} 1
workable_gateway_workable_calls_total{route="GET /stages",status="200"} 1
workable_gateway_workable_calls_total{route="PATCH /candidates/{id}",status="error"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "workable_gateway_workable_calls_total"); err != nil {
		t.Error(err)
	}
	wantCounts := map[string]uint64{"GET /candidates/{id}": 3, "GET /jobs": 1, "GET /stages": 1, "PATCH /candidates/{id}": 1}
	if diff := cmp.Diff(wantCounts, histogramCounts(t, reg, "workable_gateway_workable_call_duration_seconds")); diff != "" {
		t.Errorf("call duration counts (-want +got):\n%s", diff)
	}
	// The graph layer's cost hook is the one source of a request's calls.
	if got := stats.WorkableCalls.Load(); got != 0 {
		t.Errorf("RequestStats.WorkableCalls = %d, want 0 (not WorkableHook's job)", got)
	}
}

func TestCacheRateAndStaleSeries(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.ObserveCache("candidate", CacheHit, 3)
	m.ObserveCache("candidate", CacheMiss, 2)
	m.ObserveCache("job", CacheStale, 1)
	m.ObserveCache("job", CacheHit, 0) // nothing looked up: no series
	m.ObserveStale("job")
	m.ObserveStale("job")
	m.ObserveRateLimitWait("default", 0)
	m.ObserveRateLimitWait("default", 1500*time.Millisecond)
	m.SetRateRemaining("default", 7)
	m.SetRateRemaining("default", 4)

	const want = `
# HELP workable_gateway_cache_lookups_total Cache lookups by kind of data and result (hit, miss, stale).
# TYPE workable_gateway_cache_lookups_total counter
workable_gateway_cache_lookups_total{kind="candidate",result="hit"} 3
workable_gateway_cache_lookups_total{kind="candidate",result="miss"} 2
workable_gateway_cache_lookups_total{kind="job",result="stale"} 1
# HELP workable_gateway_ratelimit_remaining Requests left in the current Workable rate window (X-Rate-Limit-Remaining), by credential name.
# TYPE workable_gateway_ratelimit_remaining gauge
workable_gateway_ratelimit_remaining{credential="default"} 4
# HELP workable_gateway_stale_answers_total Answers served from stale cache entries because Workable was unavailable or out of budget, by kind of data.
# TYPE workable_gateway_stale_answers_total counter
workable_gateway_stale_answers_total{kind="job"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"workable_gateway_cache_lookups_total", "workable_gateway_ratelimit_remaining", "workable_gateway_stale_answers_total"); err != nil {
		t.Error(err)
	}
	if diff := cmp.Diff(map[string]float64{"default": 1.5}, histogramSums(t, reg, "workable_gateway_ratelimit_wait_seconds")); diff != "" {
		t.Errorf("ratelimit_wait_seconds sums (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]uint64{"default": 2}, histogramCounts(t, reg, "workable_gateway_ratelimit_wait_seconds")); diff != "" {
		t.Errorf("ratelimit_wait_seconds counts (-want +got):\n%s", diff)
	}
}

// fakeLimiter is a RateLimiter that lets everyone through and remembers
// what it observed.
type fakeLimiter struct {
	waits    int
	observed []workable.Rate
	err      error
	// lasts is how long each Wait sleeps.
	lasts time.Duration
}

func (l *fakeLimiter) Wait(context.Context, workable.Priority) error {
	l.waits++
	time.Sleep(l.lasts)
	return l.err
}
func (l *fakeLimiter) Observe(r workable.Rate) { l.observed = append(l.observed, r) }

func TestInstrumentLimiter(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testInstrumentLimiter)
}

func testInstrumentLimiter(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	// In the synctest bubble every Wait lasts exactly 250 ms.
	inner := &fakeLimiter{lasts: 250 * time.Millisecond}
	lim := m.InstrumentLimiter("acme", inner)
	now := time.Now()

	if err := lim.Wait(context.Background(), workable.PriorityRead); err != nil {
		t.Fatal(err)
	}
	inner.err = workable.ErrRateLimited
	if err := lim.Wait(context.Background(), workable.PriorityWrite); !errors.Is(err, workable.ErrRateLimited) {
		t.Fatalf("Wait error = %v, want the inner limiter's", err)
	}
	lim.Observe(workable.Rate{Limit: 10, Remaining: 6, Reset: now.Add(5 * time.Second)})
	lim.Observe(workable.Rate{Limit: 10}) // no usable headers: says nothing about the budget

	if inner.waits != 2 || len(inner.observed) != 2 {
		t.Errorf("inner limiter saw %d waits and %d observations, want 2 and 2", inner.waits, len(inner.observed))
	}
	if got := testutil.ToFloat64(m.rateRemaining.WithLabelValues("acme")); got != 6 {
		t.Errorf("ratelimit_remaining = %g, want 6", got)
	}
	if diff := cmp.Diff(map[string]float64{"acme": 0.5}, histogramSums(t, reg, "workable_gateway_ratelimit_wait_seconds")); diff != "" {
		t.Errorf("ratelimit_wait_seconds sums (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]uint64{"acme": 2}, histogramCounts(t, reg, "workable_gateway_ratelimit_wait_seconds")); diff != "" {
		t.Errorf("ratelimit_wait_seconds counts (-want +got):\n%s", diff)
	}
}

// blockingLimiter is a RateLimiter whose Wait returns when release is
// closed; entered receives one value per caller that started waiting.
type blockingLimiter struct {
	entered chan struct{}
	release chan struct{}
}

func (l *blockingLimiter) Wait(ctx context.Context, _ workable.Priority) error {
	l.entered <- struct{}{}
	<-l.release
	return nil
}
func (l *blockingLimiter) Observe(workable.Rate) {}

// TestRateLimitWaitingGauge: ratelimit_waiting counts the calls waiting for
// budget right now.
func TestRateLimitWaitingGauge(t *testing.T) {
	t.Parallel()
	m := NewMetrics(nil)
	inner := &blockingLimiter{entered: make(chan struct{}), release: make(chan struct{})}
	lim := m.InstrumentLimiter("acme", inner)
	done := make(chan struct{})
	for range 2 {
		go func() { _ = lim.Wait(context.Background(), workable.PriorityRead); done <- struct{}{} }()
	}
	<-inner.entered
	<-inner.entered
	if got := testutil.ToFloat64(m.rateWaiting.WithLabelValues("acme")); got != 2 {
		t.Errorf("ratelimit_waiting while two calls wait = %g, want 2", got)
	}
	close(inner.release)
	<-done
	<-done
	if got := testutil.ToFloat64(m.rateWaiting.WithLabelValues("acme")); got != 0 {
		t.Errorf("ratelimit_waiting once they are through = %g, want 0", got)
	}
}

// TestMetricsWithWorkableClient wires Metrics into a real workable.Client
// talking to the simulator, as the server will.
//
// It runs in a synctest bubble, over the simulator's in-process transport:
// the clock stands still, so both calls fall in one rate window.
func TestMetricsWithWorkableClient(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testMetricsWithWorkableClient)
}

func testMetricsWithWorkableClient(t *testing.T) {
	sim := simulator.New(simulator.WithRateLimit(10, time.Hour))

	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	wc, err := workable.NewClient(simulator.DemoSubdomain, simulator.DemoToken,
		workable.WithBaseURL("http://workable.test/spi/v3/"),
		workable.WithHTTPClient(&http.Client{Transport: sim.Transport()}),
		workable.WithRequestHook(m.WorkableHook("default")),
		workable.WithRateLimiter(m.InstrumentLimiter("default", workable.NewWindowLimiter(100, time.Hour, workable.WithFixedLimit()))),
	)
	if err != nil {
		t.Fatal(err)
	}
	stats := new(RequestStats)
	ctx := ContextWithStats(context.Background(), stats)
	if _, _, err := wc.Jobs.List(ctx, nil); err != nil {
		t.Fatalf("list jobs: %v", err)
	}
	if _, _, err := wc.Candidates.Get(ctx, "no-such-candidate"); err == nil {
		t.Fatal("get an unknown candidate: no error")
	}

	const want = `
# HELP workable_gateway_workable_calls_total HTTP attempts to Workable (retries included) by route template and status code ("error" when no response arrived).
# TYPE workable_gateway_workable_calls_total counter
workable_gateway_workable_calls_total{route="GET /candidates/{id}",status="404"} 1
workable_gateway_workable_calls_total{route="GET /jobs",status="200"} 1
# HELP workable_gateway_ratelimit_remaining Requests left in the current Workable rate window (X-Rate-Limit-Remaining), by credential name.
# TYPE workable_gateway_ratelimit_remaining gauge
workable_gateway_ratelimit_remaining{credential="default"} 8
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"workable_gateway_workable_calls_total", "workable_gateway_ratelimit_remaining"); err != nil {
		t.Error(err)
	}
	if got := stats.WorkableCalls.Load(); got != 0 {
		t.Errorf("RequestStats.WorkableCalls = %d, want 0 (counted by the graph layer, not WorkableHook)", got)
	}
	if diff := cmp.Diff(map[string]uint64{"default": 2}, histogramCounts(t, reg, "workable_gateway_ratelimit_wait_seconds")); diff != "" {
		t.Errorf("rate-limit waits (-want +got):\n%s", diff)
	}
}

func TestMetricsHandler(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.ObserveStale("candidate")
	rec := httptest.NewRecorder()
	m.Handler(reg).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", rec.Code)
	}
	for _, s := range []string{
		`workable_gateway_stale_answers_total{kind="candidate"} 1`,
		"go_goroutines",             // the Go collector, on a fresh registry
		"process_cpu_seconds_total", // the process collector
	} {
		if !strings.Contains(string(body), s) {
			t.Errorf("GET /metrics lacks %q", s)
		}
	}
}

func TestNewMetricsOnDefaultStyleRegistry(t *testing.T) {
	t.Parallel()
	// A registry that already has the Go and process collectors, as
	// prometheus.DefaultRegisterer does: NewMetrics must not panic.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	NewMetrics(reg)
	NewMetrics(nil) // unregistered metrics still work
}

// testCounter reads graphql_requests_total{operation,outcome}.
func testCounter(m *Metrics, operation, outcome string) float64 {
	return testutil.ToFloat64(m.graphqlRequests.WithLabelValues(operation, outcome))
}
