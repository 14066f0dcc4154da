package main

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/graph"
	"github.com/workablegw/gateway/guard"
	"github.com/workablegw/gateway/workable"
)

// config is the gateway's configuration, read from the environment. Every
// setting is listed in the README's settings table.
type config struct {
	Port              int           // PORT, default 8080
	WorkableSubdomain string        // WORKABLE_SUBDOMAIN
	WorkableToken     string        // WORKABLE_API_TOKEN
	WorkableBaseURL   string        // WORKABLE_BASE_URL (optional override)
	WorkableRateLimit int           // WORKABLE_RATE_LIMIT, requests per 10 s pinned for every credential; 0: adopt X-Rate-Limit-Limit
	RedisURL          string        // REDIS_URL (optional)
	ShutdownTimeout   time.Duration // SHUTDOWN_TIMEOUT, default 20s
	CachePrefix       string        // CACHE_PREFIX, default "" (put before every cache and rate-budget key)
	CacheMaxBytes     int64         // CACHE_MAX_BYTES, default 64 MiB (in-process cache only)
	CacheTTLScale     float64       // CACHE_TTL_SCALE, default 1
	// CacheTTLs are the fresh and stale times per kind of data: the defaults
	// of cache.DefaultTTLs, with CACHE_TTL_JOB, CACHE_TTL_JOB_LIST,
	// CACHE_TTL_CANDIDATE, CACHE_TTL_CANDIDATE_LIST, CACHE_TTL_ACTIVITIES
	// (fresh times) and CACHE_STALE_TTL (the stale time of every kind).
	CacheTTLs     cache.TTLs
	ResponseCache bool // RESPONSE_CACHE, default true

	// Issue 5: credentials, access control and limits.
	CredentialsKey      []byte            // CREDENTIALS_KEY (32 bytes in base64), needed to add credentials with Redis
	APIKeys             access.Keys       // GATEWAY_API_KEYS, key:role pairs; none: open
	CORSAllowedOrigins  []string          // CORS_ALLOWED_ORIGINS, comma list; none: no browser origin
	Introspection       bool              // GATEWAY_INTROSPECTION, default true
	Playground          bool              // GATEWAY_PLAYGROUND, default true
	MaxBodyBytes        int64             // MAX_BODY_BYTES, default 1 MiB
	RequestTimeout      time.Duration     // REQUEST_TIMEOUT (older name QUERY_TIMEOUT), default 30s
	WorkableCallTimeout time.Duration     // WORKABLE_CALL_TIMEOUT, default 10s
	ClientRateLimit     float64           // CLIENT_RATE_LIMIT, requests per second per client, default 0 (off)
	ClientRateBurst     int               // CLIENT_RATE_BURST, default 0 (the rate, rounded up)
	ComplexityLimit     int               // QUERY_MAX_COMPLEXITY, default graph.DefaultComplexityLimit
	QueryLimits         guard.QueryLimits // QUERY_MAX_DEPTH, QUERY_MAX_ALIASES, QUERY_MAX_ROOT_FIELDS, QUERY_MAX_FIELDS, QUERY_MAX_TOKENS
}

