package redisconn

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/redisconn/redistest"
)

func TestNewClientConnects(t *testing.T) {
	srv := redistest.NewServer(t)
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
		c, err := NewClient(u)
		if err != nil {
			t.Fatalf("NewClient: %v", err)
		}
		if err := c.Ping(t.Context()).Err(); err != nil {
			t.Errorf("Ping through a client built from the URL: %v", err)
		}
		_ = c.Close()
	}
}

func TestNewClient(t *testing.T) {
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
			c, err := NewClient(tt.url)
			if err != nil {
				t.Fatalf("NewClient: %v", err)
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

func TestNewClientErrors(t *testing.T) {
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
			c, err := NewClient(u)
			if err == nil {
				_ = c.Close()
				t.Fatal("NewClient succeeded, want an error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}
}
