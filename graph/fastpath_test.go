package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/gqlext"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable/simulator"
)

// fastPathCount is a handler extension that counts the operations the
// record fast path answered, by the mark the fast path leaves in the
// operation's stats (which the incremental transports read). A response
// interceptor of Config.Extensions wraps the fast path, which comes last.
type fastPathCount struct {
	gqlext.Name
	n *atomic.Int64
}

var _ graphql.ResponseInterceptor = fastPathCount{}

func (c fastPathCount) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp != nil && graphql.HasOperationContext(ctx) && graphql.GetOperationContext(ctx).Stats.GetExtension(fastPathAnswered) != nil {
		c.n.Add(1)
	}
	return resp
}

// everyField is a handler extension that sees every field (and passes it
// on), as tracing's spans do: NewHandler leaves the fast path out of a
// handler that has one, so every operation goes through gqlgen's execution.
type everyField struct{ gqlext.Name }

var _ graphql.FieldInterceptor = everyField{}

func (everyField) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	return next(ctx)
}

// fastPathPair is two gateways over one simulator and one shared cache: one
// with the record fast path, one that leaves everything to gqlgen.
type fastPathPair struct {
	t            *testing.T
	fast, gqlgen http.Handler
	// answered counts the fast gateway's fast answers; slowAnswered the
	// other's, which must stay 0.
	answered, slowAnswered atomic.Int64
	sim                    *simulator.Simulator
	cursorOf50             string
	jobWithCands           string
	stageWithCands         string
}

func newFastPathPair(t *testing.T) *fastPathPair {
	t.Helper()
	p := &fastPathPair{t: t, sim: simulator.New()}
	simSrv := httptest.NewServer(p.sim.Handler())
	t.Cleanup(simSrv.Close)
	store := cache.NewMemory(0)
	handler := func(cfg func(*Config)) http.Handler {
		client := benchClient(t, simSrv.URL)
		c := Config{Credentials: oneCredential(client, upstream.Config{Cache: store})}
		cfg(&c)
		return NewHandler(c)
	}
	p.fast = handler(func(c *Config) {
		c.Extensions = []graphql.HandlerExtension{fastPathCount{"FastPathCount", &p.answered}}
	})
	p.gqlgen = handler(func(c *Config) {
		c.Extensions = []graphql.HandlerExtension{everyField{"EveryField"}, fastPathCount{"FastPathCount", &p.slowAnswered}}
	})
	t.Cleanup(func() {
		if n := p.slowAnswered.Load(); n > 0 {
			t.Errorf("the fast path answered %d operations of the gateway without it", n)
		}
	})

	var page struct {
		Candidates struct {
			PageInfo struct{ EndCursor string }
			Nodes    []struct {
				Stage *string
				Job   struct{ Shortcode string }
			}
		}
	}
	body := p.serve(p.gqlgen, `{ candidates(first: 50) { pageInfo { endCursor } nodes { stage job { shortcode } } } }`, nil)
	_, body, _ = bytes.Cut(body, []byte(" "))
	var resp struct{ Data json.RawMessage }
	if err := json.Unmarshal(body, &resp); err != nil || json.Unmarshal(resp.Data, &page) != nil || len(page.Candidates.Nodes) == 0 {
		t.Fatalf("first page: %s", body)
	}
	p.cursorOf50 = page.Candidates.PageInfo.EndCursor
	p.jobWithCands = page.Candidates.Nodes[0].Job.Shortcode
	if s := page.Candidates.Nodes[0].Stage; s != nil {
		p.stageWithCands = strings.ToLower(*s)
	}
	return p
}

// serve answers one POST /query on h.
func (p *fastPathPair) serve(h http.Handler, query string, vars map[string]any) []byte {
	p.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		p.t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return []byte(fmt.Sprintf("%d %s", rec.Code, rec.Body.Bytes()))
}

