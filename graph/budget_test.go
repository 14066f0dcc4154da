package graph

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/ratebudget"
	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// qPage is a page of 20 candidates with a detail field (one
// GET /candidates/{id} each) and their activities (one
// GET /candidates/{id}/activities each), 41 Workable calls when cold. tags
// is the detail field because a fetched candidate always has a list there
// (possibly empty), so null can only mean "not served".
const qPage = `{ candidates(first: 20) { nodes { id name tags activities(first: 5) { nodes { action } } } } }`

// budgetLimiter is a rate budget the budget tests run on: in process, or in
// Redis (as in production).
type budgetLimiter struct {
	name string
	// open returns a limiter starting at limit per window (plus margin), and
	// the cache store the gateway uses with it and its namespace prefix.
	open func(t *testing.T, limit int, window, margin time.Duration) (workable.RateLimiter, cache.Store, string)
}

func budgetLimiters() []budgetLimiter {
	ns := cache.Namespace(simulator.DemoSubdomain, simulator.DemoToken)
	return []budgetLimiter{
		{"in process", func(t *testing.T, limit int, window, margin time.Duration) (workable.RateLimiter, cache.Store, string) {
			return workable.NewWindowLimiter(limit, window, workable.WithMargin(margin)), cache.NewMemory(0), ""
		}},
		{"redis", func(t *testing.T, limit int, window, margin time.Duration) (workable.RateLimiter, cache.Store, string) {
			srv := redistest.NewServer(t)
			l := ratebudget.NewLimiter(srv.Client, srv.Prefix+ns+"rate", limit, window,
				ratebudget.WithSafetyMargin(margin), ratebudget.WithTimeout(5*time.Second))
			return l, cache.NewRedis(srv.Client, cache.WithTimeout(5*time.Second)), srv.Prefix
		}},
	}
}

// pageResult is the decoded answer to qPage.
type pageResult struct {
	Candidates struct {
		Nodes []struct {
			ID         string
			Name       string
			Tags       *[]string
			Activities *struct{ Nodes []struct{ Action string } }
		}
	}
}

