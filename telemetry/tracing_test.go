package telemetry

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// secrets are values that must never appear in a span: an argument value
// (an e-mail), a candidate id, a name from a response, a token, a query
// string.
var secrets = []string{"ada@example.com", "ada%40example.com", "3fc9a80f", "Ada Lovelace", "s3cr3t-token", "email=", "Bearer"}

// newRecorder returns a tracer provider recording ended spans in memory.
func newRecorder(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, sr
}

// spanView is what the tests compare of a span.
type spanView struct {
	Name   string
	Parent string // name of the parent span, "" for a root
	Kind   trace.SpanKind
	Status codes.Code
	Attrs  map[string]string
}

// views turns recorded spans into spanViews, in end order.
func views(spans []sdktrace.ReadOnlySpan) []spanView {
	names := map[trace.SpanID]string{}
	for _, s := range spans {
		names[s.SpanContext().SpanID()] = s.Name()
	}
	var out []spanView
	for _, s := range spans {
		v := spanView{Name: s.Name(), Kind: s.SpanKind(), Status: s.Status().Code, Attrs: map[string]string{}}
		if s.Parent().IsValid() {
			v.Parent = names[s.Parent().SpanID()]
			if v.Parent == "" {
				v.Parent = "<unknown>"
			}
		}
		for _, a := range s.Attributes() {
			v.Attrs[string(a.Key)] = a.Value.String()
		}
		out = append(out, v)
	}
	return out
}

// checkNoSecrets fails t if any span's name, attributes, status, events or
// links hold one of secrets.
func checkNoSecrets(t *testing.T, spans []sdktrace.ReadOnlySpan) {
	t.Helper()
	for _, s := range spans {
		text := fmt.Sprintf("%s %v %v %v %v", s.Name(), s.Attributes(), s.Status(), s.Events(), s.Links())
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("span %q holds %q: %s", s.Name(), secret, text)
			}
		}
	}
}

