package guard

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/go-cmp/cmp"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// toySchema has the shape of the gateway's schema (a subset of
// ../schema.graphqls, with its field names): connections of jobs,
// candidates and activities that nest into each other.
const toySchema = `
type Query {
  jobs(first: Int = 50, after: String): JobConnection!
  job(shortcode: String!): Job
  candidates(first: Int = 50, after: String): CandidateConnection!
  candidate(id: ID!): Candidate
}
type Mutation { createCandidate(name: String!): Candidate! }
type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
type JobConnection { edges: [JobEdge!]! nodes: [Job!]! pageInfo: PageInfo! }
type JobEdge { cursor: String! node: Job! }
type Location { city: String region: String country: String countryCode: String telecommuting: Boolean workplaceType: String }
type Job {
  id: ID! shortcode: String! title: String! fullTitle: String code: String state: String!
  department: String url: String applicationUrl: String shortlink: String location: Location
  createdAt: String! updatedAt: String description: String requirements: String benefits: String
  candidates(first: Int = 50, after: String): CandidateConnection!
}
type CandidateConnection { edges: [CandidateEdge!]! nodes: [Candidate!]! pageInfo: PageInfo! }
type CandidateEdge { cursor: String! node: Candidate! }
type Candidate {
  id: ID! name: String! firstName: String lastName: String email: String phone: String
  headline: String stage: String disqualified: Boolean createdAt: String! updatedAt: String
  summary: String coverLetter: String tags: [String!]! job: Job!
  activities(first: Int = 50, after: String): ActivityConnection!
}
type ActivityConnection { edges: [ActivityEdge!]! nodes: [Activity!]! pageInfo: PageInfo! }
type ActivityEdge { cursor: String! node: Activity! }
type Member { id: ID! name: String! email: String }
type Activity { id: ID! action: String! body: String stageName: String createdAt: String! member: Member }
`

// toyServer is a gqlgen server over toySchema whose execution only counts
// how often it ran: a refused operation must not run at all.
type toyServer struct {
	handler http.Handler
	execs   atomic.Int64
}

func newToyServer(t testing.TB, limits QueryLimits) *toyServer {
	t.Helper()
	return newSchemaServer(t, &ast.Source{Name: "toy.graphqls", Input: toySchema}, limits)
}

// newSchemaServer is newToyServer over another schema.
func newSchemaServer(t testing.TB, src *ast.Source, limits QueryLimits) *toyServer {
	t.Helper()
	schema, err := gqlparser.LoadSchema(src)
	if err != nil {
		t.Fatalf("load schema %s: %v", src.Name, err)
	}
	ts := &toyServer{}
	es := &graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ExecFunc: func(context.Context) graphql.ResponseHandler {
			ts.execs.Add(1)
			return graphql.OneShot(&graphql.Response{Data: []byte(`{}`)})
		},
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) { return 0, false },
	}
	srv := handler.New(es)
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.Use(extension.Introspection{})
	srv.Use(limits.Extension())
	if n := limits.withDefaults().MaxTokens; n > 0 {
		srv.SetParserTokenLimit(n)
	}
	ts.handler = srv
	return ts
}

// post sends a query and returns the recorded response.
func (ts *toyServer) post(t testing.TB, query string) *httptest.ResponseRecorder {
	t.Helper()
	body := fmt.Sprintf(`{"query":%q}`, query)
	req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	ts.handler.ServeHTTP(rec, req)
	return rec
}

// nested returns a query n fields deep:
// { job(shortcode: "x") { candidates { nodes { job { … __typename } } } } }.
func nested(n int) string {
	var b strings.Builder
	b.WriteString(`{ job(shortcode: "x") { `)
	for level := 2; level < n; level++ {
		b.WriteString([]string{"candidates { ", "nodes { ", "job { "}[(level-2)%3])
	}
	b.WriteString("__typename ")
	b.WriteString(strings.Repeat("} ", n-1))
	b.WriteString("}")
	return b.String()
}

// aliases returns a query with n aliased fields (not at the root, where
// the root field limit would refuse them first).
func aliases(n int) string {
	var b strings.Builder
	b.WriteString(`{ job(shortcode: "x") { `)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "a%d: id ", i)
	}
	b.WriteString("} }")
	return b.String()
}

