package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for newTestServerAt.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{now: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// testServer is a simulator behind a real HTTP server.
type testServer struct {
	sim *Simulator
	srv *httptest.Server
}

func newTestServer(t *testing.T, opts ...Option) *testServer {
	t.Helper()
	return newTestServerAt(t, nil, opts...)
}

// newTestServerAt is newTestServer with the simulator's clock set to now
// (nil: the system clock): these tests move it by hand, as subtests and a
// clock going back are not allowed in a testing/synctest bubble.
func newTestServerAt(t *testing.T, now func() time.Time, opts ...Option) *testServer {
	t.Helper()
	sim := New(opts...)
	if now != nil {
		sim.now = now
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return &testServer{sim: sim, srv: srv}
}

// response is what a test needs from an answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errBody decodes a Workable error body.
func (r response) errBody(t *testing.T) errorBody {
	t.Helper()
	var e errorBody
	r.decode(t, &e)
	return e
}

// call sends method url (absolute, or a path under the server) with token
// (none when empty) and body (JSON-encoded unless a string or nil).
func (ts *testServer) call(t *testing.T, method, url, token string, body any, hdr ...string) response {
	t.Helper()
	return ts.callCtx(t, context.Background(), method, url, token, body, hdr...)
}

func (ts *testServer) callCtx(t *testing.T, ctx context.Context, method, url, token string, body any, hdr ...string) response {
	t.Helper()
	if !strings.HasPrefix(url, "http") {
		url = ts.srv.URL + url
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := ts.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// get is an authenticated GET expecting 200, decoded into v.
func (ts *testServer) get(t *testing.T, url string, v any) response {
	t.Helper()
	r := ts.call(t, http.MethodGet, url, DemoToken, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: status %d, body %s", url, r.status, r.body)
	}
	if v != nil {
		r.decode(t, v)
	}
	return r
}

// pageEnvelope decodes any list answer: the items under key and paging.
type pageEnvelope struct {
	items  []map[string]any
	paging *pagingJSON
}

func (ts *testServer) getPage(t *testing.T, url, key string) pageEnvelope {
	t.Helper()
	var raw map[string]json.RawMessage
	ts.get(t, url, &raw)
	var env pageEnvelope
	if err := json.Unmarshal(raw[key], &env.items); err != nil {
		t.Fatalf("GET %s: items under %q: %v", url, key, err)
	}
	if p, ok := raw["paging"]; ok {
		env.paging = &pagingJSON{}
		if err := json.Unmarshal(p, env.paging); err != nil {
			t.Fatal(err)
		}
	}
	for k := range raw {
		if k != key && k != "paging" {
			t.Errorf("GET %s: unexpected key %q", url, k)
		}
	}
	return env
}

// ids returns the "id" of each item.
func ids(items []map[string]any) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it["id"].(string))
	}
	return out
}

func mustHex(t *testing.T, id string) uint64 {
	t.Helper()
	n, ok := parseHexID(id)
	if !ok {
		t.Fatalf("id %q is not hex", id)
	}
	return n
}
