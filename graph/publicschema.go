package graph

import (
	"maps"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/workablegw/gateway/graph/generated"
)

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
