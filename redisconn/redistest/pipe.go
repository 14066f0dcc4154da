package redistest

import (
	"context"
	"net"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// InBubble starts an embedded miniredis for a test that runs in a
// testing/synctest bubble, and must be called inside it. Its clients
// (dial) connect through in-process pipes served in the bubble, so that
// the server runs on the bubble's fake clock (TIME, and with it the server
// time of every Lua script, is the bubble's time) and waiting on it does
// not keep that clock from moving, as a network connection would. The
// server and the clients are closed when the test ends.
func InBubble(t testing.TB) (m *miniredis.Miniredis, dial func() redis.UniversalClient) {
	t.Helper()
	m = miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		t.Fatalf("redistest: start miniredis: %v", err)
	}
	// No connection comes through the listener: closing it ends the one
	// goroutine blocked on the network; the server serves pipes still.
	m.Server().Close()
	t.Cleanup(m.Close)
	dial = func() redis.UniversalClient {
		c := redis.NewClient(&redis.Options{
			// An IP literal: a name would be looked up (net.Resolver state
			// shared across bubbles), although the dialer ignores it.
			Addr:                  "127.0.0.1:6379",
			ContextTimeoutEnabled: true,
			Dialer: func(context.Context, string, string) (net.Conn, error) {
				client, server := net.Pipe()
				m.Server().ServeConn(server)
				return client, nil
			},
		})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	return m, dial
}
