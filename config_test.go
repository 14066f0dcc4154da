package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/graph"
	"github.com/workablegw/gateway/guard"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable/simulator"
)

// testCredentialsKey is CREDENTIALS_KEY for tests: the bytes 0..31 in base64.
const testCredentialsKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// mustKeys parses GATEWAY_API_KEYS or panics.
func mustKeys(s string) access.Keys {
	k, err := access.ParseKeys(s)
	if err != nil {
		panic(err)
	}
	return k
}

// defaults is the configuration with no settings: demo mode, on this
// machine only, for frontends on localhost.
func defaults() config {
	return config{Host: "127.0.0.1", Port: 8080, ShutdownTimeout: 35 * time.Second, CacheMaxBytes: 64 << 20, LocalCacheBytes: 32 << 20, CacheTTLScale: 1, CacheTTLs: cache.DefaultTTLs(),
		ResponseCache: true, RequestTimeout: 30 * time.Second,
		Introspection: true, Playground: true, MaxBodyBytes: 1 << 20, WorkableCallTimeout: 10 * time.Second,
		ComplexityLimit: graph.DefaultComplexityLimit, QueryLimits: guard.DefaultQueryLimits(),
		CORSAllowedOrigins: []string{"http://localhost:*", "http://127.0.0.1:*"}, SlowQueryThreshold: 5 * time.Second,
		WorkableMemberID: simulator.DemoMemberID, GC: gcSettings{Percent: defaultGCPercent, DefaultLimit: true},
		RefreshEnabled: true, RefreshInterval: 30 * time.Second, RefreshShare: 0.2,
		SubscriptionsPerClient: graph.DefaultSubscriptionsPerClient, SubscriptionHeartbeat: gqlhttp.DefaultHeartbeat}
}

// accountDefaults is the configuration with only a Workable account set
// (subdomain acme, token tok): every interface, no browser origin.
func accountDefaults() config {
	c := defaults()
	c.Host, c.CORSAllowedOrigins, c.WorkableMemberID = "", nil, ""
	c.WorkableSubdomain, c.WorkableToken = "acme", "tok"
	return c
}

