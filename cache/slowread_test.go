package cache

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/redisconn/redistest"
)

// slowConn delays the next command written on any of a client's
// connections by the duration in delay, which that command uses up.
type slowConn struct {
	net.Conn
	delay *atomic.Int64
}

func (c slowConn) Write(b []byte) (int, error) {
	if d := time.Duration(c.delay.Swap(0)); d > 0 {
		time.Sleep(d)
	}
	return c.Conn.Write(b)
}

// A read that Redis answers too late, once, while Redis is otherwise well,
// is tried again: the warm entries come back, nothing counts as missing
// (a miss would be a Workable call), and the breaker stays closed. A
// second late answer in a row means Redis is away: the read fails and the
// breaker opens, so that the next read does not wait at all.
func TestRedisStoreSlowReadIsRetried(t *testing.T) {
	tests := []struct {
		name      string
		late      int // consecutive reads answered after the timeout
		wantValue bool
	}{
		{"one late answer", 1, true},
		{"two late answers", 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m, _ := redistest.InBubble(t)
				delay := new(atomic.Int64)
				client := redis.NewClient(&redis.Options{
					Addr:                  "127.0.0.1:6379",
					ContextTimeoutEnabled: true,
					MaxRetries:            -1,
					Dialer: func(context.Context, string, string) (net.Conn, error) {
						c, srv := net.Pipe()
						m.Server().ServeConn(srv)
						return slowConn{Conn: c, delay: delay}, nil
					},
				})
				t.Cleanup(func() { _ = client.Close() })
				s := NewRedis(client) // production timeout and cool-down
				ctx := t.Context()
				keys := []string{"a", "b", "c"}
				var items []Item
				for _, k := range keys {
					items = append(items, Item{Key: k, Value: []byte("v" + k), FreshFor: time.Minute})
				}
				if err := s.SetMany(ctx, items); err != nil {
					t.Fatalf("SetMany: %v", err)
				}

				late := DefaultRedisTimeout + time.Millisecond
				delay.Store(int64(late))
				got, err := func() (map[string]Entry, error) {
					if tt.late < 2 {
						return s.GetMany(ctx, keys)
					}
					// The second attempt meets a delay too.
					go func() {
						time.Sleep(DefaultRedisTimeout + time.Microsecond)
						delay.Store(int64(late))
					}()
					return s.GetMany(ctx, keys)
				}()
				if !tt.wantValue {
					if err == nil {
						t.Errorf("GetMany with two late answers: err = nil, got %v", got)
					}
					if s.Healthy() {
						t.Error("Healthy() = true after two late answers in a row")
					}
					return
				}
				if err != nil {
					t.Fatalf("GetMany with one late answer: %v", err)
				}
				for _, k := range keys {
					if string(got[k].Value) != "v"+k {
						t.Errorf("GetMany[%s] = %q, want %q (a miss would go to Workable)", k, got[k].Value, "v"+k)
					}
				}
				if !s.Healthy() {
					t.Error("Healthy() = false: one late answer opened the breaker")
				}
			})
		})
	}
}
