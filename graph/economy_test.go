package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/ratebudget"
	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// Tests of the upstream economy: the Workable calls of the typical queries,
// write invalidation, stale answers and extensions.cost, each on the
// in-process cache and on Redis (REDIS_URL when set, else miniredis).

// backend is a cache backend the economy tests run on.
type backend struct {
	name string
	// server starts, outside any testing/synctest bubble, the server the
	// store talks to: Redis (REDIS_URL when set, else miniredis), nil for
	// the memory store. A server in the bubble would keep its clock from
	// moving: its goroutines wait on the network.
	server func(t testing.TB) *redistest.Server
	// store returns a fresh store on srv, made for t (in a bubble or not)
	// and closed when t ends, and a namespace prefix of its own.
	store func(t *testing.T, srv *redistest.Server) (cache.Store, string)
}

func backends() []backend {
	return []backend{
		{"memory", func(testing.TB) *redistest.Server { return nil }, func(t *testing.T, _ *redistest.Server) (cache.Store, string) {
			m := cache.NewMemory(0)
			t.Cleanup(m.Close)
			return m, ""
		}},
		{"redis", redistest.NewServer, func(t *testing.T, srv *redistest.Server) (cache.Store, string) {
			// A generous timeout: these tests count calls and must not see
			// the breaker trip on a busy CI machine.
			return cache.NewRedis(srv.NewClient(t), cache.WithTimeout(5*time.Second)), srv.Prefix
		}},
	}
}

// econEnv is a gateway with a cache of backend b.
func econEnv(t *testing.T, b backend, opts ...envOption) *testEnv {
	t.Helper()
	store, prefix := b.store(t, b.server(t))
	return newTestEnv(t, append([]envOption{withCache(store, prefix)}, opts...)...)
}

// econBubble runs f in a testing/synctest bubble on a gateway with a cache
// of backend b, served in process (inBubble): f moves the time that decides
// freshness with time.Sleep. Redis keeps its own clock (a real server's
// cannot be moved): entries expire there on the server's time, not the
// bubble's, so a test that sleeps past a fresh time still finds the
// entries held.
func econBubble(t *testing.T, b backend, f func(t *testing.T, env *testEnv), opts ...envOption) {
	t.Helper()
	srv := b.server(t)
	synctest.Test(t, func(t *testing.T) {
		store, prefix := b.store(t, srv)
		env := newTestEnv(t, append([]envOption{withCache(store, prefix), inBubble()}, opts...)...)
		// Before the store closes: the fetches that went on after their
		// request ended (a shared fetch does, and then drops its lock in
		// the store) run through their Workable timeouts on the bubble's
		// clock and end, as the bubble requires.
		t.Cleanup(func() { time.Sleep(time.Minute) })
		f(t, env)
	})
}

// extensions is the decoded extensions of a response.
type extensions struct {
	Cost          upstream.Cost       `json:"cost"`
	Stale         bool                `json:"stale"`
	StaleData     []upstream.StaleRef `json:"staleData"`
	ResponseCache bool                `json:"responseCache"`
}

func extensionsOf(t *testing.T, r gqlResponse) extensions {
	t.Helper()
	var out struct {
		Extensions *extensions `json:"extensions"`
	}
	if err := json.Unmarshal([]byte(r.Raw), &out); err != nil || out.Extensions == nil {
		t.Fatalf("response without extensions (%v): %s", err, r.Raw)
	}
	return *out.Extensions
}

// post sends a query from any goroutine; it returns an error instead of
// failing the test.
func (e *testEnv) post(q string, v vars) (gqlResponse, error) {
	body, err := json.Marshal(map[string]any{"query": q, "variables": v})
	if err != nil {
		return gqlResponse{}, err
	}
	resp, err := e.http.Post(e.url+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		return gqlResponse{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return gqlResponse{}, err
	}
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return gqlResponse{}, fmt.Errorf("decode %q: %w", raw, err)
	}
	out.Status, out.Raw = resp.StatusCode, string(raw)
	if len(out.Errors) > 0 {
		return out, fmt.Errorf("query failed: %s", raw)
	}
	return out, nil
}

