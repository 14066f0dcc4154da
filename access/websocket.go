package access

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/workablegw/gateway/guard"
)

// WebSocket connections (GraphQL subscriptions over graphql-transport-ws).
// Browsers cannot set headers on a WebSocket, and send no CORS preflight
// before one: so an upgrade may arrive without an Authorization header (the
// key then comes in the connection_init payload, see Keys.InitPayload), and
// its Origin is checked here instead of by CORS.

// IsWebSocketUpgrade reports whether r asks to become a WebSocket.
func IsWebSocketUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// WebSocketOrigins refuses a WebSocket upgrade from a browser page of an
// origin that may not call the gateway: one that is neither the gateway's
// own (the Playground) nor in allowedOrigins (CORS_ALLOWED_ORIGINS, as CORS
// reads it). Such an upgrade gets 403 with code ORIGIN_NOT_ALLOWED, so a
// page elsewhere cannot ride on a visitor's network position to reach the
// gateway. Upgrades without Origin (not from a browser) and every other
// request reach next.
func WebSocketOrigins(allowedOrigins []string, next http.Handler) http.Handler {
	allowed := newOriginMatcher(allowedOrigins)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !IsWebSocketUpgrade(r) || allowed.all || allowed.match(origin) || sameHost(origin, r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		guard.WriteError(w, http.StatusForbidden, CodeOriginNotAllowed,
			"the origin "+strconv.Quote(origin)+" may not open a WebSocket to the gateway: add it to the gateway's CORS_ALLOWED_ORIGINS setting")
	})
}

// sameHost reports whether origin names host (the request's Host header).
func sameHost(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

// InitError is the error of a connection_init payload that does not
// authenticate a connection that needs it; its text says why.
type InitError struct{ Reason string }

func (e *InitError) Error() string { return e.Reason }

// InitPayload authenticates a WebSocket connection from its
// connection_init payload: an "Authorization" entry ("Bearer <key>"; the
// name in any case, also inside a "headers" object, as graphql-ws clients
// are often configured). It returns ctx with the payload's principal; a
// connection that its upgrade request already authenticated (ctx's
// principal) keeps it when the payload has no key. It fails with an
// *InitError, whose text says what is missing, when
// keys are enabled and neither authenticates, or when the payload's key is
// not valid. With keys disabled the payload is ignored.
func (k Keys) InitPayload(ctx context.Context, payload map[string]any) (context.Context, error) {
	if !k.Enabled() {
		return ctx, nil
	}
	auth, found := PayloadValue(payload, "Authorization")
	if !found {
		if PrincipalFrom(ctx).Authenticated {
			return ctx, nil
		}
		return ctx, &InitError{`an API key is required: send {"Authorization": "Bearer <key>"} in connection_init`}
	}
	scheme, key, ok := strings.Cut(strings.TrimSpace(auth), " ")
	key = strings.TrimSpace(key)
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return ctx, &InitError{`the Authorization entry must be "Bearer <key>"`}
	}
	e, ok := k.match(key)
	if !ok {
		return ctx, &InitError{"the API key is not valid"}
	}
	return WithPrincipal(ctx, Principal{ID: e.id, Role: e.role, Authenticated: true}), nil
}

// PayloadValue returns the string entry name of a connection_init payload,
// its name compared in any case, at the top level or inside a "headers"
// object.
func PayloadValue(payload map[string]any, name string) (string, bool) {
	for _, m := range []map[string]any{payload, headersOf(payload)} {
		for k, v := range m {
			if s, ok := v.(string); ok && strings.EqualFold(k, name) {
				return s, true
			}
		}
	}
	return "", false
}

func headersOf(payload map[string]any) map[string]any {
	for k, v := range payload {
		if h, ok := v.(map[string]any); ok && strings.EqualFold(k, "headers") {
			return h
		}
	}
	return nil
}
