package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/workablegw/gateway/workable"
)

// Webhook subscriptions and deliveries (API.md §9). POST /subscriptions
// subscribes a target URL to candidate_created or candidate_moved (args
// narrow it to a job and a stage, "" meaning all); GET /subscriptions lists
// them; DELETE /subscriptions/:id ends one. A target URL can be subscribed
// once per account: a second subscription answers 409.
//
// Events happen "in Workable's UI": MoveCandidateInUI and
// CreateCandidateInUI change the account as a recruiter would and POST the
// event, signed, to every matching subscription, synchronously, returning
// what each target answered (Workable replays a delivery that was not
// answered 200; Redeliver replays an event with its id unchanged).
//
// simulator guess: changes made through the API (the hiring actions,
// creating a candidate) fire no deliveries here, so that a test decides
// when a delivery happens; a live account may well deliver them too.

// webhookEvents are the events a subscription may name (API.md §9).
func webhookEvents() []string {
	return []string{
		workable.EventCandidateCreated, workable.EventCandidateMoved,
		"employee_created", "employee_updated", "employee_published", "onboarding_completed", "timeoff_updated",
	}
}

// firstSubscriptionID is the first id given to a subscription. simulator
// guess: ids are integers (API.md §9, §10); the value follows the live
// recording's {"id":104697}.
const firstSubscriptionID = 104697

// subscriptionValidity is how long a subscription stays valid. simulator
// guess: the documented example's valid_until is a year after created_at.
const subscriptionValidity = 365 * 24 * time.Hour

// defaultDeliveryTimeout bounds one delivery when the simulator builds its
// own HTTP client.
const defaultDeliveryTimeout = 10 * time.Second

type subscriptionRec struct {
	id           int64
	target       string
	event        string
	jobShortcode string // "" for every job
	stageSlug    string // "" for every stage
	createdAt    time.Time
	// token is the token that subscribed: deliveries are signed with it
	// (API.md §9: "keyed with the account token").
	token string
}

type subscriptionJSON struct {
	ID           int64  `json:"id"`
	Target       string `json:"target"`
	Event        string `json:"event"`
	ValidUntil   string `json:"valid_until"`
	CreatedAt    string `json:"created_at"`
	StageSlug    string `json:"stage_slug"`
	JobShortcode string `json:"job_shortcode"`
}

func (sub *subscriptionRec) toJSON() subscriptionJSON {
	return subscriptionJSON{
		ID: sub.id, Target: sub.target, Event: sub.event,
		ValidUntil: formatTime(sub.createdAt.Add(subscriptionValidity)), CreatedAt: formatTime(sub.createdAt),
		StageSlug: sub.stageSlug, JobShortcode: sub.jobShortcode,
	}
}

// eventRec is an event fired, kept so that it can be delivered again with
// the same id and body.
type eventRec struct {
	id          string
	eventType   string
	body        []byte
	subscribers []int64
}

// webhookEnvelope is a delivery's body (API.md §9).
type webhookEnvelope struct {
	ID           string              `json:"id"`
	EventType    string              `json:"event_type"`
	FiredAt      string              `json:"fired_at"`
	ResourceType string              `json:"resource_type"`
	Data         candidateDetailJSON `json:"data"`
}

// Delivery is one POST of an event to a subscription's target.
type Delivery struct {
	SubscriptionID string
	Target         string
	EventID        string
	EventType      string
	// Body and Signature are what was sent (Signature is the
	// X-Workable-Signature header).
	Body      []byte
	Signature string
	// Status is the target's answer, 0 when none came (Err says why).
	Status int
	Err    error
}

// OK reports whether the target accepted the delivery: Workable counts
// only a 200 as success (API.md §9).
func (d Delivery) OK() bool { return d.Status == http.StatusOK }

// WithWebhookClient sets the HTTP client deliveries are POSTed with
// (default: a client with a 10 s timeout).
func WithWebhookClient(hc *http.Client) Option {
	return func(s *Simulator) { s.webhookClient = hc }
}

