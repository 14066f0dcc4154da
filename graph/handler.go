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
}

// NewHandler returns the /query endpoint: GraphQL over GET and POST (and
// OPTIONS), with per-request dataloaders.
func NewHandler(cfg Config) http.Handler {
	return withLoaders(cfg.Workable, newServer(cfg))
}

// newServer builds the gqlgen server without the loader middleware.
func newServer(cfg Config) *handler.Server {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Resolver{client: cfg.Workable, logger: logger}
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
	srv.SetErrorPresenter(errorPresenter(logger))
	srv.SetRecoverFunc(recoverFunc(logger))
	return srv
}
