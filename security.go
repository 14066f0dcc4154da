package main

import (
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/guard"
	"github.com/workablegw/gateway/telemetry"
)

// Access control and the request guards in front of /query.

// security is what guards /query: who may call it and what one request may
// cost before the GraphQL handler runs.
type security struct {
	// Keys are the client API keys (GATEWAY_API_KEYS); disabled Keys leave
	// the gateway open with Keys.OpenRole.
	Keys access.Keys
	// CORSAllowedOrigins are the browser origins allowed to call /query.
	CORSAllowedOrigins []string
	// MaxBodyBytes caps a request body (<= 0: guard.DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// RequestTimeout is each request's deadline, rate-budget waits and
	// Workable calls included (<= 0: guard.DefaultDeadline).
	RequestTimeout time.Duration
	// ClientLimiter limits each client's request rate (per API key, or per
	// address without keys); nil for no limit.
	ClientLimiter *guard.ClientLimiter
	// Playground serves the GraphQL Playground at / when true.
	Playground bool
}

// newSecurity builds the security of cfg; in demo mode, without API keys,
// every caller is admin (credential management included), and an open
// gateway says so in the log.
func newSecurity(cfg config, logger *slog.Logger) security {
	keys := cfg.APIKeys
	if cfg.demo() {
		keys = keys.WithOpenRole(access.RoleAdmin)
		if ip := net.ParseIP(strings.Trim(cfg.Host, "[]")); !keys.Enabled() && (ip == nil || !ip.IsLoopback()) {
			logger.Warn("demo mode listens beyond this machine (HOST) without GATEWAY_API_KEYS: whoever reaches it is an admin of the demo",
				"host", cfg.Host)
		}
	}
	if keys.Enabled() {
		logger.Info("API keys required on /query", "keys", keys.String())
		if n := keys.Short(); n > 0 {
			logger.Warn("some GATEWAY_API_KEYS are shorter than 16 characters and easy to guess; use long random keys (e.g. openssl rand -hex 32)", "short_keys", n)
		}
	} else {
		logger.Warn("no GATEWAY_API_KEYS set: the gateway is open to anyone who can reach it; fine for local development, not for production",
			"role", keys.OpenRole().String(), "credential_management", keys.OpenRole() >= access.RoleAdmin)
	}
	sec := security{
		Keys:               keys,
		CORSAllowedOrigins: cfg.CORSAllowedOrigins,
		MaxBodyBytes:       cfg.MaxBodyBytes,
		RequestTimeout:     cfg.RequestTimeout,
		Playground:         cfg.Playground,
	}
	if cfg.ClientRateLimit > 0 {
		sec.ClientLimiter = guard.NewClientLimiter(cfg.ClientRateLimit, cfg.ClientRateBurst, 0)
	}
	return sec
}

// protect wraps the /query handler, outermost first: CORS (preflights carry
// no Authorization header), authentication (401 UNAUTHENTICATED; the
// caller then goes into the request's log line), the per-client rate limit (429 with Retry-After; per principal, so per API
// key, or per address while open), the body cap (413), the batch refusal
// (400), the method, media type and body shape (405, 415, 400), the
// request deadline, a code on every error answer (guard.ErrorCodes) and the
// status codes of GraphQL over HTTP (guard.OverHTTP). The GraphQL handler inside then resolves
// the Workable credential and checks roles and query limits before any
// resolver runs.
//
// Subscriptions (see gqlhttp.IsSubscriptionRequest) have no deadline: they
// last while their client listens. A WebSocket upgrade carries no GraphQL
// request to check: it goes from the per-client rate limit straight to the
// GraphQL handler, which checks every operation sent over the socket
// (parse, validation, roles, limits); its Origin is checked first
// (access.WebSocketOrigins), and its API key may come in the
// connection_init payload instead of a header (access.Middleware,
// Keys.InitPayload).
func (s security) protect(h http.Handler) http.Handler {
	checked := guard.OverHTTP(h)
	checked = guard.ErrorCodes(checked)
	checked = s.deadline(checked)
	checked = guard.CheckRequest(checked)
	checked = guard.RejectBatches(checked)
	checked = guard.BodyLimit(s.MaxBodyBytes, checked)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if access.IsWebSocketUpgrade(r) {
			h.ServeHTTP(w, r)
			return
		}
		checked.ServeHTTP(w, r)
	})
	var guarded http.Handler = next
	if s.ClientLimiter != nil {
		guarded = s.ClientLimiter.Middleware(principalID, guarded)
	}
	guarded = recordCaller(guarded)
	guarded = access.Middleware(s.Keys, guarded)
	guarded = access.WebSocketOrigins(s.CORSAllowedOrigins, guarded)
	return access.CORS(s.CORSAllowedOrigins, guarded)
}

// deadline bounds each request by RequestTimeout, but for subscriptions,
// whose connection also loses the server's read deadline (ReadTimeout,
// meant for reading the request): net/http would end a stream whose read
// deadline passed.
func (s security) deadline(next http.Handler) http.Handler {
	bounded := guard.Deadline(s.RequestTimeout, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gqlhttp.IsSubscriptionRequest(r) {
			gqlhttp.ClearDeadlines(w)
			next.ServeHTTP(w, r)
			return
		}
		bounded.ServeHTTP(w, r)
	})
}

// protectSchema wraps GET /schema.graphql: the same CORS and API keys as
// /query (any role may read the schema, as any may introspect it).
func (s security) protectSchema(h http.Handler) http.Handler {
	return access.CORS(s.CORSAllowedOrigins, access.Middleware(s.Keys, recordCaller(h)))
}

// recordCaller copies the caller's role and key id (never the key) into
// the request's log stats, so that every log line about the request names
// the caller.
func recordCaller(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := access.PrincipalFrom(r.Context())
		st := telemetry.StatsFrom(r.Context())
		st.Role, st.KeyID = p.Role.String(), p.ID
		next.ServeHTTP(w, r)
	})
}

// principalID names the client of a request for the rate limit: the API
// key's id, or "addr:<ip>" while the gateway is open.
func principalID(r *http.Request) string {
	return access.PrincipalFrom(r.Context()).ID
}
