package access

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/workablegw/gateway/guard"
)

// The CORS answers' fixed headers. Allowed headers are the ones a browser
// frontend of the gateway sends beyond the CORS-safelisted ones.
const (
	corsAllowMethods  = "GET, POST, OPTIONS"
	corsAllowHeaders  = "Authorization, Content-Type, Accept, X-Workable-Credential, Idempotency-Key, X-Request-ID, traceparent, tracestate"
	corsExposeHeaders = "Retry-After, X-Request-ID"
	// corsMaxAge lets a browser reuse a preflight answer for 10 minutes.
	corsMaxAge = "600"
)

// CORS answers browsers' cross-origin requests for the origins in
// allowedOrigins: exact matches such as "https://dash.example.com" (scheme
// and host compare case-insensitively and a trailing slash is ignored), or
// "scheme://host:*" for every port of a host, such as "http://localhost:*"
// for frontends in development.
//
// A preflight (OPTIONS with Origin and Access-Control-Request-Method) from
// an allowed origin gets 204 with Access-Control-Allow-Origin,
// -Allow-Methods (GET, POST, OPTIONS), -Allow-Headers (Authorization,
// Content-Type, Accept, X-Workable-Credential, Idempotency-Key,
// X-Request-ID, and W3C trace context's traceparent and tracestate, so that
// a browser's trace continues through the gateway) and -Max-Age, and next
// is not called; from any other origin it gets 403 with no CORS header and
// a message naming CORS_ALLOWED_ORIGINS, the setting that allows it. Other requests always reach next, with
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
	m := newOriginMatcher(allowedOrigins)
	allowAll, isAllowed := m.all, m.match
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
		case isAllowed(origin):
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
				"the origin "+strconv.Quote(origin)+" may not call the gateway from a browser: add it to the gateway's CORS_ALLOWED_ORIGINS setting")
			return
		}
		h.Set("Access-Control-Allow-Origin", allowOrigin)
		h.Set("Access-Control-Allow-Methods", corsAllowMethods)
		h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
	})
}

// originMatcher holds a list of allowed origins (see CORS).
type originMatcher struct {
	all     bool
	exact   map[string]bool
	anyPort []string // "scheme://host" of the scheme://host:* entries
}

func newOriginMatcher(allowedOrigins []string) originMatcher {
	m := originMatcher{exact: make(map[string]bool, len(allowedOrigins))}
	for _, o := range allowedOrigins {
		o = normalizeOrigin(o)
		switch {
		case o == "":
		case o == "*":
			m.all = true
		case strings.HasSuffix(o, ":*"):
			m.anyPort = append(m.anyPort, strings.TrimSuffix(o, ":*"))
		default:
			m.exact[o] = true
		}
	}
	return m
}

// match reports whether origin is in the list (not counting "*").
func (m originMatcher) match(origin string) bool {
	origin = normalizeOrigin(origin)
	if m.exact[origin] {
		return true
	}
	for _, base := range m.anyPort {
		if origin == base || (strings.HasPrefix(origin, base+":") && isPort(origin[len(base)+1:])) {
			return true
		}
	}
	return false
}

// normalizeOrigin trims space and a trailing slash and lower-cases o
// (origins are scheme://host[:port], whose scheme and host are
// case-insensitive).
func normalizeOrigin(o string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/"))
}

// isPort reports whether s is a port number: 1 to 5 digits.
func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
