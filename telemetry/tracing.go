package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/workablegw/gateway/gqlext"
)

// DefaultServiceName is the service.name of the gateway's spans when
// OTEL_SERVICE_NAME is unset.
const DefaultServiceName = "workable-graphql-gateway"

// tracerName is the instrumentation scope of every span made here.
const tracerName = "github.com/workablegw/gateway/telemetry"

// GraphQLFieldKey is the attribute naming the field a resolver span
// resolves, as "Type.field" (never a path with aliases or indices, never
// argument values).
const GraphQLFieldKey = attribute.Key("graphql.field")

// SetupTracing returns the gateway's tracer provider, configured through
// getenv with the standard OpenTelemetry settings:
//
//   - OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is) or
//     OTEL_EXPORTER_OTLP_ENDPOINT (to which "/v1/traces" is appended): when
//     either is set, spans go to that OTLP/HTTP endpoint through a batch
//     span processor; when neither is, the provider is a no-op and costs
//     nothing.
//   - OTEL_SERVICE_NAME: the service.name resource attribute, default
//     DefaultServiceName; serviceVersion becomes service.version.
//   - OTEL_SDK_DISABLED=true: a no-op provider whatever else is set.
//   - OTEL_EXPORTER_OTLP_PROTOCOL / OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: only
//     "http/protobuf" (the default) is supported.
//
// The exporter itself still reads the other OTEL_EXPORTER_OTLP_* settings
// (headers, timeout, compression, certificates) and the SDK reads
// OTEL_TRACES_SAMPLER* from the process environment, as the SDK documents.
//
// Nothing is set globally: pass the provider to TracingExtension, Transport
// and StartSpan. Call shutdown (always non-nil) when the server stops, with
// a context bounding how long the last spans may take to flush.
func SetupTracing(ctx context.Context, getenv func(string) string, serviceVersion string) (tp trace.TracerProvider, shutdown func(context.Context) error, err error) {
	nop := func(context.Context) error { return nil }
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return noop.NewTracerProvider(), nop, nil
	}
	endpoint, err := otlpTracesEndpoint(getenv)
	if err != nil || endpoint == "" {
		return noop.NewTracerProvider(), nop, err
	}
	for _, k := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v := strings.TrimSpace(getenv(k)); v != "" && v != "http/protobuf" {
			return noop.NewTracerProvider(), nop, fmt.Errorf("set up tracing: %s=%q is not supported, use http/protobuf", k, v)
		}
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return noop.NewTracerProvider(), nop, fmt.Errorf("set up tracing: create the OTLP exporter: %w", err)
	}
	name := strings.TrimSpace(getenv("OTEL_SERVICE_NAME"))
	if name == "" {
		name = DefaultServiceName
	}
	attrs := []attribute.KeyValue{semconv.ServiceName(name)}
	if serviceVersion != "" {
		attrs = append(attrs, semconv.ServiceVersion(serviceVersion))
	}
	sdk := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, attrs...)),
	)
	return sdk, sdk.Shutdown, nil
}

// otlpTracesEndpoint returns the URL spans are sent to, or "" when tracing
// is off. The signal-specific setting wins and is used as is; the general
// one gets the OTLP/HTTP traces path appended, as the specification says.
func otlpTracesEndpoint(getenv func(string) string) (string, error) {
	key, raw := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
	general := raw == ""
	if general {
		key, raw = "OTEL_EXPORTER_OTLP_ENDPOINT", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
	}
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The value may carry credentials in user info: never echo it.
		return "", fmt.Errorf("set up tracing: %s must be an absolute http(s) URL such as http://otel-collector:4318", key)
	}
	if general {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	}
	return u.String(), nil
}

// tracer returns the gateway's tracer from tp, or a no-op one when tp is nil.
func tracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer(tracerName)
}

// StartSpan starts an internal span named name as a child of the span in
// ctx, for work that is neither a resolver nor an HTTP call: dataloader
// batches ("dataloader candidates", with the batch size) and cache calls
// ("cache GetMany"). attrs must hold no personal data. The caller ends the
// span.
func StartSpan(ctx context.Context, tp trace.TracerProvider, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return tracer(tp).Start(ctx, name, trace.WithAttributes(attrs...))
}

// TracingExtension returns a gqlgen extension that makes a span per GraphQL
// operation, named "graphql <operation>" (the name bounded as by
// OperationLabel), with a child span per field served by a resolver
// (FieldContext.IsResolver: the fields that may do I/O; plain struct fields
// and model getters get none). Spans carry graphql.operation.type,
// graphql.operation.name and graphql.field ("Type.field"); never the query
// text, variables or argument values. A failing operation or resolver gets
// status Error with the error's Go type in error.type but not its message,
// which may quote user input. When the request carries a W3C traceparent
// header, the operation span continues that trace.
func TracingExtension(tp trace.TracerProvider) graphql.HandlerExtension {
	return tracingExtension{Name: "OpenTelemetryTracing", tracer: tracer(tp)}
}

type tracingExtension struct {
	gqlext.Name
	tracer trace.Tracer
}

var _ interface {
	graphql.ResponseInterceptor
	graphql.FieldInterceptor
} = tracingExtension{}

