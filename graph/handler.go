package graph

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/cost"
	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/graph/generated"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/guard"
	"github.com/workablegw/gateway/hiring"
	"github.com/workablegw/gateway/idempotency"
)

// DefaultComplexityLimit is the complexity limit when Config leaves it 0.
//
// The cost model: every field counts 1, and a connection (jobs, candidates,
// Job.candidates, Candidate.activities) counts its selection once per
// requested item (first, default 50), so that a connection nested under a
// page, which costs one Workable call per parent item, multiplies.
//
// The limit admits reasonable queries with room to spare: a
// page of 100 jobs with every field but candidates costs about 5,300, and
// 50 candidates each with every field, its job with every field and 20
// activities (one list call, then a detail and an activities call per
// candidate) about 20,400. It refuses what only an attacker sends, by a
// factor of 18 or more: 100 jobs × 100 candidates × every field costs about
// 565,000 (up to 10,000 detail calls), and three nested connections of 100
// (jobs → candidates → activities) about 2,000,000. In between, the request
// deadline and the per-credential rate budget bound what an admitted query
// can cost upstream (about 30 calls in 30 s at Workable's 10 per 10 s).
const DefaultComplexityLimit = 30000

// Config holds what the GraphQL handler needs.
type Config struct {
	// Credentials is where every request finds its Workable credential:
	// the one named by the header X-Workable-Credential (the default
	// credential when absent), whose economy (client, rate budget, cache
	// namespace, coalescing; see upstream.Economy) the request reads
	// Workable with. An unknown nickname is answered with HTTP 400 and
	// code UNKNOWN_CREDENTIAL before any resolver runs. It also backs the
	// credential fields of the schema (workableCredentials,
	// addWorkableCredential, …). Required.
	Credentials *credentials.Registry
	// ComplexityLimit bounds an operation's complexity; 0 means
	// DefaultComplexityLimit.
	ComplexityLimit int
	// Logger receives resolver panics and upstream failures; nil discards.
	Logger *slog.Logger
	// AccessRules, when non-nil, switches access control on: the
	// operation's fields are checked against the caller's role
	// (access.PrincipalFrom, set by access.Middleware) with
	// access.FieldGuard(AccessRules) before any resolver runs, and the
	// credential resolvers check the admin role again. Pass
	// access.DefaultRules(). Nil (tests, embedding) checks nothing.
	AccessRules map[string]access.Role
	// QueryLimits bounds the shape of an operation (depth, aliases, root
	// fields, fields, tokens); the zero value means
	// guard.DefaultQueryLimits(). The parser's token limit is set to the
	// same MaxTokens.
	QueryLimits guard.QueryLimits
	// DisableIntrospection refuses __schema and __type with code
	// INTROSPECTION_DISABLED and turns off the "Did you mean …" suggestions
	// of validation errors (production setting GATEWAY_INTROSPECTION=false).
	DisableIntrospection bool
	// Idempotency stores createCandidate results by idempotency key; nil
	// means an in-process store (idempotency.NewMemoryStore) of this
	// handler.
	Idempotency idempotency.Store
	// IdempotencyTTL is how long a createCandidate result is replayed; 0
	// means idempotency.DefaultTTL (24 h).
	IdempotencyTTL time.Duration

	// Events is the bus of candidate events: the gateway's own hiring
	// actions and createCandidate publish on it, and subscriptions listen
	// to it. Nil means an in-process bus of this handler (events.NewLocal).
	Events events.Bus
	// SubscriptionsPerClient bounds the live subscriptions of one client
	// (API key, or address while the gateway is open); 0 means
	// DefaultSubscriptionsPerClient. One more is refused with
	// TOO_MANY_SUBSCRIPTIONS.
	SubscriptionsPerClient int
	// PublicURL is the gateway's public base URL (GATEWAY_PUBLIC_URL),
	// where registerWorkableWebhooks subscribes Workable's deliveries; ""
	// refuses that with PUBLIC_URL_NOT_SET.
	PublicURL string
	// SubscriptionHeartbeat is how often a subscription's connection
	// carries a heartbeat (see gqlhttp); 0 means gqlhttp.DefaultHeartbeat.
	SubscriptionHeartbeat time.Duration
	// WebSocketInit authenticates a WebSocket connection from its
	// connection_init payload (access.Keys.InitPayload): it returns the
	// context with the connection's principal, or an error that refuses the
	// connection (closed with 4403). Nil authenticates nothing beyond the
	// upgrade request.
	WebSocketInit func(ctx context.Context, payload map[string]any) (context.Context, error)

	// Extensions are added to the gqlgen server after the handler's own
	// (metrics, tracing, the log line's operation name: see telemetry).
	Extensions []graphql.HandlerExtension
	// APQCache stores automatic persisted queries (telemetry.NewAPQCache on
	// Redis, shared by every replica); nil means an in-process LRU of 100.
	APQCache graphql.Cache[string]
}

