package workable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Webhook subscriptions (API.md §9, "Webhooks / subscriptions"): Workable
// POSTs an event to a subscription's target URL each time the event
// happens. The candidate events are candidate_created and candidate_moved;
// a target URL may be subscribed once per account (a second subscription
// to the same target answers 409 Conflict, matching ErrConflict).

// Candidate webhook events (API.md §9).
const (
	EventCandidateCreated = "candidate_created"
	EventCandidateMoved   = "candidate_moved"
)

// NewSubscription is the body of POST /subscriptions (API.md §9).
type NewSubscription struct {
	// Target is the URL Workable POSTs the events to; unique per account.
	Target string `json:"target"`
	// Event is the event type, e.g. EventCandidateMoved.
	Event string `json:"event"`
	// Args narrows a candidate event to one job and stage; nil subscribes
	// to the event for every job and stage.
	Args *SubscriptionArgs `json:"args,omitempty"`
}

// SubscriptionArgs narrows a candidate event subscription (API.md §9): when
// args are sent, job_shortcode and stage_slug are required, "" meaning all.
type SubscriptionArgs struct {
	// AccountID is the account's subdomain.
	AccountID    string `json:"account_id,omitempty"`
	JobShortcode string `json:"job_shortcode"`
	StageSlug    string `json:"stage_slug"`
}

// Subscription is an item of GET /subscriptions (API.md §9). Its id is an
// integer in Workable's answers; it is kept as a string here.
type Subscription struct {
	ID           FlexID     `json:"id"`
	Target       string     `json:"target"`
	Event        string     `json:"event,omitempty"`
	JobShortcode *string    `json:"job_shortcode,omitempty"`
	StageSlug    *string    `json:"stage_slug,omitempty"`
	ValidUntil   *time.Time `json:"valid_until,omitempty"`
	CreatedAt    *time.Time `json:"created_at,omitempty"`
}

// Create subscribes a target URL to an event (API.md §9, POST
// /subscriptions) and returns the subscription's id (Workable answers
// {"id": 104697}, an integer, §10). A target already subscribed matches
// ErrConflict.
func (s *SubscriptionsService) Create(ctx context.Context, sub NewSubscription) (_ string, _ *Response, err error) {
	if sub.Target == "" || sub.Event == "" {
		return "", nil, fmt.Errorf("create subscription: target and event are required")
	}
	defer wrapError(&err, "create subscription to", sub.Event)
	var out struct {
		ID FlexID `json:"id"`
	}
	resp, err := s.client.send(ctx, http.MethodPost, "POST /subscriptions", s.client.endpoint("subscriptions"), sub, &out)
	if err != nil {
		return "", resp, err
	}
	if out.ID == "" {
		return "", resp, errors.New("the answer names no id")
	}
	return string(out.ID), resp, nil
}

// List lists the account's subscriptions (API.md §9, GET /subscriptions).
func (s *SubscriptionsService) List(ctx context.Context) (_ []*Subscription, _ *Response, err error) {
	defer wrapError(&err, "list subscriptions", "")
	return list[*Subscription](ctx, s.client, "GET /subscriptions", s.client.endpoint("subscriptions"), "subscriptions")
}

// Delete ends a subscription (API.md §9, DELETE /subscriptions/:id; Workable
// answers {}). An unknown id matches ErrNotFound.
func (s *SubscriptionsService) Delete(ctx context.Context, id string) (_ *Response, err error) {
	if err := pathParam("subscription id", id); err != nil {
		return nil, fmt.Errorf("delete subscription: %w", err)
	}
	defer wrapError(&err, "delete subscription", id)
	resp, err := s.client.send(ctx, http.MethodDelete, "DELETE /subscriptions/{id}", s.client.endpoint("subscriptions", id), nil, nil)
	if err != nil {
		return resp, err
	}
	// The answer ({}) says nothing more; do has already bounded it.
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp, nil
}