// queryAll sends every request at once and returns the responses in order;
// it fails the test if any fails.
func queryAll(t *testing.T, reqs []func() (gqlResponse, error)) []gqlResponse {
	t.Helper()
	out := make([]gqlResponse, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Go(func() { out[i], errs[i] = req() })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return out
}

const (
	qListJobs      = `{ candidates(first: 50) { nodes { id name job { shortcode title } } } }`
	qListJobState  = `{ candidates(first: 50) { nodes { id name job { shortcode title state location { city } } } } }`
	qDetailsActs   = `{ candidates(first: 20) { nodes { summary activities(first: 5) { nodes { action } } } } }`
	qAliasSummary  = `query($id: ID!) { a: candidate(id: $id) { summary } b: candidate(id: $id) { summary } }`
	qSummary       = `query($id: ID!) { candidate(id: $id) { summary } }`
	qNameAndDetail = `query($id: ID!) { candidate(id: $id) { id name summary headline } }`
)

// TestWorkableCallFigures: the Workable calls of the typical queries (the
// benchmarks' queries), cold and warm, counted by the simulator, on both
// caches.
func TestWorkableCallFigures(t *testing.T) {
	t.Parallel()
	rows := []struct {
		name   string
		warmup string // sent first, not counted ("" for a cold cache)
		query  string
		id     bool // the query takes $id
		want   int
		atMost bool
	}{
		{"candidates with job shortcode and title, cold", "", qListJobs, false, 1, false},
		{"the same, again", qListJobs, qListJobs, false, 0, false},
		{"the same with job state and location, cold", "", qListJobState, false, 2, true},
		{"twenty summaries with five activities each, cold", "", qDetailsActs, false, 41, true},
		{"the same, again (details and activities)", qDetailsActs, qDetailsActs, false, 0, false},
		{"one candidate's summary under two aliases", "", qAliasSummary, true, 1, false},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, row := range rows {
				t.Run(row.name, func(t *testing.T) {
					t.Parallel()
					env := econEnv(t, b)
					var v vars
					if row.id {
						v = vars{"id": env.sim.Candidates()[7].ID}
					}
					var cold gqlResponse
					if row.warmup != "" {
						cold = env.query(row.warmup, v)
					}
					env.sim.ResetCounts()
					resp := env.query(row.query, v)
					if len(resp.Errors) > 0 {
						t.Fatalf("query failed: %s", resp.Raw)
					}
					got := env.sim.TotalRequests()
					if got > row.want || (!row.atMost && got != row.want) {
						t.Errorf("Workable calls = %d (%v), want %s%d", got, env.sim.RequestCounts(), map[bool]string{true: "at most "}[row.atMost], row.want)
					}
					if c := extensionsOf(t, resp).Cost.WorkableCalls; c != int64(got) {
						t.Errorf("extensions.cost.workableCalls = %d, the simulator saw %d", c, got)
					}
					if row.warmup == row.query {
						if diff := cmp.Diff(string(cold.Data), string(resp.Data)); diff != "" {
							t.Errorf("the cached answer differs from the first (-cold +warm):\n%s", diff)
						}
					}
				})
			}
		})
	}
}

// TestIdenticalColdQueriesAtOnce: ten identical cold candidate(id:)
// { summary } queries sent at once make one Workable call in all.
func TestIdenticalColdQueriesAtOnce(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := econEnv(t, b)
			c := env.sim.Candidates()[3]
			reqs := make([]func() (gqlResponse, error), 10)
			for i := range reqs {
				reqs[i] = func() (gqlResponse, error) { return env.post(qSummary, vars{"id": c.ID}) }
			}
			env.sim.ResetCounts()
			resps := queryAll(t, reqs)
			if n := env.sim.TotalRequests(); n != 1 {
				t.Errorf("Workable calls = %d (%v), want 1", n, env.sim.RequestCounts())
			}
			var calls int64
			for _, r := range resps {
				calls += extensionsOf(t, r).Cost.WorkableCalls
				if diff := cmp.Diff(string(resps[0].Data), string(r.Data)); diff != "" {
					t.Errorf("answers differ (-first +this):\n%s", diff)
				}
			}
			// Only the request that made the shared call counts it.
			if calls != 1 {
				t.Errorf("sum of extensions.cost.workableCalls = %d, want 1", calls)
			}
		})
	}
}

// Zero-429 tests shrink Workable's window from 10 s to 1 s to stay fast,
// which magnifies scheduling noise tenfold: on a loaded machine (2 cores,
// -race, other tests running) a request the client limiter admitted can
// reach the simulator hundreds of milliseconds later, and the simulator
// counts arrivals in fixed 1 s windows. A client limiter at the full budget
// (10 per 1 s plus a 250 ms margin) only tolerates delays up to its margin:
// a late burst then lands in the next burst's window and draws 429s. So the
// client gets half the simulator's budget (clientBudget per simWindow,
// without margin, against simBudget): any 2 s of admissions then hold at
// most simBudget requests, so no fixed 1 s window of the simulator can see
// more than its budget unless a request is delayed by more than a whole
// second. What these tests check (every query answered, the limiter queues
// instead of letting Workable refuse) does not depend on how close to the
// budget the limiter runs; the limiters' own margins are tested in
// workable/ and cache/.
const (
	simBudget    = 10 // the simulator's requests per simWindow
	clientBudget = simBudget / 2
	simWindow    = time.Second
)

