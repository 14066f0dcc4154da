package access

import (
	"net/http"
	"strings"

	"github.com/workablegw/gateway/guard"
)

// The CORS answers' fixed headers. Allowed headers are the ones a browser
// frontend of the gateway sends beyond the CORS-safelisted ones.
const (
	corsAllowMethods  = "GET, POST, OPTIONS"
	corsAllowHeaders  = "Authorization, Content-Type, X-Workable-Credential, Idempotency-Key, X-Request-ID"
	corsExposeHeaders = "Retry-After, X-Request-ID"
	// corsMaxAge lets a browser reuse a preflight answer for 10 minutes.
	corsMaxAge = "600"
)

// CORS answers browsers' cross-origin requests for the origins in
// allowedOrigins (exact matches such as "https://dash.example.com";
// scheme and host compare case-insensitively and a trailing slash is
// ignored).
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) from
// an allowed origin gets 204 with Access-Control-Allow-Origin,
// -Allow-Methods (GET, POST, OPTIONS), -Allow-Headers (Authorization,
// Content-Type, X-Workable-Credential, Idempotency-Key, X-Request-ID) and
// -Max-Age, and next is not called; from any other origin it gets 403 with
// no CORS header. Other requests always reach next, with
// Access-Control-Allow-Origin only when their origin is allowed, so a
// browser withholds the answer from other origins. Every answer varies on
// Origin.
//
// The entry "*" allows every origin and is answered with "*" itself. That
// is safe because the gateway never sends Access-Control-Allow-Credentials:
// clients authenticate with an explicit Authorization header, not cookies,
// so no browser-held credential rides along. An empty list allows no
// origin.
func CORS(allowedOrigins []string, next http.Handler) http.Handler {
	allowed := make(map[string]bool, len(allowedOrigins))
	allowAll := false
	for _, o := range allowedOrigins {
		o = normalizeOrigin(o)
		switch o {
		case "":
		case "*":
			allowAll = true
		default:
			allowed[o] = true
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && origin != "" &&
			r.Header.Get("Access-Control-Request-Method") != ""
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
		}
		allowOrigin := ""
		switch {
		case origin == "":
		case allowAll:
			allowOrigin = "*"
		case allowed[normalizeOrigin(origin)]:
			allowOrigin = origin
		}
		if !preflight {
			if allowOrigin != "" {
				h.Set("Access-Control-Allow-Origin", allowOrigin)
				h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
			}
			next.ServeHTTP(w, r)
			return
		}
		if allowOrigin == "" {
			guard.WriteError(w, http.StatusForbidden, CodeOriginNotAllowed,
				"this origin may not call the gateway from a browser")
			return
		}
		h.Set("Access-Control-Allow-Origin", allowOrigin)
		h.Set("Access-Control-Allow-Methods", corsAllowMethods)
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
	})
}

// normalizeOrigin trims space and a trailing slash and lower-cases o
// (origins are scheme://host[:port], whose scheme and host are
// case-insensitive).
func normalizeOrigin(o string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/"))
}
