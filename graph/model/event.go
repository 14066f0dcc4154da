package model

import "time"

// CandidateEvent is one candidate event delivered to a subscription (events.Event as the
// schema shows it); its candidate is resolved from CandidateID when selected.
type CandidateEvent struct {
	ID           string
	Kind         CandidateEventKind
	CandidateID  string
	At           time.Time
	Stage        *string
	JobShortcode *string
	Source       CandidateEventSource
	// Err, when set, makes this the last event of its subscription: it
	// carries no data, only this error (a lagging subscriber's).
	Err error
}
