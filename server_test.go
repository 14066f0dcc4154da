package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable/simulator"
)

// startRun runs the binary's run function with env and returns the base URL
// it printed, plus a function that stops it and returns run's error.
func startRun(t *testing.T, args []string, env map[string]string, urlPattern string) (string, func() error) {
	t.Helper()
	return startRunLogging(t, args, env, urlPattern, io.Discard)
}

// startRunLogging is startRun with run's log output (stderr) going to
// stderr.
func startRunLogging(t *testing.T, args []string, env map[string]string, urlPattern string, stderr io.Writer) (string, func() error) {
	t.Helper()
	base, stop, _ := startRunOutput(t, args, env, urlPattern, stderr)
	return base, stop
}

// startRunOutput is startRunLogging that also keeps run's standard output:
// stdout returns the lines printed so far, and every line once stop has
// returned.
func startRunOutput(t *testing.T, args []string, env map[string]string, urlPattern string, stderr io.Writer) (base string, stop func() error, stdout func() []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, func(k string) string { return env[k] }, pw, stderr)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	var (
		mu    sync.Mutex
		lines []string
	)
	stdout = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(lines)
	}
	re := regexp.MustCompile(urlPattern)
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		mu.Lock()
		lines = append(lines, sc.Text())
		mu.Unlock()
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("run printed no line matching %q; run returned %v", urlPattern, <-done)
	}
	// Keep reading, so that run never blocks on stdout, until run closes
	// the pipe.
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
		}
		io.Copy(io.Discard, pr) // a line too long for the scanner
	}()
	stop = func() error {
		cancel()
		err := <-done
		<-drained
		return err
	}
	t.Cleanup(func() { cancel() })
	return base, stop, stdout
}

func TestRunDemoModeServesEveryRoute(t *testing.T) {
	base, stop, stdout := startRunOutput(t, nil, map[string]string{"PORT": "0"}, `Playground: (http://localhost:\d+)/`, io.Discard)

	for _, tc := range []struct {
		path, want string
	}{
		{"/healthz", "ok"},
		{"/readyz", "ready"},
		{"/", "<html"},
	} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(string(body)), tc.want) {
			t.Errorf("GET %s = %d %q, want 200 containing %q", tc.path, resp.StatusCode, body, tc.want)
		}
	}

	resp, err := http.Post(base+"/query", "application/json",
		strings.NewReader(`{"query":"{ jobs(first: 3) { nodes { shortcode title state } pageInfo { hasNextPage } } }"}`))
	if err != nil {
		t.Fatalf("POST /query: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Jobs struct {
				Nodes    []struct{ Shortcode, Title, State string }
				PageInfo struct{ HasNextPage bool }
			}
		}
		Errors []json.RawMessage
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode /query response: %v", err)
	}
	if len(out.Errors) > 0 || len(out.Data.Jobs.Nodes) != 3 || !out.Data.Jobs.PageInfo.HasNextPage {
		t.Errorf("jobs query = %+v, want 3 jobs, a next page and no errors", out)
	}
	for _, j := range out.Data.Jobs.Nodes {
		if j.Shortcode == "" || j.Title == "" || j.State == "" {
			t.Errorf("job %+v has empty fields", j)
		}
	}

	if err := stop(); err != nil {
		t.Errorf("run after shutdown = %v, want nil", err)
	}
	// The demo-mode notice is printed (on stdout, for whoever started the
	// binary by hand) right after the addresses.
	if !slices.ContainsFunc(stdout(), func(l string) bool { return strings.HasPrefix(l, "Demo mode: ") }) {
		t.Errorf("run printed %q, want a line starting with \"Demo mode: \"", stdout())
	}
}

