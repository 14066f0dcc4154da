package graph

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/workable/simulator"
)

const (
	registerHooks   = `mutation($c: String!) { registerWorkableWebhooks(credential: $c) { subscriptions { id event target } userErrors { field code } } }`
	unregisterHooks = `mutation($c: String!) { unregisterWorkableWebhooks(credential: $c) { removed { id event target } userErrors { field code } } }`
	publicURL       = "https://gw.example.com"
)

func withPublicURL(u string) envOption {
	return withHandler(func(cfg Config) http.Handler {
		cfg.PublicURL = u
		return NewHandler(cfg)
	})
}

type hooksOut struct {
	Subscriptions, Removed []model.WorkableWebhookSubscription
	UserErrors             []model.UserError
}

func (e *testEnv) hooks(q, credential string) (hooksOut, gqlResponse) {
	e.t.Helper()
	r := e.query(q, vars{"c": credential})
	var d map[string]hooksOut
	if len(r.Data) > 0 && string(r.Data) != "null" {
		if err := json.Unmarshal(r.Data, &d); err != nil {
			e.t.Fatalf("decode %s: %v", r.Data, err)
		}
	}
	for _, v := range d {
		return v, r
	}
	return hooksOut{}, r
}

func (e *testEnv) targets() []string {
	var out []string
	for _, s := range e.sim.Subscriptions() {
		out = append(out, s.Event+" "+s.Target)
	}
	slices.Sort(out)
	return out
}

func TestRegisterWorkableWebhooks(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withPublicURL(publicURL), withSimOptions(simulator.WithCandidates(3)))
	out, r := env.hooks(registerHooks, "default")
	if len(r.Errors) > 0 || len(out.UserErrors) > 0 {
		t.Fatalf("register: %s", r.Raw)
	}
	want := []string{
		"candidate_created https://gw.example.com/webhooks/workable/default?event=candidate_created",
		"candidate_moved https://gw.example.com/webhooks/workable/default?event=candidate_moved",
	}
	if diff := cmp.Diff(want, env.targets()); diff != "" {
		t.Errorf("subscriptions at Workable (-want +got):\n%s", diff)
	}
	if len(out.Subscriptions) != 2 || out.Subscriptions[0].ID == "" {
		t.Errorf("payload: %+v", out.Subscriptions)
	}
	again, r := env.hooks(registerHooks, "default")
	if len(r.Errors) > 0 || !cmp.Equal(out.Subscriptions, again.Subscriptions) {
		t.Errorf("registering again: %s, want the same subscriptions", r.Raw)
	}
	if diff := cmp.Diff(want, env.targets()); diff != "" {
		t.Errorf("registering again changed Workable's subscriptions (-want +got):\n%s", diff)
	}

	if out, r := env.hooks(registerHooks, "nobody"); len(r.Errors) > 0 || len(out.UserErrors) != 1 || out.UserErrors[0].Code != UserErrorNotFound {
		t.Errorf("an unknown credential: %s", r.Raw)
	}

	removed, r := env.hooks(unregisterHooks, "default")
	if len(r.Errors) > 0 || len(removed.Removed) != 2 {
		t.Fatalf("unregister: %s", r.Raw)
	}
	if got := env.targets(); len(got) != 0 {
		t.Errorf("left at Workable: %v", got)
	}
}

func TestWebhooksNeedPublicURL(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withSimOptions(simulator.WithCandidates(3)))
	for _, q := range []string{registerHooks, unregisterHooks} {
		_, r := env.hooks(q, "default")
		if len(r.Errors) != 1 || r.Errors[0].Code() != CodePublicURLNotSet {
			t.Errorf("without GATEWAY_PUBLIC_URL: %s, want code %s", r.Raw, CodePublicURLNotSet)
		}
	}
	if n := env.sim.TotalRequests(); n != 0 {
		t.Errorf("%d calls reached Workable", n)
	}
}

// TestRemovingACredentialUnregistersItsWebhooks: removeWorkableCredential
// ends the credential's subscriptions first; when Workable cannot be asked
// to, the credential is kept (a retry removes both).
func TestRemovingACredentialUnregistersItsWebhooks(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withPublicURL(publicURL), withSimOptions(simulator.WithCandidates(3)))
	add := env.query(addCredential, vars{"in": map[string]any{"nickname": "beta", "subdomain": simulator.DemoSubdomain, "apiToken": simulator.DemoToken}})
	if len(add.Errors) > 0 {
		t.Fatalf("add: %s", add.Raw)
	}
	for _, c := range []string{"default", "beta"} {
		if _, r := env.hooks(registerHooks, c); len(r.Errors) > 0 {
			t.Fatalf("register %s: %s", c, r.Raw)
		}
	}
	if n := len(env.targets()); n != 4 {
		t.Fatalf("%d subscriptions, want 4", n)
	}

	env.sim.InjectFault("GET /subscriptions", simulator.Fault{Status: http.StatusServiceUnavailable, Times: 3})
	r := env.query(removeCredential, vars{"n": "beta"})
	var out struct {
		RemoveWorkableCredential struct {
			Removed    bool
			UserErrors []model.UserError
		}
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatalf("decode %s: %v", r.Raw, err)
	}
	if out.RemoveWorkableCredential.Removed || len(out.RemoveWorkableCredential.UserErrors) != 1 ||
		out.RemoveWorkableCredential.UserErrors[0].Code != UserErrorWebhooksNotRemoved {
		t.Fatalf("remove while Workable fails: %s, want userError %s and the credential kept", r.Raw, UserErrorWebhooksNotRemoved)
	}
	env.sim.ClearFaults()

	r = env.query(removeCredential, vars{"n": "beta"})
	if err := json.Unmarshal(r.Data, &out); err != nil || !out.RemoveWorkableCredential.Removed {
		t.Fatalf("remove: %s", r.Raw)
	}
	want := []string{
		"candidate_created https://gw.example.com/webhooks/workable/default?event=candidate_created",
		"candidate_moved https://gw.example.com/webhooks/workable/default?event=candidate_moved",
	}
	if diff := cmp.Diff(want, env.targets()); diff != "" {
		t.Errorf("left at Workable after removing beta (-want +got):\n%s", diff)
	}
}
