package refresher

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// The tests run in a synctest bubble: time is virtual (it moves only when
// every goroutine waits), the simulator is called in process (no network),
// and the whole run is repeatable.

// pastSeed moves the bubble's clock (which starts in 2000) past the
// simulator's seeded data (2023–2025), as a live account's now would be.
// It is called first in each bubble: sleeping there takes no real time.
func pastSeed() { time.Sleep(time.Until(time.Date(2026, time.December, 6, 9, 0, 0, 0, time.UTC))) }

// inProcess serves a client's requests with a handler, in the caller's
// goroutine.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// fakes records what the refresher invalidates and publishes.
type fakes struct {
	mu          sync.Mutex
	candidates  []string
	jobs        []string
	published   []events.Event
	calls, lags int
	failPublish int // the next publications that fail
}

func (f *fakes) CandidatesChanged(_ context.Context, _ string, ids ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.candidates = append(f.candidates, ids...)
	return nil
}

func (f *fakes) JobsChanged(_ context.Context, _ string, shortcodes ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs = append(f.jobs, shortcodes...)
	return nil
}

func (f *fakes) Publish(_ context.Context, e events.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failPublish > 0 {
		f.failPublish--
		return errors.New("bus unreachable")
	}
	f.published = append(f.published, e)
	return nil
}

func (f *fakes) Call(string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
}

func (f *fakes) Lag(string, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lags++
}

func (f *fakes) take() (cands []string, evs []events.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cands, evs = f.candidates, f.published
	f.candidates, f.published = nil, nil
	return cands, evs
}

