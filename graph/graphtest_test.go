package graph

// The shared end-to-end harness of the graph tests: the real handler
// (NewHandler) served by httptest, reading through a real workable.Client
// from a workable/simulator behind another httptest server.
//
//	env := newTestEnv(t)                    // or newTestEnv(t, withSimOptions(...))
//	var out struct{ Candidate struct{ Name string } }
//	env.mustQuery(`query($id: ID!) { candidate(id: $id) { name } }`, vars{"id": id}, &out)
//	resp := env.query(`{ jobs(first: 101) { nodes { id } } }`, nil)   // errors expected
//	resp.requireCode(t, "BAD_USER_INPUT")
//	env.sim.ResetCounts(); ...; env.sim.RequestCount("GET /candidates/{id}")

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/hiring"
	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// vars are the variables of a GraphQL request.
type vars = map[string]any

// testEnv is one gateway in front of one simulator.
type testEnv struct {
	t   *testing.T
	sim *simulator.Simulator
	// client and econ are the default credential's.
	client *workable.Client
	econ   *upstream.Economy
	// registry holds the gateway's credentials: the default one, and any a
	// test adds.
	registry *credentials.Registry
	// srv serves the gateway, nil when it is served in process (inBubble);
	// url and http reach it either way.
	srv  *httptest.Server
	url  string
	http *http.Client
	logs *syncBuffer
	hcfg Config
}

// envConfig collects the options of newTestEnv.
type envConfig struct {
	simOpts    []simulator.Option
	clientOpts []workable.Option
	token      string
	timeout    time.Duration
	complexity int
	wrap       func(Config) http.Handler
	// The upstream economy (see upstream.Config).
	store         cache.Store
	prefix        string
	responseCache bool
	observer      upstream.Observer
	// credStore keeps the credentials added through the API (nil: in
	// memory); accounts maps other subdomains to their Workable base URL.
	credStore credentials.Store
	accounts  map[string]string
	sim       *simulator.Simulator
	// simWrap wraps the simulator's handler (a proxy that alters what
	// Workable answers).
	simWrap func(http.Handler) http.Handler
	// memberID is the default credential's default acting member.
	memberID string
	// upstreamOpts change the upstream.Config further.
	upstreamOpts []func(*upstream.Config)
	// inBubble serves the gateway and the simulator in process.
	inBubble bool
}

// withUpstream changes the upstream.Config of the env's credentials.
func withUpstream(f func(*upstream.Config)) envOption {
	return func(c *envConfig) { c.upstreamOpts = append(c.upstreamOpts, f) }
}

// withMemberID sets the default credential's default acting member
// (WORKABLE_MEMBER_ID).
func withMemberID(id string) envOption { return func(c *envConfig) { c.memberID = id } }

// withSim serves an existing simulator instead of a new one (two gateways
// in front of one Workable account).
func withSim(sim *simulator.Simulator) envOption { return func(c *envConfig) { c.sim = sim } }

// withCache makes the gateway cache in store, each credential under
// prefix + cache.Namespace(subdomain, token).
func withCache(store cache.Store, prefix string) envOption {
	return func(c *envConfig) { c.store, c.prefix = store, prefix }
}

// withObserver makes obs observe the cache layer.
func withObserver(obs upstream.Observer) envOption { return func(c *envConfig) { c.observer = obs } }

// withCredentialStore keeps the credentials added through the API in
// store.
func withCredentialStore(store credentials.Store) envOption {
	return func(c *envConfig) { c.credStore = store }
}

// withAccount makes the credentials with subdomain read Workable at
// baseURL (another simulator).
func withAccount(subdomain, baseURL string) envOption {
	return func(c *envConfig) {
		if c.accounts == nil {
			c.accounts = make(map[string]string)
		}
		c.accounts[subdomain] = baseURL
	}
}

// withResponseCache switches the whole-response cache on.
func withResponseCache() envOption { return func(c *envConfig) { c.responseCache = true } }

// inBubble serves the gateway and the simulator in process (inProcess),
// for a test in a testing/synctest bubble: a goroutine waiting on a socket
// would keep the bubble's clock from moving. The test then moves the time
// that decides freshness with time.Sleep.
func inBubble() envOption { return func(c *envConfig) { c.inBubble = true } }

// withSimProxy puts wrap in front of the simulator: the gateway talks to
// wrap(sim.Handler()), e.g. a proxy that drops what the reference does not
// promise Workable sends.
func withSimProxy(wrap func(http.Handler) http.Handler) envOption {
	return func(c *envConfig) { c.simWrap = wrap }
}

type envOption func(*envConfig)

// withSimOptions passes options to simulator.New.
func withSimOptions(opts ...simulator.Option) envOption {
	return func(c *envConfig) { c.simOpts = append(c.simOpts, opts...) }
}