// compare runs query on both gateways until both are warm (three times
// each: the first fills the shared cache, the second each replica's decoded
// tier), then compares gqlgen's third answer with the fast one's fourth. It fails unless their last answers are the same
// bytes (status, data, errors, extensions and cost). It returns whether
// the fast path answered.
func (p *fastPathPair) compare(query string, vars map[string]any) bool {
	p.t.Helper()
	var slow []byte
	for range 3 {
		slow = p.serve(p.gqlgen, query, vars)
		p.serve(p.fast, query, vars)
	}
	before := p.answered.Load()
	fast := p.serve(p.fast, query, vars)
	answered := p.answered.Load() > before
	if !bytes.Equal(fast, slow) {
		p.t.Errorf("fast path (answered: %v) and gqlgen differ\nquery: %s\nvariables: %v\nfast:   %s\ngqlgen: %s", answered, query, vars, fast, slow)
	}
	return answered
}

// TestFastPathMatchesGqlgen: over a corpus of list queries (the peer
// benchmark's, aliases, fragments, __typename, @skip/@include, variables,
// filters, page info) and of queries it must leave to gqlgen, the answers
// with the fast path are gqlgen's, byte for byte, extensions.cost included;
// and the fast path answers the ones it should.
func TestFastPathMatchesGqlgen(t *testing.T) {
	t.Parallel()
	p := newFastPathPair(t)
	page := map[string]any{"first": 50, "after": p.cursorOf50, "job": nil, "stage": nil}
	byJob := map[string]any{"first": 20, "after": nil, "job": p.jobWithCands, "stage": nil}
	byStage := map[string]any{"first": 30, "after": nil, "job": nil, "stage": p.stageWithCands}
	const varied = `query V($first: Int, $after: String, $job: String, $stage: String) { candidates(first: $first, after: $after, jobShortcode: $job, stage: $stage) { nodes { %s } } }`
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		fast  bool
	}{
		{"q1", qRecordQ1, nil, true},
		{"q3", qRecordQ3, nil, true},
		{"varied JobTitle, second page", fmt.Sprintf(varied, `id name job { shortcode title }`), page, true},
		{"varied JobStateLocation, by job", fmt.Sprintf(varied, `id name job { shortcode state location { city } }`), byJob, true},
		{"varied Contact, by stage", fmt.Sprintf(varied, `id name email stage createdAt`), byStage, true},
		{"varied Profile", fmt.Sprintf(varied, `id firstName lastName headline disqualified sourced`), page, true},
		{"varied Pipeline", fmt.Sprintf(varied, `id name stage job { title state }`), byStage, true},
		{"aliases", `{ c: candidates(first: 5) { n: nodes { ident: id who: name job { sc: shortcode t: title } } } }`, nil, true},
		{"same field twice, merged", `{ candidates(first: 3) { nodes { id id job { shortcode } job { title } } } }`, nil, true},
		{"alias reused for one field", `{ candidates(first: 3) { nodes { x: id x: id } } }`, nil, true},
		{"fragments", `query { candidates(first: 4) { ...Conn } } fragment Conn on CandidateConnection { nodes { ...C ... on Node { __typename } } } fragment C on Candidate { name job { ...J } } fragment J on Job { shortcode state }`, nil, true},
		{"inline fragments", `{ candidates(first: 4) { nodes { ... { id } ... on Candidate { name } } } }`, nil, true},
		{"__typename everywhere", `{ candidates(first: 4) { __typename nodes { __typename id job { __typename shortcode location { __typename city } } } pageInfo { __typename } } }`, nil, true},
		{"skip and include", `query S($yes: Boolean!, $no: Boolean!) { candidates(first: 4) { nodes { id @skip(if: $yes) name @include(if: $yes) email @include(if: $no) job @skip(if: $no) { shortcode @include(if: false) title } } } }`, map[string]any{"yes": true, "no": false}, true},
		{"page info", `{ candidates(first: 10) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id } } }`, nil, true},
		{"page info after a cursor", `query P($after: String) { candidates(first: 10, after: $after) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`, map[string]any{"after": p.cursorOf50}, true},
		{"every location field", `{ candidates(first: 10) { nodes { job { location { locationStr country countryCode region regionCode city zipCode telecommuting workplaceType } } } } }`, nil, true},
		{"email filter", `{ candidates(first: 5, email: "nobody@example.com") { nodes { id } } }`, nil, true},
		{"variables left out", fmt.Sprintf(varied, `id`), map[string]any{}, true},
		{"no first: the default page", `{ candidates { nodes { id } } }`, nil, true},
		{"first: 0", `{ candidates(first: 0) { nodes { id } pageInfo { hasNextPage } } }`, nil, true},

		{"edges: gqlgen", `{ candidates(first: 3) { edges { cursor node { id } } } }`, nil, false},
		{"a resolver field of Candidate: gqlgen", `{ candidates(first: 3) { nodes { id stageSlug } } }`, nil, false},
		{"a detail field: gqlgen", `{ candidates(first: 3) { nodes { id summary } } }`, nil, false},
		{"a job detail field: gqlgen", `{ candidates(first: 3) { nodes { job { shortcode employmentType } } } }`, nil, false},
		{"backwards: gqlgen", `{ candidates(last: 3) { nodes { id } } }`, nil, false},
		{"two root fields: gqlgen", `{ candidates(first: 2) { nodes { id } } jobs(first: 2) { nodes { shortcode } } }`, nil, false},
		{"root __typename: gqlgen", `{ __typename candidates(first: 2) { nodes { id } } }`, nil, false},
		{"@defer in a one-part answer (the transport removes it)", `{ candidates(first: 2) { nodes { id ... @defer { name } } } }`, nil, true},
		{"bad cursor: gqlgen's error", `{ candidates(first: 2, after: "not a cursor") { nodes { id } } }`, nil, false},
		{"first too large: gqlgen's error", `{ candidates(first: 1000) { nodes { id } } }`, nil, false},
		{"filter too long: gqlgen's error", `{ candidates(first: 2, stage: "` + strings.Repeat("s", 300) + `") { nodes { id } } }`, nil, false},
		{"a mutation: gqlgen", `mutation { addWorkableCredential(input: {nickname: "x", subdomain: "y", token: "z"}) { userErrors { code } } }`, nil, false},
	}
	for _, tt := range tests {
		if answered := p.compare(tt.query, tt.vars); answered != tt.fast {
			t.Errorf("%s: fast path answered %v, want %v", tt.name, answered, tt.fast)
		}
	}

	// @defer answered in parts: left to gqlgen, which decides what each
	// part carries.
	q := `{ candidates(first: 2) { nodes { id ... @defer { name } } } }`
	body, err := json.Marshal(map[string]any{"query": q})
	if err != nil {
		t.Fatal(err)
	}
	before := p.answered.Load()
	req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "multipart/mixed; deferSpec=20220824, application/json")
	rec := httptest.NewRecorder()
	p.fast.ServeHTTP(rec, req)
	if p.answered.Load() != before || rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"name"`) {
		t.Errorf("@defer in parts: fast path answered %v, status %d, body %s", p.answered.Load() != before, rec.Code, rec.Body)
	}
}

// TestFastPathPropertyMatchesGqlgen: random selections of Query.candidates
// (fields the fast path knows and some it does not, aliases, fragments,
// __typename, @skip/@include, page arguments, filters) are answered with
// the same bytes with the fast path as by gqlgen alone. Seeded, so the same
// queries every run.
func TestFastPathPropertyMatchesGqlgen(t *testing.T) {
	t.Parallel()
	p := newFastPathPair(t)
	rng := rand.New(rand.NewPCG(13, 2026))
	answered := 0
	const n = 300
	for range n {
		q, vars := randomCandidatesQuery(rng, p)
		if p.compare(q, vars) {
			answered++
		}
	}
	t.Logf("the fast path answered %d of %d random queries", answered, n)
	if answered == 0 || answered == n {
		t.Errorf("the fast path answered %d of %d random queries: the generator should reach both paths", answered, n)
	}
}

// randomCandidatesQuery returns a random query of Query.candidates and its
// variables.
func randomCandidatesQuery(rng *rand.Rand, p *fastPathPair) (string, map[string]any) {
	vars := map[string]any{"yes": true, "no": false}
	decorate := func(field string) string {
		var b strings.Builder
		if rng.IntN(5) == 0 {
			fmt.Fprintf(&b, "a%d: ", rng.IntN(3))
		}
		b.WriteString(field)
		switch rng.IntN(8) {
		case 0:
			b.WriteString(" @skip(if: $yes)")
		case 1:
			b.WriteString(" @include(if: $yes)")
		case 2:
			b.WriteString(" @skip(if: $no)")
		}
		return b.String()
	}
	selection := func(typ string, fields []string, sub map[string]func() string) string {
		var parts []string
		for range 1 + rng.IntN(4) {
			f := fields[rng.IntN(len(fields))]
			s := decorate(f)
			if mk, ok := sub[f]; ok {
				s += " { " + mk() + " }"
			}
			switch rng.IntN(6) {
			case 0:
				s = "... { " + s + " }"
			case 1:
				s = "... on " + typ + " { " + s + " }"
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " ")
	}
	location := func() string {
		return selection("Location", []string{"city", "country", "countryCode", "telecommuting", "__typename", "zipCode"}, nil)
	}
	job := func() string {
		return selection("Job", []string{"shortcode", "title", "state", "__typename", "id", "department"},
			map[string]func() string{"location": location})
	}
	candidate := func() string {
		return selection("Candidate", []string{"id", "name", "firstName", "lastName", "email", "headline", "stage", "disqualified",
			"sourced", "createdAt", "__typename", "job", "job", "updatedAt", "stageSlug"}, map[string]func() string{"job": job})
	}
	pageInfo := func() string {
		return selection("PageInfo", []string{"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"}, nil)
	}
	conn := selection("CandidateConnection", []string{"nodes", "nodes", "nodes", "pageInfo", "__typename"},
		map[string]func() string{"nodes": candidate, "pageInfo": pageInfo})
	var args []string
	if rng.IntN(4) > 0 {
		args = append(args, "first: $first")
		vars["first"] = []int{1, 5, 20, 50, 100}[rng.IntN(5)]
	}
	if rng.IntN(3) == 0 {
		args = append(args, "after: $after")
		vars["after"] = p.cursorOf50
	}
	switch rng.IntN(5) {
	case 0:
		args = append(args, "jobShortcode: $job")
		vars["job"] = p.jobWithCands
	case 1:
		args = append(args, "stage: $stage")
		vars["stage"] = p.stageWithCands
	}
	var decl []string
	for _, v := range []struct{ name, typ string }{{"first", "Int"}, {"after", "String"}, {"job", "String"}, {"stage", "String"}} {
		if _, ok := vars[v.name]; ok {
			decl = append(decl, "$"+v.name+": "+v.typ)
		}
	}
	for _, name := range []string{"yes", "no"} {
		if strings.Contains(conn, "$"+name) {
			decl = append(decl, "$"+name+": Boolean!")
		} else {
			delete(vars, name)
		}
	}
	if len(decl) == 0 {
		return "{ candidates { " + conn + " } }", vars
	}
	field := "candidates"
	if len(args) > 0 {
		field += "(" + strings.Join(args, ", ") + ")"
	}
	return "query R(" + strings.Join(decl, ", ") + ") { " + field + " { " + conn + " } }", vars
}

// FuzzWriteQuotedMatchesGqlgen: the fast path writes every string as it
// reaches the client from gqlgen: MarshalString's bytes, escaped as
// json.Marshal escapes the data (<, >, &, U+2028, U+2029), invalid UTF-8
// and control characters included.
func FuzzWriteQuotedMatchesGqlgen(f *testing.F) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rreturn", "\x00\x01\x1f\x7f", "Björn 日本 \u2028", "\xff\xfe bad utf-8", "</script>&",
		"\u2029\u2027\u202a", "\xe2\x80", "\xe2\x80\xa8\xe2", "\xe2<\xe2\x80\xa9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var fast, gq bytes.Buffer
		writeQuoted(&fast, s)
		graphql.MarshalString(s).MarshalGQL(&gq)
		want, err := json.Marshal(json.RawMessage(gq.Bytes()))
		if err != nil {
			t.Fatalf("json.Marshal of gqlgen's %q: %v", gq.Bytes(), err)
		}
		if !bytes.Equal(fast.Bytes(), want) {
			t.Errorf("writeQuoted(%q) = %s, gqlgen and json.Marshal write %s", s, fast.Bytes(), want)
		}
	})
}