func newClient(t *testing.T, sim *simulator.Simulator, l workable.RateLimiter) *workable.Client {
	t.Helper()
	c, err := workable.NewClient(simulator.DemoSubdomain, simulator.DemoToken,
		workable.WithBaseURL("http://simulator.test/spi/v3/"),
		workable.WithHTTPClient(&http.Client{Transport: sim.Transport()}),
		workable.WithRateLimiter(l))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newRefresher(t *testing.T, c *workable.Client, f *fakes, share float64, interval time.Duration, st StateStore) *Refresher {
	t.Helper()
	r, err := New(Config{
		Credential: "main", Client: c, Invalidator: f, Publisher: f, Observer: f,
		Lease: LocalLease{}, State: st, Interval: interval, Share: share,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRoundReportsChanges: a round invalidates and reports the candidates
// changed since the last one (a move in Workable's UI, a candidate added
// there), and the next round, whose window overlaps, reports nothing
// twice.
func TestRoundReportsChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pastSeed()
		ctx := context.Background()
		sim := simulator.New(simulator.WithCandidates(20))
		limiter := workable.NewWindowLimiter(10, 10*time.Second)
		f := &fakes{}
		r := newRefresher(t, newClient(t, sim, limiter), f, 1, time.Minute, NewMemoryState())

		if err := r.Round(ctx); err != nil {
			t.Fatalf("first round: %v", err)
		}
		if cands, evs := f.take(); len(cands) != 0 || len(evs) != 0 {
			t.Fatalf("first round, nothing changed: invalidated %v, published %v", cands, evs)
		}
		if n := sim.RequestCount("GET /candidates") + sim.RequestCount("GET /jobs"); n != 2 {
			t.Errorf("first round made %d calls, want 2 (one page of each list)", n)
		}

		time.Sleep(time.Minute)
		moved := sim.Candidates()[3]
		if _, err := sim.MoveCandidateInUI(ctx, moved.ID, "offer"); err != nil {
			t.Fatal(err)
		}
		added, _, err := sim.CreateCandidateInUI(ctx, moved.Job.Shortcode, simulator.UICandidate{Firstname: "Ada", Lastname: "Lovelace", Email: "ada@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Round(ctx); err != nil {
			t.Fatalf("second round: %v", err)
		}
		cands, evs := f.take()
		if diff := cmp.Diff([]string{moved.ID, added}, cands); diff != "" {
			t.Errorf("invalidated (-want +got):\n%s", diff)
		}
		type ev struct {
			Kind         events.Kind
			ID, Job, Stg string
		}
		var got []ev
		for _, e := range evs {
			got = append(got, ev{e.Kind, e.CandidateID, e.JobShortcode, e.Stage})
			if e.Source != "refresher" || e.Credential != "main" || e.ID == "" || e.At.IsZero() {
				t.Errorf("event %+v lacks its source, credential, id or time", e)
			}
		}
		want := []ev{
			{events.CandidateMoved, moved.ID, moved.Job.Shortcode, "Offer"},
			{events.CandidateCreated, added, moved.Job.Shortcode, "Applied"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}

		time.Sleep(time.Minute)
		if err := r.Round(ctx); err != nil {
			t.Fatalf("third round: %v", err)
		}
		if cands, evs := f.take(); len(cands) != 0 || len(evs) != 0 {
			t.Errorf("the overlapping round reported again: invalidated %v, published %v", cands, evs)
		}

		// Another move of a candidate whose stage is known is a move; a
		// change that keeps the stage is invalidated but not reported.
		time.Sleep(time.Minute)
		if _, err := sim.MoveCandidateInUI(ctx, moved.ID, "hired"); err != nil {
			t.Fatal(err)
		}
		if err := r.Round(ctx); err != nil {
			t.Fatalf("fourth round: %v", err)
		}
		if cands, evs := f.take(); len(cands) != 1 || len(evs) != 1 || evs[0].Stage != "Hired" || evs[0].Kind != events.CandidateMoved {
			t.Errorf("a second move: invalidated %v, published %+v", cands, evs)
		}
		time.Sleep(time.Minute)
		if _, err := sim.MoveCandidateInUI(ctx, moved.ID, "hired"); err != nil { // the same stage: touches nothing
			t.Fatal(err)
		}
		if err := r.Round(ctx); err != nil {
			t.Fatalf("fifth round: %v", err)
		}
		if cands, evs := f.take(); len(cands) != 0 || len(evs) != 0 {
			t.Errorf("no change: invalidated %v, published %+v", cands, evs)
		}
		if f.lags == 0 {
			t.Error("no lag was observed")
		}
	})
}

// recordingLimiter wraps the production limiter and records, in grant
// order, who got each slot and, for each user call, how many background
// calls got a slot between its arrival and its own.
type recordingLimiter struct {
	*workable.WindowLimiter

	mu      sync.Mutex
	bgTimes []time.Time // when each background call got its slot
	bgSlots int
	delays  []int // per user call: background slots granted while it waited
}

func (l *recordingLimiter) Wait(ctx context.Context, p workable.Priority) error {
	l.mu.Lock()
	before := l.bgSlots
	l.mu.Unlock()
	err := l.WindowLimiter.Wait(ctx, p)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		return err
	}
	if p == workable.PriorityBackground {
		l.bgSlots++
		l.bgTimes = append(l.bgTimes, time.Now())
	} else {
		l.delays = append(l.delays, l.bgSlots-before)
	}
	return nil
}

// TestShareUnderUserLoad runs the refresher, with a long backlog of
// changes, next to users who spend most of the budget (bursts of calls
// with pauses between them), on the production limiter (10 calls per
// 10 s). The refresher must work through its backlog only in what users
// leave: at most its share (0.2: 2 calls) in any 10 s, and no user call
// may see more than one background call get a slot while it waits.
func TestShareUnderUserLoad(t *testing.T) {
	// Six users, each making bursts of four calls with 9 s between them:
	// 24 calls asked per burst round against a budget of 10 per 10 s, so
	// users queue most of the time and the refresher has only the gaps.
	const (
		nUsers, callsPerUser, burst = 6, 16, 4
		pause                       = 9 * time.Second
	)
	synctest.Test(t, func(t *testing.T) {
		pastSeed()
		ctx, cancel := context.WithCancel(context.Background())
		sim := simulator.New(simulator.WithCandidates(3000))
		limiter := &recordingLimiter{WindowLimiter: workable.NewWindowLimiter(10, 10*time.Second, workable.WithFixedLimit())}
		client := newClient(t, sim, limiter)
		f := &fakes{}
		st := NewMemoryState()
		// A backlog: everything changed since 2020 (30 pages of candidates).
		long := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := st.Save(ctx, "main", State{Candidates: Walk{After: long}, Jobs: Walk{After: long}}); err != nil {
			t.Fatal(err)
		}
		r := newRefresher(t, client, f, 0.2, time.Second, st)

		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Run(ctx)
		}()
		ids := sim.Candidates()
		var users sync.WaitGroup
		for u := range nUsers {
			users.Add(1)
			go func() {
				defer users.Done()
				for i := range callsPerUser {
					if _, _, err := client.Candidates.Get(ctx, ids[(u*callsPerUser+i)%len(ids)].ID); err != nil {
						t.Errorf("user %d call %d: %v", u, i, err)
						return
					}
					if i%burst == burst-1 {
						time.Sleep(pause)
					}
				}
			}()
		}
		users.Wait()
		cancel()
		wg.Wait()

		limiter.mu.Lock()
		defer limiter.mu.Unlock()
		if limiter.bgSlots == 0 {
			t.Fatal("the refresher made no call: the users left slots it should have used")
		}
		for i, at := range limiter.bgTimes {
			n := 0
			for _, b := range limiter.bgTimes[i:] {
				if b.Sub(at) < 10*time.Second {
					n++
				}
			}
			if n > 2 {
				t.Errorf("%d background calls in the 10 s from %s, more than its share (2)", n, at.Sub(limiter.bgTimes[0]))
			}
		}
		if len(limiter.delays) != nUsers*callsPerUser {
			t.Errorf("%d user calls got a slot, want %d", len(limiter.delays), nUsers*callsPerUser)
		}
		for i, d := range limiter.delays {
			if d > 1 {
				t.Errorf("user call %d saw %d background calls get a slot while it waited, more than one", i, d)
			}
		}
		if f.calls != limiter.bgSlots {
			t.Errorf("the observer counted %d calls, the limiter %d", f.calls, limiter.bgSlots)
		}
		t.Logf("%d background calls, %d user calls", limiter.bgSlots, len(limiter.delays))
	})
}

// TestNoCallWhileUsersWait: a round makes no call while a user call
// waits for the budget, nor beyond the share, nor without a budget
// report.
func TestPacer(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newPacer(0.2, nil)
		free := workable.Budget{Limit: 10, Window: 10 * time.Second, Remaining: 10}
		cases := []struct {
			name string
			b    workable.Budget
			want bool
		}{
			{"a free budget", free, true},
			{"a user waits", workable.Budget{Limit: 10, Window: 10 * time.Second, Remaining: 10, Queued: 1}, false},
			{"nothing left", workable.Budget{Limit: 10, Window: 10 * time.Second, Remaining: 0}, false},
			{"no limit known", workable.Budget{}, false},
		}
		for _, tc := range cases {
			if got := p.allow(tc.b); got != tc.want {
				t.Errorf("%s: allow = %v, want %v", tc.name, got, tc.want)
			}
		}
		p.spent()
		p.spent()
		if p.allow(free) {
			t.Error("a third call within the window was allowed (share 0.2 of 10)")
		}
		time.Sleep(10*time.Second + time.Millisecond)
		if !p.allow(free) {
			t.Error("no call allowed once the window has passed")
		}
	})

	shares := []struct {
		share float64
		limit int
		n     int
		span  time.Duration
	}{
		{0.2, 10, 2, 10 * time.Second},
		{0.2, 50, 10, 10 * time.Second},
		{0.05, 10, 1, 20 * time.Second},
		{0.25, 10, 2, 10 * time.Second},
		{1, 10, 10, 10 * time.Second},
	}
	for _, s := range shares {
		n, span := newPacer(s.share, nil).allowance(s.limit, 10*time.Second)
		if n != s.n || span != s.span {
			t.Errorf("share %v of %d: %d per %s, want %d per %s", s.share, s.limit, n, span, s.n, s.span)
		}
	}
}