// TestThirtyDistinctColdQueriesStayInBudget: thirty distinct cold
// candidate-detail queries at once, Workable (the simulator) allowing 10
// requests per second and the client limiter set inside that budget (see
// clientBudget): all answered, no 429.
func TestThirtyDistinctColdQueriesStayInBudget(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel() // each subtest has its own simulator and budget
			limiter := workable.NewWindowLimiter(clientBudget, simWindow, workable.WithMargin(0), workable.WithFixedLimit())
			env := econEnv(t, b, withClientOptions(workable.WithRateLimiter(limiter)))
			env.sim.SetRateLimit(simBudget, simWindow)
			cands := env.sim.Candidates()[:30]
			reqs := make([]func() (gqlResponse, error), len(cands))
			for i, c := range cands {
				reqs[i] = func() (gqlResponse, error) { return env.post(qNameAndDetail, vars{"id": c.ID}) }
			}
			resps := queryAll(t, reqs)
			for i, r := range resps {
				var out struct{ Candidate struct{ ID string } }
				if err := json.Unmarshal(r.Data, &out); err != nil || out.Candidate.ID != cands[i].ID {
					t.Errorf("answer %d = %s, want candidate %s", i, r.Data, cands[i].ID)
				}
			}
			if n := env.sim.TooManyRequests(); n != 0 {
				t.Errorf("the simulator answered %d requests with 429", n)
			}
			if n := env.sim.RequestCount("GET /candidates/{id}"); n != 30 {
				t.Errorf("GET /candidates/{id} = %d, want 30", n)
			}
		})
	}
}

// TestTwoGatewaysShareOneBudget: two gateway processes (two clients, two
// caches) sharing Redis and one token stay together inside the token's
// budget under a burst: no 429. Their shared limiter gets half the
// simulator's budget, for the reason given at clientBudget.
func TestTwoGatewaysShareOneBudget(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel() // each subtest has its own simulator and Redis budget
			srv := redistest.NewServer(t)
			sim := simulator.New()
			sim.SetRateLimit(simBudget, simWindow)
			budget := srv.Prefix + cache.Namespace(simulator.DemoSubdomain, simulator.DemoToken) + "rate"
			gateway := func(rdb redis.UniversalClient) *testEnv {
				limiter := ratebudget.NewLimiter(rdb, budget, clientBudget, simWindow,
					ratebudget.WithSafetyMargin(0), ratebudget.WithTimeout(5*time.Second), ratebudget.WithFixedLimit())
				env := econEnv(t, b, withSim(sim), withClientOptions(workable.WithRateLimiter(limiter)))
				return env
			}
			gws := []*testEnv{gateway(srv.Client), gateway(srv.NewClient(t))}
			cands := sim.Candidates()[:30]
			reqs := make([]func() (gqlResponse, error), len(cands))
			for i, c := range cands {
				gw := gws[i%2]
				reqs[i] = func() (gqlResponse, error) { return gw.post(qSummary, vars{"id": c.ID}) }
			}
			queryAll(t, reqs)
			if n := sim.TooManyRequests(); n != 0 {
				t.Errorf("the simulator answered %d requests with 429", n)
			}
			if n := sim.RequestCount("GET /candidates/{id}"); n != 30 {
				t.Errorf("GET /candidates/{id} = %d, want 30", n)
			}
		})
	}
}

// tcpProxy forwards connections to a Redis server until cut: then it drops
// every connection and refuses new ones, like a Redis that went away, until
// restored. It works in front of miniredis and a real server alike.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &tcpProxy{ln: ln, target: target}
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	go p.serve()
	return p
}

func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

