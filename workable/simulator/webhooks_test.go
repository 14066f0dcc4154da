package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/workablegw/gateway/workable"
)

// receiver is a webhook target that records what it receives and answers
// status.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	status int
}

type received struct {
	path, query, signature string
	body                   []byte
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{status: http.StatusOK}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.got = append(rc.got, received{r.URL.Path, r.URL.RawQuery, r.Header.Get(workable.SignatureHeader), b})
		w.WriteHeader(rc.status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func subscribe(t *testing.T, ts *testServer, body any) response {
	t.Helper()
	return ts.call(t, http.MethodPost, "/spi/v3/subscriptions", DemoToken, body)
}

func TestSubscriptionEndpoints(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithCandidates(5))
	r := subscribe(t, ts, map[string]any{"target": "https://gw.example/hooks?event=candidate_moved", "event": "candidate_moved",
		"args": map[string]string{"account_id": DemoSubdomain, "job_shortcode": "", "stage_slug": "interview"}})
	if r.status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", r.status, r.body)
	}
	var created map[string]any
	r.decode(t, &created)
	if created["id"] != float64(firstSubscriptionID) {
		t.Errorf("subscribe answered %s, want an integer id", r.body)
	}

	errCases := []struct {
		name   string
		body   any
		status int
	}{
		{"the same target again", map[string]any{"target": "https://gw.example/hooks?event=candidate_moved", "event": "candidate_created"}, http.StatusConflict},
		{"no target", map[string]any{"event": "candidate_created"}, http.StatusUnprocessableEntity},
		{"a target that is no URL", map[string]any{"target": "not a url", "event": "candidate_created"}, http.StatusUnprocessableEntity},
		{"an unknown event", map[string]any{"target": "https://gw.example/x", "event": "candidate_deleted"}, http.StatusUnprocessableEntity},
		{"args without stage_slug", map[string]any{"target": "https://gw.example/y", "event": "candidate_created", "args": map[string]string{"job_shortcode": ""}}, http.StatusUnprocessableEntity},
		{"args with an unknown job", map[string]any{"target": "https://gw.example/z", "event": "candidate_created", "args": map[string]string{"job_shortcode": "NOPE1", "stage_slug": ""}}, http.StatusUnprocessableEntity},
		{"not JSON", "{", http.StatusBadRequest},
	}
	for _, tc := range errCases {
		if r := subscribe(t, ts, tc.body); r.status != tc.status {
			t.Errorf("%s: status %d (%s), want %d", tc.name, r.status, r.body, tc.status)
		}
	}

	var list struct {
		Subscriptions []subscriptionJSON `json:"subscriptions"`
	}
	ts.get(t, "/spi/v3/subscriptions", &list)
	if len(list.Subscriptions) != 1 || list.Subscriptions[0].StageSlug != "interview" || list.Subscriptions[0].Event != "candidate_moved" {
		t.Fatalf("list = %+v", list)
	}
	if r := ts.call(t, http.MethodDelete, "/spi/v3/subscriptions/104697", DemoToken, nil); r.status != http.StatusOK || string(r.body) != "{}\n" {
		t.Errorf("delete: %d %q", r.status, r.body)
	}
	if r := ts.call(t, http.MethodDelete, "/spi/v3/subscriptions/104697", DemoToken, nil); r.status != http.StatusNotFound {
		t.Errorf("delete again: %d, want 404", r.status)
	}
	if n := len(ts.sim.Subscriptions()); n != 0 {
		t.Errorf("%d subscriptions left", n)
	}
	if r := ts.call(t, http.MethodGet, "/spi/v3/subscriptions", "", nil); r.status != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", r.status)
	}
}

