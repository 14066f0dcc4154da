package telemetry

// A tiny executable schema for the extension tests, without code
// generation. Like gqlgen's generated code, it runs every field through the
// operation's ResolverMiddleware with a FieldContext that says whether the
// field has a resolver:
//
//	type Query {
//	  candidate(email: String!): Candidate   # resolver
//	  fail: String                           # resolver, always fails
//	  version: String!                       # plain field
//	}
//	type Candidate { name: String!  email: String! }   # plain fields

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

const toySDL = `
type Query {
  candidate(email: String!): Candidate
  fail: String
  version: String!
}
type Candidate {
  name: String!
  email: String!
}
type Mutation {
  noop: Boolean
}
`

// toyCandidate is what the candidate resolver returns.
type toyCandidate struct{ Name, Email string }

// errToyNotFound is the fail resolver's error; its message quotes user
// input, as real errors may, so tests can check it never reaches a span.
var errToyNotFound = errors.New("not found")

// toySchema is the executable schema; onCandidate, when set, runs inside the
// candidate resolver (tests make "I/O" there).
type toySchema struct {
	schema      *ast.Schema
	onCandidate func(ctx context.Context, email string) error
}

func newToySchema() *toySchema {
	return &toySchema{schema: gqlparser.MustLoadSchema(&ast.Source{Input: toySDL})}
}

// executable returns the schema as gqlgen sees it.
func (s *toySchema) executable() graphql.ExecutableSchema {
	return &graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return s.schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 1, true
		},
		ExecFunc: s.exec,
	}
}

func (s *toySchema) exec(ctx context.Context) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation.Operation != ast.Query {
		return graphql.OneShot(graphql.ErrorResponse(ctx, "the toy schema only runs queries"))
	}
	ran := false
	return func(ctx context.Context) *graphql.Response {
		if ran {
			return nil
		}
		ran = true
		data := map[string]any{}
		for _, sel := range oc.Operation.SelectionSet {
			f := sel.(*ast.Field) // the toy schema's tests use no fragments
			data[f.Alias] = s.queryField(ctx, oc, f)
		}
		b, err := json.Marshal(data)
		if err != nil {
			panic(err)
		}
		return &graphql.Response{Data: b}
	}
}

// queryField resolves one field of Query through the resolver middleware.
func (s *toySchema) queryField(ctx context.Context, oc *graphql.OperationContext, f *ast.Field) any {
	fc := &graphql.FieldContext{
		Object:     "Query",
		Field:      graphql.CollectedField{Field: f},
		Args:       f.ArgumentMap(oc.Variables),
		IsMethod:   f.Name != "version",
		IsResolver: f.Name != "version",
	}
	ctx = graphql.WithFieldContext(ctx, fc)
	res, err := oc.ResolverMiddleware(ctx, func(ctx context.Context) (any, error) {
		switch f.Name {
		case "version":
			return "1.0", nil
		case "fail":
			return nil, fmt.Errorf("look up ada@example.com: %w", errToyNotFound)
		case "candidate":
			email, _ := fc.Args["email"].(string)
			if s.onCandidate != nil {
				if err := s.onCandidate(ctx, email); err != nil {
					return nil, err
				}
			}
			return &toyCandidate{Name: "Ada Lovelace", Email: email}, nil
		}
		return nil, fmt.Errorf("unknown field %s", f.Name)
	})
	if err != nil {
		graphql.AddError(ctx, err)
		return nil
	}
	c, ok := res.(*toyCandidate)
	if !ok {
		return res
	}
	out := map[string]any{}
	for _, sel := range f.SelectionSet {
		sf := sel.(*ast.Field)
		sctx := graphql.WithFieldContext(ctx, &graphql.FieldContext{
			Object: "Candidate",
			Field:  graphql.CollectedField{Field: sf},
		})
		v, _ := oc.ResolverMiddleware(sctx, func(context.Context) (any, error) {
			if sf.Name == "email" {
				return c.Email, nil
			}
			return c.Name, nil
		})
		out[sf.Alias] = v
	}
	return out
}

// toyServer serves the toy schema on /query with exts, behind wrap when it
// is not nil (e.g. RequestLogger).
func toyServer(t *testing.T, s *toySchema, wrap func(http.Handler) http.Handler, exts ...graphql.HandlerExtension) *httptest.Server {
	t.Helper()
	srv := handler.New(s.executable())
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	for _, e := range exts {
		srv.Use(e)
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// gqlRequest is a GraphQL request body.
type gqlRequest struct {
	Query         string         `json:"query,omitempty"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
	Extensions    map[string]any `json:"extensions,omitempty"`
}

// gqlResponse is a GraphQL response body.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// post sends req to the server's /query with the given headers and decodes
// the answer.
func post(t *testing.T, ts *httptest.Server, req gqlRequest, header http.Header) (*http.Response, gqlResponse) {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	hr, err := http.NewRequest(http.MethodPost, ts.URL+"/query", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json")
	for k, vs := range header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	resp, err := ts.Client().Do(hr)
	if err != nil {
		t.Fatalf("POST /query: %v", err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode the GraphQL response: %v", err)
	}
	return resp, out
}
