package workable

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SignatureHeader carries a webhook delivery's signature (API.md §9): the
// lower-case hex HMAC-SHA256 of the raw request body, keyed with the
// account token that subscribed.
const SignatureHeader = "X-Workable-Signature"

// Sign returns the signature Workable puts on a delivery of body for an
// account token: lower-case hex of HMAC-SHA256(token, body) (API.md §9).
func Sign(token string, body []byte) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifySignature reports whether signature is the signature of body for
// token. The comparison takes the same time wherever the first difference
// is, so that a caller cannot find a valid signature byte by byte. An
// empty or non-hex signature is never valid.
func VerifySignature(token string, body []byte, signature string) bool {
	if token == "" {
		return false
	}
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	m := hmac.New(sha256.New, []byte(token))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// WebhookEvent is the body of a webhook delivery (API.md §9):
// {"id", "event_type", "fired_at", "resource_type", "data"}, where data is
// the candidate as the candidate detail endpoint shows it, at the time the
// event was sent (so it may already be older than Workable's state).
type WebhookEvent struct {
	// ID identifies the event; a replayed delivery carries the same id.
	ID FlexID `json:"id"`
	// EventType is e.g. EventCandidateMoved.
	EventType string `json:"event_type"`
	// FiredAt is when Workable sent the event; zero when absent.
	FiredAt time.Time `json:"fired_at"`
	// ResourceType is "candidate" for candidate events (the value is
	// inferred in API.md §9, so it is not checked).
	ResourceType string `json:"resource_type"`
	// Data is the candidate.
	Data *Candidate `json:"data"`
}

// MaxEventIDLen bounds a webhook event's id. Workable's ids are short; a
// longer one is refused rather than remembered.
const MaxEventIDLen = 128

// ErrMalformedEvent is matched by every error of ParseWebhookEvent.
var ErrMalformedEvent = errors.New("workable: malformed webhook event")

// ParseWebhookEvent decodes a delivery's body. It fails (matching
// ErrMalformedEvent) unless the body is a JSON object with an id, an
// event_type and, for candidate events, a candidate with a valid id.
func ParseWebhookEvent(body []byte) (*WebhookEvent, error) {
	var e WebhookEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	switch {
	case e.ID == "":
		return nil, fmt.Errorf("%w: no id", ErrMalformedEvent)
	case len(e.ID) > MaxEventIDLen:
		return nil, fmt.Errorf("%w: id longer than %d bytes", ErrMalformedEvent, MaxEventIDLen)
	case e.EventType == "":
		return nil, fmt.Errorf("%w: no event_type", ErrMalformedEvent)
	}
	if e.EventType == EventCandidateCreated || e.EventType == EventCandidateMoved {
		if e.Data == nil || !ValidID(e.Data.ID) {
			return nil, fmt.Errorf("%w: %s without a candidate id", ErrMalformedEvent, e.EventType)
		}
		if e.Data.Job.Shortcode != "" && !ValidID(e.Data.Job.Shortcode) {
			return nil, fmt.Errorf("%w: invalid job shortcode", ErrMalformedEvent)
		}
	}
	return &e, nil
}
