package graph

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/workablegw/gateway/guard"
)

// withoutIntrospection builds the handler with introspection off, as
// GATEWAY_INTROSPECTION=false does.
func withoutIntrospection() envOption {
	return withHandler(func(c Config) http.Handler {
		c.DisableIntrospection = true
		return NewHandler(c)
	})
}

func TestIntrospectionDisabled(t *testing.T) {
	t.Parallel()
	off := newTestEnv(t, withoutIntrospection())
	on := newTestEnv(t)
	for _, tc := range []struct {
		name, query string
	}{
		{"__schema", `{ __schema { types { name } } }`},
		{"__type", `{ __type(name: "Job") { fields { name } } }`},
		{"__schema in a fragment", `query { ...Intro } fragment Intro on Query { __schema { queryType { name } } }`},
		{"__type in an inline fragment next to data", `{ jobs(first: 1) { nodes { id } } ... on Query { __type(name: "Job") { name } } }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			off.sim.ResetCounts()
			resp := off.query(tc.query, nil)
			resp.requireCode(t, guard.CodeIntrospectionDisabled)
			if d := string(resp.Data); d != "" && d != "null" {
				t.Errorf("refused introspection has data: %s", resp.Raw)
			}
			if n := off.sim.TotalRequests(); n != 0 {
				t.Errorf("a refused operation made %d Workable calls", n)
			}
			if resp := on.query(tc.query, nil); len(resp.Errors) > 0 {
				t.Errorf("with introspection on: %s", resp.Raw)
			}
		})
	}
	t.Run("__typename stays allowed", func(t *testing.T) {
		var out struct {
			Typename string `json:"__typename"`
			Jobs     struct {
				Nodes []struct {
					Typename string `json:"__typename"`
				}
			}
		}
		off.mustQuery(`{ __typename jobs(first: 1) { nodes { __typename } } }`, nil, &out)
		if out.Typename != "Query" || len(out.Jobs.Nodes) != 1 || out.Jobs.Nodes[0].Typename != "Job" {
			t.Errorf("__typename answers %+v", out)
		}
	})
	// Each typo names something introspection would show: a field, an
	// argument, an enum value, an input field, a type. With introspection
	// on, the same typo gets a suggestion, so each case can fail.
	for _, tc := range []struct{ name, query, hidden string }{
		{"field", `{ jbos(first: 1) { nodes { id } } }`, `"jobs"`},
		{"argument", `{ jobs(firs: 1) { nodes { id } } }`, `"first"`},
		{"enum value", `{ jobs(first: 1, state: PUBLISHE) { nodes { id } } }`, `"PUBLISHED"`},
		{"input field", `mutation { createCandidate(input: {jobShortcode: "X", firstName: "a", lastName: "b", email: "a@b.c", headlin: "x"}) { candidate { id } } }`, `"headline"`},
		{"type", `{ ...F } fragment F on Quer { __typename }`, `"Query"`},
	} {
		t.Run("no suggestion names the "+tc.name, func(t *testing.T) {
			r := off.query(tc.query, nil)
			if len(r.Errors) == 0 {
				t.Fatalf("no validation error: %s", r.Raw)
			}
			for _, e := range r.Errors {
				if e.Code() != "GRAPHQL_VALIDATION_FAILED" || strings.Contains(e.Message, "Did you mean") || strings.Contains(e.Message, tc.hidden) {
					t.Errorf("validation error with introspection off reveals %s: %s", tc.hidden, r.Raw)
				}
			}
			if r := on.query(tc.query, nil); !strings.Contains(r.Raw, "Did you mean") {
				t.Errorf("validation errors with introspection on = %s, want a suggestion", r.Raw)
			}
		})
	}
}

// TestPublicSchemaHidesCodeGenDirectives: gqlgen's @goField steers code
// generation only; neither introspection nor the printed SDL shows it, and
// the SDL is a valid schema with every type of the executable one.
func TestPublicSchemaHidesCodeGenDirectives(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	var out struct {
		Schema struct{ Directives []struct{ Name string } } `json:"__schema"`
	}
	env.mustQuery(`{ __schema { directives { name } } }`, nil, &out)
	var names []string
	for _, d := range out.Schema.Directives {
		names = append(names, d.Name)
	}
	if len(names) == 0 || strings.Contains(strings.Join(names, " "), "go") {
		t.Errorf("introspected directives = %v, want the built-in ones only", names)
	}

	sdl := SchemaSDL()
	if strings.Contains(sdl, "goField") || strings.Contains(sdl, "omittable") {
		t.Errorf("the SDL mentions gqlgen's directive:\n%s", sdl)
	}
	parsed, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: sdl})
	if err != nil {
		t.Fatalf("the SDL does not load: %v", err)
	}
	for name, def := range PublicSchema().Types {
		if def.BuiltIn {
			continue
		}
		got, ok := parsed.Types[name]
		if !ok || len(got.Fields) != len(def.Fields) {
			t.Errorf("type %s: the SDL has %v", name, got)
		}
	}
}
