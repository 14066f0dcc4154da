package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/credentials"
)

// Subscriptions travel over two transports of /query:
//
//   - graphql-transport-ws (a WebSocket; gqlgen's transport.Websocket, which
//     also speaks the older graphql-ws subprotocol). The API key may come in
//     the upgrade's Authorization header or, as browsers cannot set headers
//     on a WebSocket, in the connection_init payload (Config.WebSocketInit);
//     so may the credential (an "X-Workable-Credential" entry). A refused
//     connection_init closes the socket with 4403 (Forbidden) and a reason
//     that starts with the error code.
//   - GraphQL over SSE (gqlgen's transport.SSE, "distinct connections" mode:
//     POST with Accept: text/event-stream), with the same headers as any
//     request to /query.
//
// Both send heartbeats every Config.SubscriptionHeartbeat, so that proxies
// keep an idle subscription open and a vanished client is noticed:
// graphql-transport-ws pings (a client that does not answer with a pong
// within two intervals is disconnected), the older graphql-ws sends "ka",
// and SSE a comment line.

// DefaultSubscriptionHeartbeat is Config.SubscriptionHeartbeat's default:
// shorter than the 30 to 60 s after which common proxies and load balancers
// drop an idle connection.
const DefaultSubscriptionHeartbeat = 15 * time.Second

// wsInitTimeout bounds the wait for a WebSocket's connection_init.
const wsInitTimeout = 10 * time.Second

// Close codes of graphql-transport-ws.
const (
	wsCloseBadRequest = 4400
	wsCloseForbidden  = 4403
)

// subscriptionTransports returns the WebSocket and SSE transports of cfg.
func subscriptionTransports(cfg Config) (ws transport.Websocket, sse graphql.Transport) {
	hb := cfg.SubscriptionHeartbeat
	if hb <= 0 {
		hb = DefaultSubscriptionHeartbeat
	}
	logger := cfg.Logger
	ws = transport.Websocket{
		// Origins are checked before the upgrade (access.WebSocketOrigins),
		// against CORS_ALLOWED_ORIGINS rather than coder/websocket's
		// same-host rule.
		Implementation:        untimedWebsocket{transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{InsecureSkipVerify: true}}},
		InitFunc:              websocketInit(cfg.WebSocketInit, cfg.Credentials, logger),
		InitTimeout:           wsInitTimeout,
		KeepAlivePingInterval: hb,
		PingPongInterval:      hb,
		ErrorFunc: func(ctx context.Context, err error) {
			logger.LogAttrs(ctx, slog.LevelDebug, "websocket connection ended", slog.Any("err", err))
		},
	}
	return ws, heartbeatSSE{transport.SSE{KeepAlivePingInterval: hb}}
}

// heartbeatSSE is gqlgen's SSE transport made safe for its heartbeats:
// gqlgen stops a stream's heartbeat goroutine only when the request's
// context ends, which detachExecution's never does, and a heartbeat written
// after the response has finished crashes net/http. So each stream gets a
// context that ends with it, and a writer that refuses writes once it has.
type heartbeatSSE struct{ transport.SSE }

// Do implements graphql.Transport.
func (t heartbeatSSE) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx, cancel := context.WithCancel(r.Context())
	sw := &streamWriter{ResponseWriter: w}
	defer func() {
		sw.finish()
		cancel()
	}()
	t.SSE.Do(sw, r.WithContext(ctx), exec)
}

// errStreamFinished is what a write after the end of a stream gets.
var errStreamFinished = errors.New("the event stream has finished")

// streamWriter passes writes and flushes to its ResponseWriter until
// finish.
type streamWriter struct {
	http.ResponseWriter
	mu       sync.Mutex
	finished bool
}

func (s *streamWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return 0, errStreamFinished
	}
	return s.ResponseWriter.Write(p)
}

// Flush implements http.Flusher, which gqlgen's SSE transport requires.
func (s *streamWriter) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.finished {
		_ = http.NewResponseController(s.ResponseWriter).Flush()
	}
}

func (s *streamWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *streamWriter) finish() {
	s.mu.Lock()
	s.finished = true
	s.mu.Unlock()
}

// untimedWebsocket clears the connection's read and write deadlines (the
// server's ReadTimeout, meant for reading a request) before the upgrade,
// so that a subscription outlives them; heartbeats watch the connection
// instead.
type untimedWebsocket struct {
	transport.CoderWebsocketImplementation
}

// Accept implements transport.WebsocketImplementation.
func (u untimedWebsocket) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	clearDeadlines(w)
	return u.CoderWebsocketImplementation.Accept(w, r, opts)
}

// clearDeadlines removes the read and write deadlines of w's connection.
func clearDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
}

// websocketInit returns the connection_init hook: authentication by auth
// (nil: none beyond the upgrade's), then the credential the payload names,
// if any, in place of the upgrade's, refused like an HTTP request naming
// it (resolveCredential), with close code 4400.
func websocketInit(auth func(context.Context, map[string]any) (context.Context, error), reg *credentials.Registry, logger *slog.Logger) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		if auth != nil {
			authed, err := auth(ctx, payload)
			if err != nil {
				return refuseInit(ctx, wsCloseForbidden, access.CodeUnauthenticated, err)
			}
			ctx = authed
		}
		if nickname, ok := access.PayloadValue(payload, CredentialHeader); ok && reg != nil {
			e, refusal := resolveCredential(ctx, reg, logger, nickname)
			if refusal != nil {
				return refuseInit(ctx, wsCloseBadRequest, refusal.code, errors.New(refusal.message))
			}
			ctx = newRequest(e.NewRequest(ctx))
		}
		return ctx, nil, nil
	}
}

// refuseInit closes a WebSocket whose connection_init is refused, with
// closeCode and a reason "CODE: message" (at most 123 bytes, the most a
// close frame carries).
func refuseInit(ctx context.Context, closeCode int, code string, err error) (context.Context, *transport.InitPayload, error) {
	reason := code + ": " + err.Error()
	if len(reason) > 123 {
		reason = reason[:120] + "..."
	}
	ctx = transport.WithWebsocketCloseCode(ctx, closeCode)
	ctx = transport.AppendCloseReason(ctx, reason)
	return ctx, nil, fmt.Errorf("%s", reason)
}

// IsSubscriptionRequest reports whether r starts a subscription, which
// lasts as long as its client wants rather than a request's deadline: a
// WebSocket upgrade, or a POST over Server-Sent Events whose operation is a
// subscription. r's body is read and restored.
func IsSubscriptionRequest(r *http.Request) bool {
	if access.IsWebSocketUpgrade(r) {
		return true
	}
	if r.Method != http.MethodPost || r.Body == nil || !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		return false
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return false
	}
	var req struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if json.Unmarshal(body, &req) != nil || !strings.Contains(req.Query, "subscription") {
		return false
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: req.Query})
	if err != nil {
		return false
	}
	var op *ast.OperationDefinition
	switch {
	case req.OperationName != "":
		op = doc.Operations.ForName(req.OperationName)
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	}
	return op != nil && op.Operation == ast.Subscription
}
