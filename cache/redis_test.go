package cache

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/cache/cachetest"
)

// closedAddr returns an address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("close listener: %v", err)
	}
	return addr
}

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

func newTestClient(t *testing.T, addr string) redis.UniversalClient {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRedisStoreUnavailable(t *testing.T) {
	tests := []struct {
		name string
		addr func(t *testing.T) string
	}{
		{"unreachable address", closedAddr},
		{"silent server", silentAddr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			s := NewRedis(newTestClient(t, tt.addr(t)),
				WithTimeout(50*time.Millisecond), WithScanTimeout(50*time.Millisecond), WithClock(clock.Now))
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
				clock.Advance(time.Hour) // past any cool-down: this call reaches the server
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
	}
}

func TestRedisStoreRecoversAfterCoolDown(t *testing.T) {
	srv := cachetest.Mini(t)
	clock := newFakeClock()
	// While Redis is stopped go-redis retries dialling until the timeout.
	s := NewRedis(srv.Client, WithClock(clock.Now), WithCoolDown(time.Second), WithTimeout(200*time.Millisecond))
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

	if err := srv.Mini.Restart(); err != nil {
		t.Fatalf("restart miniredis: %v", err)
	}
	clock.Advance(999 * time.Millisecond)
	if _, err := s.GetMany(ctx, []string{k}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("GetMany within the cool-down: err = %v, want ErrUnavailable", err)
	}
	clock.Advance(time.Millisecond)
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
}

func TestRedisStorePingClosesBreaker(t *testing.T) {
	srv := cachetest.Mini(t)
	clock := newFakeClock()
	s := NewRedis(srv.Client, WithClock(clock.Now), WithTimeout(200*time.Millisecond))
	srv.Mini.Close()
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("Ping succeeded with Redis stopped")
	}
	if err := srv.Mini.Restart(); err != nil {
		t.Fatalf("restart miniredis: %v", err)
	}
	// A probe goes through even within the cool-down, and closes the breaker.
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if _, err := s.GetMany(t.Context(), []string{srv.Prefix + "k"}); err != nil {
		t.Errorf("GetMany after a good Ping: %v", err)
	}
}

func TestRedisStoreCallerCancelDoesNotTrip(t *testing.T) {
	s := NewRedis(newTestClient(t, silentAddr(t)), WithTimeout(time.Minute))
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
	srv := cachetest.NewServer(t)
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

func TestNewUniversalClientConnects(t *testing.T) {
	srv := cachetest.NewServer(t)
	url := os.Getenv("REDIS_URL")
	if srv.Mini != nil {
		url = "redis://" + srv.Mini.Addr()
	}
	addr := strings.TrimPrefix(url, "redis://")
	addr, _, _ = strings.Cut(addr, "/")
	for _, u := range []string{url, addr} {
		if strings.Contains(addr, "@") && u == addr {
			continue // a bare address carries no credentials
		}
		c, err := NewUniversalClient(u)
		if err != nil {
			t.Fatalf("NewUniversalClient: %v", err)
		}
		if err := NewRedis(c, WithTimeout(5*time.Second)).Ping(t.Context()); err != nil {
			t.Errorf("Ping through a client built from the URL: %v", err)
		}
		_ = c.Close()
	}
}

func TestNewUniversalClient(t *testing.T) {
	tests := []struct {
		url      string
		wantType string // "single" or "cluster"; sentinel gives a single (failover) client
		wantAddr string // single node only
		wantDB   int
	}{
		{url: "redis://127.0.0.1:6379", wantType: "single", wantAddr: "127.0.0.1:6379"},
		{url: "redis://:pw@example.com:6380/3", wantType: "single", wantAddr: "example.com:6380", wantDB: 3},
		{url: "rediss://example.com", wantType: "single", wantAddr: "example.com:6379"},
		{url: "127.0.0.1:6379", wantType: "single", wantAddr: "127.0.0.1:6379"},
		{url: "10.0.0.1:7000,10.0.0.2:7000", wantType: "cluster"},
		{url: "redis+cluster://u:p@10.0.0.1:7000,10.0.0.2:7000", wantType: "cluster"},
		{url: "redis+cluster://10.0.0.1:7000", wantType: "cluster"},
		{url: "redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2/mymaster/2", wantType: "single"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := NewUniversalClient(tt.url)
			if err != nil {
				t.Fatalf("NewUniversalClient: %v", err)
			}
			defer c.Close()
			switch cl := c.(type) {
			case *redis.ClusterClient:
				if tt.wantType != "cluster" {
					t.Errorf("got a cluster client, want %s", tt.wantType)
				}
			case *redis.Client:
				if tt.wantType != "single" {
					t.Errorf("got a single-node client, want %s", tt.wantType)
				}
				if tt.wantAddr != "" {
					if o := cl.Options(); o.Addr != tt.wantAddr || o.DB != tt.wantDB || !o.ContextTimeoutEnabled {
						t.Errorf("options: addr %q db %d context timeouts %v; want %q, %d, true", o.Addr, o.DB, o.ContextTimeoutEnabled, tt.wantAddr, tt.wantDB)
					}
				}
			default:
				t.Errorf("unexpected client type %T", c)
			}
		})
	}
}

func TestParseMultiHostURL(t *testing.T) {
	tests := []struct {
		scheme, rest string
		want         redis.UniversalOptions
		wantTLS      string // ServerName, "" for no TLS
	}{
		{
			scheme: "redis+cluster", rest: "u:p%40ss@h1:7000,h2",
			want: redis.UniversalOptions{Addrs: []string{"h1:7000", "h2:6379"}, Username: "u", Password: "p@ss", IsClusterMode: true, ContextTimeoutEnabled: true},
		},
		{
			scheme: "rediss+cluster", rest: "h1:7000/",
			want:    redis.UniversalOptions{Addrs: []string{"h1:7000"}, IsClusterMode: true, ContextTimeoutEnabled: true},
			wantTLS: "h1",
		},
		{
			scheme: "redis+sentinel", rest: ":pw@s1,s2:5000/mymaster",
			want: redis.UniversalOptions{Addrs: []string{"s1:26379", "s2:5000"}, Password: "pw", MasterName: "mymaster", ContextTimeoutEnabled: true},
		},
		{
			scheme: "redis+sentinel", rest: "s1/m/4?sentinel_password=spw&sentinel_username=su",
			want: redis.UniversalOptions{Addrs: []string{"s1:26379"}, MasterName: "m", DB: 4, SentinelUsername: "su", SentinelPassword: "spw", ContextTimeoutEnabled: true},
		},
		{
			scheme: "rediss+sentinel", rest: "[::1]:26379/m",
			want:    redis.UniversalOptions{Addrs: []string{"[::1]:26379"}, MasterName: "m", ContextTimeoutEnabled: true},
			wantTLS: "::1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.scheme+"://"+tt.rest, func(t *testing.T) {
			got, err := parseMultiHostURL(tt.scheme, tt.rest)
			if err != nil {
				t.Fatalf("parseMultiHostURL: %v", err)
			}
			if diff := cmp.Diff(tt.want, *got, cmpopts.IgnoreFields(redis.UniversalOptions{}, "TLSConfig")); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
			switch {
			case tt.wantTLS == "" && got.TLSConfig != nil:
				t.Errorf("TLS configured, want none")
			case tt.wantTLS != "" && (got.TLSConfig == nil || got.TLSConfig.ServerName != tt.wantTLS):
				t.Errorf("TLS config %+v, want ServerName %q", got.TLSConfig, tt.wantTLS)
			}
		})
	}
}

func TestNewUniversalClientErrors(t *testing.T) {
	const secret = "s3cr3t"
	tests := []string{
		"",
		"http://example.com",
		"redis://:" + secret + "@host:notaport",
		"redis://:" + secret + "@ho st",
		secret + "@host:6379",
		"host:99999",
		"redis+cluster://:" + secret + "@h1:7000/0",
		"redis+cluster://:" + secret + "@h1:7000?dial_timeout=1",
		"redis+cluster://:" + secret + "@",
		"redis+sentinel://:" + secret + "@h1:26379",
		"redis+sentinel://:" + secret + "@h1:26379/m/x",
		"redis+sentinel://:" + secret + "@h1:26379/m?bogus=1",
	}
	for _, u := range tests {
		t.Run(u, func(t *testing.T) {
			c, err := NewUniversalClient(u)
			if err == nil {
				_ = c.Close()
				t.Fatal("NewUniversalClient succeeded, want an error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}
