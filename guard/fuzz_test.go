package guard

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// FuzzQueryLimits feeds arbitrary query texts through every step of the
// query limits: token counting, the pre-validation check of the parsed
// document and the check of a validated operation. None may panic or
// loop, whatever the document (cycles, unknown fragments, junk).
func FuzzQueryLimits(f *testing.F) {
	for _, seed := range []string{
		"",
		"{ a }",
		nested(20),
		aliases(40),
		fragmentChain(15),
		`{ ...A } fragment A on Query { ...A }`,
		`{ ...A } fragment A on Query { a { ...B } } fragment B on Q { b { ...A } }`,
		`{ job(shortcode: "x") { ...A } } fragment A on Job { id ...B } fragment B on Job { title ...A }`,
		`query Q($a: String) { __schema { types { name } } x: __typename } mutation M { createCandidate(name: "n") { id } }`,
		`{ ...Missing }`,
		"{ a \"unterminated",
		"\xff\xfe{ }",
		`{ jobs { nodes { ... on Job { id ... { title } } } } }`,
	} {
		f.Add(seed)
	}
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "toy.graphqls", Input: toySchema})
	ext := DefaultQueryLimits().Extension().(queryLimitsExtension)
	small := QueryLimits{MaxDepth: 3, MaxAliases: 1, MaxRootFields: 1, MaxFields: 5, MaxTokens: 20}.Extension().(queryLimitsExtension)
	f.Fuzz(func(t *testing.T, query string) {
		ctx := context.Background()
		for _, e := range []queryLimitsExtension{ext, small} {
			preErr := e.MutateOperationParameters(ctx, &graphql.RawParams{Query: query})
			if preErr != nil && preErr.Extensions["code"] == nil {
				t.Fatalf("error without a code: %v", preErr)
			}
			if preErr != nil || len(query) > 2000 {
				// Validation is quadratic: only small documents that passed
				// the pre-check go on, as in the server.
				continue
			}
			doc, errs := gqlparser.LoadQueryWithRules(schema, query, rules.NewDefaultRules())
			if len(errs) != 0 {
				continue
			}
			for _, op := range doc.Operations {
				opCtx := &graphql.OperationContext{Doc: doc, Operation: op, OperationName: op.Name}
				if err := e.MutateOperationContext(ctx, opCtx); err != nil && err.Extensions["code"] == nil {
					t.Fatalf("error without a code: %v", err)
				}
			}
		}
		if n := countTokens(query, 50); n < 0 || n > 50 {
			t.Fatalf("countTokens = %d, want 0..50", n)
		}
	})
}
