package graph

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// payload is one JSON payload of an incremental response: the initial
// result, or a subsequent one with its incremental results (the multipart
// format), or one incremental result on its own (the SSE format).
type payload struct {
	Data        json.RawMessage `json:"data"`
	Path        []any           `json:"path"`
	Errors      []gqlError      `json:"errors"`
	HasNext     *bool           `json:"hasNext"`
	Incremental []payload       `json:"incremental"`
	Extensions  map[string]any  `json:"extensions"`
}

// postAccept sends a query with the given Accept header.
func (e *testEnv) postAccept(accept, q string) *http.Response {
	e.t.Helper()
	body, err := json.Marshal(map[string]any{"query": q})
	if err != nil {
		e.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/query", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("POST /query: %v", err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// multipartPayloads reads a multipart/mixed response with the standard
// library's multipart reader.
func multipartPayloads(t *testing.T, resp *http.Response) []payload {
	t.Helper()
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q, want multipart/mixed", resp.Header.Get("Content-Type"))
	}
	r := multipart.NewReader(resp.Body, params["boundary"])
	var out []payload
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("read part %d: %v", len(out), err)
		}
		if ct := part.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("part %d has Content-Type %q", len(out), ct)
		}
		var p payload
		if err := json.NewDecoder(part).Decode(&p); err != nil {
			t.Fatalf("decode part %d: %v", len(out), err)
		}
		out = append(out, p)
	}
}

// ssePayloads reads a text/event-stream response: the data of each "next"
// event, until "complete".
func ssePayloads(t *testing.T, resp *http.Response) []payload {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q, want text/event-stream", ct)
	}
	var out []payload
	var event string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
			if event == "complete" {
				return out
			}
		case strings.HasPrefix(line, "data: ") && event == "next":
			var p payload
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &p); err != nil {
				t.Fatalf("decode event %d: %v", len(out), err)
			}
			out = append(out, p)
		}
	}
	t.Fatalf("the stream ended without a complete event (%v) after %d events", sc.Err(), len(out))
	return nil
}

// qDeferredPage lists candidates at once and defers each one's detail and
// activities.
const qDeferredPage = `{ candidates(first: 20) { nodes { id name ... @defer { tags activities(first: 5) { nodes { action } } } } } }`

// deferredItem is the data of one candidate's deferred part.
type deferredItem struct {
	Tags       *[]string
	Activities *struct{ Nodes []struct{ Action string } }
}

