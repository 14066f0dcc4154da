package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/graph"
	"github.com/workablegw/gateway/guard"
	"github.com/workablegw/gateway/ratebudget"
	"github.com/workablegw/gateway/telemetry"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// The wiring of issue 5: Workable credentials, access control and the
// request guards in front of /query.

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
// Subscriptions (see graph.IsSubscriptionRequest) have no deadline: they
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
		if graph.IsSubscriptionRequest(r) {
			clearDeadlines(w)
			next.ServeHTTP(w, r)
			return
		}
		bounded.ServeHTTP(w, r)
	})
}

// clearDeadlines removes the read and write deadlines of w's connection.
func clearDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
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

// newRegistry returns the gateway's credentials: def (from the environment,
// or the simulator's in demo mode) as the default, in front of the
// credentials added through the API, kept in Redis encrypted with
// CREDENTIALS_KEY (without the key adding is refused) or, without Redis, in
// memory. Each credential's economy is built with newClient and ucfg.
func newRegistry(cfg config, rdb redis.UniversalClient, def *credentials.Credential,
	newClient func(credentials.Credential) (*workable.Client, error), ucfg upstream.Config) (*credentials.Registry, error) {
	var store credentials.Store = credentials.NewMemoryStore()
	if rdb != nil {
		rs, err := credentials.NewRedisStore(rdb, cfg.CachePrefix+"wgw:", cfg.CredentialsKey)
		if err != nil {
			return nil, fmt.Errorf("credential store: %w", err)
		}
		store = rs
	}
	return credentials.NewRegistry(store, def, newClient, credentials.WithUpstream(ucfg)), nil
}

// newClientFactory returns how the Registry builds the Workable client of a
// credential: its own rate budget (in Redis under the credential's
// namespace when REDIS_URL is set, shared by every replica; else in
// process), the observability options, the per-call timeout, and
// WORKABLE_BASE_URL (or the simulator's) as the base of every credential.
//
// The budget starts at Workable's lowest documented one (10 per 10 s) and
// follows the X-Rate-Limit-Limit Workable announces for the token (50 for
// OAuth and partner tokens); WORKABLE_RATE_LIMIT pins it instead. While
// Redis is unreachable a replica sends at most its share of the budget, by
// the count of replicas (nil: it waits for Redis instead), and says so in
// the log and in ratelimit_local_share.
func newClientFactory(cfg config, obs *observability, rdb redis.UniversalClient, replicas *ratebudget.Replicas, baseURL string) func(credentials.Credential) (*workable.Client, error) {
	limit := workableLimit
	var windowOpts []workable.LimiterOption
	var redisOpts []ratebudget.Option
	if cfg.WorkableRateLimit > 0 {
		limit = cfg.WorkableRateLimit
		windowOpts = append(windowOpts, workable.WithFixedLimit())
		redisOpts = append(redisOpts, ratebudget.WithFixedLimit())
	}
	return func(c credentials.Credential) (*workable.Client, error) {
		var limiter workable.RateLimiter
		if rdb != nil {
			ns := cfg.CachePrefix + cache.Namespace(c.Subdomain, c.Token)
			limiter = ratebudget.NewLimiter(rdb, ns+"rate", limit, workableWindow,
				append([]ratebudget.Option{
					ratebudget.WithReplicas(replicas),
					ratebudget.WithLogger(obs.logger.With("credential", c.Nickname)),
					ratebudget.WithShareHook(func(n int) { obs.metrics.SetLocalShare(c.Nickname, n) }),
				}, redisOpts...)...)
		} else {
			limiter = workable.NewWindowLimiter(limit, workableWindow, windowOpts...)
		}
		opts := append(obs.workableOptions(c.Nickname, limiter),
			workable.WithRequestHook(upstream.CountWorkableCalls),
			workable.WithRequestTimeout(cfg.WorkableCallTimeout))
		if baseURL != "" {
			opts = append(opts, workable.WithBaseURL(baseURL))
		}
		client, err := workable.NewClient(c.Subdomain, c.Token, opts...)
		if err != nil {
			return nil, fmt.Errorf("create the Workable client of credential %q: %w", c.Nickname, err)
		}
		return client, nil
	}
}
