// Command gateway serves a GraphQL API over a Workable account.
//
// With no settings it runs in demo mode on a built-in Workable simulator;
// `gateway simulator` serves the simulator alone, for load tests.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/graph"
	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/playground"
	"github.com/workablegw/gateway/workable/simulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "gateway: %v\n", err)
		os.Exit(1)
	}
}

// run starts the gateway (or, with the argument "simulator", the Workable
// simulator alone) and serves until ctx ends. It reads its settings through
// getenv so tests can run it without touching the process environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "simulator" {
		return runSimulator(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "healthcheck" {
		return runHealthcheck(ctx, getenv, stdout)
	}
	if len(args) > 0 {
		return fmt.Errorf("unknown argument %q (usage: gateway [simulator [flags] | healthcheck])", args[0])
	}
	// Logs, metrics and traces (observability.go): JSON logs in production,
	// spans only with an OTLP endpoint, flushed when the gateway stops.
	obs, err := newObservability(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer func() {
		if err := obs.close(); err != nil {
			obs.logger.Warn("tracing shutdown", "err", err)
		}
	}()
	logger := obs.logger

	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}

	subdomain, token, baseURL := cfg.WorkableSubdomain, cfg.WorkableToken, cfg.WorkableBaseURL
	if cfg.demo() {
		sim := simulator.New()
		simURL, stopSim, err := serveInBackground(sim.Handler())
		if err != nil {
			return fmt.Errorf("start the built-in Workable simulator: %w", err)
		}
		defer stopSim()
		subdomain, token, baseURL = simulator.DemoSubdomain, simulator.DemoToken, simURL+"/spi/v3/"
		logger.Info("demo mode: no WORKABLE_SUBDOMAIN/WORKABLE_API_TOKEN set, serving the built-in Workable simulator", "simulator", baseURL)
	}

	// The upstream economy (issue 4): a cache and a rate budget per
	// credential, in Redis when REDIS_URL is set (shared by every replica
	// using the same token), else in process.
	var (
		rdb   redis.UniversalClient
		store cache.Store
	)
	if cfg.RedisURL != "" {
		rdb, err = cache.NewUniversalClient(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", err)
		}
		defer rdb.Close()
		// When Redis is down or slow, the store fails fast (short timeouts,
		// then a circuit breaker): requests go straight to Workable, and the
		// cache comes back by itself when Redis does.
		store = cache.NewRedis(rdb)
	} else {
		store = cache.NewMemory(cfg.CacheMaxBytes)
	}

	// Credentials (issue 5): the default one (from the environment, or the
	// simulator's in demo mode) and those added through the API, each with
	// its own client, rate budget and cache namespace.
	registry, err := newRegistry(cfg, rdb, &credentials.Credential{Subdomain: subdomain, Token: token},
		newClientFactory(cfg, obs, rdb, baseURL))
	if err != nil {
		return err
	}
	// Build the default credential's client now: loadConfig applies the
	// same rules, but whatever workable.NewClient still refuses must stop
	// the gateway here, not turn every /query into a 503 while /readyz says
	// ready. No upstream call is made; the client is kept for later.
	if _, _, err := registry.Client(ctx, credentials.DefaultNickname); err != nil {
		return fmt.Errorf("check WORKABLE_SUBDOMAIN, WORKABLE_API_TOKEN and WORKABLE_BASE_URL: %w", err)
	}
	var idem idempotency.Store = idempotency.NewMemoryStore()
	if rdb != nil {
		idem = idempotency.NewRedisStore(rdb, cfg.CachePrefix+"wgw:idem:")
	}

	gcfg := graph.Config{
		Logger:               logger,
		Cache:                store,
		TTLs:                 cfg.ttls(),
		ResponseCache:        cfg.ResponseCache,
		Credentials:          registry,
		NamespacePrefix:      cfg.CachePrefix,
		AccessRules:          access.DefaultRules(),
		ComplexityLimit:      cfg.ComplexityLimit,
		QueryLimits:          cfg.QueryLimits,
		DisableIntrospection: !cfg.Introspection,
		Idempotency:          idem,
	}
	obs.configureGraph(&gcfg, rdb, cfg.CachePrefix+"wgw:")
	sec := newSecurity(cfg, logger)
	handler := NewServer(logger, gcfg, rdb, sec, obs.metricsHandler())
	// Outermost, so that every answer (401s and 413s too) gets its log line.
	handler = obs.wrap(handler)

	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", cfg.Port, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// Bounds reading a request body (BodyLimit reads it whole before
		// anything runs), so a slow client cannot hold a connection.
		ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute,
	}
	port := ln.Addr().(*net.TCPAddr).Port
	fmt.Fprintf(stdout, "Workable GraphQL gateway listening on http://localhost:%d/query\n", port)
	fmt.Fprintf(stdout, "GraphQL Playground: http://localhost:%d/\n", port)
	if cfg.demo() {
		fmt.Fprintln(stdout, "Demo mode: answering from the built-in Workable simulator (set WORKABLE_SUBDOMAIN and WORKABLE_API_TOKEN for a real account)")
	}
	return serveUntilDone(ctx, srv, ln, cfg.ShutdownTimeout)
}

// NewServer wires every route of the gateway in one place. /query is
// guarded by sec (see security.protect); metrics serves GET /metrics (nil:
// no such route).
func NewServer(logger *slog.Logger, gcfg graph.Config, rdb redis.UniversalClient, sec security, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/query", sec.protect(graph.NewHandler(gcfg)))
	if sec.Playground {
		pg := playground.Handler("/query", playground.WithTitle("Workable GraphQL gateway"))
		mux.Handle("GET /{$}", pg)
		mux.Handle("GET "+playground.AssetsPath, pg)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if rdb != nil {
			ctx, cancel := context.WithTimeout(r.Context(), time.Second)
			defer cancel()
			if err := rdb.Ping(ctx).Err(); err != nil {
				logger.Warn("readiness: Redis does not answer", "err", err)
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, "redis unreachable\n")
				return
			}
		}
		io.WriteString(w, "ready\n")
	})
	if metrics != nil {
		// Unauthenticated, like the probes: the series hold no personal
		// data (see telemetry); keep the port off the public internet.
		mux.Handle("GET /metrics", metrics)
	}
	return mux
}

// Workable's budget for account tokens, 10 requests per 10 seconds: where
// every credential's limiter starts before it adopts the limit Workable
// announces (or the one WORKABLE_RATE_LIMIT pins).
const (
	workableLimit  = 10
	workableWindow = 10 * time.Second
)

// serveUntilDone serves on ln until ctx ends, then shuts down gracefully,
// letting in-flight requests (mutations included) finish within timeout.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, timeout time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// serveInBackground serves h on a loopback port and returns its base URL and
// a function that stops it.
func serveInBackground(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// runSimulator serves the Workable simulator alone, for load tests and for
// pointing a gateway at it with WORKABLE_BASE_URL.
func runSimulator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8081", "address to listen on")
	token := fs.String("token", simulator.DemoToken, "API token the simulator accepts")
	limit := fs.Int("rate-limit", 0, "requests per window per token (0: no limit; Workable's is 10)")
	window := fs.Duration("rate-window", 10*time.Second, "rate-limit window")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sim := simulator.New(simulator.WithToken(*token), simulator.WithRateLimit(*limit, *window))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	fmt.Fprintf(stdout, "Workable simulator listening on http://%s/spi/v3/ (subdomain %s, token %s)\n",
		ln.Addr(), simulator.DemoSubdomain, *token)
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	return serveUntilDone(ctx, srv, ln, 5*time.Second)
}
