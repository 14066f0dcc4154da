package webhooks

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

func TestRegisterAndUnregister(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim := simulator.New(simulator.WithCandidates(3))
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := workable.NewClient(simulator.DemoSubdomain, simulator.DemoToken, workable.WithBaseURL(srv.URL+"/spi/v3/"),
		// More than the 10 calls per 10 s the simulator announces (it does not limit).
		workable.WithRateLimiter(workable.NewWindowLimiter(100, 10*time.Second, workable.WithFixedLimit())))
	if err != nil {
		t.Fatal(err)
	}
	// Someone else's subscription, which must be left alone.
	if _, _, err := c.Subscriptions.Create(ctx, workable.NewSubscription{Target: "https://other.example/hook", Event: workable.EventCandidateMoved}); err != nil {
		t.Fatal(err)
	}
	const pub = "https://gw.example.com/"
	subs, err := Register(ctx, c, pub, "acme")
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	want := []Subscription{
		{ID: subs[0].ID, Event: "candidate_created", Target: "https://gw.example.com/webhooks/workable/acme?event=candidate_created"},
		{ID: subs[1].ID, Event: "candidate_moved", Target: "https://gw.example.com/webhooks/workable/acme?event=candidate_moved"},
	}
	if diff := cmp.Diff(want, subs); diff != "" {
		t.Errorf("Register (-want +got):\n%s", diff)
	}
	again, err := Register(ctx, c, pub, "acme")
	if err != nil {
		t.Fatalf("Register again: %v", err)
	}
	if diff := cmp.Diff(subs, again); diff != "" {
		t.Errorf("registering again changed the subscriptions (-first +second):\n%s", diff)
	}
	if n := len(sim.Subscriptions()); n != 3 {
		t.Errorf("%d subscriptions at Workable, want 3", n)
	}
	// Another credential's receiver is not ours.
	if _, err := Register(ctx, c, pub, "acme-2"); err != nil {
		t.Fatal(err)
	}
	removed, err := Unregister(ctx, c, pub, "acme")
	if err != nil {
		t.Fatalf("Unregister: %v", err)
	}
	if len(removed) != 2 {
		t.Errorf("Unregister removed %+v, want the two of acme", removed)
	}
	var left []string
	for _, s := range sim.Subscriptions() {
		left = append(left, s.Target)
	}
	wantLeft := []string{"https://other.example/hook",
		"https://gw.example.com/webhooks/workable/acme-2?event=candidate_created",
		"https://gw.example.com/webhooks/workable/acme-2?event=candidate_moved"}
	if diff := cmp.Diff(wantLeft, left); diff != "" {
		t.Errorf("left at Workable (-want +got):\n%s", diff)
	}
	if _, err := Register(ctx, c, "", "acme"); !errors.Is(err, ErrNoPublicURL) {
		t.Errorf("Register without a public URL: %v", err)
	}
}

func TestCheckPublicURL(t *testing.T) {
	t.Parallel()
	for raw, ok := range map[string]bool{
		"https://gw.example.com":       true,
		"http://127.0.0.1:8080/base/":  true,
		"gw.example.com":               false,
		"ftp://gw.example.com":         false,
		"https://gw.example.com/?a=b":  false,
		"https://user@gw.example.com/": false,
		"https:///no-host":             false,
		"https://gw.example.com/#frag": false,
	} {
		if err := CheckPublicURL(raw); (err == nil) != ok {
			t.Errorf("CheckPublicURL(%q) = %v, want ok %v", raw, err, ok)
		}
	}
}
