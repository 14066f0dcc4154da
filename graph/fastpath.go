package graph

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// fastPath answers, without gqlgen's execution, the one query shape that
// dominates a frontend's reads: a forward page of Query.candidates with
// fields the candidate list item carries and the job's list fields, when
// every record it needs is already in the decoded tier. It writes the JSON
// directly (gqlgen spends a goroutine, a field context and a result per
// list item and field on the same answer), with gqlgen's own collection of
// fields (fragments, aliases, @skip and @include) and scalar marshalers, so
// that its bytes are gqlgen's.
//
// It answers all or nothing: any field, argument or directive it does not
// know, any @defer, any record the decoded tier does not hold, any error or
// null where the schema says non-null sends the operation to gqlgen
// untouched. It reads only the decoded tier (upstream.Loader.Local): no
// batch, no cache read, no Workable call, so a request it gives up on
// costs the same as one it never saw, and a hit counts once per key and
// request either way (extensions.cost is the same). TestFastPathMatchesGqlgen
// compares its answers with gqlgen's byte for byte.
type fastPath struct {
	logger *slog.Logger
}

var (
	_ graphql.HandlerExtension    = fastPath{}
	_ graphql.ResponseInterceptor = fastPath{}
)

// fastPathAnswered marks, in the operation's stats, an operation the fast
// path answered: an incremental transport asks for the next response until
// it gets none, and gqlgen has none after a query without @defer.
const fastPathAnswered = "recordFastPath"

// ExtensionName implements graphql.HandlerExtension.
func (fastPath) ExtensionName() string { return "RecordFastPath" }

// Validate implements graphql.HandlerExtension.
func (fastPath) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse implements graphql.ResponseInterceptor: the fast
// path's answer, else gqlgen's.
func (f fastPath) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Stats.GetExtension(fastPathAnswered) != nil {
		return nil
	}
	data, ok := f.answer(ctx, oc)
	if !ok {
		return next(ctx)
	}
	oc.Stats.SetExtension(fastPathAnswered, true)
	// What gqlgen's executor adds to the response it builds.
	return &graphql.Response{Data: data, Errors: graphql.GetErrors(ctx), Extensions: graphql.GetExtensions(ctx)}
}

// errNotLocal ends the fast path's reads at the first page the decoded
// tier does not hold.
var errNotLocal = errors.New("not in the decoded tier")

// Implementors as gqlgen's generated code collects them.
var (
	queryTypes       = []string{"Query"}
	connectionTypes  = []string{"CandidateConnection"}
	pageInfoTypes    = []string{"PageInfo"}
	candidateTypes   = []string{"Candidate", "Node"}
	jobTypes         = []string{"Job", "Node"}
	locationTypes    = []string{"Location"}
	errFastPathPanic = errors.New("fast path panicked")
)

// answer returns the data of the operation, or false when the fast path
// does not answer it. A panic is logged and leaves the operation to gqlgen.
func (f fastPath) answer(ctx context.Context, oc *graphql.OperationContext) (data []byte, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if f.logger != nil {
				f.logger.ErrorContext(ctx, "record fast path: gqlgen answers instead", "err", errFastPathPanic, "panic", p)
			}
			data, ok = nil, false
		}
	}()
	if oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return nil, false
	}
	root := graphql.CollectFields(oc, oc.Operation.SelectionSet, queryTypes)
	if len(root) != 1 || root[0].Name != "candidates" || len(root[0].Deferrables) > 0 {
		return nil, false
	}
	field := root[0]
	args, filters, first, after, ok := candidatesArgs(ctx, field.ArgumentMap(oc.Variables))
	if !ok {
		return nil, false
	}
	rctx := graphql.WithFieldContext(ctx, &graphql.FieldContext{
		Object: "Query", Field: field, Args: args, IsMethod: true, IsResolver: true,
	})
	l := requestFrom(ctx).loaders
	rctx = gqlhttp.RequestContext(rctx)
	conn, err := candidatesPage(rctx, kindCandidates, filters, l.candidatePages, localPage, first, after, nil, nil)
	if err != nil || conn == nil {
		return nil, false
	}
	w := &recordWriter{ctx: rctx, oc: oc, jobs: l.job, buf: gqlhttp.DataBuffer(ctx)}
	w.buf.Grow(64 + 160*len(conn.Nodes))
	rootSel, ok := w.collect(oc.Operation.SelectionSet, queryTypes)
	if !ok || !writeObject(w, rootSel, queryTypes[0], conn, queryWriters) {
		return nil, false
	}
	return gqlhttp.PreparedData(ctx, w.buf), true
}

