package guard

import (
	"context"
	"fmt"
	"math"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/workablegw/gateway/gqlext"
)

// QueryLimits bounds the shape of one GraphQL operation. A zero field takes
// its value from DefaultQueryLimits; a negative one turns that check off.
//
// The limits complement gqlgen's complexity limit (which bounds the work an
// operation asks of Workable): they bound the work of parsing, validating
// and planning it, and reject shapes only an attacker sends.
type QueryLimits struct {
	// MaxDepth bounds the nesting of fields, counting fields reached
	// through fragments; { jobs { nodes { id } } } has depth 3. The subtrees
	// of __schema and __type do not count: gqlparser's MaxIntrospectionDepth
	// rule bounds them, and the Playground's introspection query is deeper
	// than any data query needs to be.
	MaxDepth int
	// MaxAliases bounds the fields whose response name differs from their
	// field name, over the whole operation with fragments expanded.
	MaxAliases int
	// MaxRootFields bounds the fields selected at the top of the operation,
	// with fragments expanded.
	MaxRootFields int
	// MaxFields bounds all the fields an operation selects, with fragments
	// expanded. gqlparser's validation (OverlappingFieldsCanBeMerged) takes
	// time quadratic in the fields of a selection set: 2000 repeats of one
	// field cost about 0.2 s of CPU, 14000 about 10 s. This limit is checked
	// before validation, so such a document is refused cheaply.
	MaxFields int
	// MaxTokens bounds the lexical tokens of the query text. It is checked
	// before the query is parsed or validated, so a huge document costs no
	// more than one pass of the lexer up to the limit.
	//
	// Recommended: also give the gqlgen server the same value,
	// srv.SetParserTokenLimit(limits.MaxTokens) (DefaultMaxTokens, 5000),
	// so the parser itself stops at it even if this extension were removed.
	MaxTokens int
}

// The default query limits. A page of 100 jobs with every field, or 50
// candidates each with its job, detail fields and 20 activities, needs depth
// 6–8, no aliases, one root field, under 100 fields and a few hundred
// tokens; GraphiQL's introspection query needs about 200 tokens and 300
// fields (its depth is not counted).
const (
	DefaultMaxDepth      = 12
	DefaultMaxAliases    = 30
	DefaultMaxRootFields = 20
	DefaultMaxFields     = 1000
	DefaultMaxTokens     = 5000
)

// DefaultQueryLimits returns the limits the gateway uses unless configured
// otherwise.
func DefaultQueryLimits() QueryLimits {
	return QueryLimits{
		MaxDepth:      DefaultMaxDepth,
		MaxAliases:    DefaultMaxAliases,
		MaxRootFields: DefaultMaxRootFields,
		MaxFields:     DefaultMaxFields,
		MaxTokens:     DefaultMaxTokens,
	}
}

// withDefaults replaces zero fields by their defaults.
func (q QueryLimits) withDefaults() QueryLimits {
	d := DefaultQueryLimits()
	if q.MaxDepth == 0 {
		q.MaxDepth = d.MaxDepth
	}
	if q.MaxAliases == 0 {
		q.MaxAliases = d.MaxAliases
	}
	if q.MaxRootFields == 0 {
		q.MaxRootFields = d.MaxRootFields
	}
	if q.MaxFields == 0 {
		q.MaxFields = d.MaxFields
	}
	if q.MaxTokens == 0 {
		q.MaxTokens = d.MaxTokens
	}
	return q
}

// Extension returns a gqlgen handler extension that enforces q in two
// places. Before gqlgen parses and validates the query
// (graphql.OperationParameterMutator) it counts the tokens, then parses the
// document on its own and checks every operation and fragment in it, so a
// document built to make validation slow never reaches the validator.
// After validation (graphql.OperationContextMutator) it checks the
// operation about to run again, on the document gqlgen actually executes
// (which may come from its query cache). A refused operation gets an error
// with code TOO_MANY_TOKENS, QUERY_TOO_DEEP, TOO_MANY_ALIASES,
// TOO_MANY_ROOT_FIELDS or TOO_MANY_FIELDS and no resolver runs.
//
// Use it on the server with srv.Use(limits.Extension()), together with
// srv.SetParserTokenLimit(limits.MaxTokens). Its order relative to
// gqlgen's AutomaticPersistedQuery extension does not matter: a persisted
// query is checked when it is first sent in full and whenever it runs.
func (q QueryLimits) Extension() graphql.HandlerExtension {
	return queryLimitsExtension{Name: "QueryLimits", limits: q.withDefaults(), passed: lru.New[struct{}](passedQueries)}
}

