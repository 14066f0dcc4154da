package guard

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, contentType, body string
		wantStatus                      int
		wantCode                        string // "" when next must run
	}{
		{"query", "POST", "application/json", `{"query":"{ a }","variables":{"x":1},"operationName":null}`, 200, ""},
		{"persisted query hash only", "POST", "application/json; charset=utf-8", `{"extensions":{"persistedQuery":{"version":1}}}`, 200, ""},
		{"GET", "GET?query=%7B+a+%7D", "", "", 200, ""},
		{"GET of a persisted query hash", "GET?extensions=%7B%22persistedQuery%22%3A%7B%7D%7D", "", "", 200, ""},
		{"GET without a query", "GET", "", "", 400, CodeBadRequest},
		{"no query", "POST", "application/json", `{"variables":{}}`, 400, CodeBadRequest},
		{"a typo for query", "POST", "application/json", `{"qeury":"{ a }"}`, 400, CodeBadRequest},
		{"empty query", "POST", "application/json", `{"query":""}`, 400, CodeBadRequest},
		{"OPTIONS", "OPTIONS", "", "", 200, ""},
		{"PUT", "PUT", "application/json", `{}`, 405, CodeMethodNotAllowed},
		{"text/plain", "POST", "text/plain", `{"query":"{ a }"}`, 415, CodeUnsupportedMediaType},
		{"no content type", "POST", "", `{"query":"{ a }"}`, 415, CodeUnsupportedMediaType},
		{"malformed JSON", "POST", "application/json", `{"query":`, 400, CodeBadRequest},
		{"empty body", "POST", "application/json", ``, 400, CodeBadRequest},
		{"not an object", "POST", "application/json", `"{ a }"`, 400, CodeBadRequest},
		{"query is a number", "POST", "application/json", `{"query":42}`, 400, CodeBadRequest},
		{"variables is a list", "POST", "application/json", `{"query":"{ a }","variables":[1]}`, 400, CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got string
			h := CheckRequest(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				got = string(b)
			}))
			method, query, _ := strings.Cut(tt.method, "?")
			target := "/query"
			if query != "" {
				target += "?" + query
			}
			req := httptest.NewRequest(method, target, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantCode == "" {
				if got != tt.body {
					t.Errorf("next read body %q, want %q", got, tt.body)
				}
				return
			}
			if c := decodeCode(t, rec.Body.String()); c != tt.wantCode {
				t.Errorf("code %q, want %q", c, tt.wantCode)
			}
		})
	}
}

func TestErrorCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		body     string
		wantBody string // "" to compare the code only
		wantCode string
	}{
		{"success passes untouched", 200, `{"data":{"a":1}}`, `{"data":{"a":1}}`, ""},
		{"coded error kept", 422, `{"errors":[{"message":"m","extensions":{"code":"GRAPHQL_PARSE_FAILED"}}]}`,
			`{"errors":[{"message":"m","extensions":{"code":"GRAPHQL_PARSE_FAILED"}}]}`, "GRAPHQL_PARSE_FAILED"},
		{"uncoded error gets BAD_REQUEST", 406, `{"errors":[{"message":"GET requests only allow query operations"}],"data":null}`, "", CodeBadRequest},
		{"not JSON", 400, `transport not supported`, "", CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := ErrorCodes(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/query", nil))
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("body %s, want %s", rec.Body, tt.wantBody)
			}
			if tt.wantCode != "" {
				if c := decodeCode(t, rec.Body.String()); c != tt.wantCode {
					t.Errorf("code %q, want %q in %s", c, tt.wantCode, rec.Body)
				}
			}
		})
	}
}

// decodeCode returns the first error's extensions.code of a body.
func decodeCode(t *testing.T, body string) string {
	t.Helper()
	var out struct {
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.Errors) == 0 {
		t.Fatalf("not a GraphQL error body: %q", body)
	}
	return out.Errors[0].Extensions.Code
}
