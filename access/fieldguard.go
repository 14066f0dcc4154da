package access

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// DefaultRules returns the roles of the schema: candidate mutations (the
// hiring actions included) need a writer, credential management an admin. Fields without a rule get
// FieldGuard's defaults (Query.* reader, Mutation.* writer). The schema
// must define every field named here (see FieldGuard).
func DefaultRules() map[string]Role {
	return map[string]Role{
		"Query.workableCredentials":           RoleAdmin,
		"Mutation.createCandidate":            RoleWriter,
		"Mutation.updateCandidate":            RoleWriter,
		"Mutation.moveCandidate":              RoleWriter,
		"Mutation.disqualifyCandidate":        RoleWriter,
		"Mutation.revertDisqualification":     RoleWriter,
		"Mutation.commentOnCandidate":         RoleWriter,
		"Mutation.rateCandidate":              RoleWriter,
		"Mutation.setCandidateTags":           RoleWriter,
		"Mutation.copyCandidate":              RoleWriter,
		"Mutation.relocateCandidate":          RoleWriter,
		"Mutation.addWorkableCredential":      RoleAdmin,
		"Mutation.testWorkableCredential":     RoleAdmin,
		"Mutation.removeWorkableCredential":   RoleAdmin,
		"Mutation.registerWorkableWebhooks":   RoleAdmin,
		"Mutation.unregisterWorkableWebhooks": RoleAdmin,
	}
}

// FieldGuard returns a gqlgen extension that checks a whole operation
// against the caller's role (PrincipalFrom) after it is parsed and
// validated and before any resolver runs, so a refused operation reaches
// no resolver and no Workable call. An operation that selects any field
// whose required role exceeds the caller's is refused with one error, code
// FORBIDDEN, naming the fields.
//
// rules maps "Type.field" (or "Type.*" for every field of a type) to the
// role it needs; it applies wherever the field appears in the operation,
// fragments included. A field without a rule needs RoleReader on the query
// (and subscription) root type, RoleWriter on the mutation root type, and
// nothing elsewhere. Validate (called by the server's Use) fails, so Use
// panics at startup, when a rule names a type or field the schema lacks:
// a misspelt rule would otherwise silently fall back to a lower role.
func FieldGuard(rules map[string]Role) graphql.HandlerExtension {
	copied := make(map[string]Role, len(rules))
	for k, v := range rules {
		copied[k] = v
	}
	return &fieldGuard{rules: copied}
}

type fieldGuard struct {
	rules map[string]Role
	// The names of the schema's root types, set by Validate.
	query, mutation, subscription string
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &fieldGuard{}

// ExtensionName implements graphql.HandlerExtension.
func (*fieldGuard) ExtensionName() string { return "FieldGuard" }

// Validate implements graphql.HandlerExtension: it checks the rules against
// the schema and remembers the root type names.
func (g *fieldGuard) Validate(es graphql.ExecutableSchema) error {
	s := es.Schema()
	if s == nil {
		return fmt.Errorf("field guard: the executable schema has no schema")
	}
	if s.Query != nil {
		g.query = s.Query.Name
	}
	if s.Mutation != nil {
		g.mutation = s.Mutation.Name
	}
	if s.Subscription != nil {
		g.subscription = s.Subscription.Name
	}
	for key, role := range g.rules {
		typeName, fieldName, ok := strings.Cut(key, ".")
		if !ok || typeName == "" || fieldName == "" {
			return fmt.Errorf("field guard: rule %q is not Type.field", key)
		}
		if role < RoleNone || role > RoleAdmin {
			return fmt.Errorf("field guard: rule %q has an invalid role %d", key, int(role))
		}
		def := s.Types[typeName]
		if def == nil {
			return fmt.Errorf("field guard: rule %q names type %s, which the schema lacks", key, typeName)
		}
		if fieldName != "*" && def.Fields.ForName(fieldName) == nil {
			return fmt.Errorf("field guard: rule %q names field %s.%s, which the schema lacks", key, typeName, fieldName)
		}
	}
	return nil
}

// required returns the role a field of typeName needs.
func (g *fieldGuard) required(typeName, fieldName string) Role {
	if r, ok := g.rules[typeName+"."+fieldName]; ok {
		return r
	}
	if r, ok := g.rules[typeName+".*"]; ok {
		return r
	}
	switch typeName {
	case g.mutation:
		return RoleWriter
	case g.query, g.subscription:
		return RoleReader
	default:
		return RoleNone
	}
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (g *fieldGuard) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	if op == nil {
		return nil
	}
	p := PrincipalFrom(ctx)
	w := guardWalk{g: g, role: p.Role, frags: map[string]*ast.FragmentDefinition{}, visited: map[string]bool{}, denied: map[string]Role{}}
	if opCtx.Doc != nil {
		for _, f := range opCtx.Doc.Fragments {
			if _, dup := w.frags[f.Name]; !dup {
				w.frags[f.Name] = f
			}
		}
	}
	w.selectionSet(op.SelectionSet, rootTypeName(g, op.Operation))
	if len(w.denied) == 0 {
		return nil
	}
	names := make([]string, 0, len(w.denied))
	need := RoleNone
	for name, r := range w.denied {
		names = append(names, name)
		need = max(need, r)
	}
	sort.Strings(names)
	const shown = 5
	what := strings.Join(names[:min(len(names), shown)], ", ")
	if len(names) > shown {
		what += fmt.Sprintf(" and %d more fields", len(names)-shown)
	}
	return forbidden(p, need, what)
}

// rootTypeName returns the name of the root type of an operation kind.
func rootTypeName(g *fieldGuard, op ast.Operation) string {
	switch op {
	case ast.Mutation:
		return g.mutation
	case ast.Subscription:
		return g.subscription
	default:
		return g.query
	}
}

// guardWalk visits every field of an operation once per appearance, and
// every fragment definition once, recording the fields the role may not
// select.
type guardWalk struct {
	g       *fieldGuard
	role    Role
	frags   map[string]*ast.FragmentDefinition
	visited map[string]bool
	denied  map[string]Role
}

func (w *guardWalk) selectionSet(set ast.SelectionSet, parent string) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			typeName := parent
			if sel.ObjectDefinition != nil {
				typeName = sel.ObjectDefinition.Name
			}
			if need := w.g.required(typeName, sel.Name); need > w.role {
				w.denied[typeName+"."+sel.Name] = need
			}
			childType := ""
			if sel.Definition != nil && sel.Definition.Type != nil {
				childType = sel.Definition.Type.Name()
			}
			w.selectionSet(sel.SelectionSet, childType)
		case *ast.InlineFragment:
			typeName := parent
			if sel.TypeCondition != "" {
				typeName = sel.TypeCondition
			}
			w.selectionSet(sel.SelectionSet, typeName)
		case *ast.FragmentSpread:
			if w.visited[sel.Name] {
				continue
			}
			w.visited[sel.Name] = true
			if def, ok := w.frags[sel.Name]; ok {
				w.selectionSet(def.SelectionSet, def.TypeCondition)
			}
		}
	}
}
