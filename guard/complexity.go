package guard

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// ComplexityLimit is gqlgen's FixedComplexityLimit (same error, same
// error code, same extension.ComplexityStats under the same name) that
// remembers the complexity of operations without variables: the
// complexity is a function of the operation's text, its name and the
// variables only, so an operation sent again is not walked again.
type ComplexityLimit struct {
	limit int
	es    graphql.ExecutableSchema
	known *lru.Cache[operationKey, int]
}

// operationKey names an operation: the query's text and the operation's
// name in it.
type operationKey struct{ query, name string }

// complexityLimitName is gqlgen's ComplexityLimit's extension name, under
// which extension.GetComplexityStats finds the statistics.
const complexityLimitName = "ComplexityLimit"

// knownComplexities is how many operations ComplexityLimit remembers, as
// many as the handler's query cache holds documents.
const knownComplexities = 1000

// NewComplexityLimit returns the extension refusing operations over limit.
func NewComplexityLimit(limit int) *ComplexityLimit {
	known, err := lru.New[operationKey, int](knownComplexities)
	if err != nil {
		panic(fmt.Sprintf("complexity cache: %v", err))
	}
	return &ComplexityLimit{limit: limit, known: known}
}

// ExtensionName implements graphql.HandlerExtension.
func (c *ComplexityLimit) ExtensionName() string { return complexityLimitName }

// Validate implements graphql.HandlerExtension.
func (c *ComplexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	return nil
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (c *ComplexityLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Doc.Operations.ForName(oc.OperationName)
	var n int
	if op != nil && len(op.VariableDefinitions) == 0 {
		key := operationKey{query: oc.RawQuery, name: oc.OperationName}
		var ok bool
		if n, ok = c.known.Get(key); !ok {
			n = complexity.Calculate(ctx, c.es, op, oc.Variables)
			c.known.Add(key, n)
		}
	} else {
		n = complexity.Calculate(ctx, c.es, op, oc.Variables)
	}
	oc.Stats.SetExtension(complexityLimitName, &extension.ComplexityStats{Complexity: n, ComplexityLimit: c.limit})
	if n > c.limit {
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", n, c.limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
}
