package graph

import (
	"log/slog"

	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/guard"
	"github.com/workablegw/gateway/hiring"
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
	// idem remembers the changes published (changes) and, in writes, the
	// idempotency keys of the candidate writes.
	idem   idempotency.Store
	writes hiring.Writes
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
