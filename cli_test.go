package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/workablegw/gateway/graph"
	"github.com/workablegw/gateway/guard"
	"github.com/workablegw/gateway/workable/simulator"
)

// TestBinaryCommands builds the gateway with the version stamped by
// -ldflags, as the Dockerfile does, and runs its commands as an operator
// would.
func TestBinaryCommands(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "gateway")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v9.9.9-test", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		out, err := cmd.Output()
		return string(out), err
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"version"}, "workable-graphql-gateway v9.9.9-test ("},
		{[]string{"--version"}, "v9.9.9-test"},
		{[]string{"--help"}, "SHUTDOWN_TIMEOUT"},
		{[]string{"-h"}, "gateway schema"},
		{[]string{"schema"}, "interface Node {"},
	} {
		out, err := run(tc.args...)
		if err != nil || !strings.Contains(out, tc.want) {
			t.Errorf("gateway %s = %v, output lacks %q:\n%.500s", strings.Join(tc.args, " "), err, tc.want, out)
		}
	}
	if out, _ := run("schema"); out != graph.SchemaSDL() {
		t.Error("gateway schema does not print graph.SchemaSDL()")
	}
	// The simulator's own flags answer -h with their usage and exit 0.
	cmd := exec.Command(bin, "simulator", "-h")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "-rate-limit") {
		t.Errorf("gateway simulator -h = %v %q, want its flags and exit 0", err, out)
	}
	// A command line the gateway does not understand exits 2, says what is
	// wrong on stderr with the usage, and does nothing else.
	for _, tc := range []struct {
		args []string
		want []string // in stderr
	}{
		{[]string{"serve"}, []string{`unknown command "serve"`, "Usage:", "gateway schema", "--help"}},
		{[]string{"schema", "--out", "x.graphql"}, []string{`schema takes no arguments, got ["--out" "x.graphql"]`, "Usage:"}},
		{[]string{"version", "extra"}, []string{`version takes no arguments, got ["extra"]`, "Usage:"}},
		{[]string{"--version", "-v"}, []string{`--version takes no arguments`, "Usage:"}},
		{[]string{"healthcheck", "--port", "9090"}, []string{`healthcheck takes no arguments, got ["--port" "9090"]`, "Usage:"}},
		{[]string{"simulator", "-addr", "127.0.0.1:0", "extra"}, []string{`simulator takes only flags, got ["extra"]`, "-rate-limit"}},
		{[]string{"simulator", "-bogus"}, []string{"flag provided but not defined: -bogus", "-rate-limit"}},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "PORT=1"}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("gateway %s = %v, want exit 2", strings.Join(tc.args, " "), err)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("gateway %s: stderr lacks %q:\n%s", strings.Join(tc.args, " "), w, stderr.String())
			}
		}
		if stdout.Len() > 0 {
			t.Errorf("gateway %s printed on stdout: %q", strings.Join(tc.args, " "), stdout.String())
		}
	}
	// Production with nothing set refuses to start, naming what is missing.
	cmd = exec.Command(bin)
	cmd.Env = []string{"GATEWAY_ENV=production", "PORT=0"}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "WORKABLE_SUBDOMAIN") || !strings.Contains(string(out), "GATEWAY_API_KEYS") {
		t.Errorf("production without settings = %v %q, want a refusal naming the missing settings", err, out)
	}
}

// TestSchemaRouteFollowsIntrospection: GET /schema.graphql serves the SDL
// while introspection is on; off, it is gone and __schema is refused with
// INTROSPECTION_DISABLED (status 200 for application/json, no data).
func TestSchemaRouteFollowsIntrospection(t *testing.T) {
	t.Parallel()
	on, stopOn := startRun(t, nil, map[string]string{"PORT": "0"}, `listening on (http://localhost:\d+)/query`)
	defer stopOn()
	off, stopOff := startRun(t, nil, map[string]string{"PORT": "0", "GATEWAY_INTROSPECTION": "false"}, `listening on (http://localhost:\d+)/query`)
	defer stopOff()

	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(on + "/schema.graphql"); code != http.StatusOK || body != graph.SchemaSDL() {
		t.Errorf("GET /schema.graphql with introspection on = %d, want 200 with the SDL", code)
	}
	if code, _ := get(off + "/schema.graphql"); code != http.StatusNotFound {
		t.Errorf("GET /schema.graphql with introspection off = %d, want 404", code)
	}
	res, _ := postQuery(t, off, `{"query":"{ __schema { types { name } } }"}`, nil)
	if len(res.Errors) != 1 || res.Errors[0].Extensions.Code != guard.CodeIntrospectionDisabled || res.Data != nil {
		t.Errorf("__schema with introspection off = %+v, want INTROSPECTION_DISABLED without data", res)
	}
}

