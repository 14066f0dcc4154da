package gqlhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// cannedResponses are the operations' answers of cannedExecutor, by
// operation name: what marshalers and the fast path produce, and what they
// might.
var cannedResponses = func() map[string]*graphql.Response {
	var page strings.Builder
	page.WriteString(`{"candidates":{"nodes":[`)
	for i := range 50 {
		if i > 0 {
			page.WriteByte(',')
		}
		fmt.Fprintf(&page, `{"id":"c%d","name":"Zoë <%d> & Ø","job":{"shortcode":"J%d","title":"R&D \u2028 engineer\u2029"}}`, i, i, i)
	}
	page.WriteString(`]}}`)
	partial := gqlerror.List{{
		Message:    `job <J1> & "friends" unavailable`,
		Path:       ast.Path{ast.PathName("candidates"), ast.PathIndex(0), ast.PathName("job")},
		Extensions: map[string]any{"code": "UPSTREAM_UNAVAILABLE", "html": "<&>\u2028"},
	}}
	return map[string]*graphql.Response{
		"Plain":      {Data: []byte(`{"v":"plain"}`)},
		"HTML":       {Data: []byte(`{"v":"<script>alert('R&D')</script>"}`)},
		"LineSep":    {Data: []byte("{\"v\":\"a\u2028b\u2029c\u2027\u202a\"}")},
		"Unicode":    {Data: []byte(`{"v":"Zoë 日本語 🎉 ☃","w":"\u00e9"}`)},
		"Escapes":    {Data: []byte(`{"v":"q\"b\\s\/\b\f\n\r\t\u003c\u2028 end","e":"\\"}`)},
		"Scalars":    {Data: []byte(`{"a":[1,-2.5e10,true,false,null,{}],"b":[],"c":{"d":{"e":"&"}}}`)},
		"Spaced":     {Data: []byte("{\"m\": {\"k\": \"<v>\"}}\n")},
		"BadUTF8":    {Data: []byte("{\"v\":\"a\xffb<\"}")},
		"Page":       {Data: []byte(page.String()), Extensions: map[string]any{"cost": map[string]any{"calls": 0, "note": "<&>"}}},
		"Partial":    {Data: []byte(`{"candidates":{"nodes":[{"id":"1","job":null}]}}`), Errors: partial},
		"NullData":   {Errors: gqlerror.List{{Message: "boom & <bust>", Extensions: map[string]any{"code": "INTERNAL"}}}},
		"NoData":     {},
		"Extensions": {Data: []byte(`{"v":"x"}`), Extensions: map[string]any{"b": 1, "a": []any{"<", "\u2029"}}},
		"Labelled":   {Data: []byte(`{"v":"x&y"}`), Label: "l<", Path: ast.Path{ast.PathName("v")}},
	}
}()

const cannedSchema = `
type Query { v: String }
type Mutation { v: String }
`

// cannedExecutor is gqlgen's executor (request parsing, validation and
// request errors are gqlgen's) answering each operation with its canned
// response.
func cannedExecutor(t testing.TB) graphql.GraphExecutor {
	t.Helper()
	return schemaExecutor(t, func(ctx context.Context) graphql.ResponseHandler {
		name := graphql.GetOperationContext(ctx).OperationName
		resp, ok := cannedResponses[name]
		if !ok {
			return graphql.OneShot(graphql.ErrorResponse(ctx, "no canned response %q", name))
		}
		copied := *resp
		return graphql.OneShot(&copied)
	})
}

// schemaExecutor is gqlgen's executor over cannedSchema, executing each
// operation with exec.
func schemaExecutor(t testing.TB, exec func(ctx context.Context) graphql.ResponseHandler) graphql.GraphExecutor {
	t.Helper()
	schema, err := gqlparser.LoadSchema(&ast.Source{Input: cannedSchema})
	if err != nil {
		t.Fatal(err)
	}
	return executor.New(&graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 1, true
		},
		ExecFunc: exec,
	})
}

