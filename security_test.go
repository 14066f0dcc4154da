package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/workablegw/gateway/workable/simulator"
)

// End-to-end tests through the real binary (run): access
// control, credentials, the request guards and the logs.

const (
	readerKey = "reader-key-0000000001"
	writerKey = "writer-key-0000000001"
	adminKey  = "admin-key-00000000001"
	apiKeys   = readerKey + ":reader," + writerKey + ":writer," + adminKey + ":admin"
	// workableToken is the token of the test's Workable account.
	workableToken = "wk-token-secret-0123456789abcdef"
)

// gateway is the binary running in front of a simulator.
type gateway struct {
	t    *testing.T
	base string
	sim  *simulator.Simulator
	logs *syncBuffer
}

// startGateway runs the binary against a fresh simulator (WORKABLE_BASE_URL)
// with API keys and the extra settings in env.
func startGateway(t *testing.T, env map[string]string) *gateway {
	t.Helper()
	sim := simulator.New(simulator.WithToken(workableToken), simulator.WithCandidates(20))
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)
	all := map[string]string{
		"PORT": "0", "WORKABLE_SUBDOMAIN": simulator.DemoSubdomain, "WORKABLE_API_TOKEN": workableToken,
		"WORKABLE_BASE_URL": simSrv.URL + "/spi/v3/", "GATEWAY_API_KEYS": apiKeys, "LOG_LEVEL": "debug",
		// The tests count the calls requests make: no background refresher.
		"REFRESH_ENABLED": "false",
	}
	for k, v := range env {
		if v == "" {
			delete(all, k)
			continue
		}
		all[k] = v
	}
	logs := &syncBuffer{}
	base, stop := startRunLogging(t, nil, all, `listening on (http://localhost:\d+)/query`, logs)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return &gateway{t: t, base: base, sim: sim, logs: logs}
}

// reply is a decoded answer of /query.
type reply struct {
	Status int
	Header http.Header
	Raw    string
	Data   map[string]json.RawMessage
	Errors []struct {
		Message    string
		Extensions map[string]any
	}
}

// code returns the first error's extensions.code, or else the first
// userError's code of the first payload in data.
func (r reply) code() string {
	if len(r.Errors) > 0 {
		c, _ := r.Errors[0].Extensions["code"].(string)
		return c
	}
	for _, v := range r.Data {
		var p struct{ UserErrors []struct{ Code string } }
		if json.Unmarshal(v, &p) == nil && len(p.UserErrors) > 0 {
			return p.UserErrors[0].Code
		}
	}
	return ""
}