// cut drops every connection and refuses new ones.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore accepts connections again.
func (p *tcpProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// redisAddr returns the address of the test's Redis server.
func redisAddr(t *testing.T, srv *redistest.Server) string {
	t.Helper()
	if srv.Mini != nil {
		return srv.Mini.Addr()
	}
	c, ok := srv.Client.(*redis.Client)
	if !ok {
		t.Fatalf("redistest client is a %T, want *redis.Client", srv.Client)
	}
	return c.Options().Addr
}

// TestRedisStoppedMidRun: Redis (cache and rate budget) goes away in the
// middle of a run: every query is still answered, from Workable; when Redis
// is back, the cache is used again without a restart.
func TestRedisStoppedMidRun(t *testing.T) {
	t.Parallel()
	// Redis and the proxy run outside the testing/synctest bubble, the
	// gateway (served in process) and its Redis client in it.
	srv := redistest.NewServer(t)
	proxy := startProxy(t, redisAddr(t, srv))
	synctest.Test(t, func(t *testing.T) {
		rdb := redistest.Dial(t, proxy.Addr())
		defer redistest.CloseInBubble(rdb)
		// Generous timeouts: the store must still be healthy when Redis is
		// cut, and a busy CI machine (2 cores, -race) can stall a Redis
		// round trip for longer than a production-like 500 ms. Once the
		// proxy is cut every Redis call fails at once (connections are
		// closed and refused), so the timeouts do not slow the run down.
		store := cache.NewRedis(rdb, cache.WithTimeout(5*time.Second), cache.WithCoolDown(time.Second))
		ns := srv.Prefix + cache.Namespace(simulator.DemoSubdomain, simulator.DemoToken)
		// While Redis is down the rate budget waits for it for one window
		// (1 s here), then this only replica sends its share: the whole
		// budget.
		replicas := ratebudget.NewReplicas(rdb, ns+"replicas", nil)
		if err := replicas.Beat(t.Context()); err != nil {
			t.Fatal(err)
		}
		limiter := ratebudget.NewLimiter(rdb, ns+"rate", 1000, time.Second, ratebudget.WithTimeout(5*time.Second),
			ratebudget.WithFixedLimit(), ratebudget.WithReplicas(replicas))
		env := newTestEnv(t, withCache(store, srv.Prefix), inBubble(), withClientOptions(workable.WithRateLimiter(limiter)))

		cands := env.sim.Candidates()
		run := func(phase string, from, to int) []gqlResponse {
			t.Helper()
			var reqs []func() (gqlResponse, error)
			for _, c := range cands[from:to] {
				reqs = append(reqs, func() (gqlResponse, error) { return env.post(qNameAndDetail, vars{"id": c.ID}) })
			}
			reqs = append(reqs, func() (gqlResponse, error) { return env.post(qListJobs, nil) })
			resps := queryAll(t, reqs)
			for i, r := range resps[:to-from] {
				var out struct{ Candidate struct{ ID string } }
				if err := json.Unmarshal(r.Data, &out); err != nil || out.Candidate.ID != cands[from+i].ID {
					t.Errorf("%s: answer %d = %s", phase, i, r.Data)
				}
			}
			return resps
		}
		run("before", 0, 10)
		if !store.Healthy() {
			t.Fatalf("the store is not healthy before Redis stops")
		}
		proxy.cut()
		run("Redis down", 0, 20)
		if store.Healthy() {
			t.Errorf("the store still reports healthy with Redis gone")
		}

		proxy.restore()
		time.Sleep(2 * time.Second) // past the breaker's cool-down
		run("Redis back", 20, 25)
		env.sim.ResetCounts()
		resps := run("Redis back, warm", 20, 25)
		if n := env.sim.TotalRequests(); n != 0 {
			t.Errorf("after Redis came back, warm queries made %d Workable calls, want 0", n)
		}
		if ext := extensionsOf(t, resps[0]); ext.Cost.CacheHits == 0 {
			t.Errorf("no cache hits once Redis is back: %+v", ext.Cost)
		}
	})
}

// TestWritesInvalidateWhatTheyChange: after createCandidate the lists
// holding the new candidate show it and its detail costs nothing; after
// updateCandidate the detail shows the change and the activities are read
// again; unrelated cached data keeps being served.
func TestWritesInvalidateWhatTheyChange(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		for _, responses := range []bool{false, true} {
			name := b.name
			opts := []envOption{}
			if responses {
				name += "/response cache"
				opts = append(opts, withResponseCache())
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				testWriteInvalidation(t, b, opts...)
			})
		}
	}
}

