package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// syncBuffer is a bytes.Buffer safe for the server's and the test's
// goroutines.
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

// jsonLines decodes one JSON object per line.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestNewLogger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       map[string]string
		wantJSON  bool
		wantDebug bool
		wantWarn  string // substring of a warning about a setting
	}{
		{name: "defaults: text, info", env: nil},
		{name: "production: json", env: map[string]string{"GATEWAY_ENV": "production"}, wantJSON: true},
		{name: "explicit text in production", env: map[string]string{"GATEWAY_ENV": "production", "LOG_FORMAT": "text"}},
		{name: "explicit json in development", env: map[string]string{"LOG_FORMAT": "JSON"}, wantJSON: true},
		{name: "debug level", env: map[string]string{"LOG_LEVEL": "debug"}, wantDebug: true},
		{name: "warn level", env: map[string]string{"LOG_LEVEL": "warn", "LOG_FORMAT": "json"}, wantJSON: true},
		{name: "unknown format", env: map[string]string{"LOG_FORMAT": "xml"}, wantWarn: "LOG_FORMAT must be json or text; using text"},
		{name: "unknown level", env: map[string]string{"LOG_LEVEL": "loud", "LOG_FORMAT": "json"}, wantJSON: true, wantWarn: "LOG_LEVEL must be debug, info, warn or error; using info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			l := NewLogger(&buf, func(k string) string { return tt.env[k] })
			if tt.wantWarn != "" {
				if !strings.Contains(buf.String(), tt.wantWarn) {
					t.Errorf("no warning %q in %q", tt.wantWarn, buf.String())
				}
				buf.Reset()
			} else if buf.Len() != 0 {
				t.Errorf("unexpected output: %q", buf.String())
			}
			l.Debug("d")
			l.Info("i")
			out := buf.String()
			if got := strings.Contains(out, `"msg":"i"`) || strings.Contains(out, `msg=i`); got == (tt.env["LOG_LEVEL"] == "warn") {
				t.Errorf("info line present = %v in %q", got, out)
			}
			if got := strings.Contains(out, `"msg":"d"`) || strings.Contains(out, "msg=d"); got != tt.wantDebug {
				t.Errorf("debug line present = %v, want %v: %q", got, tt.wantDebug, out)
			}
			if out != "" {
				if isJSON := strings.HasPrefix(out, "{"); isJSON != tt.wantJSON {
					t.Errorf("JSON output = %v, want %v: %q", isJSON, tt.wantJSON, out)
				}
			}
		})
	}
}

var generatedID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestRequestLogger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		incomingID string
		keepID     bool
	}{
		{name: "valid incoming id is kept", incomingID: "abc-123_X.y", keepID: true},
		{name: "128 characters is kept", incomingID: strings.Repeat("a", 128), keepID: true},
		{name: "no incoming id"},
		{name: "too long", incomingID: strings.Repeat("a", 129)},
		{name: "forbidden characters", incomingID: "id with spaces\"and quotes"},
		{name: "log injection attempt", incomingID: "x\" level=ERROR msg=forged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			buf := &syncBuffer{}
			logger := NewLogger(buf, func(k string) string { return map[string]string{"LOG_FORMAT": "json"}[k] })
			schema := newToySchema()
			var seenID string
			schema.onCandidate = func(ctx context.Context, _ string) error {
				seenID = RequestIDFrom(ctx)
				StatsFrom(ctx).WorkableCalls.Add(2)
				StatsFrom(ctx).CacheHits.Add(3)
				StatsFrom(ctx).CacheMisses.Add(1)
				return nil
			}
			wrap := func(h http.Handler) http.Handler { return RequestLogger(logger, h) }
			ts := toyServer(t, schema, wrap, OperationNameExtension())

			h := http.Header{"Authorization": {"Bearer s3cr3t-token"}}
			if tt.incomingID != "" {
				h.Set(RequestIDHeader, tt.incomingID)
			}
			resp, _ := post(t, ts, gqlRequest{
				Query:     `query FindCandidate($email: String!) { candidate(email: $email) { name } }`,
				Variables: map[string]any{"email": "ada@example.com"},
			}, h)

			id := resp.Header.Get(RequestIDHeader)
			switch {
			case tt.keepID && id != tt.incomingID:
				t.Errorf("X-Request-ID = %q, want the incoming %q", id, tt.incomingID)
			case !tt.keepID && !generatedID.MatchString(id):
				t.Errorf("X-Request-ID = %q, want 32 generated hex digits", id)
			}
			if seenID != id {
				t.Errorf("RequestIDFrom in the resolver = %q, want %q", seenID, id)
			}

			lines := jsonLines(t, buf.String())
			if len(lines) != 1 {
				t.Fatalf("got %d log lines, want exactly 1:\n%s", len(lines), buf.String())
			}
			want := map[string]any{
				"level": "INFO", "msg": "request", "request_id": id, "method": "POST", "path": "/query",
				"status": 200.0, "operation": "FindCandidate", "workable_calls": 2.0, "cache_hits": 3.0,
				"cache_misses": 1.0, "stale": false,
			}
			if diff := cmp.Diff(want, lines[0], cmpopts.IgnoreMapEntries(func(k string, _ any) bool {
				return k == "time" || k == "duration_ms"
			})); diff != "" {
				t.Errorf("log line (-want +got):\n%s", diff)
			}
			if d, ok := lines[0]["duration_ms"].(float64); !ok || d < 0 {
				t.Errorf("duration_ms = %v, want a non-negative number", lines[0]["duration_ms"])
			}
			for _, secret := range []string{"s3cr3t-token", "Bearer", "ada@example.com", "candidate(", "forged"} {
				if strings.Contains(buf.String(), secret) {
					t.Errorf("log holds %q: %s", secret, buf.String())
				}
			}
		})
	}
}

func TestRequestLoggerStatusAndPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		target    string
		handler   http.HandlerFunc
		wantPath  string
		wantCode  float64
		wantLevel string
	}{
		{
			name:     "query string dropped, implicit 200",
			target:   "/query?query=%7Bcandidate(email%3A%22ada%40example.com%22)%7D&token=s3cr3t-token",
			handler:  func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) },
			wantPath: "/query", wantCode: 200, wantLevel: "INFO",
		},
		{
			name:     "explicit status",
			target:   "/nope",
			handler:  func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
			wantPath: "/nope", wantCode: 404, wantLevel: "INFO",
		},
		{
			name:     "nothing written",
			target:   "/status",
			handler:  func(http.ResponseWriter, *http.Request) {},
			wantPath: "/status", wantCode: 200, wantLevel: "INFO",
		},
		{
			name:     "probe logs at debug",
			target:   "/healthz",
			handler:  func(http.ResponseWriter, *http.Request) {},
			wantPath: "/healthz", wantCode: 200, wantLevel: "DEBUG",
		},
		{
			name:     "failed probe logs at error",
			target:   "/readyz",
			handler:  func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) },
			wantPath: "/readyz", wantCode: 503, wantLevel: "ERROR",
		},
		{
			name:   "server error logs at error",
			target: "/query",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadGateway)
				w.WriteHeader(http.StatusOK) // superfluous: the first status counts
			},
			wantPath: "/query", wantCode: 502, wantLevel: "ERROR",
		},
		{
			name:     "long path truncated",
			target:   "/" + strings.Repeat("p", 300),
			handler:  func(http.ResponseWriter, *http.Request) {},
			wantPath: "/" + strings.Repeat("p", maxLoggedPathLen-1) + "…", wantCode: 200, wantLevel: "INFO",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			rec := httptest.NewRecorder()
			RequestLogger(logger, tt.handler).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.target, nil))
			lines := jsonLines(t, buf.String())
			if len(lines) != 1 {
				t.Fatalf("got %d log lines, want 1", len(lines))
			}
			got := map[string]any{"path": lines[0]["path"], "status": lines[0]["status"], "level": lines[0]["level"], "operation": lines[0]["operation"]}
			want := map[string]any{"path": tt.wantPath, "status": tt.wantCode, "level": tt.wantLevel, "operation": ""}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("log fields (-want +got):\n%s", diff)
			}
			// Not a bare "ada": a random request id may hold those hex digits.
			if strings.Contains(buf.String(), "s3cr3t") || strings.Contains(buf.String(), "ada@") ||
				strings.Contains(buf.String(), "ada%40") || strings.Contains(buf.String(), "candidate(") {
				t.Errorf("log holds query-string values: %s", buf.String())
			}
			if rec.Header().Get(RequestIDHeader) == "" {
				t.Error("no X-Request-ID in the response")
			}
		})
	}
}

func TestRequestLoggerKeepsFlusher(t *testing.T) {
	t.Parallel()
	var flushed bool
	h := RequestLogger(slog.New(slog.DiscardHandler), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through the logger: %v", err)
		}
		flushed = true
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if !flushed || !rec.Flushed {
		t.Error("the response was not flushed")
	}
}

func TestStatsFromOutsideARequest(t *testing.T) {
	t.Parallel()
	s := StatsFrom(context.Background())
	if s == nil {
		t.Fatal("StatsFrom returned nil")
	}
	s.WorkableCalls.Add(1) // a throwaway: must not panic, must not be shared
	if got := StatsFrom(context.Background()).WorkableCalls.Load(); got != 0 {
		t.Errorf("throwaway stats are shared: %d", got)
	}
	if id := RequestIDFrom(context.Background()); id != "" {
		t.Errorf("RequestIDFrom outside a request = %q, want empty", id)
	}
}

