package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// gqlResponse is the JSON shape of a GraphQL response, as far as the tests
// look at it.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r gqlResponse) codes() []string {
	var out []string
	for _, e := range r.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) gqlResponse {
	t.Helper()
	var r gqlResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("response body %q is not JSON: %v", rec.Body.String(), err)
	}
	return r
}

func mustParseKeys(t testing.TB, s string) Keys {
	t.Helper()
	k, err := ParseKeys(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// recordPrincipal is a handler that remembers the principal it ran for.
func recordPrincipal(got *Principal, called *bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*called = true
		*got = PrincipalFrom(r.Context())
	})
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	keys := mustParseKeys(t, readerKey+":reader,"+writerKey+":writer,"+adminKey+":admin")
	tests := []struct {
		name          string
		authorization []string
		want          Principal
		wantMsg       string // for a 401
	}{
		{name: "reader", authorization: []string{"Bearer " + readerKey}, want: Principal{ID: keyID(readerKey), Role: RoleReader, Authenticated: true}},
		{name: "writer", authorization: []string{"Bearer " + writerKey}, want: Principal{ID: keyID(writerKey), Role: RoleWriter, Authenticated: true}},
		{name: "admin", authorization: []string{"Bearer " + adminKey}, want: Principal{ID: keyID(adminKey), Role: RoleAdmin, Authenticated: true}},
		{name: "scheme case and spaces", authorization: []string{"  bearer   " + adminKey + " "}, want: Principal{ID: keyID(adminKey), Role: RoleAdmin, Authenticated: true}},
		{name: "no header", wantMsg: "an API key is required"},
		{name: "empty bearer", authorization: []string{"Bearer "}, wantMsg: "an API key is required"},
		{name: "basic scheme", authorization: []string{"Basic " + adminKey}, wantMsg: "an API key is required"},
		{name: "key without scheme", authorization: []string{adminKey}, wantMsg: "an API key is required"},
		{name: "two headers", authorization: []string{"Bearer " + readerKey, "Bearer " + adminKey}, wantMsg: "an API key is required"},
		{name: "wrong key", authorization: []string{"Bearer not-a-configured-key-at-all"}, wantMsg: "the API key is not valid"},
		{name: "prefix of a key", authorization: []string{"Bearer " + adminKey[:len(adminKey)-1]}, wantMsg: "the API key is not valid"},
		{name: "key with a suffix", authorization: []string{"Bearer " + adminKey + "x"}, wantMsg: "the API key is not valid"},
		{name: "key and role", authorization: []string{"Bearer " + adminKey + ":admin"}, wantMsg: "the API key is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":"{ a }"}`))
			for _, v := range tt.authorization {
				req.Header.Add("Authorization", v)
			}
			var got Principal
			var called bool
			rec := httptest.NewRecorder()
			Middleware(keys, recordPrincipal(&got, &called)).ServeHTTP(rec, req)
			if tt.wantMsg == "" {
				if !called || rec.Code != http.StatusOK {
					t.Fatalf("status %d, called %v; want 200, true", rec.Code, called)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("principal (-want +got):\n%s", diff)
				}
				return
			}
			if called {
				t.Error("next was called for an unauthenticated request")
			}
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if wa := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(wa, "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", wa)
			}
			r := decode(t, rec)
			if diff := cmp.Diff([]string{CodeUnauthenticated}, r.codes()); diff != "" {
				t.Errorf("codes (-want +got):\n%s", diff)
			}
			if len(r.Data) != 0 {
				t.Errorf("data = %s, want none", r.Data)
			}
			if !strings.Contains(r.Errors[0].Message, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", r.Errors[0].Message, tt.wantMsg)
			}
			for _, k := range []string{readerKey, writerKey, adminKey} {
				if strings.Contains(rec.Body.String(), k) || strings.Contains(rec.Body.String(), k[:10]) {
					t.Errorf("the 401 body %s shows a key", rec.Body.String())
				}
			}
		})
	}
}

// TestMiddlewareEveryKeyWorks checks the constant-time match: it visits
// every key without an early exit, so every key, first or last, must
// authenticate with its own role and id.
func TestMiddlewareEveryKeyWorks(t *testing.T) {
	t.Parallel()
	var spec []string
	want := map[string]Role{}
	for i := 0; i < 30; i++ {
		key := fmt.Sprintf("key-number-%02d-abcdefgh", i)
		role := Role(1 + i%3)
		spec = append(spec, key+":"+role.String())
		want[key] = role
	}
	keys := mustParseKeys(t, strings.Join(spec, ","))
	for key, role := range want {
		req := httptest.NewRequest(http.MethodGet, "/query", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		var got Principal
		var called bool
		Middleware(keys, recordPrincipal(&got, &called)).ServeHTTP(httptest.NewRecorder(), req)
		if wantP := (Principal{ID: keyID(key), Role: role, Authenticated: true}); got != wantP {
			t.Errorf("key %s: principal %+v, want %+v", key[:13], got, wantP)
		}
	}
}

func TestMiddlewareOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys Keys
		want Principal
	}{
		{name: "default open role", keys: Keys{}, want: Principal{ID: "addr:192.0.2.7", Role: RoleWriter, Open: true}},
		{name: "demo mode", keys: Keys{}.WithOpenRole(RoleAdmin), want: Principal{ID: "addr:192.0.2.7", Role: RoleAdmin, Open: true}},
		{name: "read-only open mode", keys: Keys{}.WithOpenRole(RoleReader), want: Principal{ID: "addr:192.0.2.7", Role: RoleReader, Open: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodPost, "/query", nil)
			req.RemoteAddr = "192.0.2.7:54321"
			req.Header.Set("Authorization", "Bearer whatever-the-client-sends")
			var got Principal
			var called bool
			Middleware(tt.keys, recordPrincipal(&got, &called)).ServeHTTP(httptest.NewRecorder(), req)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("principal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequire(t *testing.T) {
	t.Parallel()
	reader := Principal{ID: "r", Role: RoleReader, Authenticated: true}
	writer := Principal{ID: "w", Role: RoleWriter, Authenticated: true}
	admin := Principal{ID: "a", Role: RoleAdmin, Authenticated: true}
	open := Principal{ID: "addr:x", Role: RoleWriter, Open: true}
	tests := []struct {
		name    string
		ctx     context.Context
		min     Role
		wantMsg string // "" means allowed
	}{
		{name: "reader reads", ctx: WithPrincipal(context.Background(), reader), min: RoleReader},
		{name: "reader cannot write", ctx: WithPrincipal(context.Background(), reader), min: RoleWriter, wantMsg: "needs the writer role; your API key has the reader role"},
		{name: "writer writes", ctx: WithPrincipal(context.Background(), writer), min: RoleWriter},
		{name: "writer cannot administer", ctx: WithPrincipal(context.Background(), writer), min: RoleAdmin, wantMsg: "needs the admin role; your API key has the writer role"},
		{name: "admin administers", ctx: WithPrincipal(context.Background(), admin), min: RoleAdmin},
		{name: "open mode writes", ctx: WithPrincipal(context.Background(), open), min: RoleWriter},
		{name: "open mode cannot manage credentials", ctx: WithPrincipal(context.Background(), open), min: RoleAdmin, wantMsg: "credential management is refused while the gateway runs without API keys"},
		{name: "no principal", ctx: context.Background(), min: RoleReader, wantMsg: "needs an API key with the reader role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Require(tt.ctx, tt.min)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("Require = %v, want nil", err)
				}
				return
			}
			var gerr *gqlerror.Error
			if !errors.As(err, &gerr) {
				t.Fatalf("Require = %v (%T), want a *gqlerror.Error", err, err)
			}
			if gerr.Extensions["code"] != CodeForbidden {
				t.Errorf("code = %v, want %s", gerr.Extensions["code"], CodeForbidden)
			}
			if !strings.Contains(gerr.Message, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", gerr.Message, tt.wantMsg)
			}
		})
	}
}
