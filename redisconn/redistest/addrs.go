package redistest

import (
	"net"
	"testing"
	"time"

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
// down server fails at once), closed when the test ends. Nor does it dial
// again: go-redis dials in a goroutine of its own that retries with
// back-off after the caller has given up, which in a testing/synctest
// bubble would outlive the test.
func Dial(t testing.TB, addr string) redis.UniversalClient {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// CloseInBubble closes c and then lets one second of a testing/synctest
// bubble's clock pass: after PoolSize failed dials, go-redis probes the
// server once a second in a goroutine of its own until the client is
// closed, and that goroutine must end before the bubble does. Call it in
// the bubble, after the last use of c, for a client whose server was down.
func CloseInBubble(c redis.UniversalClient) {
	_ = c.Close()
	time.Sleep(time.Second)
}
