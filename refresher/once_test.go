package refresher

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/webhooks"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

type demoCredential struct{}

func (demoCredential) Get(_ context.Context, nickname string) (credentials.Credential, error) {
	if nickname != "main" {
		return credentials.Credential{}, credentials.ErrNotFound
	}
	return credentials.Credential{Nickname: "main", Token: simulator.DemoToken}, nil
}

// TestAChangeIsPublishedOnce: a move delivered by a webhook and seen again
// by the refresher reaches subscribers once, when both remember the
// changes announced in the same store; a later move seen only by the
// refresher is published by it.
func TestAChangeIsPublishedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	changes := idempotency.NewMemoryStore()
	f := &fakes{}
	receiver, err := webhooks.New(webhooks.Config{Credentials: demoCredential{}, Invalidator: f, Publisher: f,
		Seen: idempotency.NewMemoryStore(), Changes: changes})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(webhooks.Path, receiver)
	gw := httptest.NewServer(mux)
	t.Cleanup(gw.Close)

	// Workable's clock, moved by the test: two moves never share a time.
	var simNow atomic.Int64
	simNow.Store(time.Now().UnixNano())
	sim := simulator.New(simulator.WithCandidates(10), simulator.WithClock(func() time.Time { return time.Unix(0, simNow.Load()) }))
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)
	client, err := workable.NewClient(simulator.DemoSubdomain, simulator.DemoToken, workable.WithBaseURL(simSrv.URL+"/spi/v3/"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.Subscriptions.Create(ctx, workable.NewSubscription{Target: gw.URL + "/webhooks/workable/main", Event: workable.EventCandidateMoved}); err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Credential: "main", Client: client, Invalidator: f, Publisher: f, Lease: LocalLease{},
		State: NewMemoryState(), Changes: changes, Interval: time.Hour, Share: 1})
	if err != nil {
		t.Fatal(err)
	}

	c := sim.Candidates()[1]
	ds, err := sim.MoveCandidateInUI(ctx, c.ID, "offer")
	if err != nil || len(ds) != 1 || !ds[0].OK() {
		t.Fatalf("delivery: %+v, %v", ds, err)
	}
	if err := r.Round(ctx); err != nil {
		t.Fatal(err)
	}
	_, evs := f.take()
	if len(evs) != 1 || evs[0].Source != events.SourceWebhook {
		t.Fatalf("published %+v, want the webhook's event alone", evs)
	}

	// The next move, a second later, is seen by the refresher only.
	simNow.Add(int64(time.Second))
	if _, err := client.Subscriptions.Delete(ctx, string(sim.Subscriptions()[0].ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.MoveCandidateInUI(ctx, c.ID, "hired"); err != nil {
		t.Fatal(err)
	}
	if err := r.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if _, evs := f.take(); len(evs) != 1 || evs[0].Source != events.SourceRefresher || evs[0].Stage != "Hired" {
		t.Errorf("published %+v, want the refresher's move to Hired", evs)
	}
}
