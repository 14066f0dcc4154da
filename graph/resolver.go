package graph

import (
	"log/slog"
	"time"

	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/guard"
	"github.com/workablegw/gateway/idempotency"
)

// Resolver is the dependency root of the GraphQL resolvers. It holds no
// per-request state: per-request dataloaders and the request's Workable
// credential travel in the context (see loadersFor and econFor).
type Resolver struct {
	logger *slog.Logger
	// creds backs the credential fields.
	creds *credentials.Registry
	// checkRoles makes resolvers check the caller's role again (access
	// control is on: Config.AccessRules).
	checkRoles bool
	// idem runs createCandidate at most once per idempotency key.
	idem    idempotency.Store
	idemTTL time.Duration
	// events carries candidate events: actions publish, subscriptions
	// listen (Config.Events).
	events events.Bus
	// changes publishes the gateway's own events on events once per change,
	// remembering changes in idem (shared with the webhook receiver and the
	// refresher).
	changes *events.OncePerChange
	// subLimit bounds each client's live subscriptions.
	subLimit *guard.ClientSlots
	// publicURL is where Workable delivers webhooks (Config.PublicURL).
	publicURL string
}