// TestDeliveries subscribes through the client, then moves and creates
// candidates "in the UI": each event reaches the subscriptions it matches,
// signed with the subscribing token, and a redelivery repeats it exactly.
func TestDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := newTestServer(t, WithCandidates(5))
	rc := newReceiver(t)
	c, err := workable.NewClient(DemoSubdomain, DemoToken, workable.WithBaseURL(ts.srv.URL+"/spi/v3/"))
	if err != nil {
		t.Fatal(err)
	}
	movedID, _, err := c.Subscriptions.Create(ctx, workable.NewSubscription{Target: rc.srv.URL + "/hook?event=candidate_moved", Event: workable.EventCandidateMoved})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if _, _, err := c.Subscriptions.Create(ctx, workable.NewSubscription{Target: rc.srv.URL + "/hook?event=candidate_created", Event: workable.EventCandidateCreated,
		Args: &workable.SubscriptionArgs{JobShortcode: "", StageSlug: "interview"}}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}

	cand := ts.sim.Candidates()[0]
	ds, err := ts.sim.MoveCandidateInUI(ctx, cand.ID, "offer")
	if err != nil || len(ds) != 1 || !ds[0].OK() {
		t.Fatalf("MoveCandidateInUI = %+v, %v; want one delivery answered 200", ds, err)
	}
	got := rc.received()
	if len(got) != 1 || got[0].query != "event=candidate_moved" {
		t.Fatalf("received %+v", got)
	}
	if !workable.VerifySignature(DemoToken, got[0].body, got[0].signature) {
		t.Errorf("the delivery's signature does not verify with the token")
	}
	ev, err := workable.ParseWebhookEvent(got[0].body)
	if err != nil {
		t.Fatal(err)
	}
	if ev.EventType != workable.EventCandidateMoved || ev.Data.ID != cand.ID || *ev.Data.Stage != "Offer" || ev.ResourceType != "candidate" {
		t.Errorf("event = %+v, data %+v", ev, ev.Data)
	}
	if now, _ := ts.sim.Candidate(cand.ID); *now.Stage != "Offer" {
		t.Errorf("the move did not change the candidate: stage %q", *now.Stage)
	}

	// Redelivery: same id, same body, same signature.
	again, err := ts.sim.Redeliver(ctx, ds[0].EventID)
	if err != nil || len(again) != 1 {
		t.Fatalf("Redeliver = %+v, %v", again, err)
	}
	got = rc.received()
	if len(got) != 2 || string(got[1].body) != string(got[0].body) || got[1].signature != got[0].signature {
		t.Errorf("the redelivery differs from the delivery")
	}
	if _, err := ts.sim.Redeliver(ctx, "nope"); !errors.Is(err, ErrNoSuchRecord) {
		t.Errorf("Redeliver(nope) = %v", err)
	}

	// The created subscription is narrowed to interview: applied does not match.
	if _, ds, err := ts.sim.CreateCandidateInUI(ctx, cand.Job.Shortcode, UICandidate{Firstname: "Ada", Lastname: "Lovelace", Email: "ada@example.com"}); err != nil || len(ds) != 0 {
		t.Errorf("create in applied: %+v, %v; want no delivery", ds, err)
	}
	id, ds, err := ts.sim.CreateCandidateInUI(ctx, cand.Job.Shortcode, UICandidate{Firstname: "Alan", Lastname: "Turing", Email: "alan@example.com", StageSlug: "interview"})
	if err != nil || len(ds) != 1 || ds[0].EventType != workable.EventCandidateCreated {
		t.Fatalf("create in interview: %+v, %v", ds, err)
	}
	var env struct {
		Data struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"data"`
	}
	if err := json.Unmarshal(ds[0].Body, &env); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(struct{ ID, Name string }{id, "Alan Turing"}, struct{ ID, Name string }{env.Data.ID, env.Data.Name}); diff != "" {
		t.Errorf("created event (-want +got):\n%s", diff)
	}

	// A target that does not answer 200 is reported; after unsubscribing,
	// nothing is delivered, redeliveries included.
	rc.mu.Lock()
	rc.status = http.StatusServiceUnavailable
	rc.mu.Unlock()
	ds, _ = ts.sim.MoveCandidateInUI(ctx, cand.ID, "hired")
	if len(ds) != 1 || ds[0].OK() || ds[0].Status != http.StatusServiceUnavailable {
		t.Errorf("a 503 delivery = %+v", ds)
	}
	if _, err := c.Subscriptions.Delete(ctx, movedID); err != nil {
		t.Fatal(err)
	}
	if ds, _ := ts.sim.Redeliver(ctx, ds[0].EventID); len(ds) != 0 {
		t.Errorf("redelivered to a deleted subscription: %+v", ds)
	}
	if _, err := ts.sim.MoveCandidateInUI(ctx, "nope", "offer"); !errors.Is(err, ErrNoSuchRecord) {
		t.Errorf("moving an unknown candidate: %v", err)
	}
}

// TestUIControls drives the UI controls over HTTP, as the simulator
// command serves them.
func TestUIControls(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithCandidates(5))
	rc := newReceiver(t)
	if r := subscribe(t, ts, map[string]any{"target": rc.srv.URL + "/moved", "event": "candidate_moved"}); r.status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", r.status, r.body)
	}
	if r := subscribe(t, ts, map[string]any{"target": rc.srv.URL + "/created", "event": "candidate_created"}); r.status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", r.status, r.body)
	}
	type answer struct {
		Candidate  string         `json:"candidate"`
		Deliveries []deliveryJSON `json:"deliveries"`
	}
	c := ts.sim.Candidates()[0]
	r := ts.call(t, http.MethodPost, "/_ui/candidates/"+c.ID+"/move", DemoToken, map[string]string{"stage": "offer"})
	var moved answer
	r.decode(t, &moved)
	if r.status != http.StatusOK || len(moved.Deliveries) != 1 || moved.Deliveries[0].Status != http.StatusOK || moved.Deliveries[0].EventType != "candidate_moved" {
		t.Fatalf("move: %d %s", r.status, r.body)
	}
	r = ts.call(t, http.MethodPost, "/_ui/jobs/"+c.Job.Shortcode+"/candidates", DemoToken, map[string]string{"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com"})
	var created answer
	r.decode(t, &created)
	if r.status != http.StatusOK || created.Candidate == "" || len(created.Deliveries) != 1 || created.Deliveries[0].EventType != "candidate_created" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	r = ts.call(t, http.MethodPost, "/_ui/events/"+moved.Deliveries[0].Event+"/redeliver", DemoToken, nil)
	if r.status != http.StatusOK {
		t.Fatalf("redeliver: %d %s", r.status, r.body)
	}
	if n := len(rc.received()); n != 3 {
		t.Errorf("the receiver got %d deliveries, want 3", n)
	}
	for _, tc := range []struct {
		name, path, token string
		body              any
		want              int
	}{
		{"no token", "/_ui/candidates/" + c.ID + "/move", "", map[string]string{"stage": "offer"}, http.StatusUnauthorized},
		{"an unknown candidate", "/_ui/candidates/nope/move", DemoToken, map[string]string{"stage": "offer"}, http.StatusNotFound},
		{"an unknown stage", "/_ui/candidates/" + c.ID + "/move", DemoToken, map[string]string{"stage": "nope"}, http.StatusNotFound},
		{"an unknown event", "/_ui/events/nope/redeliver", DemoToken, nil, http.StatusNotFound},
		{"not JSON", "/_ui/candidates/" + c.ID + "/move", DemoToken, "{", http.StatusBadRequest},
		{"an unknown control", "/_ui/whatever", DemoToken, nil, http.StatusNotFound},
	} {
		if r := ts.call(t, http.MethodPost, tc.path, tc.token, tc.body); r.status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.want)
		}
	}
}
