package refresher

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// registry is a Credentials whose list a test changes.
type registry struct {
	mu      sync.Mutex
	clients map[string]*workable.Client
}

func (r *registry) List(context.Context) ([]credentials.Credential, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []credentials.Credential
	for n := range r.clients {
		out = append(out, credentials.Credential{Nickname: n})
	}
	return out, nil
}

func (r *registry) Client(_ context.Context, nickname string) (*workable.Client, credentials.Credential, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.clients[nickname]
	if !ok {
		return nil, credentials.Credential{}, credentials.ErrNotFound
	}
	return c, credentials.Credential{Nickname: nickname}, nil
}

func (r *registry) remove(nickname string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.clients, nickname)
}

// TestManager: one refresher per credential, stopped when the credential
// is removed; the metrics count each one's calls.
func TestManager(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pastSeed()
		ctx, cancel := context.WithCancel(context.Background())
		simA := simulator.New(simulator.WithCandidates(5))
		simB := simulator.New(simulator.WithCandidates(5))
		reg := &registry{clients: map[string]*workable.Client{
			"a": newClient(t, simA, workable.NewWindowLimiter(10, 10*time.Second)),
			"b": newClient(t, simB, workable.NewWindowLimiter(10, 10*time.Second)),
		}}
		f := &fakes{}
		promReg := prometheus.NewRegistry()
		m, err := NewManager(ManagerConfig{Credentials: reg, Config: Config{
			Invalidator: f, Publisher: f, Lease: LocalLease{}, State: NewMemoryState(),
			Interval: 10 * time.Second, Share: 0.2, Observer: NewMetrics(promReg),
		}})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			m.Run(ctx)
		}()
		synctest.Wait()
		calls := func(s *simulator.Simulator) int {
			return s.RequestCount("GET /candidates") + s.RequestCount("GET /jobs")
		}
		if calls(simA) != 2 || calls(simB) != 2 {
			t.Fatalf("first round: %d and %d calls, want 2 each", calls(simA), calls(simB))
		}
		reg.remove("b")
		// The manager's next check (at 10 s) stops b's refresher, whose
		// own round falls due at the same instant and may run first.
		time.Sleep(10 * time.Second)
		synctest.Wait()
		stoppedAt := calls(simB)
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if calls(simB) != stoppedAt {
			t.Errorf("the removed credential's refresher went on: %d calls, then %d", stoppedAt, calls(simB))
		}
		if calls(simA) <= 2 {
			t.Errorf("the remaining credential's refresher stopped: %d calls", calls(simA))
		}
		cancel()
		<-done
		want := `
# HELP workable_gateway_refresher_calls_total Calls the background refresher made to Workable, by credential.
# TYPE workable_gateway_refresher_calls_total counter
workable_gateway_refresher_calls_total{credential="a"} ` + strconv.Itoa(calls(simA)) + `
workable_gateway_refresher_calls_total{credential="b"} ` + strconv.Itoa(calls(simB)) + `
`
		if err := testutil.GatherAndCompare(promReg, strings.NewReader(want), "workable_gateway_refresher_calls_total"); err != nil {
			t.Error(err)
		}
		if n := testutil.CollectAndCount(promReg, "workable_gateway_refresher_lag_seconds"); n != 2 {
			t.Errorf("%d lag series, want 2", n)
		}
	})
}
