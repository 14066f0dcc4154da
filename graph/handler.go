package graph

import (
	"cmp"
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/graph/generated"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/workable"
)

// DefaultComplexityLimit is the complexity limit when Config leaves it 0.
// Every field counts 1 and a connection counts its selection once per
// requested item (first, default 50). So a full page of 100 candidates with
// every field (about 3000) fits, while nested connections under a large page
// (one Workable call per parent item), such as 50 jobs × 50 candidates × a
// few fields (about 15000), do not.
const DefaultComplexityLimit = 5000

// Config holds what the GraphQL handler needs.
type Config struct {
	// Workable is the client every resolver reads through.
	Workable *workable.Client
	// ComplexityLimit bounds an operation's complexity; 0 means
	// DefaultComplexityLimit.
	ComplexityLimit int
	// Logger receives resolver panics and upstream failures; nil discards.
	Logger *slog.Logger

	// Cache stores Workable answers (see the cache package); nil caches
	// nothing, but concurrent identical fetches are still made once.
	Cache cache.Store
	// Namespace starts every cache key: cache.Namespace(subdomain, token)
	// of the Workable client's credential, so that two accounts or tokens
	// sharing a Redis never see each other's data. Required with Cache.
	Namespace string
	// TTLs sets how long each kind of data stays fresh, then stale but
	// servable when Workable fails; the zero value means cache.DefaultTTLs().
	TTLs cache.TTLs
	// ResponseCache also caches whole responses of queries (keyed by the
	// request's bytes and the namespace), invalidated per record by the same
	// generations as the data. It needs Cache.
	ResponseCache bool
	// Now is the clock that decides freshness; nil means time.Now. Tests
	// share a fake one with the cache store.
	Now func() time.Time
}

// NewHandler returns the /query endpoint: GraphQL over GET and POST (and
// OPTIONS), with per-request dataloaders over the cache, coalescing of
// identical fetches across requests, and extensions.cost in every response.
// For extensions.cost to count Workable calls, the client must have been
// built with workable.WithRequestHook(CountWorkableCalls). It panics if
// Cache is set without a Namespace.
func NewHandler(cfg Config) http.Handler {
	e := newEconomy(cfg)
	return e.middleware(newServer(e, cfg))
}

// newEconomy builds the process-wide part of the upstream economy.
func newEconomy(cfg Config) *economy {
	if cfg.Cache != nil && cfg.Namespace == "" {
		panic("graph: Config.Cache needs a Namespace (cache.Namespace(subdomain, token))")
	}
	e := &economy{
		client:    cfg.Workable,
		store:     cfg.Cache,
		ns:        cfg.Namespace,
		ttls:      cfg.TTLs,
		now:       cfg.Now,
		logger:    cfg.Logger,
		responses: cfg.ResponseCache && cfg.Cache != nil,
	}
	if e.ttls == (cache.TTLs{}) {
		e.ttls = cache.DefaultTTLs()
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	return e
}

// newServer builds the gqlgen server without the request middleware.
func newServer(e *economy, cfg Config) *handler.Server {
	logger := e.logger
	r := &Resolver{client: cfg.Workable, logger: logger, econ: e}
	gc := generated.Config{Resolvers: r}
	gc.Complexity.Query.Jobs = func(child int, first *int, _ *string, _ *model.JobState, _, _ *time.Time) int {
		return connectionComplexity(child, first)
	}
	gc.Complexity.Query.Candidates = func(child int, first *int, _, _, _, _ *string, _, _ *time.Time) int {
		return connectionComplexity(child, first)
	}
	gc.Complexity.Job.Candidates = func(child int, first *int, _, _ *string) int {
		return connectionComplexity(child, first)
	}
	gc.Complexity.Candidate.Activities = func(child int, first *int, _ *string) int {
		return connectionComplexity(child, first)
	}
	srv := handler.New(generated.NewExecutableSchema(gc))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(extension.FixedComplexityLimit(cmp.Or(cfg.ComplexityLimit, DefaultComplexityLimit)))
	srv.Use(costExtension{})
	srv.SetErrorPresenter(errorPresenter(logger))
	srv.SetRecoverFunc(recoverFunc(logger))
	return srv
}
