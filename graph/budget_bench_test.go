package graph

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// BenchmarkColdPage measures the cold 41-call page (20 candidates, each
// with a detail field and its activities, qDeferredPage) against a
// simulator enforcing 10 and 50 requests per window, as account and OAuth
// tokens get: the time to the first byte of the answer (the list, sent at
// once over multipart/mixed with the candidates' fields deferred) and to
// its last part, and the same page without @defer (one JSON answer). The
// window is shrunk from Workable's 10 s to 1 s (not shorter: the
// X-Rate-Limit-Reset header counts whole seconds) so that a run takes
// seconds; compare the figures as ratios. Each iteration starts cold: a new
// simulator, limiter (starting at 10 and adopting the announced limit, with
// a margin of a tenth of the window) and cache. Run it with
//
//	go test -run '^$' -bench BenchmarkColdPage -benchtime 3x ./graph/
func BenchmarkColdPage(b *testing.B) {
	const window = time.Second
	for _, limit := range []int{10, 50} {
		for _, deferred := range []bool{true, false} {
			name := "json"
			query := qPage
			if deferred {
				name, query = "defer", qDeferredPage
			}
			b.Run(name+"/"+strconv.Itoa(limit)+"_per_window", func(b *testing.B) {
				body, err := json.Marshal(map[string]any{"query": query})
				if err != nil {
					b.Fatal(err)
				}
				var first, last time.Duration
				var tooMany int
				for b.Loop() {
					b.StopTimer()
					sim := simulator.New(simulator.WithRateLimit(limit, window))
					simSrv := httptest.NewServer(sim.Handler())
					client, err := workable.NewClient(simulator.DemoSubdomain, simulator.DemoToken,
						workable.WithBaseURL(simSrv.URL+"/spi/v3/"),
						workable.WithRateLimiter(workable.NewWindowLimiter(10, window, workable.WithMargin(window/10))),
						workable.WithRequestHook(upstream.CountWorkableCalls))
					if err != nil {
						b.Fatal(err)
					}
					srv := httptest.NewServer(NewHandler(Config{Credentials: oneCredential(client, upstream.Config{Cache: cache.NewMemory(0)})}))
					req, err := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
					if err != nil {
						b.Fatal(err)
					}
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Accept", "multipart/mixed, application/json")
					b.StartTimer()

					start := time.Now()
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					r := bufio.NewReader(resp.Body)
					if _, err := r.Peek(1); err != nil {
						b.Fatal(err)
					}
					first += time.Since(start)
					var rest strings.Builder
					if _, err := r.WriteTo(&rest); err != nil {
						b.Fatal(err)
					}
					last += time.Since(start)

					b.StopTimer()
					resp.Body.Close()
					if strings.Contains(rest.String(), `"errors"`) {
						b.Fatalf("the page answered errors: %s", rest.String())
					}
					tooMany += sim.TooManyRequests()
					srv.Close()
					simSrv.Close()
					b.StartTimer()
				}
				n := float64(b.N)
				b.ReportMetric(float64(first.Milliseconds())/n, "ms-first-byte/op")
				b.ReportMetric(float64(last.Milliseconds())/n, "ms-last-part/op")
				b.ReportMetric(float64(tooMany)/n, "429s/op")
			})
		}
	}
}