// fragmentChain returns a query whose depth n comes from a chain of
// fragments, each adding one level.
func fragmentChain(n int) string {
	var b strings.Builder
	b.WriteString(`{ job(shortcode: "x") { ...F0 } }`)
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			fmt.Fprintf(&b, " fragment F%d on Job { id candidates { ...F%d } }", i, i+1)
		} else {
			fmt.Fprintf(&b, " fragment F%d on CandidateConnection { nodes { job { ...F%d } } }", i, i+1)
		}
	}
	if n%2 == 0 {
		fmt.Fprintf(&b, " fragment F%d on Job { id }", n)
	} else {
		fmt.Fprintf(&b, " fragment F%d on CandidateConnection { pageInfo { hasNextPage } }", n)
	}
	return b.String()
}

func TestQueryLimitsAdmitReasonableQueries(t *testing.T) {
	t.Parallel()
	introspection, err := os.ReadFile("testdata/introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	queries := map[string]string{
		"100 jobs with every field": `{ jobs(first: 100) {
			edges { cursor node { id shortcode title fullTitle code state department url applicationUrl
				shortlink location { city region country countryCode telecommuting workplaceType } createdAt updatedAt
				description requirements benefits } }
			pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`,
		"50 candidates with job, details and 20 activities": `query Pipeline($after: String) {
			candidates(first: 50, after: $after) {
				edges { cursor node { id name firstName lastName email phone headline stage disqualified
					createdAt updatedAt summary coverLetter tags
					job { id shortcode title state department location { city country } }
					activities(first: 20) {
						edges { cursor node { id action body stageName createdAt member { id name email } } }
						pageInfo { hasNextPage endCursor } } } }
				pageInfo { hasNextPage endCursor } } }`,
		"a dashboard with aliases and fragments": `{
			recent: jobs(first: 10) { nodes { ...JobCard } }
			older: jobs(first: 10, after: "x") { nodes { ...JobCard } }
			one: job(shortcode: "ABC") { ...JobCard candidates(first: 5) { nodes { ...CandidateCard } } }
			who: candidate(id: "1") { ...CandidateCard }
		}
		fragment JobCard on Job { id title state location { city } }
		fragment CandidateCard on Candidate { id name stage job { ...JobCard } }`,
		"the introspection query": string(introspection),
		"depth at the limit":      nested(DefaultMaxDepth),
		"aliases at the limit":    aliases(DefaultMaxAliases),
	}
	// The gateway's real schema, so that these queries stay ones a client
	// can actually send.
	real, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	ts := newSchemaServer(t, &ast.Source{Name: "schema.graphqls", Input: string(real)}, DefaultQueryLimits())
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			rec := ts.post(t, q)
			if r := decode(t, rec); rec.Code != http.StatusOK || len(r.Errors) != 0 {
				t.Fatalf("status %d, errors %+v", rec.Code, r.Errors)
			}
		})
	}
	if got, want := ts.execs.Load(), int64(len(queries)); got != want {
		t.Errorf("%d operations executed, want %d", got, want)
	}
}

