package gqlhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/workablegw/gateway/access"
)

// Incremental delivery (@defer). A query's @defer fragments are delivered
// as follow-up parts when the client can receive them:
//
//   - over HTTP multipart (Accept: multipart/mixed, gqlgen's MultipartMixed
//     transport: the incremental-delivery format Apollo Client, urql, Relay
//     and GraphiQL speak) when the query uses @defer, with POST or GET;
//   - over Server-Sent Events (Accept: text/event-stream, gqlgen's SSE
//     transport, the GraphQL over SSE protocol): one "next" event per part;
//   - to every other client (plain JSON over POST or GET) in one complete
//     response: the operation runs with its @defer directives removed, so a
//     deferred field is never left null.
//
// @stream is not offered: gqlgen does not implement it, so the schema does
// not declare it and a query using it fails validation.
//
// The list arrives at once and each deferred part follows when its fields
// are resolved, that is as the rate budget admits their Workable calls,
// each part with its own errors. gqlgen hands a deferred part over on a
// channel only while the request's context is live, and its transports wait
// on that channel without watching the context: a part completed just as
// the deadline passes could be dropped and the response never end. So
// gqlgen runs on a context that is never cancelled (Detach) while
// the waits of resolvers (Workable, the budget, stores) get the request's
// deadline and cancellation back (RequestContext): they stop at the
// deadline, their parts complete with errors, and the response always ends.

// multipartDeliveryInterval is how long gqlgen's multipart transport
// gathers deferred parts that complete together into one HTTP part.
const multipartDeliveryInterval = 10 * time.Millisecond

// Add adds the HTTP transports of /query to srv, in the order they are
// tried. The WebSocket and SSE transports also carry subscriptions (see
// transports.go).
func Add(srv interface{ AddTransport(graphql.Transport) }, opts Options) {
	ws, sse := subscriptionTransports(opts)
	srv.AddTransport(ws)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(deferredMultipart{transport.MultipartMixed{DeliveryTimeout: multipartDeliveryInterval}})
	srv.AddTransport(sse)
	srv.AddTransport(complete{rawData{transport.GET{}}})
	srv.AddTransport(complete{rawData{transport.POST{}}})
}

// deferredMultipart is gqlgen's multipart/mixed transport, used for the
// requests that accept multipart/mixed and whose query uses @defer, sent
// with POST or, for a query operation, with GET (urql's default). Other
// queries keep the plain JSON answer even when the client would accept
// multipart (GraphiQL and Apollo Client accept it on every request), which
// the incremental-delivery RFC allows and every such client expects.
type deferredMultipart struct{ transport.MultipartMixed }

// Supports implements graphql.Transport.
func (t deferredMultipart) Supports(r *http.Request) bool {
	if r.Method == http.MethodGet {
		return strings.Contains(r.Header.Get("Accept"), "multipart/mixed") && getQueryDefers(r)
	}
	return t.MultipartMixed.Supports(r) && bodyQueryDefers(r)
}

// Do implements graphql.Transport. gqlgen's transport reads the request
// from a JSON body, so a GET's parameters are handed to it as one.
func (t deferredMultipart) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if r.Method == http.MethodGet {
		body, err := getParamsJSON(r)
		if err != nil {
			// Supports checked the parameters; this cannot happen.
			transport.SendErrorf(w, http.StatusBadRequest, "%s", err)
			return
		}
		post := r.Clone(r.Context())
		post.Method = http.MethodPost
		post.Body = io.NopCloser(bytes.NewReader(body))
		post.ContentLength = int64(len(body))
		post.Header.Set("Content-Type", "application/json")
		r = post
	}
	t.MultipartMixed.Do(w, r, exec)
}

// getParamsJSON returns the GraphQL parameters of a GET as the JSON body of
// a POST.
func getParamsJSON(r *http.Request) ([]byte, error) {
	q := r.URL.Query()
	params := map[string]any{"query": q.Get("query")}
	if name := q.Get("operationName"); name != "" {
		params["operationName"] = name
	}
	for _, k := range []string{"variables", "extensions"} {
		if v := q.Get(k); v != "" {
			var obj map[string]any
			if err := json.Unmarshal([]byte(v), &obj); err != nil {
				return nil, fmt.Errorf("the %s parameter is not a JSON object", k)
			}
			params[k] = obj
		}
	}
	return json.Marshal(params)
}

// getQueryDefers reports whether a GET asks for a query operation (GET
// never runs mutations) whose document uses @defer, with parameters that
// can be handed on as a JSON body.
func getQueryDefers(r *http.Request) bool {
	q := r.URL.Query()
	if !usesDefer(q.Get("query")) {
		return false
	}
	if _, err := getParamsJSON(r); err != nil {
		return false
	}
	op := operationOf(q.Get("query"), q.Get("operationName")) // nil for a bad one: gqlgen's GET transport reports it
	return op != nil && op.Operation == ast.Query
}

