package telemetry

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/workablegw/gateway/gqlext"
	"github.com/workablegw/gateway/workable"
)

// metricsNamespace prefixes every series: workable_gateway_….
const metricsNamespace = "workable_gateway"

// Outcomes of a GraphQL request, the outcome label of graphql_requests_total.
const (
	OutcomeOK      = "ok"      // no errors
	OutcomeError   = "error"   // errors and no data
	OutcomePartial = "partial" // errors next to some data
)

// Results of a cache lookup, the result label of cache_lookups_total.
const (
	CacheHit   = "hit"
	CacheMiss  = "miss"
	CacheStale = "stale"
)

// Metrics holds the gateway's Prometheus series. Every label value is
// bounded by construction: an operation name is a label only when the
// operator listed it (WithOperations), else it counts as "other"; Workable
// routes are templates; error codes are the gateway's own constants; and
// credentials are names chosen by an admin, never tokens.
type Metrics struct {
	graphqlRequests  *prometheus.CounterVec
	graphqlDuration  *prometheus.HistogramVec
	workableCalls    *prometheus.CounterVec
	workableDuration *prometheus.HistogramVec
	cacheLookups     *prometheus.CounterVec
	rateLimitWait    *prometheus.HistogramVec
	rateRemaining    *prometheus.GaugeVec
	rateWaiting      *prometheus.GaugeVec
	rateLocalShare   *prometheus.GaugeVec
	staleAnswers     *prometheus.CounterVec
	refusals         *prometheus.CounterVec
	buildInfo        *prometheus.GaugeVec

	// operations are the operation names that may be labels (see
	// WithOperations); every other name is "other", so that no client can
	// add series, whatever names it sends or registers as persisted
	// queries (automatic persisted queries are open to every client).
	operations map[string]bool
	// version and revision label build_info.
	version, revision string
}

// counterVec, gaugeVec and histogramVec make one of the gateway's series:
// its name (under the workable_gateway_ namespace), labels and help.
func counterVec(name string, labels []string, help string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Name: name, Help: help}, labels)
}

func gaugeVec(name string, labels []string, help string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: name, Help: help}, labels)
}

func histogramVec(name string, buckets []float64, labels []string, help string) *prometheus.HistogramVec {
	opts := prometheus.HistogramOpts{Namespace: metricsNamespace, Name: name, Help: help, Buckets: buckets}
	return prometheus.NewHistogramVec(opts, labels)
}

// MetricsOption configures NewMetrics.
type MetricsOption func(*Metrics)

// WithOperations lists the operation names that graphql_requests_total and
// graphql_request_duration_seconds may use as their operation label, such
// as the operations of the frontends and scripts an operator knows. Any
// other name counts as "other"; an anonymous operation as "anonymous" and
// a request whose document did not validate as "invalid". Names that are
// not GraphQL names (see ValidOperationName) are ignored.
func WithOperations(names ...string) MetricsOption {
	return func(m *Metrics) {
		for _, n := range names {
			if ValidOperationName(n) {
				m.operations[n] = true
			}
		}
	}
}

// WithBuildInfo sets the version and VCS revision that build_info reports
// (default "unknown").
func WithBuildInfo(version, revision string) MetricsOption {
	return func(m *Metrics) { m.version, m.revision = version, revision }
}