// TestRunWithAccountPrintsNoDemoLine: with a Workable account configured,
// run does not claim to be in demo mode.
func TestRunWithAccountPrintsNoDemoLine(t *testing.T) {
	t.Parallel()
	sim := simulator.New(simulator.WithToken(workableToken))
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)
	env := map[string]string{"PORT": "0", "WORKABLE_SUBDOMAIN": simulator.DemoSubdomain,
		"WORKABLE_API_TOKEN": workableToken, "WORKABLE_BASE_URL": simSrv.URL + "/spi/v3/"}
	_, stop, stdout := startRunOutput(t, nil, env, `Playground: (http://localhost:\d+)/`, io.Discard)
	if err := stop(); err != nil {
		t.Errorf("run after shutdown = %v, want nil", err)
	}
	for _, l := range stdout() {
		if strings.Contains(l, "Demo mode") {
			t.Errorf("run with an account printed %q", l)
		}
	}
}

// TestRunShutdownFinishesInFlightRequest cancels run's context while a
// /query request waits for Workable: the request must still complete with
// its data, and run must return nil. The simulator holds the gateway's
// GET /jobs until the test releases it, which it does only once the gateway
// has stopped accepting connections (the shutdown has begun), so nothing
// depends on timing.
func TestRunShutdownFinishesInFlightRequest(t *testing.T) {
	t.Parallel()
	sim := simulator.New(simulator.WithToken(workableToken))
	reached, release := make(chan struct{}), make(chan struct{})
	var reachedOnce sync.Once
	simSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/spi/v3/jobs" {
			reachedOnce.Do(func() { close(reached) })
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(simSrv.Close)
	var releaseOnce sync.Once
	releaseSim := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(releaseSim) // before simSrv.Close, should the test fail early

	env := map[string]string{"PORT": "0", "WORKABLE_SUBDOMAIN": simulator.DemoSubdomain,
		"WORKABLE_API_TOKEN": workableToken, "WORKABLE_BASE_URL": simSrv.URL + "/spi/v3/",
		// No background refresher: its GET /jobs would be the one held.
		"SHUTDOWN_TIMEOUT": "35s", "REFRESH_ENABLED": "false"}
	base, stop := startRun(t, nil, env, `listening on (http://localhost:\d+)/query`)

	type result struct {
		status int
		body   []byte
		err    error
	}
	answer := make(chan result, 1)
	go func() {
		resp, err := http.Post(base+"/query", "application/json",
			strings.NewReader(`{"query":"{ jobs(first: 2) { nodes { shortcode title } } }"}`))
		if err != nil {
			answer <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		answer <- result{status: resp.StatusCode, body: body, err: err}
	}()
	// Bounds, not timings: they only turn a hang into a failure.
	select {
	case <-reached:
	case r := <-answer:
		t.Fatalf("/query answered before reaching the simulator: %d %s %v", r.status, r.body, r.err)
	case <-time.After(30 * time.Second):
		t.Fatal("the gateway's GET /jobs never reached the simulator")
	}

	runErr := make(chan error, 1)
	go func() { runErr <- stop() }()
	// Shutdown closes the listener first: wait until a new connection is
	// refused.
	addr := strings.TrimPrefix(base, "http://")
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		conn.Close()
		select {
		case <-tick.C:
		case err := <-runErr:
			t.Fatalf("run returned %v while a request was in flight", err)
		case <-deadline:
			t.Fatal("the gateway kept accepting connections after its context ended")
		}
	}
	select {
	case err := <-runErr:
		t.Fatalf("run returned %v while a request was in flight", err)
	case r := <-answer:
		t.Fatalf("/query answered before the simulator did: %d %s %v", r.status, r.body, r.err)
	default:
	}

	releaseSim()
	r := <-answer
	if r.err != nil {
		t.Fatalf("in-flight /query: %v", r.err)
	}
	var out struct {
		Data struct {
			Jobs struct {
				Nodes []struct{ Shortcode, Title string }
			}
		}
		Errors []json.RawMessage
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("decode /query answer %q: %v", r.body, err)
	}
	if r.status != http.StatusOK || len(out.Errors) > 0 || len(out.Data.Jobs.Nodes) != 2 || out.Data.Jobs.Nodes[0].Shortcode == "" {
		t.Errorf("in-flight /query during shutdown = %d %s, want 200 with 2 jobs and no errors", r.status, r.body)
	}
	if err := <-runErr; err != nil {
		t.Errorf("run after a graceful shutdown = %v, want nil", err)
	}
	if n := sim.RequestCount("GET /jobs"); n != 1 {
		t.Errorf("simulator saw %d GET /jobs, want 1", n)
	}
}

