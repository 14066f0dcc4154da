package graph

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/workable"
)

// Subscriptions (Subscription.candidateEvents): each subscription listens to
// the events bus (Config.Events) for its request's credential, keeps the
// events its filters match and hands them to gqlgen, which runs the
// subscriber's selection on each. The candidate of each event is read afresh,
// through new dataloaders over the credential's cache and rate budget, so
// that every event shows the candidate as it is after that event.

// The extensions.code values of subscription errors.
const (
	// CodeSubscriptionLagged: the subscriber did not take its events as fast
	// as they came; its subscription ended and it should subscribe again.
	CodeSubscriptionLagged = "SUBSCRIPTION_LAGGED"
	// CodeTooManySubscriptions: the client already has as many live
	// subscriptions on this replica as Config.SubscriptionsPerClient allows.
	CodeTooManySubscriptions = "TOO_MANY_SUBSCRIPTIONS"
	// CodeSubscriptionsUnavailable: the events bus refused the subscription
	// (Redis unreachable, or the gateway is shutting down).
	CodeSubscriptionsUnavailable = "SUBSCRIPTIONS_UNAVAILABLE"
)

// DefaultSubscriptionsPerClient bounds the live subscriptions of one client
// (API key, or address while the gateway is open) when
// Config.SubscriptionsPerClient is 0: a board or two per browser tab.
const DefaultSubscriptionsPerClient = 20

// maxStageFilterLen bounds the stage filter: Workable's stage names are short.
const maxStageFilterLen = 100

// eventReadTimeout bounds the reads of one event's candidate, as
// REQUEST_TIMEOUT's default bounds a query.
const eventReadTimeout = 30 * time.Second

// candidateEvents implements Subscription.candidateEvents.
func (r *Resolver) candidateEvents(ctx context.Context, jobShortcode, stage *string) (<-chan *model.CandidateEvent, error) {
	var f events.Filter
	if jobShortcode != nil {
		if err := checkRef("jobShortcode", *jobShortcode); err != nil {
			return nil, err
		}
		f.Job = *jobShortcode
	}
	if stage != nil {
		s := strings.TrimSpace(*stage)
		if s == "" || len(s) > maxStageFilterLen || !utf8.ValidString(s) || strings.ContainsFunc(s, isControl) {
			return nil, badInput("stage must be a stage's name or slug (1 to %d characters, one line)", maxStageFilterLen)
		}
		f.Stage = s
	}
	client := access.PrincipalFrom(ctx).ID
	release, ok := r.subLimit.Acquire(client)
	if !ok {
		return nil, &gqlerror.Error{
			Path: graphql.GetPath(ctx),
			Message: fmt.Sprintf("this client already has %d live subscriptions, the most the gateway allows "+
				"(SUBSCRIPTIONS_PER_CLIENT): end one before starting another", r.subLimit.Max()),
			Extensions: map[string]any{"code": CodeTooManySubscriptions},
		}
	}
	// gqlgen ends a WebSocket operation by cancelling ctx; a Server-Sent
	// Events stream ends with its HTTP request, whose cancellation
	// gqlhttp.Detach keeps in gqlhttp.RequestContext.
	subCtx, cancel := context.WithCancel(ctx)
	stopFollowing := context.AfterFunc(gqlhttp.RequestContext(ctx), cancel)
	nickname := r.requestCredential(ctx)
	sub, err := r.events.Subscribe(subCtx, nickname)
	if err != nil {
		stopFollowing()
		cancel()
		release()
		r.logger.LogAttrs(ctx, slog.LevelWarn, "subscription refused by the events bus", slog.Any("err", err))
		return nil, &gqlerror.Error{
			Path:       graphql.GetPath(ctx),
			Message:    "the gateway cannot deliver events right now; subscribe again later",
			Extensions: map[string]any{"code": CodeSubscriptionsUnavailable},
		}
	}
	out := make(chan *model.CandidateEvent)
	go func() {
		// Released before out closes, so that a client whose stream ended
		// may subscribe again at once.
		defer close(out)
		defer release()
		defer cancel()
		defer stopFollowing()
		defer sub.Close()
		for {
			var e events.Event
			var open bool
			select {
			case e, open = <-sub.C:
			case <-subCtx.Done():
				return
			}
			var m *model.CandidateEvent
			switch {
			case !open && errors.Is(sub.Err(), events.ErrLagged):
				// One last event that carries the error (see
				// candidateEventID), then the end of the stream.
				m = &model.CandidateEvent{Err: sub.Err()}
			case !open:
				return
			case !f.Matches(e):
				continue
			default:
				if m, open = eventModel(e); !open {
					continue
				}
			}
			select {
			case out <- m:
			case <-subCtx.Done():
				return
			}
			if m.Err != nil {
				return
			}
		}
	}()
	return out, nil
}

