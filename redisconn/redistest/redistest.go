// Package redistest gives tests a Redis to work against: the server named by
// the REDIS_URL environment variable when it is set (CI sets
// redis://127.0.0.1:6379), else an embedded miniredis. It never skips.
//
// Every test gets its own key prefix and must keep to it: the server may be
// shared with other tests and other packages running in parallel, so tests
// never FLUSHALL or FLUSHDB. Keys under the prefix are removed when the test
// ends.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Server is a Redis for one test.
type Server struct {
	// Client talks to the server; it is closed when the test ends.
	Client redis.UniversalClient
	// Prefix is the test's own key prefix, e.g. "test:TestX/sub:1f2e3d4c:".
	Prefix string
	// Mini is the embedded server, or nil when REDIS_URL names a real one.
	// Tests that need to move time (FastForward) or stop the server use it.
	Mini *miniredis.Miniredis

	opts *redis.Options
}

// NewClient opens another client to the same server, closed when the test
// ends; tests use it to play a second gateway process.
func (s *Server) NewClient(t testing.TB) redis.UniversalClient {
	t.Helper()
	o := *s.opts
	c := redis.NewClient(&o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Redis returns a client and a fresh key prefix for t, on the REDIS_URL
// server when set, else on an embedded miniredis.
func Redis(t testing.TB) (client redis.UniversalClient, prefix string) {
	t.Helper()
	s := NewServer(t)
	return s.Client, s.Prefix
}

// NewServer is Redis with access to the embedded server when there is one.
func NewServer(t testing.TB) *Server {
	t.Helper()
	if u := os.Getenv("REDIS_URL"); u != "" {
		return external(t, u)
	}
	return Mini(t)
}

// Mini always starts an embedded miniredis, whatever REDIS_URL says; tests
// that stop or restart the server, or move its clock, use it.
func Mini(t testing.TB) *Server {
	t.Helper()
	m := miniredis.RunT(t) // closed by t.Cleanup
	opts := &redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true}
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return &Server{Client: c, Prefix: Prefix(t), Mini: m, opts: opts}
}

// external connects to the server at rawURL (redis:// or rediss:// only).
func external(t testing.TB, rawURL string) *Server {
	t.Helper()
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		t.Fatalf("redistest: REDIS_URL is set but not a redis:// URL: %v", err)
	}
	opt.ContextTimeoutEnabled = true
	c := redis.NewClient(opt)
	optCopy := *opt
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Fatalf("redistest: REDIS_URL is set but the server does not answer: %v", err)
	}
	s := &Server{Client: c, Prefix: Prefix(t), opts: &optCopy}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := deletePrefix(ctx, c, s.Prefix); err != nil {
			t.Logf("redistest: cleaning up %q: %v", s.Prefix, err)
		}
		_ = c.Close()
	})
	return s
}

// Prefix returns a key prefix unique to t: "test:" + t.Name() (with
// characters that Redis globs or cluster hash tags treat specially replaced)
// + ":" + a random suffix + ":".
func Prefix(t testing.TB) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("redistest: random prefix: %v", err)
	}
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '/':
			return r
		default:
			return '_'
		}
	}, t.Name())
	return "test:" + name + ":" + hex.EncodeToString(b[:]) + ":"
}

// deletePrefix removes the test's keys, including those that wrap the
// prefix in a cluster hash tag ("{prefix…}…"); prefix holds no glob
// characters.
func deletePrefix(ctx context.Context, c redis.UniversalClient, prefix string) error {
	for _, pattern := range []string{prefix + "*", "{" + prefix + "*"} {
		it := c.Scan(ctx, 0, pattern, 500).Iterator()
		for it.Next(ctx) {
			if err := c.Unlink(ctx, it.Val()).Err(); err != nil {
				return err
			}
		}
		if err := it.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Outside returns a function that runs fn on a goroutine started now,
// outside any testing/synctest bubble, and waits for it. A test in a bubble
// uses it for what must not join the bubble: restarting the embedded
// server (Mini.Restart), whose goroutines wait on the network and would
// keep the bubble's clock from moving and the bubble from ending. Call it
// before synctest.Test; the goroutine ends with the test.
func Outside(t testing.TB) func(fn func()) {
	t.Helper()
	fns, done := make(chan func()), make(chan struct{})
	go func() {
		for fn := range fns {
			fn()
			done <- struct{}{}
		}
	}()
	t.Cleanup(func() { close(fns) })
	return func(fn func()) {
		fns <- fn
		<-done
	}
}
