package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// End-to-end tests of subscriptions through the real binary (run): both
// transports, authentication, origins, and events crossing replicas through
// Redis.

const boardSubscription = `subscription($job: String) { candidateEvents(jobShortcode: $job) { kind source stage jobShortcode candidate { id stage } } }`

// boardEvent is a candidateEvents payload as these tests read it.
type boardEvent struct {
	Kind, Source, Stage, JobShortcode string
	Candidate                         *struct{ ID, Stage string }
}

// wsClient speaks graphql-transport-ws to a gateway.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	msgs chan wsMessage
	// pings receives one value per ping of the gateway, which the client
	// answers with a pong unless silent.
	pings  chan struct{}
	silent bool
	closed chan error
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialWS opens a graphql-transport-ws connection to base's /query with
// header, and sends connection_init with payload. It returns the client
// and, when the gateway refused the connection, its close error.
func dialWS(t *testing.T, base string, header http.Header, payload map[string]any) (*wsClient, error) {
	t.Helper()
	return dialWSClient(t, base, header, payload, false)
}

// dialWSClient is dialWS with a client that does not answer pings when
// silent.
func dialWSClient(t *testing.T, base string, header http.Header, payload map[string]any, silent bool) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/query", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header,
	})
	if err != nil {
		if resp != nil {
			return nil, &upgradeRefused{status: resp.StatusCode}
		}
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &wsClient{t: t, conn: conn, msgs: make(chan wsMessage, 64), pings: make(chan struct{}, 1024), silent: silent, closed: make(chan error, 1)}
	readErr := make(chan error, 1)
	go func() {
		defer close(c.msgs)
		for {
			var m wsMessage
			if err := wsjson.Read(context.Background(), conn, &m); err != nil {
				readErr <- err
				c.closed <- err
				return
			}
			if m.Type == "ping" {
				select {
				case c.pings <- struct{}{}:
				default:
				}
				if !c.silent {
					_ = wsjson.Write(context.Background(), conn, wsMessage{Type: "pong"})
				}
				continue
			}
			c.msgs <- m
		}
	}()
	if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init", "payload": payload}); err != nil {
		t.Fatalf("connection_init: %v", err)
	}
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				return nil, <-readErr
			}
			if m.Type == "connection_ack" {
				return c, nil
			}
		case <-ctx.Done():
			t.Fatal("no connection_ack within 10 s")
		}
	}
}

// upgradeRefused is an upgrade answered with an HTTP status.
type upgradeRefused struct{ status int }

func (e *upgradeRefused) Error() string { return http.StatusText(e.status) }

// subscribe starts a subscription with id.
func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	err := wsjson.Write(context.Background(), c.conn, map[string]any{"id": id, "type": "subscribe",
		"payload": map[string]any{"query": query, "variables": vars}})
	if err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next message other than a ping or pong.
func (c *wsClient) next() wsMessage {
	c.t.Helper()
	select {
	case m, ok := <-c.msgs:
		if !ok {
			c.t.Fatal("the WebSocket closed")
		}
		return m
	case <-time.After(10 * time.Second):
		c.t.Fatal("no message within 10 s")
	}
	return wsMessage{}
}

// nextEvent returns the payload of the next "next" message as an event.
func (c *wsClient) nextEvent() boardEvent {
	c.t.Helper()
	m := c.next()
	var p struct {
		Data   struct{ CandidateEvents boardEvent }
		Errors json.RawMessage
	}
	if m.Type != "next" || json.Unmarshal(m.Payload, &p) != nil || len(p.Errors) > 0 {
		c.t.Fatalf("want an event, got %s %s", m.Type, m.Payload)
	}
	return p.Data.CandidateEvents
}

// closeStatus returns the close code and reason of err, as the gateway
// closed the WebSocket.
func closeStatus(err error) (websocket.StatusCode, string) {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Reason
	}
	return -1, ""
}

// sseSubscribe starts a GraphQL over SSE subscription and returns its
// events' data, one per "next".
func sseSubscribe(t *testing.T, base string, header http.Header, query string, vars map[string]any) (*http.Response, <-chan string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/query", strings.NewReader(string(body)))
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data := make(chan string, 64)
	go func() {
		defer resp.Body.Close()
		defer close(data)
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:") && event == "next":
				data <- strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			}
		}
	}()
	return resp, data
}

