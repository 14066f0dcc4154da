package cache

import (
	"context"
	"errors"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/workablegw/gateway/redisconn/redistest"
)

// silentAddr returns the address of a server that accepts connections and
// never answers: a Redis too slow to be of use.
func silentAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan struct{})
	conns := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case conns <- c:
			case <-done:
				_ = c.Close()
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		_ = ln.Close()
		for {
			select {
			case c := <-conns:
				_ = c.Close()
			default:
				return
			}
		}
	})
	return ln.Addr().String()
}

func TestRedisStoreUnavailable(t *testing.T) {
	tests := []struct {
		name string
		addr func(t *testing.T) string
	}{
		{"unreachable address", func(t *testing.T) string { return redistest.ClosedAddr(t) }},
		{"silent server", silentAddr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The server outside the bubble, the client in it: a read that
			// waits for the silent server does not hold the bubble's clock,
			// and fails on its deadline after 50 ms of real time.
			addr := tt.addr(t)
			synctest.Test(t, func(t *testing.T) {
				s := NewRedis(redistest.Dial(t, addr),
					WithTimeout(50*time.Millisecond), WithScanTimeout(50*time.Millisecond))
				ctx := t.Context()
				ops := []struct {
					name string
					call func() error
				}{
					{"GetMany", func() error { _, err := s.GetMany(ctx, []string{"k"}); return err }},
					{"SetMany", func() error { return s.SetMany(ctx, []Item{{Key: "k", Value: []byte("v"), FreshFor: time.Second}}) }},
					{"Delete", func() error { return s.Delete(ctx, "k") }},
					{"DeletePrefix", func() error { return s.DeletePrefix(ctx, "p:") }},
				}
				for _, op := range ops {
					time.Sleep(time.Hour) // past any cool-down: this call reaches the server
					err := op.call()
					if err == nil || errors.Is(err, ErrUnavailable) {
						t.Errorf("%s: err = %v, want the connection's error", op.name, err)
					}
					if s.Healthy() {
						t.Errorf("%s: Healthy() = true after a failure", op.name)
					}
					// Within the cool-down the store does not even try.
					if err := op.call(); !errors.Is(err, ErrUnavailable) {
						t.Errorf("%s in cool-down: err = %v, want ErrUnavailable", op.name, err)
					}
				}
				if err := s.Ping(ctx); err == nil {
					t.Error("Ping succeeded on a dead server")
				}
			})
		})
	}
}

func TestRedisStoreRecoversAfterCoolDown(t *testing.T) {
	srv := redistest.Mini(t)
	outside := redistest.Outside(t)
	synctest.Test(t, func(t *testing.T) {
		s := NewRedis(redistest.Dial(t, srv.Mini.Addr()), WithCoolDown(time.Second), WithTimeout(200*time.Millisecond))
		ctx := t.Context()
		k := srv.Prefix + "k"
		if err := s.SetMany(ctx, []Item{{Key: k, Value: []byte("v"), FreshFor: time.Minute}}); err != nil {
			t.Fatalf("SetMany: %v", err)
		}
		if !s.Healthy() {
			t.Fatal("Healthy() = false with Redis up")
		}

		srv.Mini.Close()
		if _, err := s.GetMany(ctx, []string{k}); err == nil {
			t.Fatal("GetMany succeeded with Redis stopped")
		}
		if s.Healthy() {
			t.Error("Healthy() = true with Redis stopped")
		}

		// The restarted server's goroutines must not join the bubble.
		outside(func() {
			if err := srv.Mini.Restart(); err != nil {
				t.Errorf("restart miniredis: %v", err)
			}
		})
		time.Sleep(999 * time.Millisecond)
		if _, err := s.GetMany(ctx, []string{k}); !errors.Is(err, ErrUnavailable) {
			t.Errorf("GetMany within the cool-down: err = %v, want ErrUnavailable", err)
		}
		time.Sleep(time.Millisecond)
		got, err := s.GetMany(ctx, []string{k})
		if err != nil {
			t.Fatalf("GetMany after the cool-down: %v", err)
		}
		if string(got[k].Value) != "v" {
			t.Errorf("GetMany after the cool-down = %v, want the value back", got)
		}
		if !s.Healthy() {
			t.Error("Healthy() = false after Redis came back")
		}
	})
}

func TestRedisStorePingClosesBreaker(t *testing.T) {
	srv := redistest.Mini(t)
	outside := redistest.Outside(t)
	synctest.Test(t, func(t *testing.T) {
		s := NewRedis(redistest.Dial(t, srv.Mini.Addr()), WithTimeout(200*time.Millisecond))
		srv.Mini.Close()
		if err := s.Ping(t.Context()); err == nil {
			t.Fatal("Ping succeeded with Redis stopped")
		}
		outside(func() {
			if err := srv.Mini.Restart(); err != nil {
				t.Errorf("restart miniredis: %v", err)
			}
		})
		// A probe goes through even within the cool-down (the bubble's
		// clock has not moved), and closes the breaker.
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		if _, err := s.GetMany(t.Context(), []string{srv.Prefix + "k"}); err != nil {
			t.Errorf("GetMany after a good Ping: %v", err)
		}
	})
}

func TestRedisStoreCallerCancelDoesNotTrip(t *testing.T) {
	s := NewRedis(redistest.Dial(t, silentAddr(t)), WithTimeout(time.Minute))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.GetMany(ctx, []string{"k"}); err == nil {
		t.Fatal("GetMany succeeded with a canceled context")
	}
	if !s.Healthy() {
		t.Error("a caller giving up tripped the breaker")
	}
}

func TestRedisStoreCorruptEntryIsMiss(t *testing.T) {
	srv := redistest.NewServer(t)
	s := NewRedis(srv.Client, WithTimeout(5*time.Second))
	k := srv.Prefix + "short"
	if err := srv.Client.Set(t.Context(), k, "abc", time.Minute).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	got, err := s.GetMany(t.Context(), []string{k})
	if err != nil || len(got) != 0 {
		t.Errorf("GetMany = %v, %v; want a miss", got, err)
	}
}