// A query text that passed the checks before the parse passes them again
// (they depend on the text alone), so the last passedQueries such texts of
// up to passedQueryBytes are remembered: a client's usual queries are not
// tokenized and parsed twice on every request. Refused texts are not kept.
const (
	passedQueries    = 1000
	passedQueryBytes = 8 << 10
)

type queryLimitsExtension struct {
	gqlext.Name
	limits QueryLimits
	// passed are query texts that passed MutateOperationParameters.
	passed *lru.LRU[struct{}]
}

var _ interface {
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = queryLimitsExtension{}

// MutateOperationParameters implements graphql.OperationParameterMutator:
// it counts the query's tokens, stopping one past the limit, then parses
// the query and checks all of it before gqlgen validates it.
func (e queryLimitsExtension) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Query == "" {
		return nil
	}
	remember := e.passed != nil && len(params.Query) <= passedQueryBytes
	if remember {
		if _, ok := e.passed.Get(ctx, params.Query); ok {
			return nil
		}
	}
	if e.limits.MaxTokens >= 0 && countTokens(params.Query, e.limits.MaxTokens+1) > e.limits.MaxTokens {
		return limitError(CodeTooManyTokens, "the query has more than %d tokens", e.limits.MaxTokens)
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: params.Query})
	if err != nil {
		// gqlgen parses again and reports the error in its usual form.
		return nil
	}
	if err := e.limits.checkDocument(doc); err != nil {
		return err
	}
	if remember {
		e.passed.Add(ctx, params.Query, struct{}{})
	}
	return nil
}

// countTokens counts the non-comment tokens of query, stopping at stop or at
// the first lexical error (which the parser then reports).
func countTokens(query string, stop int) int {
	lx := lexer.New(&ast.Source{Input: query})
	n := 0
	for n < stop {
		tok, err := lx.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			break
		}
		if tok.Kind != lexer.Comment {
			n++
		}
	}
	return n
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (e queryLimitsExtension) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	if op == nil && opCtx.Doc != nil {
		op = opCtx.Doc.Operations.ForName(opCtx.OperationName)
	}
	if op == nil {
		return nil
	}
	var frags ast.FragmentDefinitionList
	if opCtx.Doc != nil {
		frags = opCtx.Doc.Fragments
	}
	return e.limits.check(op, frags)
}

// checkDocument checks every operation of doc, and the field count of every
// fragment of it: an unused fragment is still validated, so its size must
// be bounded too.
func (q QueryLimits) checkDocument(doc *ast.QueryDocument) *gqlerror.Error {
	m := newMeasurer(doc.Fragments)
	for _, op := range doc.Operations {
		if err := q.checkShape(m, m.selectionSet(op.SelectionSet)); err != nil {
			return err
		}
	}
	if q.MaxFields < 0 {
		return nil
	}
	for _, f := range doc.Fragments {
		if s := m.fragment(f.Name); s.fields > q.MaxFields {
			return limitError(CodeTooManyFields, "fragment %s selects %s fields; the limit is %d", f.Name, atLeast(s.fields), q.MaxFields)
		}
	}
	return nil
}

// check measures op and reports the first limit it exceeds.
func (q QueryLimits) check(op *ast.OperationDefinition, frags ast.FragmentDefinitionList) *gqlerror.Error {
	m := newMeasurer(frags)
	return q.checkShape(m, m.selectionSet(op.SelectionSet))
}