// waitSubscriptions waits until base's /metrics counts n live
// subscriptions: a subscription starts on its own time after its request
// (or subscribe message) is sent.
func waitSubscriptions(t *testing.T, base string, n int) {
	t.Helper()
	want := "gateway_subscriptions " + strconv.Itoa(n) + "\n"
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(raw), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics never said %q", strings.TrimSpace(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSubscriptionsAcrossReplicas: two gateways on one Redis and one
// Workable account; a candidate moved through one reaches the subscribers
// of the other, over graphql-transport-ws and over SSE, with the candidate
// as it is after the move.
func TestSubscriptionsAcrossReplicas(t *testing.T) {
	t.Parallel()
	sim := simulator.New(simulator.WithToken(workableToken), simulator.WithCandidates(20))
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)
	u, prefix := redisURL(t)
	start := func() string {
		env := map[string]string{
			"PORT": "0", "WORKABLE_SUBDOMAIN": simulator.DemoSubdomain, "WORKABLE_API_TOKEN": workableToken,
			"WORKABLE_BASE_URL": simSrv.URL + "/spi/v3/", "GATEWAY_API_KEYS": apiKeys,
			"REDIS_URL": u, "CACHE_PREFIX": prefix, "CREDENTIALS_KEY": testCredentialsKey,
			"WORKABLE_MEMBER_ID": simulator.DemoMemberID,
			// Only the move's event: the refresher would report changes of its own.
			"REFRESH_ENABLED": "false",
		}
		base, stop := startRun(t, nil, env, `listening on (http://localhost:\d+)/query`)
		t.Cleanup(func() {
			if err := stop(); err != nil {
				t.Errorf("run: %v", err)
			}
		})
		return base
	}
	a, b := start(), start()

	var c workable.Candidate
	for _, cand := range sim.Candidates() {
		if cand.Stage != nil && *cand.Stage == "Applied" && !cand.Disqualified {
			c = cand
			break
		}
	}
	if c.ID == "" {
		t.Fatal("no candidate in Applied")
	}
	ws, err := dialWS(t, b, nil, map[string]any{"Authorization": "Bearer " + readerKey})
	if err != nil {
		t.Fatalf("connection_init with a reader key: %v", err)
	}
	ws.subscribe("1", boardSubscription, map[string]any{"job": c.Job.Shortcode})
	resp, sse := sseSubscribe(t, b, hdr("Authorization", "Bearer "+readerKey), boardSubscription, map[string]any{"job": c.Job.Shortcode})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("SSE subscription: %d", resp.StatusCode)
	}
	waitSubscriptions(t, b, 2)

	move := `mutation($in: MoveCandidateInput!) { moveCandidate(input: $in) { candidate { stage } userErrors { code } } }`
	if r := (&gateway{t: t, base: a}).gql(writerKey, move, map[string]any{"in": map[string]any{"id": c.ID, "toStage": "interview"}}); r.code() != "" || !strings.Contains(r.Raw, "Interview") {
		t.Fatalf("move through replica a: %s", r.Raw)
	}
	check := func(over string, ev boardEvent) {
		if ev.Kind != "MOVED" || ev.Source != "GATEWAY" || ev.Stage != "Interview" || ev.JobShortcode != c.Job.Shortcode ||
			ev.Candidate == nil || ev.Candidate.ID != c.ID || ev.Candidate.Stage != "Interview" {
			t.Errorf("over %s: event %+v (candidate %+v)", over, ev, ev.Candidate)
		}
	}
	check("graphql-transport-ws", ws.nextEvent())
	select {
	case d := <-sse:
		var p struct {
			Data struct{ CandidateEvents boardEvent }
		}
		if err := json.Unmarshal([]byte(d), &p); err != nil {
			t.Fatalf("SSE data %q: %v", d, err)
		}
		check("SSE", p.Data.CandidateEvents)
	case <-time.After(10 * time.Second):
		t.Fatal("no SSE event within 10 s")
	}
}

