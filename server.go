// Command gateway serves a GraphQL API over a Workable account.
//
// With no settings it runs in demo mode on a built-in Workable simulator;
// `gateway --help` lists the other commands (simulator, healthcheck,
// schema, version) and every setting.
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
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/graph"
	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/playground"
	"github.com/workablegw/gateway/ratebudget"
	"github.com/workablegw/gateway/redisconn"
	"github.com/workablegw/gateway/telemetry"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/webhooks"
	"github.com/workablegw/gateway/workable/simulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful shutdown; a second one ends the
	// process at once (Go's default for the signal, restored by stop).
	context.AfterFunc(ctx, stop)
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "gateway: %v\n", err)
		os.Exit(1)
	}
}

// run runs the command in args (none: the gateway itself; see printUsage)
// until ctx ends. It reads its settings through getenv so tests can run it
// without touching the process environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "simulator":
			return runSimulator(ctx, args[1:], stdout, stderr)
		case "healthcheck":
			return runHealthcheck(ctx, getenv, stdout)
		case "schema":
			_, err := io.WriteString(stdout, graph.SchemaSDL())
			return err
		case "version", "--version", "-version":
			_, err := fmt.Fprintln(stdout, versionLine())
			return err
		case "help", "--help", "-help", "-h":
			printUsage(stdout)
			return nil
		}
		return fmt.Errorf("unknown command %q: run gateway --help to see the commands and settings", args[0])
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	// Logs, metrics and traces (observability.go): JSON logs in production,
	// spans only with an OTLP endpoint, flushed when the gateway stops.
	obs, err := newObservability(ctx, settingsEnv(getenv), stderr, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := obs.close(); err != nil {
			obs.logger.Warn("tracing shutdown", "err", err)
		}
	}()
	logger := obs.logger
	cfg.GC.apply(logger, os.ReadFile)

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

	// The upstream economy: a cache and a rate budget per credential, in
	// Redis when REDIS_URL is set (shared by every replica using the same
	// token), else in process.
	var (
		rdb   redis.UniversalClient
		store cache.Store
	)
	if cfg.RedisURL != "" {
		// go-redis logs some failures itself (a dial that keeps failing,
		// say): route its lines through the gateway's logger, so that they
		// are in the configured format. Its logger is process-wide.
		redis.SetLogger(telemetry.RedisLogger(logger))
		rdb, err = redisconn.NewClient(cfg.RedisURL)
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

	// Credentials: the default one (from the environment, or the
	// simulator's in demo mode) and those added through the API, each with
	// its own client, rate budget and cache namespace.
	ucfg := upstream.Config{
		Cache:           store,
		NamespacePrefix: cfg.CachePrefix,
		TTLs:            cfg.ttls(),
		ResponseCache:   cfg.ResponseCache,
		Logger:          logger,
	}
	obs.configureUpstream(&ucfg)
	// Every replica beats a heartbeat into Redis, so that a replica that
	// loses Redis knows how many share the budget (see ratebudget.Limiter).
	// It stops once the last request has been answered.
	var replicas *ratebudget.Replicas
	if rdb != nil {
		replicas = ratebudget.NewReplicas(rdb, cfg.CachePrefix+"wgw:replicas", logger)
		beatCtx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
		beatDone := make(chan struct{})
		go func() {
			defer close(beatDone)
			replicas.Run(beatCtx)
		}()
		defer func() {
			stopBeat()
			<-beatDone
		}()
	}
	registry, err := newRegistry(cfg, rdb, &credentials.Credential{Subdomain: subdomain, Token: token, MemberID: cfg.WorkableMemberID},
		newClientFactory(cfg, obs, rdb, replicas, baseURL), ucfg)
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

	// Candidate events (webhooks, the refresher and the gateway's own
	// hiring actions publish; subscriptions listen): through Redis pub/sub
	// with REDIS_URL, so that every replica's subscribers receive every
	// replica's events, else in process. gcfg.Events is the one bus of the
	// gateway: whatever publishes events takes it from there.
	bus := newEventBus(rdb, cfg.CachePrefix+"wgw:", logger)
	defer bus.Close()
	obs.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "gateway_subscriptions",
		Help: "GraphQL subscriptions live on this replica (WebSocket and SSE).",
	}, func() float64 { return float64(bus.Live()) }))

	gcfg := graph.Config{
		Logger:                 logger,
		Credentials:            registry,
		AccessRules:            access.DefaultRules(),
		ComplexityLimit:        cfg.ComplexityLimit,
		QueryLimits:            cfg.QueryLimits,
		DisableIntrospection:   !cfg.Introspection,
		Idempotency:            idem,
		Events:                 bus,
		SubscriptionsPerClient: cfg.SubscriptionsPerClient,
		SubscriptionHeartbeat:  cfg.SubscriptionHeartbeat,
		PublicURL:              cfg.PublicURL,
	}
	obs.configureGraph(&gcfg, rdb, cfg.CachePrefix+"wgw:")
	// Live updates (liveupdates.go): Workable's webhooks in, and the
	// background refresher, both publishing on the bus.
	live, err := newLiveUpdates(cfg, registry, rdb, cfg.CachePrefix+"wgw:", bus, idem, logger, obs.registry)
	if err != nil {
		return err
	}
	stopRefresher := live.start(ctx)
	defer stopRefresher()
	sec := newSecurity(cfg, logger)
	draining := new(atomic.Bool)
	handler := NewServer(logger, gcfg, rdb, sec, obs.metricsHandler(), live.receiver, draining)
	// Outermost, so that every answer (401s and 413s too) gets its log line.
	handler = obs.wrap(handler)

	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen on %s: %w", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// Bounds reading a request body (BodyLimit reads it whole before
		// anything runs), so a slow client cannot hold a connection.
		ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// Subscriptions last until their client leaves: once shutdown begins,
	// end them (their streams complete), so that they do not hold the
	// shutdown until SHUTDOWN_TIMEOUT.
	srv.RegisterOnShutdown(func() { bus.Close() })
	base := publicBase(cfg.Host, ln.Addr().(*net.TCPAddr).Port)
	ver, _ := buildInfo()
	logger.Info("listening", "addr", ln.Addr().String(), "version", ver, "production", cfg.Production)
	fmt.Fprintf(stdout, "Workable GraphQL gateway listening on %s/query\n", base)
	if cfg.Playground {
		fmt.Fprintf(stdout, "GraphQL Playground: %s/\n", base)
	}
	if cfg.demo() {
		fmt.Fprintln(stdout, "Demo mode: answering from the built-in Workable simulator, on this machine only (set WORKABLE_SUBDOMAIN and WORKABLE_API_TOKEN for a real account)")
	}
	return serveUntilDone(ctx, srv, ln, shutdownPlan{
		drain: cfg.DrainDelay, timeout: cfg.ShutdownTimeout, draining: draining, logger: logger,
	})
}

