package graph

import (
	"log/slog"

	"github.com/workablegw/gateway/workable"
)

// Resolver is the dependency root of the GraphQL resolvers. It holds no
// per-request state: per-request dataloaders travel in the context (see
// loadersFor).
type Resolver struct {
	client *workable.Client
	logger *slog.Logger
	// econ is the cache, coalescing and cost accounting shared by every
	// request of the handler.
	econ *economy
}
