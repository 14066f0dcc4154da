package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/workablegw/gateway/cache/cachetest"
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
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, func(k string) string { return env[k] }, pw, stderr)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	re := regexp.MustCompile(urlPattern)
	sc := bufio.NewScanner(pr)
	var base string
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("run printed no line matching %q; run returned %v", urlPattern, <-done)
	}
	go io.Copy(io.Discard, pr) // keep draining so run never blocks on stdout
	stop := func() error {
		cancel()
		return <-done
	}
	t.Cleanup(func() { cancel() })
	return base, stop
}

func TestRunDemoModeServesEveryRoute(t *testing.T) {
	base, stop := startRun(t, nil, map[string]string{"PORT": "0"}, `Playground: (http://localhost:\d+)/`)

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

func TestRunRejectsBadSettings(t *testing.T) {
	t.Parallel()
	env := map[string]string{"WORKABLE_API_TOKEN": "tok-should-not-leak"}
	err := run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "WORKABLE_SUBDOMAIN") {
		t.Fatalf("run with a token but no subdomain = %v, want an error naming WORKABLE_SUBDOMAIN", err)
	}
	if strings.Contains(err.Error(), "tok-should-not-leak") {
		t.Errorf("error %q leaks the token", err)
	}
	if err := run(context.Background(), []string{"serve"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Errorf("run with an unknown argument succeeded")
	}
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
	srv := cachetest.NewServer(t)
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