// eventBus is a bus of candidate events that the gateway closes when it
// stops.
type eventBus interface {
	events.Bus
	Close() error
	// Live counts this replica's live subscriptions.
	Live() int
}

// newEventBus returns the gateway's bus of candidate events: Redis pub/sub
// under prefix (CACHE_PREFIX + "wgw:") when rdb is set, shared by every
// replica using the same Redis and prefix; else in process.
func newEventBus(rdb redis.UniversalClient, prefix string, logger *slog.Logger) eventBus {
	if rdb != nil {
		return events.NewRedis(rdb, prefix, logger)
	}
	return events.NewLocal()
}

// publicBase is the base URL to print for a gateway listening on host and
// port: localhost for a loopback or unspecified host, which a browser on
// this machine reaches, else the host itself.
func publicBase(host string, port int) string {
	h := "localhost"
	if ip := net.ParseIP(strings.Trim(host, "[]")); host != "" && (ip == nil || !(ip.IsLoopback() || ip.IsUnspecified())) {
		h = host
	}
	return "http://" + net.JoinHostPort(h, strconv.Itoa(port))
}

// NewServer wires every route of the gateway in one place. /query is
// guarded by sec (see security.protect); metrics serves GET /metrics (nil:
// no such route); webhooks receives Workable's deliveries at
// POST /webhooks/workable/{credential} (nil: no such route), trusted by
// their signature alone (Workable sends no API key); /readyz answers 503
// once draining is set (shutdown has begun).
func NewServer(logger *slog.Logger, gcfg graph.Config, rdb redis.UniversalClient, sec security, metrics, webhookReceiver http.Handler, draining *atomic.Bool) http.Handler {
	mux := http.NewServeMux()
	// A WebSocket's API key may come in its connection_init payload.
	gcfg.WebSocketInit = sec.Keys.InitPayload
	mux.Handle("/query", sec.protect(graph.NewHandler(gcfg)))
	if webhookReceiver != nil {
		mux.Handle(webhooks.Path, webhookReceiver)
	}
	if !gcfg.DisableIntrospection {
		mux.Handle("GET /schema.graphql", sec.protectSchema(schemaHandler()))
	}
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
		if draining.Load() {
			// Load balancers take the replica out of rotation while
			// /query still serves what they send meanwhile.
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "shutting down\n")
			return
		}
		if rdb != nil {
			ctx, cancel := context.WithTimeout(r.Context(), time.Second)
			defer cancel()
			if err := rdb.Ping(ctx).Err(); err != nil {
				logger.WarnContext(r.Context(), "readiness: Redis does not answer", "err", err)
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

// schemaHandler serves the public schema in SDL (graph.SchemaSDL), for
// code generators and Relay's compiler.
func schemaHandler() http.Handler {
	sdl := graph.SchemaSDL()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		io.WriteString(w, sdl)
	})
}

