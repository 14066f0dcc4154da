package main

// End-to-end tests of the observability wiring: the real binary's
// run() in demo mode, with its logs captured, its /metrics scraped, its
// persisted queries in Redis and its spans sent to a fake OTLP collector.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable/simulator"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startLoggedRun runs run() with env like startRun, but keeps what it
// logs. It returns the base URL, the log buffer and a function that stops
// the server (waiting for every in-flight request, so that every log line
// is written) and returns run's error.
func startLoggedRun(t *testing.T, env map[string]string) (string, *syncBuffer, func() error) {
	t.Helper()
	base, logs, _, stop := startLoggedRunOutput(t, env)
	return base, logs, stop
}

// startLoggedRunOutput is startLoggedRun that also keeps run's standard
// output. The base URL comes from the banner on stdout with text logs, and
// from the "listening" line's url with JSON logs, which print no banner.
func startLoggedRunOutput(t *testing.T, env map[string]string) (base string, logs, stdout *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs, stdout = new(syncBuffer), new(syncBuffer)
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, nil, func(k string) string { return env[k] }, outW, io.MultiWriter(logs, errW))
		outW.CloseWithError(io.EOF)
		errW.CloseWithError(io.EOF)
		done <- err
	}()
	found := make(chan string, 2)
	var watching sync.WaitGroup
	watching.Add(2)
	watch := func(r io.Reader, keep *syncBuffer, re *regexp.Regexp) {
		defer watching.Done()
		sc := bufio.NewScanner(r)
		sent := false
		for sc.Scan() {
			if keep != nil {
				keep.Write(append(sc.Bytes(), '\n'))
			}
			if m := re.FindSubmatch(sc.Bytes()); m != nil && !sent {
				found <- string(m[1])
				sent = true
			}
		}
		io.Copy(io.Discard, r) // a line too long for the scanner
		if !sent {
			found <- ""
		}
	}
	go watch(outR, stdout, regexp.MustCompile(`listening on (http://localhost:\d+)/query`))
	go watch(errR, nil, regexp.MustCompile(`"url":"(http://localhost:\d+)/query"`))
	for range 2 {
		if base = <-found; base != "" {
			break
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("run announced no URL; run returned %v; logs:\n%s", <-done, logs)
	}
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
			watching.Wait() // every line run printed is kept
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return base, logs, stdout, stop
}

// gqlResult is the part of a GraphQL response the tests read.
type gqlResult struct {
	Data   json.RawMessage
	Errors []struct {
		Message    string
		Extensions struct{ Code string }
	}
	Extensions struct {
		Cost struct {
			WorkableCalls, CacheHits, CacheMisses int64
		}
		ResponseCache bool
	}
}

// postQuery POSTs body to base/query with the given headers.
func postQuery(t *testing.T, base, body string, headers map[string]string) (gqlResult, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/query", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /query: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResult
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("POST /query = %d %q: %v", resp.StatusCode, raw, err)
	}
	return out, resp.Header
}

// logLine is one JSON request log line.
type logLine struct {
	Msg           string  `json:"msg"`
	RequestID     string  `json:"request_id"`
	Method        string  `json:"method"`
	Path          string  `json:"path"`
	Status        int     `json:"status"`
	DurationMS    float64 `json:"duration_ms"`
	Operation     string  `json:"operation"`
	WorkableCalls int64   `json:"workable_calls"`
	CacheHits     int64   `json:"cache_hits"`
	CacheMisses   int64   `json:"cache_misses"`
	Stale         bool    `json:"stale"`
	Role          string  `json:"role"`
	KeyID         string  `json:"key_id"`
	ErrorCode     string  `json:"error_code"`
}

// requestLines returns the "request" log lines of request id.
func requestLines(t *testing.T, logs string, id string) []logLine {
	t.Helper()
	var out []logLine
	for _, line := range strings.Split(logs, "\n") {
		if line == "" {
			continue
		}
		var l logLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if l.Msg == "request" && l.RequestID == id {
			out = append(out, l)
		}
	}
	return out
}

// scrape returns the text of GET base/metrics.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d %q", resp.StatusCode, b)
	}
	return string(b)
}