// localPage reads a page from the decoded tier alone; errNotLocal when the
// tier does not hold it.
func localPage[K comparable, T any](ctx context.Context, l *upstream.Loader[K, upstream.Page[T]], key K) (upstream.Page[T], error) {
	if pg, ok := l.Local(ctx, key); ok {
		return pg, nil
	}
	return upstream.Page[T]{}, errNotLocal
}

// candidatesArgs reads Query.candidates' arguments as gqlgen's generated
// code does (graphql.UnmarshalInt, graphql.UnmarshalString), for the
// arguments the fast path takes: a forward page, filtered by job, stage or
// email. It also returns them as gqlgen's field context holds them.
func candidatesArgs(ctx context.Context, raw map[string]any) (args map[string]any, f candidateFilters, first *int, after *string, ok bool) {
	args = make(map[string]any, len(raw))
	optString := func(v any) (*string, bool) {
		if v == nil {
			return nil, true
		}
		s, err := graphql.UnmarshalString(v)
		return &s, err == nil
	}
	for name, v := range raw {
		switch name {
		case "first":
			if v != nil {
				n, err := graphql.UnmarshalInt(v)
				if err != nil {
					return nil, f, nil, nil, false
				}
				first = &n
			}
			args[name] = first
		case "after", "jobShortcode", "stage", "email":
			s, good := optString(v)
			if !good {
				return nil, f, nil, nil, false
			}
			args[name] = s
			switch name {
			case "after":
				after = s
			case "jobShortcode":
				f.shortcode = deref(s)
			case "stage":
				f.stage = s
			case "email":
				f.email = deref(s)
			}
		default:
			return nil, f, nil, nil, false
		}
	}
	return args, f, first, after, true
}

// recordWriter writes the JSON of one answer.
type recordWriter struct {
	ctx  context.Context
	oc   *graphql.OperationContext
	jobs *upstream.Loader[string, *workable.Job]
	// buf holds the answer, escaped as the response writer would escape
	// it (gqlhttp.PreparedData).
	buf *bytes.Buffer
	// listed are the jobs read so far: the list item, or nil when the
	// decoded tier holds that Workable has no such job.
	listed map[string]*workable.Job
	// collected are the selections collected so far, by selection set:
	// the fields of a list's items are collected once for all of them.
	collected map[selectionKey]*selection
	// lastKey and last are the selection collect returned last: a list's
	// items ask for the same one in a row, found without hashing its key.
	lastKey selectionKey
	last    *selection
}

// selectionKey names a selection set (by its first element) collected
// for a type.
type selectionKey struct {
	first *ast.Selection
	n     int
	typ   string
}

// selection is a selection set collected as gqlgen collects it, with the
// JSON that precedes each field's value.
type selection struct {
	fields []graphql.CollectedField
	// out says, for each field, how to write it.
	out []fieldOut
	// resolved is set once writeObject has looked up the writers.
	resolved bool
}

// fieldOut says how to write one field of a selection.
type fieldOut struct {
	// key is `"alias":`, after a comma but for the first; nil for a
	// response key already written (marshalFieldSet keeps the first).
	key []byte
	// writer is the field's fieldWriter[T], T the Go type of the
	// selection's objects, looked up by the first writeObject; nil for a
	// field the fast path does not know. (A func in an interface costs no
	// allocation.)
	writer any
}