// InterceptResponse wraps the production of a response (where gqlgen runs
// the resolvers) in the operation span. The span starts at the start of the
// request, so parsing and validation are inside it.
func (t tracingExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	op := OperationLabel(ctx)
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(semconv.GraphQLOperationName(op)),
	}
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		if oc.Operation != nil {
			opts = append(opts, trace.WithAttributes(semconv.GraphQLOperationTypeKey.String(string(oc.Operation.Operation))))
		}
		if !oc.Stats.OperationStart.IsZero() {
			opts = append(opts, trace.WithTimestamp(oc.Stats.OperationStart))
		}
	}
	ctx, span := t.tracer.Start(t.remoteParent(ctx), "graphql "+op, opts...)
	defer span.End()
	resp := next(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		span.SetAttributes(semconv.ErrorTypeKey.String("graphql_error"), attribute.String("graphql.outcome", outcome(resp)))
		span.SetStatus(codes.Error, "")
	}
	return resp
}

// remoteParent returns ctx with the caller's span from a W3C traceparent
// request header, when ctx has no span yet and the header is valid, so that
// a frontend's trace continues into the gateway.
func (tracingExtension) remoteParent(ctx context.Context) context.Context {
	if trace.SpanContextFromContext(ctx).IsValid() || !graphql.HasOperationContext(ctx) {
		return ctx
	}
	h := graphql.GetOperationContext(ctx).Headers
	if h == nil {
		return ctx
	}
	return propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(h))
}

// InterceptField makes a child span for resolver fields.
func (t tracingExtension) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver {
		return next(ctx)
	}
	field := fc.Object + "." + fc.Field.Name
	ctx, span := t.tracer.Start(ctx, field, trace.WithAttributes(GraphQLFieldKey.String(field)))
	defer span.End()
	res, err := next(ctx)
	if err != nil {
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
		span.SetStatus(codes.Error, "")
	}
	return res, err
}

// errorType names err's Go type, looking through fmt.Errorf wrapping to
// the error that says what happened; never its message.
func errorType(err error) string {
	for {
		t := fmt.Sprintf("%T", err)
		u := errors.Unwrap(err)
		if t != "*fmt.wrapError" || u == nil {
			return t
		}
		err = u
	}
}

// Transport returns a RoundTripper that makes a client span per HTTP
// attempt through base (http.DefaultTransport when nil), for the Workable
// client (workable.WithHTTPClient). The span is named "<METHOD> <template>"
// and carries http.request.method, url.template, server.address and
// http.response.status_code: never the query string, the full path (it
// holds ids), or any header. It ends when the response headers arrive. The
// trace context is not propagated to Workable, which is not ours.
func Transport(tp trace.TracerProvider, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &tracingTransport{tracer: tracer(tp), base: base}
}

type tracingTransport struct {
	tracer trace.Tracer
	base   http.RoundTripper
}

// RoundTrip sends req through the base transport inside a client span.
func (t *tracingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tmpl := RouteTemplate(req.URL.Path)
	ctx, span := t.tracer.Start(req.Context(), req.Method+" "+tmpl,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			semconv.HTTPRequestMethodKey.String(req.Method),
			semconv.URLTemplate(tmpl),
			semconv.ServerAddress(req.URL.Hostname()),
		))
	defer span.End()
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
		span.SetStatus(codes.Error, "")
		return resp, err
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
		span.SetStatus(codes.Error, "")
	}
	return resp, nil
}

// workableStaticSegments are the path segments of the Workable API
// (API.md) that are names, not values; every other segment is an id,
// shortcode or subdomain.
var workableStaticSegments = map[string]bool{
	"jobs": true, "candidates": true, "activities": true, "stages": true, "members": true,
	"accounts": true, "talent_pool": true, "comments": true, "move": true, "disqualify": true,
	"revert": true, "copy": true, "relocate": true, "ratings": true, "tags": true, "files": true,
	"offer": true, "questions": true, "application_form": true, "recruiters": true,
	"subscriptions": true, "disqualification_reasons": true, "update_custom_attribute_value": true,
	"custom_attributes": true, "departments": true, "requisitions": true, "events": true,
	"employees": true, "legal_entities": true, "locations": true,
}

// RouteTemplate turns a Workable request path into its route template,
// e.g. "/spi/v3/candidates/3fc9a80f/activities" into
// "/candidates/{id}/activities" and "/spi/v3/jobs/GROOV005" into
// "/jobs/{shortcode}": everything up to "/spi/v3" is dropped and every
// segment that is not a known name of the API becomes a placeholder named
// after the segment before it ({shortcode} after jobs, {subdomain} after
// accounts, {id} elsewhere). The result never holds an id and has bounded
// cardinality.
func RouteTemplate(path string) string {
	if _, rest, ok := strings.Cut(path, "/spi/v3/"); ok {
		path = rest
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var b strings.Builder
	prev := ""
	for _, s := range segs {
		if s == "" {
			continue
		}
		b.WriteByte('/')
		switch {
		case workableStaticSegments[s]:
			b.WriteString(s)
		case prev == "jobs":
			b.WriteString("{shortcode}")
		case prev == "accounts":
			b.WriteString("{subdomain}")
		default:
			b.WriteString("{id}")
		}
		prev = s
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}