// checkShape reports the first limit an operation's shape s exceeds.
func (q QueryLimits) checkShape(m *measurer, s shape) *gqlerror.Error {
	switch {
	case m.cycle:
		return limitError(CodeQueryTooDeep, "the query's fragments spread each other in a cycle")
	case q.MaxDepth >= 0 && s.depth > q.MaxDepth:
		return limitError(CodeQueryTooDeep, "the query is nested %s levels deep; the limit is %d", atLeast(s.depth), q.MaxDepth)
	case q.MaxAliases >= 0 && s.aliases > q.MaxAliases:
		return limitError(CodeTooManyAliases, "the query has %s aliases; the limit is %d", atLeast(s.aliases), q.MaxAliases)
	case q.MaxRootFields >= 0 && s.width > q.MaxRootFields:
		return limitError(CodeTooManyRootFields, "the query selects %s top-level fields; the limit is %d", atLeast(s.width), q.MaxRootFields)
	case q.MaxFields >= 0 && s.fields > q.MaxFields:
		return limitError(CodeTooManyFields, "the query selects %s fields; the limit is %d", atLeast(s.fields), q.MaxFields)
	}
	return nil
}

// limitError returns a gqlerror with the given extensions.code.
func limitError(code, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": code},
	}
}

// saturation caps the measured counts: fragments spread inside fragments can
// make the expanded counts grow exponentially with the document's size.
const saturation = math.MaxInt32

// atLeast formats a measured count, saying "more than" once it saturated.
func atLeast(n int) string {
	if n >= saturation {
		return fmt.Sprintf("more than %d", saturation)
	}
	return fmt.Sprint(n)
}

func satAdd(a, b int) int { return min(a+b, saturation) }

// shape is what the limits measure of a selection set, with fragments
// expanded: the depth of its deepest field, its aliases, how many fields it
// selects at its own level, and how many at all levels.
type shape struct {
	depth, aliases, width, fields int
}

// measurer computes shapes. Each fragment is measured once and remembered,
// so the walk is linear in the document even when fragments are spread many
// times; a fragment met again while it is being measured is a cycle.
type measurer struct {
	frags    map[string]*ast.FragmentDefinition
	done     map[string]shape
	visiting map[string]bool
	cycle    bool
}

func newMeasurer(frags ast.FragmentDefinitionList) *measurer {
	byName := make(map[string]*ast.FragmentDefinition, len(frags))
	for _, f := range frags {
		if _, dup := byName[f.Name]; !dup {
			byName[f.Name] = f
		}
	}
	return &measurer{frags: byName, done: map[string]shape{}, visiting: map[string]bool{}}
}

func (m *measurer) selectionSet(set ast.SelectionSet) shape {
	var s shape
	for _, sel := range set {
		var c shape
		switch sel := sel.(type) {
		case *ast.Field:
			c = m.field(sel)
		case *ast.InlineFragment:
			c = m.selectionSet(sel.SelectionSet)
		case *ast.FragmentSpread:
			c = m.fragment(sel.Name)
		}
		s.depth = max(s.depth, c.depth)
		s.aliases = satAdd(s.aliases, c.aliases)
		s.width = satAdd(s.width, c.width)
		s.fields = satAdd(s.fields, c.fields)
	}
	return s
}

func (m *measurer) field(f *ast.Field) shape {
	child := m.selectionSet(f.SelectionSet)
	s := shape{depth: satAdd(child.depth, 1), aliases: child.aliases, width: 1, fields: satAdd(child.fields, 1)}
	if f.Name == "__schema" || f.Name == "__type" {
		// Bounded by gqlparser's MaxIntrospectionDepth rule instead.
		s.depth = 1
	}
	if f.Alias != "" && f.Alias != f.Name {
		s.aliases = satAdd(s.aliases, 1)
	}
	return s
}

func (m *measurer) fragment(name string) shape {
	if s, ok := m.done[name]; ok {
		return s
	}
	if m.visiting[name] {
		m.cycle = true
		return shape{}
	}
	def, ok := m.frags[name]
	if !ok {
		// Validation rejects unknown fragments; nothing to measure.
		return shape{}
	}
	m.visiting[name] = true
	s := m.selectionSet(def.SelectionSet)
	delete(m.visiting, name)
	m.done[name] = s
	return s
}
