package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/workablegw/gateway/ctxkey"
	"github.com/workablegw/gateway/gqlext"
)

// RequestIDHeader is the header a request id is read from and echoed in.
const RequestIDHeader = "X-Request-ID"

// maxLoggedPathLen bounds the path in a log line; /query is what matters,
// a longer path is a probe.
const maxLoggedPathLen = 256

// NewLogger returns the gateway's logger writing to w, configured through
// getenv. Every line logged with the context of a request (see
// RequestLogger) carries its request_id, and the caller's role and key_id
// once the request is authenticated, so that all the lines of a request can
// be found together.
//
//   - LOG_FORMAT: "json" or "text"; when unset, json if GATEWAY_ENV is
//     "production", else text.
//   - LOG_LEVEL: "debug", "info" (default), "warn" or "error".
//
// An unknown value falls back to the default and is reported by one warning
// on the returned logger, so a typo never stops the gateway.
func NewLogger(w io.Writer, getenv func(string) string) *slog.Logger {
	var problems []string

	level := slog.LevelInfo
	if v := strings.TrimSpace(getenv("LOG_LEVEL")); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			level = slog.LevelInfo
			problems = append(problems, "LOG_LEVEL must be debug, info, warn or error; using info")
		}
	}

	jsonLogs, problem := logFormat(getenv)
	if problem != "" {
		problems = append(problems, problem)
	}

	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if jsonLogs {
		h = slog.NewJSONHandler(w, opts)
	}
	logger := slog.New(requestHandler{h})
	for _, p := range problems {
		logger.Warn("invalid logging setting", "problem", p)
	}
	return logger
}

// JSONLogs reports whether NewLogger, given getenv, writes JSON lines
// (LOG_FORMAT, else GATEWAY_ENV), so that what a program prints besides its
// logs can follow the same format.
func JSONLogs(getenv func(string) string) bool {
	jsonLogs, _ := logFormat(getenv)
	return jsonLogs
}

// logFormat reads LOG_FORMAT and GATEWAY_ENV: whether logs are JSON, and
// the problem with a LOG_FORMAT it does not know ("" when none).
func logFormat(getenv func(string) string) (jsonLogs bool, problem string) {
	format := "text"
	if strings.EqualFold(strings.TrimSpace(getenv("GATEWAY_ENV")), "production") {
		format = "json"
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("LOG_FORMAT"))); v {
	case "":
	case "json", "text":
		format = v
	default:
		problem = "LOG_FORMAT must be json or text; using " + format
	}
	return format == "json", problem
}

// RequestStats is what one request cost, filled in while it runs and
// written in its log line. The counters are safe for concurrent use by
// resolvers and dataloader batches. OperationName is set once, by
// OperationNameExtension in the request's goroutine, and read by
// RequestLogger after the handler has returned. Role and KeyID are set
// once, by the authentication middleware, before anything that could log
// in another goroutine starts.
type RequestStats struct {
	OperationName string
	// Role and KeyID name the caller: its role (reader, writer, admin) and
	// its API key's id (a short hash, never the key; "addr:<ip>" while the
	// gateway runs without keys).
	Role, KeyID   string
	WorkableCalls atomic.Int64
	CacheHits     atomic.Int64
	CacheMisses   atomic.Int64
	Stale         atomic.Bool
	// errorCode is the extensions.code of the request's refusal, if it was
	// refused before any resolver ran.
	errorCode atomic.Pointer[string]
}

// SetErrorCode records the code of the request's refusal; the first one
// counts.
func (s *RequestStats) SetErrorCode(code string) {
	s.errorCode.CompareAndSwap(nil, &code)
}

// ErrorCode returns the code of the request's refusal, or "".
func (s *RequestStats) ErrorCode() string {
	if p := s.errorCode.Load(); p != nil {
		return *p
	}
	return ""
}

// statsKey and requestIDKey carry a request's RequestStats and its id.
var (
	statsKey     = ctxkey.New[*RequestStats]("telemetry.RequestStats")
	requestIDKey = ctxkey.New[string]("telemetry.RequestID")
)

// ContextWithStats returns a copy of ctx carrying s; RequestLogger does this
// for every request, tests and other entry points may too.
func ContextWithStats(ctx context.Context, s *RequestStats) context.Context {
	return statsKey.With(ctx, s)
}

// StatsFrom returns the RequestStats of the request in ctx. Outside a
// request (no RequestLogger upstream) it returns a fresh throwaway value,
// so callers never check for nil.
func StatsFrom(ctx context.Context) *RequestStats {
	if s := statsFromContext(ctx); s != nil {
		return s
	}
	return new(RequestStats)
}

func statsFromContext(ctx context.Context) *RequestStats {
	return statsKey.Get(ctx)
}

// RequestIDFrom returns the request id RequestLogger gave the request in
// ctx, or "" outside a request.
func RequestIDFrom(ctx context.Context) string {
	return requestIDKey.Get(ctx)
}

// RequestLogOption configures RequestLogger.
type RequestLogOption func(*requestLogConfig)

type requestLogConfig struct {
	slow    time.Duration
	metrics *Metrics
}

// WithSlowThreshold makes RequestLogger warn about every /query request
// that takes longer than d (a "slow query" line with its operation, cost
// and duration); d <= 0 turns the warning off.
func WithSlowThreshold(d time.Duration) RequestLogOption {
	return func(c *requestLogConfig) { c.slow = d }
}

// WithRefusalMetrics makes RequestLogger count every refused request in
// m's refusals_total, by code.
func WithRefusalMetrics(m *Metrics) RequestLogOption {
	return func(c *requestLogConfig) { c.metrics = m }
}