// withClientOptions adds options to workable.NewClient (after the harness's
// own, so they win).
func withClientOptions(opts ...workable.Option) envOption {
	return func(c *envConfig) { c.clientOpts = append(c.clientOpts, opts...) }
}

// withToken makes the gateway use another Workable token than the
// simulator's DemoToken.
func withToken(token string) envOption { return func(c *envConfig) { c.token = token } }

// withRequestTimeout gives every GraphQL request a context deadline, like a
// server's request timeout.
func withRequestTimeout(d time.Duration) envOption { return func(c *envConfig) { c.timeout = d } }

// withHandler replaces NewHandler (e.g. to add a test-only field middleware).
func withHandler(f func(Config) http.Handler) envOption { return func(c *envConfig) { c.wrap = f } }

// newTestEnv starts a simulator and a gateway in front of it; both stop at
// the end of the test.
func newTestEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	cfg := envConfig{token: simulator.DemoToken}
	for _, o := range opts {
		o(&cfg)
	}
	sim := cfg.sim
	if sim == nil {
		sim = simulator.New(cfg.simOpts...)
	}
	var simHandler http.Handler = sim.Handler()
	if cfg.simWrap != nil {
		simHandler = cfg.simWrap(simHandler)
	}
	simURL := "http://workable.test"
	var simOpts []workable.Option
	if cfg.inBubble {
		simOpts = append(simOpts, workable.WithHTTPClient(&http.Client{Transport: inProcess{simHandler}}))
	} else {
		simSrv := httptest.NewServer(simHandler)
		t.Cleanup(simSrv.Close)
		simURL = simSrv.URL
	}

	newClient := func(cr credentials.Credential) (*workable.Client, error) {
		base := simURL + "/spi/v3/"
		if b, ok := cfg.accounts[cr.Subdomain]; ok {
			base = b
		}
		opts := append([]workable.Option{
			workable.WithBaseURL(base),
			// Generous: the tests count calls, they do not test the budget.
			workable.WithRateLimiter(workable.NewWindowLimiter(100000, time.Second, workable.WithFixedLimit())),
			workable.WithRetry(2, time.Millisecond, 2*time.Millisecond),
			workable.WithRequestHook(upstream.CountWorkableCalls),
		}, simOpts...)
		return workable.NewClient(cr.Subdomain, cr.Token, append(opts, cfg.clientOpts...)...)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	credStore := cfg.credStore
	if credStore == nil {
		credStore = credentials.NewMemoryStore()
	}
	// One handler mode: the default credential, like the environment's.
	ucfg := upstream.Config{
		Cache:           cfg.store,
		NamespacePrefix: cfg.prefix,
		ResponseCache:   cfg.responseCache,
		Logger:          logger,
		Observer:        cfg.observer,
	}
	for _, f := range cfg.upstreamOpts {
		f(&ucfg)
	}
	registry := credentials.NewRegistry(credStore,
		&credentials.Credential{Subdomain: simulator.DemoSubdomain, Token: cfg.token, MemberID: cfg.memberID},
		newClient, credentials.WithTestTimeout(5*time.Second), credentials.WithUpstream(ucfg))
	econ, _, err := registry.Economy(t.Context(), credentials.DefaultNickname)
	if err != nil {
		t.Fatalf("the default credential's economy: %v", err)
	}
	hcfg := Config{
		Credentials:     registry,
		ComplexityLimit: cfg.complexity,
		Logger:          logger,
	}
	var h http.Handler
	if cfg.wrap != nil {
		h = cfg.wrap(hcfg)
	} else {
		h = NewHandler(hcfg)
	}
	if cfg.timeout > 0 {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), cfg.timeout)
			defer cancel()
			inner.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	env := &testEnv{t: t, sim: sim, client: econ.Client(), econ: econ, registry: registry, logs: logs, hcfg: hcfg}
	if cfg.inBubble {
		env.url, env.http = "http://gateway.test", &http.Client{Transport: inProcess{h}}
	} else {
		env.srv = httptest.NewServer(h)
		t.Cleanup(env.srv.Close)
		env.url, env.http = env.srv.URL, http.DefaultClient
	}
	return env
}

// inProcess is an http.RoundTripper that serves each request with h in the
// calling goroutine, without sockets. A handler that hijacks the
// connection (to drop it) makes the round trip fail as a connection lost
// before any answer; one whose request's context ends makes it fail with
// the context's error, as a real connection would.
type inProcess struct{ h http.Handler }

func (p inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	sr := req.Clone(req.Context())
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	sr.Host, sr.RequestURI, sr.RemoteAddr = req.URL.Host, req.URL.RequestURI(), "127.0.0.1:1"
	rec := &hijackRecorder{ResponseRecorder: httptest.NewRecorder()}
	p.h.ServeHTTP(rec, sr)
	if err := req.Context().Err(); err != nil {
		return nil, fmt.Errorf("in-process %s %s: %w", req.Method, req.URL.Path, err)
	}
	if rec.hijacked {
		return nil, fmt.Errorf("in-process %s %s: connection dropped: %w", req.Method, req.URL.Path, io.ErrUnexpectedEOF)
	}
	return rec.Result(), nil
}