// send makes one request to the gateway.
func (g *gateway) send(method, path string, header http.Header, body string) reply {
	g.t.Helper()
	req, err := http.NewRequest(method, g.base+path, strings.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := reply{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/") {
		if err := json.Unmarshal(raw, &out); err != nil {
			g.t.Errorf("%s %s: answer is not JSON: %q", method, path, raw)
		}
	}
	return out
}

// gql POSTs a GraphQL request as key (and extra headers).
func (g *gateway) gql(key, query string, vars map[string]any, extra ...string) reply {
	g.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	h := http.Header{"Content-Type": {"application/json"}}
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Add(extra[i], extra[i+1])
	}
	return g.send(http.MethodPost, "/query", h, string(body))
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func gqlBody(query string) string {
	b, _ := json.Marshal(map[string]string{"query": query})
	return string(b)
}

// TestHostileRequests sends what only an attacker or a broken client sends
// through the whole server: each gets a GraphQL-shaped error with a code
// (and the expected status), nothing panics, and nothing reaches Workable.
func TestHostileRequests(t *testing.T) {
	t.Parallel()
	g := startGateway(t, nil)
	writer := func(kv ...string) http.Header {
		return hdr(append([]string{"Authorization", "Bearer " + writerKey, "Content-Type", "application/json"}, kv...)...)
	}
	nested := strings.Repeat("{ a ", 60) + strings.Repeat("} ", 60)
	var aliases, manyAliases strings.Builder
	aliases.WriteString("{ ")
	for i := range 40 {
		fmt.Fprintf(&aliases, "a%d: __typename ", i)
	}
	aliases.WriteString("}")
	manyAliases.WriteString("{ ")
	for i := range 3000 {
		fmt.Fprintf(&manyAliases, "a%d: __typename ", i)
	}
	manyAliases.WriteString("}")
	huge := strings.Repeat("x", 900<<10)
	createHuge := `{"query":"mutation($in: CreateCandidateInput!) { createCandidate(input: $in) { userErrors { code } } }",` +
		`"variables":{"in":{"jobShortcode":"J1","firstName":"` + huge + `","lastName":"B","email":"a@example.com"}}}`

	tests := []struct {
		name       string
		method     string
		path       string
		header     http.Header
		body       string
		wantStatus int
		wantCode   string
	}{
		{"no API key", "POST", "/query", hdr("Content-Type", "application/json"), gqlBody("{ jobs { nodes { id } } }"), 401, "UNAUTHENTICATED"},
		{"wrong API key", "POST", "/query", hdr("Authorization", "Bearer wrong-key-000000000001", "Content-Type", "application/json"),
			gqlBody("{ jobs { nodes { id } } }"), 401, "UNAUTHENTICATED"},
		{"basic auth instead of a bearer key", "POST", "/query", hdr("Authorization", "Basic "+writerKey, "Content-Type", "application/json"),
			gqlBody("{ jobs { nodes { id } } }"), 401, "UNAUTHENTICATED"},
		{"reader mutates", "POST", "/query", hdr("Authorization", "Bearer "+readerKey, "Content-Type", "application/json"),
			gqlBody(`mutation { createCandidate(input: {jobShortcode: "J", firstName: "A", lastName: "B", email: "a@b.co"}) { userErrors { code } } }`), 200, "FORBIDDEN"},
		{"writer manages credentials", "POST", "/query", writer(),
			gqlBody(`mutation { addWorkableCredential(input: {nickname: "x", subdomain: "x", apiToken: "tttttttttttttttt"}) { userErrors { code } } }`), 200, "FORBIDDEN"},
		{"writer lists credentials inside a fragment", "POST", "/query", writer(),
			gqlBody(`query { ...F } fragment F on Query { workableCredentials { nickname } }`), 200, "FORBIDDEN"},
		{"unknown credential", "POST", "/query", writer("X-Workable-Credential", "nobody"), gqlBody("{ jobs { nodes { id } } }"), 400, "UNKNOWN_CREDENTIAL"},
		{"oversized body", "POST", "/query", writer(), `{"query":"{ jobs { nodes { id } } }","variables":{"s":"` + strings.Repeat("y", 1<<20) + `"}}`, 413, "REQUEST_TOO_LARGE"},
		{"huge string in an input", "POST", "/query", writer(), createHuge, 200, "INVALID"},
		{"huge string argument", "POST", "/query", writer(), gqlBody(`{ job(shortcode: "` + strings.Repeat("s", 100<<10) + `") { title } }`), 200, "BAD_USER_INPUT"},
		{"huge filter", "POST", "/query", writer(), gqlBody(`{ candidates(email: "` + strings.Repeat("e", 10<<10) + `@x.co") { nodes { id } } }`), 200, "BAD_USER_INPUT"},
		{"batch", "POST", "/query", writer(), `[` + gqlBody("{ jobs { nodes { id } } }") + `,` + gqlBody("{ jobs { nodes { id } } }") + `]`, 400, "BATCH_NOT_SUPPORTED"},
		{"deep nesting", "POST", "/query", writer(), gqlBody(nested), 0, "QUERY_TOO_DEEP"},
		{"fragment cycle", "POST", "/query", writer(), gqlBody(`{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`), 0, "QUERY_TOO_DEEP"},
		{"too many aliases", "POST", "/query", writer(), gqlBody(aliases.String()), 0, "TOO_MANY_ALIASES"},
		{"thousands of aliases", "POST", "/query", writer(), gqlBody(manyAliases.String()), 0, "TOO_MANY_TOKENS"},
		{"invalid UTF-8 in the query", "POST", "/query", writer(), "{\"query\":\"{ jobs \xff\xfe { nodes { id } } }\"}", 200, "GRAPHQL_PARSE_FAILED"},
		{"invalid UTF-8 in a variable", "POST", "/query", writer(),
			"{\"query\":\"query($s: String!) { job(shortcode: $s) { title } }\",\"variables\":{\"s\":\"\xff\xfe\xfd\"}}", 0, "BAD_USER_INPUT"},
		{"malformed JSON", "POST", "/query", writer(), `{"query": "{ jobs { nodes { id } } }"`, 400, "BAD_REQUEST"},
		{"JSON of the wrong shape", "POST", "/query", writer(), `{"query": 42}`, 400, "BAD_REQUEST"},
		{"empty body", "POST", "/query", writer(), ``, 400, "BAD_REQUEST"},
		{"no query", "POST", "/query", writer(), `{}`, 400, "BAD_REQUEST"},
		{"a typo for query", "POST", "/query", writer(), `{"qeury": "{ jobs { nodes { id } } }"}`, 400, "BAD_REQUEST"},
		{"GET without a query", "GET", "/query", hdr("Authorization", "Bearer "+writerKey), "", 400, "BAD_REQUEST"},
		{"text/plain", "POST", "/query", hdr("Authorization", "Bearer "+writerKey, "Content-Type", "text/plain"), gqlBody("{ jobs { nodes { id } } }"), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"form", "POST", "/query", hdr("Authorization", "Bearer "+writerKey, "Content-Type", "application/x-www-form-urlencoded"), "query=%7B+jobs+%7B+nodes+%7B+id+%7D+%7D+%7D", 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"no content type", "POST", "/query", hdr("Authorization", "Bearer "+writerKey), gqlBody("{ jobs { nodes { id } } }"), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"PUT", "PUT", "/query", writer(), gqlBody("{ jobs { nodes { id } } }"), 405, "METHOD_NOT_ALLOWED"},
		{"mutation over GET", "GET", "/query?query=" + url.QueryEscape(`mutation { updateCandidate(input: {id: "1", headline: "x"}) { userErrors { code } } }`),
			hdr("Authorization", "Bearer "+writerKey), "", 405, "METHOD_NOT_ALLOWED"},
		{"GET with malformed variables", "GET", "/query?query=" + url.QueryEscape("{ jobs { nodes { id } } }") + "&variables=%7Bnope",
			hdr("Authorization", "Bearer "+writerKey), "", 400, "BAD_REQUEST"},
		{"unknown field", "POST", "/query", writer(), gqlBody("{ secrets }"), 200, "GRAPHQL_VALIDATION_FAILED"},
		{"candidate id with control characters", "POST", "/query", writer(),
			gqlBody(`mutation { updateCandidate(input: {id: "1\u0000", headline: "x"}) { userErrors { code } } }`), 200, "INVALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := g.send(tt.method, tt.path, tt.header, tt.body)
			if tt.wantStatus != 0 && r.Status != tt.wantStatus {
				t.Errorf("status %d, want %d; answer %.300s", r.Status, tt.wantStatus, r.Raw)
			}
			if got := r.code(); got != tt.wantCode {
				t.Errorf("code %q, want %q; answer %.300s", got, tt.wantCode, r.Raw)
			}
		})
	}
	if n := g.sim.TotalRequests(); n != 0 {
		t.Errorf("hostile requests reached Workable %d times: %v", n, g.sim.RequestCounts())
	}
	if logs := g.logs.String(); strings.Contains(logs, "panic") {
		t.Errorf("the server panicked:\n%s", logs)
	}
}