// RequestLogger wraps next so that every request gets a request id and
// RequestStats in its context and one log line when it ends.
//
// The id is the incoming X-Request-ID when that is 1–128 characters of
// [A-Za-z0-9._-], else 32 random hex digits; it is echoed in the response's
// X-Request-ID. The line (message "request") has request_id, method, path
// (never the query string), status, duration_ms, operation, workable_calls,
// cache_hits, cache_misses and stale, the caller's role and key_id once
// authenticated, and error_code when the request was refused before any
// resolver ran; it never holds headers, query text, variables, response
// data or an API key. Requests answered 5xx log at level error; successful
// health probes and metric scrapes at level debug.
func RequestLogger(logger *slog.Logger, next http.Handler, opts ...RequestLogOption) http.Handler {
	var cfg requestLogConfig
	for _, o := range opts {
		o(&cfg)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)

		stats := new(RequestStats)
		ctx := ContextWithStats(requestIDKey.With(r.Context(), id), stats)
		sw := &statusWriter{ResponseWriter: w, stats: stats}
		next.ServeHTTP(sw, r.WithContext(ctx))

		elapsed := time.Since(start)
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case isProbePath(r.URL.Path) && status < 400:
			// Probes and scrapes come every few seconds from every
			// orchestrator and Prometheus: worth a line only when debugging.
			level = slog.LevelDebug
		}
		path := r.URL.Path
		if len(path) > maxLoggedPathLen {
			path = path[:maxLoggedPathLen] + "…"
		}
		code := stats.ErrorCode()
		if code != "" && cfg.metrics != nil {
			cfg.metrics.ObserveRefusal(code)
		}
		attrs := []slog.Attr{
			slog.String("request_id", id),
			slog.String("method", r.Method),
			slog.String("path", path),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.String("operation", stats.OperationName),
			slog.Int64("workable_calls", stats.WorkableCalls.Load()),
			slog.Int64("cache_hits", stats.CacheHits.Load()),
			slog.Int64("cache_misses", stats.CacheMisses.Load()),
			slog.Bool("stale", stats.Stale.Load()),
		}
		attrs = append(attrs, callerAttrs(stats)...)
		if code != "" {
			attrs = append(attrs, slog.String("error_code", code))
		}
		// The request's own context would add request_id and the caller
		// again (see requestHandler): these lines carry them already.
		logger.LogAttrs(r.Context(), level, "request", attrs...)
		if cfg.slow > 0 && elapsed > cfg.slow && r.URL.Path == "/query" {
			logger.LogAttrs(r.Context(), slog.LevelWarn, "slow query",
				slog.String("request_id", id),
				slog.String("operation", stats.OperationName),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.Float64("threshold_ms", float64(cfg.slow.Microseconds())/1000),
				slog.Int64("workable_calls", stats.WorkableCalls.Load()),
				slog.Int64("cache_misses", stats.CacheMisses.Load()),
			)
		}
	})
}

// callerAttrs returns the role and key_id of the caller of a request, when
// it is known.
func callerAttrs(s *RequestStats) []slog.Attr {
	if s.Role == "" && s.KeyID == "" {
		return nil
	}
	return []slog.Attr{slog.String("role", s.Role), slog.String("key_id", s.KeyID)}
}

// requestHandler adds the request_id (and the caller's role and key_id) of
// the request in a record's context to every record logged with one.
type requestHandler struct{ next slog.Handler }

func (h requestHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h requestHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestIDFrom(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
		if s := statsFromContext(ctx); s != nil {
			r.AddAttrs(callerAttrs(s)...)
		}
	}
	return h.next.Handle(ctx, r)
}

func (h requestHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestHandler{h.next.WithAttrs(attrs)}
}

func (h requestHandler) WithGroup(name string) slog.Handler {
	return requestHandler{h.next.WithGroup(name)}
}

// RedisLogger returns a logger for go-redis (pass it to redis.SetLogger),
// so that the client's own lines (a dial failure, a pool problem) come out
// in the gateway's log format at level warn, instead of as plain text in
// the middle of a JSON log.
func RedisLogger(logger *slog.Logger) interface {
	Printf(ctx context.Context, format string, v ...any)
} {
	return redisLogger{logger}
}

type redisLogger struct{ l *slog.Logger }

// Printf logs one go-redis line.
func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	r.l.LogAttrs(ctx, slog.LevelWarn, "redis client: "+msg, slog.String("component", "go-redis"))
}

// isProbePath reports whether path is polled by health probes or metric
// scrapes.
func isProbePath(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// validRequestID reports whether id is 1–128 characters of [A-Za-z0-9._-].
func validRequestID(id string) bool {
	const requestIDChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
	return id != "" && len(id) <= 128 && strings.Trim(id, requestIDChars) == ""
}

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// statusWriter remembers the status code written through it, and the code
// of a refusal answered through it (guard.ErrorCodeRecorder).
type statusWriter struct {
	http.ResponseWriter
	status int
	stats  *RequestStats
}

// RecordErrorCode implements guard.ErrorCodeRecorder.
func (w *statusWriter) RecordErrorCode(code string) { w.stats.SetErrorCode(code) }

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes flushes on for streaming transports.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}

// OperationNameExtension returns a gqlgen extension that copies the
// operation name (bounded as by OperationLabel) into the request's
// RequestStats, so that the log line names the operation.
func OperationNameExtension() graphql.HandlerExtension {
	return operationNameExtension{Name: "OperationNameLog"}
}

type operationNameExtension struct{ gqlext.Name }

var _ graphql.ResponseInterceptor = operationNameExtension{}

// InterceptResponse records the name before the response is produced, so it
// is there also for requests refused before execution.
func (operationNameExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if s := statsFromContext(ctx); s != nil && s.OperationName == "" {
		s.OperationName = OperationLabel(ctx)
	}
	return next(ctx)
}