// hijackRecorder is a ResponseRecorder whose connection can be hijacked:
// the handler gets one end of a pipe whose other end is closed.
type hijackRecorder struct {
	*httptest.ResponseRecorder
	hijacked bool
}

func (r *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.hijacked = true
	c, peer := net.Pipe()
	_ = peer.Close()
	return c, bufio.NewReadWriter(bufio.NewReader(c), bufio.NewWriter(c)), nil
}

// resolver returns a resolver over the env's default credential and the
// context of one request (its loaders and cost), for calling resolver
// methods directly.
func (e *testEnv) resolver() (*Resolver, context.Context) {
	ctx := newRequest(e.econ.NewRequest(context.Background()))
	idem := idempotency.NewMemoryStore()
	return &Resolver{logger: e.hcfg.Logger, creds: e.registry, idem: idem,
		writes: hiring.Writes{Store: idem, TTL: idempotency.DefaultTTL}}, ctx
}

// benchClient returns a client of the simulator at simURL whose rate limit
// never binds, counting calls for extensions.cost.
func benchClient(tb testing.TB, simURL string) *workable.Client {
	tb.Helper()
	client, err := workable.NewClient(simulator.DemoSubdomain, simulator.DemoToken,
		workable.WithBaseURL(simURL+"/spi/v3/"),
		workable.WithRateLimiter(workable.NewWindowLimiter(1_000_000, time.Second, workable.WithFixedLimit())),
		workable.WithRequestHook(upstream.CountWorkableCalls))
	if err != nil {
		tb.Fatal(err)
	}
	return client
}

// oneCredential returns a registry whose only credential, the default, reads
// Workable with client (for handlers built without newTestEnv).
func oneCredential(client *workable.Client, ucfg upstream.Config) *credentials.Registry {
	return credentials.NewRegistry(credentials.NewMemoryStore(),
		&credentials.Credential{Subdomain: simulator.DemoSubdomain, Token: simulator.DemoToken},
		func(credentials.Credential) (*workable.Client, error) { return client, nil },
		credentials.WithUpstream(ucfg))
}

// gqlResponse is a decoded GraphQL response.
type gqlResponse struct {
	Status int             `json:"-"`
	Raw    string          `json:"-"`
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// gqlError is one entry of a response's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns extensions.code.
func (e gqlError) Code() string {
	s, _ := e.Extensions["code"].(string)
	return s
}

// query POSTs a GraphQL request to /query and decodes the answer.
func (e *testEnv) query(q string, v vars) gqlResponse {
	e.t.Helper()
	body, err := json.Marshal(map[string]any{"query": q, "variables": v})
	if err != nil {
		e.t.Fatalf("encode request: %v", err)
	}
	resp, err := e.http.Post(e.url+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		e.t.Fatalf("POST /query: %v", err)
	}
	defer resp.Body.Close()
	return e.decode(resp)
}

// get sends a query with GET /query?query=….
func (e *testEnv) get(q string) gqlResponse {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.url+"/query", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	qs := req.URL.Query()
	qs.Set("query", q)
	req.URL.RawQuery = qs.Encode()
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("GET /query: %v", err)
	}
	defer resp.Body.Close()
	return e.decode(resp)
}

func (e *testEnv) decode(resp *http.Response) gqlResponse {
	e.t.Helper()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read response: %v", err)
	}
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatalf("decode response %q: %v", raw, err)
	}
	out.Status, out.Raw = resp.StatusCode, string(raw)
	return out
}

// mustQuery runs a query that must succeed and decodes its data into out
// (nil to ignore).
func (e *testEnv) mustQuery(q string, v vars, out any) {
	e.t.Helper()
	resp := e.query(q, v)
	if len(resp.Errors) > 0 {
		e.t.Fatalf("query failed: %s\nquery: %s", resp.Raw, q)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Data, out); err != nil {
			e.t.Fatalf("decode data %s: %v", resp.Data, err)
		}
	}
}

// requireCode fails unless the response has exactly one error and it has
// the code; it returns that error.
func (r gqlResponse) requireCode(t *testing.T, code string) gqlError {
	t.Helper()
	if len(r.Errors) != 1 {
		t.Fatalf("want exactly one error with code %s, got %s", code, r.Raw)
	}
	if got := r.Errors[0].Code(); got != code {
		t.Fatalf("error code = %q, want %q; response %s", got, code, r.Raw)
	}
	return r.Errors[0]
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (the logger).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// contains reports whether the logs contain s.
func (b *syncBuffer) contains(s string) bool { return strings.Contains(b.String(), s) }
