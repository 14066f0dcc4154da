package graph

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/graph/generated"
)

// CodeIntrospectionDisabled is the code of an operation refused because it
// asks for __schema or __type while introspection is off.
const CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"

// isCodeGenName reports whether name is one of gqlgen's directives, which
// only steer code generation; clients never see them.
func isCodeGenName(name string) bool {
	switch name {
	case "goField", "goModel", "goTag", "goExtraField", "goEnum":
		return true
	}
	return false
}

// PublicSchema returns the gateway's GraphQL schema as clients see it:
// without the directives that only steer code generation (@goField), in
// introspection and in the printed SDL alike.
func PublicSchema() *ast.Schema {
	src := generated.NewExecutableSchema(generated.Config{}).Schema()
	s := *src
	s.Directives = maps.Clone(src.Directives)
	maps.DeleteFunc(s.Directives, func(name string, _ *ast.DirectiveDefinition) bool { return isCodeGenName(name) })
	s.Types = make(map[string]*ast.Definition, len(src.Types))
	for name, def := range src.Types {
		s.Types[name] = withoutCodeGenDirectives(def)
	}
	return &s
}

// withoutCodeGenDirectives returns def itself, or a copy without the uses
// of code generation directives on its fields.
func withoutCodeGenDirectives(def *ast.Definition) *ast.Definition {
	uses := func(f *ast.FieldDefinition) bool {
		return slices.ContainsFunc(f.Directives, isCodeGenDirective)
	}
	if !slices.ContainsFunc(def.Fields, uses) {
		return def
	}
	d := *def
	d.Fields = make(ast.FieldList, len(def.Fields))
	for i, f := range def.Fields {
		if uses(f) {
			fc := *f
			fc.Directives = slices.DeleteFunc(slices.Clone(f.Directives), isCodeGenDirective)
			f = &fc
		}
		d.Fields[i] = f
	}
	return &d
}

func isCodeGenDirective(d *ast.Directive) bool { return isCodeGenName(d.Name) }

// SchemaSDL returns the public schema (PublicSchema) in the GraphQL schema
// definition language, types in alphabetical order, for `gateway schema`,
// GET /schema.graphql and client tooling (code generators, Relay's
// compiler).
func SchemaSDL() string {
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(PublicSchema())
	return b.String()
}

// introspectionOff refuses, before anything runs, every operation that asks
// for __schema or __type, with code INTROSPECTION_DISABLED (gqlgen would
// answer them with a bare "introspection disabled" error, which the error
// presenter could only call INTERNAL). __typename stays allowed: clients
// such as Relay and Apollo ask for it in every query.
type introspectionOff struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = introspectionOff{}

func (introspectionOff) ExtensionName() string                   { return "IntrospectionDisabled" }
func (introspectionOff) Validate(graphql.ExecutableSchema) error { return nil }

func (introspectionOff) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || !asksIntrospection(oc.Operation.SelectionSet, map[string]bool{}) {
		return nil
	}
	return &gqlerror.Error{
		Message:    "introspection is disabled on this gateway: ask its operators for the schema",
		Extensions: map[string]any{"code": CodeIntrospectionDisabled},
	}
}

// asksIntrospection reports whether a selection set selects __schema or
// __type, through fragments too (each named fragment is visited once).
func asksIntrospection(set ast.SelectionSet, seen map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" || asksIntrospection(s.SelectionSet, seen) {
				return true
			}
		case *ast.InlineFragment:
			if asksIntrospection(s.SelectionSet, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if seen[s.Name] || s.Definition == nil {
				continue
			}
			seen[s.Name] = true
			if asksIntrospection(s.Definition.SelectionSet, seen) {
				return true
			}
		}
	}
	return false
}
