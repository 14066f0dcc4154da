package access

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
)

// guardSchema has the fields FieldGuard's DefaultRules name, plus
// a nested field with a rule of its own.
const guardSchema = `
type Query {
  jobs: [Job!]!
  candidate(id: ID!): Candidate
  workableCredentials: [Credential!]!
}
type Mutation {
  createCandidate(name: String!): Candidate!
  updateCandidate(id: ID!): Candidate!
  moveCandidate(id: ID!): Candidate!
  disqualifyCandidate(id: ID!): Candidate!
  revertDisqualification(id: ID!): Candidate!
  commentOnCandidate(id: ID!): Candidate!
  rateCandidate(id: ID!): Candidate!
  setCandidateTags(id: ID!): Candidate!
  copyCandidate(id: ID!): Candidate!
  relocateCandidate(id: ID!): Candidate!
  addWorkableCredential(nickname: String!): Credential!
  testWorkableCredential(nickname: String!): Credential!
  removeWorkableCredential(nickname: String!): Boolean!
  registerWorkableWebhooks(credential: String!): Boolean!
  unregisterWorkableWebhooks(credential: String!): Boolean!
}
type Job { id: ID! title: String! }
type Candidate { id: ID! name: String! auditTrail: String }
type Credential { nickname: String! }
`

// guardedServer is the access stack in front of a gqlgen server over
// guardSchema whose execution only counts how often it ran: a refused
// operation must not run at all, so it cannot reach Workable.
type guardedServer struct {
	handler http.Handler
	execs   atomic.Int64
}

func newGuardedServer(t testing.TB, keys Keys, rules map[string]Role) *guardedServer {
	t.Helper()
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "guard.graphqls", Input: guardSchema})
	gs := &guardedServer{}
	srv := handler.New(&graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ExecFunc: func(context.Context) graphql.ResponseHandler {
			gs.execs.Add(1)
			return graphql.OneShot(&graphql.Response{Data: []byte(`{}`)})
		},
	})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.Use(extension.Introspection{})
	srv.Use(FieldGuard(rules))
	gs.handler = Middleware(keys, srv)
	return gs
}

func (gs *guardedServer) post(t testing.TB, key, query string) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	gs.handler.ServeHTTP(rec, req)
	var r gqlResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("response %q: %v", rec.Body.String(), err)
	}
	return r
}

func TestFieldGuard(t *testing.T) {
	t.Parallel()
	keys := mustParseKeys(t, readerKey+":reader,"+writerKey+":writer,"+adminKey+":admin")
	rules := DefaultRules()
	rules["Candidate.auditTrail"] = RoleAdmin

	const (
		read       = `{ jobs { id title } candidate(id: "1") { name } }`
		introspect = `{ __schema { queryType { name } } }`
		create     = `mutation { createCandidate(name: "Ada") { id } }`
		update     = `mutation { updateCandidate(id: "1") { id } }`
		addCred    = `mutation { addWorkableCredential(nickname: "x") { nickname } }`
		removeCred = `mutation { removeWorkableCredential(nickname: "x") }`
		listCreds  = `{ workableCredentials { nickname } }`
		aliased    = `{ jobs { id } c: workableCredentials { nickname } }`
		spread     = `{ jobs { id } ...Creds } fragment Creds on Query { workableCredentials { nickname } }`
		inline     = `{ ... on Query { workableCredentials { nickname } } }`
		nested     = `{ candidate(id: "1") { ...C } } fragment C on Candidate { name auditTrail }`
		mixed      = `mutation { createCandidate(name: "Ada") { id } addWorkableCredential(nickname: "x") { nickname } }`
		hooksOn    = `mutation { registerWorkableWebhooks(credential: "x") }`
		hooksOff   = `mutation { unregisterWorkableWebhooks(credential: "x") }`
	)
	allowed := map[string][]string{
		readerKey: {read, introspect},
		writerKey: {read, introspect, create, update},
		adminKey:  {read, introspect, create, update, addCred, removeCred, listCreds, aliased, spread, inline, nested, mixed, hooksOn, hooksOff},
	}
	all := allowed[adminKey]
	for _, key := range []string{readerKey, writerKey, adminKey} {
		for _, q := range all {
			ok := false
			for _, a := range allowed[key] {
				ok = ok || a == q
			}
			t.Run(strings.SplitN(key, "-", 2)[0]+" "+q, func(t *testing.T) {
				t.Parallel()
				gs := newGuardedServer(t, keys, rules)
				r := gs.post(t, key, q)
				if ok {
					if len(r.Errors) != 0 || gs.execs.Load() != 1 {
						t.Fatalf("errors %+v, %d executions; want none, 1", r.Errors, gs.execs.Load())
					}
					return
				}
				if diff := cmp.Diff([]string{CodeForbidden}, r.codes()); diff != "" {
					t.Errorf("codes (-want +got):\n%s", diff)
				}
				if n := gs.execs.Load(); n != 0 {
					t.Errorf("the refused operation executed %d times", n)
				}
			})
		}
	}
}