// TestLeaseAndState: replicas on one Redis run one refresher per
// credential, and the state one saves the other loads.
func TestLeaseAndState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.NewServer(t)
	a, b := NewRedisLease(srv.Client, srv.Prefix), NewRedisLease(srv.NewClient(t), srv.Prefix)
	hold := func(l *RedisLease, key string) bool {
		t.Helper()
		ok, err := l.Hold(ctx, key, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !hold(a, "refresher:main") || hold(b, "refresher:main") || !hold(a, "refresher:main") {
		t.Fatal("the lease is not held by exactly the first replica")
	}
	if !hold(b, "refresher:other") {
		t.Error("another credential's lease is taken by the first")
	}
	if err := b.Release(ctx, "refresher:main"); err != nil { // not b's: nothing happens
		t.Fatal(err)
	}
	if hold(b, "refresher:main") {
		t.Error("a replica released a lease it did not hold")
	}
	if err := a.Release(ctx, "refresher:main"); err != nil {
		t.Fatal(err)
	}
	if !hold(b, "refresher:main") {
		t.Error("a released lease was not taken over")
	}

	stA, stB := NewRedisState(srv.Client, srv.Prefix), NewRedisState(srv.NewClient(t), srv.Prefix)
	if _, found, err := stB.Load(ctx, "main"); err != nil || found {
		t.Fatalf("Load before any Save: found %v, %v", found, err)
	}
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	want := State{Candidates: Walk{After: at, Cursor: "2a", Started: at.Add(time.Minute), Seen: map[string]int64{"2a": at.UnixMilli()}}, Jobs: Walk{After: at, Fresh: at}}
	if err := stA.Save(ctx, "main", want); err != nil {
		t.Fatal(err)
	}
	got, found, err := stB.Load(ctx, "main")
	if err != nil || !found {
		t.Fatalf("Load: found %v, %v", found, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
}

func TestWalkFinish(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	w := Walk{After: at.Add(-time.Hour), Cursor: "ff", Started: at}
	w.markSeen("old", at.Add(-2*time.Minute))
	w.markSeen("recent", at.Add(-time.Second))
	w.finish()
	if !w.After.Equal(at.Add(-skew)) || w.Cursor != "" || !w.Started.IsZero() || !w.Fresh.Equal(at) {
		t.Errorf("after finish: %+v", w)
	}
	keys := make([]string, 0, len(w.Seen))
	for k := range w.Seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if diff := cmp.Diff([]string{"recent"}, keys); diff != "" {
		t.Errorf("seen kept (-want +got):\n%s", diff)
	}
}

// TestOneRefresherAcrossReplicas: two replicas on one Redis, each with its
// own refresher for the same credential: only the lease holder calls
// Workable; once it lets the lease go, the other takes over from the
// watermark it saved (reporting nothing twice).
func TestOneRefresherAcrossReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.NewServer(t)
	sim := simulator.New(simulator.WithCandidates(10))
	calls := func() int { return sim.RequestCount("GET /candidates") + sim.RequestCount("GET /jobs") }
	f := &fakes{}
	replica := func(rdb redis.UniversalClient) (*Refresher, *RedisLease) {
		lease := NewRedisLease(rdb, srv.Prefix)
		r, err := New(Config{
			Credential: "main", Client: newClient(t, sim, workable.NewWindowLimiter(10, 10*time.Second)),
			Invalidator: f, Publisher: f, Lease: lease, State: NewRedisState(rdb, srv.Prefix),
			Interval: time.Minute, Share: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		return r, lease
	}
	a, leaseA := replica(srv.Client)
	b, _ := replica(srv.NewClient(t))

	if err := a.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if n := calls(); n != 2 {
		t.Fatalf("the first replica made %d calls, want 2", n)
	}
	if err := b.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if n := calls(); n != 2 {
		t.Fatalf("the second replica called Workable while the first held the lease: %d calls", n)
	}
	if err := leaseA.Release(ctx, a.leaseKey()); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.MoveCandidateInUI(ctx, sim.Candidates()[0].ID, "offer"); err != nil {
		t.Fatal(err)
	}
	if err := b.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if n := calls(); n != 4 {
		t.Errorf("after the lease was let go, %d calls, want 4 (the second replica's round)", n)
	}
	if cands, evs := f.take(); len(cands) != 1 || len(evs) != 1 {
		t.Errorf("the second replica reported %v and %+v, want the one move since the first's watermark", cands, evs)
	}
}

// TestFailedPublicationIsRetried: when the bus fails, the round fails and
// the next round reports the change again (it was not marked seen, and
// its stage is not taken as known).
func TestFailedPublicationIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pastSeed()
		ctx := context.Background()
		sim := simulator.New(simulator.WithCandidates(5))
		f := &fakes{}
		r := newRefresher(t, newClient(t, sim, workable.NewWindowLimiter(10, 10*time.Second)), f, 1, time.Minute, NewMemoryState())
		if err := r.Round(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		c := sim.Candidates()[1]
		if _, err := sim.MoveCandidateInUI(ctx, c.ID, "offer"); err != nil {
			t.Fatal(err)
		}
		f.failPublish = 1
		if err := r.Round(ctx); err == nil {
			t.Fatal("a round whose publication failed reported no error")
		}
		f.take()
		time.Sleep(time.Minute)
		if err := r.Round(ctx); err != nil {
			t.Fatal(err)
		}
		if _, evs := f.take(); len(evs) != 1 || evs[0].CandidateID != c.ID || evs[0].Stage != "Offer" {
			t.Errorf("the next round published %+v, want the move to Offer", evs)
		}
	})
}
