package gqlhttp

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWebsocketInitRefusals(t *testing.T) {
	t.Parallel()
	type key struct{}
	long := strings.Repeat("x", 200)
	for _, tc := range []struct {
		name      string
		init      func(context.Context, map[string]any) (context.Context, error)
		wantErr   string // "" accepts
		wantValue bool   // the init's context is the connection's
	}{
		{name: "no init accepts", init: nil},
		{name: "accepted", init: func(ctx context.Context, _ map[string]any) (context.Context, error) {
			return context.WithValue(ctx, key{}, true), nil
		}, wantValue: true},
		{name: "refusal keeps its code", init: func(ctx context.Context, _ map[string]any) (context.Context, error) {
			return ctx, &InitRefusal{CloseCode: CloseBadRequest, Code: "UNKNOWN_CREDENTIAL", Err: errors.New("no such credential")}
		}, wantErr: "UNKNOWN_CREDENTIAL: no such credential"},
		{name: "other errors are unauthenticated", init: func(ctx context.Context, _ map[string]any) (context.Context, error) {
			return ctx, errors.New("bad key")
		}, wantErr: "UNAUTHENTICATED: bad key"},
		{name: "a long reason fits a close frame", init: func(ctx context.Context, _ map[string]any) (context.Context, error) {
			return ctx, &InitRefusal{CloseCode: CloseForbidden, Code: "C", Err: errors.New(long)}
		}, wantErr: ("C: " + long)[:120] + "..."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, _, err := websocketInit(tc.init)(context.Background(), map[string]any{})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.wantErr {
				t.Errorf("error %q, want %q", got, tc.wantErr)
			}
			if v, _ := ctx.Value(key{}).(bool); v != tc.wantValue {
				t.Errorf("the init's context value is %v, want %v", v, tc.wantValue)
			}
		})
	}
}

func TestIsSubscriptionRequest(t *testing.T) {
	t.Parallel()
	sse := "text/event-stream"
	for _, tc := range []struct {
		name, method, accept, body string
		want                       bool
	}{
		{"subscription over SSE", "POST", sse, `{"query":"subscription { candidateEvents { id } }"}`, true},
		{"named among several", "POST", sse, `{"query":"query Q { a } subscription S { b }","operationName":"S"}`, true},
		{"query named among several", "POST", sse, `{"query":"query Q { a } subscription S { b }","operationName":"Q"}`, false},
		{"unnamed among several", "POST", sse, `{"query":"query Q { a } subscription S { b }"}`, false},
		{"query over SSE", "POST", sse, `{"query":"{ subscriptionCount }"}`, false},
		{"not SSE", "POST", "application/json", `{"query":"subscription { a }"}`, false},
		{"GET", "GET", sse, ``, false},
		{"bad JSON", "POST", sse, `{"query":`, false},
		{"bad query", "POST", sse, `{"query":"subscription {"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/query", strings.NewReader(tc.body))
			r.Header.Set("Accept", tc.accept)
			if got := IsSubscriptionRequest(r); got != tc.want {
				t.Errorf("IsSubscriptionRequest = %v, want %v", got, tc.want)
			}
			if body, _ := io.ReadAll(r.Body); string(body) != tc.body {
				t.Errorf("body after the check %q, want %q", body, tc.body)
			}
		})
	}
}
