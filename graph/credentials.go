package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/hiring"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// credentialUnreadableError is the GraphQL error of an undecryptable
// credential.
func credentialUnreadableError(nickname string) error {
	return &gqlerror.Error{
		Message:    credentials.UnreadableMessage(nickname),
		Extensions: map[string]any{"code": credentials.CodeUnreadable},
	}
}

// requireAdmin checks the admin role when access control is on (FieldGuard
// has already checked it; this is the second lock). Every handler has a
// credential registry (NewHandler requires one), so the credential fields
// are always served.
func (r *Resolver) requireAdmin(ctx context.Context) error {
	if r.checkRoles {
		return access.Require(ctx, access.RoleAdmin)
	}
	return nil
}

// workableCredentials implements Query.workableCredentials. Stored
// credentials that cannot be decrypted are left out of the list, logged
// (by nickname) and reported in an error with code CREDENTIAL_UNREADABLE
// next to the data, so that one broken record does not hide the others.
func (r *Resolver) workableCredentials(ctx context.Context) ([]credentials.Credential, error) {
	ctx = gqlhttp.RequestContext(ctx)
	upstream.RequestFrom(ctx).NoResponseCache()
	if err := r.requireAdmin(ctx); err != nil {
		return nil, err
	}
	list, err := r.creds.List(ctx)
	var unreadable *credentials.UnreadableError
	switch {
	case err == nil:
	case errors.As(err, &unreadable):
		r.logger.LogAttrs(ctx, slog.LevelWarn, "some stored Workable credentials cannot be decrypted; they are left out of workableCredentials",
			slog.Int("count", unreadable.Count), slog.Any("nicknames", unreadable.Nicknames))
		graphql.AddError(ctx, &gqlerror.Error{
			Path: graphql.GetPath(ctx),
			Message: fmt.Sprintf("%d stored credential(s) %s cannot be decrypted and are not listed: CREDENTIALS_KEY is not "+
				"the key they were stored with (or the records are damaged); restore that key, or remove them "+
				"with removeWorkableCredential and add them again", unreadable.Count, strings.Join(quoted(unreadable.Nicknames), ", ")),
			Extensions: map[string]any{"code": credentials.CodeUnreadable, "nicknames": unreadable.Nicknames},
		})
	default:
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return list, nil
}

// quoted returns each of ss quoted with %q.
func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// addWorkableCredential implements Mutation.addWorkableCredential. Invalid
// input is userError INVALID on the offending field, a taken nickname
// ALREADY_EXISTS, and a store without CREDENTIALS_KEY userError
// ENCRYPTION_KEY_MISSING with the message saying how to set it.
func (r *Resolver) addWorkableCredential(ctx context.Context, in model.AddWorkableCredentialInput) (*model.AddWorkableCredentialPayload, error) {
	ctx = gqlhttp.RequestContext(ctx)
	if err := r.requireAdmin(ctx); err != nil {
		return nil, err
	}
	var userErrs []model.UserError
	if err := credentials.ValidateNickname(in.Nickname); err != nil {
		userErrs = append(userErrs, credentialUserError("nickname", err))
	}
	if err := credentials.ValidateSubdomain(normalizeSubdomain(in.Subdomain)); err != nil {
		userErrs = append(userErrs, credentialUserError("subdomain", err))
	}
	if err := credentials.ValidateToken(trimToken(in.APIToken)); err != nil {
		userErrs = append(userErrs, credentialUserError("apiToken", err))
	}
	if in.MemberID != nil {
		if err := credentials.ValidateMemberID(strings.TrimSpace(*in.MemberID)); err != nil || strings.TrimSpace(*in.MemberID) == "" {
			userErrs = append(userErrs, model.UserError{Field: hiring.InputAt("memberId"), Code: UserErrorInvalid,
				Message: fmt.Sprintf("must be a member id (see members): 1 to %d ASCII letters, digits, hyphens or underscores", workable.MaxIDLen)})
		}
	}
	if len(userErrs) > 0 {
		return &model.AddWorkableCredentialPayload{UserErrors: userErrs}, nil
	}
	c, err := r.creds.Add(ctx, credentials.Credential{Nickname: in.Nickname, Subdomain: in.Subdomain, Token: in.APIToken,
		MemberID: deref(in.MemberID)})
	switch {
	case err == nil:
		return &model.AddWorkableCredentialPayload{Credential: &c, UserErrors: []model.UserError{}}, nil
	case errors.Is(err, credentials.ErrAlreadyExists):
		return &model.AddWorkableCredentialPayload{UserErrors: []model.UserError{{
			Field: hiring.InputAt("nickname"), Code: UserErrorAlreadyExists,
			Message: "a credential with this nickname already exists",
		}}}, nil
	case errors.Is(err, credentials.ErrNoEncryptionKey):
		return &model.AddWorkableCredentialPayload{UserErrors: []model.UserError{{
			Field: hiring.InputAt(), Code: UserErrorEncryptionKeyMissing,
			Message: "the gateway refuses to store credentials without an encryption key: " +
				"set CREDENTIALS_KEY to 32 random bytes in base64 (e.g. `openssl rand -base64 32`) and restart it",
		}}}, nil
	case errors.Is(err, credentials.ErrInvalid):
		// The reserved nickname "default".
		return &model.AddWorkableCredentialPayload{UserErrors: []model.UserError{credentialUserError("nickname", err)}}, nil
	default:
		return nil, fmt.Errorf("add credential: %w", err)
	}
}

// testWorkableCredential implements Mutation.testWorkableCredential.
func (r *Resolver) testWorkableCredential(ctx context.Context, nickname string) (*model.TestWorkableCredentialPayload, error) {
	ctx = gqlhttp.RequestContext(ctx)
	if err := r.requireAdmin(ctx); err != nil {
		return nil, err
	}
	notFound := &gqlerror.Error{
		Message:    "there is no Workable credential with this nickname",
		Extensions: map[string]any{"code": CodeNotFound},
	}
	// The registry reads "" as the default credential (a request without
	// X-Workable-Credential); here a nickname must be named, and no
	// credential is named "".
	if nickname == "" {
		return nil, notFound
	}
	res, err := r.creds.Test(ctx, nickname)
	if errors.Is(err, credentials.ErrNotFound) {
		return nil, notFound
	}
	if errors.Is(err, credentials.ErrWrongKey) {
		return nil, credentialUnreadableError(nickname)
	}
	if err != nil && res.TestedAt.IsZero() {
		return nil, fmt.Errorf("test credential: %w", err)
	}
	if err != nil {
		r.logger.LogAttrs(ctx, slog.LevelWarn, "could not save a credential test result", slog.Any("err", err))
	}
	out := &model.TestWorkableCredentialPayload{Ok: res.OK, Message: &res.Message, TestedAt: res.TestedAt}
	if res.AccountName != "" {
		out.AccountName = &res.AccountName
	}
	if c, err := r.creds.Get(ctx, nickname); err == nil {
		out.Credential = &c
	}
	return out, nil
}

// removeWorkableCredential implements Mutation.removeWorkableCredential.
// An empty nickname is userError NOT_FOUND like any other unknown one (the
// registry would read it as the default credential).
func (r *Resolver) removeWorkableCredential(ctx context.Context, nickname string) (*model.RemoveWorkableCredentialPayload, error) {
	ctx = gqlhttp.RequestContext(ctx)
	if err := r.requireAdmin(ctx); err != nil {
		return nil, err
	}
	err := credentials.ErrNotFound
	if nickname != "" && nickname != credentials.DefaultNickname {
		if ue := r.unregisterOnRemoval(ctx, nickname); ue != nil {
			return &model.RemoveWorkableCredentialPayload{UserErrors: []model.UserError{*ue}}, nil
		}
	}
	if nickname != "" {
		err = r.creds.Remove(ctx, nickname)
	}
	switch {
	case err == nil:
		return &model.RemoveWorkableCredentialPayload{Removed: true, UserErrors: []model.UserError{}}, nil
	case errors.Is(err, credentials.ErrNotFound):
		return &model.RemoveWorkableCredentialPayload{UserErrors: []model.UserError{{
			Field: hiring.Path{"nickname"}, Code: UserErrorNotFound,
			Message: "there is no Workable credential with this nickname",
		}}}, nil
	case errors.Is(err, credentials.ErrDefaultImmutable):
		return &model.RemoveWorkableCredentialPayload{UserErrors: []model.UserError{{
			Field: hiring.Path{"nickname"}, Code: UserErrorDefaultCredential,
			Message: "the default credential comes from WORKABLE_SUBDOMAIN and WORKABLE_API_TOKEN; change those settings instead",
		}}}, nil
	default:
		return nil, fmt.Errorf("remove credential: %w", err)
	}
}

// credentialUserError is userError INVALID on input.field, with the
// validation's message (which never repeats the value).
func credentialUserError(field string, err error) model.UserError {
	msg := err.Error()
	const marker = "invalid input: "
	if i := strings.LastIndex(msg, marker); i >= 0 {
		msg = msg[i+len(marker):]
	}
	return model.UserError{Field: hiring.InputAt(field), Code: UserErrorInvalid, Message: msg}
}

// normalizeSubdomain and trimToken normalise like Registry.Add does, so
// that validation here agrees with it.
func normalizeSubdomain(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
func trimToken(s string) string          { return strings.TrimSpace(s) }