// TestDemoModeIsLocalOnly: demo mode listens on 127.0.0.1 only (everyone
// who reaches it is an admin), and browsers on localhost, whatever their
// port, may call it; other origins learn which setting would allow them.
func TestDemoModeIsLocalOnly(t *testing.T) {
	t.Parallel()
	base, logs, stop := startLoggedRun(t, map[string]string{"PORT": "0", "LOG_FORMAT": "json"})
	preflight := func(origin string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodOptions, base+"/query", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, traceparent, tracestate")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, _ := preflight("http://localhost:5173")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "traceparent, tracestate") {
		t.Errorf("preflight from a frontend on localhost = %d %v", resp.StatusCode, resp.Header)
	}
	if resp, body := preflight("https://dash.example.com"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "CORS_ALLOWED_ORIGINS") {
		t.Errorf("preflight from another origin = %d %s, want 403 naming CORS_ALLOWED_ORIGINS", resp.StatusCode, body)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var listening map[string]any
	for _, l := range jsonLogLines(t, logs.String()) {
		if l["msg"] == "listening" {
			listening = l
		}
	}
	if addr, _ := listening["addr"].(string); !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("demo mode listens on %q, want 127.0.0.1 only", addr)
	}
}

// TestEveryLogLineIsJSONWithRedisDown: with Redis unreachable, go-redis
// logs its own failures; they come out in the configured format like every
// other line, the shutdown included. Not parallel: go-redis has one logger
// per process, which another run() with Redis would take over.
func TestEveryLogLineIsJSONWithRedisDown(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	addr := closed.Listener.Addr().String()
	closed.Close()
	base, logs, stop := startLoggedRun(t, map[string]string{"PORT": "0", "LOG_FORMAT": "json", "REDIS_URL": "redis://" + addr + "/0"})
	if code, _ := httpGet(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with Redis down = %d", code)
	}
	if res, _ := postQuery(t, base, `{"query":"{ jobs(first: 1) { nodes { shortcode } } }"}`, nil); len(res.Errors) > 0 {
		t.Errorf("query with Redis down: %+v", res.Errors)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	msgs := map[string]bool{}
	goRedis := false
	for _, l := range jsonLogLines(t, logs.String()) {
		msgs[l["msg"].(string)] = true
		goRedis = goRedis || l["component"] == "go-redis"
	}
	if !goRedis {
		t.Errorf("no go-redis line in the log:\n%s", logs)
	}
	for _, m := range []string{"listening", "shutting down: draining, then waiting for requests in flight", "shut down: every request in flight was answered"} {
		if !msgs[m] {
			t.Errorf("no %q line in the log", m)
		}
	}
}

// TestJSONLogsPrintNothingElse: with JSON logs (LOG_FORMAT=json, or
// production) every line the gateway writes, on stdout and on stderr, is
// JSON: the startup banner becomes the "listening" line's url, playground
// and demo, and nothing is printed on stdout.
func TestJSONLogsPrintNothingElse(t *testing.T) {
	t.Parallel()
	sim := httptest.NewServer(simulator.New().Handler())
	t.Cleanup(sim.Close)
	tests := []struct {
		name           string
		env            map[string]string
		demo           bool
		wantPlayground bool
	}{
		{name: "demo with LOG_FORMAT=json", env: map[string]string{"PORT": "0", "LOG_FORMAT": "json"}, demo: true, wantPlayground: true},
		{name: "production", env: production("PORT", "0", "WORKABLE_SUBDOMAIN", simulator.DemoSubdomain,
			"WORKABLE_API_TOKEN", simulator.DemoToken, "WORKABLE_BASE_URL", sim.URL+"/spi/v3/", "DRAIN_DELAY", "0s")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base, logs, stdout, stop := startLoggedRunOutput(t, tt.env)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if out := stdout.String(); out != "" {
				t.Errorf("stdout with JSON logs = %q, want nothing", out)
			}
			var listening map[string]any
			for _, l := range jsonLogLines(t, logs.String()) {
				if l["msg"] == "listening" {
					listening = l
				}
			}
			if listening == nil {
				t.Fatalf("no listening line in:\n%s", logs)
			}
			pg, hasPG := listening["playground"]
			if listening["url"] != base+"/query" || listening["demo"] != tt.demo || hasPG != tt.wantPlayground ||
				(hasPG && pg != base+"/") {
				t.Errorf("listening = %v, want url %s/query, demo %v, playground %v", listening, base, tt.demo, tt.wantPlayground)
			}
		})
	}
}

// jsonLogLines decodes every line of logs, failing on one that is not JSON.
func jsonLogLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		out = append(out, m)
	}
	return out
}

// httpGet returns the status and body of GET url.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
