package workable

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBackgroundPriority: a background read asks the limiter at
// PriorityBackground, reports its slot and is not retried; writes keep
// PriorityWrite; other reads PriorityRead and their retries.
func TestBackgroundPriority(t *testing.T) {
	t.Parallel()
	env := setup(t)
	failures := 1 // the background read gets it
	env.mux.HandleFunc("GET /jobs", func(w http.ResponseWriter, r *http.Request) {
		if failures > 0 {
			failures--
			answer(w, http.StatusBadGateway, "application/json", `{"error":"Bad gateway"}`)
			return
		}
		answer(w, http.StatusOK, "application/json", `{"jobs":[]}`)
	})
	env.mux.HandleFunc("DELETE /subscriptions/{id}", func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusOK, "application/json", `{}`)
	})
	slots := 0
	bg := Background(context.Background(), func() { slots++ })
	if _, _, err := env.client.Jobs.List(bg, nil); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("background list on a 502: %v, want the error at once", err)
	}
	if _, err := env.client.Subscriptions.Delete(bg, "1"); err != nil {
		t.Fatalf("background delete: %v", err)
	}
	if _, _, err := env.client.Jobs.List(context.Background(), nil); err != nil {
		t.Fatalf("list: %v", err)
	}
	env.limiter.mu.Lock()
	defer env.limiter.mu.Unlock()
	want := []Priority{PriorityBackground, PriorityWrite, PriorityRead}
	if diff := cmp.Diff(want, env.limiter.waits); diff != "" {
		t.Errorf("priorities asked (-want +got):\n%s", diff)
	}
	if slots != 1 {
		t.Errorf("%d slots reported, want 1 (the read, not retried; the write is not background)", slots)
	}
}