// TestColdPageAtFiftyPerWindow: against a Workable that allows 50 requests
// per 10 s and announces it, the gateway's limiter starts at 10, adopts 50
// from the first answer, and the cold 41-call page is served whole without
// a single call waiting for a window slot (so well within one window, under
// 10 s) and without a single 429.
func TestColdPageAtFiftyPerWindow(t *testing.T) {
	t.Parallel()
	for _, bl := range budgetLimiters() {
		t.Run(bl.name, func(t *testing.T) {
			t.Parallel()
			limiter, store, prefix := bl.open(t, 10, 10*time.Second, 500*time.Millisecond)
			env := newTestEnv(t, withSimOptions(simulator.WithRateLimit(50, 10*time.Second)),
				withCache(store, prefix), withClientOptions(workable.WithRateLimiter(limiter)))
			resp := env.query(qPage, nil)
			if len(resp.Errors) > 0 {
				t.Fatalf("the page answered errors: %s", resp.Raw)
			}
			var page pageResult
			if err := json.Unmarshal(resp.Data, &page); err != nil {
				t.Fatal(err)
			}
			if n := len(page.Candidates.Nodes); n != 20 {
				t.Fatalf("%d candidates, want 20", n)
			}
			for i, c := range page.Candidates.Nodes {
				if c.Tags == nil || c.Activities == nil {
					t.Errorf("candidate %d lacks its detail or activities: %+v", i, c)
				}
			}
			if got := extensionsOf(t, resp).Cost.WorkableCalls; got != 41 {
				t.Errorf("workableCalls = %d, want 41", got)
			}
			if n := env.sim.TooManyRequests(); n != 0 {
				t.Errorf("Workable answered %d calls with 429", n)
			}
			b, err := env.client.Budget(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if b.Limit != 50 {
				t.Errorf("limit after the page = %d, want the announced 50", b.Limit)
			}
			if b.Delayed != 0 {
				t.Errorf("%d calls waited for a window slot, want none", b.Delayed)
			}
		})
	}
}

// TestPartialPageWithinTheBudget: a Workable enforcing 10 requests per
// window (shrunk from 10 s to 1 s) and a request deadline of a few windows
// that cannot cover the page's 41 calls. The page still lists all 20
// candidates with their list fields; the budget goes to whole candidates in
// list order (detail and activities of candidate 1 before candidate 2's);
// each field that could not be served is null with a RATE_LIMITED error at
// its path carrying retryAfter and workableCallsNeeded; every call made
// served a field; Workable never answered 429. Retries complete the page
// from the cache, making each of the 41 calls exactly once in all.
//
// The limiter adopts the simulator's announced 10 per 1 s but keeps a 1 s
// margin (10 per 2 s): the simulator counts arrivals in fixed windows, and
// on a loaded machine a request can reach it long after the limiter let it
// go (see clientBudget). Only the number of windows within the deadline
// depends on it, and the test asserts no number of items.
func TestPartialPageWithinTheBudget(t *testing.T) {
	t.Parallel()
	for _, bl := range budgetLimiters() {
		t.Run(bl.name, func(t *testing.T) {
			t.Parallel()
			limiter, store, prefix := bl.open(t, 10, time.Second, time.Second)
			env := newTestEnv(t, withSimOptions(simulator.WithRateLimit(10, time.Second)),
				withCache(store, prefix), withClientOptions(workable.WithRateLimiter(limiter)),
				withRequestTimeout(5*time.Second))

			totalCalls, prevServed := 0, 0
			for attempt := 1; ; attempt++ {
				resp := env.query(qPage, nil)
				var page pageResult
				if err := json.Unmarshal(resp.Data, &page); err != nil {
					t.Fatalf("attempt %d: %v in %s", attempt, err, resp.Raw)
				}
				nodes := page.Candidates.Nodes
				if len(nodes) != 20 {
					t.Fatalf("attempt %d: %d candidates, want all 20: %s", attempt, len(nodes), resp.Raw)
				}
				errAt := make(map[string]gqlError)
				for _, e := range resp.Errors {
					errAt[fmt.Sprint(e.Path...)] = e
				}
				served, complete := 0, 0
				for i, c := range nodes {
					if c.ID == "" || c.Name == "" {
						t.Errorf("attempt %d: candidate %d lacks its list fields: %+v", attempt, i, c)
					}
					for field, ok := range map[string]bool{"tags": c.Tags != nil, "activities": c.Activities != nil} {
						path := fmt.Sprint("candidates", "nodes", float64(i), field)
						e, hasErr := errAt[path]
						switch {
						case ok && hasErr:
							t.Errorf("attempt %d: %s has data and an error", attempt, path)
						case ok:
							served++
						case !hasErr:
							t.Errorf("attempt %d: %s is null without an error at its path", attempt, path)
						case e.Code() != CodeRateLimited:
							t.Errorf("attempt %d: %s failed with %s, want RATE_LIMITED", attempt, path, e.Code())
						default:
							if n, _ := e.Extensions["retryAfter"].(float64); n < 1 {
								t.Errorf("attempt %d: %s has retryAfter %v, want at least 1 s", attempt, path, e.Extensions["retryAfter"])
							}
							if n, _ := e.Extensions["workableCallsNeeded"].(float64); n < 1 {
								t.Errorf("attempt %d: %s has workableCallsNeeded %v", attempt, path, e.Extensions["workableCallsNeeded"])
							}
						}
					}
					if c.Tags != nil && c.Activities != nil {
						if complete != i {
							t.Errorf("attempt %d: candidate %d is complete but candidate %d is not: whole items must complete in list order",
								attempt, i, complete)
						}
						complete++
					}
				}
				if len(errAt) != 40-served {
					t.Errorf("attempt %d: %d errors for %d unserved fields: %s", attempt, len(errAt), 40-served, resp.Raw)
				}
				cost := extensionsOf(t, resp).Cost
				// The cache serves what earlier attempts fetched: each call
				// of this attempt served a field nothing had fetched before
				// (plus the list, on the first).
				list := 0
				if attempt == 1 {
					list = 1
				}
				if want := list + served - prevServed; int(cost.WorkableCalls) != want {
					t.Errorf("attempt %d made %d calls for %d newly served fields (list %d): a call was wasted or repeated",
						attempt, cost.WorkableCalls, served-prevServed, list)
				}
				if needed := 40 - served; needed > 0 {
					if got, _ := resp.Errors[0].Extensions["workableCallsNeeded"].(float64); int(got) != needed {
						t.Errorf("attempt %d: workableCallsNeeded = %v, want %d (one per unserved field)", attempt, got, needed)
					}
				}
				prevServed = served
				totalCalls += int(cost.WorkableCalls)
				t.Logf("attempt %d: %d of 20 candidates complete, %d fields served, %d calls", attempt, complete, served, cost.WorkableCalls)
				if attempt == 1 && (complete == 20 || complete == 0) {
					t.Fatalf("the first attempt completed %d of 20 candidates: the deadline does not test a partial answer", complete)
				}
				if complete == 20 {
					if len(resp.Errors) > 0 {
						t.Errorf("the complete page answered errors: %s", resp.Raw)
					}
					break
				}
				if attempt == 6 {
					t.Fatalf("the page is still incomplete after %d attempts", attempt)
				}
			}
			if totalCalls != 41 {
				t.Errorf("the attempts made %d Workable calls in all, want 41: something was fetched twice", totalCalls)
			}
			if n := env.sim.TooManyRequests(); n != 0 {
				t.Errorf("Workable answered %d calls with 429", n)
			}
		})
	}
}

// TestWorkableBudgetCostsNoCall: Query.workableBudget answers from the
// limiter: the limit Workable announced, what is left, when it grows, and no
// Workable call.
func TestWorkableBudgetCostsNoCall(t *testing.T) {
	t.Parallel()
	for _, bl := range budgetLimiters() {
		t.Run(bl.name, func(t *testing.T) {
			t.Parallel()
			limiter, store, prefix := bl.open(t, 10, 10*time.Second, 500*time.Millisecond)
			env := newTestEnv(t, withSimOptions(simulator.WithRateLimit(50, 10*time.Second)),
				withCache(store, prefix), withClientOptions(workable.WithRateLimiter(limiter)))
			const q = `{ workableBudget { credential limit windowSeconds remaining resetsAt nextSlotAt queued } }`
			type budget struct {
				Credential    string
				Limit         int
				WindowSeconds int
				Remaining     int
				ResetsAt      *time.Time
				NextSlotAt    time.Time
				Queued        int
			}
			var before struct{ WorkableBudget budget }
			resp := env.query(q, nil)
			if len(resp.Errors) > 0 || json.Unmarshal(resp.Data, &before) != nil {
				t.Fatalf("workableBudget: %s", resp.Raw)
			}
			want := budget{Credential: "default", Limit: 10, WindowSeconds: 10, Remaining: 10}
			got := before.WorkableBudget
			if got.NextSlotAt.IsZero() || got.ResetsAt != nil {
				t.Errorf("fresh budget = %+v, want a next slot and no reset", got)
			}
			got.NextSlotAt = time.Time{}
			if got != want {
				t.Errorf("fresh budget = %+v, want %+v", got, want)
			}
			if c := extensionsOf(t, resp).Cost.WorkableCalls; c != 0 || env.sim.TotalRequests() != 0 {
				t.Errorf("workableBudget cost %d calls (Workable saw %d), want 0", c, env.sim.TotalRequests())
			}

			env.mustQuery(`{ jobs(first: 1) { nodes { id } } candidates(first: 1) { nodes { id } } }`, nil, nil)
			var after struct{ WorkableBudget budget }
			resp = env.query(q, nil)
			if len(resp.Errors) > 0 || json.Unmarshal(resp.Data, &after) != nil {
				t.Fatalf("workableBudget: %s", resp.Raw)
			}
			got = after.WorkableBudget
			if got.Limit != 50 || got.Remaining != 48 || got.ResetsAt == nil || got.Queued != 0 {
				t.Errorf("budget after 2 calls = %+v, want the announced limit 50, 48 remaining, a reset time, none queued", got)
			}
			if n := env.sim.TotalRequests(); n != 2 {
				t.Errorf("Workable saw %d calls, want the 2 of the query", n)
			}
		})
	}
}

// TestRetryHintsOnEveryRateLimitedError: whatever runs out of budget (a
// read through the loaders, a direct read, a write), its RATE_LIMITED error
// says when to retry and how many calls are missing.
func TestRetryHintsOnEveryRateLimitedError(t *testing.T) {
	t.Parallel()
	limiter := workable.NewWindowLimiter(1, time.Hour, workable.WithFixedLimit(), workable.WithMargin(0))
	env := newTestEnv(t, withClientOptions(workable.WithRateLimiter(limiter)), withRequestTimeout(5*time.Second))
	env.mustQuery(`{ jobs(first: 1) { nodes { id } } }`, nil, nil) // spends the only slot
	for _, q := range []string{
		`{ candidates(first: 3) { nodes { id } } }`,
		`{ stages { slug } account { name } }`,
		`mutation { updateCandidate(input: {id: "ce55afe", headline: "x"}) { candidate { id } } }`,
	} {
		resp := env.query(q, nil)
		if len(resp.Errors) == 0 {
			t.Fatalf("%s: no error with the budget spent: %s", q, resp.Raw)
		}
		for _, e := range resp.Errors {
			if e.Code() != CodeRateLimited {
				t.Errorf("%s: code %s, want RATE_LIMITED", q, e.Code())
				continue
			}
			after, _ := e.Extensions["retryAfter"].(float64)
			if after < 3590 || after > 3600 {
				t.Errorf("%s: retryAfter = %v, want about an hour (the next slot)", q, e.Extensions["retryAfter"])
			}
			if n, _ := e.Extensions["workableCallsNeeded"].(float64); int(n) != len(resp.Errors) {
				t.Errorf("%s: workableCallsNeeded = %v, want %d", q, e.Extensions["workableCallsNeeded"], len(resp.Errors))
			}
		}
	}
	if n := env.sim.TotalRequests(); n != 1 {
		t.Errorf("Workable saw %d calls, want 1", n)
	}
}