// createSubscription serves POST /subscriptions (API.md §9):
// {"target", "event", "args": {"account_id", "job_shortcode",
// "stage_slug"}}. Answer: {"id": <integer>}.
//
// simulator guess: 201 on success (the live recording kept only "2xx");
// a target must be an absolute http(s) URL, an unknown event or a missing
// target is 422 in the shape of the other validation errors; with args,
// an unknown job or stage is 422 too; a duplicate target answers 409
// {"error":"Conflict"} (the body is not documented).
func (s *Simulator) createSubscription(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	var body struct {
		Target *string `json:"target"`
		Event  *string `json:"event"`
		Args   *struct {
			AccountID    *string `json:"account_id"`
			JobShortcode *string `json:"job_shortcode"`
			StageSlug    *string `json:"stage_slug"`
		} `json:"args"`
	}
	if !decodeJSON(r, &body) {
		writeError(w, http.StatusBadRequest, msgMalformed)
		return
	}
	token, _, _ := s.authenticate(r)

	s.mu.Lock()
	defer s.mu.Unlock()
	errs := map[string][]string{}
	target := strings.TrimSpace(deref(body.Target))
	if target == "" {
		errs["target"] = []string{msgBlank}
	} else if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs["target"] = []string{"is invalid"}
	}
	event := strings.TrimSpace(deref(body.Event))
	switch {
	case event == "":
		errs["event"] = []string{msgBlank}
	case !slices.Contains(webhookEvents(), event):
		errs["event"] = []string{msgNotIncluded}
	}
	var job, stage string
	if body.Args != nil {
		// API.md §9: with args, job_shortcode and stage_slug are required
		// ("" for all).
		if body.Args.JobShortcode == nil {
			errs["args.job_shortcode"] = []string{msgBlank}
		} else if job = strings.TrimSpace(*body.Args.JobShortcode); job != "" && s.jobByShortcode(job) == nil {
			errs["args.job_shortcode"] = []string{msgNotJob}
		}
		if body.Args.StageSlug == nil {
			errs["args.stage_slug"] = []string{msgBlank}
		} else if stage = strings.TrimSpace(*body.Args.StageSlug); stage != "" && s.stageBySlug(stage) == nil {
			errs["args.stage_slug"] = []string{msgNotStage}
		}
	}
	if len(errs) > 0 {
		writeValidation(w, msgValidation, errs)
		return
	}
	for _, sub := range s.subscriptions {
		if sub.target == target {
			writeError(w, http.StatusConflict, "Conflict")
			return
		}
	}
	if s.nextSubID == 0 {
		s.nextSubID = firstSubscriptionID
	}
	sub := &subscriptionRec{
		id: s.nextSubID, target: target, event: event, jobShortcode: job, stageSlug: stage,
		createdAt: s.nowUTC(), token: token,
	}
	s.nextSubID++
	s.subscriptions = append(s.subscriptions, sub)
	writeJSON(w, http.StatusCreated, map[string]int64{"id": sub.id})
}

// listSubscriptions serves GET /subscriptions (API.md §9), oldest first,
// without paging (simulator guess: the reference shows no paging).
func (s *Simulator) listSubscriptions(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]subscriptionJSON, 0, len(s.subscriptions))
	for _, sub := range s.subscriptions {
		out = append(out, sub.toJSON())
	}
	writeJSON(w, http.StatusOK, map[string]any{"subscriptions": out})
}

// deleteSubscription serves DELETE /subscriptions/:id (API.md §9): 200 {},
// or 404 for an unknown id.
func (s *Simulator) deleteSubscription(w http.ResponseWriter, _ *http.Request, p map[string]string) {
	id, err := strconv.ParseInt(p["id"], 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.subscriptions, func(sub *subscriptionRec) bool { return err == nil && sub.id == id })
	if i < 0 {
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	s.subscriptions = slices.Delete(s.subscriptions, i, i+1)
	writeJSON(w, http.StatusOK, struct{}{})
}

// Subscriptions returns the subscriptions, oldest first, as GET
// /subscriptions lists them.
func (s *Simulator) Subscriptions() []workable.Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]workable.Subscription, 0, len(s.subscriptions))
	for _, sub := range s.subscriptions {
		var ws workable.Subscription
		mustRoundTrip(sub.toJSON(), &ws)
		out = append(out, ws)
	}
	return out
}

// ErrNoSuchRecord is returned by the UI controls for an unknown candidate,
// job, stage or event.
var ErrNoSuchRecord = errors.New("simulator: no such record")

// MoveCandidateInUI moves the candidate id to the stage with stageSlug as
// the account's first admin would in Workable's UI: the candidate enters
// the stage, its stream gets the move, and candidate_moved is delivered to
// every matching subscription. It returns the deliveries made.
func (s *Simulator) MoveCandidateInUI(ctx context.Context, id, stageSlug string) ([]Delivery, error) {
	s.mu.Lock()
	c := s.candidateByID(id)
	target := s.stageBySlug(stageSlug)
	if c == nil || target == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("move %s to %q: %w", id, stageSlug, ErrNoSuchRecord)
	}
	if target != c.stage {
		s.appendActivity(c, &activityRec{action: target.slug, actionStage: c.stage, targetStage: target, member: s.memberByID(DemoMemberID)})
		s.enterStage(c, target)
	}
	ev := s.fire(workable.EventCandidateMoved, c)
	s.mu.Unlock()
	return s.deliver(ctx, ev), nil
}

