package graph

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

func TestPrimeCandidate(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	r, ctx := env.resolver()
	c := &workable.Candidate{ID: "abc123", Name: "Primed"}
	r.primeCandidate(ctx, c)
	env.sim.ResetCounts()
	got, err := r.candidateByID(ctx, "abc123")
	if err != nil || got != c {
		t.Fatalf("candidateByID after prime = %v, %v; want the primed candidate", got, err)
	}
	if n := env.sim.TotalRequests(); n != 0 {
		t.Errorf("a primed candidate cost %d Workable calls", n)
	}
}

func TestTransientFailureIsRetriedInTheSameRequest(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withClientOptions(workable.WithRetry(1, 0, 0)))
	r, ctx := env.resolver()
	id := env.sim.Candidates()[0].ID
	env.sim.InjectFault("GET /candidates/{id}", simulator.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	if _, err := r.candidateByID(ctx, id); !errors.Is(err, workable.ErrUnavailable) {
		t.Fatalf("first load: err = %v, want ErrUnavailable", err)
	}
	c, err := r.candidateByID(ctx, id)
	if err != nil || c == nil || c.ID != id {
		t.Fatalf("second load = %v, %v; want the candidate", c, err)
	}
	// A 404 is remembered as nil: asking again costs nothing.
	env.sim.ResetCounts()
	for range 2 {
		if c, err := r.candidateByID(ctx, "fffffff0"); c != nil || err != nil {
			t.Fatalf("unknown candidate = %v, %v; want nil, nil", c, err)
		}
	}
	if n := env.sim.RequestCount("GET /candidates/{id}"); n != 1 {
		t.Errorf("unknown candidate read %d times, want 1", n)
	}
}

func TestFetchEachKeepsKeyOrder(t *testing.T) {
	t.Parallel()
	keys := []int{5, 3, 9, 1, 7, 2, 8, 4, 6, 0, 11, 10}
	res := fetchEach(context.Background(), keys, func(_ context.Context, k int) (int, error) {
		if k == 9 {
			return 0, errors.New("nine")
		}
		return k * 10, nil
	})
	for i, k := range keys {
		if k == 9 {
			if res[i].Error == nil {
				t.Errorf("key 9: no error")
			}
			continue
		}
		if res[i].Data != k*10 || res[i].Error != nil {
			t.Errorf("result %d = %+v, want %d", i, res[i], k*10)
		}
	}
}

func TestWindow(t *testing.T) {
	t.Parallel()
	id := func(s string) string { return s }
	tests := []struct {
		name     string
		p        pageRequest
		items    []string
		more     bool
		want     []string
		wantNext bool
	}{
		{"first page, more", pageRequest{first: 2}, []string{"a", "b"}, true, []string{"a", "b"}, true},
		{"first page, last", pageRequest{first: 2}, []string{"a", "b"}, false, []string{"a", "b"}, false},
		{"after drops the cursor item", pageRequest{first: 2, afterID: "a"}, []string{"a", "b", "c"}, false, []string{"b", "c"}, false},
		{"after a deleted item", pageRequest{first: 2, afterID: "a"}, []string{"b", "c", "d"}, false, []string{"b", "c"}, true},
		{"short page", pageRequest{first: 5, afterID: "a"}, []string{"a", "b"}, false, []string{"b"}, false},
		{"empty", pageRequest{first: 5}, nil, false, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next := window(tt.p, tt.items, id, tt.more)
			if diff := cmp.Diff(tt.want, got); diff != "" || next != tt.wantNext {
				t.Errorf("window mismatch (-want +got):\n%s\nhasNext = %v, want %v", diff, next, tt.wantNext)
			}
		})
	}
}