// TestAccessRoles: each role may do what it should, through the whole
// server.
func TestAccessRoles(t *testing.T) {
	t.Parallel()
	g := startGateway(t, nil)
	query := `{ jobs(first: 2) { nodes { shortcode } } }`
	for _, key := range []string{readerKey, writerKey, adminKey} {
		if r := g.gql(key, query, nil); r.Status != 200 || len(r.Errors) > 0 {
			t.Errorf("query with %s: %d %s", key[:6], r.Status, r.Raw)
		}
	}
	job := g.sim.Jobs()[0].Shortcode
	create := `mutation($in: CreateCandidateInput!) { createCandidate(input: $in) { candidate { id } userErrors { code } } }`
	in := map[string]any{"in": map[string]any{"jobShortcode": job, "firstName": "Rhea", "lastName": "Role", "email": "rhea@example.com"}}
	before := g.sim.TotalRequests()
	if r := g.gql(readerKey, create, in); r.code() != "FORBIDDEN" {
		t.Errorf("reader create: %s", r.Raw)
	}
	if g.sim.TotalRequests() != before {
		t.Errorf("a refused mutation reached Workable")
	}
	if r := g.gql(writerKey, create, in); r.Status != 200 || r.code() != "" {
		t.Errorf("writer create: %s", r.Raw)
	}
	if r := g.gql(writerKey, `{ workableCredentials { nickname } }`, nil); r.code() != "FORBIDDEN" {
		t.Errorf("writer lists credentials: %s", r.Raw)
	}
	r := g.gql(adminKey, `{ workableCredentials { nickname tokenHint isDefault } }`, nil)
	if r.Status != 200 || r.code() != "" || !strings.Contains(r.Raw, `"…cdef"`) || strings.Contains(r.Raw, workableToken) {
		t.Errorf("admin lists credentials: %s", r.Raw)
	}
}