// ttls returns the cache TTLs: CacheTTLs with every fresh time multiplied
// by CACHE_TTL_SCALE (stale times, the fallback when Workable fails, stay as
// they are).
func (c config) ttls() cache.TTLs {
	t := c.CacheTTLs
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
		CacheTTLs:         cache.DefaultTTLs(),
		ResponseCache:     true,
		Introspection:     true,
		Playground:        true,
		MaxBodyBytes:      guard.DefaultMaxBodyBytes,
		RequestTimeout:    guard.DefaultDeadline,
		// The client's own default, spelt out for the settings table.
		WorkableCallTimeout: 10 * time.Second,
		ComplexityLimit:     graph.DefaultComplexityLimit,
		QueryLimits:         guard.DefaultQueryLimits(),
	}
	var problems []error
	problems = append(problems, loadSecurity(getenv, &cfg)...)
	if v := getenv("CACHE_MAX_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1<<20 {
			problems = append(problems, fmt.Errorf("CACHE_MAX_BYTES must be a number of bytes, at least 1048576, got %q", v))
		}
		cfg.CacheMaxBytes = n
	}
	for name, ttl := range map[string]*cache.TTL{
		"CACHE_TTL_JOB": &cfg.CacheTTLs.Job, "CACHE_TTL_JOB_LIST": &cfg.CacheTTLs.JobList,
		"CACHE_TTL_CANDIDATE": &cfg.CacheTTLs.Candidate, "CACHE_TTL_CANDIDATE_LIST": &cfg.CacheTTLs.CandidateList,
		"CACHE_TTL_ACTIVITIES": &cfg.CacheTTLs.Activities,
	} {
		durationSetting(getenv, name, &ttl.Fresh, &problems)
	}
	if v := getenv("CACHE_STALE_TTL"); v != "" {
		var stale time.Duration
		durationSetting(getenv, "CACHE_STALE_TTL", &stale, &problems)
		for _, ttl := range []*cache.TTL{&cfg.CacheTTLs.Job, &cfg.CacheTTLs.JobList, &cfg.CacheTTLs.Candidate,
			&cfg.CacheTTLs.CandidateList, &cfg.CacheTTLs.Activities} {
			ttl.Stale = stale
		}
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
	intSetting(getenv, "WORKABLE_RATE_LIMIT", 1, workable.MaxAdoptedLimit, &cfg.WorkableRateLimit, &problems)
	problems = append(problems, workableProblems(cfg)...)
	if cfg.RedisURL != "" && !strings.Contains(cfg.RedisURL, "://") && !strings.Contains(cfg.RedisURL, ":") {
		problems = append(problems, fmt.Errorf("REDIS_URL must look like redis://host:6379/0"))
	}
	if len(problems) > 0 {
		return cfg, fmt.Errorf("invalid settings: %w", errors.Join(problems...))
	}
	return cfg, nil
}

// workableProblems checks the Workable account settings with the rules the
// client applies when it is built (workable.NewClient, credentials added
// through the API), so that a bad value stops the gateway at startup rather
// than failing every request. No message repeats the token.
func workableProblems(cfg config) []error {
	var problems []error
	switch {
	case cfg.WorkableSubdomain == "" && cfg.WorkableToken != "":
		problems = append(problems, errors.New("WORKABLE_API_TOKEN is set but WORKABLE_SUBDOMAIN is not: set both, or neither for demo mode"))
	case cfg.WorkableSubdomain != "" && cfg.WorkableToken == "":
		problems = append(problems, errors.New("WORKABLE_SUBDOMAIN is set but WORKABLE_API_TOKEN is not: set both, or neither for demo mode"))
	}
	if cfg.WorkableSubdomain != "" {
		if err := credentials.ValidateSubdomain(cfg.WorkableSubdomain); err != nil {
			problems = append(problems, fmt.Errorf("WORKABLE_SUBDOMAIN must be the account's subdomain, such as acme for acme.workable.com (%v), got %q",
				err, cfg.WorkableSubdomain))
		}
	}
	if cfg.WorkableToken != "" {
		if err := credentials.ValidateToken(cfg.WorkableToken); err != nil {
			// err never contains the token; neither may this message.
			problems = append(problems, fmt.Errorf("WORKABLE_API_TOKEN must be the API token exactly as Workable shows it: %w", err))
		}
	}
	if cfg.WorkableBaseURL != "" {
		const example = "https://acme.workable.com/spi/v3/"
		u, err := url.Parse(cfg.WorkableBaseURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			problems = append(problems, errors.New("WORKABLE_BASE_URL must be an absolute http(s) URL such as "+example))
		case u.User != nil:
			// Not repeated: the user info may hold a password.
			problems = append(problems, errors.New("WORKABLE_BASE_URL must not carry a user name or password (the token is sent in the Authorization header)"))
		case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
			problems = append(problems, errors.New("WORKABLE_BASE_URL must not carry a query string or fragment: give the API root only, such as "+example))
		}
		if cfg.demo() {
			problems = append(problems, errors.New("WORKABLE_BASE_URL is set but WORKABLE_SUBDOMAIN and WORKABLE_API_TOKEN are not"))
		}
	}
	return problems
}

