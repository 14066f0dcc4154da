package guard

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestChecksReadTheBodyOnce: through BodyLimit, RejectBatches and
// CheckRequest (the gateway's order), the body is read once, by BodyLimit;
// the checks after it look at the bytes it holds, and next gets the very
// body BodyLimit made, unread and whole. Batches and bodies of the wrong shape are refused as
// without BodyLimit.
func TestChecksReadTheBodyOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		wantStatus int
		wantCode   string // "" when next must run
	}{
		{"query", `{"query":"{ a }","variables":{"x":[1,{"y":"}"}]}}`, 200, ""},
		{"leading whitespace", " \r\n\t{\"query\":\"{ a }\"}", 200, ""},
		{"batch", `[{"query":"{ a }"}]`, 400, CodeBatchNotSupported},
		{"batch after whitespace", " \n[{\"query\":\"{ a }\"}]", 400, CodeBatchNotSupported},
		{"no query", `{"variables":{}}`, 400, CodeBadRequest},
		{"not JSON", `{"query":`, 400, CodeBadRequest},
		{"empty", ``, 400, CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var read io.ReadCloser
			var held bool
			var got []byte
			checks := RejectBatches(CheckRequest(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, unread := unreadBody(r)
				held = unread && r.Body == read
				got, _ = io.ReadAll(r.Body)
			})))
			h := BodyLimit(0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				read = r.Body // as BodyLimit read it
				checks.ServeHTTP(w, r)
			}))
			req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if tt.wantCode != "" {
				requireError(t, rec, tt.wantStatus, tt.wantCode)
				return
			}
			if rec.Code != tt.wantStatus || !held || string(got) != tt.body {
				t.Errorf("status %d, body held unread %v, next read %q; want %d, true, %q", rec.Code, held, got, tt.wantStatus, tt.body)
			}
		})
	}
}

// FuzzGraphQLBodyProblem: the scan of a body's members finds what
// json.Unmarshal into a map finds (the last member of a name, names
// compared exactly, nothing but an object), so graphQLBodyProblem answers
// every body as decoding it would.
func FuzzGraphQLBodyProblem(f *testing.F) {
	for _, s := range []string{
		`{"query":"{ a }","variables":{"x":1},"operationName":null}`,
		`{"extensions":{"persistedQuery":{"version":1}}}`,
		`{"variables":{}}`, `{"qeury":"{ a }"}`, `{"query":""}`, `{}`, ``, `{"query":`, `"{ a }"`, `null`, `[1]`,
		`{"query":42}`, `{"query":"{ a }","variables":[1]}`, ` { "query" : "a" , "query" : null } `,
		`{"query":"q","query":7}`, `{"Query":"q"}`, `{"\u0071uery":"q"}`, `{"query":"\"}\\","x":[{"y":"]"}],"operationName":true}`,
		`{"query":"q","extensions":"persistedQuery"}`, `{"query":"q","variables":-1.5e3}`, "{\"query\":\"q\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		want := notAnObject
		if m, ok := unmarshalBodyMembers(body); ok {
			want = m.problem()
		}
		if got := graphQLBodyProblem(body); got != want {
			t.Errorf("body %q: %q, by json.Unmarshal %q", body, got, want)
		}
		scanned, ok := scanBodyMembers(body)
		if !ok {
			return
		}
		decoded, ok := unmarshalBodyMembers(body)
		if !ok {
			t.Fatalf("body %q: scanned, but json.Unmarshal refuses it", body)
		}
		for _, m := range []struct {
			name             string
			scanned, decoded []byte
		}{
			{"query", scanned.query, decoded.query},
			{"operationName", scanned.operationName, decoded.operationName},
			{"variables", scanned.variables, decoded.variables},
			{"extensions", scanned.extensions, decoded.extensions},
		} {
			if !bytes.Equal(bytes.TrimSpace(m.scanned), bytes.TrimSpace(m.decoded)) || (m.scanned == nil) != (m.decoded == nil) {
				t.Errorf("body %q: %s scanned as %q, json.Unmarshal %q", body, m.name, m.scanned, m.decoded)
			}
		}
	})
}