// TestRawDataMatchesGqlgen compares, for every canned response, request
// error, method and Accept header, rawData's status, headers and bytes with
// gqlgen's transports'.
func TestRawDataMatchesGqlgen(t *testing.T) {
	t.Parallel()
	exec := cannedExecutor(t)
	type request struct {
		name, method, body, rawQuery string
	}
	var requests []request
	for name := range cannedResponses {
		doc := "query " + name + " { v }"
		body, err := json.Marshal(map[string]any{"query": doc, "operationName": name})
		if err != nil {
			t.Fatal(err)
		}
		requests = append(requests,
			request{name + "/POST", http.MethodPost, string(body), ""},
			request{name + "/GET", http.MethodGet, "", url.Values{"query": {doc}}.Encode()})
	}
	requests = append(requests,
		request{"bad body", http.MethodPost, `{"query":`, ""},
		request{"empty body", http.MethodPost, ``, ""},
		request{"parse error", http.MethodPost, `{"query":"{ v <"}`, ""},
		request{"unknown field", http.MethodPost, `{"query":"{ nope }"}`, ""},
		request{"bad variables", http.MethodPost, `{"query":"{ v }","variables":[1]}`, ""},
		request{"unknown operation", http.MethodPost, `{"query":"query Unknown { v }"}`, ""},
		request{"mutation", http.MethodPost, `{"query":"mutation Plain { v }"}`, ""},
		request{"GET mutation", http.MethodGet, "", url.Values{"query": {"mutation Plain { v }"}}.Encode()},
		request{"GET parse error", http.MethodGet, "", url.Values{"query": {"{ v <"}}.Encode()},
		request{"GET bad variables", http.MethodGet, "", url.Values{"query": {"query Plain { v }"}, "variables": {"{"}}.Encode()},
		request{"GET bad extensions", http.MethodGet, "", url.Values{"query": {"query Plain { v }"}, "extensions": {"["}}.Encode()},
		request{"GET bad query string", http.MethodGet, "", "query=%zz"},
	)
	accepts := []string{"", "application/json", "application/graphql-response+json", "*/*", "text/html"}
	for _, rq := range requests {
		for _, accept := range accepts {
			t.Run(rq.name+"/"+accept, func(t *testing.T) {
				var plain, raw graphql.Transport = transport.POST{}, rawData{transport.POST{}}
				if rq.method == http.MethodGet {
					plain, raw = transport.GET{}, rawData{transport.GET{}}
				}
				serve := func(tr graphql.Transport) *httptest.ResponseRecorder {
					req := httptest.NewRequest(rq.method, "/query?"+rq.rawQuery, strings.NewReader(rq.body))
					// As gqlgen's handler does before a transport.
					req = req.WithContext(graphql.StartOperationTrace(req.Context()))
					if rq.method == http.MethodPost {
						req.Header.Set("Content-Type", "application/json")
					}
					if accept != "" {
						req.Header.Set("Accept", accept)
					}
					if !tr.Supports(req) {
						t.Fatalf("%T does not support the request", tr)
					}
					rec := httptest.NewRecorder()
					tr.Do(rec, req, exec)
					return rec
				}
				want, got := serve(plain), serve(raw)
				if got.Code != want.Code {
					t.Errorf("status %d, gqlgen's %d", got.Code, want.Code)
				}
				if !reflect.DeepEqual(got.Header(), want.Header()) {
					t.Errorf("headers %v, gqlgen's %v", got.Header(), want.Header())
				}
				if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
					t.Errorf("body\n%s\ngqlgen's\n%s", got.Body, want.Body)
				}
			})
		}
	}
}

// TestAppendCompactDataFastPath checks that the data marshalers write is
// copied by the scan, not sent to json.Marshal, and escaped as
// json.Marshal escapes it.
func TestAppendCompactDataFastPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, data string
		fast       bool
	}{
		{"plain", `{"v":"plain"}`, true},
		{"html", `{"v":"<a href=\"x\">R&D</a>"}`, true},
		{"line separators", "[\"\u2028\",\"\u2029\"]", true},
		{"unicode", `{"v":"Zoë 日本語 🎉"}`, true},
		{"escapes", `["\"\\\/\b\f\n\r\t\u00e9"]`, true},
		{"numbers", `[1,-0.5e3,true,false,null]`, true},
		{"space between tokens", `{"v": 1}`, false},
		{"trailing newline", "{\"v\":1}\n", false},
		{"invalid utf-8", "[\"\xff\"]", false},
		{"control character", "[\"\x01\"]", false},
		{"empty", ``, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			ok := appendCompactData(&buf, []byte(tc.data))
			if ok != tc.fast {
				t.Fatalf("fast path %v, want %v", ok, tc.fast)
			}
			if !ok {
				return
			}
			want, err := json.Marshal(json.RawMessage(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("got %s, json.Marshal's %s", buf.Bytes(), want)
			}
		})
	}
}