// TestLogsHoldNoSecrets runs mutations and failures with debug logging and
// scans the log for the Workable token, the API keys and the candidate's
// personal data.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	g := startGateway(t, nil)
	job := g.sim.Jobs()[0].Shortcode
	const (
		first, last  = "Zebulon", "Quixotefield"
		email, phone = "zebulon.quixotefield@example.com", "+30 210 5550199"
		addedToken   = "added-token-secret-9876543210"
	)
	create := `mutation($in: CreateCandidateInput!) { createCandidate(input: $in) { candidate { id } userErrors { code message } } }`
	in := map[string]any{"in": map[string]any{"jobShortcode": job, "firstName": first, "lastName": last,
		"email": email, "phone": phone, "idempotencyKey": "log-test-1"}}
	r := g.gql(writerKey, create, in)
	if r.code() != "" {
		t.Fatalf("create: %s", r.Raw)
	}
	// The same person again (Workable: already exists), a replay, a
	// failing update, invalid input, a write Workable fails.
	in2 := map[string]any{"in": map[string]any{"jobShortcode": job, "firstName": first, "lastName": last, "email": email, "phone": phone}}
	g.gql(writerKey, create, in2)
	g.gql(writerKey, create, in)
	g.gql(writerKey, `mutation($in: UpdateCandidateInput!) { updateCandidate(input: $in) { userErrors { code } } }`,
		map[string]any{"in": map[string]any{"id": "no-such-id", "firstName": first, "email": email, "phone": phone}})
	g.gql(writerKey, create, map[string]any{"in": map[string]any{"jobShortcode": job, "firstName": first + "\x00", "lastName": last, "email": "not-an-email " + email}})
	g.sim.InjectFault("POST /jobs/{shortcode}/candidates", simulator.Fault{Status: http.StatusServiceUnavailable, Times: 1})
	g.gql(writerKey, create, map[string]any{"in": map[string]any{"jobShortcode": job, "firstName": first, "lastName": last, "email": "z2." + email, "phone": phone}})
	g.gql(writerKey, `query($e: String) { candidates(email: $e) { nodes { id name email phone } } }`, map[string]any{"e": email})
	// Credentials: add one, test it (the token is rejected), query with it.
	g.gql(adminKey, `mutation($in: AddWorkableCredentialInput!) { addWorkableCredential(input: $in) { userErrors { code } } }`,
		map[string]any{"in": map[string]any{"nickname": "other", "subdomain": "other-co", "apiToken": addedToken}})
	g.gql(adminKey, `mutation { testWorkableCredential(nickname: "other") { ok message } }`, nil)
	g.gql(readerKey, `{ jobs { nodes { id } } }`, nil, "X-Workable-Credential", "other")
	// Authentication failures.
	g.gql("wrong-key-000000000001", `{ jobs { nodes { id } } }`, nil)
	g.gql(readerKey+"x", `{ jobs { nodes { id } } }`, nil)

	logs := g.logs.String()
	if !strings.Contains(logs, "request") {
		t.Fatalf("no log lines captured: %q", logs)
	}
	for name, secret := range map[string]string{
		"Workable token": workableToken, "added token": addedToken,
		"reader key": readerKey, "writer key": writerKey, "admin key": adminKey, "wrong key": "wrong-key-000000000001",
		"first name": first, "last name": last, "email": email, "email local part": "zebulon.quixotefield", "phone": phone,
		"phone digits": "5550199",
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds the %s:\n%s", name, logs)
		}
	}
}

