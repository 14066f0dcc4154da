package credentials

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/workablegw/gateway/guard"
	"github.com/workablegw/gateway/upstream"
)

// Per-request Workable credentials. Each request names its credential in
// the header X-Workable-Credential (the default credential when absent).
// The request then runs on that credential's economy: its client (and so
// its rate budget), its cache namespace and its coalescing of fetches, so
// that one credential's cached data is never served to another.

// Header is the request header that picks the Workable credential.
const Header = "X-Workable-Credential"

// The extensions.code values of a request's credential refused.
const (
	// CodeUnknown: X-Workable-Credential names no credential.
	CodeUnknown = "UNKNOWN_CREDENTIAL"
	// CodeStoreUnavailable: the credential store (Redis) cannot be read,
	// so the request's credential is unknown.
	CodeStoreUnavailable = "CREDENTIAL_STORE_UNAVAILABLE"
	// CodeUnreadable: a stored credential cannot be decrypted
	// (CREDENTIALS_KEY is not the key it was stored with, or the record is
	// damaged). Unlike CREDENTIAL_STORE_UNAVAILABLE, retrying does not
	// help: an admin must restore the key, or remove the credential and
	// add it again.
	CodeUnreadable = "CREDENTIAL_UNREADABLE"
)

// Middleware resolves each request's credential and runs it on that
// credential's economy (upstream.Economy.Serve, which is told by inParts
// which requests are answered in parts), which calls next for the requests
// it does not answer from the response cache. An unknown credential is
// answered with HTTP 400 and code UNKNOWN_CREDENTIAL (a GraphQL-shaped
// error, like the other refusals made before the GraphQL handler): the
// request is refused as a whole because none of its fields could be
// answered, and nothing reaches Workable.
func (r *Registry) Middleware(logger *slog.Logger, inParts func(*http.Request) bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		vals := req.Header.Values(Header)
		nickname := ""
		switch len(vals) {
		case 0:
		case 1:
			nickname = vals[0]
		default:
			guard.WriteError(w, http.StatusBadRequest, CodeUnknown, "send at most one "+Header+" header")
			return
		}
		e, refusal := r.Resolve(req.Context(), logger, nickname)
		if refusal != nil {
			guard.WriteError(w, refusal.Status, refusal.Code, refusal.Message)
			return
		}
		e.Serve(w, req, next, inParts)
	})
}

// Refusal is why a request's credential cannot be used: the HTTP status,
// extensions.code and message of the refusal.
type Refusal struct {
	Status  int
	Code    string
	Message string
}

// Resolve returns the economy of the credential nickname ("" for the
// default), or the refusal of a request naming it, logging the failures an
// operator must see (an unreadable credential or store). Both the HTTP
// requests (Middleware) and a WebSocket's connection_init resolve their
// credential with it.
func (r *Registry) Resolve(ctx context.Context, logger *slog.Logger, nickname string) (*upstream.Economy, *Refusal) {
	e, _, err := r.Economy(ctx, nickname)
	switch {
	case err == nil:
		return e, nil
	case errors.Is(err, ErrNotFound):
		return nil, &Refusal{http.StatusBadRequest, CodeUnknown, unknownMessage(nickname)}
	case errors.Is(err, ErrWrongKey):
		logger.LogAttrs(ctx, slog.LevelError, "cannot decrypt the request's Workable credential", slog.Any("err", err))
		return nil, &Refusal{http.StatusInternalServerError, CodeUnreadable, UnreadableMessage(nickname)}
	default:
		logger.LogAttrs(ctx, slog.LevelError, "cannot resolve the request's Workable credential", slog.Any("err", err))
		return nil, &Refusal{http.StatusServiceUnavailable, CodeStoreUnavailable,
			"the gateway cannot read its Workable credentials right now; retry later"}
	}
}

// unknownMessage names the unknown nickname only when it is a valid one (a
// hostile header is not echoed).
func unknownMessage(nickname string) string {
	if nickname == "" || nickname == DefaultNickname {
		return "the gateway has no default Workable credential; choose one with the " + Header + " header"
	}
	if ValidateNickname(nickname) != nil {
		return "the " + Header + " header is not a valid credential nickname"
	}
	return fmt.Sprintf("there is no Workable credential named %q (see workableCredentials)", nickname)
}

// UnreadableMessage says that the credential nickname cannot be decrypted
// and what an admin can do about it.
func UnreadableMessage(nickname string) string {
	return fmt.Sprintf("the stored Workable credential %q cannot be decrypted: CREDENTIALS_KEY is not the key it was "+
		"stored with (or the record is damaged); retrying does not help: restore that CREDENTIALS_KEY, "+
		"or remove the credential and add it again", nickname)
}