// TestMetricsAndLogLinesAfterAKnownQuery runs a known query twice (cold,
// then answered from the response cache) and checks the log line of each
// against the response's extensions.cost, and the series /metrics shows.
func TestMetricsAndLogLinesAfterAKnownQuery(t *testing.T) {
	// No background refresher: the test counts the calls its queries make.
	base, logs, stop := startLoggedRun(t, map[string]string{"PORT": "0", "LOG_FORMAT": "json", "METRICS_OPERATIONS": "KnownJobs", "REFRESH_ENABLED": "false"})

	const body = `{"query":"query KnownJobs { jobs(first: 3) { nodes { shortcode title } } }"}`
	type want struct{ calls, hits int64 }
	requests := []struct {
		id   string
		want want
	}{
		{"known-query-cold", want{calls: 1, hits: 0}},
		{"known-query-warm", want{calls: 0, hits: 1}}, // the response cache
	}
	results := map[string]gqlResult{}
	for _, r := range requests {
		res, h := postQuery(t, base, body, map[string]string{"X-Request-ID": r.id})
		if len(res.Errors) > 0 {
			t.Fatalf("%s: errors %+v", r.id, res.Errors)
		}
		if got := h.Get("X-Request-ID"); got != r.id {
			t.Errorf("%s: X-Request-ID echoed as %q", r.id, got)
		}
		if got := (want{res.Extensions.Cost.WorkableCalls, res.Extensions.Cost.CacheHits}); got != r.want {
			t.Errorf("%s: extensions.cost = %+v, want %+v", r.id, res.Extensions.Cost, r.want)
		}
		results[r.id] = res
	}
	// An operation name missing from METRICS_OPERATIONS counts as other;
	// refusals count by code.
	if res, _ := postQuery(t, base, `{"query":"query Unlisted { jobs(first: 1) { nodes { shortcode } } }"}`, nil); len(res.Errors) > 0 {
		t.Fatalf("Unlisted: errors %+v", res.Errors)
	}
	if res, _ := postQuery(t, base, `{"query":"query Typo { jbos { nodes { id } } }"}`, map[string]string{"X-Request-ID": "refused-validation"}); len(res.Errors) != 1 ||
		res.Errors[0].Extensions.Code != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("a query with a typo answered %+v", res)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/query", strings.NewReader(`{"query":"{ jobs { nodes { id } } }"}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("X-Request-ID", "refused-media-type")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("POST text/plain = %v %v, want 415", resp, err)
	} else {
		resp.Body.Close()
	}

	// A request without an id gets a generated one, echoed. (Not a probe
	// route: successful probes log at debug level.)
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	generatedID := resp.Header.Get("X-Request-ID")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(generatedID) {
		t.Errorf("generated X-Request-ID = %q, want 32 hex digits", generatedID)
	}

	metrics := scrape(t, base)
	for _, want := range []string{
		`workable_gateway_graphql_requests_total{operation="KnownJobs",outcome="ok"} 2`,
		`workable_gateway_graphql_request_duration_seconds_count{operation="KnownJobs"} 2`,
		`workable_gateway_workable_calls_total{route="GET /jobs",status="200"} 2`,
		`workable_gateway_workable_call_duration_seconds_count{route="GET /jobs"} 2`,
		`workable_gateway_cache_lookups_total{kind="jobs",result="miss"} 2`,
		`workable_gateway_cache_lookups_total{kind="resp",result="miss"} 3`,
		`workable_gateway_cache_lookups_total{kind="resp",result="hit"} 1`,
		`workable_gateway_ratelimit_wait_seconds_count{credential="default"} 2`,
		`workable_gateway_graphql_requests_total{operation="other",outcome="ok"} 1`,
		`workable_gateway_graphql_requests_total{operation="invalid",outcome="error"} 1`,
		`workable_gateway_refusals_total{code="GRAPHQL_VALIDATION_FAILED"} 1`,
		`workable_gateway_refusals_total{code="UNSUPPORTED_MEDIA_TYPE"} 1`,
		`workable_gateway_build_info{go_version="` + runtime.Version() + `"`,
		`go_goroutines `,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// The budget left is whatever Workable's X-Rate-Limit-Remaining said.
	if !regexp.MustCompile(`(?m)^workable_gateway_ratelimit_remaining\{credential="default"\} \d+$`).MatchString(metrics) {
		t.Error("/metrics lacks workable_gateway_ratelimit_remaining{credential=\"default\"}")
	}
	if strings.Contains(metrics, simulator.DemoToken) {
		t.Error("/metrics shows the Workable token")
	}

	// Stopping waits for every handler, so every log line is written.
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	for _, r := range requests {
		lines := requestLines(t, logs.String(), r.id)
		if len(lines) != 1 {
			t.Fatalf("%s: %d log lines, want 1; logs:\n%s", r.id, len(lines), logs)
		}
		l, cost := lines[0], results[r.id].Extensions.Cost
		got := logLine{Msg: l.Msg, RequestID: l.RequestID, Method: l.Method, Path: l.Path, Status: l.Status,
			Operation: l.Operation, WorkableCalls: l.WorkableCalls, CacheHits: l.CacheHits, CacheMisses: l.CacheMisses,
			Role: l.Role, KeyID: l.KeyID}
		// Demo mode runs without API keys: the caller is named by address.
		wantLine := logLine{Msg: "request", RequestID: r.id, Method: "POST", Path: "/query", Status: 200,
			Operation: "KnownJobs", WorkableCalls: cost.WorkableCalls, CacheHits: cost.CacheHits, CacheMisses: cost.CacheMisses,
			Role: "admin", KeyID: "addr:127.0.0.1"}
		if diff := cmp.Diff(wantLine, got); diff != "" {
			t.Errorf("%s: log line (-want +got):\n%s", r.id, diff)
		}
		if l.DurationMS <= 0 {
			t.Errorf("%s: duration_ms = %v", r.id, l.DurationMS)
		}
	}
	if lines := requestLines(t, logs.String(), generatedID); len(lines) != 1 || lines[0].Path != "/" {
		t.Errorf("log lines of the Playground request = %+v, want one", lines)
	}
	for id, want := range map[string]logLine{
		"refused-validation": {Status: 200, ErrorCode: "GRAPHQL_VALIDATION_FAILED", Role: "admin", KeyID: "addr:127.0.0.1"},
		"refused-media-type": {Status: 415, ErrorCode: "UNSUPPORTED_MEDIA_TYPE", Role: "admin", KeyID: "addr:127.0.0.1"},
	} {
		lines := requestLines(t, logs.String(), id)
		if len(lines) != 1 {
			t.Errorf("%s: %d log lines, want 1", id, len(lines))
			continue
		}
		got := logLine{Status: lines[0].Status, ErrorCode: lines[0].ErrorCode, Role: lines[0].Role, KeyID: lines[0].KeyID}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: log line (-want +got):\n%s", id, diff)
		}
	}
	if strings.Contains(logs.String(), simulator.DemoToken) {
		t.Error("the logs show the Workable token")
	}
}