// TestRunDrainsThenAnswersARequestQueuedForTheBudget: on SIGTERM (run's
// context ending) /readyz answers 503 for DRAIN_DELAY while /query keeps
// serving, then the listener closes, and a request that was waiting for
// Workable's rate budget when the signal came still gets its answer. The
// simulator's budget of 1 call per 3 s makes the request's second call
// wait; the test sees it waiting in ratelimit_waiting, and holds that call
// at the simulator until the listener has closed, so the order of events
// is checked, never their timing.
func TestRunDrainsThenAnswersARequestQueuedForTheBudget(t *testing.T) {
	t.Parallel()
	sim := simulator.New(simulator.WithToken(workableToken), simulator.WithRateLimit(1, 3*time.Second))
	reached, release := make(chan struct{}), make(chan struct{})
	var reachedOnce, releaseOnce sync.Once
	simSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/candidates") {
			reachedOnce.Do(func() { close(reached) })
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(simSrv.Close)
	releaseSim := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(releaseSim)

	env := map[string]string{"PORT": "0", "WORKABLE_SUBDOMAIN": simulator.DemoSubdomain,
		"WORKABLE_API_TOKEN": workableToken, "WORKABLE_BASE_URL": simSrv.URL + "/spi/v3/",
		"DRAIN_DELAY": "1500ms", "REQUEST_TIMEOUT": "20s"}
	base, stop := startRun(t, nil, env, `listening on (http://localhost:\d+)/query`)

	type result struct {
		status int
		body   []byte
		err    error
	}
	answer := make(chan result, 1)
	go func() {
		// GET /jobs spends the budget; the job's candidates then wait for it.
		resp, err := http.Post(base+"/query", "application/json",
			strings.NewReader(`{"query":"{ jobs(first: 1) { nodes { shortcode candidates(first: 1) { nodes { name } } } } }"}`))
		if err != nil {
			answer <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		answer <- result{status: resp.StatusCode, body: body, err: err}
	}()
	const waiting = `workable_gateway_ratelimit_waiting{credential="default"} 1`
	// Bounds, not timings: they only turn a hang into a failure.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	until := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for !cond() {
			select {
			case <-tick.C:
			case r := <-answer:
				t.Fatalf("waiting until %s, /query answered: %d %s %v", what, r.status, r.body, r.err)
			case <-deadline:
				t.Fatalf("never %s", what)
			}
		}
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	until("a Workable call waits for the rate budget", func() bool {
		_, m := get("/metrics")
		return strings.Contains(m, waiting)
	})

	runErr := make(chan error, 1)
	go func() { runErr <- stop() }() // SIGTERM
	until("/readyz answers 503", func() bool { code, _ := get("/readyz"); return code == http.StatusServiceUnavailable })
	// Draining: the request still waits for the budget, and /query serves.
	if code, m := get("/metrics"); code != http.StatusOK || !strings.Contains(m, waiting) {
		t.Errorf("during the drain /metrics = %d, and the queued call is gone: %v", code, strings.Contains(m, waiting))
	}
	resp, err := http.Post(base+"/query", "application/json", strings.NewReader(`{"query":"{ __typename }"}`))
	if err != nil {
		t.Fatalf("/query during the drain: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// resp.Close: the answer said Connection: close, so that the client's
	// next request opens a connection to another replica.
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"__typename":"Query"`) || !resp.Close {
		t.Errorf("/query during the drain = %d %s (Close %v), want 200 with data and Connection: close",
			resp.StatusCode, body, resp.Close)
	}
	// Then the listener closes, with the request still in flight.
	addr := strings.TrimPrefix(base, "http://")
	until("the listener closes", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
	select {
	case err := <-runErr:
		t.Fatalf("run returned %v with a request in flight", err)
	default:
	}
	releaseSim()
	r := <-answer
	var out struct {
		Data struct {
			Jobs struct {
				Nodes []struct {
					Candidates struct{ Nodes []struct{ Name string } }
				}
			}
		}
		Errors []json.RawMessage
	}
	if r.err != nil || json.Unmarshal(r.body, &out) != nil || r.status != http.StatusOK || len(out.Errors) > 0 ||
		len(out.Data.Jobs.Nodes) != 1 || len(out.Data.Jobs.Nodes[0].Candidates.Nodes) != 1 || out.Data.Jobs.Nodes[0].Candidates.Nodes[0].Name == "" {
		t.Errorf("the request queued at SIGTERM answered %d %s %v, want its data", r.status, r.body, r.err)
	}
	select {
	case <-reached:
	default:
		t.Error("the queued call never reached Workable")
	}
	if err := <-runErr; err != nil {
		t.Errorf("run after a graceful shutdown = %v, want nil", err)
	}
}

func TestRunSimulatorSubcommand(t *testing.T) {
	base, stop := startRun(t, []string{"simulator", "-addr", "127.0.0.1:0"}, nil, `listening on (http://[0-9.:]+)/spi/v3/`)
	req, _ := http.NewRequest(http.MethodGet, base+"/spi/v3/jobs?limit=1", nil)
	req.Header.Set("Authorization", "Bearer demo-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET jobs: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Rate-Limit-Limit") == "" {
		t.Errorf("simulator GET /jobs = %d with headers %v, want 200 with rate-limit headers", resp.StatusCode, resp.Header)
	}
	if err := stop(); err != nil {
		t.Errorf("simulator after shutdown = %v, want nil", err)
	}
}

// TestRunRejectsBadSettings: bad settings stop run before it listens, with
// a message naming the setting and never the token.
func TestRunRejectsBadSettings(t *testing.T) {
	t.Parallel()
	const token = "tok-should-not-leak"
	account := func(kv ...string) map[string]string {
		env := map[string]string{"PORT": "0", "WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": token}
		for i := 0; i+1 < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // the setting the error must name
	}{
		{"token but no subdomain", map[string]string{"PORT": "0", "WORKABLE_API_TOKEN": token}, "WORKABLE_SUBDOMAIN"},
		{"subdomain with a space", account("WORKABLE_SUBDOMAIN", "acme corp"), "WORKABLE_SUBDOMAIN"},
		{"subdomain with a dot", account("WORKABLE_SUBDOMAIN", "acme.workable.com"), "WORKABLE_SUBDOMAIN"},
		{"token with a space", account("WORKABLE_API_TOKEN", token+" x"), "WORKABLE_API_TOKEN"},
		{"token with a control character", account("WORKABLE_API_TOKEN", token+"\x7f"), "WORKABLE_API_TOKEN"},
		{"base URL with user info", account("WORKABLE_BASE_URL", "https://"+token+"@acme.workable.com/spi/v3/"), "WORKABLE_BASE_URL"},
		{"base URL with a query string", account("WORKABLE_BASE_URL", "https://acme.workable.com/spi/v3/?token="+token), "WORKABLE_BASE_URL"},
		{"base URL not http", account("WORKABLE_BASE_URL", "ftp://acme.workable.com/spi/v3/"), "WORKABLE_BASE_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr syncBuffer
			err := run(context.Background(), nil, func(k string) string { return tc.env[k] }, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run = %v, want an error naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), token) || strings.Contains(stderr.String(), token) {
				t.Errorf("error %q or log %q leaks the token", err, stderr.String())
			}
			if strings.Contains(stdout.String(), "listening") {
				t.Errorf("run started listening (%q) despite bad settings", stdout.String())
			}
		})
	}
	t.Run("unknown argument", func(t *testing.T) {
		t.Parallel()
		if err := run(context.Background(), []string{"serve"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
			t.Errorf("run with an unknown argument succeeded")
		}
	})
}

// TestRunCachesInRedis runs the binary in demo mode with REDIS_URL (the
// test's Redis): a repeated query is answered from the cache, and
// extensions.cost says so.
func TestRunCachesInRedis(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"in-process cache", map[string]string{"PORT": "0"}},
		{"Redis", map[string]string{"PORT": "0", "REDIS_URL": ""}},
		{"Redis, no response cache", map[string]string{"PORT": "0", "REDIS_URL": "", "RESPONSE_CACHE": "false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := tc.env["REDIS_URL"]; ok {
				tc.env["REDIS_URL"], tc.env["CACHE_PREFIX"] = redisURL(t)
			}
			base, stop := startRun(t, nil, tc.env, `Playground: (http://localhost:\d+)/`)
			defer stop()
			query := `{"query":"{ candidates(first: 5) { nodes { id name job { shortcode title } } } }"}`
			var costs []map[string]any
			for range 2 {
				resp, err := http.Post(base+"/query", "application/json", strings.NewReader(query))
				if err != nil {
					t.Fatalf("POST /query: %v", err)
				}
				var out struct {
					Errors     []json.RawMessage
					Extensions struct{ Cost map[string]any }
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if err != nil || len(out.Errors) > 0 {
					t.Fatalf("query: %v %s", err, out.Errors)
				}
				costs = append(costs, out.Extensions.Cost)
			}
			if costs[0]["workableCalls"] != float64(1) || costs[1]["workableCalls"] != float64(0) ||
				costs[1]["cacheHits"].(float64) < 1 {
				t.Errorf("costs of a cold then a warm query = %v", costs)
			}
		})
	}
}

