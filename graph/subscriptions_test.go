package graph

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/guard"
	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/workable/simulator"
)

// Tests of Subscription.candidateEvents over GraphQL over SSE against the
// real handler and the simulator: events of the gateway's own actions, the
// filters, idempotent replays, a lagging subscriber, the per-client bound.

const eventsSubscription = `subscription($job: String, $stage: String) {
	candidateEvents(jobShortcode: $job, stage: $stage) { id kind at stage jobShortcode source candidate { id stage job { shortcode } } } }`

// eventView is a CandidateEvent as the tests read it.
type eventView struct {
	ID, Kind, At, Source string
	Stage, JobShortcode  *string
	Candidate            *struct {
		ID, Stage string
		Job       struct{ Shortcode string }
	}
}

// watchedBus is an in-process bus that says when a subscription is in
// place, so that a test publishes only once the subscriber listens.
type watchedBus struct {
	*events.Local
	subscribed chan string
}

func newWatchedBus(opts ...events.Option) *watchedBus {
	return &watchedBus{Local: events.NewLocal(opts...), subscribed: make(chan string, 16)}
}

func (b *watchedBus) Subscribe(ctx context.Context, credential string) (*events.Subscription, error) {
	s, err := b.Local.Subscribe(ctx, credential)
	if err == nil {
		b.subscribed <- credential
	}
	return s, err
}

// waitSubscribed waits until the bus has one more subscription.
func (b *watchedBus) waitSubscribed(t *testing.T) string {
	t.Helper()
	select {
	case c := <-b.subscribed:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no subscription within 10 s")
		return ""
	}
}

// withEvents makes the gateway use bus (Config.Events) and cfg's
// subscription bound.
func withEvents(bus events.Bus, perClient int) envOption {
	return withHandler(func(c Config) http.Handler {
		c.Events, c.SubscriptionsPerClient = bus, perClient
		return NewHandler(c)
	})
}

// sseStream is one GraphQL over SSE subscription (distinct connections
// mode, as graphql-sse's client speaks it).
type sseStream struct {
	t      *testing.T
	cancel context.CancelFunc
	msgs   chan sseMessage
}

// sseMessage is one event of the stream: "next" with its payload, or
// "complete".
type sseMessage struct {
	event string
	data  gqlResponse
}

// subscribeSSE POSTs a subscription with Accept: text/event-stream and reads
// its events until the test ends.
func (e *testEnv) subscribeSSE(q string, v vars, header ...string) *sseStream {
	e.t.Helper()
	body, err := json.Marshal(map[string]any{"query": q, "variables": v})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+"/query", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("POST /query (SSE): %v", err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		resp.Body.Close()
		e.t.Fatalf("SSE subscription answered %d %s", resp.StatusCode, ct)
	}
	s := &sseStream{t: e.t, cancel: cancel, msgs: make(chan sseMessage, 64)}
	go func() {
		defer resp.Body.Close()
		defer close(s.msgs)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var event, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			case line == "" && event != "":
				m := sseMessage{event: event}
				if data != "" {
					m.data.Raw = data
					_ = json.Unmarshal([]byte(data), &m.data)
				}
				s.msgs <- m
				event, data = "", ""
			}
		}
	}()
	return s
}

// next returns the stream's next message; it fails the test when the
// stream ends or nothing comes within a generous bound (a hang).
func (s *sseStream) next() sseMessage {
	s.t.Helper()
	select {
	case m, ok := <-s.msgs:
		if !ok {
			s.t.Fatal("the SSE stream ended")
		}
		return m
	case <-time.After(10 * time.Second):
		s.t.Fatal("no SSE event within 10 s")
	}
	return sseMessage{}
}

// nextEvent returns the data of the next "next" message as an event.
func (s *sseStream) nextEvent() eventView {
	s.t.Helper()
	m := s.next()
	if m.event != "next" || len(m.data.Errors) > 0 {
		s.t.Fatalf("want an event, got %s %s", m.event, m.data.Raw)
	}
	var out struct{ CandidateEvents eventView }
	if err := json.Unmarshal(m.data.Data, &out); err != nil {
		s.t.Fatalf("decode %s: %v", m.data.Data, err)
	}
	return out.CandidateEvents
}

