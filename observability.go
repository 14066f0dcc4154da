package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/workablegw/gateway/graph"
	"github.com/workablegw/gateway/telemetry"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// The gateway's observability wiring: one logger, one Prometheus
// registry with the gateway's series, and one tracer provider per process,
// built from the settings in run() and handed to every part that reports.
// The building blocks are in the telemetry package.

// apqTTL is how long a persisted query stays in Redis after its last use.
const apqTTL = 24 * time.Hour

// tracingShutdownTimeout bounds how long the last spans may take to reach
// the collector when the gateway stops.
const tracingShutdownTimeout = 5 * time.Second

// observability holds the process's logger, metrics and tracer.
type observability struct {
	logger   *slog.Logger
	registry *prometheus.Registry
	metrics  *telemetry.Metrics
	// tracer is nil when tracing is off (no OTLP endpoint configured), so
	// that nothing pays for spans nobody collects.
	tracer          trace.TracerProvider
	shutdownTracing func(context.Context) error
	// slowQuery is the duration over which a /query request logs a
	// slow-query warning (0: never).
	slowQuery time.Duration
}

// newObservability reads the logging and tracing settings through getenv
// (LOG_FORMAT, LOG_LEVEL, GATEWAY_ENV, OTEL_*; see telemetry.NewLogger and
// telemetry.SetupTracing; pass settingsEnv's getenv, which fills in the
// defaults) and cfg's (SLOW_QUERY_THRESHOLD, METRICS_OPERATIONS), and
// builds the process's logger (writing to stderr), metrics registry and
// tracer provider. Call close when the gateway stops.
func newObservability(ctx context.Context, getenv func(string) string, stderr io.Writer, cfg config) (*observability, error) {
	logger := telemetry.NewLogger(stderr, getenv)
	version, revision := buildInfo()
	tp, shutdown, err := telemetry.SetupTracing(ctx, getenv, version)
	if err != nil {
		return nil, err
	}
	o := newObservabilityWith(logger, tp, telemetry.WithOperations(cfg.MetricsOperations...), telemetry.WithBuildInfo(version, revision))
	o.slowQuery = cfg.SlowQueryThreshold
	o.shutdownTracing = shutdown
	if o.tracer != nil {
		logger.Info("tracing on: sending spans over OTLP/HTTP")
	}
	return o, nil
}

// newObservabilityWith builds the observability of a gateway from a logger
// and a tracer provider (a no-op one, or nil, turns tracing off), with a
// fresh metrics registry built with opts.
func newObservabilityWith(logger *slog.Logger, tp trace.TracerProvider, opts ...telemetry.MetricsOption) *observability {
	reg := prometheus.NewRegistry()
	o := &observability{
		logger:          logger,
		registry:        reg,
		metrics:         telemetry.NewMetrics(reg, opts...),
		shutdownTracing: func(context.Context) error { return nil },
	}
	if _, off := tp.(noop.TracerProvider); tp != nil && !off {
		o.tracer = tp
	}
	return o
}

// close flushes the last spans, within tracingShutdownTimeout.
func (o *observability) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), tracingShutdownTimeout)
	defer cancel()
	if err := o.shutdownTracing(ctx); err != nil {
		return fmt.Errorf("flush traces: %w", err)
	}
	return nil
}

// workableOptions returns the options that instrument a Workable client of
// the credential named credential (a nickname such as "default", never the
// token) whose rate budget is limiter: a metrics hook counting every call
// by route and status, the limiter instrumented for rate-limit waits and
// the remaining budget, and, with tracing on, an HTTP client making a span
// per call. Pass them to workable.NewClient with the other options,
// including workable.WithRequestHook(upstream.CountWorkableCalls), which is not
// among them (it feeds extensions.cost and the log line).
func (o *observability) workableOptions(credential string, limiter workable.RateLimiter) []workable.Option {
	opts := []workable.Option{
		workable.WithRequestHook(o.metrics.WorkableHook(credential)),
		workable.WithRateLimiter(o.metrics.InstrumentLimiter(credential, limiter)),
	}
	if o.tracer != nil {
		// The Workable client adds its redirect guard (same origin only).
		opts = append(opts, workable.WithHTTPClient(&http.Client{
			Transport: telemetry.Transport(o.tracer, nil),
		}))
	}
	return opts
}

// configureUpstream sets the observability fields of the economies'
// configuration: the cache observer and the tracer.
func (o *observability) configureUpstream(cfg *upstream.Config) {
	cfg.Observer = o.metrics
	if o.tracer != nil {
		cfg.TracerProvider = o.tracer
	}
}

// configureGraph sets the observability fields of the GraphQL handler's
// configuration: the metrics, tracing and log extensions and, when rdb is
// set, automatic persisted queries stored in Redis under keyPrefix+"apq:"
// (shared by every replica).
func (o *observability) configureGraph(cfg *graph.Config, rdb redis.UniversalClient, keyPrefix string) {
	cfg.Extensions = append(cfg.Extensions, o.extensions()...)
	if rdb != nil {
		cfg.APQCache = telemetry.NewAPQCache(rdb, keyPrefix+"apq:", apqTTL)
	}
}

// extensions returns the gqlgen extensions of the observability: the
// operation name for the log line, metrics, and (with tracing on) a span per
// operation and per resolver.
func (o *observability) extensions() []graphql.HandlerExtension {
	exts := []graphql.HandlerExtension{
		telemetry.OperationNameExtension(),
		o.metrics.GraphQLExtension(),
	}
	if o.tracer != nil {
		exts = append(exts, telemetry.TracingExtension(o.tracer))
	}
	return exts
}

// metricsHandler serves GET /metrics from the gateway's own registry.
func (o *observability) metricsHandler() http.Handler {
	return o.metrics.Handler(o.registry)
}

// wrap gives every request, whatever route answers it (401s and 413s
// included), a request id, RequestStats and one log line (with a
// slow-query warning past SLOW_QUERY_THRESHOLD), and counts refusals by
// code. It must be the outermost wrapper.
func (o *observability) wrap(h http.Handler) http.Handler {
	return telemetry.RequestLogger(o.logger, h,
		telemetry.WithSlowThreshold(o.slowQuery), telemetry.WithRefusalMetrics(o.metrics))
}
