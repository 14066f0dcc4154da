package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/workablegw/gateway/cache"
)

// config is the gateway's configuration, read from the environment. Every
// setting is listed in the README's settings table.
type config struct {
	Port              int           // PORT, default 8080
	WorkableSubdomain string        // WORKABLE_SUBDOMAIN
	WorkableToken     string        // WORKABLE_API_TOKEN
	WorkableBaseURL   string        // WORKABLE_BASE_URL (optional override)
	RedisURL          string        // REDIS_URL (optional)
	ShutdownTimeout   time.Duration // SHUTDOWN_TIMEOUT, default 20s
	CachePrefix       string        // CACHE_PREFIX, default "" (put before every cache and rate-budget key)
	CacheMaxBytes     int64         // CACHE_MAX_BYTES, default 64 MiB (in-process cache only)
	CacheTTLScale     float64       // CACHE_TTL_SCALE, default 1
	ResponseCache     bool          // RESPONSE_CACHE, default true
	QueryTimeout      time.Duration // QUERY_TIMEOUT, default 30s
}

// ttls returns the cache TTLs: the defaults with every fresh time
// multiplied by CACHE_TTL_SCALE (stale times, the fallback when Workable
// fails, stay as they are).
func (c config) ttls() cache.TTLs {
	t := cache.DefaultTTLs()
	for _, k := range []*cache.TTL{&t.Job, &t.JobList, &t.Candidate, &t.CandidateList, &t.Activities} {
		k.Fresh = time.Duration(float64(k.Fresh) * c.CacheTTLScale)
	}
	return t
}

// demo reports whether the gateway runs on the built-in simulator: no
// Workable account was configured.
func (c config) demo() bool {
	return c.WorkableSubdomain == "" && c.WorkableToken == ""
}

// loadConfig reads and validates the configuration. The error lists every
// problem found, so one restart fixes them all.
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		Port:              8080,
		WorkableSubdomain: strings.TrimSpace(getenv("WORKABLE_SUBDOMAIN")),
		WorkableToken:     strings.TrimSpace(getenv("WORKABLE_API_TOKEN")),
		WorkableBaseURL:   strings.TrimSpace(getenv("WORKABLE_BASE_URL")),
		RedisURL:          strings.TrimSpace(getenv("REDIS_URL")),
		CachePrefix:       strings.TrimSpace(getenv("CACHE_PREFIX")),
		ShutdownTimeout:   20 * time.Second,
		CacheMaxBytes:     cache.DefaultMemoryBytes,
		CacheTTLScale:     1,
		ResponseCache:     true,
		QueryTimeout:      30 * time.Second,
	}
	var problems []error
	if v := getenv("CACHE_MAX_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1<<20 {
			problems = append(problems, fmt.Errorf("CACHE_MAX_BYTES must be a number of bytes, at least 1048576, got %q", v))
		}
		cfg.CacheMaxBytes = n
	}
	if v := getenv("CACHE_TTL_SCALE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f <= 100) {
			problems = append(problems, fmt.Errorf("CACHE_TTL_SCALE must be a number above 0 and at most 100, got %q", v))
		}
		cfg.CacheTTLScale = f
	}
	if v := getenv("RESPONSE_CACHE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("RESPONSE_CACHE must be true or false, got %q", v))
		}
		cfg.ResponseCache = b
	}
	if v := getenv("QUERY_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Errorf("QUERY_TIMEOUT must be a positive duration such as 30s, got %q", v))
		}
		cfg.QueryTimeout = d
	}
	if v := getenv("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			problems = append(problems, fmt.Errorf("PORT must be a port number (0-65535), got %q", v))
		}
		cfg.Port = p
	}
	if v := getenv("SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Errorf("SHUTDOWN_TIMEOUT must be a positive duration such as 20s, got %q", v))
		}
		cfg.ShutdownTimeout = d
	}
	switch {
	case cfg.WorkableSubdomain == "" && cfg.WorkableToken != "":
		problems = append(problems, errors.New("WORKABLE_API_TOKEN is set but WORKABLE_SUBDOMAIN is not: set both, or neither for demo mode"))
	case cfg.WorkableSubdomain != "" && cfg.WorkableToken == "":
		problems = append(problems, errors.New("WORKABLE_SUBDOMAIN is set but WORKABLE_API_TOKEN is not: set both, or neither for demo mode"))
	}
	if cfg.WorkableBaseURL != "" {
		u, err := url.Parse(cfg.WorkableBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, errors.New("WORKABLE_BASE_URL must be an absolute http(s) URL such as https://acme.workable.com/spi/v3/"))
		}
		if cfg.demo() {
			problems = append(problems, errors.New("WORKABLE_BASE_URL is set but WORKABLE_SUBDOMAIN and WORKABLE_API_TOKEN are not"))
		}
	}
	if cfg.RedisURL != "" && !strings.Contains(cfg.RedisURL, "://") && !strings.Contains(cfg.RedisURL, ":") {
		problems = append(problems, fmt.Errorf("REDIS_URL must look like redis://host:6379/0"))
	}
	if len(problems) > 0 {
		return cfg, fmt.Errorf("invalid settings: %w", errors.Join(problems...))
	}
	return cfg, nil
}