// Workable's budget for account tokens, 10 requests per 10 seconds: where
// every credential's limiter starts before it adopts the limit Workable
// announces (or the one WORKABLE_RATE_LIMIT pins).
const (
	workableLimit  = 10
	workableWindow = 10 * time.Second
)

// shutdownPlan says how serveUntilDone stops once its context ends.
type shutdownPlan struct {
	// drain is how long the server keeps serving after the context ends,
	// with draining set (so /readyz answers 503) and keep-alives off, so
	// that load balancers stop sending new requests before the listener
	// closes.
	drain time.Duration
	// timeout bounds the wait for requests in flight once the listener
	// has closed.
	timeout time.Duration
	// draining is set when the drain begins; nil for none.
	draining *atomic.Bool
	// logger receives the shutdown lines; nil for none.
	logger *slog.Logger
}

// serveUntilDone serves on ln until ctx ends, then shuts down gracefully:
// it drains for plan.drain, then closes the listener and lets in-flight
// requests (mutations and requests waiting for the rate budget included)
// finish within plan.timeout.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, plan shutdownPlan) error {
	logger := plan.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	start := time.Now()
	logger.Info("shutting down: draining, then waiting for requests in flight",
		"drain_delay", plan.drain.String(), "shutdown_timeout", plan.timeout.String())
	if plan.draining != nil {
		plan.draining.Store(true)
	}
	// Answers carry Connection: close from now on, so clients open their
	// next connection to another replica.
	srv.SetKeepAlivesEnabled(false)
	if plan.drain > 0 {
		timer := time.NewTimer(plan.drain)
		select {
		case <-timer.C:
		case err := <-errc:
			timer.Stop()
			return fmt.Errorf("serve: %w", err)
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), plan.timeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Error("shutdown: requests still in flight when SHUTDOWN_TIMEOUT ran out", "err", err,
			"elapsed", time.Since(start).String())
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("shut down: every request in flight was answered", "elapsed", time.Since(start).String())
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
	return serveUntilDone(ctx, srv, ln, shutdownPlan{timeout: 5 * time.Second})
}