// NewMetrics creates the gateway's series and registers them with reg
// (nothing is registered when reg is nil). It also registers the Go runtime
// and process collectors, unless reg already has them (as
// prometheus.DefaultRegisterer does). It panics if the gateway's own series
// are already registered with reg: use one registry per Metrics (tests
// create a fresh prometheus.NewRegistry each).
func NewMetrics(reg prometheus.Registerer, opts ...MetricsOption) *Metrics {
	m := &Metrics{
		operations: make(map[string]bool),
		version:    "unknown",
		revision:   "unknown",
		graphqlRequests: counterVec("graphql_requests_total", []string{"operation", "outcome"},
			"GraphQL requests by operation name and outcome (ok, error, partial)."),
		graphqlDuration: histogramVec("graphql_request_duration_seconds", []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}, []string{"operation"},
			"Time from the start of a GraphQL request to its response, by operation name."),
		workableCalls: counterVec("workable_calls_total", []string{"route", "status"},
			"HTTP attempts to Workable (retries included) by route template and status code (\"error\" when no response arrived)."),
		workableDuration: histogramVec("workable_call_duration_seconds", []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}, []string{"route"},
			"Duration of one HTTP attempt to Workable, by route template, not counting rate-limit waits."),
		cacheLookups: counterVec("cache_lookups_total", []string{"kind", "result"},
			"Cache lookups by kind of data and result (hit, miss, stale)."),
		rateLimitWait: histogramVec("ratelimit_wait_seconds", []float64{.001, .01, .05, .1, .25, .5, 1, 2, 5, 10, 20, 30}, []string{"credential"},
			"Time spent waiting for Workable rate budget before a call, by credential name."),
		rateRemaining: gaugeVec("ratelimit_remaining", []string{"credential"},
			"Requests left in the current Workable rate window (X-Rate-Limit-Remaining), by credential name."),
		rateWaiting: gaugeVec("ratelimit_waiting", []string{"credential"},
			"Workable calls waiting for rate budget right now, by credential name."),
		rateLocalShare: gaugeVec("ratelimit_local_share", []string{"credential"},
			"Requests per Workable window this replica allows itself while it cannot reach the rate budget shared in Redis (its share: the limit divided by the live replicas), by credential name; 0 while it uses the shared budget."),
		staleAnswers: counterVec("stale_answers_total", []string{"kind"},
			"Answers served from stale cache entries because Workable was unavailable or out of budget, by kind of data."),
		refusals: counterVec("refusals_total", []string{"code"},
			"Requests refused before any resolver ran (401, 403, 413, 415, 429, parse and validation errors, query limits, …), by extensions.code."),
		buildInfo: gaugeVec("build_info", []string{"version", "revision", "go_version"},
			"Always 1; its labels say which build of the gateway runs: version, VCS revision and Go version."),
	}
	for _, o := range opts {
		o(m)
	}
	m.buildInfo.WithLabelValues(m.version, m.revision, runtime.Version()).Set(1)
	if reg == nil {
		return m
	}
	reg.MustRegister(m.graphqlRequests, m.graphqlDuration, m.workableCalls, m.workableDuration,
		m.cacheLookups, m.rateLimitWait, m.rateRemaining, m.rateWaiting, m.rateLocalShare, m.staleAnswers, m.refusals, m.buildInfo)
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		// The default registry already has these; a fresh one does not.
		var already prometheus.AlreadyRegisteredError
		if err := reg.Register(c); err != nil && !errors.As(err, &already) {
			panic(err)
		}
	}
	return m
}

// Handler serves the series gathered from g in the Prometheus text format,
// for GET /metrics.
func (m *Metrics) Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

// GraphQLExtension returns a gqlgen extension that counts every GraphQL
// response by operation and outcome and observes its duration, from the
// start of the request (parsing included) to the response. Requests refused
// before execution (parse or validation errors, an unknown persisted query)
// count too, with outcome "error".
func (m *Metrics) GraphQLExtension() graphql.HandlerExtension {
	return metricsExtension{Name: "PrometheusMetrics", m: m}
}

// WorkableHook returns a workable.WithRequestHook function that counts every
// HTTP attempt by route template and status and observes its duration.
// It does not touch the request's RequestStats: the gateway has one source
// for a request's Workable calls (the graph layer's cost hook, which feeds
// both extensions.cost and RequestStats.WorkableCalls), so that the log line
// and the response always agree and no call is counted twice. credential
// names the token the client uses (e.g. "default" or the subdomain), never
// the token itself; the workable_calls series carry no credential label (it
// would multiply their cardinality), so the name only documents the wiring
// today. The per-credential series come from InstrumentLimiter.
func (m *Metrics) WorkableHook(credential string) func(ctx context.Context, e workable.RequestEvent) {
	return func(ctx context.Context, e workable.RequestEvent) {
		status := "error"
		if e.Status != 0 {
			status = strconv.Itoa(e.Status)
		}
		route := e.Route
		if route == "" {
			route = "unknown"
		}
		m.workableCalls.WithLabelValues(route, status).Inc()
		m.workableDuration.WithLabelValues(route).Observe(e.Duration.Seconds())
	}
}