// TestDeferredPageInParts: over multipart/mixed and over SSE, with a budget
// that cannot serve the whole page before the deadline, the list comes
// first with the deferred fields pending (hasNext), then one part per
// candidate as the budget admits its calls, each with the errors of its own
// fields; whole candidates complete in list order, and the last part says
// nothing follows.
func TestDeferredPageInParts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, accept string
		read         func(*testing.T, *http.Response) []payload
	}{
		{"multipart", "multipart/mixed;deferSpec=20220824, application/json", multipartPayloads},
		{"sse", "text/event-stream", ssePayloads},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// As in TestPartialPageWithinTheBudget: 10 per 1 s, a 1 s margin.
			limiter := workable.NewWindowLimiter(10, time.Second, workable.WithMargin(time.Second))
			env := newTestEnv(t, withSimOptions(simulator.WithRateLimit(10, time.Second)),
				withClientOptions(workable.WithRateLimiter(limiter)), withRequestTimeout(5*time.Second))
			resp := env.postAccept(tc.accept, qDeferredPage)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			payloads := tc.read(t, resp)
			if len(payloads) < 2 {
				t.Fatalf("%d payloads, want the list and deferred parts", len(payloads))
			}
			first := payloads[0]
			var list struct {
				Candidates struct {
					Nodes []struct {
						ID         string
						Name       string
						Tags       *[]string
						Activities any
					}
				}
			}
			if err := json.Unmarshal(first.Data, &list); err != nil || len(list.Candidates.Nodes) != 20 {
				t.Fatalf("first payload has %d candidates (%v), want all 20: %s", len(list.Candidates.Nodes), err, first.Data)
			}
			if first.HasNext == nil || !*first.HasNext || len(first.Errors) > 0 {
				t.Errorf("first payload: hasNext %v, errors %v; want more to follow and no error", first.HasNext, first.Errors)
			}
			for i, c := range list.Candidates.Nodes {
				if c.ID == "" || c.Name == "" || c.Tags != nil || c.Activities != nil {
					t.Errorf("candidate %d in the first payload = %+v, want its list fields and the deferred ones pending", i, c)
				}
			}

			// The parts that follow: in SSE each is a payload of its own; in
			// multipart, parts that complete together share a payload.
			var parts []payload
			for i, p := range payloads[1:] {
				last := i == len(payloads)-2
				if p.HasNext == nil || *p.HasNext == last {
					t.Errorf("payload %d: hasNext %v, want %v", i+1, p.HasNext, !last)
				}
				if tc.name == "multipart" {
					parts = append(parts, p.Incremental...)
				} else {
					parts = append(parts, p)
				}
			}
			complete := make([]bool, 20)
			for _, p := range parts {
				if len(p.Path) != 3 || p.Path[0] != "candidates" || p.Path[1] != "nodes" {
					t.Fatalf("part at path %v, want a candidate", p.Path)
				}
				i := int(p.Path[2].(float64))
				var item deferredItem
				if err := json.Unmarshal(p.Data, &item); err != nil {
					t.Fatalf("part %d: %v", i, err)
				}
				unserved := map[string]bool{"tags": item.Tags == nil, "activities": item.Activities == nil}
				for _, e := range p.Errors {
					field := fmt.Sprint(e.Path[len(e.Path)-1])
					want := []any{"candidates", "nodes", float64(i), field}
					if diff := cmp.Diff(want, e.Path); diff != "" || !unserved[field] || e.Code() != CodeRateLimited {
						t.Errorf("part %d has error %+v, want RATE_LIMITED errors at its own null fields", i, e)
					}
					delete(unserved, field)
				}
				for field, missing := range unserved {
					if missing {
						t.Errorf("part %d: %s is null without an error", i, field)
					}
				}
				complete[i] = item.Tags != nil && item.Activities != nil
			}
			if len(parts) != 20 {
				t.Errorf("%d deferred parts, want one per candidate", len(parts))
			}
			k := 0
			for k < 20 && complete[k] {
				k++
			}
			if k == 0 || k == 20 {
				t.Errorf("%d candidates complete: the deadline does not test a partial answer", k)
			}
			for i := k; i < 20; i++ {
				if complete[i] {
					t.Errorf("candidate %d is complete but candidate %d is not: whole items must complete in list order", i, k)
				}
			}
			if n := env.sim.TooManyRequests(); n != 0 {
				t.Errorf("Workable answered %d calls with 429", n)
			}
		})
	}
}

// TestDeferWithoutIncrementalDelivery: a client that accepts neither
// multipart/mixed nor text/event-stream (POST or GET, JSON only) gets one
// complete response: the deferred fields filled in, no hasNext.
func TestDeferWithoutIncrementalDelivery(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	const q = `query Job { job(shortcode: "GROOV005") { title ... @defer(label: "text") { description } ...Extra @defer } } ` +
		`fragment Extra on Job { state }`
	want := env.query(`{ job(shortcode: "GROOV005") { title description state } }`, nil)
	if len(want.Errors) > 0 {
		t.Fatal(want.Raw)
	}
	for name, resp := range map[string]gqlResponse{"POST": env.query(q, nil), "GET": env.get(q)} {
		if len(resp.Errors) > 0 || strings.Contains(resp.Raw, "hasNext") {
			t.Errorf("%s: %s", name, resp.Raw)
		}
		if diff := cmp.Diff(string(want.Data), string(resp.Data)); diff != "" {
			t.Errorf("%s: deferred fields not filled in (-want +got):\n%s", name, diff)
		}
	}
	// The same query text keeps deferring for a client that can take parts:
	// the copy without @defer did not change the cached document.
	payloads := multipartPayloads(t, env.postAccept("multipart/mixed", q))
	if len(payloads) < 2 || !strings.Contains(string(payloads[0].Data), `"description":null`) {
		t.Errorf("multipart after JSON answers: %d payloads, first %s", len(payloads), payloads[0].Data)
	}
	// A query without @defer is plain JSON even when multipart is accepted
	// (GraphiQL and Apollo Client accept it on every request).
	resp := env.postAccept("application/json, multipart/mixed", `{ job(shortcode: "GROOV005") { title } }`)
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
		t.Errorf("a query without @defer answered %q", ct)
	}
}

