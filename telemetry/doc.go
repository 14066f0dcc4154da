// Package telemetry holds the gateway's observability building blocks:
// Prometheus metrics (metrics.go), OpenTelemetry tracing (tracing.go),
// structured request logs (logging.go) and a Redis store for automatic
// persisted queries (apq.go).
//
// Nothing here is process-global: every piece is built by a constructor
// and handed to the server that uses it. None of it records personal
// data: labels and attributes carry operation names, route templates,
// type.field names and status codes, never argument values, query text,
// ids, e-mail addresses or tokens.
package telemetry