// redisForRun returns a redis:// URL for run() (REDIS_URL when set, else an
// embedded miniredis) and the test's server, whose keys under its prefix
// are removed when the test ends.
func redisForRun(t *testing.T) (string, *redistest.Server) {
	t.Helper()
	srv := redistest.NewServer(t)
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u, srv
	}
	return "redis://" + srv.Mini.Addr() + "/0", srv
}

// TestAutomaticPersistedQueriesOnRedis runs the Apollo APQ round trip
// through the real server with Redis: a hash alone is refused with
// PERSISTED_QUERY_NOT_FOUND, the hash with the query answers and stores it,
// then the hash alone answers, on this replica and on another one sharing
// the Redis.
func TestAutomaticPersistedQueriesOnRedis(t *testing.T) {
	u, rs := redisForRun(t)
	env := map[string]string{"PORT": "0", "REDIS_URL": u, "CACHE_PREFIX": rs.Prefix, "LOG_FORMAT": "json"}
	base, _, _ := startLoggedRun(t, env)
	replica, _, _ := startLoggedRun(t, env)

	const query = `query PersistedJobs { jobs(first: 2) { nodes { shortcode } } }`
	sum := sha256.Sum256([]byte(query))
	hash := hex.EncodeToString(sum[:])
	ext := fmt.Sprintf(`"extensions":{"persistedQuery":{"version":1,"sha256Hash":%q}}`, hash)
	hashOnly := `{` + ext + `}`
	withQuery := fmt.Sprintf(`{"query":%q,%s}`, query, ext)

	steps := []struct {
		name, url, body string
		wantCode        string // "" for data
	}{
		{"hash only, unknown", base, hashOnly, "PERSISTED_QUERY_NOT_FOUND"},
		{"hash and query", base, withQuery, ""},
		{"hash only, known", base, hashOnly, ""},
		{"hash only, another replica", replica, hashOnly, ""},
	}
	for _, s := range steps {
		res, _ := postQuery(t, s.url, s.body, nil)
		switch {
		case s.wantCode != "":
			if len(res.Errors) != 1 || res.Errors[0].Extensions.Code != s.wantCode {
				t.Errorf("%s: errors %+v, want one with code %s", s.name, res.Errors, s.wantCode)
			}
		case len(res.Errors) > 0 || !strings.Contains(string(res.Data), `"shortcode"`):
			t.Errorf("%s: data %s, errors %+v, want jobs", s.name, res.Data, res.Errors)
		}
	}

	key := rs.Prefix + "wgw:apq:" + hash
	got, err := rs.Client.Get(context.Background(), key).Result()
	if err != nil || got != query {
		t.Errorf("Redis %s = %q, %v; want the query", key, got, err)
	}
	if ttl := rs.Client.TTL(context.Background(), key).Val(); ttl <= 0 {
		t.Errorf("the persisted query has TTL %v, want one", ttl)
	}
}

