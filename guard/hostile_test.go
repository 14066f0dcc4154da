package guard

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHostileRequests sends requests only an attacker or a broken client
// sends through the guards in the order the gateway stacks them
// (BodyLimit, RejectBatches, then the GraphQL server with the query
// limits). Each must get a GraphQL-shaped error, none may panic, and no
// operation may execute.
func TestHostileRequests(t *testing.T) {
	t.Parallel()
	const maxBody = 64 << 10
	huge := strings.Repeat("x", maxBody)
	tests := []struct {
		name        string
		method      string
		contentType string
		target      string
		body        string
		wantStatus  int
		wantCode    string // "" accepts gqlgen's own error without a code
	}{
		{name: "oversized body", body: `{"query":"{ jobs { nodes { id } } }","variables":{"s":"` + huge + `"}}`, wantStatus: 413, wantCode: CodeRequestTooLarge},
		{name: "huge string argument", body: `{"query":"{ job(shortcode: \"` + huge + `\") { id } }"}`, wantStatus: 413, wantCode: CodeRequestTooLarge},
		{name: "batch", body: `[{"query":"{ jobs { nodes { id } } }"},{"query":"{ jobs { nodes { id } } }"}]`, wantStatus: 400, wantCode: CodeBatchNotSupported},
		{name: "deep nesting", body: queryBody(nested(60)), wantStatus: 200, wantCode: CodeQueryTooDeep},
		{name: "thousands of aliases", body: queryBody(aliases(1500)), wantStatus: 200, wantCode: CodeTooManyAliases},
		{name: "too many tokens", body: queryBody("{ " + strings.Repeat("a ", 6000) + "}"), wantStatus: 200, wantCode: CodeTooManyTokens},
		{name: "invalid UTF-8 in the query", body: "{\"query\":\"{ job(shortcode: \xff\xfe) { id } }\"}", wantStatus: 422, wantCode: "GRAPHQL_PARSE_FAILED"},
		{name: "malformed JSON", body: `{"query": "{ jobs { nodes { id } } }"`, wantStatus: 400},
		{name: "JSON of the wrong shape", body: `{"query": 42}`, wantStatus: 400},
		{name: "empty body", body: ``, wantStatus: 400},
		{name: "no query", body: `{}`, wantStatus: 422, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "wrong content type", contentType: "text/plain", body: `{"query":"{ jobs { nodes { id } } }"}`, wantStatus: 400},
		{name: "form content type", contentType: "application/x-www-form-urlencoded", body: `query=%7B+jobs+%7B+nodes+%7B+id+%7D+%7D+%7D`, wantStatus: 400},
		{name: "mutation over GET", method: http.MethodGet, target: `/query?query=mutation+%7B+createCandidate(name:%22x%22)+%7B+id+%7D+%7D`, wantStatus: 406},
	}
	ts := newToyServer(t, DefaultQueryLimits())
	h := BodyLimit(maxBody, RejectBatches(ts.handler))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			target := tt.target
			if target == "" {
				target = "/query"
			}
			req := httptest.NewRequest(method, target, strings.NewReader(tt.body))
			ct := tt.contentType
			if ct == "" && method == http.MethodPost {
				ct = "application/json"
			}
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %.300s)", rec.Code, tt.wantStatus, rec.Body.String())
			}
			r := decode(t, rec)
			if len(r.Errors) == 0 {
				t.Fatalf("no error in %.300s", rec.Body.String())
			}
			if tt.wantCode != "" && r.codes()[0] != tt.wantCode {
				t.Errorf("code = %q, want %q", r.codes()[0], tt.wantCode)
			}
		})
	}
	if n := ts.execs.Load(); n != 0 {
		t.Errorf("%d hostile operations executed, want 0", n)
	}
}

// queryBody returns the JSON body of a POST of query.
func queryBody(query string) string {
	b, err := json.Marshal(map[string]string{"query": query})
	if err != nil {
		panic(err)
	}
	return string(b)
}