// TestDeferOverGET: a query sent with GET (urql's default) is delivered in
// parts too when the client accepts multipart/mixed; a mutation never runs
// over GET, @defer or not.
func TestDeferOverGET(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	get := func(q string, extra url.Values) *http.Response {
		t.Helper()
		v := url.Values{"query": {q}}
		for k, vs := range extra {
			v[k] = vs
		}
		req, err := http.NewRequest(http.MethodGet, env.srv.URL+"/query?"+v.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "application/json, multipart/mixed")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get(`query J($sc: String!) { job(shortcode: $sc) { title ... @defer { description } } }`,
		url.Values{"variables": {`{"sc":"GROOV005"}`}, "operationName": {"J"}})
	payloads := multipartPayloads(t, resp)
	if len(payloads) != 2 || !strings.Contains(string(payloads[0].Data), `"description":null`) ||
		len(payloads[1].Incremental) != 1 || !strings.Contains(string(payloads[1].Incremental[0].Data), `"description":"`) {
		t.Errorf("GET with @defer: %d payloads %+v", len(payloads), payloads)
	}
	resp = get(`mutation { updateCandidate(input: {id: "ce55afe", headline: "x"}) { candidate { id ... @defer { name } } } }`, nil)
	if resp.StatusCode != http.StatusNotAcceptable {
		t.Errorf("a mutation over GET answered %d, want 406", resp.StatusCode)
	}
	if n := env.sim.RequestCount("PATCH /candidates/{id}"); n != 0 {
		t.Errorf("a mutation sent with GET reached Workable %d times", n)
	}
}

// TestStreamIsNotOffered: gqlgen does not implement @stream, so the schema
// does not declare it and a query using it is refused.
func TestStreamIsNotOffered(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	var out struct {
		Schema struct{ Directives []struct{ Name string } } `json:"__schema"`
	}
	env.mustQuery(`{ __schema { directives { name } } }`, nil, &out)
	var names []string
	for _, d := range out.Schema.Directives {
		names = append(names, d.Name)
	}
	if !strings.Contains(strings.Join(names, " "), "defer") || strings.Contains(strings.Join(names, " "), "stream") {
		t.Errorf("directives %v, want defer and no stream", names)
	}
	resp := env.query(`{ candidates(first: 2) { nodes @stream { id } } }`, nil)
	if len(resp.Errors) != 1 || resp.Errors[0].Code() != "GRAPHQL_VALIDATION_FAILED" {
		t.Errorf("@stream answered %s, want GRAPHQL_VALIDATION_FAILED", resp.Raw)
	}
}

// TestDeferredPartsEndAtTheDeadline: when Workable hangs past the request's
// deadline, the deferred parts end with errors and the response ends: none
// is lost between gqlgen's resolvers and its transport.
func TestDeferredPartsEndAtTheDeadline(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withRequestTimeout(300*time.Millisecond))
	env.sim.InjectFault("GET /candidates/{id}/activities", simulator.Fault{Delay: time.Hour})
	for i := range 5 {
		q := fmt.Sprintf(`{ candidates(first: 4, stage: %q) { nodes { id ... @defer { activities(first: 1) { nodes { action } } } } } }`,
			[]string{"sourced", "applied", "interview", "offer", "hired"}[i])
		payloads := multipartPayloads(t, env.postAccept("multipart/mixed", q))
		last := payloads[len(payloads)-1]
		if last.HasNext == nil || *last.HasNext {
			t.Fatalf("request %d: the last payload has hasNext %v", i, last.HasNext)
		}
		for _, p := range payloads[1:] {
			for _, inc := range p.Incremental {
				if len(inc.Errors) != 1 || inc.Errors[0].Code() != CodeUpstreamUnavailable {
					t.Errorf("request %d: part %v errors %+v, want UPSTREAM_UNAVAILABLE", i, inc.Path, inc.Errors)
				}
			}
		}
	}
}