// isControl reports a control character (a filter is one line of text).
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// eventKinds and eventSources name the events' kinds and sources as the
// schema does.
var (
	eventKinds = map[events.Kind]model.CandidateEventKind{
		events.CandidateCreated: model.CandidateEventKindCreated,
		events.CandidateMoved:   model.CandidateEventKindMoved,
	}
	eventSources = map[string]model.CandidateEventSource{
		events.SourceWebhook:   model.CandidateEventSourceWebhook,
		events.SourceRefresher: model.CandidateEventSourceRefresher,
		events.SourceGateway:   model.CandidateEventSourceGateway,
	}
)

// eventModel returns e as the schema shows it; false for an event of a kind
// or source the schema does not know (from a newer replica, say).
func eventModel(e events.Event) (*model.CandidateEvent, bool) {
	kind, knownKind := eventKinds[e.Kind]
	source, knownSource := eventSources[e.Source]
	if !knownKind || !knownSource {
		return nil, false
	}
	m := &model.CandidateEvent{ID: e.ID, CandidateID: e.CandidateID, At: e.At, Kind: kind, Source: source}
	if e.Stage != "" {
		m.Stage = &e.Stage
	}
	if e.JobShortcode != "" {
		m.JobShortcode = &e.JobShortcode
	}
	return m, true
}

// candidateEventID implements CandidateEvent.id. It is where a lagging
// subscriber learns that its subscription ended: the last event it receives
// has no data and this error.
func (r *Resolver) candidateEventID(ctx context.Context, ev *model.CandidateEvent) (string, error) {
	if ev.Err != nil {
		return "", &gqlerror.Error{
			Path: graphql.GetPath(ctx),
			Message: "this subscription ended because its events came faster than the client took them, and some were " +
				"missed: subscribe again and re-read what it shows",
			Extensions: map[string]any{"code": CodeSubscriptionLagged},
		}
	}
	return ev.ID, nil
}

// eventCandidate implements CandidateEvent.candidate: the candidate read
// afresh for this event, with the request's credential, cache and budget;
// nil when Workable no longer has it.
func (r *Resolver) eventCandidate(ctx context.Context, ev *model.CandidateEvent) (*workable.Candidate, error) {
	ctx, done := r.eventRequest(ctx, eventReadTimeout)
	defer done()
	c, err := r.candidateByID(ctx, ev.CandidateID)
	if errors.Is(err, workable.ErrNotFound) {
		return nil, nil
	}
	return c, err
}

// requestCredential returns the nickname of the request's credential.
func (r *Resolver) requestCredential(ctx context.Context) string {
	return r.econFor(ctx).Nickname()
}

// eventRequest returns ctx with a request of its own (new dataloaders, so
// nothing read for an earlier event is reused) over the same credential,
// whose waits end within timeout; done releases it.
func (r *Resolver) eventRequest(ctx context.Context, timeout time.Duration) (context.Context, func()) {
	bound, cancel := context.WithTimeout(gqlhttp.RequestContext(ctx), timeout)
	ctx = newRequest(r.econFor(ctx).NewRequest(ctx))
	return gqlhttp.WithRequest(ctx, bound), cancel
}

// publish sends a candidate event of the gateway's own (a hiring action or
// createCandidate that succeeded) to the subscribers of the request's
// credential, once per change: the candidate's updated (its updated_at
// after the write, zero when unknown) keys it in the idempotency store the
// webhook receiver and the refresher share, so that their later sighting
// of the same change is not published again. A failure is logged: the
// write happened whatever the bus says.
func (r *Resolver) publish(ctx context.Context, kind events.Kind, candidateID, job, stage string, updated time.Time) {
	e := events.Event{
		ID:           "gateway-" + rand.Text(),
		Credential:   r.requestCredential(ctx),
		Kind:         kind,
		CandidateID:  candidateID,
		JobShortcode: job,
		Stage:        stage,
		At:           time.Now().UTC(),
		Source:       events.SourceGateway,
	}
	// Publishing must not outlive nor hold up the mutation's answer much:
	// the bus never waits for subscribers, and Redis answers quickly or not
	// at all.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if _, err := r.changes.Publish(pctx, e, updated); err != nil {
		r.logger.LogAttrs(ctx, slog.LevelWarn, "publish a candidate event", slog.String("kind", string(kind)), slog.Any("err", err))
	}
}

// publishCreated publishes the creation of c, in the job with shortcode
// job when Workable's answer does not say.
func (r *Resolver) publishCreated(ctx context.Context, c *workable.Candidate, job string) {
	r.publish(ctx, events.CandidateCreated, c.ID, cmp.Or(c.Job.Shortcode, job), c.StageName(), c.LastUpdated())
}