// ObserveRequest counts one GraphQL request of operation (a label from
// OperationLabel) with outcome OutcomeOK, OutcomeError or OutcomePartial and
// observes its duration d. GraphQLExtension calls it for every response
// gqlgen produces; call it directly for responses served without gqlgen,
// such as whole responses from a response cache.
func (m *Metrics) ObserveRequest(operation, outcome string, d time.Duration) {
	operation = m.operationLabel(operation)
	m.graphqlRequests.WithLabelValues(operation, outcome).Inc()
	m.graphqlDuration.WithLabelValues(operation).Observe(max(d, 0).Seconds())
}

// operationLabel returns operation when it is one of the fixed labels
// (anonymous, invalid, other) or an allowed name (WithOperations), else
// "other".
func (m *Metrics) operationLabel(operation string) string {
	switch {
	case operation == "anonymous", operation == "invalid", operation == "other", m.operations[operation]:
		return operation
	}
	return "other"
}

// ObserveRefusal counts one request refused before any resolver ran, by
// its extensions.code. A code that does not look like one of the
// gateway's (upper-case letters, digits and _, at most 48 characters)
// counts as OTHER, so the series stay bounded whatever a code holds.
func (m *Metrics) ObserveRefusal(code string) {
	if !validCode(code) {
		code = "OTHER"
	}
	m.refusals.WithLabelValues(code).Inc()
}

// validCode reports whether code looks like an extensions.code of the
// gateway: [A-Z][A-Z0-9_]{0,47}.
func validCode(code string) bool {
	const codeChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
	return code != "" && len(code) <= 48 && code[0] >= 'A' && code[0] <= 'Z' && strings.Trim(code, codeChars) == ""
}

// ObserveCache counts n lookups of kind (e.g. "candidate", "job") with
// result CacheHit, CacheMiss or CacheStale. n <= 0 is ignored.
func (m *Metrics) ObserveCache(kind, result string, n int) {
	if n <= 0 {
		return
	}
	m.cacheLookups.WithLabelValues(kind, result).Add(float64(n))
}

// ObserveRateLimitWait records that a call under credential waited d for
// rate budget; callers that did not wait record 0, so the histogram's count
// is the number of calls and its sum the total wait.
func (m *Metrics) ObserveRateLimitWait(credential string, d time.Duration) {
	m.rateLimitWait.WithLabelValues(credential).Observe(max(d, 0).Seconds())
}

// SetRateRemaining records the latest X-Rate-Limit-Remaining seen for
// credential.
func (m *Metrics) SetRateRemaining(credential string, n int) {
	m.rateRemaining.WithLabelValues(credential).Set(float64(n))
}

// SetLocalShare records the requests per window credential's budget allows
// this replica on its own while Redis is unreachable; 0 when it is back on
// the shared budget.
func (m *Metrics) SetLocalShare(credential string, n int) {
	m.rateLocalShare.WithLabelValues(credential).Set(float64(n))
}

// ObserveStale counts one answer of kind served from a stale cache entry.
func (m *Metrics) ObserveStale(kind string) {
	m.staleAnswers.WithLabelValues(kind).Inc()
}

// InstrumentLimiter wraps l so that every Wait is observed in
// ratelimit_wait_seconds{credential} (and counted in
// ratelimit_waiting{credential} while it lasts) and every usable X-Rate-Limit-Remaining
// that the client passes to Observe sets ratelimit_remaining{credential}.
// Pass the result to workable.WithRateLimiter. credential is a name, never
// the token.
func (m *Metrics) InstrumentLimiter(credential string, l workable.RateLimiter) workable.RateLimiter {
	return &instrumentedLimiter{m: m, credential: credential, next: l}
}