// NewHandler returns the /query endpoint: GraphQL over GET and POST (and
// OPTIONS), @defer over multipart/mixed and Server-Sent Events, and
// subscriptions over WebSocket and Server-Sent Events (see gqlhttp), with per-request dataloaders over the request
// credential's economy (the cache, coalescing of identical fetches across
// requests), and extensions.cost in every response. It panics without
// Config.Credentials.
func NewHandler(cfg Config) http.Handler {
	if cfg.Credentials == nil {
		panic("graph: Config.Credentials is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg.Credentials.Middleware(cfg.Logger, gqlhttp.AnsweredInParts, withRequest(gqlhttp.Detach(newServer(cfg))))
}

// newServer builds the gqlgen server without the request middleware.
func newServer(cfg Config) *handler.Server {
	logger := cfg.Logger
	r := &Resolver{
		logger:     logger,
		creds:      cfg.Credentials,
		checkRoles: cfg.AccessRules != nil,
		idem:       cfg.Idempotency,
		publicURL:  cfg.PublicURL,
	}
	if r.idem == nil {
		r.idem = idempotency.NewMemoryStore()
	}
	r.writes = hiring.Writes{Store: r.idem, TTL: cmp.Or(cfg.IdempotencyTTL, idempotency.DefaultTTL)}
	perClient := cfg.SubscriptionsPerClient
	if perClient <= 0 {
		perClient = DefaultSubscriptionsPerClient
	}
	r.subLimit = guard.NewClientSlots(perClient)
	r.events = cfg.Events
	if r.events == nil {
		r.events = events.NewLocal()
	}
	r.changes = events.NewOncePerChange(r.events, r.idem, 0)
	srv := handler.New(executableSchema(r))
	gqlhttp.Add(srv, gqlhttp.Options{
		Heartbeat: cfg.SubscriptionHeartbeat,
		Init:      websocketInit(cfg.WebSocketInit, cfg.Credentials, logger),
		Logger:    logger,
	})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	// The parser stops at the same token limit, so that it holds even
	// without the extension.
	if tokens := cmp.Or(cfg.QueryLimits.MaxTokens, guard.DefaultMaxTokens); tokens > 0 {
		srv.SetParserTokenLimit(tokens)
	}
	srv.Use(cfg.QueryLimits.Extension())
	if cfg.AccessRules != nil {
		srv.Use(access.FieldGuard(cfg.AccessRules))
	}
	// Notes request errors for guard.OverHTTP, which answers them with the
	// status codes GraphQL over HTTP asks for.
	srv.Use(guard.RequestErrors())
	if cfg.DisableIntrospection {
		srv.Use(guard.IntrospectionOff{})
		// "Did you mean …" would reveal the names introspection hides.
		// gqlgen's switch covers fields and scalar leaves only; arguments,
		// enum values, input fields and type names need rules of their own.
		srv.SetDisableSuggestion(true)
		srv.SetValidationRulesFn(guard.RulesWithoutSuggestions)
	} else {
		srv.Use(extension.Introspection{})
	}
	var apq graphql.Cache[string] = lru.New[string](100)
	if cfg.APQCache != nil {
		apq = cfg.APQCache
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: apq})
	srv.Use(guard.NewComplexityLimit(cmp.Or(cfg.ComplexityLimit, DefaultComplexityLimit)))
	srv.Use(cost.Extension{})
	for _, ext := range cfg.Extensions {
		srv.Use(ext)
	}
	// Last, so that it answers inside every other extension; not when an
	// extension wants to see each field (tracing's spans).
	if !interceptsFields(cfg.Extensions) {
		srv.Use(fastPath{logger: logger})
	}
	srv.SetErrorPresenter(errorPresenter(logger))
	srv.SetRecoverFunc(recoverFunc(logger))
	return srv
}

// interceptsFields reports whether one of exts intercepts fields.
func interceptsFields(exts []graphql.HandlerExtension) bool {
	for _, ext := range exts {
		_, field := ext.(graphql.FieldInterceptor)
		_, root := ext.(graphql.RootFieldInterceptor)
		if field || root {
			return true
		}
	}
	return false
}

// websocketInit returns the connection_init hook of a WebSocket:
// authentication by auth (nil: none beyond the upgrade's), then the
// credential the payload names, if any, in place of the upgrade's, refused
// like an HTTP request naming it (credentials.Registry.Resolve), with
// close code 4400.
func websocketInit(auth func(context.Context, map[string]any) (context.Context, error), reg *credentials.Registry, logger *slog.Logger) func(context.Context, map[string]any) (context.Context, error) {
	return func(ctx context.Context, payload map[string]any) (context.Context, error) {
		if auth != nil {
			authed, err := auth(ctx, payload)
			if err != nil {
				return ctx, &gqlhttp.InitRefusal{CloseCode: gqlhttp.CloseForbidden, Code: access.CodeUnauthenticated, Err: err}
			}
			ctx = authed
		}
		if nickname, ok := access.PayloadValue(payload, credentials.Header); ok {
			e, refusal := reg.Resolve(ctx, logger, nickname)
			if refusal != nil {
				return ctx, &gqlhttp.InitRefusal{CloseCode: gqlhttp.CloseBadRequest, Code: refusal.Code, Err: errors.New(refusal.Message)}
			}
			ctx = newRequest(e.NewRequest(ctx))
		}
		return ctx, nil
	}
}

// executableSchema returns the public schema (PublicSchema) over r with the
// gateway's cost model (see DefaultComplexityLimit): connections count
// their selection once per requested item.
func executableSchema(r *Resolver) graphql.ExecutableSchema {
	gc := generated.Config{Resolvers: r, Schema: PublicSchema()}
	gc.Complexity.Query.Jobs = func(child int, first *int, _ *string, last *int, _ *string, _ *model.JobState, _, _ *time.Time) int {
		return connectionComplexity(child, first, last)
	}
	gc.Complexity.Query.Candidates = func(child int, first *int, _ *string, last *int, _, _, _, _ *string, _, _ *time.Time) int {
		return connectionComplexity(child, first, last)
	}
	gc.Complexity.Job.Candidates = func(child int, first *int, _ *string, last *int, _, _ *string) int {
		return connectionComplexity(child, first, last)
	}
	gc.Complexity.Candidate.Activities = func(child int, first *int, _ *string, last *int, _ *string) int {
		return connectionComplexity(child, first, last)
	}
	gc.Complexity.Query.Nodes = func(child int, ids []string) int {
		return 1 + len(ids)*child
	}
	gc.Complexity.Job.Activities = func(child int, first *int, _ *string, last *int, _ *string) int {
		return connectionComplexity(child, first, last)
	}
	// The latest activity reads the candidate's whole stream: one call per
	// 100 activities, up to upstream.MaxActivityLogPages.
	gc.Complexity.Candidate.LatestStageMove = func(child int) int { return latestComplexity(child) }
	gc.Complexity.Candidate.LatestActivity = func(child int, _ []model.ActivityKind) int { return latestComplexity(child) }
	return generated.NewExecutableSchema(gc)
}
