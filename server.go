package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/graph"
	"github.com/workablegw/gateway/playground"
	"github.com/workablegw/gateway/webhooks"
)

// The gateway's HTTP surface: every route in one place, and the graceful
// drain and shutdown.

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
