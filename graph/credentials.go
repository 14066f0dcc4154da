package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/guard"
)

// Per-request Workable credentials (issue 5). With Config.Credentials, each
// request names its credential in the header X-Workable-Credential (the
// default credential when absent). The request then runs on that
// credential's economy: its client (and so its rate budget), its cache
// namespace and its coalescing of fetches, so that one credential's cached
// data is never served to another.

// CredentialHeader is the request header that picks the Workable credential.
const CredentialHeader = "X-Workable-Credential"

// The extensions.code values of credential errors.
const (
	// CodeUnknownCredential: X-Workable-Credential names no credential.
	CodeUnknownCredential = "UNKNOWN_CREDENTIAL"
	// CodeCredentialStoreUnavailable: the credential store (Redis) cannot
	// be read, so the request's credential is unknown.
	CodeCredentialStoreUnavailable = "CREDENTIAL_STORE_UNAVAILABLE"
	// CodeCredentialsDisabled: the handler has no credential registry.
	CodeCredentialsDisabled = "CREDENTIALS_DISABLED"
)

// credentialEconomies keeps one economy per credential nickname.
type credentialEconomies struct {
	cfg    Config
	reg    *credentials.Registry
	logger *slog.Logger

	mu         sync.Mutex
	byNickname map[string]*economy
}

// newCredentialEconomies returns the per-credential economies of cfg and
// registers the removal hook that forgets a removed credential's economy
// and drops its cache entries.
func newCredentialEconomies(cfg Config, logger *slog.Logger) *credentialEconomies {
	c := &credentialEconomies{
		cfg:        cfg,
		reg:        cfg.Credentials,
		logger:     logger,
		byNickname: make(map[string]*economy),
	}
	c.reg.OnRemove(c.removed)
	return c
}

// namespace returns the cache namespace of a credential.
func (c *credentialEconomies) namespace(cred credentials.Credential) string {
	return c.cfg.NamespacePrefix + cache.Namespace(cred.Subdomain, cred.Token)
}

// forNickname returns the economy of the credential with nickname ("" for
// the default), building it on first use. An unknown nickname gives an
// error matching credentials.ErrNotFound.
func (c *credentialEconomies) forNickname(ctx context.Context, nickname string) (*economy, error) {
	client, cred, err := c.reg.Client(ctx, nickname)
	if err != nil {
		return nil, err
	}
	ns := c.namespace(cred)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byNickname[cred.Nickname]; ok && e.client == client && e.ns == ns {
		return e, nil
	}
	ecfg := c.cfg
	ecfg.Workable, ecfg.Namespace = client, ns
	e := newEconomy(ecfg)
	c.byNickname[cred.Nickname] = e
	return e, nil
}

// removed forgets a removed credential's economy and drops its cache
// entries (records, lists, responses, its rate budget key), so that nothing
// it cached can be served again, even if the same token is added later.
func (c *credentialEconomies) removed(ctx context.Context, cred credentials.Credential) {
	c.mu.Lock()
	delete(c.byNickname, cred.Nickname)
	c.mu.Unlock()
	if c.cfg.Cache == nil {
		return
	}
	if err := c.cfg.Cache.DeletePrefix(context.WithoutCancel(ctx), c.namespace(cred)); err != nil {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "could not drop the cache entries of a removed credential; they expire with their TTLs",
			slog.String("credential", cred.Nickname), slog.Any("err", err))
	}
}

// middleware resolves each request's credential and runs it on that
// credential's economy. An unknown credential is answered with HTTP 400 and
// code UNKNOWN_CREDENTIAL (a GraphQL-shaped error, like the other refusals
// made before the GraphQL handler): the request is refused as a whole
// because none of its fields could be answered, and nothing reaches
// Workable.
func (c *credentialEconomies) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vals := r.Header.Values(CredentialHeader)
		nickname := ""
		switch len(vals) {
		case 0:
		case 1:
			nickname = vals[0]
		default:
			guard.WriteError(w, http.StatusBadRequest, CodeUnknownCredential,
				"send at most one "+CredentialHeader+" header")
			return
		}
		e, err := c.forNickname(r.Context(), nickname)
		switch {
		case err == nil:
			e.serve(w, r, next)
		case errors.Is(err, credentials.ErrNotFound):
			guard.WriteError(w, http.StatusBadRequest, CodeUnknownCredential, unknownCredentialMessage(nickname))
		default:
			c.logger.LogAttrs(r.Context(), slog.LevelError, "cannot resolve the request's Workable credential", slog.Any("err", err))
			guard.WriteError(w, http.StatusServiceUnavailable, CodeCredentialStoreUnavailable,
				"the gateway cannot read its Workable credentials right now; retry later")
		}
	})
}

