// Package webhooks receives Workable's webhook deliveries (API.md §9):
// POST /webhooks/workable/{credential}, one URL per gateway credential.
//
// A delivery is trusted only when its X-Workable-Signature is the
// lower-case hex HMAC-SHA256 of the raw body keyed with that credential's
// token (compared in constant time). A trusted candidate_created or
// candidate_moved event then, before the answer:
//
//  1. is checked against the events already handled (Workable replays a
//     delivery until it gets a 200, and may replay one that got it): the
//     event id is claimed in an idempotency.Store (Redis SET NX with a TTL,
//     shared by every replica; in process without Redis);
//  2. makes stale what it changes (the candidate lists and the candidate's
//     detail and activities, through an Invalidator), on every replica;
//  3. is published (events.Publisher) for GraphQL subscriptions.
//
// Only then is it answered 200. When a step fails the answer is 503 and
// the claim is released, so that Workable's retry does the work again.
//
// Answers: 200 handled (or a duplicate, or an event that needs nothing);
// 400 a signed body that is not an event; 401 a missing or wrong
// signature (nothing changes); 404 an unknown credential; 405 another
// method; 413 a body over the limit; 503 the gateway could not do its job
// (the credential store, the idempotency store, the cache or the event
// bus failed), so that Workable retries.
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/workable"
)

// Path is the route pattern of the receiver, for an http.ServeMux.
const Path = "/webhooks/workable/{credential}"

// Defaults of Config.
const (
	// DefaultMaxBodyBytes bounds a delivery's body. A candidate detail is a
	// few kilobytes; a megabyte leaves room for long résumés' texts.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultTimeout bounds the work done for one delivery before it is
	// answered, so that Workable is answered quickly even when a store is
	// slow (it then gets a 503 and retries).
	DefaultTimeout = 5 * time.Second
	// DefaultSeenTTL is how long a handled event id is remembered.
	// Workable's replay window is not documented; three days covers
	// retries over a weekend.
	DefaultSeenTTL = 72 * time.Hour
)

// CredentialSource finds a credential by nickname (credentials.Registry).
// An unknown nickname is an error matching credentials.ErrNotFound.
type CredentialSource interface {
	Get(ctx context.Context, nickname string) (credentials.Credential, error)
}

// Invalidator makes stale, on every replica, what a change to candidates
// of a credential changes: the candidate lists and each candidate's detail
// and activities. It fails when it could not (the shared cache is
// unreachable).
type Invalidator interface {
	CandidatesChanged(ctx context.Context, credential string, ids ...string) error
}

// Config is what the receiver needs.
type Config struct {
	Credentials CredentialSource
	Invalidator Invalidator
	Publisher   events.Publisher
	// Seen remembers the event ids handled, for SeenTTL (default
	// DefaultSeenTTL).
	Seen    idempotency.Store
	SeenTTL time.Duration
	// Changes, when set, remembers the changes announced (see
	// events.OncePerChange), so that a change the refresher announced
	// already is not published again; nil publishes every event.
	Changes idempotency.Store
	// MaxBodyBytes and Timeout default to DefaultMaxBodyBytes and
	// DefaultTimeout.
	MaxBodyBytes int64
	Timeout      time.Duration
	Logger       *slog.Logger
	// Observe, when set, is called once per delivery with the credential
	// named in the path and the outcome (see the Outcome constants).
	Observe func(credential string, o Outcome)
}

// Outcome is how a delivery was answered.
type Outcome string

// Outcomes of a delivery.
const (
	OutcomeHandled           Outcome = "handled"
	OutcomeDuplicate         Outcome = "duplicate"
	OutcomeIgnored           Outcome = "ignored" // signed, but not a candidate event
	OutcomeUnsigned          Outcome = "bad_signature"
	OutcomeMalformed         Outcome = "malformed"
	OutcomeUnknownCredential Outcome = "unknown_credential"
	OutcomeTooLarge          Outcome = "too_large"
	OutcomeFailed            Outcome = "failed"
)

// Handler is the receiver. Build it with New.
type Handler struct {
	cfg  Config
	once *events.OncePerChange
}

// New returns the receiver, or an error when a dependency is missing: a
// receiver that cannot invalidate or publish would acknowledge events it
// dropped.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Credentials == nil:
		return nil, errors.New("webhooks: no credential source")
	case cfg.Invalidator == nil:
		return nil, errors.New("webhooks: no invalidator")
	case cfg.Publisher == nil:
		return nil, errors.New("webhooks: no event publisher")
	case cfg.Seen == nil:
		return nil, errors.New("webhooks: no idempotency store for event ids")
	}
	if cfg.SeenTTL <= 0 {
		cfg.SeenTTL = DefaultSeenTTL
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg}
	h.once = events.NewOncePerChange(cfg.Publisher, cfg.Changes, 0)
	return h, nil
}