// loadSecurity reads the settings of issue 5 (credentials, access control,
// limits) into cfg and returns the problems found. No message repeats a
// secret (CREDENTIALS_KEY, GATEWAY_API_KEYS).
func loadSecurity(getenv func(string) string, cfg *config) []error {
	var problems []error
	if v := getenv("CREDENTIALS_KEY"); strings.TrimSpace(v) != "" {
		key, err := credentials.ParseKey(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("CREDENTIALS_KEY: %w", err))
		}
		cfg.CredentialsKey = key
	}
	keys, err := access.ParseKeys(getenv("GATEWAY_API_KEYS"))
	if err != nil {
		problems = append(problems, fmt.Errorf("GATEWAY_API_KEYS: %w", err))
	}
	cfg.APIKeys = keys
	for _, o := range strings.Split(getenv("CORS_ALLOWED_ORIGINS"), ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
				problems = append(problems, fmt.Errorf("CORS_ALLOWED_ORIGINS must list origins such as https://dash.example.com (or *), got %q", o))
				continue
			}
		}
		cfg.CORSAllowedOrigins = append(cfg.CORSAllowedOrigins, o)
	}
	boolSetting(getenv, "GATEWAY_INTROSPECTION", &cfg.Introspection, &problems)
	boolSetting(getenv, "GATEWAY_PLAYGROUND", &cfg.Playground, &problems)
	if v := getenv("MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 || n > 64<<20 {
			problems = append(problems, fmt.Errorf("MAX_BODY_BYTES must be a number of bytes from 1024 to 67108864, got %q", v))
		}
		cfg.MaxBodyBytes = n
	}
	// REQUEST_TIMEOUT wins over its older name QUERY_TIMEOUT.
	for _, name := range []string{"QUERY_TIMEOUT", "REQUEST_TIMEOUT"} {
		durationSetting(getenv, name, &cfg.RequestTimeout, &problems)
	}
	durationSetting(getenv, "WORKABLE_CALL_TIMEOUT", &cfg.WorkableCallTimeout, &problems)
	if v := getenv("CLIENT_RATE_LIMIT"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0 && f <= 1e6) {
			problems = append(problems, fmt.Errorf("CLIENT_RATE_LIMIT must be requests per second (0 turns it off), got %q", v))
		}
		cfg.ClientRateLimit = f
	}
	intSetting(getenv, "CLIENT_RATE_BURST", 0, 1e6, &cfg.ClientRateBurst, &problems)
	intSetting(getenv, "QUERY_MAX_COMPLEXITY", 1, 1e7, &cfg.ComplexityLimit, &problems)
	intSetting(getenv, "QUERY_MAX_DEPTH", 1, 1000, &cfg.QueryLimits.MaxDepth, &problems)
	intSetting(getenv, "QUERY_MAX_ALIASES", 1, 1e5, &cfg.QueryLimits.MaxAliases, &problems)
	intSetting(getenv, "QUERY_MAX_ROOT_FIELDS", 1, 1e5, &cfg.QueryLimits.MaxRootFields, &problems)
	intSetting(getenv, "QUERY_MAX_FIELDS", 1, 1e6, &cfg.QueryLimits.MaxFields, &problems)
	intSetting(getenv, "QUERY_MAX_TOKENS", 10, 1e6, &cfg.QueryLimits.MaxTokens, &problems)
	return problems
}

// boolSetting reads a true/false setting.
func boolSetting(getenv func(string) string, name string, dst *bool, problems *[]error) {
	if v := getenv(name); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			*problems = append(*problems, fmt.Errorf("%s must be true or false, got %q", name, v))
		}
		*dst = b
	}
}

// durationSetting reads a positive duration setting.
func durationSetting(getenv func(string) string, name string, dst *time.Duration, problems *[]error) {
	if v := getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			*problems = append(*problems, fmt.Errorf("%s must be a positive duration such as 30s, got %q", name, v))
		}
		*dst = d
	}
}

// intSetting reads a whole number setting within [lo, hi].
func intSetting(getenv func(string) string, name string, lo, hi int, dst *int, problems *[]error) {
	if v := getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			*problems = append(*problems, fmt.Errorf("%s must be a whole number from %d to %d, got %q", name, lo, hi, v))
		}
		*dst = n
	}
}
