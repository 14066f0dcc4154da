package guard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestDeadline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		d      time.Duration
		parent time.Duration // an earlier deadline on the incoming request; 0 none
		want   time.Duration // the deadline's distance from the request's arrival
	}{
		{name: "given", d: 5 * time.Second, want: 5 * time.Second},
		{name: "default", d: 0, want: DefaultDeadline},
		{name: "earlier parent kept", d: time.Hour, parent: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodPost, "/query", nil)
			var parentDeadline time.Time
			if tt.parent > 0 {
				ctx, cancel := context.WithTimeout(req.Context(), tt.parent)
				defer cancel()
				req = req.WithContext(ctx)
				parentDeadline, _ = ctx.Deadline()
			}
			var got time.Time
			var ok bool
			var inner context.Context
			before := time.Now()
			Deadline(tt.d, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				got, ok = r.Context().Deadline()
				inner = r.Context()
			})).ServeHTTP(httptest.NewRecorder(), req)
			after := time.Now()
			if !ok {
				t.Fatal("the handler's context has no deadline")
			}
			if tt.parent > 0 {
				if !got.Equal(parentDeadline) {
					t.Errorf("deadline = %v, want the parent's %v", got, parentDeadline)
				}
			} else if got.Before(before.Add(tt.want)) || got.After(after.Add(tt.want)) {
				t.Errorf("deadline %v after the request, want %v", got.Sub(before), tt.want)
			}
			// The context is released when the handler returns.
			<-inner.Done()
		})
	}
}