// collect collects sel for an object of types (gqlgen's CollectFields:
// fragments, @skip, @include, merged aliases); false when a field has
// @defer.
func (w *recordWriter) collect(sel ast.SelectionSet, types []string) (*selection, bool) {
	var key selectionKey
	if len(sel) > 0 {
		key = selectionKey{first: &sel[0], n: len(sel), typ: types[0]}
		if w.last != nil && w.lastKey == key {
			return w.last, true
		}
		if s, ok := w.collected[key]; ok {
			w.lastKey, w.last = key, s
			return s, true
		}
	}
	fields := graphql.CollectFields(w.oc, sel, types)
	s := &selection{fields: fields, out: make([]fieldOut, len(fields))}
	var key1 bytes.Buffer
	written := 0
	for i, f := range fields {
		if len(f.Deferrables) > 0 {
			return nil, false
		}
		dup := false
		for _, g := range fields[:i] {
			dup = dup || g.Alias == f.Alias
		}
		if dup {
			continue
		}
		key1.Reset()
		if written > 0 {
			key1.WriteByte(',')
		}
		written++
		writeQuoted(&key1, f.Alias)
		key1.WriteByte(':')
		s.out[i].key = bytes.Clone(key1.Bytes())
	}
	if len(sel) > 0 {
		if w.collected == nil {
			w.collected = make(map[selectionKey]*selection)
		}
		w.collected[key] = s
		w.lastKey, w.last = key, s
	}
	return s, true
}

// fieldWriter writes the value of the field f of obj; false when it
// cannot, and gqlgen answers the operation instead.
type fieldWriter[T any] func(w *recordWriter, f *graphql.CollectedField, obj T) bool

// fieldWriters are the fields of a GraphQL type the fast path answers, by
// name; any other field of the type leaves the operation to gqlgen.
type fieldWriters[T any] map[string]fieldWriter[T]

// writeObject writes obj, an object of the GraphQL type typename, with the
// fields of s in order, by their writers in fields but __typename; false
// when a field has no writer or its writer fails. The writers are looked
// up once per selection, for all the objects a list writes with it.
func writeObject[T any](w *recordWriter, s *selection, typename string, obj T, fields fieldWriters[T]) bool {
	if !s.resolved {
		for i := range s.fields {
			if wr := fields[s.fields[i].Name]; wr != nil {
				s.out[i].writer = wr
			}
		}
		s.resolved = true
	}
	w.buf.WriteByte('{')
	for i := range s.fields {
		out := &s.out[i]
		if out.key == nil {
			continue
		}
		w.buf.Write(out.key)
		f := &s.fields[i]
		if f.Name == "__typename" {
			writeQuoted(w.buf, typename)
			continue
		}
		wr, ok := out.writer.(fieldWriter[T])
		if !ok || !wr(w, f, obj) {
			return false
		}
	}
	w.buf.WriteByte('}')
	return true
}

// strField writes the non-null String get returns.
func strField[T any](get func(T) string) fieldWriter[T] {
	return func(w *recordWriter, _ *graphql.CollectedField, obj T) bool { return w.str(get(obj)) }
}

// optStringField writes the nullable String get returns.
func optStringField[T any](get func(T) *string) fieldWriter[T] {
	return func(w *recordWriter, _ *graphql.CollectedField, obj T) bool { return w.optString(get(obj)) }
}

// boolField writes the non-null Boolean get returns.
func boolField[T any](get func(T) bool) fieldWriter[T] {
	return func(w *recordWriter, _ *graphql.CollectedField, obj T) bool { return w.boolean(get(obj)) }
}

// hexDigits are the digits of a \u00XX escape.
const hexDigits = "0123456789ABCDEF"

// quoteSpecial marks the bytes writeQuoted does not copy as they are:
// control characters, quote and backslash (escaped by gqlgen's
// MarshalString), <, > and & (escaped by json.Marshal), and 0xE2, which
// starts U+2028 and U+2029 (escaped by json.Marshal).
var quoteSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	for _, c := range []byte{'"', '\\', '<', '>', '&', 0xE2} {
		t[c] = true
	}
	return t
}()