// production is the environment of a production deployment with every
// required setting.
func production(kv ...string) map[string]string {
	env := map[string]string{"GATEWAY_ENV": "production", "WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "tok",
		"GATEWAY_API_KEYS": "k3y-for-dashboards:reader"}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

func TestConfigTTLs(t *testing.T) {
	t.Parallel()
	c := defaults()
	c.CacheTTLScale = 2
	got, def := c.ttls(), cache.DefaultTTLs()
	if got.Candidate.Fresh != 2*def.Candidate.Fresh || got.Candidate.Stale != def.Candidate.Stale ||
		got.JobList.Fresh != 2*def.JobList.Fresh {
		t.Errorf("ttls() with scale 2 = %+v, defaults %+v", got, def)
	}
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    config
		wantErr []string // substrings the error must contain
	}{
		{
			name: "no settings is demo mode on port 8080",
			env:  map[string]string{},
			want: defaults(),
		},
		{
			name: "a real account",
			env: map[string]string{
				"PORT": "9090", "WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "tok",
				"WORKABLE_BASE_URL": "http://127.0.0.1:1/spi/v3/", "REDIS_URL": "redis://127.0.0.1:6379/1",
				"SHUTDOWN_TIMEOUT": "40s", "DRAIN_DELAY": "3s", "HOST": "10.0.0.7",
			},
			want: func() config {
				c := accountDefaults()
				c.Port, c.Host = 9090, "10.0.0.7"
				c.WorkableBaseURL, c.RedisURL = "http://127.0.0.1:1/spi/v3/", "redis://127.0.0.1:6379/1"
				c.ShutdownTimeout, c.DrainDelay = 40*time.Second, 3*time.Second
				return c
			}(),
		},
		{
			name: "production defaults",
			env:  production(),
			want: func() config {
				c := accountDefaults()
				c.Production = true
				c.APIKeys = mustKeys("k3y-for-dashboards:reader")
				c.Introspection, c.Playground, c.DrainDelay = false, false, 5*time.Second
				return c
			}(),
		},
		{
			name: "production may switch introspection and Playground back on",
			env:  production("GATEWAY_INTROSPECTION", "true", "GATEWAY_PLAYGROUND", "true", "DRAIN_DELAY", "0s"),
			want: func() config {
				c := accountDefaults()
				c.Production = true
				c.APIKeys = mustKeys("k3y-for-dashboards:reader")
				return c
			}(),
		},
		{
			name:    "production without an account, API keys or CREDENTIALS_KEY",
			env:     map[string]string{"GATEWAY_ENV": "production", "REDIS_URL": "redis://127.0.0.1:6379/0"},
			wantErr: []string{"needs WORKABLE_SUBDOMAIN and WORKABLE_API_TOKEN", "needs GATEWAY_API_KEYS", "needs CREDENTIALS_KEY"},
		},
		{
			name:    "production with Redis but no CREDENTIALS_KEY",
			env:     production("REDIS_URL", "redis://127.0.0.1:6379/0"),
			wantErr: []string{"needs CREDENTIALS_KEY"},
		},
		{
			name: "production with Redis and CREDENTIALS_KEY",
			env:  production("REDIS_URL", "redis://127.0.0.1:6379/0", "CREDENTIALS_KEY", testCredentialsKey),
			want: func() config {
				c := accountDefaults()
				c.Production, c.RedisURL = true, "redis://127.0.0.1:6379/0"
				c.APIKeys = mustKeys("k3y-for-dashboards:reader")
				c.CredentialsKey = make([]byte, 32)
				for i := range c.CredentialsKey {
					c.CredentialsKey[i] = byte(i)
				}
				c.Introspection, c.Playground, c.DrainDelay = false, false, 5*time.Second
				return c
			}(),
		},
		{
			name:    "a GATEWAY_ENV typo never falls back to development",
			env:     map[string]string{"GATEWAY_ENV": "prod"},
			wantErr: []string{"GATEWAY_ENV must be production or development"},
		},
		{
			name: "GATEWAY_ENV=development is demo mode",
			env:  map[string]string{"GATEWAY_ENV": "Development"},
			want: defaults(),
		},
		{
			name:    "a shutdown timeout shorter than the request timeout",
			env:     map[string]string{"SHUTDOWN_TIMEOUT": "20s"},
			wantErr: []string{"SHUTDOWN_TIMEOUT (20s) must be at least REQUEST_TIMEOUT (30s) plus 5s", "SHUTDOWN_TIMEOUT=35s or more"},
		},
		{
			name:    "a shutdown timeout shorter than a longer request timeout",
			env:     map[string]string{"SHUTDOWN_TIMEOUT": "40s", "REQUEST_TIMEOUT": "1m"},
			wantErr: []string{"SHUTDOWN_TIMEOUT (40s) must be at least REQUEST_TIMEOUT (1m) plus 5s"},
		},
		{
			name: "the shutdown timeout follows the request timeout",
			env:  map[string]string{"REQUEST_TIMEOUT": "1m"},
			want: func() config {
				c := defaults()
				c.RequestTimeout, c.ShutdownTimeout = time.Minute, 65*time.Second
				return c
			}(),
		},
		{
			name:    "bad drain delay, host, slow-query threshold and metrics operations",
			env:     map[string]string{"DRAIN_DELAY": "-1s", "HOST": "local host", "SLOW_QUERY_THRESHOLD": "slow", "METRICS_OPERATIONS": "Jobs, not-a-name"},
			wantErr: []string{"DRAIN_DELAY", "HOST", "SLOW_QUERY_THRESHOLD", `METRICS_OPERATIONS must list GraphQL operation names ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters), got "not-a-name"`},
		},
		{
			name: "observability settings",
			env:  map[string]string{"SLOW_QUERY_THRESHOLD": "0s", "METRICS_OPERATIONS": " Jobs ,CandidateCard,"},
			want: func() config {
				c := defaults()
				c.SlowQueryThreshold, c.MetricsOperations = 0, []string{"Jobs", "CandidateCard"}
				return c
			}(),
		},
		{
			name: "CORS origins with any port",
			env:  map[string]string{"CORS_ALLOWED_ORIGINS": "http://localhost:*, https://dash.example.com"},
			want: func() config {
				c := defaults()
				c.CORSAllowedOrigins = []string{"http://localhost:*", "https://dash.example.com"}
				return c
			}(),
		},
		{
			name:    "CORS origins with a port pattern that is not a whole port",
			env:     map[string]string{"CORS_ALLOWED_ORIGINS": "http://localhost:3*"},
			wantErr: []string{"CORS_ALLOWED_ORIGINS"},
		},
		{
			name: "cache settings",
			env: map[string]string{"CACHE_PREFIX": "staging:", "CACHE_MAX_BYTES": "2097152", "CACHE_TTL_SCALE": "0.5",
				"RESPONSE_CACHE": "false", "QUERY_TIMEOUT": "5s", "LOCAL_CACHE_BYTES": "8388608"},
			want: func() config {
				c := defaults()
				c.CachePrefix = "staging:"
				c.CacheMaxBytes, c.CacheTTLScale, c.ResponseCache, c.RequestTimeout = 2<<20, 0.5, false, 5*time.Second
				c.LocalCacheBytes = 8 << 20
				c.ShutdownTimeout = 10 * time.Second
				return c
			}(),
		},
		{
			name: "cache TTLs per kind",
			env: map[string]string{"CACHE_TTL_JOB": "10m", "CACHE_TTL_JOB_LIST": "2m", "CACHE_TTL_CANDIDATE": "1m",
				"CACHE_TTL_CANDIDATE_LIST": "15s", "CACHE_TTL_ACTIVITIES": "45s", "CACHE_STALE_TTL": "3h"},
			want: func() config {
				c := defaults()
				t := &c.CacheTTLs
				t.Job.Fresh, t.JobList.Fresh, t.Candidate.Fresh = 10*time.Minute, 2*time.Minute, time.Minute
				t.CandidateList.Fresh, t.Activities.Fresh = 15*time.Second, 45*time.Second
				for _, k := range []*cache.TTL{&t.Job, &t.JobList, &t.Candidate, &t.CandidateList, &t.Activities} {
					k.Stale = 3 * time.Hour
				}
				return c
			}(),
		},
		{
			name: "live updates",
			env: map[string]string{"GATEWAY_PUBLIC_URL": "https://gw.example.com/", "REFRESH_ENABLED": "false",
				"REFRESH_INTERVAL": "1m", "REFRESH_BUDGET_SHARE": "0.05"},
			want: func() config {
				c := defaults()
				c.PublicURL, c.RefreshEnabled, c.RefreshInterval, c.RefreshShare = "https://gw.example.com", false, time.Minute, 0.05
				return c
			}(),
		},
		{
			name: "bad live update settings",
			env: map[string]string{"GATEWAY_PUBLIC_URL": "gw.example.com", "REFRESH_ENABLED": "sometimes",
				"REFRESH_INTERVAL": "0s", "REFRESH_BUDGET_SHARE": "1.5"},
			wantErr: []string{"GATEWAY_PUBLIC_URL must be the gateway's base URL", "REFRESH_ENABLED", "REFRESH_INTERVAL", "REFRESH_BUDGET_SHARE must be a number above 0 and at most 1"},
		},
		{
			name:    "a refresher share of zero",
			env:     map[string]string{"REFRESH_BUDGET_SHARE": "0"},
			wantErr: []string{"REFRESH_BUDGET_SHARE"},
		},
		{
			name: "a pinned Workable rate limit",
			env:  map[string]string{"WORKABLE_RATE_LIMIT": "50"},
			want: func() config {
				c := defaults()
				c.WorkableRateLimit = 50
				return c
			}(),
		},
		{
			name:    "bad Workable rate limits",
			env:     map[string]string{"WORKABLE_RATE_LIMIT": "0"},
			wantErr: []string{"WORKABLE_RATE_LIMIT must be a whole number from 1 to 1000"},
		},
		{
			name:    "a Workable rate limit that is not a number",
			env:     map[string]string{"WORKABLE_RATE_LIMIT": "50/10s"},
			wantErr: []string{"WORKABLE_RATE_LIMIT", `"50/10s"`},
		},
		{
			name:    "bad cache TTLs",
			env:     map[string]string{"CACHE_TTL_JOB": "soon", "CACHE_STALE_TTL": "-1h"},
			wantErr: []string{"CACHE_TTL_JOB", "CACHE_STALE_TTL"},
		},
		{
			name: "decoded tier off",
			env:  map[string]string{"LOCAL_CACHE_BYTES": "0"},
			want: func() config {
				c := defaults()
				c.LocalCacheBytes = 0
				return c
			}(),
		},
		{
			name:    "decoded tier too small",
			env:     map[string]string{"LOCAL_CACHE_BYTES": "4096"},
			wantErr: []string{"LOCAL_CACHE_BYTES must be 0 (no decoded tier) or a number of bytes, at least 1048576"},
		},
		{
			name:    "decoded tier not a number",
			env:     map[string]string{"LOCAL_CACHE_BYTES": "32MiB"},
			wantErr: []string{"LOCAL_CACHE_BYTES"},
		},
		{
			name:    "bad cache settings",
			env:     map[string]string{"CACHE_MAX_BYTES": "12", "CACHE_TTL_SCALE": "-1", "RESPONSE_CACHE": "maybe", "QUERY_TIMEOUT": "0s"},
			wantErr: []string{"CACHE_MAX_BYTES", "CACHE_TTL_SCALE", "RESPONSE_CACHE", "QUERY_TIMEOUT"},
		},
		{
			name:    "token without subdomain",
			env:     map[string]string{"WORKABLE_API_TOKEN": "secret-token-value"},
			wantErr: []string{"WORKABLE_SUBDOMAIN is not"},
		},
		{
			name:    "subdomain without token",
			env:     map[string]string{"WORKABLE_SUBDOMAIN": "acme"},
			wantErr: []string{"WORKABLE_API_TOKEN is not"},
		},
		{
			name: "an acting member",
			env:  map[string]string{"WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "tok", "WORKABLE_MEMBER_ID": " 3247e8c7 "},
			want: func() config {
				c := accountDefaults()
				c.WorkableMemberID = "3247e8c7"
				return c
			}(),
		},
		{
			name:    "an acting member that is not an id",
			env:     map[string]string{"WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "tok", "WORKABLE_MEMBER_ID": "Eduardo Vallente"},
			wantErr: []string{"WORKABLE_MEMBER_ID", `"Eduardo Vallente"`},
		},
		{
			name:    "every problem at once",
			env:     map[string]string{"PORT": "http", "SHUTDOWN_TIMEOUT": "soon", "WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "t", "WORKABLE_BASE_URL": "ftp://x"},
			wantErr: []string{"PORT", "SHUTDOWN_TIMEOUT", "WORKABLE_BASE_URL"},
		},
		{
			name:    "subdomain that is not a DNS label",
			env:     map[string]string{"WORKABLE_SUBDOMAIN": "acme corp", "WORKABLE_API_TOKEN": "secret-token-value"},
			wantErr: []string{"WORKABLE_SUBDOMAIN", `"acme corp"`},
		},
		{
			name:    "upper-case subdomain",
			env:     map[string]string{"WORKABLE_SUBDOMAIN": "Acme", "WORKABLE_API_TOKEN": "secret-token-value"},
			wantErr: []string{"WORKABLE_SUBDOMAIN", "lower-case"},
		},
		{
			name:    "subdomain too long",
			env:     map[string]string{"WORKABLE_SUBDOMAIN": strings.Repeat("a", 64), "WORKABLE_API_TOKEN": "secret-token-value"},
			wantErr: []string{"WORKABLE_SUBDOMAIN"},
		},
		{
			name:    "token with a space",
			env:     map[string]string{"WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "secret-token-value with-a-space"},
			wantErr: []string{"WORKABLE_API_TOKEN", "spaces or control characters"},
		},
		{
			name:    "token with a control character",
			env:     map[string]string{"WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "secret-token-value\x01"},
			wantErr: []string{"WORKABLE_API_TOKEN"},
		},
		{
			name: "base URL with user info",
			env: map[string]string{"WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "tok",
				"WORKABLE_BASE_URL": "https://user:pa55word@acme.workable.com/spi/v3/"},
			wantErr: []string{"WORKABLE_BASE_URL", "user name or password"},
		},
		{
			name: "base URL with a query string",
			env: map[string]string{"WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "tok",
				"WORKABLE_BASE_URL": "https://acme.workable.com/spi/v3/?pa55word=1"},
			wantErr: []string{"WORKABLE_BASE_URL", "query string"},
		},
		{
			name: "base URL with a fragment",
			env: map[string]string{"WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "tok",
				"WORKABLE_BASE_URL": "https://acme.workable.com/spi/v3/#top"},
			wantErr: []string{"WORKABLE_BASE_URL", "fragment"},
		},
		{
			name:    "base URL without an account",
			env:     map[string]string{"WORKABLE_BASE_URL": "http://127.0.0.1:1/spi/v3/"},
			wantErr: []string{"WORKABLE_BASE_URL is set"},
		},
		{
			name: "security settings",
			env: map[string]string{
				"CREDENTIALS_KEY":       testCredentialsKey,
				"GATEWAY_API_KEYS":      "k3y-for-dashboards:reader, k3y-for-ops-00001:admin",
				"CORS_ALLOWED_ORIGINS":  "https://dash.example.com, http://localhost:3000/",
				"GATEWAY_INTROSPECTION": "false", "GATEWAY_PLAYGROUND": "false",
				"MAX_BODY_BYTES": "2048", "REQUEST_TIMEOUT": "5s", "QUERY_TIMEOUT": "9s", "WORKABLE_CALL_TIMEOUT": "2s",
				"CLIENT_RATE_LIMIT": "2.5", "CLIENT_RATE_BURST": "5",
				"QUERY_MAX_COMPLEXITY": "900", "QUERY_MAX_DEPTH": "8", "QUERY_MAX_ALIASES": "3",
				"QUERY_MAX_ROOT_FIELDS": "4", "QUERY_MAX_FIELDS": "200", "QUERY_MAX_TOKENS": "600",
			},
			want: func() config {
				c := defaults()
				c.CredentialsKey = make([]byte, 32)
				for i := range c.CredentialsKey {
					c.CredentialsKey[i] = byte(i)
				}
				c.APIKeys = mustKeys("k3y-for-dashboards:reader,k3y-for-ops-00001:admin")
				c.CORSAllowedOrigins = []string{"https://dash.example.com", "http://localhost:3000/"}
				c.Introspection, c.Playground = false, false
				c.MaxBodyBytes, c.RequestTimeout, c.WorkableCallTimeout = 2048, 5*time.Second, 2*time.Second
				c.ShutdownTimeout = 10 * time.Second
				c.ClientRateLimit, c.ClientRateBurst = 2.5, 5
				c.ComplexityLimit = 900
				c.QueryLimits = guard.QueryLimits{MaxDepth: 8, MaxAliases: 3, MaxRootFields: 4, MaxFields: 200, MaxTokens: 600}
				return c
			}(),
		},
		{
			name: "QUERY_TIMEOUT is the older name of REQUEST_TIMEOUT",
			env:  map[string]string{"QUERY_TIMEOUT": "7s"},
			want: func() config {
				c := defaults()
				c.RequestTimeout, c.ShutdownTimeout = 7*time.Second, 12*time.Second
				return c
			}(),
		},
		{
			name: "bad security settings",
			env: map[string]string{
				"CREDENTIALS_KEY": "c2hvcnQ=", "GATEWAY_API_KEYS": "secret-token-value",
				"CORS_ALLOWED_ORIGINS": "dash.example.com", "GATEWAY_INTROSPECTION": "no", "GATEWAY_PLAYGROUND": "off",
				"MAX_BODY_BYTES": "10", "REQUEST_TIMEOUT": "-1s", "WORKABLE_CALL_TIMEOUT": "soon",
				"CLIENT_RATE_LIMIT": "-3", "CLIENT_RATE_BURST": "x", "QUERY_MAX_COMPLEXITY": "0", "QUERY_MAX_DEPTH": "0",
				"QUERY_MAX_ALIASES": "many", "QUERY_MAX_ROOT_FIELDS": "0", "QUERY_MAX_FIELDS": "0", "QUERY_MAX_TOKENS": "1",
			},
			wantErr: []string{"CREDENTIALS_KEY", "GATEWAY_API_KEYS", "CORS_ALLOWED_ORIGINS", "GATEWAY_INTROSPECTION",
				"GATEWAY_PLAYGROUND", "MAX_BODY_BYTES", "REQUEST_TIMEOUT", "WORKABLE_CALL_TIMEOUT", "CLIENT_RATE_LIMIT",
				"CLIENT_RATE_BURST", "QUERY_MAX_COMPLEXITY", "QUERY_MAX_DEPTH", "QUERY_MAX_ALIASES", "QUERY_MAX_ROOT_FIELDS",
				"QUERY_MAX_FIELDS", "QUERY_MAX_TOKENS"},
		},
		{
			name:    "port out of range",
			env:     map[string]string{"PORT": "70000"},
			wantErr: []string{"PORT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := loadConfig(func(k string) string { return tt.env[k] })
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("loadConfig() succeeded, want an error containing %q", tt.wantErr)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				for _, secret := range []string{"secret-token-value", "pa55word"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q contains the secret %q", err, secret)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("loadConfig() error: %v", err)
			}
			keysEqual := cmp.Comparer(func(a, b access.Keys) bool { return a.String() == b.String() })
			if diff := cmp.Diff(tt.want, got, keysEqual); diff != "" {
				t.Errorf("loadConfig() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLocalTierBytes: LOCAL_CACHE_BYTES reaches upstream.Config, where 0
// means the default bound, so the setting's 0 (off) becomes a negative bound.
func TestLocalTierBytes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  string
		want int64
	}{
		{"", upstream.DefaultLocalTierBytes},
		{"0", -1},
		{"8388608", 8 << 20},
	} {
		cfg, err := loadConfig(func(k string) string {
			if k == "LOCAL_CACHE_BYTES" {
				return tc.env
			}
			return ""
		})
		if err != nil {
			t.Fatalf("LOCAL_CACHE_BYTES=%q: %v", tc.env, err)
		}
		if got := cfg.localTierBytes(); got != tc.want {
			t.Errorf("LOCAL_CACHE_BYTES=%q: upstream bound %d, want %d", tc.env, got, tc.want)
		}
	}
}