// unknownCredentialMessage names the unknown nickname only when it is a
// valid one (a hostile header is not echoed).
func unknownCredentialMessage(nickname string) string {
	if nickname == "" || nickname == credentials.DefaultNickname {
		return "the gateway has no default Workable credential; choose one with the " + CredentialHeader + " header"
	}
	if credentials.ValidateNickname(nickname) != nil {
		return "the " + CredentialHeader + " header is not a valid credential nickname"
	}
	return fmt.Sprintf("there is no Workable credential named %q (see workableCredentials)", nickname)
}

// requireAdmin checks the admin role when access control is on (FieldGuard
// has already checked it; this is the second lock), and that credentials
// are managed by this handler.
func (r *Resolver) requireAdmin(ctx context.Context) error {
	if r.checkRoles {
		if err := access.Require(ctx, access.RoleAdmin); err != nil {
			return err
		}
	}
	if r.creds == nil {
		return &gqlerror.Error{
			Message:    "this gateway does not manage Workable credentials",
			Extensions: map[string]any{"code": CodeCredentialsDisabled},
		}
	}
	return nil
}

// workableCredentials implements Query.workableCredentials.
func (r *Resolver) workableCredentials(ctx context.Context) ([]credentials.Credential, error) {
	stateFrom(ctx).noResponseCache()
	if err := r.requireAdmin(ctx); err != nil {
		return nil, err
	}
	list, err := r.creds.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return list, nil
}

// addWorkableCredential implements Mutation.addWorkableCredential. Invalid
// input is userError INVALID on the offending field, a taken nickname
// ALREADY_EXISTS, and a store without CREDENTIALS_KEY userError
// ENCRYPTION_KEY_MISSING with the message saying how to set it.
func (r *Resolver) addWorkableCredential(ctx context.Context, in model.AddWorkableCredentialInput) (*model.AddWorkableCredentialPayload, error) {
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
	if len(userErrs) > 0 {
		return &model.AddWorkableCredentialPayload{UserErrors: userErrs}, nil
	}
	c, err := r.creds.Add(ctx, credentials.Credential{Nickname: in.Nickname, Subdomain: in.Subdomain, Token: in.APIToken})
	switch {
	case err == nil:
		return &model.AddWorkableCredentialPayload{Credential: &c, UserErrors: []model.UserError{}}, nil
	case errors.Is(err, credentials.ErrAlreadyExists):
		return &model.AddWorkableCredentialPayload{UserErrors: []model.UserError{{
			Field: inputAt("nickname"), Code: UserErrorAlreadyExists,
			Message: "a credential with this nickname already exists",
		}}}, nil
	case errors.Is(err, credentials.ErrNoEncryptionKey):
		return &model.AddWorkableCredentialPayload{UserErrors: []model.UserError{{
			Field: inputAt(), Code: UserErrorEncryptionKeyMissing,
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
	if err := r.requireAdmin(ctx); err != nil {
		return nil, err
	}
	res, err := r.creds.Test(ctx, nickname)
	if errors.Is(err, credentials.ErrNotFound) {
		return nil, &gqlerror.Error{
			Message:    "there is no Workable credential with this nickname",
			Extensions: map[string]any{"code": CodeNotFound},
		}
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
func (r *Resolver) removeWorkableCredential(ctx context.Context, nickname string) (*model.RemoveWorkableCredentialPayload, error) {
	if err := r.requireAdmin(ctx); err != nil {
		return nil, err
	}
	err := r.creds.Remove(ctx, nickname)
	switch {
	case err == nil:
		return &model.RemoveWorkableCredentialPayload{Removed: true, UserErrors: []model.UserError{}}, nil
	case errors.Is(err, credentials.ErrNotFound):
		return &model.RemoveWorkableCredentialPayload{UserErrors: []model.UserError{{
			Field: fieldPath{"nickname"}, Code: UserErrorNotFound,
			Message: "there is no Workable credential with this nickname",
		}}}, nil
	case errors.Is(err, credentials.ErrDefaultImmutable):
		return &model.RemoveWorkableCredentialPayload{UserErrors: []model.UserError{{
			Field: fieldPath{"nickname"}, Code: UserErrorDefaultCredential,
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
	return model.UserError{Field: inputAt(field), Code: UserErrorInvalid, Message: msg}
}

// normalizeSubdomain and trimToken normalise like Registry.Add does, so
// that validation here agrees with it.
func normalizeSubdomain(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
func trimToken(s string) string          { return strings.TrimSpace(s) }
