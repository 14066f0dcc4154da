package main

import (
	"strings"
	"testing"
	"time"

	"github.com/workablegw/gateway/cache"
)

// defaults is the configuration with no settings.
func defaults() config {
	return config{Port: 8080, ShutdownTimeout: 20 * time.Second, CacheMaxBytes: 64 << 20, CacheTTLScale: 1,
		ResponseCache: true, QueryTimeout: 30 * time.Second}
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
				"SHUTDOWN_TIMEOUT": "3s",
			},
			want: func() config {
				c := defaults()
				c.Port, c.WorkableSubdomain, c.WorkableToken = 9090, "acme", "tok"
				c.WorkableBaseURL, c.RedisURL = "http://127.0.0.1:1/spi/v3/", "redis://127.0.0.1:6379/1"
				c.ShutdownTimeout = 3 * time.Second
				return c
			}(),
		},
		{
			name: "cache settings",
			env: map[string]string{"CACHE_PREFIX": "staging:", "CACHE_MAX_BYTES": "2097152", "CACHE_TTL_SCALE": "0.5",
				"RESPONSE_CACHE": "false", "QUERY_TIMEOUT": "5s"},
			want: func() config {
				c := defaults()
				c.CachePrefix = "staging:"
				c.CacheMaxBytes, c.CacheTTLScale, c.ResponseCache, c.QueryTimeout = 2<<20, 0.5, false, 5*time.Second
				return c
			}(),
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
			name:    "every problem at once",
			env:     map[string]string{"PORT": "http", "SHUTDOWN_TIMEOUT": "soon", "WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "t", "WORKABLE_BASE_URL": "ftp://x"},
			wantErr: []string{"PORT", "SHUTDOWN_TIMEOUT", "WORKABLE_BASE_URL"},
		},
		{
			name:    "base URL without an account",
			env:     map[string]string{"WORKABLE_BASE_URL": "http://127.0.0.1:1/spi/v3/"},
			wantErr: []string{"WORKABLE_BASE_URL is set"},
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
				if strings.Contains(err.Error(), "secret-token-value") {
					t.Errorf("error %q contains the token", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("loadConfig() error: %v", err)
			}
			if got != tt.want {
				t.Errorf("loadConfig() = %+v, want %+v", got, tt.want)
			}
		})
	}
}
