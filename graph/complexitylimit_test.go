package graph

import (
	"context"
	"reflect"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/gqlerror"
	gqlvalidator "github.com/vektah/gqlparser/v2/validator"

	"github.com/workablegw/gateway/guard"
)

// TestComplexityLimitMatchesGqlgen runs each operation three times through
// guard.ComplexityLimit (the first walks it, the others may remember it) and
// once through gqlgen's FixedComplexityLimit: the same statistics, the same
// error, message and code included, every time.
func TestComplexityLimitMatchesGqlgen(t *testing.T) {
	t.Parallel()
	const limit = 5000
	tests := []struct {
		name, query, operation string
		variables              map[string]any
	}{
		{"q1", qRecordQ1, "", nil},
		{"q3", qRecordQ3, "", nil},
		{"over the limit", abusiveNestedQuery, "", nil},
		{"named operation", `query A { jobs(first: 10) { nodes { id } } } query B { jobs(first: 100) { nodes { id title } } }`, "B", nil},
		{"other operation of the same text", `query A { jobs(first: 10) { nodes { id } } } query B { jobs(first: 100) { nodes { id title } } }`, "A", nil},
		{"variables, small", `query P($n: Int) { candidates(first: $n) { nodes { id } } }`, "", map[string]any{"n": 2}},
		{"variables, same text, over the limit", `query P($n: Int) { candidates(first: $n) { nodes { id activities(first: 100) { nodes { id } } } } }`, "", map[string]any{"n": 100}},
		{"variables, same text, small", `query P($n: Int) { candidates(first: $n) { nodes { id activities(first: 100) { nodes { id } } } } }`, "", map[string]any{"n": 1}},
	}
	es := executableSchema(&Resolver{})
	mine := guard.NewComplexityLimit(limit)
	if err := mine.Validate(es); err != nil {
		t.Fatal(err)
	}
	theirs := extension.FixedComplexityLimit(limit)
	if err := theirs.Validate(es); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, m graphql.OperationContextMutator, query, operation string, vars map[string]any) (*extension.ComplexityStats, *gqlerror.Error) {
		t.Helper()
		doc, errs := gqlparser.LoadQueryWithRules(es.Schema(), query, nil)
		if errs != nil {
			t.Fatalf("query does not validate: %v", errs)
		}
		op := doc.Operations.ForName(operation)
		coerced, err := gqlvalidator.VariableValues(es.Schema(), op, vars)
		if err != nil {
			t.Fatalf("variables: %v", err)
		}
		oc := &graphql.OperationContext{RawQuery: query, OperationName: operation, Doc: doc, Operation: op, Variables: coerced}
		gerr := m.MutateOperationContext(context.Background(), oc)
		stats, _ := oc.Stats.GetExtension("ComplexityLimit").(*extension.ComplexityStats)
		return stats, gerr
	}
	for _, tt := range tests {
		wantStats, wantErr := run(t, theirs, tt.query, tt.operation, tt.variables)
		if wantStats == nil {
			t.Fatalf("%s: gqlgen set no statistics", tt.name)
		}
		for i := range 3 {
			stats, err := run(t, mine, tt.query, tt.operation, tt.variables)
			if !reflect.DeepEqual(stats, wantStats) {
				t.Errorf("%s, run %d: statistics %+v, gqlgen's %+v", tt.name, i, stats, wantStats)
			}
			if !reflect.DeepEqual(err, wantErr) {
				t.Errorf("%s, run %d: error %#v, gqlgen's %#v", tt.name, i, err, wantErr)
			}
		}
	}
	if over, _ := run(t, theirs, abusiveNestedQuery, "", nil); over.Complexity <= limit {
		t.Errorf("the over-the-limit case is under the limit (%d)", over.Complexity)
	}
}