// writeQuoted writes s as a JSON string exactly as it reaches the client
// through gqlgen's MarshalString and json.Marshal's escaping of the data
// (FuzzWriteQuotedMatchesGqlgen compares them): control characters, quotes
// and backslashes escaped as gqlgen escapes them, <, >, &, U+2028 and
// U+2029 as json.Marshal does, everything else (invalid UTF-8 included) as
// it is.
func writeQuoted(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !quoteSpecial[c] {
			continue
		}
		switch c {
		case '\t':
			b.WriteString(s[start:i])
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(s[start:i])
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(s[start:i])
			b.WriteString(`\n`)
		case '\\':
			b.WriteString(s[start:i])
			b.WriteString(`\\`)
		case '"':
			b.WriteString(s[start:i])
			b.WriteString(`\"`)
		case '<', '>', '&':
			b.WriteString(s[start:i])
			b.WriteString(`\u00`)
			b.WriteByte(lowerHex[c>>4])
			b.WriteByte(lowerHex[c&0xF])
		case 0xE2:
			// U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
			if i+2 >= len(s) || s[i+1] != 0x80 || s[i+2]&^1 != 0xA8 {
				continue
			}
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(lowerHex[s[i+2]&0xF])
			i += 2
		default:
			b.WriteString(s[start:i])
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xF])
		}
		start = i + 1
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// lowerHex are the digits of json.Marshal's escapes.
const lowerHex = "0123456789abcdef"

// str writes a non-null string.
func (w *recordWriter) str(s string) bool {
	writeQuoted(w.buf, s)
	return true
}

// optString writes a nullable string.
func (w *recordWriter) optString(s *string) bool {
	if s == nil {
		w.buf.WriteString("null")
		return true
	}
	return w.str(*s)
}

// boolean writes a Boolean as graphql.MarshalBoolean does.
func (w *recordWriter) boolean(v bool) bool {
	w.buf.WriteString(strconv.FormatBool(v))
	return true
}

// queryWriters write the one root field the fast path answers,
// Query.candidates (under any alias), as read into a connection.
var queryWriters = fieldWriters[*model.CandidateConnection]{
	"candidates": func(w *recordWriter, f *graphql.CollectedField, conn *model.CandidateConnection) bool {
		s, ok := w.collect(f.Selections, connectionTypes)
		return ok && writeObject(w, s, connectionTypes[0], conn, connectionWriters)
	},
}

// connectionWriters write a CandidateConnection: nodes and pageInfo.
var connectionWriters = fieldWriters[*model.CandidateConnection]{
	"nodes": func(w *recordWriter, f *graphql.CollectedField, conn *model.CandidateConnection) bool {
		s, ok := w.collect(f.Selections, candidateTypes)
		if !ok {
			return false
		}
		w.buf.WriteByte('[')
		for i, c := range conn.Nodes {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			if c == nil || !writeObject(w, s, candidateTypes[0], c, candidateWriters) {
				return false
			}
		}
		w.buf.WriteByte(']')
		return true
	},
	"pageInfo": func(w *recordWriter, f *graphql.CollectedField, conn *model.CandidateConnection) bool {
		s, ok := w.collect(f.Selections, pageInfoTypes)
		return ok && conn.PageInfo != nil && writeObject(w, s, pageInfoTypes[0], conn.PageInfo, pageInfoWriters)
	},
}

var pageInfoWriters = fieldWriters[*model.PageInfo]{
	"hasNextPage":     boolField(func(p *model.PageInfo) bool { return p.HasNextPage }),
	"hasPreviousPage": boolField(func(p *model.PageInfo) bool { return p.HasPreviousPage }),
	"startCursor":     optStringField(func(p *model.PageInfo) *string { return p.StartCursor }),
	"endCursor":       optStringField(func(p *model.PageInfo) *string { return p.EndCursor }),
}

