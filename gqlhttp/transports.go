package gqlhttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/workablegw/gateway/access"
)

// Subscriptions travel over two transports of /query:
//
//   - graphql-transport-ws (a WebSocket; gqlgen's transport.Websocket, which
//     also speaks the older graphql-ws subprotocol). The API key may come in
//     the upgrade's Authorization header or, as browsers cannot set headers
//     on a WebSocket, in the connection_init payload (Options.Init); so
//     may the credential (an "X-Workable-Credential" entry). A refused
//     connection_init closes the socket with its InitRefusal's close code
//     and a reason that starts with the error code.
//   - GraphQL over SSE (gqlgen's transport.SSE, "distinct connections" mode:
//     POST with Accept: text/event-stream), with the same headers as any
//     request to /query.
//
// Both send heartbeats every Options.Heartbeat, so that proxies
// keep an idle subscription open and a vanished client is noticed:
// graphql-transport-ws pings (a client that does not answer with a pong
// within two intervals is disconnected), the older graphql-ws sends "ka",
// and SSE a comment line.

// DefaultHeartbeat is Options.Heartbeat's default: shorter than the 30 to
// 60 s after which common proxies and load balancers drop an idle
// connection.
const DefaultHeartbeat = 15 * time.Second

// Options configures the transports of /query.
type Options struct {
	// Heartbeat is how often a subscription's connection carries a
	// heartbeat; 0 means DefaultHeartbeat.
	Heartbeat time.Duration
	// Init accepts or refuses a WebSocket's connection_init from its
	// payload: it returns the connection's context, or an error (an
	// *InitRefusal says how the socket closes; any other error closes it
	// with CloseForbidden and code UNAUTHENTICATED). Nil accepts every
	// connection.
	Init func(ctx context.Context, payload map[string]any) (context.Context, error)
	// Logger receives the end of each WebSocket connection (debug); nil
	// discards.
	Logger *slog.Logger
}

// InitRefusal refuses a WebSocket's connection_init: the socket closes
// with CloseCode and the reason "Code: Err".
type InitRefusal struct {
	CloseCode int
	Code      string
	Err       error
}

func (e *InitRefusal) Error() string { return e.Code + ": " + e.Err.Error() }
func (e *InitRefusal) Unwrap() error { return e.Err }

// wsInitTimeout bounds the wait for a WebSocket's connection_init.
const wsInitTimeout = 10 * time.Second

// Close codes of graphql-transport-ws.
const (
	CloseBadRequest = 4400
	CloseForbidden  = 4403
)

// subscriptionTransports returns the WebSocket and SSE transports of opts.
func subscriptionTransports(opts Options) (ws transport.Websocket, sse graphql.Transport) {
	hb := opts.Heartbeat
	if hb <= 0 {
		hb = DefaultHeartbeat
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ws = transport.Websocket{
		// Origins are checked before the upgrade (access.WebSocketOrigins),
		// against CORS_ALLOWED_ORIGINS rather than coder/websocket's
		// same-host rule.
		Implementation:        untimedWebsocket{transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{InsecureSkipVerify: true}}},
		InitFunc:              websocketInit(opts.Init),
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
// context ends, which Detach's never does, and a heartbeat written
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
	ClearDeadlines(w)
	return u.CoderWebsocketImplementation.Accept(w, r, opts)
}

// ClearDeadlines removes the read and write deadlines of w's connection:
// a subscription lasts while its client listens, and net/http would end a
// stream whose read deadline passed.
func ClearDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
}

// websocketInit returns the connection_init hook of init (nil: accept
// every connection).
func websocketInit(init func(context.Context, map[string]any) (context.Context, error)) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		if init == nil {
			return ctx, nil, nil
		}
		accepted, err := init(ctx, payload)
		if err != nil {
			var refusal *InitRefusal
			if !errors.As(err, &refusal) {
				refusal = &InitRefusal{CloseCode: CloseForbidden, Code: access.CodeUnauthenticated, Err: err}
			}
			return refuseInit(ctx, refusal.CloseCode, refusal.Code, refusal.Err)
		}
		return accepted, nil, nil
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
	if r.Method != http.MethodPost || !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		return false
	}
	query, name, ok := bodyParams(r)
	if !ok || !strings.Contains(query, "subscription") {
		return false
	}
	op := operationOf(query, name)
	return op != nil && op.Operation == ast.Subscription
}