func TestFieldGuardMessages(t *testing.T) {
	t.Parallel()
	keys := mustParseKeys(t, readerKey+":reader")
	tests := []struct {
		name    string
		keys    Keys
		key     string
		query   string
		wantMsg string
	}{
		{name: "names the fields and roles", keys: keys, key: readerKey,
			query:   `mutation { createCandidate(name: "a") { id } removeWorkableCredential(nickname: "x") }`,
			wantMsg: "Mutation.createCandidate, Mutation.removeWorkableCredential needs the admin role; your API key has the reader role"},
		{name: "open mode refuses credential management", keys: Keys{}, query: `{ workableCredentials { nickname } }`,
			wantMsg: "Query.workableCredentials needs the admin role; credential management is refused while the gateway runs without API keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gs := newGuardedServer(t, tt.keys, DefaultRules())
			r := gs.post(t, tt.key, tt.query)
			if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, tt.wantMsg) {
				t.Errorf("errors %+v, want one containing %q", r.Errors, tt.wantMsg)
			}
		})
	}
}

func TestFieldGuardOpenAndDemoModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		keys   Keys
		query  string
		wantOK bool
	}{
		{name: "open: queries", keys: Keys{}, query: `{ jobs { id } }`, wantOK: true},
		{name: "open: candidate mutations", keys: Keys{}, query: `mutation { createCandidate(name: "a") { id } }`, wantOK: true},
		{name: "open: no credential management", keys: Keys{}, query: `mutation { addWorkableCredential(nickname: "x") { nickname } }`},
		{name: "demo: credential management", keys: Keys{}.WithOpenRole(RoleAdmin), query: `mutation { addWorkableCredential(nickname: "x") { nickname } }`, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gs := newGuardedServer(t, tt.keys, DefaultRules())
			r := gs.post(t, "", tt.query)
			if gotOK := len(r.Errors) == 0; gotOK != tt.wantOK {
				t.Errorf("errors %+v; want allowed = %v", r.Errors, tt.wantOK)
			}
			if want := map[bool]int64{true: 1, false: 0}[tt.wantOK]; gs.execs.Load() != want {
				t.Errorf("%d executions, want %d", gs.execs.Load(), want)
			}
		})
	}
}

// TestFieldGuardWithoutMiddleware checks the safe default: without a
// principal in the context nothing is allowed.
func TestFieldGuardWithoutMiddleware(t *testing.T) {
	t.Parallel()
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: guardSchema})
	var execs atomic.Int64
	srv := handler.New(&graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ExecFunc: func(context.Context) graphql.ResponseHandler {
			execs.Add(1)
			return graphql.OneShot(&graphql.Response{Data: []byte(`{}`)})
		},
	})
	srv.AddTransport(transport.POST{})
	srv.Use(FieldGuard(nil))
	req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":"{ jobs { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if diff := cmp.Diff([]string{CodeForbidden}, decode(t, rec).codes()); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
	if execs.Load() != 0 {
		t.Error("the operation executed")
	}
}

func TestFieldGuardValidate(t *testing.T) {
	t.Parallel()
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: guardSchema})
	es := &graphql.ExecutableSchemaMock{SchemaFunc: func() *ast.Schema { return schema }}
	tests := []struct {
		name    string
		rules   map[string]Role
		wantErr string
	}{
		{name: "default rules", rules: DefaultRules()},
		{name: "wildcard", rules: map[string]Role{"Mutation.*": RoleAdmin, "Candidate.*": RoleWriter}},
		{name: "misspelt field", rules: map[string]Role{"Mutation.addWorkableCredentials": RoleAdmin}, wantErr: "field Mutation.addWorkableCredentials, which the schema lacks"},
		{name: "unknown type", rules: map[string]Role{"Mutations.createCandidate": RoleWriter}, wantErr: "type Mutations, which the schema lacks"},
		{name: "not Type.field", rules: map[string]Role{"createCandidate": RoleWriter}, wantErr: "is not Type.field"},
		{name: "invalid role", rules: map[string]Role{"Query.jobs": Role(7)}, wantErr: "invalid role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := FieldGuard(tt.rules).Validate(es)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFieldGuardWildcardRule(t *testing.T) {
	t.Parallel()
	keys := mustParseKeys(t, writerKey+":writer")
	gs := newGuardedServer(t, keys, map[string]Role{"Mutation.*": RoleAdmin})
	r := gs.post(t, writerKey, `mutation { createCandidate(name: "a") { id } }`)
	if diff := cmp.Diff([]string{CodeForbidden}, r.codes()); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
}
