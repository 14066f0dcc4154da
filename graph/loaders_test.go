package graph

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/graph/model"
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

func TestPageRequestLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p     pageRequest
		limit int
	}{
		{pageRequest{kind: kindActivities, first: 0}, 1},
		{pageRequest{kind: kindActivities, first: 5}, 6},
		{pageRequest{kind: kindActivities, first: 5, afterID: "x"}, 7},
		{pageRequest{kind: kindActivities, first: 98, afterID: "x"}, 100},
		{pageRequest{kind: kindActivities, first: 99}, 100},
		{pageRequest{kind: kindActivities, first: 99, afterID: "x"}, 100},
		{pageRequest{kind: kindActivities, first: 100}, 100},
		{pageRequest{kind: kindJobs, first: 50}, 51},
		{pageRequest{kind: kindJobs, first: 100}, 100},
		{pageRequest{kind: kindJobCandidates, first: 100, afterID: "x"}, 100},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d/%q", tt.p.kind, tt.p.first, tt.p.afterID), func(t *testing.T) {
			if got := tt.p.limit(); got != tt.limit {
				t.Errorf("limit() = %d, want %d", got, tt.limit)
			}
		})
	}
}

func TestListedText(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	all := model.TextDescription | model.TextFullDescription | model.TextRequirements | model.TextBenefits
	tests := []struct {
		name string
		jobs []*workable.Job
		want model.JobText
	}{
		{"empty page", nil, 0},
		{"include_fields ignored", []*workable.Job{{ID: "a"}, {ID: "b"}}, 0},
		{"every field", []*workable.Job{{ID: "a", Description: str("d"), FullDescription: str("f"), Requirements: str("r"), Benefits: str("b")}}, all},
		{"empty strings count as delivered", []*workable.Job{{ID: "a", Description: str(""), FullDescription: str(""), Requirements: str(""), Benefits: str("")}}, all},
		{"one job without benefits", []*workable.Job{
			{ID: "a", Description: str("d"), FullDescription: str("f"), Requirements: str("r")},
			{ID: "b", Description: str("d"), FullDescription: str("f"), Requirements: str("r"), Benefits: str("b")},
		}, all},
		{"only description delivered", []*workable.Job{{ID: "a", Description: str("d")}, {ID: "b"}}, model.TextDescription},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listedText(tt.jobs); got != tt.want {
				t.Errorf("listedText = %04b, want %04b", got, tt.want)
			}
		})
	}
}

// ids returns n distinct ids in order.
func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("i%03d", i)
	}
	return out
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
		// The extra item proves a next page.
		{"first page, extra item", pageRequest{first: 2}, []string{"a", "b", "c"}, false, []string{"a", "b"}, true},
		{"first page, last", pageRequest{first: 2}, []string{"a", "b"}, false, []string{"a", "b"}, false},
		{"after drops the cursor item", pageRequest{first: 2, afterID: "a"}, []string{"a", "b", "c"}, false, []string{"b", "c"}, false},
		{"after drops the cursor item, extra", pageRequest{first: 2, afterID: "a"}, []string{"a", "b", "c", "d"}, false, []string{"b", "c"}, true},
		{"after a deleted item", pageRequest{first: 2, afterID: "a"}, []string{"b", "c", "d"}, false, []string{"b", "c"}, true},
		{"short page, last", pageRequest{first: 5, afterID: "a"}, []string{"a", "b"}, false, []string{"b"}, false},
		{"empty", pageRequest{first: 5}, nil, false, nil, false},
		{"first 0", pageRequest{first: 0}, []string{"a"}, false, []string{}, true},
		// paging.next (more), which a live account leaves out on the last
		// page (API.md §10), proves one too: Workable answered short.
		{"short page, paging.next", pageRequest{first: 5}, []string{"a", "b"}, true, []string{"a", "b"}, true},
		{"empty, paging.next", pageRequest{first: 5}, nil, true, nil, true},
		// At Workable's largest page there is no room for the extra item:
		// paging.next tells, for every kind.
		{"capped jobs, more", pageRequest{kind: kindJobs, first: 100}, ids(100), true, ids(100), true},
		{"capped jobs, last", pageRequest{kind: kindJobs, first: 100}, ids(100), false, ids(100), false},
		{"capped candidates after, more", pageRequest{kind: kindCandidates, first: 100, afterID: "i000"}, ids(100), true, ids(100)[1:], true},
		{"capped activities, more", pageRequest{kind: kindActivities, first: 100}, ids(100), true, ids(100), true},
		{"capped activities, last", pageRequest{kind: kindActivities, first: 100}, ids(100), false, ids(100), false},
		{"capped activities after, more", pageRequest{kind: kindActivities, first: 100, afterID: "i000"}, ids(100), true, ids(100)[1:], true},
		{"capped job activities after, last", pageRequest{kind: kindJobActivities, first: 99, afterID: "i000"}, ids(99), false, ids(99)[1:], false},
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
