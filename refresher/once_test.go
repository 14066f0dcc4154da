package refresher

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
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
//
// It runs in a synctest bubble: Workable's clock is the bubble's, moved by
// sleeping, and the simulator, its webhook deliveries and the gateway's
// receiver are called in process.
func TestAChangeIsPublishedOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testAChangeIsPublishedOnce)
}

func testAChangeIsPublishedOnce(t *testing.T) {
	pastSeed()
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

	sim := simulator.New(simulator.WithCandidates(10), simulator.WithWebhookClient(&http.Client{Transport: inProcess{mux}}))
	client, err := workable.NewClient(simulator.DemoSubdomain, simulator.DemoToken,
		workable.WithBaseURL("http://workable.test/spi/v3/"), workable.WithHTTPClient(&http.Client{Transport: sim.Transport()}))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := client.Subscriptions.Create(ctx, workable.NewSubscription{Target: "http://gateway.test/webhooks/workable/main", Event: workable.EventCandidateMoved}); err != nil {
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
	time.Sleep(time.Second)
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
