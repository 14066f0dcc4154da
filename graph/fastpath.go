package graph

import (
	"bytes"
	"context"
	"errors"
	"log/slog"

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
	// answered, when set, is called for each operation answered.
	answered func()
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
	if f.answered != nil {
		f.answered()
	}
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
	local := func(ctx context.Context, k upstream.CandidatePageKey) (upstream.Page[workable.Candidate], error) {
		if pg, ok := l.candidatePages.Local(ctx, k); ok {
			return pg, nil
		}
		return upstream.Page[workable.Candidate]{}, errNotLocal
	}
	conn, err := candidatesPage(rctx, kindCandidates, filters, local, first, after, nil, nil)
	if err != nil || conn == nil {
		return nil, false
	}
	w := &recordWriter{ctx: rctx, oc: oc, jobs: l.job}
	w.buf.Grow(64 + 160*len(conn.Nodes))
	ok = w.object(oc.Operation.SelectionSet, queryTypes, func(*graphql.CollectedField) bool {
		return w.connection(field.Selections, conn)
	})
	if !ok {
		return nil, false
	}
	return w.buf.Bytes(), true
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
				f.stage = deref(s)
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
	buf  bytes.Buffer
	// listed are the jobs read so far: the list item, or nil when the
	// decoded tier holds that Workable has no such job.
	listed map[string]*workable.Job
}

// object writes an object of the given types with the fields of sel in
// gqlgen's order (marshalFieldSet's: one entry per response key, the first
// kept), value writing each field's value; false when a field has @defer
// or value fails.
func (w *recordWriter) object(sel ast.SelectionSet, types []string, value func(*graphql.CollectedField) bool) bool {
	fields := graphql.CollectFields(w.oc, sel, types)
	w.buf.WriteByte('{')
	for i := range fields {
		f := &fields[i]
		if len(f.Deferrables) > 0 {
			return false
		}
		dup := false
		for _, g := range fields[:i] {
			dup = dup || g.Alias == f.Alias
		}
		if dup {
			continue
		}
		if i > 0 {
			w.buf.WriteByte(',')
		}
		w.write(graphql.MarshalString(f.Alias))
		w.buf.WriteByte(':')
		if f.Name == "__typename" {
			w.write(graphql.MarshalString(types[0]))
			continue
		}
		if !value(f) {
			return false
		}
	}
	w.buf.WriteByte('}')
	return true
}

// write writes a scalar's JSON.
func (w *recordWriter) write(m graphql.Marshaler) { m.MarshalGQL(&w.buf) }

// optString writes a nullable string.
func (w *recordWriter) optString(s *string) bool {
	if s == nil {
		w.write(graphql.Null)
		return true
	}
	w.write(graphql.MarshalString(*s))
	return true
}

// connection writes a CandidateConnection: nodes and pageInfo.
func (w *recordWriter) connection(sel ast.SelectionSet, conn *model.CandidateConnection) bool {
	return w.object(sel, connectionTypes, func(f *graphql.CollectedField) bool {
		switch f.Name {
		case "nodes":
			w.buf.WriteByte('[')
			for i, c := range conn.Nodes {
				if i > 0 {
					w.buf.WriteByte(',')
				}
				if c == nil || !w.candidate(f.Selections, c) {
					return false
				}
			}
			w.buf.WriteByte(']')
			return true
		case "pageInfo":
			return conn.PageInfo != nil && w.pageInfo(f.Selections, conn.PageInfo)
		}
		return false
	})
}

// pageInfo writes a PageInfo.
func (w *recordWriter) pageInfo(sel ast.SelectionSet, p *model.PageInfo) bool {
	return w.object(sel, pageInfoTypes, func(f *graphql.CollectedField) bool {
		switch f.Name {
		case "hasNextPage":
			w.write(graphql.MarshalBoolean(p.HasNextPage))
		case "hasPreviousPage":
			w.write(graphql.MarshalBoolean(p.HasPreviousPage))
		case "startCursor":
			return w.optString(p.StartCursor)
		case "endCursor":
			return w.optString(p.EndCursor)
		default:
			return false
		}
		return true
	})
}

// candidate writes the list fields of a Candidate and its job.
func (w *recordWriter) candidate(sel ast.SelectionSet, c *workable.Candidate) bool {
	return w.object(sel, candidateTypes, func(f *graphql.CollectedField) bool {
		switch f.Name {
		case "id":
			w.write(graphql.MarshalID(c.ID))
		case "name":
			w.write(graphql.MarshalString(c.Name))
		case "firstName":
			return w.optString(c.Firstname)
		case "lastName":
			return w.optString(c.Lastname)
		case "email":
			return w.optString(c.Email)
		case "headline":
			return w.optString(c.Headline)
		case "stage":
			return w.optString(c.Stage)
		case "disqualified":
			w.write(graphql.MarshalBoolean(c.Disqualified))
		case "sourced":
			w.write(graphql.MarshalBoolean(c.Sourced))
		case "createdAt":
			m := model.MarshalDateTime(c.CreatedAt)
			if m == graphql.Null {
				return false
			}
			w.write(m)
		case "job":
			return w.job(f.Selections, c.Job)
		default:
			return false
		}
		return true
	})
}

// job writes a candidate's Job as candidateJob and the job resolvers give
// it: the shortcode and title from the candidate, the other fields from
// the job's list item.
func (w *recordWriter) job(sel ast.SelectionSet, ref workable.JobRef) bool {
	return w.object(sel, jobTypes, func(f *graphql.CollectedField) bool {
		switch f.Name {
		case "shortcode":
			w.write(graphql.MarshalString(ref.Shortcode))
		case "title":
			w.write(graphql.MarshalString(ref.Title))
		case "state":
			j, ok := w.listedJob(ref.Shortcode)
			if !ok || j == nil {
				return false
			}
			st, err := jobState(j.State)
			if err != nil {
				return false
			}
			w.write(st)
		case "location":
			j, ok := w.listedJob(ref.Shortcode)
			if !ok {
				return false
			}
			if j == nil || j.Location == nil {
				w.write(graphql.Null)
				return true
			}
			return w.location(f.Selections, j.Location)
		default:
			return false
		}
		return true
	})
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

// location writes a Location.
func (w *recordWriter) location(sel ast.SelectionSet, l *workable.Location) bool {
	return w.object(sel, locationTypes, func(f *graphql.CollectedField) bool {
		switch f.Name {
		case "locationStr":
			return w.optString(l.LocationStr)
		case "country":
			return w.optString(l.Country)
		case "countryCode":
			return w.optString(l.CountryCode)
		case "region":
			return w.optString(l.Region)
		case "regionCode":
			return w.optString(l.RegionCode)
		case "city":
			return w.optString(l.City)
		case "zipCode":
			return w.optString(l.ZipCode)
		case "workplaceType":
			return w.optString(l.WorkplaceType)
		case "telecommuting":
			if l.Telecommuting == nil {
				w.write(graphql.Null)
			} else {
				w.write(graphql.MarshalBoolean(*l.Telecommuting))
			}
		default:
			return false
		}
		return true
	})
}