// operationOf returns the operation of the document query that name picks
// (the only one when name is ""), or nil when query does not parse or has
// no such operation.
func operationOf(query, name string) *ast.OperationDefinition {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	switch {
	case err != nil:
		return nil
	case name != "":
		return doc.Operations.ForName(name)
	case len(doc.Operations) == 1:
		return doc.Operations[0]
	}
	return nil
}

// bodyQueryDefers reports whether the query text of r's JSON body uses
// @defer, leaving the body readable. A query sent by persisted-query hash
// alone has no text: it is answered whole, like any client that cannot
// receive parts.
func bodyQueryDefers(r *http.Request) bool {
	query, _, ok := bodyParams(r)
	return ok && usesDefer(query)
}

// bodyParams returns the query and operation name of r's JSON body,
// leaving the body readable; false when r has no such body.
func bodyParams(r *http.Request) (query, operationName string, ok bool) {
	if r.Body == nil {
		return "", "", false
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return "", "", false
	}
	var req struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if json.Unmarshal(body, &req) != nil {
		return "", "", false
	}
	return req.Query, req.OperationName, true
}

// usesDefer reports whether a GraphQL document contains the directive
// @defer, reading tokens so that comments and strings do not count.
func usesDefer(query string) bool {
	if !strings.Contains(query, "defer") {
		return false
	}
	lex := lexer.New(&ast.Source{Input: query})
	afterAt := false
	for {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return false
		}
		if afterAt && tok.Kind == lexer.Name && tok.Value == "defer" {
			return true
		}
		afterAt = tok.Kind == lexer.At
	}
}

// AnsweredInParts reports whether r is answered as a stream of parts: over
// a WebSocket or Server-Sent Events, or over multipart/mixed for a query
// using @defer.
func AnsweredInParts(r *http.Request) bool {
	if access.IsWebSocketUpgrade(r) {
		return true // a subscription's stream of events
	}
	accept := r.Header.Get("Accept")
	if r.Method == http.MethodGet {
		return strings.Contains(accept, "multipart/mixed") && getQueryDefers(r)
	}
	if r.Method != http.MethodPost {
		return false
	}
	return strings.Contains(accept, "text/event-stream") ||
		(strings.Contains(accept, "multipart/mixed") && bodyQueryDefers(r))
}

// complete serves its transport's requests with the operation's @defer
// directives removed: the client gets one complete response.
type complete struct{ graphql.Transport }

// Do implements graphql.Transport.
func (t complete) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.Transport.Do(w, r, undeferred{exec})
}

// undeferred is an executor whose operations have no @defer.
type undeferred struct{ graphql.GraphExecutor }

// CreateOperationContext implements graphql.GraphExecutor.
func (e undeferred) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	rc, errs := e.GraphExecutor.CreateOperationContext(ctx, params)
	if rc != nil && rc.Doc != nil && rc.Operation != nil && usesDefer(rc.RawQuery) {
		withoutDefer(rc)
	}
	return rc, errs
}

// withoutDefer replaces rc's operation and fragments by copies without
// @defer. The parsed document is shared with the query cache and other
// requests, so it is copied, never changed.
func withoutDefer(rc *graphql.OperationContext) {
	doc := *rc.Doc
	doc.Fragments = make(ast.FragmentDefinitionList, len(rc.Doc.Fragments))
	for i, f := range rc.Doc.Fragments {
		c := *f
		c.SelectionSet = stripDefer(f.SelectionSet)
		doc.Fragments[i] = &c
	}
	doc.Operations = make(ast.OperationList, len(rc.Doc.Operations))
	for i, op := range rc.Doc.Operations {
		c := *op
		c.SelectionSet = stripDefer(op.SelectionSet)
		doc.Operations[i] = &c
		if op == rc.Operation {
			rc.Operation = &c
		}
	}
	rc.Doc = &doc
}

// stripDefer returns a copy of sel without @defer directives.
func stripDefer(sel ast.SelectionSet) ast.SelectionSet {
	if sel == nil {
		return nil
	}
	out := make(ast.SelectionSet, len(sel))
	for i, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			c := *s
			c.SelectionSet = stripDefer(s.SelectionSet)
			out[i] = &c
		case *ast.InlineFragment:
			c := *s
			c.Directives = withoutDirective(s.Directives, "defer")
			c.SelectionSet = stripDefer(s.SelectionSet)
			out[i] = &c
		case *ast.FragmentSpread:
			c := *s
			c.Directives = withoutDirective(s.Directives, "defer")
			out[i] = &c
		default:
			out[i] = s
		}
	}
	return out
}

func withoutDirective(list ast.DirectiveList, name string) ast.DirectiveList {
	var out ast.DirectiveList
	for _, d := range list {
		if d.Name != name {
			out = append(out, d)
		}
	}
	return out
}
