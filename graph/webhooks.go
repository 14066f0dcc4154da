package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/hiring"
	"github.com/workablegw/gateway/webhooks"
	"github.com/workablegw/gateway/workable"
)

// CodePublicURLNotSet: registerWorkableWebhooks or
// unregisterWorkableWebhooks without GATEWAY_PUBLIC_URL, the URL Workable
// would deliver to.
const CodePublicURLNotSet = "PUBLIC_URL_NOT_SET"

// UserErrorWebhooksNotRemoved: removeWorkableCredential could not end the
// credential's webhook subscriptions (Workable did not answer), so the
// credential is kept; retrying removes both.
const UserErrorWebhooksNotRemoved = "WEBHOOKS_NOT_REMOVED"

func errPublicURLNotSet() error {
	return &gqlerror.Error{
		Message:    "GATEWAY_PUBLIC_URL is not set: the gateway does not know the URL Workable can deliver webhooks to",
		Extensions: map[string]any{"code": CodePublicURLNotSet},
	}
}

// registerWorkableWebhooks implements Mutation.registerWorkableWebhooks.
func (r *Resolver) registerWorkableWebhooks(ctx context.Context, nickname string) (*model.RegisterWorkableWebhooksPayload, error) {
	return changeWebhooks(ctx, r, nickname, "register", webhooks.Register,
		func(subs []model.WorkableWebhookSubscription, errs []model.UserError) *model.RegisterWorkableWebhooksPayload {
			return &model.RegisterWorkableWebhooksPayload{Subscriptions: subs, UserErrors: errs}
		})
}

// unregisterWorkableWebhooks implements Mutation.unregisterWorkableWebhooks.
func (r *Resolver) unregisterWorkableWebhooks(ctx context.Context, nickname string) (*model.UnregisterWorkableWebhooksPayload, error) {
	return changeWebhooks(ctx, r, nickname, "unregister", webhooks.Unregister,
		func(removed []model.WorkableWebhookSubscription, errs []model.UserError) *model.UnregisterWorkableWebhooksPayload {
			return &model.UnregisterWorkableWebhooksPayload{Removed: removed, UserErrors: errs}
		})
}

// changeWebhooks runs change (webhooks.Register or Unregister; verb names
// it in errors) for the credential nickname names, and answers the
// subscriptions it returns, or the userError of an unknown nickname, in the
// payload payload makes.
func changeWebhooks[P any](ctx context.Context, r *Resolver, nickname, verb string,
	change func(ctx context.Context, c *workable.Client, publicURL, credential string) ([]webhooks.Subscription, error),
	payload func(subs []model.WorkableWebhookSubscription, errs []model.UserError) *P) (*P, error) {
	ctx = gqlhttp.RequestContext(ctx)
	client, cred, ue, err := r.webhookCredential(ctx, nickname)
	if err != nil || ue != nil {
		return payload([]model.WorkableWebhookSubscription{}, userErrors(ue)), err
	}
	subs, err := change(ctx, client, r.publicURL, cred.Nickname)
	if err != nil {
		return nil, fmt.Errorf("%s the webhooks of %s: %w", verb, cred.Nickname, err)
	}
	return payload(subscriptionModels(subs), []model.UserError{}), nil
}

// webhookCredential checks the caller (admin) and GATEWAY_PUBLIC_URL and
// finds the credential's client; an unknown nickname is a userError.
func (r *Resolver) webhookCredential(ctx context.Context, nickname string) (*workable.Client, credentials.Credential, *model.UserError, error) {
	if err := r.requireAdmin(ctx); err != nil {
		return nil, credentials.Credential{}, nil, err
	}
	if r.publicURL == "" {
		return nil, credentials.Credential{}, nil, errPublicURLNotSet()
	}
	client, cred, err := r.creds.Client(ctx, nickname)
	switch {
	case errors.Is(err, credentials.ErrNotFound):
		return nil, credentials.Credential{}, &model.UserError{
			Field: hiring.Path{"credential"}, Code: UserErrorNotFound, Message: "there is no Workable credential with this nickname",
		}, nil
	case err != nil:
		return nil, credentials.Credential{}, nil, fmt.Errorf("find the credential: %w", err)
	}
	return client, cred, nil, nil
}

// unregisterOnRemoval ends the webhook subscriptions of a credential about
// to be removed. A credential whose token Workable refuses has nothing
// left to end; any other failure keeps the credential (userError
// WEBHOOKS_NOT_REMOVED), so that a retry removes both and no subscription
// keeps delivering to a credential the gateway no longer knows. Without
// GATEWAY_PUBLIC_URL the gateway cannot have subscribed: nothing to do.
func (r *Resolver) unregisterOnRemoval(ctx context.Context, nickname string) *model.UserError {
	if r.publicURL == "" {
		return nil
	}
	client, cred, err := r.creds.Client(ctx, nickname)
	if err != nil {
		return nil // Remove reports an unknown or unreadable credential
	}
	_, err = webhooks.Unregister(ctx, client, r.publicURL, cred.Nickname)
	if err == nil || errors.Is(err, workable.ErrUnauthorized) {
		return nil
	}
	r.logger.WarnContext(ctx, "could not end a credential's webhook subscriptions; the credential is kept", "credential", cred.Nickname, "err", err)
	return &model.UserError{
		Field: hiring.Path{"nickname"}, Code: UserErrorWebhooksNotRemoved,
		Message: "Workable could not be asked to end this credential's webhook subscriptions; the credential is kept, try again",
	}
}

func userErrors(ue *model.UserError) []model.UserError {
	if ue == nil {
		return []model.UserError{}
	}
	return []model.UserError{*ue}
}

func subscriptionModels(subs []webhooks.Subscription) []model.WorkableWebhookSubscription {
	out := make([]model.WorkableWebhookSubscription, 0, len(subs))
	for _, s := range subs {
		out = append(out, model.WorkableWebhookSubscription{ID: s.ID, Event: s.Event, Target: s.Target})
	}
	return out
}
