package redistest

import (
	"net"
	"testing"

	"github.com/redis/go-redis/v9"
)

// ClosedAddr returns an address nothing listens on: a Redis that is down.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: listen: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("redistest: close listener: %v", err)
	}
	return addr
}

// Dial returns a client of the server at addr without retries (so that a
// down server fails at once), closed when the test ends.
func Dial(t testing.TB, addr string) redis.UniversalClient {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
