package guard

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// CodeIntrospectionDisabled is the code of an operation refused because it
// asks for __schema or __type while introspection is off.
const CodeIntrospectionDisabled = "INTROSPECTION_DISABLED"

// IntrospectionOff refuses, before anything runs, every operation that asks
// for __schema or __type, with code INTROSPECTION_DISABLED (gqlgen would
// answer them with a bare "introspection disabled" error, which the error
// presenter could only call INTERNAL). __typename stays allowed: clients
// such as Relay and Apollo ask for it in every query.
type IntrospectionOff struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = IntrospectionOff{}

func (IntrospectionOff) ExtensionName() string                   { return "IntrospectionDisabled" }
func (IntrospectionOff) Validate(graphql.ExecutableSchema) error { return nil }

func (IntrospectionOff) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
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

// RulesWithoutSuggestions is the default validation rule set with every
// rule that suggests a name ("Did you mean …") swapped for its variant
// without suggestions (gqlgen swaps FieldsOnCorrectType and ScalarLeafs
// itself when suggestions are disabled). With introspection off, a
// suggestion would reveal the names introspection hides.
func RulesWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, rule := range []core.Rule{
		rules.KnownArgumentNamesRuleWithoutSuggestions,
		rules.ValuesOfCorrectTypeRuleWithoutSuggestions,
		rules.KnownTypeNamesRuleWithoutSuggestions,
	} {
		// Same name as the rule it replaces, so that ReplaceRule finds it.
		r.ReplaceRule(strings.TrimSuffix(rule.Name, "WithoutSuggestions"), rule.RuleFunc)
	}
	return r
}