func TestQueryLimitsRejectHostileShapes(t *testing.T) {
	t.Parallel()
	rootFields := "{ " + strings.Repeat("__typename ", DefaultMaxRootFields+1) + "}"
	tests := []struct {
		name     string
		limits   QueryLimits
		query    string
		wantCode string
	}{
		{name: "one level too deep", query: nested(DefaultMaxDepth + 1), wantCode: CodeQueryTooDeep},
		{name: "very deep", query: nested(200), wantCode: CodeQueryTooDeep},
		{name: "deep through fragments", query: fragmentChain(20), wantCode: CodeQueryTooDeep},
		{name: "deep through inline fragments", query: `{ job(shortcode: "x") { ... on Job { candidates { ... on CandidateConnection { nodes { job { candidates { nodes { job { candidates { nodes { job { candidates { nodes { id } } } } } } } } } } } } } } }`, wantCode: CodeQueryTooDeep},
		{name: "one alias too many", query: aliases(DefaultMaxAliases + 1), wantCode: CodeTooManyAliases},
		{name: "thousands of aliases", query: aliases(1500), wantCode: CodeTooManyAliases},
		{name: "one field too many", query: `{ job(shortcode: "x") { ` + strings.Repeat("id ", DefaultMaxFields) + `} }`, wantCode: CodeTooManyFields},
		// Validation would take seconds (quadratic in repeated fields): the
		// limit refuses the document before gqlparser validates it.
		{name: "thousands of repeated fields", limits: QueryLimits{MaxTokens: 20000}, query: `{ job(shortcode: "x") { ` + strings.Repeat("id ", 14000) + `} }`, wantCode: CodeTooManyFields},
		{name: "many fields in an unused fragment", query: `{ jobs { nodes { id } } } fragment U on Job { ` + strings.Repeat("title ", DefaultMaxFields+1) + `}`, wantCode: CodeTooManyFields},
		{name: "fields multiplied by fragments", query: `{ jobs { nodes { ...A } } }
			fragment A on Job { ...B ...B ...B ...B ...B ...B ...B ...B ...B ...B }
			fragment B on Job { ...C ...C ...C ...C ...C ...C ...C ...C ...C ...C }
			fragment C on Job { id title state department url code shortlink createdAt updatedAt description fullTitle }`, wantCode: CodeTooManyFields},
		{name: "aliases in a fragment spread many times", query: `{ a: jobs { nodes { ...J } } b: jobs { nodes { ...J } } c: jobs { nodes { ...J } } }
			fragment J on Job { a1: id a2: id a3: id a4: id a5: id a6: id a7: id a8: id a9: id a10: id }`, wantCode: CodeTooManyAliases},
		{name: "too many root fields", query: rootFields, wantCode: CodeTooManyRootFields},
		{name: "root fields through a fragment", limits: QueryLimits{MaxRootFields: 2},
			query: `query { ...R job(shortcode: "x") { id } } fragment R on Query { jobs { nodes { id } } candidates { nodes { id } } }`, wantCode: CodeTooManyRootFields},
		{name: "too many tokens", query: aliases(3000), wantCode: CodeTooManyTokens},
		{name: "tokens over a configured limit", limits: QueryLimits{MaxTokens: 10}, query: `{ jobs { nodes { id title state } } }`, wantCode: CodeTooManyTokens},
		{name: "fragment cycle", query: `{ job(shortcode: "x") { ...A } } fragment A on Job { id ...B } fragment B on Job { title ...A }`, wantCode: CodeQueryTooDeep},
		{name: "syntax error is gqlgen's to report", query: `{ job(shortcode: "x") { id `, wantCode: "GRAPHQL_PARSE_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			limits := tt.limits
			if limits == (QueryLimits{}) {
				limits = DefaultQueryLimits()
			}
			ts := newToyServer(t, limits)
			rec := ts.post(t, tt.query)
			r := decode(t, rec)
			if diff := cmp.Diff([]string{tt.wantCode}, r.codes()); diff != "" {
				t.Errorf("error codes (-want +got):\n%s\nerrors: %+v", diff, r.Errors)
			}
			if n := ts.execs.Load(); n != 0 {
				t.Errorf("the refused operation executed %d times", n)
			}
		})
	}
}

func TestQueryLimitsNegativeDisables(t *testing.T) {
	t.Parallel()
	ts := newToyServer(t, QueryLimits{MaxDepth: -1, MaxAliases: -1, MaxRootFields: -1})
	for _, q := range []string{nested(40), aliases(500)} {
		rec := ts.post(t, q)
		if r := decode(t, rec); len(r.Errors) != 0 {
			t.Errorf("errors %+v", r.Errors)
		}
	}
}

