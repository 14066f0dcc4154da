// Package events carries candidate events (a candidate created or moved) from where the gateway
// learns of them (Workable's webhooks, the background refresher, the gateway's own hiring actions)
// to where they are wanted (GraphQL subscriptions), across every replica of the deployment.
package events

import (
	"context"
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

// Publisher sends an event to every subscriber on every replica.
type Publisher interface {
	Publish(ctx context.Context, e Event) error
}

// Subscriber receives the events of one credential until ctx ends or the returned cancel is
// called. The channel is closed when the subscription ends.
type Subscriber interface {
	Subscribe(ctx context.Context, credential string) (<-chan Event, func(), error)
}

// Bus is both.
type Bus interface {
	Publisher
	Subscriber
}
