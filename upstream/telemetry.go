package upstream

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/telemetry"
)

// The engine's observability hooks: what the cache layer
// reports to metrics (Observer), the spans around dataloader batches and
// cache calls, and the request's telemetry.RequestStats, which the cost
// counters of extensions.cost feed so that the request log line and the
// response always agree.

// Observer receives the cache layer's events, for metrics. telemetry.Metrics
// implements it. Kinds are cache kinds ("cand", "job", "jobs", …, and
// "resp" for the whole-response cache); results are telemetry.CacheHit
// and telemetry.CacheMiss. Hits and misses are counted exactly as in
// extensions.cost (a miss of a kind derived from another, such as a
// candidate's list fields, is counted by the kind it is fetched through),
// except that response-cache misses are observed here but not in the cost.
type Observer interface {
	// ObserveCache counts n lookups of kind with result.
	ObserveCache(kind, result string, n int)
	// ObserveStale counts one answer of kind served from a stale copy.
	ObserveStale(kind string)
	// ObserveRequest counts one GraphQL request answered without gqlgen
	// (from the response cache), with its operation label, outcome and
	// duration.
	ObserveRequest(operation, outcome string, d time.Duration)
}

// responseKind is the cache kind of whole responses in metrics.
const responseKind = string(cache.KindResponse)

// countLookups records hits and misses of kind in the request's cost, its
// log stats and the metrics.
func (e *Economy) countLookups(rs *Request, kind cache.Kind, hits, misses int) {
	if rs != nil {
		rs.hits.Add(int64(hits))
		rs.misses.Add(int64(misses))
		if rs.stats != nil {
			rs.stats.CacheHits.Add(int64(hits))
			rs.stats.CacheMisses.Add(int64(misses))
		}
	}
	if e.obs != nil {
		e.obs.ObserveCache(string(kind), telemetry.CacheHit, hits)
		e.obs.ObserveCache(string(kind), telemetry.CacheMiss, misses)
	}
}

// servedStale records that a stale copy of kind was served, under its
// opaque reference ref (see StaleID): in the response
// (extensions.staleData), the log stats and the metrics.
func (e *Economy) servedStale(rs *Request, kind cache.Kind, ref string) {
	rs.markStale(kind, ref)
	if rs != nil && rs.stats != nil {
		rs.stats.Stale.Store(true)
	}
	if e.obs != nil {
		e.obs.ObserveStale(string(kind))
	}
}

// servedCachedResponse records a whole response of operation op served
// from the response cache, started at start: one cache hit and no Workable
// call, as the response's extensions.cost says.
func (e *Economy) servedCachedResponse(rs *Request, op string, start time.Time) {
	if rs != nil && rs.stats != nil {
		rs.stats.CacheHits.Add(1)
		if rs.stats.OperationName == "" {
			rs.stats.OperationName = op
		}
	}
	if e.obs != nil {
		e.obs.ObserveCache(responseKind, telemetry.CacheHit, 1)
		e.obs.ObserveRequest(op, telemetry.OutcomeOK, time.Since(start))
	}
}

// missedCachedResponse records a response-cache miss in the metrics only:
// the request then runs and its cost counts what it does.
func (e *Economy) missedCachedResponse() {
	if e.obs != nil {
		e.obs.ObserveCache(responseKind, telemetry.CacheMiss, 1)
	}
}

// startSpan starts an internal span named name under the span in ctx, or
// does nothing (and allocates nothing) when tracing is off. attrs must hold
// no personal data: kinds and counts, never keys or ids.
func (e *Economy) startSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if e.tp == nil {
		return ctx, noop.Span{}
	}
	return telemetry.StartSpan(ctx, e.tp, name, attrs...)
}

// Attributes of the graph layer's spans.
const (
	batchSizeKey = attribute.Key("dataloader.batch_size")
	cacheKindKey = attribute.Key("cache.kind")
	derivedKey   = attribute.Key("dataloader.derived")
	cacheKeysKey = attribute.Key("cache.keys")
	cacheHitKey  = attribute.Key("cache.hit")
)

// tracedStore wraps a cache.Store with a span per call ("cache GetMany",
// "cache SetMany", …) carrying the number of keys, never the keys (they
// hold ids).
type tracedStore struct {
	cache.Store
	tp trace.TracerProvider
}

// traceStore returns s with spans around its calls, or s itself when tp is
// nil or s is nil.
func traceStore(s cache.Store, tp trace.TracerProvider) cache.Store {
	if s == nil || tp == nil {
		return s
	}
	return tracedStore{Store: s, tp: tp}
}

func (s tracedStore) span(ctx context.Context, op string, n int) (context.Context, trace.Span) {
	return telemetry.StartSpan(ctx, s.tp, "cache "+op, cacheKeysKey.Int(n))
}

// endSpan ends span, marking it failed (with the error's type, not its text)
// when err is not nil.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.SetAttributes(attribute.String("error.type", "cache_error"))
		span.SetStatus(codes.Error, "")
	}
	span.End()
}

// GetMany implements cache.Store.
func (s tracedStore) GetMany(ctx context.Context, keys []string) (map[string]cache.Entry, error) {
	ctx, span := s.span(ctx, "GetMany", len(keys))
	entries, err := s.Store.GetMany(ctx, keys)
	span.SetAttributes(attribute.Int("cache.found", len(entries)))
	endSpan(span, err)
	return entries, err
}

// SetMany implements cache.Store.
func (s tracedStore) SetMany(ctx context.Context, items []cache.Item) error {
	ctx, span := s.span(ctx, "SetMany", len(items))
	err := s.Store.SetMany(ctx, items)
	endSpan(span, err)
	return err
}

// SetIfAbsent implements cache.Store.
func (s tracedStore) SetIfAbsent(ctx context.Context, items []cache.Item) (map[string]cache.Entry, error) {
	ctx, span := s.span(ctx, "SetIfAbsent", len(items))
	held, err := s.Store.SetIfAbsent(ctx, items)
	endSpan(span, err)
	return held, err
}

// Delete implements cache.Store.
func (s tracedStore) Delete(ctx context.Context, keys ...string) error {
	ctx, span := s.span(ctx, "Delete", len(keys))
	err := s.Store.Delete(ctx, keys...)
	endSpan(span, err)
	return err
}
