package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/workablegw/gateway/workable"
)

// Events are the webhook events the gateway subscribes to (API.md §9).
func Events() []string {
	return []string{workable.EventCandidateCreated, workable.EventCandidateMoved}
}

// ErrNoPublicURL means the gateway does not know the URL Workable can
// reach it at (GATEWAY_PUBLIC_URL), so it cannot subscribe.
var ErrNoPublicURL = errors.New("webhooks: GATEWAY_PUBLIC_URL is not set")

// CheckPublicURL checks a GATEWAY_PUBLIC_URL: an absolute http or https
// URL with a host and neither query, fragment nor user info.
func CheckPublicURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("the scheme must be http or https, not %q", u.Scheme)
	case u.Host == "":
		return errors.New("it has no host")
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return errors.New("it must not carry a query, a fragment or user info")
	}
	return nil
}

// Target returns the URL a credential's deliveries of event go to:
// <publicURL>/webhooks/workable/<credential>?event=<event>. Workable takes
// a target URL once per account (API.md §9: a second subscription to it is
// 409), so each event gets its own URL; the receiver reads the event type
// from the body, not from the query.
func Target(publicURL, credential, event string) string {
	return strings.TrimRight(publicURL, "/") + "/webhooks/workable/" + url.PathEscape(credential) + "?event=" + url.QueryEscape(event)
}

// Subscription is one of the gateway's webhook subscriptions.
type Subscription struct {
	ID     string
	Event  string
	Target string
}

// Register subscribes the gateway's receiver to every event of Events for
// the credential whose client c is, and returns the subscriptions now in
// place. A target subscribed already (409, or listed) is kept as it is, so
// registering twice changes nothing.
func Register(ctx context.Context, c *workable.Client, publicURL, credential string) ([]Subscription, error) {
	if publicURL == "" {
		return nil, ErrNoPublicURL
	}
	var out []Subscription
	for _, ev := range Events() {
		target := Target(publicURL, credential, ev)
		id, _, err := c.Subscriptions.Create(ctx, workable.NewSubscription{Target: target, Event: ev})
		if errors.Is(err, workable.ErrConflict) {
			subs, lerr := ours(ctx, c, publicURL, credential)
			if lerr != nil {
				return out, fmt.Errorf("register %s: %w", ev, lerr)
			}
			for _, s := range subs {
				if s.Target == target {
					id, err = s.ID, nil
				}
			}
		}
		if err != nil {
			return out, fmt.Errorf("register %s: %w", ev, err)
		}
		out = append(out, Subscription{ID: id, Event: ev, Target: target})
	}
	return out, nil
}

// Unregister ends every subscription of the credential whose client c is
// that targets the gateway's receiver for that credential, and returns
// them. Subscriptions to other targets are left alone.
func Unregister(ctx context.Context, c *workable.Client, publicURL, credential string) ([]Subscription, error) {
	if publicURL == "" {
		return nil, ErrNoPublicURL
	}
	subs, err := ours(ctx, c, publicURL, credential)
	if err != nil {
		return nil, err
	}
	var out []Subscription
	for _, s := range subs {
		if _, err := c.Subscriptions.Delete(ctx, s.ID); err != nil && !errors.Is(err, workable.ErrNotFound) {
			return out, fmt.Errorf("unregister %s: %w", s.Event, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// ours lists the subscriptions whose target is the gateway's receiver for
// credential.
func ours(ctx context.Context, c *workable.Client, publicURL, credential string) ([]Subscription, error) {
	all, _, err := c.Subscriptions.List(ctx)
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(Target(publicURL, credential, ""), "?event=")
	var out []Subscription
	for _, s := range all {
		if s.Target == prefix || strings.HasPrefix(s.Target, prefix+"?") {
			out = append(out, Subscription{ID: string(s.ID), Event: s.Event, Target: s.Target})
		}
	}
	return out, nil
}