// UICandidate is a candidate added by hand in Workable's UI.
type UICandidate struct {
	Firstname, Lastname, Email string
	// StageSlug is the stage it lands in; "" for applied.
	StageSlug string
}

// CreateCandidateInUI adds a candidate to the job with shortcode as a
// recruiter would in Workable's UI and delivers candidate_created to every
// matching subscription. It returns the new candidate's id and the
// deliveries made.
//
// simulator guess: a candidate added in the UI is not sourced and has no
// outlet.
func (s *Simulator) CreateCandidateInUI(ctx context.Context, shortcode string, in UICandidate) (string, []Delivery, error) {
	s.mu.Lock()
	job := s.jobByShortcode(shortcode)
	slug := in.StageSlug
	if slug == "" {
		slug = "applied"
	}
	stage := s.stageBySlug(slug)
	if job == nil || stage == nil {
		s.mu.Unlock()
		return "", nil, fmt.Errorf("create a candidate in %s at %q: %w", shortcode, slug, ErrNoSuchRecord)
	}
	now := s.nowUTC()
	email := in.Email
	c := &candidateRec{
		id: newID(&s.nextCandID), job: job, name: strings.TrimSpace(in.Firstname + " " + in.Lastname),
		firstname: nullable(in.Firstname), lastname: nullable(in.Lastname), email: &email,
		stage: stage, createdAt: now, updatedAt: now,
	}
	c.outbound = hexID(c.id) + "@outbound.workable.mailgun.org"
	c.activities = []*activityRec{{id: newID(&s.nextActID), action: "applied", actionStage: stage, createdAt: now}}
	s.candidates = append(s.candidates, c)
	ev := s.fire(workable.EventCandidateCreated, c)
	s.mu.Unlock()
	return hexID(c.id), s.deliver(ctx, ev), nil
}

// Redeliver delivers the event with eventID again, with the same id and
// body, to those of its subscriptions that still exist, as Workable
// replays a delivery.
func (s *Simulator) Redeliver(ctx context.Context, eventID string) ([]Delivery, error) {
	s.mu.Lock()
	ev, ok := s.events[eventID]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("redeliver %s: %w", eventID, ErrNoSuchRecord)
	}
	return s.deliver(ctx, ev), nil
}

// fire records an event about c for the subscriptions it matches. The
// caller holds s.mu.
func (s *Simulator) fire(eventType string, c *candidateRec) *eventRec {
	if s.events == nil {
		s.events = make(map[string]*eventRec)
	}
	s.nextEventID++
	// simulator guess: event ids are not documented; these are hex like
	// the other ids.
	id := "e" + hexID(s.nextEventID)
	env := webhookEnvelope{
		ID: id, EventType: eventType, FiredAt: formatTime(s.nowUTC()),
		ResourceType: "candidate", Data: s.candidateDetailJSON(c),
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		panic(fmt.Sprintf("simulator: encode a webhook event: %v", err)) // plain data: unreachable
	}
	ev := &eventRec{id: id, eventType: eventType, body: buf.Bytes()}
	for _, sub := range s.subscriptions {
		if sub.event != eventType {
			continue
		}
		if sub.jobShortcode != "" && sub.jobShortcode != c.job.shortcode {
			continue
		}
		if sub.stageSlug != "" && sub.stageSlug != c.stage.slug {
			continue
		}
		ev.subscribers = append(ev.subscribers, sub.id)
	}
	s.events[id] = ev
	return ev
}

// deliver POSTs ev to each of its subscriptions that still exists, one
// after the other, signed with the token that subscribed.
func (s *Simulator) deliver(ctx context.Context, ev *eventRec) []Delivery {
	s.mu.Lock()
	var subs []subscriptionRec
	for _, id := range ev.subscribers {
		if i := slices.IndexFunc(s.subscriptions, func(sub *subscriptionRec) bool { return sub.id == id }); i >= 0 {
			subs = append(subs, *s.subscriptions[i])
		}
	}
	hc := s.webhookClient
	s.mu.Unlock()
	if hc == nil {
		hc = &http.Client{Timeout: defaultDeliveryTimeout}
	}
	out := make([]Delivery, 0, len(subs))
	for _, sub := range subs {
		d := Delivery{
			SubscriptionID: strconv.FormatInt(sub.id, 10), Target: sub.target, EventID: ev.id, EventType: ev.eventType,
			Body: ev.body, Signature: workable.Sign(sub.token, ev.body),
		}
		d.Status, d.Err = post(ctx, hc, sub.target, d.Body, d.Signature)
		out = append(out, d)
	}
	return out
}

func post(ctx context.Context, hc *http.Client, target string, body []byte, signature string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("deliver to %s: %w", target, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(workable.SignatureHeader, signature)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("deliver to %s: %w", target, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, nil
}
