// Package events carries candidate events (a candidate created or moved) from where the gateway
// learns of them (Workable's webhooks, the background refresher, the gateway's own hiring actions)
// to where they are wanted (GraphQL subscriptions), across every replica of the deployment.
//
// Two buses implement Bus: Local, within one process (a gateway without Redis), and Redis, which
// fans every event out to the subscribers of every replica through Redis pub/sub. Delivery is at
// most once and best effort, like the webhooks it carries: an event published while Redis is
// unreachable, or while a subscriber is disconnected, is not replayed.
package events

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Kind names what happened to a candidate. The values are Workable's webhook event types.
type Kind string

const (
	// CandidateCreated: a candidate was added to a job.
	CandidateCreated Kind = "candidate_created"
	// CandidateMoved: a candidate changed stage (including disqualified, reverted, hired).
	CandidateMoved Kind = "candidate_moved"
)

// The values of Event.Source.
const (
	SourceWebhook   = "webhook"
	SourceRefresher = "refresher"
	SourceGateway   = "gateway"
)

// Event is one thing that happened to a candidate, for one credential (Workable account).
type Event struct {
	// ID identifies the event: Workable's delivery id for webhooks, a derived id otherwise.
	// Receivers use it to drop duplicates (Workable replays deliveries).
	ID string `json:"id"`
	// Credential is the nickname of the credential (Workable account) the event belongs to.
	Credential string `json:"credential"`
	Kind       Kind   `json:"kind"`
	// CandidateID is Workable's candidate id.
	CandidateID string `json:"candidateId"`
	// JobShortcode is the job the candidate applied to, when known.
	JobShortcode string `json:"jobShortcode,omitempty"`
	// Stage is the candidate's stage after the event (a slug or a name as Workable sent it).
	Stage string `json:"stage,omitempty"`
	// At is when the event happened (Workable's fired_at, or the observation time).
	At time.Time `json:"at"`
	// Source says how the gateway learned of it: "webhook", "refresher" or "gateway".
	Source string `json:"source"`
}

// Publisher sends an event to every subscriber on every replica. It never waits for a
// subscriber: one that does not keep up is dropped (see ErrLagged).
type Publisher interface {
	Publish(ctx context.Context, e Event) error
}

// Subscriber receives the events of one credential. The subscription ends when ctx ends, when
// it is closed, when the bus closes, or when the subscriber falls behind; its channel is then
// closed and Err says why.
type Subscriber interface {
	Subscribe(ctx context.Context, credential string) (*Subscription, error)
}

// Bus is both.
type Bus interface {
	Publisher
	Subscriber
}

// Why a subscription ended, as Subscription.Err reports it.
var (
	// ErrLagged: the subscriber did not take its events as fast as they came, and its buffer
	// filled up. It is dropped rather than let it hold up the publishers or the other
	// subscribers; it has missed events and should subscribe again (and re-read the state it
	// shows).
	ErrLagged = errors.New("events: the subscriber fell behind and missed events")
	// ErrClosed: the bus was closed (the gateway is shutting down).
	ErrClosed = errors.New("events: the bus is closed")
)

// Filter keeps the events of one job and/or one stage; a zero field keeps
// any.
type Filter struct {
	Job string
	// Stage is a stage's name ("Phone Screen", as webhooks send it) or slug
	// ("phone-screen", as hiring actions take it); see SameStage.
	Stage string
}

// Matches reports whether f keeps e.
func (f Filter) Matches(e Event) bool {
	if f.Job != "" && e.JobShortcode != f.Job {
		return false
	}
	return f.Stage == "" || SameStage(e.Stage, f.Stage)
}

// SameStage reports whether a and b name the same stage, each written as
// a name or as a slug: case aside, and spaces and underscores as hyphens.
func SameStage(a, b string) bool { return stageKey(a) == stageKey(b) }

func stageKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '_' {
			return '-'
		}
		return r
	}, s)
}