// marker publishes an event that the tests' filters let through, so that
// whatever was published before it has arrived when it arrives.
func marker(t *testing.T, bus events.Publisher, id, job, stage string) {
	t.Helper()
	err := bus.Publish(t.Context(), events.Event{ID: id, Credential: credentials.DefaultNickname, Kind: events.CandidateMoved,
		CandidateID: "marker", JobShortcode: job, Stage: stage, At: time.Now(), Source: events.SourceWebhook})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSubscriptionReceivesTheGatewaysOwnMoves: a hiring action that
// succeeds publishes a MOVED event, with the candidate read afresh after the
// move; a replay of it with the same idempotency key publishes nothing.
func TestSubscriptionReceivesTheGatewaysOwnMoves(t *testing.T) {
	t.Parallel()
	bus := newWatchedBus()
	env := newTestEnv(t, withMemberID(actorID), withEvents(bus, 0))
	c := pickActionCandidate(t, env.sim, qualifiedIn("Applied"))
	job := c.Job.Shortcode
	// The candidate is read (and cached) before the move: the event must
	// still show it after.
	env.readCandidate(c.ID)
	s := env.subscribeSSE(eventsSubscription, vars{"job": job})
	if cred := bus.waitSubscribed(t); cred != credentials.DefaultNickname {
		t.Errorf("subscribed to credential %q, want the default", cred)
	}

	in := map[string]any{"id": c.ID, "toStage": "interview", "idempotencyKey": "sub-move-1"}
	if p := env.runAction(moveMutation, in); len(p.UserErrors) > 0 {
		t.Fatalf("move: %+v", p.UserErrors)
	}
	ev := s.nextEvent()
	if ev.Kind != "MOVED" || ev.Source != "GATEWAY" || ev.Candidate == nil || ev.Candidate.ID != c.ID ||
		ev.Candidate.Stage != "Interview" || ev.Candidate.Job.Shortcode != job ||
		ev.JobShortcode == nil || *ev.JobShortcode != job || ev.Stage == nil || *ev.Stage != "Interview" ||
		!strings.HasPrefix(ev.ID, "gateway-") || ev.At == "" {
		t.Errorf("event after the move = %+v (candidate %+v)", ev, ev.Candidate)
	}

	// The same request again is a replay: no second event.
	env.runAction(moveMutation, in)
	marker(t, bus, "m1", job, "anything")
	if got := s.nextEvent(); got.ID != "m1" {
		t.Errorf("after a replayed move: event %s, want the marker (no second event)", got.ID)
	}
	if n := env.sim.RequestCount("POST /candidates/{id}/move"); n != 1 {
		t.Errorf("the move was sent %d times", n)
	}

	// An action that changes no stage (a comment) publishes nothing.
	env.runAction(commentMutation, map[string]any{"id": c.ID, "body": "seen"})
	marker(t, bus, "m2", job, "anything")
	if got := s.nextEvent(); got.ID != "m2" {
		t.Errorf("after a comment: event %s, want the marker", got.ID)
	}
}

// TestGatewayMoveIsNotPublishedAgain: the webhook receiver and the
// refresher announce a change through events.OncePerChange, keyed by the
// candidate's updated_at in the idempotency store they share with the
// gateway; after a move made through the gateway, their sighting of the
// same change reaches no subscriber.
func TestGatewayMoveIsNotPublishedAgain(t *testing.T) {
	t.Parallel()
	bus := newWatchedBus()
	store := idempotency.NewMemoryStore()
	env := newTestEnv(t, withMemberID(actorID), withHandler(func(c Config) http.Handler {
		c.Events, c.Idempotency = bus, store
		return NewHandler(c)
	}))
	c := pickActionCandidate(t, env.sim, qualifiedIn("Applied"))
	job := c.Job.Shortcode
	s := env.subscribeSSE(eventsSubscription, vars{"job": job})
	bus.waitSubscribed(t)

	in := map[string]any{"id": c.ID, "toStage": "interview", "idempotencyKey": "once-move-1"}
	if p := env.runAction(moveMutation, in); len(p.UserErrors) > 0 {
		t.Fatalf("move: %+v", p.UserErrors)
	}
	if ev := s.nextEvent(); ev.Source != "GATEWAY" || ev.Candidate == nil || ev.Candidate.ID != c.ID {
		t.Fatalf("event after the move = %+v", ev)
	}

	// What Workable answers for the candidate now is what a webhook or the
	// refresher would carry.
	after, ok := env.sim.Candidate(c.ID)
	if !ok || after.UpdatedAt == nil {
		t.Fatalf("the simulator has no updated_at for %s after the move", c.ID)
	}
	sighting := events.Event{ID: "webhook-1", Credential: credentials.DefaultNickname, Kind: events.CandidateMoved,
		CandidateID: c.ID, JobShortcode: job, Stage: "Interview", Source: events.SourceWebhook}
	published, err := events.NewOncePerChange(bus, store, 0).Publish(context.Background(), sighting, *after.UpdatedAt)
	if err != nil || published {
		t.Errorf("a webhook's sighting of the gateway's own move: published %v, err %v; want it dropped", published, err)
	}
	marker(t, bus, "m1", job, "anything")
	if got := s.nextEvent(); got.ID != "m1" {
		t.Errorf("after the sighting: event %s, want the marker (no second event)", got.ID)
	}
}

// TestSubscriptionReceivesCreatedCandidates: createCandidate publishes
// CREATED once, also with an idempotency key repeated.
func TestSubscriptionReceivesCreatedCandidates(t *testing.T) {
	t.Parallel()
	bus := newWatchedBus()
	env := newTestEnv(t, withEvents(bus, 0))
	job := env.sim.Jobs()[0].Shortcode
	s := env.subscribeSSE(eventsSubscription, nil)
	bus.waitSubscribed(t)
	const create = `mutation($in: CreateCandidateInput!) { createCandidate(input: $in) { candidate { id } userErrors { message } } }`
	in := vars{"in": map[string]any{"jobShortcode": job, "firstName": "Ada", "lastName": "Events", "email": "ada.events@example.com", "idempotencyKey": "create-ev-1"}}
	var out struct {
		CreateCandidate struct {
			Candidate  *struct{ ID string }
			UserErrors []struct{ Message string }
		}
	}
	env.mustQuery(create, in, &out)
	if out.CreateCandidate.Candidate == nil {
		t.Fatalf("create: %+v", out.CreateCandidate.UserErrors)
	}
	ev := s.nextEvent()
	if ev.Kind != "CREATED" || ev.Candidate == nil || ev.Candidate.ID != out.CreateCandidate.Candidate.ID ||
		ev.JobShortcode == nil || *ev.JobShortcode != job {
		t.Errorf("event after createCandidate = %+v", ev)
	}
	env.mustQuery(create, in, nil) // a replay
	marker(t, bus, "m1", job, "x")
	if got := s.nextEvent(); got.ID != "m1" {
		t.Errorf("after a replayed createCandidate: event %s, want the marker", got.ID)
	}
}

// TestSubscriptionFilters: only the events of the job and stage asked for;
// a stage compares by name or slug, case aside.
func TestSubscriptionFilters(t *testing.T) {
	t.Parallel()
	bus := newWatchedBus()
	env := newTestEnv(t, withEvents(bus, 0))
	s := env.subscribeSSE(eventsSubscription, vars{"job": "AAA111", "stage": "phone-screen"})
	bus.waitSubscribed(t)
	for _, e := range []struct{ id, job, stage string }{
		{"other-job", "BBB222", "Phone Screen"},
		{"other-stage", "AAA111", "Interview"},
		{"by-name", "AAA111", "Phone Screen"},
		{"by-slug", "AAA111", "phone-screen"},
	} {
		marker(t, bus, e.id, e.job, e.stage)
	}
	for _, want := range []string{"by-name", "by-slug"} {
		if got := s.nextEvent(); got.ID != want {
			t.Errorf("event %s, want %s", got.ID, want)
		}
	}
	// Another credential's events never arrive.
	if err := bus.Publish(t.Context(), events.Event{ID: "other-cred", Credential: "other", Kind: events.CandidateMoved,
		CandidateID: "x", JobShortcode: "AAA111", Stage: "phone-screen", Source: events.SourceWebhook}); err != nil {
		t.Fatal(err)
	}
	marker(t, bus, "last", "AAA111", "phone-screen")
	if got := s.nextEvent(); got.ID != "last" {
		t.Errorf("event %s, want last (nothing of another credential)", got.ID)
	}
}

// TestSubscriptionRefusesBadFilters: a malformed filter is BAD_USER_INPUT,
// before anything subscribes.
func TestSubscriptionRefusesBadFilters(t *testing.T) {
	t.Parallel()
	bus := newWatchedBus()
	env := newTestEnv(t, withEvents(bus, 0))
	for name, v := range map[string]vars{
		"job with a slash":   {"job": "../x"},
		"empty stage":        {"stage": " "},
		"stage of two lines": {"stage": "a\nb"},
		"long stage":         {"stage": strings.Repeat("s", maxStageFilterLen+1)},
	} {
		t.Run(name, func(t *testing.T) {
			s := env.subscribeSSE(eventsSubscription, v)
			m := s.next()
			if m.event != "next" {
				t.Fatalf("got %s, want next with the error", m.event)
			}
			m.data.requireCode(t, CodeBadUserInput)
		})
	}
	if n := bus.Subscribers(credentials.DefaultNickname); n != 0 {
		t.Errorf("%d subscriptions after refused filters", n)
	}
}

// TestSubscriptionsPerClient: one more live subscription than the bound is
// refused with TOO_MANY_SUBSCRIPTIONS; ending one makes room.
func TestSubscriptionsPerClient(t *testing.T) {
	t.Parallel()
	bus := newWatchedBus()
	env := newTestEnv(t, withEvents(bus, 2))
	first := env.subscribeSSE(eventsSubscription, nil)
	bus.waitSubscribed(t)
	env.subscribeSSE(eventsSubscription, nil)
	bus.waitSubscribed(t)
	m := env.subscribeSSE(eventsSubscription, nil).next()
	m.data.requireCode(t, CodeTooManySubscriptions)

	first.cancel()
	// The server notices the end of the first stream on its own time; a
	// new subscription is admitted once it has.
	for {
		s := env.subscribeSSE(eventsSubscription, nil)
		select {
		case <-bus.subscribed:
			return
		case m, ok := <-s.msgs:
			if !ok || m.event != "next" || len(m.data.Errors) != 1 || m.data.Errors[0].Code() != CodeTooManySubscriptions {
				t.Fatalf("after ending one: %s %s", m.event, m.data.Raw)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no answer within 10 s")
		}
	}
}

// TestSubscriptionLagged: a subscriber that does not take its events is
// ended; its last event carries SUBSCRIPTION_LAGGED and no data, after the
// events it had.
func TestSubscriptionLagged(t *testing.T) {
	t.Parallel()
	bus := newWatchedBus(events.WithBuffer(1))
	env := newTestEnv(t, withEvents(bus, 0))
	r, ctx := env.resolver()
	r.events, r.subLimit = bus, guard.NewClientSlots(DefaultSubscriptionsPerClient)
	ctx = access.WithPrincipal(ctx, access.Principal{ID: "client-1"})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out, err := r.candidateEvents(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	bus.waitSubscribed(t)
	// Nobody reads out: the subscription's goroutine holds at most one
	// event, the buffer one more, so the third overflows.
	for _, id := range []string{"e1", "e2", "e3"} {
		marker(t, bus, id, "J", "s")
	}
	var got []string
	var last *model.CandidateEvent
	for m := range out {
		last = m
		if m.Err == nil {
			got = append(got, m.ID)
		}
	}
	// e2 arrives too when the goroutine took e1 before e2 was published.
	if g := strings.Join(got, ","); (g != "e1" && g != "e1,e2") || last == nil || !errors.Is(last.Err, events.ErrLagged) {
		t.Fatalf("events %v, last %+v; want e1 (and e2), then the lag", got, last)
	}
	_, err = r.candidateEventID(ctx, last)
	var gerr *gqlerror.Error
	if !errors.As(err, &gerr) || gerr.Extensions["code"] != CodeSubscriptionLagged {
		t.Errorf("the lag's error = %v, want code %s", err, CodeSubscriptionLagged)
	}
	if n := bus.Subscribers(credentials.DefaultNickname); n != 0 {
		t.Errorf("%d subscriptions left after the lag", n)
	}
}

// TestSubscriptionHeartbeatOverSSE: an idle SSE subscription carries
// heartbeat comments, and the heartbeats stop with the stream.
func TestSubscriptionHeartbeatOverSSE(t *testing.T) {
	t.Parallel()
	bus := newWatchedBus()
	env := newTestEnv(t, withHandler(func(c Config) http.Handler {
		c.Events, c.SubscriptionHeartbeat = bus, time.Millisecond
		return NewHandler(c)
	}))
	body, _ := json.Marshal(map[string]any{"query": eventsSubscription})
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.srv.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	seen := false
	for !seen && sc.Scan() {
		seen = sc.Text() == ": ping"
	}
	if !seen {
		t.Fatalf("the stream ended without a heartbeat: %v", sc.Err())
	}
	cancel()
	// The subscription ends on the server (and its heartbeats with it).
	for bus.Live() > 0 {
		runtime.Gosched()
	}
}

// TestSubscriptionFollowsTheRequestsCredential: a subscription listens to
// the events of the credential its request names (X-Workable-Credential),
// and reads their candidates with it.
func TestSubscriptionFollowsTheRequestsCredential(t *testing.T) {
	t.Parallel()
	bus := newWatchedBus()
	env := newTestEnv(t, withEvents(bus, 0))
	const add = `mutation($in: AddWorkableCredentialInput!) { addWorkableCredential(input: $in) { userErrors { code } } }`
	env.mustQuery(add, vars{"in": map[string]any{"nickname": "second", "subdomain": simulator.DemoSubdomain, "apiToken": simulator.DemoToken}}, nil)
	s := env.subscribeSSE(eventsSubscription, nil, credentials.Header, "second")
	if cred := bus.waitSubscribed(t); cred != "second" {
		t.Fatalf("subscribed to credential %q, want second", cred)
	}
	c := env.sim.Candidates()[0]
	marker(t, bus, "of-default", c.Job.Shortcode, "x")
	if err := bus.Publish(t.Context(), events.Event{ID: "of-second", Credential: "second", Kind: events.CandidateMoved,
		CandidateID: c.ID, JobShortcode: c.Job.Shortcode, Stage: "x", Source: events.SourceWebhook}); err != nil {
		t.Fatal(err)
	}
	ev := s.nextEvent()
	if ev.ID != "of-second" || ev.Candidate == nil || ev.Candidate.ID != c.ID {
		t.Errorf("event %+v (candidate %+v), want of-second with its candidate", ev, ev.Candidate)
	}
	// An unknown credential is refused before the stream starts, as for any request.
	body, _ := json.Marshal(map[string]any{"query": eventsSubscription})
	req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set(credentials.Header, "nope")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := env.decode(resp); got.Status != http.StatusBadRequest || len(got.Errors) != 1 || got.Errors[0].Code() != credentials.CodeUnknown {
		t.Errorf("an unknown credential: %d %s", got.Status, got.Raw)
	}
}