func TestMetricsAndLogAfterAKnownQuery(t *testing.T) {
	t.Parallel()
	// Metrics and log lines after a known query: both
	// extensions and the logger together, as the server will wire them.
	buf := &syncBuffer{}
	logger := NewLogger(buf, func(k string) string { return map[string]string{"GATEWAY_ENV": "production"}[k] })
	m := NewMetrics(nil, WithOperations("Jobs", "Broken"))
	ts := toyServer(t, newToySchema(), func(h http.Handler) http.Handler { return RequestLogger(logger, h) },
		m.GraphQLExtension(), OperationNameExtension())
	post(t, ts, gqlRequest{Query: `query Jobs { version }`}, nil)
	post(t, ts, gqlRequest{Query: `query Broken { fail }`}, nil)

	lines := jsonLines(t, buf.String())
	var ops []string
	for _, l := range lines {
		ops = append(ops, l["operation"].(string))
	}
	if diff := cmp.Diff([]string{"Jobs", "Broken"}, ops); diff != "" {
		t.Errorf("operations in the log (-want +got):\n%s", diff)
	}
	for op, outcome := range map[string]string{"Jobs": OutcomeOK, "Broken": OutcomePartial} {
		if got := testCounter(m, op, outcome); got != 1 {
			t.Errorf("graphql_requests_total{operation=%q,outcome=%q} = %g, want 1", op, outcome, got)
		}
	}
}

// refuse is a handler that answers like a guard refusing a request: it
// records the refusal's code through the writer chain and answers 401.
func refuse(code string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.(interface{ RecordErrorCode(string) }).RecordErrorCode(code)
		w.WriteHeader(http.StatusUnauthorized)
	})
}

// TestRequestLinesCarryTheRequest: a line logged with a request's context
// carries its request_id and, once authenticated, the caller's role and key
// id; a refusal's line carries its code, which metrics count; a request
// over the threshold gets a slow-query warning.
func TestRequestLinesCarryTheRequest(t *testing.T) {
	t.Parallel()
	buf := &syncBuffer{}
	logger := NewLogger(buf, func(k string) string { return map[string]string{"LOG_FORMAT": "json"}[k] })
	m := NewMetrics(nil)
	// The slow request waits for the clock to pass the threshold, measured
	// with the same clock: no sleep standing in for a duration.
	const threshold = 20 * time.Millisecond
	mux := http.NewServeMux()
	mux.HandleFunc("/query", func(w http.ResponseWriter, r *http.Request) {
		s := StatsFrom(r.Context())
		s.Role, s.KeyID = "reader", "1a2b3c4d"
		logger.InfoContext(r.Context(), "inside the request")
		if r.URL.Query().Get("slow") == "1" {
			for start := time.Now(); time.Since(start) <= threshold; {
				runtime.Gosched()
			}
		}
	})
	mux.Handle("/refused", refuse("UNAUTHENTICATED"))
	h := RequestLogger(logger, mux, WithSlowThreshold(threshold), WithRefusalMetrics(m))
	for _, path := range []string{"/query", "/query?slow=1", "/refused"} {
		req := httptest.NewRequest(http.MethodPost, path, nil)
		req.Header.Set(RequestIDHeader, "req-"+strings.NewReplacer("/", "", "?", "-", "=", "").Replace(path))
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	logger.Info("outside any request")

	type line struct {
		Msg, RequestID, Role, KeyID, ErrorCode string
	}
	var got []line
	for _, l := range jsonLines(t, buf.String()) {
		s := func(k string) string { v, _ := l[k].(string); return v }
		got = append(got, line{s("msg"), s("request_id"), s("role"), s("key_id"), s("error_code")})
	}
	want := []line{
		{"inside the request", "req-query", "reader", "1a2b3c4d", ""},
		{"request", "req-query", "reader", "1a2b3c4d", ""},
		{"inside the request", "req-query-slow1", "reader", "1a2b3c4d", ""},
		{"request", "req-query-slow1", "reader", "1a2b3c4d", ""},
		{"slow query", "req-query-slow1", "", "", ""},
		{"request", "req-refused", "", "", "UNAUTHENTICATED"},
		{"outside any request", "", "", "", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
	if n := testutil.ToFloat64(m.refusals.WithLabelValues("UNAUTHENTICATED")); n != 1 {
		t.Errorf("refusals_total{code=UNAUTHENTICATED} = %g, want 1", n)
	}
	for _, l := range jsonLines(t, buf.String()) {
		if k, _ := l["key"].(string); k != "" {
			t.Errorf("a line carries a key: %v", l)
		}
	}
}

// TestRedisLoggerWritesTheGatewayFormat: go-redis's own lines come out as
// JSON lines of the gateway's log, with the request's id when go-redis has
// the request's context.
func TestRedisLoggerWritesTheGatewayFormat(t *testing.T) {
	t.Parallel()
	buf := &syncBuffer{}
	logger := NewLogger(buf, func(k string) string { return map[string]string{"GATEWAY_ENV": "production"}[k] })
	ctx := requestIDKey.With(context.Background(), "r-1")
	RedisLogger(logger).Printf(ctx, "redis: connection pool: failed to dial after %d attempts: %v", 5, "connection refused")
	lines := jsonLines(t, buf.String())
	if len(lines) != 1 || lines[0]["level"] != "WARN" || lines[0]["component"] != "go-redis" || lines[0]["request_id"] != "r-1" ||
		lines[0]["msg"] != "redis client: connection pool: failed to dial after 5 attempts: connection refused" {
		t.Errorf("go-redis line = %v", lines)
	}
}
