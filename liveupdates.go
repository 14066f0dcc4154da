package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/refresher"
	"github.com/workablegw/gateway/webhooks"
)

// Live updates: Workable's webhooks in (POST /webhooks/workable/{credential},
// see NewServer), registered with GATEWAY_PUBLIC_URL, and the background
// refresher (REFRESH_*).

// liveUpdateProblems reads GATEWAY_PUBLIC_URL and the REFRESH_* settings.
func liveUpdateProblems(env func(string) string, cfg *config) []error {
	var problems []error
	if v := strings.TrimSpace(env("GATEWAY_PUBLIC_URL")); v != "" {
		if err := webhooks.CheckPublicURL(v); err != nil {
			problems = append(problems, fmt.Errorf("GATEWAY_PUBLIC_URL must be the gateway's base URL, such as https://gateway.example.com: %w, got %q", err, v))
		}
		cfg.PublicURL = strings.TrimRight(v, "/")
	}
	cfg.RefreshEnabled = true
	boolSetting(env, "REFRESH_ENABLED", &cfg.RefreshEnabled, &problems)
	cfg.RefreshInterval = refresher.DefaultInterval
	durationSetting(env, "REFRESH_INTERVAL", &cfg.RefreshInterval, &problems)
	cfg.RefreshShare = refresher.DefaultShare
	if v := env("REFRESH_BUDGET_SHARE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f <= 1) {
			problems = append(problems, fmt.Errorf("REFRESH_BUDGET_SHARE must be a number above 0 and at most 1, such as 0.2, got %q", v))
		}
		cfg.RefreshShare = f
	}
	return problems
}

// economyInvalidator makes a credential's cached data stale through its
// economy (upstream.Economy), for the webhook receiver and the refresher.
type economyInvalidator struct {
	registry *credentials.Registry
}

// CandidatesChanged implements webhooks.Invalidator and refresher.Invalidator.
func (iv economyInvalidator) CandidatesChanged(ctx context.Context, credential string, ids ...string) error {
	e, _, err := iv.registry.Economy(ctx, credential)
	if err != nil {
		return fmt.Errorf("invalidate candidates of %s: %w", credential, err)
	}
	return e.InvalidateCandidates(ctx, ids...)
}

// JobsChanged implements refresher.Invalidator: one generation guards
// every job, so the shortcodes need not be told apart.
func (iv economyInvalidator) JobsChanged(ctx context.Context, credential string, _ ...string) error {
	e, _, err := iv.registry.Economy(ctx, credential)
	if err != nil {
		return fmt.Errorf("invalidate jobs of %s: %w", credential, err)
	}
	return e.InvalidateJobs(ctx)
}

// liveUpdates is the webhook receiver and, when REFRESH_ENABLED, the
// background refresher of a gateway.
type liveUpdates struct {
	receiver http.Handler
	refresh  *refresher.Manager
}

// newLiveUpdates builds them over the gateway's credentials, cache (through
// the economies), event bus and idempotency store (which remembers the
// webhook events handled); with Redis, the refresher's lease and watermarks
// are shared by the replicas under prefix.
func newLiveUpdates(cfg config, registry *credentials.Registry, rdb redis.UniversalClient, prefix string,
	bus events.Publisher, idem idempotency.Store, logger *slog.Logger, reg prometheus.Registerer) (liveUpdates, error) {
	inv := economyInvalidator{registry: registry}
	receiver, err := webhooks.New(webhooks.Config{
		Credentials: registry, Invalidator: inv, Publisher: bus, Seen: idem, Changes: idem,
		Logger: logger, Observe: webhooks.NewMetrics(reg).Observe,
	})
	if err != nil {
		return liveUpdates{}, err
	}
	lu := liveUpdates{receiver: receiver}
	if !cfg.RefreshEnabled {
		return lu, nil
	}
	var (
		lease refresher.Lease      = refresher.LocalLease{}
		state refresher.StateStore = refresher.NewMemoryState()
	)
	if rdb != nil {
		lease, state = refresher.NewRedisLease(rdb, prefix), refresher.NewRedisState(rdb, prefix)
	}
	lu.refresh, err = refresher.NewManager(refresher.ManagerConfig{Credentials: registry, Config: refresher.Config{
		Invalidator: inv, Publisher: bus, Lease: lease, State: state, Changes: idem,
		Interval: cfg.RefreshInterval, Share: cfg.RefreshShare, Logger: logger, Observer: refresher.NewMetrics(reg),
	}})
	if err != nil {
		return liveUpdates{}, err
	}
	return lu, nil
}

// start runs the refresher until ctx ends; the returned function stops it
// and waits until it has stopped.
func (lu liveUpdates) start(ctx context.Context) (stop func()) {
	if lu.refresh == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		lu.refresh.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
