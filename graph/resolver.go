package graph

import (
	"log/slog"
	"time"

	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/idempotency"
)

// Resolver is the dependency root of the GraphQL resolvers. It holds no
// per-request state: per-request dataloaders and the request's Workable
// credential travel in the context (see loadersFor and econFor).
type Resolver struct {
	logger *slog.Logger
	// econ is the cache, coalescing and cost accounting of the handler's
	// single Workable client (Config.Workable). With Config.Credentials,
	// each request carries its credential's own economy instead (econFor).
	econ *economy
	// creds backs the credential fields; nil without Config.Credentials.
	creds *credentials.Registry
	// checkRoles makes resolvers check the caller's role again (access
	// control is on: Config.AccessRules).
	checkRoles bool
	// idem runs createCandidate at most once per idempotency key.
	idem    idempotency.Store
	idemTTL time.Duration
	// memberID is the default acting member of the hiring actions
	// (Config.MemberID); with Config.Credentials each request carries its
	// credential's instead (defaultActingMember).
	memberID string
	// events carries candidate events: actions publish, subscriptions
	// listen (Config.Events).
	events events.Bus
}