// redisURL returns a redis:// URL of a Redis for the test (REDIS_URL when
// set, else an embedded miniredis) and the test's own key prefix, whose keys
// are removed when the test ends.
func redisURL(t *testing.T) (url, prefix string) {
	t.Helper()
	srv := redistest.NewServer(t)
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u, srv.Prefix
	}
	return "redis://" + srv.Mini.Addr() + "/0", srv.Prefix
}

// TestReadinessReportsRedis: with REDIS_URL set and Redis unreachable the
// gateway still starts and answers queries straight from Workable, is alive,
// and says it is not ready.
func TestReadinessReportsRedis(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	addr := closed.Listener.Addr().String()
	closed.Close() // nothing listens there any more
	base, stop := startRun(t, nil, map[string]string{"PORT": "0", "REDIS_URL": "redis://" + addr + "/0"},
		`Playground: (http://localhost:\d+)/`)
	defer stop()

	for path, want := range map[string]int{"/healthz": http.StatusOK, "/readyz": http.StatusServiceUnavailable} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s with Redis down = %d, want %d", path, resp.StatusCode, want)
		}
	}
	resp, err := http.Post(base+"/query", "application/json", strings.NewReader(`{"query":"{ jobs(first: 1) { nodes { shortcode } } }"}`))
	if err != nil {
		t.Fatalf("POST /query: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "GROOV") || strings.Contains(string(body), `"errors"`) {
		t.Errorf("query with Redis down = %d %s, want the jobs", resp.StatusCode, body)
	}
}

// TestNewEventBus: with Redis the events go through Redis pub/sub under the
// gateway's key prefix (so replicas share them), else they stay in process.
func TestNewEventBus(t *testing.T) {
	t.Parallel()
	local := newEventBus(nil, "wgw:", nil)
	defer local.Close()
	if _, ok := local.(*events.Local); !ok {
		t.Errorf("without Redis: %T, want *events.Local", local)
	}
	rs := redistest.NewServer(t)
	bus := newEventBus(rs.Client, rs.Prefix+"wgw:", nil)
	defer bus.Close()
	rb, ok := bus.(*events.Redis)
	if !ok {
		t.Fatalf("with Redis: %T, want *events.Redis", bus)
	}
	if got, want := rb.Channel("acme"), rs.Prefix+"wgw:events:v1:acme"; got != want {
		t.Errorf("channel = %q, want %q", got, want)
	}
}
