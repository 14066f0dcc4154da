package graph

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/complexity"
	"github.com/vektah/gqlparser/v2"
)

// The queries that bound the default complexity limit: the two
// reasonable queries must be admitted, what only an attacker sends refused.
const (
	activityFields = `id action stageName body createdAt ratingScore member { id name }`

	// reasonableJobsQuery is "a page of 100 jobs with all their fields"
	// (every field but the candidates connection).
	reasonableJobsQuery = `query Jobs($after: String) { jobs(first: 100, after: $after) {
		edges { cursor node { ` + jobListFields + ` ` + jobDetailFields + ` } }
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`

	// reasonableCandidatesQuery is "50 candidates each with its job, detail
	// fields and 20 activities" (the job with all its fields too).
	reasonableCandidatesQuery = `query Pipeline($after: String) { candidates(first: 50, after: $after) {
		edges { cursor node {
			` + candidateListFields + ` ` + candidateDetailFields + `
			job { ` + jobListFields + ` ` + jobDetailFields + ` }
			activities(first: 20) { edges { cursor node { ` + activityFields + ` } } pageInfo { hasNextPage endCursor } } } }
		pageInfo { hasNextPage endCursor } } }`

	// abusiveJobsCandidatesQuery is 100 jobs × 100 candidates × every
	// field: 101 list calls and up to 10,000 detail calls.
	abusiveJobsCandidatesQuery = `{ jobs(first: 100) { nodes { ` + jobListFields + ` ` + jobDetailFields + `
		candidates(first: 100) { nodes { ` + candidateListFields + ` ` + candidateDetailFields + ` } } } } }`

	// abusiveNestedQuery is three levels of nested connections at first:
	// 100 (a million activities behind 10,000 calls).
	abusiveNestedQuery = `{ jobs(first: 100) { nodes { id candidates(first: 100) { nodes { id
		activities(first: 100) { nodes { id } } } } } } }`
)

// queryComplexity returns the complexity of q under the handler's cost
// model, as FixedComplexityLimit computes it.
func queryComplexity(t *testing.T, q string) int {
	t.Helper()
	es := executableSchema(&Resolver{})
	doc, err := gqlparser.LoadQueryWithRules(es.Schema(), q, nil)
	if err != nil {
		t.Fatalf("query does not validate: %v\n%s", err, q)
	}
	return complexity.Calculate(context.Background(), es, doc.Operations[0], map[string]any{})
}

// TestDefaultComplexityAdmitsReasonableQueries runs the two
// reasonable queries through the real handler with its default limits.
func TestDefaultComplexityAdmitsReasonableQueries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, query string
	}{
		{"a page of 100 jobs with all their fields", reasonableJobsQuery},
		{"50 candidates with job, details and 20 activities", reasonableCandidatesQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := queryComplexity(t, tt.query)
			t.Logf("complexity %d (limit %d)", c, DefaultComplexityLimit)
			// Room for a client to add a few fields.
			if c > DefaultComplexityLimit*9/10 {
				t.Errorf("complexity %d is within 10%% of the default limit %d", c, DefaultComplexityLimit)
			}
			env := newTestEnv(t)
			var out map[string]struct{ Edges []any }
			env.mustQuery(tt.query, nil, &out)
			for _, conn := range out {
				if len(conn.Edges) == 0 {
					t.Errorf("no items in the answer")
				}
			}
		})
	}
}

// TestDefaultComplexityRefusesAbusiveQueries: what only an attacker sends
// is refused before anything reaches Workable.
func TestDefaultComplexityRefusesAbusiveQueries(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	tests := []struct {
		name, query string
	}{
		{"100 jobs × 100 candidates × every field", abusiveJobsCandidatesQuery},
		{"three nested connections of 100", abusiveNestedQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := queryComplexity(t, tt.query)
			t.Logf("complexity %d (limit %d)", c, DefaultComplexityLimit)
			if c < 4*DefaultComplexityLimit {
				t.Errorf("complexity %d is not far above the default limit %d", c, DefaultComplexityLimit)
			}
			env.query(tt.query, nil).requireCode(t, "COMPLEXITY_LIMIT_EXCEEDED")
		})
	}
	if n := env.sim.TotalRequests(); n != 0 {
		t.Errorf("%d Workable calls for refused queries, want 0", n)
	}
}
