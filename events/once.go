package events

import (
	"context"
	"strconv"
	"time"

	"github.com/workablegw/gateway/idempotency"
)

// DefaultOnceTTL is how long OncePerChange remembers a change announced.
// The refresher sees a change within a few intervals of a webhook (or the
// other way round); an hour covers a refresher working through a backlog.
const DefaultOnceTTL = time.Hour

// OncePerChange publishes each change of a candidate once, whichever
// source announces it first: a change is known by the candidate's id and
// its updated_at, which a webhook's payload and the refresher's list both
// carry, so that a move delivered by a webhook and seen again by the
// refresher (on any replica sharing the store) reaches subscribers once.
// A failed publication is not remembered: the next source to announce the
// change publishes it.
type OncePerChange struct {
	pub   Publisher
	store idempotency.Store
	ttl   time.Duration
}

// NewOncePerChange returns a OncePerChange publishing on pub, remembering
// changes in store (Redis across replicas) for ttl (DefaultOnceTTL when 0).
// A nil store remembers nothing: every event is published.
func NewOncePerChange(pub Publisher, store idempotency.Store, ttl time.Duration) *OncePerChange {
	if ttl <= 0 {
		ttl = DefaultOnceTTL
	}
	return &OncePerChange{pub: pub, store: store, ttl: ttl}
}

// Publish publishes e unless the change of e's candidate updated at
// updated was published already; a zero updated (or a nil store)
// publishes e in any case.
// It reports whether e was published by this call.
func (o *OncePerChange) Publish(ctx context.Context, e Event, updated time.Time) (bool, error) {
	if updated.IsZero() || o.store == nil {
		return true, o.pub.Publish(ctx, e)
	}
	key := "event:" + e.Credential + ":" + e.CandidateID + ":" + strconv.FormatInt(updated.UnixMilli(), 10)
	_, replayed, err := o.store.Do(ctx, key, "", o.ttl, func(ctx context.Context) ([]byte, error) {
		return []byte{}, o.pub.Publish(ctx, e)
	})
	if err != nil {
		return false, err
	}
	return !replayed, nil
}
