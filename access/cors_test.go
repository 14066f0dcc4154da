package access

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCORS(t *testing.T) {
	t.Parallel()
	const dash = "https://dash.example.com"
	allowed := []string{dash, " HTTPS://Admin.Example.com/ ", "http://localhost:3000"}
	devOrigins := []string{"http://localhost:*", "http://127.0.0.1:*"}
	type want struct {
		status       int
		called       bool
		allowOrigin  string
		allowMethods string
		allowHeaders string
		maxAge       string
	}
	preflightOK := func(origin string) want {
		return want{status: 204, allowOrigin: origin, allowMethods: "GET, POST, OPTIONS",
			allowHeaders: "Authorization, Content-Type, Accept, X-Workable-Credential, Idempotency-Key, X-Request-ID, traceparent, tracestate", maxAge: "600"}
	}
	tests := []struct {
		name    string
		origins []string
		method  string
		origin  string
		reqMeth string // Access-Control-Request-Method
		want    want
	}{
		{name: "preflight allowed", origins: allowed, method: "OPTIONS", origin: dash, reqMeth: "POST", want: preflightOK(dash)},
		{name: "preflight allowed, normalised entry", origins: allowed, method: "OPTIONS", origin: "https://admin.example.com", reqMeth: "POST", want: preflightOK("https://admin.example.com")},
		{name: "preflight denied", origins: allowed, method: "OPTIONS", origin: "https://evil.example", reqMeth: "POST", want: want{status: 403}},
		{name: "preflight denied: another port", origins: allowed, method: "OPTIONS", origin: "http://localhost:3001", reqMeth: "POST", want: want{status: 403}},
		{name: "preflight denied: a suffix", origins: allowed, method: "OPTIONS", origin: dash + ".evil.example", reqMeth: "POST", want: want{status: 403}},
		{name: "preflight denied: null origin", origins: allowed, method: "OPTIONS", origin: "null", reqMeth: "POST", want: want{status: 403}},
		{name: "preflight denied: no origins configured", origins: nil, method: "OPTIONS", origin: dash, reqMeth: "POST", want: want{status: 403}},
		{name: "preflight with star", origins: []string{"*"}, method: "OPTIONS", origin: "https://any.example", reqMeth: "POST", want: preflightOK("*")},
		{name: "preflight allowed: any port of localhost", origins: devOrigins, method: "OPTIONS", origin: "http://localhost:3000", reqMeth: "POST", want: preflightOK("http://localhost:3000")},
		{name: "preflight allowed: localhost without a port", origins: devOrigins, method: "OPTIONS", origin: "http://localhost", reqMeth: "POST", want: preflightOK("http://localhost")},
		{name: "preflight allowed: any port of 127.0.0.1", origins: devOrigins, method: "OPTIONS", origin: "http://127.0.0.1:5173", reqMeth: "POST", want: preflightOK("http://127.0.0.1:5173")},
		{name: "preflight denied: any port is not any host", origins: devOrigins, method: "OPTIONS", origin: "http://localhost.evil.example:3000", reqMeth: "POST", want: want{status: 403}},
		{name: "preflight denied: any port is not any scheme", origins: devOrigins, method: "OPTIONS", origin: "https://localhost:3000", reqMeth: "POST", want: want{status: 403}},
		{name: "preflight denied: a port that is no number", origins: devOrigins, method: "OPTIONS", origin: "http://localhost:3000@evil.example", reqMeth: "POST", want: want{status: 403}},
		{name: "request allowed", origins: allowed, method: "POST", origin: dash, want: want{status: 200, called: true, allowOrigin: dash}},
		{name: "request from another origin reaches next without CORS headers", origins: allowed, method: "POST", origin: "https://evil.example", want: want{status: 200, called: true}},
		{name: "request with star", origins: []string{"*"}, method: "GET", origin: "https://any.example", want: want{status: 200, called: true, allowOrigin: "*"}},
		{name: "same-origin or non-browser request", origins: allowed, method: "POST", want: want{status: 200, called: true}},
		{name: "OPTIONS that is not a preflight", origins: allowed, method: "OPTIONS", origin: dash, want: want{status: 200, called: true, allowOrigin: dash}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tt.method, "/query", nil)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.reqMeth != "" {
				req.Header.Set("Access-Control-Request-Method", tt.reqMeth)
				req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
			}
			called := false
			rec := httptest.NewRecorder()
			CORS(tt.origins, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })).ServeHTTP(rec, req)
			h := rec.Header()
			got := want{
				status:       rec.Code,
				called:       called,
				allowOrigin:  h.Get("Access-Control-Allow-Origin"),
				allowMethods: h.Get("Access-Control-Allow-Methods"),
				allowHeaders: h.Get("Access-Control-Allow-Headers"),
				maxAge:       h.Get("Access-Control-Max-Age"),
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if h.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("Access-Control-Allow-Credentials is set")
			}
			if vary := h.Values("Vary"); len(vary) == 0 || vary[0] != "Origin" {
				t.Errorf("Vary = %q, want Origin first", vary)
			}
		})
	}
}

// TestCORSRefusalNamesTheSetting: a browser developer whose origin is
// refused learns which setting allows it.
func TestCORSRefusalNamesTheSetting(t *testing.T) {
	t.Parallel()
	req := httptest.NewRequest(http.MethodOptions, "/query", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec := httptest.NewRecorder()
	CORS(nil, http.NotFoundHandler()).ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "CORS_ALLOWED_ORIGINS") ||
		!strings.Contains(rec.Body.String(), `\"http://localhost:3000\"`) || !strings.Contains(rec.Body.String(), CodeOriginNotAllowed) {
		t.Errorf("refused preflight = %d %s, want 403 ORIGIN_NOT_ALLOWED naming the origin and CORS_ALLOWED_ORIGINS", rec.Code, rec.Body)
	}
}
