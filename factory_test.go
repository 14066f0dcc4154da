package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable"
)

// TestClientFactorySharesTheBudgetInRedis: two Workable clients built by
// newClientFactory for one credential (two gateway processes, or one
// rebuilt client) keep one rate budget in Redis, under CACHE_PREFIX and the
// credential's namespace: once together they have spent workableLimit
// calls, the next call of either is refused at once (its deadline is far
// shorter than the window) and never reaches Workable, while another
// token's client still has its own budget. With REDIS_URL, on that server;
// else on an embedded Redis.
//
// No clock is involved: the window is workableWindow (10 s) and the test
// spends the budget in far less.
func TestClientFactorySharesTheBudgetInRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)

	// Workable: every call answers an account; no rate headers, so that
	// only the gateway's own limiter decides.
	var calls atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"name":"Acme","subdomain":"acme"}`))
	}))
	t.Cleanup(upstream.Close)

	cfg := config{CachePrefix: srv.Prefix, WorkableCallTimeout: 5 * time.Second}
	obs := newObservabilityWith(slog.New(slog.DiscardHandler), nil)
	newClient := newClientFactory(cfg, obs, srv.Client, nil, upstream.URL+"/spi/v3/")
	cred := credentials.Credential{Nickname: "default", Subdomain: "acme", Token: "wk-token-factory-0123456789abcdef"}
	var clients [2]*workable.Client
	for i := range clients {
		c, err := newClient(cred)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		clients[i] = c
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := range workableLimit {
		if _, _, err := clients[i%2].Accounts.Get(ctx); err != nil {
			t.Fatalf("call %d of the budget: %v", i+1, err)
		}
	}
	// The budget lives in Redis, under the prefix and the credential's
	// namespace (see ratebudget.NewLimiter for the key layout).
	logKey := "{" + srv.Prefix + cache.Namespace(cred.Subdomain, cred.Token) + "rate}:log"
	if n, err := srv.Client.ZCard(ctx, logKey).Result(); err != nil || n != int64(workableLimit) {
		t.Errorf("ZCARD %s = %d, %v; want %d", logKey, n, err, workableLimit)
	}

	for i, c := range clients {
		short, cancel := context.WithTimeout(context.Background(), time.Second)
		_, _, err := c.Accounts.Get(short)
		cancel()
		if !errors.Is(err, workable.ErrRateLimited) {
			t.Errorf("client %d after the shared budget was spent: err = %v, want ErrRateLimited", i, err)
		}
	}
	if n := calls.Load(); n != int32(workableLimit) {
		t.Errorf("Workable got %d calls, want %d (the budget)", n, workableLimit)
	}

	// Another token has a budget of its own.
	other, err := newClient(credentials.Credential{Nickname: "other", Subdomain: "acme", Token: "wk-token-factory-other-fedcba98765"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.Accounts.Get(ctx); err != nil {
		t.Errorf("another token's first call: %v", err)
	}
}

// TestClientFactoryLimit: the limiter of a credential starts at Workable's
// lowest budget, adopts the X-Rate-Limit-Limit of the token's responses (up
// to 50, back down to 10), and with WORKABLE_RATE_LIMIT keeps that limit
// whatever the headers say; in process and in Redis alike.
func TestClientFactoryLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		redis  bool
		pinned int
		want   []int // the limit before any call, then after each announcement
	}{
		{"in process", false, 0, []int{10, 50, 10}},
		{"redis", true, 0, []int{10, 50, 10}},
		{"in process, WORKABLE_RATE_LIMIT=25", false, 25, []int{25, 25, 25}},
		{"redis, WORKABLE_RATE_LIMIT=25", true, 25, []int{25, 25, 25}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var announce atomic.Int32
			upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(int(announce.Load())))
				w.Header().Set("X-Rate-Limit-Remaining", "5")
				w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(time.Now().Add(10*time.Second).Unix(), 10))
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"name":"Acme","subdomain":"acme"}`))
			}))
			t.Cleanup(upstream.Close)
			cfg := config{WorkableCallTimeout: 5 * time.Second, WorkableRateLimit: tc.pinned}
			var rdb redis.UniversalClient
			if tc.redis {
				srv := redistest.NewServer(t)
				rdb, cfg.CachePrefix = srv.Client, srv.Prefix
			}
			obs := newObservabilityWith(slog.New(slog.DiscardHandler), nil)
			c, err := newClientFactory(cfg, obs, rdb, nil, upstream.URL+"/spi/v3/")(
				credentials.Credential{Nickname: "default", Subdomain: "acme", Token: "wk-token-limit-0123456789abcdef"})
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			var got []int
			b, err := c.Budget(ctx)
			if err != nil {
				t.Fatalf("Budget: %v", err)
			}
			got = append(got, b.Limit)
			for _, n := range []int32{50, 10} {
				announce.Store(n)
				if _, _, err := c.Accounts.Get(ctx); err != nil {
					t.Fatal(err)
				}
				if b, err = c.Budget(ctx); err != nil {
					t.Fatalf("Budget: %v", err)
				}
				got = append(got, b.Limit)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("limits (-want +got):\n%s", diff)
			}
		})
	}
}
