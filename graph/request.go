package graph

import (
	"context"
	"net/http"

	"github.com/workablegw/gateway/ctxkey"
	"github.com/workablegw/gateway/upstream"
)

// request is the GraphQL side of one request, next to its upstream state
// (upstream.RequestFrom): its dataloaders and its Idempotency-Key header.
// It travels in the context (see requestFrom).
type request struct {
	loaders *loaders
	// idempotencyKey is the request's Idempotency-Key header ("" when
	// absent); idempotencyKeys counts the header's values.
	idempotencyKey  string
	idempotencyKeys int
}

// requestKey carries a request's GraphQL state in its context.
var requestKey = ctxkey.New[*request]("graph.request")

// requestFrom returns the request in ctx, or nil outside a request.
func requestFrom(ctx context.Context) *request { return requestKey.Get(ctx) }

// withRequest gives each request executed by next its GraphQL state, over
// the upstream state the credential's economy has put in its context. It
// runs only for requests the response cache did not answer, so a cached
// answer builds no loaders.
func withRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := newRequest(r.Context())
		rq := requestFrom(ctx)
		if vals := r.Header.Values("Idempotency-Key"); len(vals) > 0 {
			rq.idempotencyKey, rq.idempotencyKeys = vals[0], len(vals)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// newRequest returns ctx carrying a new GraphQL request over the upstream
// request already in ctx.
func newRequest(ctx context.Context) context.Context {
	rs := upstream.RequestFrom(ctx)
	rq := &request{loaders: newLoaders(rs.Economy(), rs)}
	return requestKey.With(ctx, rq)
}