func testWriteInvalidation(t *testing.T, b backend, opts ...envOption) {
	env := econEnv(t, b, opts...)
	var job workable.Job
	for _, j := range env.sim.Jobs() {
		if j.State == "published" {
			job = j
			break
		}
	}
	var member, other workable.Candidate
	for _, c := range env.sim.Candidates() {
		if c.Job.Shortcode == job.Shortcode && member.ID == "" {
			member = c
		} else if c.Job.Shortcode != job.Shortcode && other.ID == "" {
			other = c
		}
	}
	const lists = `query($sc: String!) {
		candidates(jobShortcode: $sc, first: 100) { nodes { id name headline } }
		job(shortcode: $sc) { candidates(first: 100) { nodes { id name } } } }`
	const detail = `query($id: ID!) { candidate(id: $id) { id name headline summary activities(first: 100) { nodes { id action } } } }`
	type listsOut struct {
		Candidates struct{ Nodes []map[string]any }
		Job        struct {
			Candidates struct{ Nodes []map[string]any }
		}
	}
	type detailOut struct {
		Candidate struct {
			ID, Name   string
			Headline   *string
			Activities struct{ Nodes []struct{ ID string } }
		}
	}
	warm := func(q string, v vars) {
		t.Helper()
		env.mustQuery(q, v, nil)
		env.sim.ResetCounts()
		env.mustQuery(q, v, nil)
		if n := env.sim.TotalRequests(); n != 0 {
			t.Fatalf("warm-up of %q: second run made %d calls", q, n)
		}
	}
	warm(lists, vars{"sc": job.Shortcode})
	warm(detail, vars{"id": member.ID})
	warm(detail, vars{"id": other.ID})

	// Create: the lists of the job show the new candidate.
	var created struct {
		CreateCandidate struct {
			Candidate  struct{ ID string }
			UserErrors []map[string]any
		}
	}
	env.mustQuery(`mutation($in: CreateCandidateInput!) { createCandidate(input: $in) { candidate { id } userErrors { field message } } }`,
		vars{"in": map[string]any{"jobShortcode": job.Shortcode, "firstName": "Cache", "lastName": "Probe", "email": "cache.probe@example.com"}}, &created)
	newID := created.CreateCandidate.Candidate.ID
	if newID == "" {
		t.Fatalf("create failed: %+v", created)
	}
	var lo listsOut
	env.mustQuery(lists, vars{"sc": job.Shortcode}, &lo)
	has := func(nodes []map[string]any, id string) bool {
		for _, n := range nodes {
			if n["id"] == id {
				return true
			}
		}
		return false
	}
	if !has(lo.Candidates.Nodes, newID) || !has(lo.Job.Candidates.Nodes, newID) {
		t.Errorf("after create, the lists lack candidate %s: %+v", newID, lo)
	}
	env.sim.ResetCounts()
	var do detailOut
	env.mustQuery(`query($id: ID!) { candidate(id: $id) { id name headline } }`, vars{"id": newID}, &do)
	if do.Candidate.Name != "Cache Probe" {
		t.Errorf("new candidate's detail = %+v", do)
	}
	if n := env.sim.RequestCount("GET /candidates/{id}"); n != 0 {
		t.Errorf("the created candidate's detail cost %d calls; the write should have stored it", n)
	}

	// Update: the detail shows it; its activities are read again; the
	// other candidate is still served from the cache.
	env.mustQuery(`mutation($in: UpdateCandidateInput!) { updateCandidate(input: $in) { candidate { id } userErrors { field message } } }`,
		vars{"in": map[string]any{"id": member.ID, "headline": "Freshly updated headline"}}, nil)
	env.sim.ResetCounts()
	env.mustQuery(detail, vars{"id": member.ID}, &do)
	if do.Candidate.Headline == nil || *do.Candidate.Headline != "Freshly updated headline" {
		t.Errorf("after update, headline = %v", do.Candidate.Headline)
	}
	wantActs := env.sim.Activities(member.ID)
	if len(do.Candidate.Activities.Nodes) != len(wantActs) {
		t.Errorf("after update, %d activities, the simulator has %d", len(do.Candidate.Activities.Nodes), len(wantActs))
	}
	if got := env.sim.RequestCounts(); !cmp.Equal(got, map[string]int{"GET /candidates/{id}/activities": 1}) {
		t.Errorf("after update, reading the candidate cost %v, want its activities only", got)
	}
	env.mustQuery(lists, vars{"sc": job.Shortcode}, &lo)
	for _, n := range lo.Candidates.Nodes {
		if n["id"] == member.ID && n["headline"] != "Freshly updated headline" {
			t.Errorf("after update, the list shows headline %v", n["headline"])
		}
	}
	env.sim.ResetCounts()
	env.mustQuery(detail, vars{"id": other.ID}, nil)
	if n := env.sim.TotalRequests(); n != 0 {
		t.Errorf("an unrelated candidate cost %d calls after the writes, want 0", n)
	}
}

