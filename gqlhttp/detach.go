package gqlhttp

import (
	"context"
	"net/http"
	"time"

	"github.com/workablegw/gateway/ctxkey"
)

// boundKey carries the request's own context under Detach.
var boundKey = ctxkey.New[context.Context]("gqlhttp.bound")

// Detach runs next (the gqlgen server) on a context that is never
// cancelled, keeping the request's context for RequestContext (see
// incremental.go).
func Detach(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		next.ServeHTTP(w, r.WithContext(boundKey.With(context.WithoutCancel(ctx), ctx)))
	})
}

// RequestContext returns ctx with the request's deadline and cancellation,
// which Detach took away from gqlgen's own context. Every resolver
// helper that may wait (for the rate budget, Workable or a store) starts
// with it; the context gqlgen hands to resolvers stays uncancelled, because
// gqlgen gives a resolver's context to the fields under it, deferred parts
// included.
func RequestContext(ctx context.Context) context.Context {
	if _, bound := ctx.(boundCtx); bound {
		return ctx
	}
	if req, ok := boundKey.Value(ctx); ok {
		return boundCtx{Context: ctx, req: req}
	}
	return ctx
}

// boundCtx has the values of its Context and the deadline and cancellation
// of req.
type boundCtx struct {
	context.Context
	req context.Context
}

func (c boundCtx) Deadline() (time.Time, bool) { return c.req.Deadline() }
func (c boundCtx) Done() <-chan struct{}       { return c.req.Done() }
func (c boundCtx) Err() error                  { return c.req.Err() }

// AfterFunc lets contexts derived from c follow req's cancellation without
// a goroutine each (the context package looks for this method).
func (c boundCtx) AfterFunc(f func()) (stop func() bool) { return context.AfterFunc(c.req, f) }

// WithRequest returns ctx whose RequestContext has the deadline and
// cancellation of req instead of the request's: for work of its own within
// a request, such as reading a subscription's event.
func WithRequest(ctx, req context.Context) context.Context {
	return boundKey.With(ctx, req)
}