// TestSubscriptionAuthentication: a WebSocket authenticates with the API key
// of its upgrade or of its connection_init payload, else it is closed with
// 4403; a browser page of another origin cannot open one; SSE takes the
// header like any request; roles apply.
func TestSubscriptionAuthentication(t *testing.T) {
	t.Parallel()
	g := startGateway(t, map[string]string{"CORS_ALLOWED_ORIGINS": "https://board.example.com"})
	refused := func(name string, header http.Header, payload map[string]any, wantCode websocket.StatusCode, wantReason string) {
		t.Helper()
		_, err := dialWS(t, g.base, header, payload)
		code, reason := closeStatus(err)
		if code != wantCode || !strings.HasPrefix(reason, wantReason) {
			t.Errorf("%s: closed with %d %q (%v), want %d %q…", name, code, reason, err, wantCode, wantReason)
		}
	}
	refused("no key", nil, nil, 4403, "UNAUTHENTICATED: an API key is required")
	refused("a wrong key", nil, map[string]any{"Authorization": "Bearer not-a-key"}, 4403, "UNAUTHENTICATED: the API key is not valid")
	refused("not Bearer", nil, map[string]any{"authorization": readerKey}, 4403, "UNAUTHENTICATED")
	refused("an unknown credential", nil, map[string]any{"Authorization": "Bearer " + readerKey, "X-Workable-Credential": "nope"},
		4400, "UNKNOWN_CREDENTIAL")

	for name, dial := range map[string]struct {
		header  http.Header
		payload map[string]any
	}{
		"key in the payload":             {nil, map[string]any{"Authorization": "Bearer " + readerKey}},
		"key in the payload's headers":   {nil, map[string]any{"headers": map[string]any{"authorization": "Bearer " + readerKey}}},
		"key in the upgrade":             {hdr("Authorization", "Bearer "+readerKey), nil},
		"an allowed browser origin":      {hdr("Origin", "https://board.example.com"), map[string]any{"Authorization": "Bearer " + readerKey}},
		"the default credential by name": {nil, map[string]any{"Authorization": "Bearer " + readerKey, "X-Workable-Credential": "default"}},
	} {
		if _, err := dialWS(t, g.base, dial.header, dial.payload); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := dialWS(t, g.base, hdr("Authorization", "Bearer wrong"), nil); err == nil || err.(*upgradeRefused).status != http.StatusUnauthorized {
		t.Errorf("a wrong key in the upgrade: %v, want 401", err)
	}
	if _, err := dialWS(t, g.base, hdr("Origin", "https://evil.example.com"), map[string]any{"Authorization": "Bearer " + readerKey}); err == nil ||
		err.(*upgradeRefused).status != http.StatusForbidden {
		t.Errorf("another origin: %v, want 403", err)
	}

	// A subscription over an authenticated WebSocket is a reader's field: a
	// reader may, and mutations over it still need a writer.
	ws, err := dialWS(t, g.base, nil, map[string]any{"Authorization": "Bearer " + readerKey})
	if err != nil {
		t.Fatal(err)
	}
	ws.subscribe("m", `mutation { moveCandidate(input: {id: "1a2b", toStage: "interview"}) { userErrors { code } } }`, nil)
	if m := ws.next(); m.Type != "next" || !strings.Contains(string(m.Payload), `"FORBIDDEN"`) {
		t.Errorf("a mutation with a reader key over the WebSocket: %s %s", m.Type, m.Payload)
	}
	ws.subscribe("s", boardSubscription, nil)
	waitSubscriptions(t, g.base, 1)

	if resp, _ := sseSubscribe(t, g.base, nil, boardSubscription, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("SSE without a key: %d, want 401", resp.StatusCode)
	}
	if resp, _ := sseSubscribe(t, g.base, hdr("Authorization", "Bearer "+readerKey), boardSubscription, nil); resp.StatusCode != http.StatusOK ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Errorf("SSE with a reader key: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	waitSubscriptions(t, g.base, 2)
}

// TestSubscriptionsHaveNoDeadline: REQUEST_TIMEOUT bounds requests, not
// subscriptions, which last while their client listens.
func TestSubscriptionsHaveNoDeadline(t *testing.T) {
	t.Parallel()
	sec := security{RequestTimeout: time.Hour}
	var bounded bool
	h := sec.deadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, bounded = r.Context().Deadline()
		if body, _ := io.ReadAll(r.Body); len(body) == 0 && r.Method == http.MethodPost {
			t.Error("the body did not reach the handler")
		}
	}))
	for _, tc := range []struct {
		name, method, accept, body string
		upgrade, want              bool
	}{
		{"a query", http.MethodPost, "application/json", `{"query":"{ jobs { totalCount } }"}`, false, true},
		{"a query over SSE (@defer)", http.MethodPost, "text/event-stream", `{"query":"{ jobs { totalCount } }"}`, false, true},
		{"a subscription over SSE", http.MethodPost, "text/event-stream", `{"query":"subscription { candidateEvents { kind } }"}`, false, false},
		{"the subscription named", http.MethodPost, "text/event-stream",
			`{"query":"query Q { jobs { totalCount } } subscription S { candidateEvents { kind } }","operationName":"S"}`, false, false},
		{"the query named", http.MethodPost, "text/event-stream",
			`{"query":"query Q { jobs { totalCount } } subscription S { candidateEvents { kind } }","operationName":"Q"}`, false, true},
		{"a subscription over plain POST", http.MethodPost, "application/json", `{"query":"subscription { candidateEvents { kind } }"}`, false, true},
		{"a WebSocket upgrade", http.MethodGet, "", "", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/query", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Accept", tc.accept)
			if tc.upgrade {
				r.Header.Set("Upgrade", "websocket")
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if bounded != tc.want {
				t.Errorf("deadline = %v, want %v", bounded, tc.want)
			}
		})
	}
}

