package graph

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Tests that the query side is cheap by construction: Workable calls counted
// by the simulator, per route.

func TestCallCounts(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	cands := env.sim.Candidates()
	id := cands[9].ID
	tests := []struct {
		name  string
		query string
		v     vars
		want  map[string]int
	}{
		{
			name:  "list with job shortcode and title is one call",
			query: `{ candidates(first: 50) { edges { cursor node { ` + candidateListFields + ` job { shortcode title } } } pageInfo { hasNextPage endCursor } } }`,
			want:  map[string]int{"GET /candidates": 1},
		},
		{
			name:  "detail fields cost one call per candidate",
			query: `{ candidates(first: 10) { nodes { id summary tags coverLetter educationEntries { school } socialProfiles { url } } } }`,
			want:  map[string]int{"GET /candidates": 1, "GET /candidates/{id}": 10},
		},
		{
			name:  "candidate lookup serves its detail fields",
			query: `query($id: ID!) { candidate(id: $id) { ` + candidateListFields + ` ` + candidateDetailFields + ` job { shortcode title } } }`,
			v:     vars{"id": id},
			want:  map[string]int{"GET /candidates/{id}": 1},
		},
		{
			name: "aliases are deduplicated",
			query: `query($id: ID!) { a: candidate(id: $id) { summary } b: candidate(id: $id) { tags name }
				c: candidate(id: $id) { id activities(first: 3) { nodes { id } } d: activities(first: 3) { nodes { action } } }
				e: candidates(first: 5) { nodes { id } } f: candidates(first: 5) { nodes { name } } }`,
			v:    vars{"id": id},
			want: map[string]int{"GET /candidates/{id}": 1, "GET /candidates/{id}/activities": 1, "GET /candidates": 1},
		},
		{
			name:  "job description in a list uses include_fields",
			query: `{ jobs(first: 20) { nodes { shortcode description fullDescription requirements benefits } } }`,
			want:  map[string]int{"GET /jobs": 1},
		},
		{
			name:  "other job detail fields load each job",
			query: `{ jobs(first: 5) { nodes { shortcode employmentType } } }`,
			want:  map[string]int{"GET /jobs": 1, "GET /jobs/{shortcode}": 5},
		},
		{
			// Each field has one source: the list item (one GET /jobs for
			// every job) and the detail, which lacks list fields (API.md §10).
			name:  "job lookup: list fields from the list item, detail fields from the detail",
			query: `{ job(shortcode: "GROOV004") { ` + jobListFields + ` ` + jobDetailFields + ` candidates(first: 5) { nodes { id job { title } } } } }`,
			want:  map[string]int{"GET /jobs": 1, "GET /jobs/{shortcode}": 1, "GET /candidates": 1},
		},
		{
			name:  "job lookup of detail fields is one call",
			query: `{ job(shortcode: "GROOV004") { title description employmentType } }`,
			want:  map[string]int{"GET /jobs/{shortcode}": 1},
		},
		{
			name:  "job lookup of list fields is one call",
			query: `{ job(shortcode: "GROOV004") { title location { locationStr } salary { currency } locations { city } keywords workplaceType } }`,
			want:  map[string]int{"GET /jobs": 1},
		},
		{
			name:  "one candidate's job: its list item and its detail, one call each",
			query: `query($id: ID!) { candidate(id: $id) { job { department description employmentType } } }`,
			v:     vars{"id": id},
			want:  map[string]int{"GET /candidates/{id}": 1, "GET /jobs": 1, "GET /jobs/{shortcode}": 1},
		},
		{
			name:  "activities are one call per candidate",
			query: `{ candidates(first: 4) { nodes { activities(first: 10) { nodes { id member { name } } } } } }`,
			want:  map[string]int{"GET /candidates": 1, "GET /candidates/{id}/activities": 4},
		},
		{
			name:  "job candidates are one call per job",
			query: `{ jobs(first: 3) { nodes { candidates(first: 2) { nodes { id job { shortcode title } } } } } }`,
			want:  map[string]int{"GET /jobs": 1, "GET /candidates": 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Not parallel: the counts are per simulator.
			env.sim.ResetCounts()
			env.mustQuery(tt.query, tt.v, nil)
			if diff := cmp.Diff(tt.want, env.sim.RequestCounts()); diff != "" {
				t.Errorf("Workable calls mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// includeFieldsProxy is a proxy in front of the simulator that rewrites the
// include_fields parameter of GET /jobs with keep (return "" to drop it),
// as a Workable that ignores the parameter, or part of it, would. It
// counts the list requests that asked for include_fields.
type includeFieldsProxy struct {
	keep  func(string) string
	asked atomic.Int64
}

func (p *includeFieldsProxy) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if strings.HasSuffix(r.URL.Path, "/jobs") && q.Has("include_fields") {
			p.asked.Add(1)
			if v := p.keep(q.Get("include_fields")); v != "" {
				q.Set("include_fields", v)
			} else {
				q.Del("include_fields")
			}
			r = r.Clone(r.Context())
			r.URL.RawQuery = q.Encode()
			r.RequestURI = r.URL.RequestURI()
		}
		next.ServeHTTP(w, r)
	})
}

// TestJobsListTextFields: the jobs list's text fields are right whether
// Workable honours include_fields (no call per job), ignores it (each job's
// detail, GET /jobs/{shortcode}, once) or honours only part of it.
func TestJobsListTextFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// keep rewrites include_fields; nil leaves the simulator alone.
		keep func(string) string
		// detail is whether every job's detail must be read.
		detail bool
	}{
		{"include_fields honoured", nil, false},
		{"include_fields ignored", func(string) string { return "" }, true},
		{"only description honoured", func(string) string { return "description" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []envOption
			proxy := &includeFieldsProxy{keep: tt.keep}
			if tt.keep != nil {
				opts = append(opts, withSimProxy(proxy.wrap))
			}
			env := newTestEnv(t, opts...)
			env.sim.ResetCounts()
			var out struct {
				Jobs struct{ Nodes []map[string]any }
			}
			env.mustQuery(`{ jobs(first: 100) { nodes { shortcode description fullDescription requirements benefits } } }`, nil, &out)
			if len(out.Jobs.Nodes) == 0 {
				t.Fatal("no jobs: the test proves nothing")
			}
			for _, n := range out.Jobs.Nodes {
				sc := n["shortcode"].(string)
				j, _ := env.sim.Job(sc)
				if j.Description == nil || j.Benefits == nil {
					t.Fatalf("simulator job %s has no description or benefits: the test proves nothing", sc)
				}
				want := asJSON(t, map[string]any{"shortcode": sc, "description": j.Description,
					"fullDescription": j.FullDescription, "requirements": j.Requirements, "benefits": j.Benefits})
				if diff := cmp.Diff(want, asJSON(t, n)); diff != "" {
					t.Errorf("job %s text fields mismatch (-want +got):\n%s", sc, diff)
				}
			}
			if tt.keep != nil && proxy.asked.Load() == 0 {
				t.Errorf("the gateway never asked for include_fields: the proxy proves nothing")
			}
			wantGets := 0
			if tt.detail {
				wantGets = len(out.Jobs.Nodes)
			}
			if got := env.sim.RequestCount("GET /jobs/{shortcode}"); got != wantGets {
				t.Errorf("GET /jobs/{shortcode} = %d, want %d (%v)", got, wantGets, env.sim.RequestCounts())
			}
			if got := env.sim.RequestCount("GET /jobs"); got != 1 {
				t.Errorf("GET /jobs = %d, want 1", got)
			}
		})
	}
}

func TestCandidateJobsLoadedOncePerJob(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	cands := env.sim.Candidates()[:100]
	distinct := map[string]bool{}
	for _, c := range cands {
		distinct[c.Job.Shortcode] = true
	}
	env.sim.ResetCounts()
	var out struct {
		Candidates struct {
			Nodes []struct {
				ID  string
				Job struct{ Shortcode, Department, State string }
			}
		}
	}
	env.mustQuery(`{ candidates(first: 100) { nodes { id job { shortcode department state } } } }`, nil, &out)
	for _, n := range out.Candidates.Nodes {
		j, _ := env.sim.Job(n.Job.Shortcode)
		if j.Department == nil || n.Job.Department != *j.Department || n.Job.State == "" {
			t.Errorf("candidate %s: job %+v, want department %v", n.ID, n.Job, j.Department)
		}
	}
	// Timing decides how the loader batches the references (one batch:
	// the jobs list, once; single-key batches: GET /jobs/{shortcode}), but
	// no job is ever read twice and the list at most once.
	lists, gets := env.sim.RequestCount("GET /jobs"), env.sim.RequestCount("GET /jobs/{shortcode}")
	if lists > 1 || lists+gets == 0 || lists+gets > len(distinct) {
		t.Errorf("job calls: %d lists + %d gets for %d distinct jobs", lists, gets, len(distinct))
	}
}