// ServeHTTP answers one delivery; see the package documentation.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	nickname := r.PathValue("credential")
	outcome := h.serve(w, r, nickname)
	if h.cfg.Observe != nil {
		h.cfg.Observe(nickname, outcome)
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, nickname string) Outcome {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(w, http.StatusMethodNotAllowed, "method not allowed")
		return OutcomeMalformed
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()
	log := h.cfg.Logger.With(slog.String("credential", nickname))

	// The body is read whole (within the limit) before the credential is
	// looked up, so that a client cannot tell known nicknames from unknown
	// ones by how quickly they are refused.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			answer(w, http.StatusRequestEntityTooLarge, "body too large")
			return OutcomeTooLarge
		}
		answer(w, http.StatusBadRequest, "could not read the body")
		return OutcomeMalformed
	}

	cred, err := h.cfg.Credentials.Get(ctx, nickname)
	switch {
	case errors.Is(err, credentials.ErrNotFound):
		answer(w, http.StatusNotFound, "no such credential")
		return OutcomeUnknownCredential
	case err != nil:
		log.LogAttrs(ctx, slog.LevelWarn, "webhook: cannot read the credential; answering 503 so that Workable retries", slog.Any("err", err))
		answer(w, http.StatusServiceUnavailable, "the credential cannot be read now")
		return OutcomeFailed
	}
	if !workable.VerifySignature(cred.Token, body, r.Header.Get(workable.SignatureHeader)) {
		log.LogAttrs(ctx, slog.LevelWarn, "webhook: refused a delivery with a missing or wrong signature",
			slog.Bool("signed", r.Header.Get(workable.SignatureHeader) != ""))
		answer(w, http.StatusUnauthorized, "missing or wrong "+workable.SignatureHeader)
		return OutcomeUnsigned
	}
	ev, err := workable.ParseWebhookEvent(body)
	if err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "webhook: refused a signed body that is not an event", slog.Any("err", err))
		answer(w, http.StatusBadRequest, "not a Workable event")
		return OutcomeMalformed
	}
	kind, ok := kindOf(ev.EventType)
	if !ok {
		// Signed by the account but nothing the gateway uses (an employee
		// event): acknowledged, so that Workable does not replay it.
		answer(w, http.StatusOK, "ignored")
		return OutcomeIgnored
	}
	e := events.Event{
		ID:           string(ev.ID),
		Credential:   cred.Nickname,
		Kind:         kind,
		CandidateID:  ev.Data.ID,
		JobShortcode: ev.Data.Job.Shortcode,
		Stage:        ev.Data.StageName(),
		At:           ev.FiredAt,
		Source:       events.SourceWebhook,
	}
	updated := ev.Data.LastUpdated()
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}

	_, replayed, err := h.cfg.Seen.Do(ctx, seenKey(cred.Nickname, e.ID), "", h.cfg.SeenTTL, func(ctx context.Context) ([]byte, error) {
		return []byte{}, h.apply(ctx, e, updated)
	})
	switch {
	case err != nil:
		log.LogAttrs(ctx, slog.LevelWarn, "webhook: could not handle an event; answering 503 so that Workable retries",
			slog.String("event", e.ID), slog.String("kind", string(e.Kind)), slog.Any("err", err))
		answer(w, http.StatusServiceUnavailable, "could not handle the event now")
		return OutcomeFailed
	case replayed:
		answer(w, http.StatusOK, "duplicate")
		return OutcomeDuplicate
	}
	answer(w, http.StatusOK, "ok")
	return OutcomeHandled
}

// apply makes stale what e changes, then publishes it (once per change
// with Config.Changes: the candidate updated at updated). The payload's
// candidate is not stored as the candidate's detail: Workable sends the
// state at the time it sends (API.md §9), which a replay or a race can
// make older than the state a reader would fetch.
func (h *Handler) apply(ctx context.Context, e events.Event, updated time.Time) error {
	if err := h.cfg.Invalidator.CandidatesChanged(ctx, e.Credential, e.CandidateID); err != nil {
		return fmt.Errorf("invalidate candidate %s: %w", e.CandidateID, err)
	}
	if _, err := h.once.Publish(ctx, e, updated); err != nil {
		return fmt.Errorf("publish event %s: %w", e.ID, err)
	}
	return nil
}

// seenKey is the idempotency key of an event of a credential.
func seenKey(nickname, eventID string) string {
	return "webhook:" + nickname + ":" + eventID
}

func kindOf(eventType string) (events.Kind, bool) {
	switch eventType {
	case workable.EventCandidateCreated:
		return events.CandidateCreated, true
	case workable.EventCandidateMoved:
		return events.CandidateMoved, true
	}
	return "", false
}

// answer writes a short plain-text answer; Workable reads only the status.
func answer(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

// Metrics counts deliveries by outcome:
// workable_gateway_webhook_deliveries_total{outcome}. The credential named
// in the path is not a label: anyone can send any path.
type Metrics struct {
	deliveries *prometheus.CounterVec
}

// NewMetrics creates the series and registers them with reg (nothing is
// registered when reg is nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "workable_gateway",
		Name:      "webhook_deliveries_total",
		Help:      "Webhook deliveries received from Workable, by outcome (handled, duplicate, ignored, bad_signature, malformed, unknown_credential, too_large, failed).",
	}, []string{"outcome"})}
	if reg != nil {
		reg.MustRegister(m.deliveries)
	}
	return m
}

// Observe counts one delivery; it fits Config.Observe.
func (m *Metrics) Observe(_ string, o Outcome) { m.deliveries.WithLabelValues(string(o)).Inc() }
