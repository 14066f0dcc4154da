package access

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestInitPayload(t *testing.T) {
	t.Parallel()
	keys := mustParseKeys(t, readerKey+":reader,"+writerKey+":writer")
	authed := WithPrincipal(context.Background(), Principal{ID: "upgrade", Role: RoleWriter, Authenticated: true})
	for _, tc := range []struct {
		name    string
		keys    Keys
		ctx     context.Context
		payload map[string]any
		wantID  string // "" with wantErr
		wantErr bool
	}{
		{"a reader key", keys, context.Background(), map[string]any{"Authorization": "Bearer " + readerKey}, keyID(readerKey), false},
		{"any case, in headers", keys, context.Background(), map[string]any{"headers": map[string]any{"AUTHORIZATION": "bearer " + writerKey}}, keyID(writerKey), false},
		{"no key", keys, context.Background(), nil, "", true},
		{"a wrong key", keys, context.Background(), map[string]any{"Authorization": "Bearer nope"}, "", true},
		{"not Bearer", keys, context.Background(), map[string]any{"Authorization": readerKey}, "", true},
		{"not a string", keys, context.Background(), map[string]any{"Authorization": 42}, "", true},
		{"the upgrade's key", keys, authed, nil, "upgrade", false},
		{"the payload's key wins", keys, authed, map[string]any{"Authorization": "Bearer " + readerKey}, keyID(readerKey), false},
		{"a wrong key after the upgrade's", keys, authed, map[string]any{"Authorization": "Bearer nope"}, "", true},
		{"open: the payload is ignored", Keys{}, context.Background(), map[string]any{"Authorization": "Bearer nope"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, err := tc.keys.InitPayload(tc.ctx, tc.payload)
			var ie *InitError
			if tc.wantErr != (err != nil) || (err != nil && !errors.As(err, &ie)) {
				t.Fatalf("err = %v, want an *InitError: %v", err, tc.wantErr)
			}
			if !tc.wantErr && PrincipalFrom(ctx).ID != tc.wantID {
				t.Errorf("principal %+v, want id %q", PrincipalFrom(ctx), tc.wantID)
			}
		})
	}
}

func TestWebSocketOrigins(t *testing.T) {
	t.Parallel()
	h := WebSocketOrigins([]string{"https://board.example.com", "http://localhost:*"},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	for _, tc := range []struct {
		name, origin string
		upgrade      bool
		want         int
	}{
		{"no origin", "", true, http.StatusNoContent},
		{"an allowed origin", "https://board.example.com", true, http.StatusNoContent},
		{"any port of localhost", "http://localhost:5173", true, http.StatusNoContent},
		{"the gateway's own page", "http://gateway.example.com:8080", true, http.StatusNoContent},
		{"another origin", "https://evil.example.com", true, http.StatusForbidden},
		{"another scheme's port", "http://board.example.com:444", true, http.StatusForbidden},
		{"not an upgrade", "https://evil.example.com", false, http.StatusNoContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://gateway.example.com:8080/query", nil)
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.upgrade {
				r.Header.Set("Upgrade", "websocket")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Errorf("status %d, want %d (%s)", w.Code, tc.want, w.Body)
			}
		})
	}
}

// TestMiddlewareLetsAWebSocketAuthenticateLater: with keys, an upgrade
// without Authorization reaches the handler with no role (its
// connection_init authenticates it); one with a wrong key is refused.
func TestMiddlewareLetsAWebSocketAuthenticateLater(t *testing.T) {
	t.Parallel()
	var got *Principal
	h := Middleware(mustParseKeys(t, readerKey+":reader"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := PrincipalFrom(r.Context())
		got = &p
	}))
	r := httptest.NewRequest(http.MethodGet, "/query", nil)
	r.Header.Set("Upgrade", "websocket")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got == nil || got.Role != RoleNone || got.Authenticated {
		t.Errorf("upgrade without a key: principal %+v, want RoleNone and unauthenticated", got)
	}
	got = nil
	r.Header.Set("Authorization", "Bearer wrong")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if got != nil || w.Code != http.StatusUnauthorized {
		t.Errorf("upgrade with a wrong key: %d, handler reached %v", w.Code, got != nil)
	}
}