// TestSecuritySwitches covers the settings that switch features: the
// Playground and introspection off, CORS, the client rate limit, and
// credential management while open (refused) and in demo mode (allowed).
func TestSecuritySwitches(t *testing.T) {
	t.Parallel()
	t.Run("playground and introspection off", func(t *testing.T) {
		t.Parallel()
		g := startGateway(t, map[string]string{"GATEWAY_PLAYGROUND": "false", "GATEWAY_INTROSPECTION": "false"})
		if r := g.send("GET", "/", nil, ""); r.Status != http.StatusNotFound {
			t.Errorf("GET / with the Playground off = %d", r.Status)
		}
		r := g.gql(readerKey, `{ __schema { queryType { name } } }`, nil)
		if len(r.Errors) == 0 || strings.Contains(r.Raw, `"Query"`) {
			t.Errorf("introspection off answered: %s", r.Raw)
		}
	})
	t.Run("CORS", func(t *testing.T) {
		t.Parallel()
		g := startGateway(t, map[string]string{"CORS_ALLOWED_ORIGINS": "https://dash.example.com"})
		ok := g.send("OPTIONS", "/query", hdr("Origin", "https://dash.example.com", "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "authorization, content-type, x-workable-credential"), "")
		if ok.Status != http.StatusNoContent || ok.Header.Get("Access-Control-Allow-Origin") != "https://dash.example.com" ||
			!strings.Contains(ok.Header.Get("Access-Control-Allow-Headers"), "X-Workable-Credential") {
			t.Errorf("preflight from an allowed origin = %d %v", ok.Status, ok.Header)
		}
		bad := g.send("OPTIONS", "/query", hdr("Origin", "https://evil.example", "Access-Control-Request-Method", "POST"), "")
		if bad.Status != http.StatusForbidden || bad.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from another origin = %d %v", bad.Status, bad.Header)
		}
		r := g.send("POST", "/query", hdr("Origin", "https://dash.example.com", "Content-Type", "application/json"), gqlBody("{ jobs { nodes { id } } }"))
		if r.Status != 401 || r.Header.Get("Access-Control-Allow-Origin") != "https://dash.example.com" {
			t.Errorf("unauthenticated browser request = %d %v (the browser must see the 401)", r.Status, r.Header)
		}
	})
	t.Run("client rate limit per API key", func(t *testing.T) {
		t.Parallel()
		// One request per 1000 s: the second is refused whatever the timing.
		g := startGateway(t, map[string]string{"CLIENT_RATE_LIMIT": "0.001", "CLIENT_RATE_BURST": "1"})
		q := `{ jobs(first: 1) { nodes { id } } }`
		if r := g.gql(readerKey, q, nil); r.Status != 200 {
			t.Fatalf("first request = %d %s", r.Status, r.Raw)
		}
		r := g.gql(readerKey, q, nil)
		if r.Status != http.StatusTooManyRequests || r.code() != "TOO_MANY_REQUESTS" || r.Header.Get("Retry-After") == "" {
			t.Errorf("second request = %d %v %s", r.Status, r.Header, r.Raw)
		}
		// Another key has its own budget.
		if r := g.gql(writerKey, q, nil); r.Status != 200 {
			t.Errorf("another key's first request = %d %s", r.Status, r.Raw)
		}
	})
	t.Run("open gateway refuses credential management", func(t *testing.T) {
		t.Parallel()
		g := startGateway(t, map[string]string{"GATEWAY_API_KEYS": ""})
		if r := g.gql("", `{ jobs(first: 1) { nodes { id } } }`, nil); r.Status != 200 || r.code() != "" {
			t.Errorf("open query = %s", r.Raw)
		}
		r := g.gql("", `{ workableCredentials { nickname } }`, nil)
		if r.code() != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "GATEWAY_API_KEYS") {
			t.Errorf("open credential management = %s", r.Raw)
		}
		if !strings.Contains(g.logs.String(), "no GATEWAY_API_KEYS") {
			t.Errorf("the open gateway did not say so at startup")
		}
	})
	t.Run("demo mode manages credentials without keys", func(t *testing.T) {
		t.Parallel()
		logs := &syncBuffer{}
		base, stop := startRunLogging(t, nil, map[string]string{"PORT": "0"}, `listening on (http://localhost:\d+)/query`, logs)
		defer stop()
		g := &gateway{t: t, base: base, logs: logs}
		r := g.gql("", `mutation { addWorkableCredential(input: {nickname: "second", subdomain: "groove-tech", apiToken: "demo-token-copy-0001"}) { credential { nickname tokenHint } userErrors { code } } }`, nil)
		if r.code() != "" || !strings.Contains(r.Raw, `"…0001"`) {
			t.Errorf("demo add = %s", r.Raw)
		}
		r = g.gql("", `mutation { testWorkableCredential(nickname: "second") { ok message } }`, nil)
		if !strings.Contains(r.Raw, "the token was rejected") {
			t.Errorf("demo test of a wrong token = %s", r.Raw)
		}
		if r := g.gql("", `{ jobs(first: 1) { nodes { id } } }`, nil, "X-Workable-Credential", "second"); r.code() != "WORKABLE_AUTH_FAILED" {
			t.Errorf("query with the wrong credential = %s", r.Raw)
		}
	})
}