// TestStaleRatherThanFailed: once a cached candidate is past its fresh
// time, a Workable failure is answered with the stale copy, flagged in
// extensions; without a copy the failure is an error.
func TestStaleRatherThanFailed(t *testing.T) {
	t.Parallel()
	faults := []struct {
		name  string
		fault simulator.Fault
		opts  []envOption
	}{
		{"503", simulator.Fault{Status: http.StatusServiceUnavailable}, nil},
		{"429", simulator.Fault{Status: http.StatusTooManyRequests},
			[]envOption{withClientOptions(workable.WithRateLimitRetries(0))}},
		{"timeout", simulator.Fault{Delay: time.Hour}, []envOption{withRequestTimeout(300 * time.Millisecond)}},
	}
	for _, b := range backends() {
		for _, f := range faults {
			t.Run(b.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				econBubble(t, b, func(t *testing.T, env *testEnv) {
					c := env.sim.Candidates()[5]
					fresh := env.query(qNameAndDetail, vars{"id": c.ID})
					if len(fresh.Errors) > 0 {
						t.Fatalf("first query: %s", fresh.Raw)
					}
					time.Sleep(cache.DefaultTTLs().Candidate.Fresh * 2) // stale, still held
					env.sim.InjectFault("GET /candidates/{id}", f.fault)

					resp := env.query(qNameAndDetail, vars{"id": c.ID})
					if len(resp.Errors) > 0 {
						t.Fatalf("stale copy not served: %s", resp.Raw)
					}
					if diff := cmp.Diff(string(fresh.Data), string(resp.Data)); diff != "" {
						t.Errorf("stale answer differs (-fresh +stale):\n%s", diff)
					}
					ext := extensionsOf(t, resp)
					want := extensions{Cost: upstream.Cost{WorkableCalls: ext.Cost.WorkableCalls, CacheMisses: 1, Stale: 1}, Stale: true,
						StaleData: []upstream.StaleRef{{Kind: string(cache.KindCandidate), ID: env.econ.StaleID(cache.KindCandidate, upstream.DetailID(c.ID))}}}
					if diff := cmp.Diff(want, ext); diff != "" {
						t.Errorf("extensions mismatch (-want +got):\n%s", diff)
					}

					// Nothing held: the failure is an error.
					other := env.sim.Candidates()[6]
					if r := env.query(qNameAndDetail, vars{"id": other.ID}); len(r.Errors) == 0 {
						t.Errorf("a candidate never cached was answered during the outage: %s", r.Raw)
					}
				}, f.opts...)
			})
		}
	}
}

// TestCostExtension checks extensions.cost of cold and warm queries.
func TestCostExtension(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := econEnv(t, b)
			const q = `{ candidates(first: 5) { nodes { summary } } }`
			steps := []struct {
				name string
				want upstream.Cost
			}{
				{"cold: a page and five details", upstream.Cost{WorkableCalls: 6, CacheMisses: 6}},
				{"warm", upstream.Cost{CacheHits: 6}},
			}
			for _, s := range steps {
				resp := env.query(q, nil)
				if diff := cmp.Diff(s.want, extensionsOf(t, resp).Cost); diff != "" {
					t.Errorf("%s: cost mismatch (-want +got):\n%s", s.name, diff)
				}
			}
			// Without a cache every response still tells its calls.
			plain := newTestEnv(t)
			resp := plain.query(q, nil)
			if diff := cmp.Diff(upstream.Cost{WorkableCalls: 6}, extensionsOf(t, resp).Cost); diff != "" {
				t.Errorf("no cache: cost mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResponseCache: a repeated query is answered from the response cache
// until a write changes what it shows.
func TestResponseCache(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := econEnv(t, b, withResponseCache())
			cands := env.sim.Candidates()
			x, y := cands[1], cands[2]
			mustHit := func(step string, q string, v vars, hit bool) gqlResponse {
				t.Helper()
				env.sim.ResetCounts()
				resp := env.query(q, v)
				if len(resp.Errors) > 0 {
					t.Fatalf("%s: %s", step, resp.Raw)
				}
				if got := extensionsOf(t, resp).ResponseCache; got != hit {
					t.Errorf("%s: responseCache = %v, want %v", step, got, hit)
				}
				if hit && env.sim.TotalRequests() != 0 {
					t.Errorf("%s: a response cache hit made %d calls", step, env.sim.TotalRequests())
				}
				return resp
			}
			first := mustHit("cold", qNameAndDetail, vars{"id": x.ID}, false)
			second := mustHit("again", qNameAndDetail, vars{"id": x.ID}, true)
			if diff := cmp.Diff(string(first.Data), string(second.Data)); diff != "" {
				t.Errorf("cached response differs (-first +second):\n%s", diff)
			}
			if c := extensionsOf(t, second).Cost; c != (upstream.Cost{CacheHits: 1}) {
				t.Errorf("cost of a response cache hit = %+v", c)
			}
			mustHit("list, cold", qListJobs, nil, false)
			mustHit("list, again", qListJobs, nil, true)

			update := `mutation($in: UpdateCandidateInput!) { updateCandidate(input: $in) { candidate { id } userErrors { message } } }`
			env.mustQuery(update, vars{"in": map[string]any{"id": y.ID, "headline": "changed"}}, nil)
			mustHit("another candidate was updated", qNameAndDetail, vars{"id": x.ID}, true)
			mustHit("list after an update", qListJobs, nil, false)

			env.mustQuery(update, vars{"in": map[string]any{"id": x.ID, "headline": "changed too"}}, nil)
			resp := mustHit("this candidate was updated", qNameAndDetail, vars{"id": x.ID}, false)
			var out struct{ Candidate struct{ Headline string } }
			if err := json.Unmarshal(resp.Data, &out); err != nil || out.Candidate.Headline != "changed too" {
				t.Errorf("after update: %s", resp.Data)
			}

			// The pipeline is cached like jobs (no write of the gateway
			// changes it), so a response of it is cached too.
			mustHit("stages, cold", `{ stages { slug } }`, nil, false)
			mustHit("stages, again", `{ stages { slug } }`, nil, true)
		})
	}
}

