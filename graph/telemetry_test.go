package graph

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/telemetry"
	"github.com/workablegw/gateway/workable/simulator"
)

// fakeObserver records what the cache layer reports.
type fakeObserver struct {
	mu       sync.Mutex
	lookups  map[string]int // "kind/result" → count
	stale    map[string]int
	requests []string // "operation/outcome"
}

func (o *fakeObserver) ObserveCache(kind, result string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n > 0 {
		o.lookups[kind+"/"+result] += n
	}
}

func (o *fakeObserver) ObserveStale(kind string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stale[kind]++
}

func (o *fakeObserver) ObserveRequest(operation, outcome string, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests = append(o.requests, operation+"/"+outcome)
}

func (o *fakeObserver) snapshot() (map[string]int, map[string]int, []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	l, s := map[string]int{}, map[string]int{}
	for k, v := range o.lookups {
		l[k] = v
	}
	for k, v := range o.stale {
		s[k] = v
	}
	return l, s, append([]string(nil), o.requests...)
}

// statsView is the comparable part of a telemetry.RequestStats.
type statsView struct {
	Operation                   string
	WorkableCalls, Hits, Misses int64
	Stale                       bool
}

// TestObserverAndRequestStatsFollowTheCost checks that the request's
// telemetry.RequestStats (the log line) and the Observer (metrics) see
// exactly what extensions.cost says: cold, warm from the response cache,
// and a stale answer while Workable fails.
func TestObserverAndRequestStatsFollowTheCost(t *testing.T) {
	t.Parallel()
	obs := &fakeObserver{lookups: map[string]int{}, stale: map[string]int{}}
	statsc := make(chan *telemetry.RequestStats, 1)
	wrap := func(c Config) http.Handler {
		h := NewHandler(c)
		// What telemetry.RequestLogger does, handing the stats over once
		// the request is done.
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := new(telemetry.RequestStats)
			h.ServeHTTP(w, r.WithContext(telemetry.ContextWithStats(r.Context(), s)))
			statsc <- s
		})
	}
	// In a testing/synctest bubble, whose clock time.Sleep moves.
	econBubble(t, backends()[0], func(t *testing.T, env *testEnv) {
		c := env.sim.Candidates()[3]
		const q = `query CandidateDetail($id: ID!) { candidate(id: $id) { id name summary } }`

		view := func(s *telemetry.RequestStats) statsView {
			return statsView{s.OperationName, s.WorkableCalls.Load(), s.CacheHits.Load(), s.CacheMisses.Load(), s.Stale.Load()}
		}
		costView := func(r gqlResponse, op string) statsView {
			ext := extensionsOf(t, r)
			return statsView{op, ext.Cost.WorkableCalls, ext.Cost.CacheHits, ext.Cost.CacheMisses, ext.Stale}
		}

		// Cold: the operation name comes from OperationNameExtension in the
		// real server; without it the stats have none.
		cold := env.query(q, vars{"id": c.ID})
		if len(cold.Errors) > 0 {
			t.Fatalf("cold: %s", cold.Raw)
		}
		if diff := cmp.Diff(costView(cold, ""), view(<-statsc)); diff != "" {
			t.Errorf("cold: stats differ from extensions.cost (-cost +stats):\n%s", diff)
		}

		// Warm: the whole response from the response cache names its operation.
		warm := env.query(q, vars{"id": c.ID})
		if !extensionsOf(t, warm).ResponseCache {
			t.Fatalf("warm query not answered from the response cache: %s", warm.Raw)
		}
		if diff := cmp.Diff(costView(warm, "CandidateDetail"), view(<-statsc)); diff != "" {
			t.Errorf("warm: stats differ from extensions.cost (-cost +stats):\n%s", diff)
		}

		// Stale: Workable fails after the data and the response expired.
		time.Sleep(cache.DefaultTTLs().Candidate.Fresh * 2)
		env.sim.InjectFault("GET /candidates/{id}", simulator.Fault{Status: http.StatusServiceUnavailable})
		stale := env.query(q, vars{"id": c.ID})
		if !extensionsOf(t, stale).Stale {
			t.Fatalf("no stale answer: %s", stale.Raw)
		}
		if diff := cmp.Diff(costView(stale, ""), view(<-statsc)); diff != "" {
			t.Errorf("stale: stats differ from extensions.cost (-cost +stats):\n%s", diff)
		}

		lookups, stales, requests := obs.snapshot()
		kind := string(cache.KindCandidate)
		wantLookups := map[string]int{
			kind + "/miss":                       2, // cold, stale
			string(cache.KindResponse) + "/miss": 2, // cold, stale (expired)
			string(cache.KindResponse) + "/hit":  1, // warm
		}
		if diff := cmp.Diff(wantLookups, lookups); diff != "" {
			t.Errorf("observed lookups (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]int{kind: 1}, stales); diff != "" {
			t.Errorf("observed stale answers (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"CandidateDetail/ok"}, requests); diff != "" {
			t.Errorf("requests observed outside gqlgen (-want +got):\n%s", diff)
		}
	}, withResponseCache(), withObserver(obs), withHandler(wrap))
}