// TestRedisCredentialsAndIdempotency runs the binary with REDIS_URL: a
// credential is stored encrypted (refused without CREDENTIALS_KEY), and an
// idempotency key held in Redis makes a repeated create one candidate.
func TestRedisCredentialsAndIdempotency(t *testing.T) {
	t.Run("without CREDENTIALS_KEY", func(t *testing.T) {
		u, prefix := redisURL(t)
		g := startGateway(t, map[string]string{"REDIS_URL": u, "CACHE_PREFIX": prefix})
		r := g.gql(adminKey, `mutation { addWorkableCredential(input: {nickname: "x", subdomain: "groove-tech", apiToken: "another-token-0000001"}) { userErrors { code message } } }`, nil)
		if r.code() != "ENCRYPTION_KEY_MISSING" || !strings.Contains(r.Raw, "CREDENTIALS_KEY") {
			t.Errorf("add without a key = %s", r.Raw)
		}
	})
	t.Run("with CREDENTIALS_KEY", func(t *testing.T) {
		u, prefix := redisURL(t)
		g := startGateway(t, map[string]string{"REDIS_URL": u, "CACHE_PREFIX": prefix, "CREDENTIALS_KEY": testCredentialsKey})
		r := g.gql(adminKey, `mutation { addWorkableCredential(input: {nickname: "copy", subdomain: "groove-tech", apiToken: "`+workableToken+`"}) { credential { tokenHint } userErrors { code } } }`, nil)
		if r.code() != "" || !strings.Contains(r.Raw, "…cdef") {
			t.Fatalf("add = %s", r.Raw)
		}
		if r := g.gql(readerKey, `{ jobs(first: 1) { nodes { id } } }`, nil, "X-Workable-Credential", "copy"); r.code() != "" {
			t.Errorf("query with the stored credential = %s", r.Raw)
		}
		job := g.sim.Jobs()[0].Shortcode
		create := `mutation($in: CreateCandidateInput!) { createCandidate(input: $in) { candidate { id } userErrors { code } } }`
		in := map[string]any{"in": map[string]any{"jobShortcode": job, "firstName": "Red", "lastName": "Is", "email": "red.is@example.com"}}
		before := g.sim.RequestCount("POST /jobs/{shortcode}/candidates")
		a := g.gql(writerKey, create, in, "Idempotency-Key", "redis-key-1")
		b := g.gql(writerKey, create, in, "Idempotency-Key", "redis-key-1")
		if a.code() != "" || b.code() != "" || len(a.Data["createCandidate"]) == 0 ||
			string(a.Data["createCandidate"]) != string(b.Data["createCandidate"]) {
			t.Errorf("create then repeat differ: %s / %s", a.Raw, b.Raw)
		}
		if got := g.sim.RequestCount("POST /jobs/{shortcode}/candidates") - before; got != 1 {
			t.Errorf("%d creates reached Workable, want 1", got)
		}
	})
}