// TestUncertainWriteInvalidates: a write whose outcome is unknown (Workable
// answered 5xx) may have changed the candidate, so the cached lists and the
// candidate are read again; other candidates are not.
func TestUncertainWriteInvalidates(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := econEnv(t, b)
			cands := env.sim.Candidates()
			x, y := cands[0], cands[1]
			for _, q := range []struct {
				q string
				v vars
			}{{qListJobs, nil}, {qNameAndDetail, vars{"id": x.ID}}, {qNameAndDetail, vars{"id": y.ID}}} {
				env.mustQuery(q.q, q.v, nil)
			}
			env.sim.InjectFault("PATCH /candidates/{id}", simulator.Fault{Status: http.StatusInternalServerError, Times: 1})
			resp := env.query(`mutation($in: UpdateCandidateInput!) { updateCandidate(input: $in) { candidate { id } } }`,
				vars{"in": map[string]any{"id": x.ID, "headline": "maybe"}})
			resp.requireCode(t, CodeUpstreamUnavailable)

			env.sim.ResetCounts()
			env.mustQuery(qListJobs, nil, nil)
			env.mustQuery(qNameAndDetail, vars{"id": x.ID}, nil)
			env.mustQuery(qNameAndDetail, vars{"id": y.ID}, nil)
			want := map[string]int{"GET /candidates": 1, "GET /candidates/{id}": 1}
			if diff := cmp.Diff(want, env.sim.RequestCounts()); diff != "" {
				t.Errorf("calls after an uncertain update (-want +got):\n%s", diff)
			}
		})
	}
}

// TestListPageServesListFields: a candidate list page also tells the list
// fields of its candidates, so candidate(id:) asking only those costs
// nothing; a detail field still reads GET /candidates/{id}.
func TestListPageServesListFields(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := econEnv(t, b)
			c := env.sim.Candidates()[4]
			env.mustQuery(qListJobs, nil, nil)
			env.sim.ResetCounts()
			var out struct{ Candidate map[string]any }
			env.mustQuery(`query($id: ID!) { candidate(id: $id) { `+candidateListFields+` job { shortcode title } } }`, vars{"id": c.ID}, &out)
			if n := env.sim.TotalRequests(); n != 0 {
				t.Errorf("list fields of a listed candidate cost %d calls", n)
			}
			want := asJSON(t, merge(wantCandidateList(c), map[string]any{"job": map[string]any{"shortcode": c.Job.Shortcode, "title": c.Job.Title}}))
			if diff := cmp.Diff(want, asJSON(t, out.Candidate)); diff != "" {
				t.Errorf("list fields mismatch (-want +got):\n%s", diff)
			}
			env.mustQuery(qSummary, vars{"id": c.ID}, nil)
			if n := env.sim.RequestCount("GET /candidates/{id}"); n != 1 {
				t.Errorf("a detail field cost %d GET /candidates/{id}, want 1", n)
			}
		})
	}
}