// FuzzAppendCompactData checks that whatever the scan copies is what
// json.Marshal writes for the same json.RawMessage.
func FuzzAppendCompactData(f *testing.F) {
	for _, resp := range cannedResponses {
		f.Add([]byte(resp.Data))
	}
	f.Add([]byte("[\"<>&\u2028\u2029\"]"))
	f.Add([]byte(`{"a":"\\u2028"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var buf bytes.Buffer
		if !appendCompactData(&buf, data) {
			return // written by json.Marshal itself
		}
		want, err := json.Marshal(json.RawMessage(data))
		if err != nil {
			// json.Marshal refuses what is not JSON; the scan checks
			// only what it relies on, so it may copy it.
			if json.Valid(data) {
				t.Fatalf("json.Marshal failed on valid %q: %v", data, err)
			}
			return
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("data %q: got %q, json.Marshal's %q", data, buf.Bytes(), want)
		}
	})
}

// preparedExecutor is gqlgen's executor answering `{ v }` with data written
// into a DataBuffer and handed over with PreparedData: {"v":<the request's
// header X-V as it is>}. replace, when set, is given the response and the
// prepared buffer before the transport writes it.
func preparedExecutor(t testing.TB, replace func(resp *graphql.Response, prepared *bytes.Buffer)) graphql.GraphExecutor {
	t.Helper()
	return schemaExecutor(t, func(ctx context.Context) graphql.ResponseHandler {
		v := graphql.GetOperationContext(ctx).Headers.Get("X-V")
		done := false
		return func(ctx context.Context) *graphql.Response {
			if done {
				return nil
			}
			done = true
			buf := DataBuffer(ctx)
			buf.WriteString(`{"v":`)
			buf.WriteString(v)
			buf.WriteByte('}')
			resp := &graphql.Response{Data: PreparedData(ctx, buf)}
			if replace != nil {
				replace(resp, buf)
			}
			return resp
		}
	})
}

// postPrepared answers one POST of `{ v }` with the header X-V: v.
func postPrepared(t testing.TB, exec graphql.GraphExecutor, v string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":"{ v }"}`))
	req = req.WithContext(graphql.StartOperationTrace(req.Context()))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-V", v)
	rec := httptest.NewRecorder()
	rawData{transport.POST{}}.Do(rec, req, exec)
	return rec
}

// TestPreparedDataIsWrittenAsItIs: data handed over with PreparedData is
// copied into the response without the scan that escapes it (here a raw <
// stays raw, where json.Marshal would write \u003c); data an interceptor
// put in its place is scanned and escaped as any other.
func TestPreparedDataIsWrittenAsItIs(t *testing.T) {
	t.Parallel()
	const v = `"<b>\u003c"`
	if got, want := postPrepared(t, preparedExecutor(t, nil), v).Body.String(), `{"data":{"v":`+v+`}}`; got != want {
		t.Errorf("prepared data: body %s, want %s", got, want)
	}
	replaced := preparedExecutor(t, func(resp *graphql.Response, _ *bytes.Buffer) {
		resp.Data = bytes.Clone(resp.Data)
	})
	if got, want := postPrepared(t, replaced, v).Body.String(), `{"data":{"v":"\u003cb\u003e\u003c"}}`; got != want {
		t.Errorf("replaced data: body %s, want %s", got, want)
	}
}

// TestPreparedBufferOutlivesAReplacedData: when an interceptor has put other
// data in place of the prepared buffer's bytes, the buffer (which it may
// still hold) does not go back to the pool: buffers handed out afterwards
// never overwrite it.
func TestPreparedBufferOutlivesAReplacedData(t *testing.T) {
	t.Parallel()
	var kept []byte
	exec := preparedExecutor(t, func(resp *graphql.Response, prepared *bytes.Buffer) {
		kept = prepared.Bytes()
		resp.Data = []byte(`{"v":"other"}`)
	})
	for i := range 20 {
		want := fmt.Sprintf(`{"v":"kept %d"}`, i)
		if rec := postPrepared(t, exec, fmt.Sprintf(`"kept %d"`, i)); rec.Body.String() != `{"data":{"v":"other"}}` {
			t.Fatalf("body %s", rec.Body)
		}
		for range 4 {
			buf := DataBuffer(graphql.StartOperationTrace(heldKey.With(context.Background(), &heldResponse{})))
			buf.WriteString(strings.Repeat("x", 64))
			bufPool.Put(buf)
		}
		if string(kept) != want {
			t.Fatalf("the replaced prepared buffer was reused: %q, want %q", kept, want)
		}
	}
}

// TestPreparedDataConcurrently: many operations at once, each with data of
// its own in a pooled buffer, each get their own bytes (run with -race: a
// buffer reused while a response still reads it is a data race).
func TestPreparedDataConcurrently(t *testing.T) {
	t.Parallel()
	exec := preparedExecutor(t, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				v := fmt.Sprintf(`"g%d i%d %s"`, g, i, strings.Repeat("y", (g*50+i)%300))
				if got, want := postPrepared(t, exec, v).Body.String(), `{"data":{"v":`+v+`}}`; got != want {
					t.Errorf("body %s, want %s", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