// instrumentedLimiter is InstrumentLimiter's wrapper.
type instrumentedLimiter struct {
	m          *Metrics
	credential string
	next       workable.RateLimiter
}

// Wait waits on the wrapped limiter and records how long it took, also when
// it gives up.
func (l *instrumentedLimiter) Wait(ctx context.Context, p workable.Priority) error {
	start := time.Now()
	waiting := l.m.rateWaiting.WithLabelValues(l.credential)
	waiting.Inc()
	err := l.next.Wait(ctx, p)
	waiting.Dec()
	l.m.ObserveRateLimitWait(l.credential, time.Since(start))
	return err
}

// Observe passes r on and records r.Remaining when the response carried
// usable rate headers (a zero Reset says nothing about the budget).
func (l *instrumentedLimiter) Observe(r workable.Rate) {
	l.next.Observe(r)
	if !r.Reset.IsZero() {
		l.m.SetRateRemaining(l.credential, r.Remaining)
	}
}

// Budget passes on the wrapped limiter's budget, so that an instrumented
// limiter still answers workableBudget.
func (l *instrumentedLimiter) Budget(ctx context.Context) (workable.Budget, error) {
	if br, ok := l.next.(workable.BudgetReporter); ok {
		return br.Budget(ctx)
	}
	return workable.Budget{}, workable.ErrNoBudget
}

// metricsExtension is the gqlgen side of Metrics.
type metricsExtension struct {
	gqlext.Name
	m *Metrics
}

var _ graphql.ResponseInterceptor = metricsExtension{}

// InterceptResponse observes each response. A query or mutation has one; a
// streamed operation (subscription, @defer) would count once per part.
func (e metricsExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	if graphql.HasOperationContext(ctx) {
		if s := graphql.GetOperationContext(ctx).Stats.OperationStart; !s.IsZero() {
			start = s
		}
	}
	resp := next(ctx)
	if resp == nil { // end of a stream, not a response
		return resp
	}
	e.m.ObserveRequest(requestLabel(ctx), outcome(resp), time.Since(start))
	return resp
}

// outcome classifies a response: no errors is ok; errors with no data is
// error; errors next to data is partial.
func outcome(resp *graphql.Response) string {
	if len(resp.Errors) == 0 {
		return OutcomeOK
	}
	if d := string(resp.Data); d == "" || d == "null" || d == "{}" {
		return OutcomeError
	}
	return OutcomePartial
}

// requestLabel is OperationLabel for a request whose document was parsed
// and validated, and "invalid" for one that was not: the name a client sends
// with a broken document is not worth a series.
func requestLabel(ctx context.Context) string {
	if graphql.HasOperationContext(ctx) && graphql.GetOperationContext(ctx).Operation == nil {
		return "invalid"
	}
	return OperationLabel(ctx)
}

// OperationLabel returns the operation name of the GraphQL request in ctx,
// bounded for use as a metric label or span name: "anonymous" when the
// operation has no name, "other" when the name is not a plausible GraphQL
// name of at most 64 characters ([A-Za-z_][A-Za-z0-9_]{0,63}).
func OperationLabel(ctx context.Context) string {
	return boundedOperationName(rawOperationName(ctx))
}

// rawOperationName is the client's operationName, else the name in the
// document of the operation being run, else "".
func rawOperationName(ctx context.Context) string {
	if !graphql.HasOperationContext(ctx) {
		return ""
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.OperationName != "" {
		return oc.OperationName
	}
	if oc.Operation != nil {
		return oc.Operation.Name
	}
	return ""
}

// boundedOperationName maps name to itself when it matches
// [A-Za-z_][A-Za-z0-9_]{0,63}, "" to "anonymous" and anything else to
// "other".
func boundedOperationName(name string) string {
	switch {
	case name == "":
		return "anonymous"
	case ValidOperationName(name):
		return name
	default:
		return "other"
	}
}

// ValidOperationName reports whether name is a GraphQL name of at most 64
// characters ([A-Za-z_][A-Za-z0-9_]{0,63}), the operation names the
// metrics and spans accept.
func ValidOperationName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
