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
	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/graph"
	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/ratebudget"
	"github.com/workablegw/gateway/redisconn"
	"github.com/workablegw/gateway/telemetry"
	"github.com/workablegw/gateway/workable/simulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful shutdown; a second one ends the
	// process at once (Go's default for the signal, restored by stop).
	context.AfterFunc(ctx, stop)
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		var usage *usageError
		if errors.As(err, &usage) {
			// run has said what is wrong, with the usage: the command
			// line's fault, exit 2 as Go's flag package does.
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "gateway: %v\n", err)
		os.Exit(1)
	}
}

// usageError is a command line the gateway does not understand. run has
// already written it and the usage on stderr; main exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// badUsage writes msg and the commands' usage on stderr and returns the
// usageError that makes main exit 2.
func badUsage(stderr io.Writer, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(stderr, "gateway: %s\n\n%s\nRun gateway --help for the settings as well.\n", msg, commandsUsage)
	return &usageError{msg: msg}
}

// noArguments fails with a usageError when a command that takes no
// arguments (schema, version, healthcheck) is given some: a mistyped
// command line should not pass for the one meant.
func noArguments(stderr io.Writer, command string, args []string) error {
	if len(args) == 0 {
		return nil
	}
	return badUsage(stderr, "%s takes no arguments, got %q", command, args)
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
			if err := noArguments(stderr, args[0], args[1:]); err != nil {
				return err
			}
			return runHealthcheck(ctx, getenv, stdout)
		case "schema":
			if err := noArguments(stderr, args[0], args[1:]); err != nil {
				return err
			}
			_, err := io.WriteString(stdout, graph.SchemaSDL())
			return err
		case "version", "--version", "-version":
			if err := noArguments(stderr, args[0], args[1:]); err != nil {
				return err
			}
			_, err := fmt.Fprintln(stdout, versionLine())
			return err
		case "help", "--help", "-help", "-h":
			printUsage(stdout)
			return nil
		}
		return badUsage(stderr, "unknown command %q", args[0])
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
	cfg.GC.apply(logger, cfg.inProcessCacheBytes(), os.ReadFile)

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
	var rdb redis.UniversalClient
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
	}
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
	// Credentials (workable.go): the default one (from the environment, or
	// the simulator's in demo mode) and those added through the API.
	registry, err := newCredentials(ctx, cfg, obs, rdb, replicas,
		credentials.Credential{Subdomain: subdomain, Token: token, MemberID: cfg.WorkableMemberID}, baseURL)
	if err != nil {
		return err
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
	announceListening(stdout, logger, telemetry.JSONLogs(getenv), listening{
		addr: ln.Addr().String(), base: base, version: ver,
		production: cfg.Production, playground: cfg.Playground, demo: cfg.demo(),
	})
	return serveUntilDone(ctx, srv, ln, shutdownPlan{
		drain: cfg.DrainDelay, timeout: cfg.ShutdownTimeout, draining: draining, logger: logger,
	})
}

// listening is what the gateway says once it listens.
type listening struct {
	addr, base, version          string
	production, playground, demo bool
}

// announceListening logs the "listening" line and prints the banner: where
// the endpoint and Playground are, and whether this is demo mode. With
// JSON logs nothing else may reach a log pipeline, so the banner's
// information goes into the log line (url, playground) and nothing is
// printed on stdout.
func announceListening(stdout io.Writer, logger *slog.Logger, jsonLogs bool, l listening) {
	attrs := []any{"addr", l.addr, "version", l.version, "production", l.production}
	if jsonLogs {
		attrs = append(attrs, "url", l.base+"/query")
		if l.playground {
			attrs = append(attrs, "playground", l.base+"/")
		}
		attrs = append(attrs, "demo", l.demo)
	}
	logger.Info("listening", attrs...)
	if jsonLogs {
		return
	}
	fmt.Fprintf(stdout, "Workable GraphQL gateway listening on %s/query\n", l.base)
	if l.playground {
		fmt.Fprintf(stdout, "GraphQL Playground: %s/\n", l.base)
	}
	if l.demo {
		fmt.Fprintln(stdout, "Demo mode: answering from the built-in Workable simulator, on this machine only (set WORKABLE_SUBDOMAIN and WORKABLE_API_TOKEN for a real account)")
	}
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
		if errors.Is(err, flag.ErrHelp) {
			return nil // the flags' usage is printed: asked for, not a failure
		}
		// The flag package has written the problem and the flags.
		return &usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gateway: simulator takes only flags, got %q\n", fs.Args())
		fs.Usage()
		return &usageError{msg: "simulator takes only flags"}
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