// TestThreeReplicasCoalesceOneColdFetch: three gateways (three handlers,
// three Redis connections, one cache, one Workable) asked for the same cold
// candidate at once make one Workable call: the first to miss takes the
// key's lock in Redis and fetches, the others wait for its answer in the
// cache. Workable answers slowly (300 ms), as a real one may, so that the
// three requests overlap.
func TestThreeReplicasCoalesceOneColdFetch(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	sim := simulator.New()
	slow := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/candidates/") {
				time.Sleep(300 * time.Millisecond) // a slow Workable, not a synchronisation
			}
			next.ServeHTTP(w, r)
		})
	}
	var gws []*testEnv
	for range 3 {
		store := cache.NewRedis(srv.NewClient(t), cache.WithTimeout(5*time.Second))
		gws = append(gws, newTestEnv(t, withCache(store, srv.Prefix), withSim(sim), withSimProxy(slow)))
	}
	id := sim.Candidates()[0].ID
	sim.ResetCounts()
	var reqs []func() (gqlResponse, error)
	for _, gw := range gws {
		reqs = append(reqs, func() (gqlResponse, error) { return gw.post(qSummary, vars{"id": id}) })
	}
	for i, r := range queryAll(t, reqs) {
		if len(r.Errors) > 0 || !strings.Contains(string(r.Data), "summary") {
			t.Errorf("replica %d answered %s", i, r.Raw)
		}
	}
	if n := sim.RequestCount("GET /candidates/{id}"); n != 1 {
		t.Errorf("GET /candidates/{id} = %d for one cold candidate on three replicas, want 1", n)
	}
}

// TestFiftyWarmConnectionsAtOnceOnTheRedisRecordPath: with the records in
// Redis (no response cache) and the production timeouts of the cache, 50
// connections opening at once for warm candidates make no Workable call: a
// busy Redis must not turn cache hits into calls.
func TestFiftyWarmConnectionsAtOnceOnTheRedisRecordPath(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	store := cache.NewRedis(srv.NewClient(t)) // production timeouts
	env := newTestEnv(t, withCache(store, srv.Prefix))
	cands := env.sim.Candidates()[:10]
	warm := func() []func() (gqlResponse, error) {
		var reqs []func() (gqlResponse, error)
		for i := range 50 {
			c := cands[i%len(cands)]
			reqs = append(reqs, func() (gqlResponse, error) { return env.post(qNameAndDetail, vars{"id": c.ID}) })
		}
		return reqs
	}
	for _, c := range cands {
		if r, err := env.post(qNameAndDetail, vars{"id": c.ID}); err != nil || len(r.Errors) > 0 {
			t.Fatalf("warming %s: %v %s", c.ID, err, r.Raw)
		}
	}
	env.sim.ResetCounts()
	for i, r := range queryAll(t, warm()) {
		if len(r.Errors) > 0 {
			t.Errorf("request %d: %s", i, r.Raw)
		}
	}
	if n := env.sim.TotalRequests(); n != 0 {
		t.Errorf("50 warm requests at once made %d Workable calls, want 0", n)
	}
}

// TestOneLateCacheReadCostsNoWorkableCall: a warm candidate whose cache read
// Redis answers after the production timeout, once, while Redis is
// otherwise well, is still answered from the cache: the read is tried
// again instead of counting its keys as missing (one Workable call each)
// and opening the breaker for every other request.
func TestOneLateCacheReadCostsNoWorkableCall(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	proxy := srv.NewProxy(t)
	store := cache.NewRedis(srv.NewClientVia(t, proxy)) // production timeouts
	env := newTestEnv(t, withCache(store, srv.Prefix))
	c := env.sim.Candidates()[0]
	if r, err := env.post(qNameAndDetail, vars{"id": c.ID}); err != nil || len(r.Errors) > 0 {
		t.Fatalf("warming %s: %v %s", c.ID, err, r.Raw)
	}
	env.sim.ResetCounts()
	// The request's first Redis command reaches Redis well after the
	// client has given up on it.
	proxy.DelayNext(4 * cache.DefaultRedisTimeout)
	r, err := env.post(qNameAndDetail, vars{"id": c.ID})
	if err != nil || len(r.Errors) > 0 {
		t.Fatalf("warm request: %v %s", err, r.Raw)
	}
	if n := env.sim.TotalRequests(); n != 0 {
		t.Errorf("a warm request whose cache read was late made %d Workable calls, want 0", n)
	}
	if !store.Healthy() {
		t.Error("one late cache read opened the breaker")
	}
}
