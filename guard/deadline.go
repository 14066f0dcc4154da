package guard

import (
	"context"
	"net/http"
	"time"
)

// DefaultDeadline is the per-request deadline Deadline applies when given
// d <= 0.
const DefaultDeadline = 30 * time.Second

// Deadline gives every request's context a deadline d from now (d <= 0 means
// DefaultDeadline). The context flows through the GraphQL handler into every
// Workable call, so waiting for rate budget, retries and the calls
// themselves all end by then, and resolvers answer with an error instead of
// hanging. An earlier deadline already on the context is kept.
func Deadline(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		d = DefaultDeadline
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