// TestShutdownEndsSubscriptions: a graceful shutdown ends the live
// subscriptions (an SSE stream completes, a WebSocket subscription gets
// complete) instead of waiting for them until SHUTDOWN_TIMEOUT.
func TestShutdownEndsSubscriptions(t *testing.T) {
	t.Parallel()
	// A shutdown that waited for the SSE stream would fail after an hour.
	base, stop := startRun(t, nil, map[string]string{"PORT": "0", "SHUTDOWN_TIMEOUT": "1h", "REFRESH_ENABLED": "false"},
		`listening on (http://localhost:\d+)/query`)
	ws, err := dialWS(t, base, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.subscribe("1", boardSubscription, nil)
	_, sse := sseSubscribe(t, base, nil, boardSubscription, nil)
	waitSubscriptions(t, base, 2)
	if err := stop(); err != nil {
		t.Fatalf("shutdown with live subscriptions: %v", err)
	}
	if m := ws.next(); m.Type != "complete" || m.ID != "1" {
		t.Errorf("the WebSocket subscription got %s %s, want complete", m.Type, m.Payload)
	}
	for d := range sse {
		t.Errorf("the SSE stream carried %s before it ended", d)
	}
}

// TestWebSocketHeartbeats: the gateway pings an idle WebSocket every
// SUBSCRIPTION_HEARTBEAT, keeps one whose client answers, and drops one
// whose client does not.
func TestWebSocketHeartbeats(t *testing.T) {
	t.Parallel()
	// The client must answer each ping within two intervals: 250 ms keeps
	// the test short while a busy CI machine (-race, 2 cores) still gets a
	// pong back in time; at 20 ms a scheduling delay of 40 ms dropped the
	// answering client too.
	base, stop := startRun(t, nil, map[string]string{"PORT": "0", "SUBSCRIPTION_HEARTBEAT": "250ms", "REFRESH_ENABLED": "false"},
		`listening on (http://localhost:\d+)/query`)
	t.Cleanup(func() { stop() })
	answering, err := dialWSClient(t, base, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	silent, err := dialWSClient(t, base, nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	// The silent client is dropped (after two intervals without a pong)...
	select {
	case <-silent.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("a client that never answers pings is still connected after 10 s")
	}
	// ...while the answering one, pinged all along, keeps its connection.
	for range 5 {
		select {
		case <-answering.pings:
		case err := <-answering.closed:
			t.Fatalf("the answering client was disconnected: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("no ping within 10 s")
		}
	}
	select {
	case err := <-answering.closed:
		t.Fatalf("the answering client was disconnected: %v", err)
	default:
	}
}