// candidateWriters write the list fields of a Candidate, and its job.
var candidateWriters = fieldWriters[*workable.Candidate]{
	"id":           strField(func(c *workable.Candidate) string { return c.ID }),
	"name":         strField(func(c *workable.Candidate) string { return c.Name }),
	"firstName":    optStringField(func(c *workable.Candidate) *string { return c.Firstname }),
	"lastName":     optStringField(func(c *workable.Candidate) *string { return c.Lastname }),
	"email":        optStringField(func(c *workable.Candidate) *string { return c.Email }),
	"headline":     optStringField(func(c *workable.Candidate) *string { return c.Headline }),
	"stage":        optStringField(func(c *workable.Candidate) *string { return c.Stage }),
	"disqualified": boolField(func(c *workable.Candidate) bool { return c.Disqualified }),
	"sourced":      boolField(func(c *workable.Candidate) bool { return c.Sourced }),
	"createdAt": func(w *recordWriter, _ *graphql.CollectedField, c *workable.Candidate) bool {
		m := model.MarshalDateTime(c.CreatedAt)
		if m == graphql.Null {
			return false
		}
		m.MarshalGQL(w.buf)
		return true
	},
	// As candidateJob and the job resolvers give it: the shortcode and
	// title from the candidate, the other fields from the job's list item.
	"job": func(w *recordWriter, f *graphql.CollectedField, c *workable.Candidate) bool {
		s, ok := w.collect(f.Selections, jobTypes)
		return ok && writeObject(w, s, jobTypes[0], &c.Job, jobWriters)
	},
}

// jobWriters write the fields of a candidate's Job the fast path knows.
var jobWriters = fieldWriters[*workable.JobRef]{
	"shortcode": strField(func(ref *workable.JobRef) string { return ref.Shortcode }),
	"title":     strField(func(ref *workable.JobRef) string { return ref.Title }),
	"state": func(w *recordWriter, _ *graphql.CollectedField, ref *workable.JobRef) bool {
		j, ok := w.listedJob(ref.Shortcode)
		if !ok || j == nil {
			return false
		}
		st, err := jobState(j.State)
		if err != nil {
			return false
		}
		st.MarshalGQL(w.buf)
		return true
	},
	"location": func(w *recordWriter, f *graphql.CollectedField, ref *workable.JobRef) bool {
		j, ok := w.listedJob(ref.Shortcode)
		if !ok {
			return false
		}
		if j == nil || j.Location == nil {
			w.buf.WriteString("null")
			return true
		}
		s, ok := w.collect(f.Selections, locationTypes)
		return ok && writeObject(w, s, locationTypes[0], j.Location, locationWriters)
	},
}

// listedJob returns the list item of the job with shortcode from the
// decoded tier; false when the tier does not hold it.
func (w *recordWriter) listedJob(shortcode string) (*workable.Job, bool) {
	if j, ok := w.listed[shortcode]; ok {
		return j, true
	}
	j, ok := w.jobs.Local(w.ctx, shortcode)
	if !ok {
		return nil, false
	}
	if w.listed == nil {
		w.listed = make(map[string]*workable.Job)
	}
	w.listed[shortcode] = j
	return j, true
}

var locationWriters = fieldWriters[*workable.Location]{
	"locationStr":   optStringField(func(l *workable.Location) *string { return l.LocationStr }),
	"country":       optStringField(func(l *workable.Location) *string { return l.Country }),
	"countryCode":   optStringField(func(l *workable.Location) *string { return l.CountryCode }),
	"region":        optStringField(func(l *workable.Location) *string { return l.Region }),
	"regionCode":    optStringField(func(l *workable.Location) *string { return l.RegionCode }),
	"city":          optStringField(func(l *workable.Location) *string { return l.City }),
	"zipCode":       optStringField(func(l *workable.Location) *string { return l.ZipCode }),
	"workplaceType": optStringField(func(l *workable.Location) *string { return l.WorkplaceType }),
	"telecommuting": func(w *recordWriter, _ *graphql.CollectedField, l *workable.Location) bool {
		if l.Telecommuting == nil {
			w.buf.WriteString("null")
			return true
		}
		return w.boolean(*l.Telecommuting)
	},
}
