package guard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/go-cmp/cmp"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// codeRecorder is an outer response writer that records the refusal code,
// the first one only, as the request logger does (the same code can be
// reported by more than one guard).
type codeRecorder struct {
	http.ResponseWriter
	codes []string
}

func (c *codeRecorder) RecordErrorCode(code string) {
	if len(c.codes) == 0 {
		c.codes = append(c.codes, code)
	}
}

// overHTTPServer is a gqlgen server over a small schema, with the request
// guards the gateway puts around its own: ErrorCodes(OverHTTP(server)).
func overHTTPServer(t *testing.T) http.Handler {
	t.Helper()
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
type Query { version: String! deep: Query }
type Mutation { noop: Boolean }
`})
	es := &graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ExecFunc: func(context.Context) graphql.ResponseHandler {
			return graphql.OneShot(&graphql.Response{Data: []byte(`{"version":"1"}`)})
		},
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) { return 0, false },
	}
	srv := handler.New(es)
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.Use(RequestErrors())
	srv.Use(QueryLimits{MaxDepth: 3}.Extension())
	return ErrorCodes(OverHTTP(srv))
}

func TestOverHTTPStatusCodesAndBodies(t *testing.T) {
	t.Parallel()
	h := overHTTPServer(t)
	const grJSON = "application/graphql-response+json"
	tests := []struct {
		name      string
		method    string
		body      string // POST body, or the GET query string
		accept    string
		status    int
		media     string
		hasData   bool
		codes     []string
		recorded  []string
		allowPost bool
	}{
		{name: "executed, application/json", method: "POST", body: `{"query":"{ version }"}`, accept: "application/json",
			status: 200, media: "application/json", hasData: true},
		{name: "executed, graphql-response+json", method: "POST", body: `{"query":"{ version }"}`, accept: grJSON,
			status: 200, media: grJSON, hasData: true},
		{name: "validation failure, application/json", method: "POST", body: `{"query":"{ versio }"}`, accept: "application/json",
			status: 200, media: "application/json", codes: []string{"GRAPHQL_VALIDATION_FAILED"}, recorded: []string{"GRAPHQL_VALIDATION_FAILED"}},
		{name: "validation failure, no Accept", method: "POST", body: `{"query":"{ versio }"}`,
			status: 200, media: "application/json", codes: []string{"GRAPHQL_VALIDATION_FAILED"}, recorded: []string{"GRAPHQL_VALIDATION_FAILED"}},
		{name: "validation failure, graphql-response+json", method: "POST", body: `{"query":"{ versio }"}`, accept: grJSON,
			status: 400, media: grJSON, codes: []string{"GRAPHQL_VALIDATION_FAILED"}, recorded: []string{"GRAPHQL_VALIDATION_FAILED"}},
		{name: "parse failure, application/json", method: "POST", body: `{"query":"{"}`, accept: "application/json",
			status: 200, media: "application/json", codes: []string{"GRAPHQL_PARSE_FAILED"}, recorded: []string{"GRAPHQL_PARSE_FAILED"}},
		{name: "parse failure, graphql-response+json", method: "POST", body: `{"query":"{"}`, accept: grJSON,
			status: 400, media: grJSON, codes: []string{"GRAPHQL_PARSE_FAILED"}, recorded: []string{"GRAPHQL_PARSE_FAILED"}},
		{name: "variable coercion failure, application/json", method: "POST",
			body: `{"query":"query($n: Int) { version }","variables":{"n":"x"}}`, accept: "application/json",
			status: 200, media: "application/json", codes: []string{"GRAPHQL_VALIDATION_FAILED"}, recorded: []string{"GRAPHQL_VALIDATION_FAILED"}},
		{name: "variable coercion failure, graphql-response+json", method: "POST",
			body: `{"query":"query($n: Int) { version }","variables":{"n":"x"}}`, accept: grJSON,
			status: 400, media: grJSON, codes: []string{"GRAPHQL_VALIDATION_FAILED"}, recorded: []string{"GRAPHQL_VALIDATION_FAILED"}},
		{name: "query limit, application/json", method: "POST", body: `{"query":"{ deep { deep { deep { deep { version } } } } }"}`,
			accept: "application/json", status: 200, media: "application/json", codes: []string{CodeQueryTooDeep}, recorded: []string{CodeQueryTooDeep}},
		{name: "query limit, graphql-response+json", method: "POST", body: `{"query":"{ deep { deep { deep { deep { version } } } } }"}`,
			accept: grJSON, status: 400, media: grJSON, codes: []string{CodeQueryTooDeep}, recorded: []string{CodeQueryTooDeep}},
		{name: "validation failure over GET", method: "GET", body: "query=" + url.QueryEscape("{ versio }"), accept: "application/json",
			status: 200, media: "application/json", codes: []string{"GRAPHQL_VALIDATION_FAILED"}, recorded: []string{"GRAPHQL_VALIDATION_FAILED"}},
		{name: "mutation over GET", method: "GET", body: "query=" + url.QueryEscape("mutation { noop }"), accept: "application/json",
			status: 405, media: "application/json", codes: []string{CodeMethodNotAllowed}, recorded: []string{CodeMethodNotAllowed}, allowPost: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var req *http.Request
			if tt.method == http.MethodGet {
				req = httptest.NewRequest(http.MethodGet, "/query?"+tt.body, nil)
			} else {
				req = httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(tt.body))
				req.Header.Set("Content-Type", "application/json")
			}
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			rec := httptest.NewRecorder()
			cr := &codeRecorder{ResponseWriter: rec}
			h.ServeHTTP(cr, req)

			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d (body %s)", rec.Code, tt.status, rec.Body)
			}
			if got := responseMedia(rec.Header()); got != tt.media {
				t.Errorf("Content-Type = %q, want %s", rec.Header().Get("Content-Type"), tt.media)
			}
			var body map[string]json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q is not a JSON object: %v", rec.Body, err)
			}
			if _, ok := body["data"]; ok != tt.hasData {
				t.Errorf("body %s has a data entry: %v, want %v", rec.Body, ok, tt.hasData)
			}
			if diff := cmp.Diff(tt.codes, decode(t, rec).codes()); diff != "" {
				t.Errorf("error codes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.recorded, cr.codes); diff != "" {
				t.Errorf("recorded refusal codes (-want +got):\n%s", diff)
			}
			if got := rec.Header().Get("Allow"); (got == "POST") != tt.allowPost {
				t.Errorf("Allow = %q", got)
			}
		})
	}
}

func TestWithoutData(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"errors":[{"message":"x"}],"data":null}`:          `{"errors":[{"message":"x"}]}`,
		`{"errors":[{"message":"x"}],"extensions":{"a":1}}`: `{"errors":[{"message":"x"}],"extensions":{"a":1}}`,
		`not json`: `not json`,
	} {
		if got := string(withoutData([]byte(in))); got != want {
			t.Errorf("withoutData(%s) = %s, want %s", in, got, want)
		}
	}
}