func TestTracingExtensionSpans(t *testing.T) {
	t.Parallel()

	// A fake Workable behind the traced transport.
	workableSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"candidate":{"id":"3fc9a80f"}}`)
	}))
	t.Cleanup(workableSrv.Close)

	tests := []struct {
		name string
		req  gqlRequest
		want []spanView
	}{
		{
			name: "resolver with cache call and Workable call",
			req: gqlRequest{
				Query:     `query FindCandidate($email: String!) { candidate(email: $email) { name email } version }`,
				Variables: map[string]any{"email": "ada@example.com"},
			},
			want: []spanView{
				{Name: "cache GetMany", Parent: "Query.candidate", Kind: trace.SpanKindInternal,
					Attrs: map[string]string{"cache.kind": "candidate", "cache.keys": "1"}},
				{Name: "GET /candidates/{id}", Parent: "Query.candidate", Kind: trace.SpanKindClient,
					Attrs: map[string]string{"http.request.method": "GET", "url.template": "/candidates/{id}",
						"server.address": "127.0.0.1", "http.response.status_code": "200"}},
				{Name: "Query.candidate", Parent: "graphql FindCandidate", Kind: trace.SpanKindInternal,
					Attrs: map[string]string{"graphql.field": "Query.candidate"}},
				{Name: "graphql FindCandidate", Kind: trace.SpanKindServer,
					Attrs: map[string]string{"graphql.operation.name": "FindCandidate", "graphql.operation.type": "query"}},
			},
		},
		{
			name: "failing resolver: no message in the span",
			req:  gqlRequest{Query: `query Broken { fail version }`},
			want: []spanView{
				{Name: "Query.fail", Parent: "graphql Broken", Kind: trace.SpanKindInternal, Status: codes.Error,
					Attrs: map[string]string{"graphql.field": "Query.fail", "error.type": "*errors.errorString"}},
				{Name: "graphql Broken", Kind: trace.SpanKindServer, Status: codes.Error,
					Attrs: map[string]string{"graphql.operation.name": "Broken", "graphql.operation.type": "query",
						"error.type": "graphql_error", "graphql.outcome": "partial"}},
			},
		},
		{
			name: "parse error: one operation span",
			req:  gqlRequest{Query: `{ candidate(email: "ada@example.com") `},
			want: []spanView{
				{Name: "graphql anonymous", Kind: trace.SpanKindServer, Status: codes.Error,
					Attrs: map[string]string{"graphql.operation.name": "anonymous", "error.type": "graphql_error", "graphql.outcome": "error"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tp, sr := newRecorder(t)
			schema := newToySchema()
			client := &http.Client{Transport: Transport(tp, nil)}
			schema.onCandidate = func(ctx context.Context, email string) error {
				_, span := StartSpan(ctx, tp, "cache GetMany", attribute.String("cache.kind", "candidate"), attribute.Int("cache.keys", 1))
				span.End()
				req, err := http.NewRequestWithContext(ctx, http.MethodGet,
					workableSrv.URL+"/spi/v3/candidates/3fc9a80f?email="+strings.ReplaceAll(email, "@", "%40"), nil)
				if err != nil {
					return err
				}
				req.Header.Set("Authorization", "Bearer s3cr3t-token")
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				return resp.Body.Close()
			}
			ts := toyServer(t, schema, nil, TracingExtension(tp))
			post(t, ts, tt.req, nil)

			spans := sr.Ended()
			if diff := cmp.Diff(tt.want, views(spans)); diff != "" {
				t.Errorf("spans (-want +got):\n%s", diff)
			}
			checkNoSecrets(t, spans)
			if len(spans) > 0 {
				trace := spans[0].SpanContext().TraceID()
				for _, s := range spans {
					if s.SpanContext().TraceID() != trace {
						t.Errorf("span %q is in another trace", s.Name())
					}
				}
			}
		})
	}
}

func TestTracingExtensionContinuesCallerTrace(t *testing.T) {
	t.Parallel()
	tp, sr := newRecorder(t)
	ts := toyServer(t, newToySchema(), nil, TracingExtension(tp))
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	post(t, ts, gqlRequest{Query: `query Version { version }`},
		http.Header{"Traceparent": {"00-" + traceID + "-" + parentID + "-01"}})
	spans := sr.Ended()
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1", len(spans))
	}
	got := spans[0]
	if got.SpanContext().TraceID().String() != traceID || got.Parent().SpanID().String() != parentID || !got.Parent().IsRemote() {
		t.Errorf("span %q: trace %s parent %s (remote %v); want trace %s parent %s (remote)",
			got.Name(), got.SpanContext().TraceID(), got.Parent().SpanID(), got.Parent().IsRemote(), traceID, parentID)
	}
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransport(t *testing.T) {
	t.Parallel()
	respond := func(status int) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Header.Get("Traceparent") != "" {
				return nil, errors.New("trace context leaked to Workable")
			}
			return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: r}, nil
		})
	}
	tests := []struct {
		name    string
		method  string
		url     string
		base    http.RoundTripper
		want    spanView
		wantErr bool
	}{
		{
			name: "candidate with query string", method: "GET",
			url:  "https://acme.workable.com/spi/v3/candidates/3fc9a80f/activities?limit=50&email=ada%40example.com",
			base: respond(200),
			want: spanView{Name: "GET /candidates/{id}/activities", Kind: trace.SpanKindClient, Attrs: map[string]string{
				"http.request.method": "GET", "url.template": "/candidates/{id}/activities",
				"server.address": "acme.workable.com", "http.response.status_code": "200"}},
		},
		{
			name: "404 is an error", method: "PATCH",
			url:  "https://acme.workable.com/spi/v3/candidates/3fc9a80f",
			base: respond(404),
			want: spanView{Name: "PATCH /candidates/{id}", Kind: trace.SpanKindClient, Status: codes.Error, Attrs: map[string]string{
				"http.request.method": "PATCH", "url.template": "/candidates/{id}",
				"server.address": "acme.workable.com", "http.response.status_code": "404", "error.type": "404"}},
		},
		{
			name: "create: shortcode templated", method: "POST",
			url:  "https://acme.workable.com/spi/v3/jobs/GROOV005/candidates",
			base: respond(201),
			want: spanView{Name: "POST /jobs/{shortcode}/candidates", Kind: trace.SpanKindClient, Attrs: map[string]string{
				"http.request.method": "POST", "url.template": "/jobs/{shortcode}/candidates",
				"server.address": "acme.workable.com", "http.response.status_code": "201"}},
		},
		{
			name: "transport error: type, not message", method: "GET",
			url: "https://acme.workable.com/spi/v3/candidates/3fc9a80f?email=ada%40example.com",
			base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				return nil, fmt.Errorf("get %s with Bearer s3cr3t-token: %w", r.URL, errors.New("connection refused"))
			}),
			wantErr: true,
			want: spanView{Name: "GET /candidates/{id}", Kind: trace.SpanKindClient, Status: codes.Error, Attrs: map[string]string{
				"http.request.method": "GET", "url.template": "/candidates/{id}",
				"server.address": "acme.workable.com", "error.type": "*errors.errorString"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tp, sr := newRecorder(t)
			req, err := http.NewRequestWithContext(context.Background(), tt.method, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer s3cr3t-token")
			resp, err := Transport(tp, tt.base).RoundTrip(req)
			if (err != nil) != tt.wantErr {
				t.Fatalf("RoundTrip error = %v, want error: %v", err, tt.wantErr)
			}
			if resp != nil {
				resp.Body.Close()
			}
			spans := sr.Ended()
			if diff := cmp.Diff([]spanView{tt.want}, views(spans)); diff != "" {
				t.Errorf("spans (-want +got):\n%s", diff)
			}
			checkNoSecrets(t, spans)
			if req.Header.Get("Traceparent") != "" {
				t.Error("RoundTrip modified the caller's request")
			}
		})
	}
}

func TestRouteTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct{ path, want string }{
		{"/spi/v3/jobs", "/jobs"},
		{"/spi/v3/jobs/", "/jobs"},
		{"/spi/v3/jobs/GROOV005", "/jobs/{shortcode}"},
		{"/spi/v3/jobs/GROOV005/candidates", "/jobs/{shortcode}/candidates"},
		{"/spi/v3/jobs/GROOV005/activities", "/jobs/{shortcode}/activities"},
		{"/spi/v3/candidates", "/candidates"},
		{"/spi/v3/candidates/3fc9a80f", "/candidates/{id}"},
		{"/spi/v3/candidates/3fc9a80f/activities", "/candidates/{id}/activities"},
		{"/spi/v3/candidates/3fc9a80f/tags", "/candidates/{id}/tags"},
		{"/spi/v3/candidates/3fc9a80f/update_custom_attribute_value", "/candidates/{id}/update_custom_attribute_value"},
		{"/spi/v3/talent_pool/candidates", "/talent_pool/candidates"},
		{"/spi/v3/accounts/groovetech", "/accounts/{subdomain}"},
		{"/spi/v3/stages", "/stages"},
		{"/spi/v3/members", "/members"},
		{"/prefix/spi/v3/candidates/ada@example.com", "/candidates/{id}"},
		{"/other/ada@example.com", "/{id}/{id}"},
		{"", "/"},
		{"/", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := RouteTemplate(tt.path); got != tt.want {
				t.Errorf("RouteTemplate(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestStartSpanNilProvider(t *testing.T) {
	t.Parallel()
	ctx, span := StartSpan(context.Background(), nil, "cache Get")
	defer span.End()
	if span.IsRecording() || trace.SpanFromContext(ctx).IsRecording() {
		t.Error("StartSpan with a nil provider: want a non-recording span")
	}
}

// otlpCollector is a fake OTLP/HTTP collector that keeps what it receives.
type otlpCollector struct {
	mu       sync.Mutex
	paths    []string
	requests []*coltracepb.ExportTraceServiceRequest
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
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.paths = append(c.paths, r.Method+" "+r.URL.Path)
	c.requests = append(c.requests, &req)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Write(resp)
}

// exported is what the collector got: paths, and per span "service
// name/version: span name".
func (c *otlpCollector) exported() (paths, spans []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, req := range c.requests {
		for _, rs := range req.GetResourceSpans() {
			res := map[string]string{}
			for _, kv := range rs.GetResource().GetAttributes() {
				res[kv.GetKey()] = kv.GetValue().GetStringValue()
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					spans = append(spans, res["service.name"]+"/"+res["service.version"]+": "+s.GetName())
				}
			}
		}
	}
	return append([]string(nil), c.paths...), spans
}

func TestSetupTracingExportsOverOTLP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       map[string]string // URL placeholders: {URL}
		wantPath  string
		wantSpans []string
	}{
		{
			name:      "general endpoint, default service name",
			env:       map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "{URL}"},
			wantPath:  "POST /v1/traces",
			wantSpans: []string{DefaultServiceName + "/1.2.3: graphql Jobs"},
		},
		{
			name:      "general endpoint with a path",
			env:       map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "{URL}/otlp/", "OTEL_SERVICE_NAME": "gw-eu"},
			wantPath:  "POST /otlp/v1/traces",
			wantSpans: []string{"gw-eu/1.2.3: graphql Jobs"},
		},
		{
			name: "traces endpoint used as is and wins",
			env: map[string]string{
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "{URL}/custom/traces",
				"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://127.0.0.1:1",
				"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/protobuf",
			},
			wantPath:  "POST /custom/traces",
			wantSpans: []string{DefaultServiceName + "/1.2.3: graphql Jobs"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			col := &otlpCollector{}
			srv := httptest.NewServer(col)
			t.Cleanup(srv.Close)
			getenv := func(k string) string { return strings.ReplaceAll(tt.env[k], "{URL}", srv.URL) }

			tp, shutdown, err := SetupTracing(context.Background(), getenv, "1.2.3")
			if err != nil {
				t.Fatalf("SetupTracing: %v", err)
			}
			_, span := StartSpan(context.Background(), tp, "graphql Jobs")
			if !span.IsRecording() {
				t.Error("span is not recording")
			}
			span.End()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := shutdown(ctx); err != nil { // flushes the batch
				t.Fatalf("shutdown: %v", err)
			}
			paths, spans := col.exported()
			if diff := cmp.Diff([]string{tt.wantPath}, paths); diff != "" {
				t.Errorf("collector requests (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSpans, spans); diff != "" {
				t.Errorf("exported spans (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetupTracingOffOrInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		env         map[string]string
		wantErr     string // substring; "" for no error
		notInErr    string
		wantNoopOff bool
	}{
		{name: "nothing set: no-op", env: map[string]string{"OTEL_SERVICE_NAME": "x"}},
		{name: "SDK disabled", env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}},
		{
			name:     "not a URL, with credentials",
			env:      map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318/user:p4ss"},
			wantErr:  "OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http(s) URL",
			notInErr: "p4ss",
		},
		{
			name:     "traces endpoint with another scheme",
			env:      map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "grpc://user:p4ss@collector:4317"},
			wantErr:  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an absolute http(s) URL",
			notInErr: "p4ss",
		},
		{
			name:    "gRPC protocol",
			env:     map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			wantErr: `OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is not supported`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tp, shutdown, err := SetupTracing(context.Background(), func(k string) string { return tt.env[k] }, "dev")
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("SetupTracing: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("SetupTracing error = %v, want one containing %q", err, tt.wantErr)
			case tt.notInErr != "" && strings.Contains(err.Error(), tt.notInErr):
				t.Errorf("error %q quotes the setting's secret", err)
			}
			if tp == nil || shutdown == nil {
				t.Fatal("SetupTracing returned a nil provider or shutdown")
			}
			_, span := tp.Tracer("t").Start(context.Background(), "x")
			if span.IsRecording() || span.SpanContext().IsValid() {
				t.Error("tracing is off: want a no-op span")
			}
			span.End()
			if err := shutdown(context.Background()); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
	}
}