// TestQueryLimitsCheck runs the measurement on documents gqlparser has only
// parsed, not validated: cycles and exponential fragment fan-out must end
// quickly with an error rather than loop or overflow.
func TestQueryLimitsCheck(t *testing.T) {
	t.Parallel()
	var fanOut strings.Builder
	fanOut.WriteString("{ ...F0 }")
	const levels = 80
	for i := 0; i < levels; i++ {
		fmt.Fprintf(&fanOut, " fragment F%d on Query { x: __typename ...F%d ...F%d }", i, i+1, i+1)
	}
	fmt.Fprintf(&fanOut, " fragment F%d on Query { y: __typename }", levels)

	tests := []struct {
		name     string
		query    string
		wantCode string
		wantMsg  string
	}{
		{name: "self-spreading fragment", query: `{ ...A } fragment A on Query { ...A }`, wantCode: CodeQueryTooDeep, wantMsg: "cycle"},
		{name: "two-fragment cycle", query: `{ ...A } fragment A on Query { a { ...B } } fragment B on Q { b { ...A } }`, wantCode: CodeQueryTooDeep, wantMsg: "cycle"},
		{name: "exponential fan-out saturates", query: fanOut.String(), wantCode: CodeTooManyAliases, wantMsg: "more than"},
		{name: "unknown fragment is empty", query: `{ a ...Missing }`},
		{name: "duplicate fragment names", query: `{ ...A } fragment A on Q { a } fragment A on Q { b { c } }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := parser.ParseQuery(&ast.Source{Input: tt.query})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			gerr := DefaultQueryLimits().check(doc.Operations[0], doc.Fragments)
			if tt.wantCode == "" {
				if gerr != nil {
					t.Fatalf("check = %v, want nil", gerr)
				}
				return
			}
			if gerr == nil {
				t.Fatalf("check = nil, want %s", tt.wantCode)
			}
			if got := gerr.Extensions["code"]; got != tt.wantCode {
				t.Errorf("code = %v, want %s", got, tt.wantCode)
			}
			if !strings.Contains(gerr.Message, tt.wantMsg) {
				t.Errorf("message %q does not mention %q", gerr.Message, tt.wantMsg)
			}
		})
	}
}

func TestCountTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		stop  int
		want  int
	}{
		{query: "", stop: 100, want: 0},
		{query: "{ a }", stop: 100, want: 3},
		{query: "# a comment\n{ a(x: \"s t r\") }", stop: 100, want: 8},
		{query: "{ a b c d e f }", stop: 3, want: 3},
		{query: "{ a \"unterminated", stop: 100, want: 2},
	}
	for _, tt := range tests {
		if got := countTokens(tt.query, tt.stop); got != tt.want {
			t.Errorf("countTokens(%q, %d) = %d, want %d", tt.query, tt.stop, got, tt.want)
		}
	}
}

// TestQueryLimitsRememberPassedTexts: a query text that passed the checks
// before the parse is remembered and passes again without them; a refused
// text is not remembered and is refused every time; a text longer than
// passedQueryBytes is checked every time.
func TestQueryLimitsRememberPassedTexts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ext, ok := DefaultQueryLimits().Extension().(queryLimitsExtension)
	if !ok {
		t.Fatal("Extension is not a queryLimitsExtension")
	}
	check := func(q string) *gqlerror.Error {
		return ext.MutateOperationParameters(ctx, &graphql.RawParams{Query: q})
	}
	good := `{ jobs { nodes { id title } } }`
	bad := nested(DefaultMaxDepth + 1)
	long := `{ jobs { nodes { id } } } # ` + strings.Repeat("x", passedQueryBytes)
	for round := range 2 {
		if err := check(good); err != nil {
			t.Errorf("round %d: a reasonable query refused: %v", round, err)
		}
		if err := check(bad); err == nil || err.Extensions["code"] != CodeQueryTooDeep {
			t.Errorf("round %d: a query too deep: %v, want %s", round, err, CodeQueryTooDeep)
		}
		if err := check(long); err != nil {
			t.Errorf("round %d: a long reasonable query refused: %v", round, err)
		}
	}
	for _, tt := range []struct {
		name, query string
		want        bool
	}{{"reasonable", good, true}, {"too deep", bad, false}, {"long", long, false}} {
		if _, got := ext.passed.Get(ctx, tt.query); got != tt.want {
			t.Errorf("%s query remembered: %v, want %v", tt.name, got, tt.want)
		}
	}
}
