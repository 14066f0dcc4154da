// Package redisconn connects to Redis and guards the path to it: NewClient
// builds a client from a REDIS_URL-style setting (single node, Cluster or
// Sentinel), Breaker keeps a failing Redis out of the request path for a
// cool-down, and ErrUnavailable names a store outage. Every package that
// talks to Redis takes these from here, without depending on the cache.
package redisconn
