package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/ctxkey"
	"github.com/workablegw/gateway/guard"
)

// The extensions.code values of this package's errors.
const (
	CodeUnauthenticated  = "UNAUTHENTICATED"
	CodeForbidden        = "FORBIDDEN"
	CodeOriginNotAllowed = "ORIGIN_NOT_ALLOWED"
)

// Principal is the client a request acts for.
type Principal struct {
	// ID names the client without revealing its key: the first 8 hex
	// digits of the key's SHA-256 for an API key, or "addr:<ip>" while the
	// gateway is open. It suits logs and per-client rate limits.
	ID string
	// Role is what the client may do.
	Role Role
	// Authenticated reports whether the client presented a valid API key.
	Authenticated bool
	// Open reports that no API keys are configured, so the client is
	// anonymous and got the open role (see Keys.WithOpenRole).
	Open bool
}

// principalKey carries the request's Principal.
var principalKey = ctxkey.New[Principal]("access.Principal")

// WithPrincipal returns a copy of ctx that carries p, as Middleware does.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return principalKey.With(ctx, p)
}

// PrincipalFrom returns the principal Middleware put in ctx, or the zero
// Principal (RoleNone, so nothing is allowed) when there is none.
func PrincipalFrom(ctx context.Context) Principal {
	return principalKey.Get(ctx)
}

// Middleware authenticates each request and puts its Principal in the
// request's context for PrincipalFrom, Require and FieldGuard.
//
// When keys are enabled, a request needs "Authorization: Bearer <key>"
// with a configured key. A missing or wrong key gets HTTP 401 with
// WWW-Authenticate: Bearer and a GraphQL-shaped error with code
// UNAUTHENTICATED, and next is not called. The presented key is hashed
// with SHA-256 and compared with every configured key's hash in constant
// time, without stopping at a match, so the answer's timing says nothing
// about which key (or how much of one) matched.
//
// A WebSocket upgrade without an Authorization header reaches next with
// RoleNone: its connection_init payload authenticates it (Keys.InitPayload).
//
// When keys are disabled the gateway is open: every request gets the open
// role (RoleWriter unless Keys.WithOpenRole says otherwise) and an
// "addr:<ip>" id.
//
// Put CORS outside Middleware: browsers send preflight requests without
// the Authorization header.
func Middleware(keys Keys, next http.Handler) http.Handler {
	if !keys.Enabled() {
		role := keys.OpenRole()
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := Principal{ID: "addr:" + remoteIP(r), Role: role, Open: true}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsWebSocketUpgrade(r) && len(r.Header.Values("Authorization")) == 0 {
			// A browser cannot set headers on a WebSocket: the key comes
			// in the connection_init payload (Keys.InitPayload), and until
			// then the connection may do nothing (RoleNone).
			p := Principal{ID: "addr:" + remoteIP(r), Role: RoleNone}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
			return
		}
		key, ok := bearer(r)
		if !ok {
			unauthenticated(w, `Bearer realm="gateway"`,
				"an API key is required: send the header Authorization: Bearer <key>")
			return
		}
		e, ok := keys.match(key)
		if !ok {
			unauthenticated(w, `Bearer realm="gateway", error="invalid_token"`,
				"the API key is not valid")
			return
		}
		p := Principal{ID: e.id, Role: e.role, Authenticated: true}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// match returns the entry whose key is key. It hashes key once and compares
// the hash with every entry's in constant time, visiting all entries
// whatever matches.
func (k Keys) match(key string) (keyEntry, bool) {
	sum := sha256.Sum256([]byte(key))
	found, idx := 0, 0
	for i := range k.entries {
		eq := subtle.ConstantTimeCompare(sum[:], k.entries[i].sum[:])
		idx = subtle.ConstantTimeSelect(eq, i, idx)
		found |= eq
	}
	if found == 0 {
		return keyEntry{}, false
	}
	return k.entries[idx], true
}

// bearer returns the credentials of the request's one Authorization header
// if it uses the Bearer scheme.
func bearer(r *http.Request) (string, bool) {
	vals := r.Header.Values("Authorization")
	if len(vals) != 1 {
		return "", false
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(vals[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	return cred, cred != ""
}

// unauthenticated answers 401 with a GraphQL-shaped UNAUTHENTICATED error.
func unauthenticated(w http.ResponseWriter, challenge, msg string) {
	w.Header().Set("WWW-Authenticate", challenge)
	guard.WriteError(w, http.StatusUnauthorized, CodeUnauthenticated, msg)
}

// remoteIP returns the request's peer address without its port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Require returns nil when the principal in ctx has at least role min, and
// otherwise an error with code FORBIDDEN (a *gqlerror.Error carrying the
// field path when called from a resolver) saying what is missing. Resolvers
// call it before touching Workable; FieldGuard makes the same check for a
// whole operation up front.
func Require(ctx context.Context, min Role) error {
	p := PrincipalFrom(ctx)
	if p.Role >= min {
		return nil
	}
	err := forbidden(p, min, "this operation")
	err.Path = graphql.GetPath(ctx)
	return err
}

// forbidden returns the FORBIDDEN error for principal p lacking role min
// for what.
func forbidden(p Principal, min Role, what string) *gqlerror.Error {
	var msg string
	switch {
	case p.Open && min == RoleAdmin:
		msg = fmt.Sprintf("%s needs the admin role; credential management is refused while the gateway runs without API keys (set GATEWAY_API_KEYS, or use demo mode)", what)
	case p.Open:
		msg = fmt.Sprintf("%s needs the %s role; the gateway runs without API keys, which grants the %s role only", what, min, p.Role)
	case !p.Authenticated:
		msg = fmt.Sprintf("%s needs an API key with the %s role", what, min)
	default:
		msg = fmt.Sprintf("%s needs the %s role; your API key has the %s role", what, min, p.Role)
	}
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": CodeForbidden}}
}