// otlpCollector is a fake OTLP/HTTP traces endpoint keeping every span.
type otlpCollector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (c *otlpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(raw, &req) != nil {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			c.spans = append(c.spans, ss.GetSpans()...)
		}
	}
	c.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func (c *otlpCollector) collected() []*tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*tracepb.Span(nil), c.spans...)
}

// TestTracingThroughTheRealServer switches tracing on with
// OTEL_EXPORTER_OTLP_ENDPOINT, runs a query that reads through the
// dataloaders, the cache and Workable, and checks the spans the collector
// receives: one for the operation, with resolver, dataloader batch, cache and
// Workable call spans under it, and no personal data or token anywhere.
func TestTracingThroughTheRealServer(t *testing.T) {
	col := &otlpCollector{}
	ts := httptest.NewServer(col)
	defer ts.Close()
	base, logs, stop := startLoggedRun(t, map[string]string{
		"PORT": "0", "LOG_FORMAT": "json", "OTEL_EXPORTER_OTLP_ENDPOINT": ts.URL, "OTEL_SERVICE_NAME": "gw-test",
	})

	res, _ := postQuery(t, base,
		`{"query":"query TracedCandidates { candidates(first: 2) { nodes { id name email job { title } } } }"}`, nil)
	if len(res.Errors) > 0 {
		t.Fatalf("errors %+v", res.Errors)
	}
	var data struct {
		Candidates struct {
			Nodes []struct{ ID, Name, Email string }
		}
	}
	if err := json.Unmarshal(res.Data, &data); err != nil || len(data.Candidates.Nodes) != 2 {
		t.Fatalf("data %s: %v", res.Data, err)
	}
	// Stopping flushes the batch of spans to the collector.
	if err := stop(); err != nil {
		t.Fatalf("run: %v; logs:\n%s", err, logs)
	}

	spans := col.collected()
	byID := map[string]*tracepb.Span{}
	var root *tracepb.Span
	for _, s := range spans {
		byID[string(s.GetSpanId())] = s
		if s.GetName() == "graphql TracedCandidates" {
			root = s
		}
	}
	if root == nil {
		t.Fatalf("no span named %q among %d", "graphql TracedCandidates", len(spans))
	}
	under := func(s *tracepb.Span) bool {
		for p := s; p != nil; p = byID[string(p.GetParentSpanId())] {
			if p == root {
				return true
			}
			if len(p.GetParentSpanId()) == 0 {
				return false
			}
		}
		return false
	}
	found := map[string]bool{}
	for _, s := range spans {
		if s == root || !under(s) {
			continue
		}
		switch name := s.GetName(); {
		case name == "Query.candidates":
			found["resolver"] = true
		case strings.HasPrefix(name, "dataloader "):
			found["dataloader batch"] = true
		case strings.HasPrefix(name, "cache "):
			found["cache call"] = true
		case name == "GET /candidates":
			found["Workable call"] = true
		}
	}
	if diff := cmp.Diff(map[string]bool{"resolver": true, "dataloader batch": true, "cache call": true, "Workable call": true}, found); diff != "" {
		t.Errorf("spans under the operation span (-want +got):\n%s\nspans: %v", diff, spanNames(spans))
	}

	// No personal data, ids or token in any span name or attribute.
	secrets := []string{simulator.DemoToken}
	for _, n := range data.Candidates.Nodes {
		secrets = append(secrets, n.ID, n.Name, n.Email)
	}
	for _, s := range spans {
		texts := []string{s.GetName()}
		for _, a := range s.GetAttributes() {
			texts = append(texts, a.GetKey()+"="+a.GetValue().String())
		}
		for _, text := range texts {
			for _, secret := range secrets {
				if secret != "" && strings.Contains(text, secret) {
					t.Errorf("span %q holds %q: %s", s.GetName(), secret, text)
				}
			}
		}
	}
}

func spanNames(spans []*tracepb.Span) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.GetName())
	}
	return names
}

// TestHealthcheckSubcommand runs `gateway healthcheck` against a running
// gateway (healthy) and against a port nobody listens on (an error).
func TestHealthcheckSubcommand(t *testing.T) {
	base, _, _ := startLoggedRun(t, map[string]string{"PORT": "0"})
	bu, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()

	tests := []struct {
		name, port string
		wantErr    bool
	}{
		{"running gateway", bu.Port(), false},
		{"closed port", closedPort, true},
		{"invalid PORT", "http", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), []string{"healthcheck"},
				func(k string) string { return map[string]string{"PORT": tt.port}[k] }, &out, io.Discard)
			if (err != nil) != tt.wantErr {
				t.Fatalf("healthcheck on port %s = %v, want error %v", tt.port, err, tt.wantErr)
			}
			if !tt.wantErr && strings.TrimSpace(out.String()) != "healthy" {
				t.Errorf("healthcheck printed %q, want healthy", out.String())
			}
		})
	}
}
