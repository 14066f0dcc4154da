package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/guard"
	"github.com/workablegw/gateway/telemetry"
	"github.com/workablegw/gateway/workable"
)

// config is the gateway's configuration, read from the environment. Every
// setting, with its default, is in settingsTable (settings.go), which
// `gateway --help` prints and the README's settings table follows.
type config struct {
	Production        bool          // GATEWAY_ENV=production
	Host              string        // HOST, default "" (every interface; demo mode: 127.0.0.1)
	Port              int           // PORT, default 8080
	WorkableSubdomain string        // WORKABLE_SUBDOMAIN
	WorkableToken     string        // WORKABLE_API_TOKEN
	WorkableBaseURL   string        // WORKABLE_BASE_URL (optional override)
	WorkableRateLimit int           // WORKABLE_RATE_LIMIT, requests per 10 s pinned for every credential; 0: adopt X-Rate-Limit-Limit
	WorkableMemberID  string        // WORKABLE_MEMBER_ID, the default acting member (demo mode: the simulator's first admin)
	RedisURL          string        // REDIS_URL (optional)
	DrainDelay        time.Duration // DRAIN_DELAY, default 0 (production: 5s)
	ShutdownTimeout   time.Duration // SHUTDOWN_TIMEOUT, default REQUEST_TIMEOUT + shutdownMargin
	CachePrefix       string        // CACHE_PREFIX, default "" (put before every cache and rate-budget key)
	CacheMaxBytes     int64         // CACHE_MAX_BYTES, default 64 MiB (in-process cache only)
	LocalCacheBytes   int64         // LOCAL_CACHE_BYTES, default 32 MiB: the decoded tier of each replica; 0 turns it off
	CacheTTLScale     float64       // CACHE_TTL_SCALE, default 1
	// CacheTTLs are the fresh and stale times per kind of data: the defaults
	// of cache.DefaultTTLs, with CACHE_TTL_JOB, CACHE_TTL_JOB_LIST,
	// CACHE_TTL_CANDIDATE, CACHE_TTL_CANDIDATE_LIST, CACHE_TTL_ACTIVITIES
	// (fresh times) and CACHE_STALE_TTL (the stale time of every kind).
	CacheTTLs     cache.TTLs
	ResponseCache bool // RESPONSE_CACHE, default true

	// Credentials, access control and limits.
	CredentialsKey      []byte            // CREDENTIALS_KEY (32 bytes in base64), needed to add credentials with Redis
	APIKeys             access.Keys       // GATEWAY_API_KEYS, key:role pairs; none: open
	CORSAllowedOrigins  []string          // CORS_ALLOWED_ORIGINS, comma list; none: no browser origin (demo mode: localhost)
	Introspection       bool              // GATEWAY_INTROSPECTION, default true (production: false)
	Playground          bool              // GATEWAY_PLAYGROUND, default true (production: false)
	MaxBodyBytes        int64             // MAX_BODY_BYTES, default 1 MiB
	RequestTimeout      time.Duration     // REQUEST_TIMEOUT (older name QUERY_TIMEOUT), default 30s
	WorkableCallTimeout time.Duration     // WORKABLE_CALL_TIMEOUT, default 10s
	ClientRateLimit     float64           // CLIENT_RATE_LIMIT, requests per second per client, default 0 (off)
	ClientRateBurst     int               // CLIENT_RATE_BURST, default 0 (the rate, rounded up)
	ComplexityLimit     int               // QUERY_MAX_COMPLEXITY, default graph.DefaultComplexityLimit
	QueryLimits         guard.QueryLimits // QUERY_MAX_DEPTH, QUERY_MAX_ALIASES, QUERY_MAX_ROOT_FIELDS, QUERY_MAX_FIELDS, QUERY_MAX_TOKENS

	// Subscriptions.
	SubscriptionsPerClient int           // SUBSCRIPTIONS_PER_CLIENT, default graph.DefaultSubscriptionsPerClient
	SubscriptionHeartbeat  time.Duration // SUBSCRIPTION_HEARTBEAT, default gqlhttp.DefaultHeartbeat

	// Observability (LOG_FORMAT, LOG_LEVEL and OTEL_* are read by the
	// telemetry package).
	SlowQueryThreshold time.Duration // SLOW_QUERY_THRESHOLD, default 5s; 0: no slow-query warning
	MetricsOperations  []string      // METRICS_OPERATIONS, the operation names metrics may use as labels

	GC gcSettings // GOGC and GOMEMLIMIT: the collector's defaults when unset (gc.go)

	// Live updates (liveupdates.go).
	PublicURL       string        // GATEWAY_PUBLIC_URL, where Workable sends webhooks; "": none can be registered
	RefreshEnabled  bool          // REFRESH_ENABLED, default true
	RefreshInterval time.Duration // REFRESH_INTERVAL, default 30s
	RefreshShare    float64       // REFRESH_BUDGET_SHARE, default 0.2
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

// localTierBytes returns upstream.Config.LocalTierBytes for
// LOCAL_CACHE_BYTES, whose 0 turns the decoded tier off.
func (c config) localTierBytes() int64 {
	if c.LocalCacheBytes == 0 {
		return -1
	}
	return c.LocalCacheBytes
}

// inProcessCacheBytes returns what the caches may hold in the process: the
// decoded tier, and the cache itself when there is no Redis.
func (c config) inProcessCacheBytes() int64 {
	n := max(c.LocalCacheBytes, 0)
	if c.RedisURL == "" {
		n += c.CacheMaxBytes
	}
	return n
}

// demo reports whether the gateway runs on the built-in simulator: no
// Workable account was configured.
func (c config) demo() bool {
	return c.WorkableSubdomain == "" && c.WorkableToken == ""
}

// loadConfig reads and validates the configuration. Unset settings take
// their defaults from settingsTable for the mode (production, demo or
// neither). The error lists every problem found, so one restart fixes them
// all.
func loadConfig(getenv func(string) string) (config, error) {
	env := settingsEnv(getenv)
	cfg := config{
		Production:        isProduction(getenv),
		Host:              strings.TrimSpace(env("HOST")),
		WorkableSubdomain: strings.TrimSpace(env("WORKABLE_SUBDOMAIN")),
		WorkableToken:     strings.TrimSpace(env("WORKABLE_API_TOKEN")),
		WorkableBaseURL:   strings.TrimSpace(env("WORKABLE_BASE_URL")),
		WorkableMemberID:  strings.TrimSpace(env("WORKABLE_MEMBER_ID")),
		RedisURL:          strings.TrimSpace(env("REDIS_URL")),
		CachePrefix:       strings.TrimSpace(env("CACHE_PREFIX")),
		CacheTTLs:         cache.DefaultTTLs(),
		GC:                loadGCSettings(getenv),
	}
	var problems []error
	switch v := strings.ToLower(strings.TrimSpace(getenv("GATEWAY_ENV"))); v {
	case "", "production", "development":
	default:
		// A typo must not fall back to development: that would serve demo
		// data and leave the gateway open.
		problems = append(problems, fmt.Errorf("GATEWAY_ENV must be production or development (or unset), got %q", v))
	}
	problems = append(problems, loadSecurity(env, getenv, &cfg)...)
	if v := env("CACHE_MAX_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1<<20 {
			problems = append(problems, fmt.Errorf("CACHE_MAX_BYTES must be a number of bytes, at least 1048576, got %q", v))
		}
		cfg.CacheMaxBytes = n
	}
	if v := env("LOCAL_CACHE_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || (n != 0 && n < 1<<20) {
			problems = append(problems, fmt.Errorf("LOCAL_CACHE_BYTES must be 0 (no decoded tier) or a number of bytes, at least 1048576, got %q", v))
		}
		cfg.LocalCacheBytes = n
	}
	for name, ttl := range map[string]*cache.TTL{
		"CACHE_TTL_JOB": &cfg.CacheTTLs.Job, "CACHE_TTL_JOB_LIST": &cfg.CacheTTLs.JobList,
		"CACHE_TTL_CANDIDATE": &cfg.CacheTTLs.Candidate, "CACHE_TTL_CANDIDATE_LIST": &cfg.CacheTTLs.CandidateList,
		"CACHE_TTL_ACTIVITIES": &cfg.CacheTTLs.Activities,
	} {
		durationSetting(env, name, &ttl.Fresh, &problems)
	}
	var stale time.Duration
	durationSetting(env, "CACHE_STALE_TTL", &stale, &problems)
	for _, ttl := range []*cache.TTL{&cfg.CacheTTLs.Job, &cfg.CacheTTLs.JobList, &cfg.CacheTTLs.Candidate,
		&cfg.CacheTTLs.CandidateList, &cfg.CacheTTLs.Activities} {
		ttl.Stale = stale
	}
	if v := env("CACHE_TTL_SCALE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0 && f <= 100) {
			problems = append(problems, fmt.Errorf("CACHE_TTL_SCALE must be a number above 0 and at most 100, got %q", v))
		}
		cfg.CacheTTLScale = f
	}
	boolSetting(env, "RESPONSE_CACHE", &cfg.ResponseCache, &problems)
	if v := env("PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			problems = append(problems, fmt.Errorf("PORT must be a port number (0-65535), got %q", v))
		}
		cfg.Port = p
	}
	if cfg.Host != "" && net.ParseIP(strings.Trim(cfg.Host, "[]")) == nil && !validHostname(cfg.Host) {
		problems = append(problems, fmt.Errorf("HOST must be an IP address or host name to listen on, such as 127.0.0.1 or 0.0.0.0, got %q", cfg.Host))
	}
	problems = append(problems, shutdownProblems(env, getenv, &cfg)...)
	problems = append(problems, observabilityProblems(env, &cfg)...)
	problems = append(problems, liveUpdateProblems(env, &cfg)...)
	intSetting(getenv, "WORKABLE_RATE_LIMIT", 1, workable.MaxAdoptedLimit, &cfg.WorkableRateLimit, &problems)
	problems = append(problems, workableProblems(cfg)...)
	if cfg.RedisURL != "" && !strings.Contains(cfg.RedisURL, "://") && !strings.Contains(cfg.RedisURL, ":") {
		problems = append(problems, fmt.Errorf("REDIS_URL must look like redis://host:6379/0"))
	}
	if cfg.Production {
		problems = append(problems, productionProblems(cfg)...)
	}
	if len(problems) > 0 {
		return cfg, fmt.Errorf("invalid settings: %w", errors.Join(problems...))
	}
	return cfg, nil
}

// shutdownProblems reads DRAIN_DELAY and SHUTDOWN_TIMEOUT. The timeout
// defaults to REQUEST_TIMEOUT plus shutdownMargin and may not be shorter:
// a request admitted just before SIGTERM may use its whole deadline
// (waiting for Workable's rate budget, say), and a shorter timeout would
// cut it off without an answer.
func shutdownProblems(env, getenv func(string) string, cfg *config) []error {
	var problems []error
	if v := env("DRAIN_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 5*time.Minute {
			problems = append(problems, fmt.Errorf("DRAIN_DELAY must be a duration from 0s to 5m, such as 5s, got %q", v))
		}
		cfg.DrainDelay = d
	}
	least := cfg.RequestTimeout + shutdownMargin
	cfg.ShutdownTimeout = least
	if v := getenv("SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil || d <= 0:
			problems = append(problems, fmt.Errorf("SHUTDOWN_TIMEOUT must be a positive duration such as %s, got %q", shortDuration(least), v))
		case d < least:
			problems = append(problems, fmt.Errorf("SHUTDOWN_TIMEOUT (%s) must be at least REQUEST_TIMEOUT (%s) plus %s, so that requests in flight at shutdown, those waiting for Workable's rate budget included, can still be answered: set SHUTDOWN_TIMEOUT=%s or more, or lower REQUEST_TIMEOUT",
				shortDuration(d), shortDuration(cfg.RequestTimeout), shortDuration(shutdownMargin), shortDuration(least)))
		}
		cfg.ShutdownTimeout = d
	}
	return problems
}

// observabilityProblems reads SLOW_QUERY_THRESHOLD and METRICS_OPERATIONS.
func observabilityProblems(env func(string) string, cfg *config) []error {
	var problems []error
	if v := env("SLOW_QUERY_THRESHOLD"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			problems = append(problems, fmt.Errorf("SLOW_QUERY_THRESHOLD must be a duration such as 5s (0s turns the warning off), got %q", v))
		}
		cfg.SlowQueryThreshold = d
	}
	cfg.MetricsOperations = append(cfg.MetricsOperations, listSetting(env, "METRICS_OPERATIONS",
		"GraphQL operation names ([A-Za-z_][A-Za-z0-9_]*, at most 64 characters)", telemetry.ValidOperationName, &problems)...)
	return problems
}

// productionProblems lists what GATEWAY_ENV=production refuses to start
// without: a missing secret in a deployment must stop it, not serve the
// simulator's data or an open API.
func productionProblems(cfg config) []error {
	var problems []error
	if cfg.demo() {
		problems = append(problems, errors.New("GATEWAY_ENV=production needs WORKABLE_SUBDOMAIN and WORKABLE_API_TOKEN: production never runs in demo mode on the simulator's data"))
	}
	if !cfg.APIKeys.Enabled() {
		problems = append(problems, errors.New("GATEWAY_ENV=production needs GATEWAY_API_KEYS (key:role pairs, e.g. $(openssl rand -hex 32):reader): production never runs open"))
	}
	if cfg.RedisURL != "" && len(cfg.CredentialsKey) == 0 {
		problems = append(problems, errors.New("GATEWAY_ENV=production with REDIS_URL needs CREDENTIALS_KEY (openssl rand -base64 32), the key that encrypts the credentials kept in Redis"))
	}
	return problems
}

// validHostname reports whether s looks like a host name (letters, digits,
// dots and hyphens).
func validHostname(s string) bool {
	const hostnameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"
	return len(s) <= 253 && strings.Trim(s, hostnameChars) == ""
}

// shortDuration formats d without trailing zero units: 35s, 5m, 1h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
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
	if err := credentials.ValidateMemberID(cfg.WorkableMemberID); err != nil {
		problems = append(problems, fmt.Errorf("WORKABLE_MEMBER_ID must be the id of a member of the account (see the members query), "+
			"1 to %d ASCII letters, digits, hyphens or underscores, got %q", workable.MaxIDLen, cfg.WorkableMemberID))
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

// loadSecurity reads the settings of credentials, access control and
// limits into cfg and returns the problems found; env has the defaults
// filled in, getenv not. No message repeats a secret (CREDENTIALS_KEY,
// GATEWAY_API_KEYS).
func loadSecurity(env, getenv func(string) string, cfg *config) []error {
	var problems []error
	if v := env("CREDENTIALS_KEY"); strings.TrimSpace(v) != "" {
		key, err := credentials.ParseKey(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("CREDENTIALS_KEY: %w", err))
		}
		cfg.CredentialsKey = key
	}
	keys, err := access.ParseKeys(env("GATEWAY_API_KEYS"))
	if err != nil {
		problems = append(problems, fmt.Errorf("GATEWAY_API_KEYS: %w", err))
	}
	cfg.APIKeys = keys
	cfg.CORSAllowedOrigins = append(cfg.CORSAllowedOrigins, listSetting(env, "CORS_ALLOWED_ORIGINS",
		"origins such as https://dash.example.com or http://localhost:* (any port), or *", validOrigin, &problems)...)
	boolSetting(env, "GATEWAY_INTROSPECTION", &cfg.Introspection, &problems)
	boolSetting(env, "GATEWAY_PLAYGROUND", &cfg.Playground, &problems)
	if v := env("MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 || n > 64<<20 {
			problems = append(problems, fmt.Errorf("MAX_BODY_BYTES must be a number of bytes from 1024 to 67108864, got %q", v))
		}
		cfg.MaxBodyBytes = n
	}
	// REQUEST_TIMEOUT wins over its older name QUERY_TIMEOUT, which wins
	// over REQUEST_TIMEOUT's default.
	durationSetting(env, "REQUEST_TIMEOUT", &cfg.RequestTimeout, &problems)
	var older time.Duration
	durationSetting(env, "QUERY_TIMEOUT", &older, &problems)
	if older > 0 && getenv("REQUEST_TIMEOUT") == "" {
		cfg.RequestTimeout = older
	}
	durationSetting(env, "WORKABLE_CALL_TIMEOUT", &cfg.WorkableCallTimeout, &problems)
	if v := env("CLIENT_RATE_LIMIT"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0 && f <= 1e6) {
			problems = append(problems, fmt.Errorf("CLIENT_RATE_LIMIT must be requests per second (0 turns it off), got %q", v))
		}
		cfg.ClientRateLimit = f
	}
	intSetting(env, "CLIENT_RATE_BURST", 0, 1e6, &cfg.ClientRateBurst, &problems)
	intSetting(env, "QUERY_MAX_COMPLEXITY", 1, 1e7, &cfg.ComplexityLimit, &problems)
	intSetting(env, "QUERY_MAX_DEPTH", 1, 1000, &cfg.QueryLimits.MaxDepth, &problems)
	intSetting(env, "QUERY_MAX_ALIASES", 1, 1e5, &cfg.QueryLimits.MaxAliases, &problems)
	intSetting(env, "QUERY_MAX_ROOT_FIELDS", 1, 1e5, &cfg.QueryLimits.MaxRootFields, &problems)
	intSetting(env, "QUERY_MAX_FIELDS", 1, 1e6, &cfg.QueryLimits.MaxFields, &problems)
	intSetting(env, "QUERY_MAX_TOKENS", 10, 1e6, &cfg.QueryLimits.MaxTokens, &problems)
	intSetting(env, "SUBSCRIPTIONS_PER_CLIENT", 1, 1e5, &cfg.SubscriptionsPerClient, &problems)
	durationSetting(env, "SUBSCRIPTION_HEARTBEAT", &cfg.SubscriptionHeartbeat, &problems)
	return problems
}

// listSetting reads the comma-separated setting name: its items, trimmed,
// without empty ones, that valid accepts. Every other item is a problem
// saying that name must list want.
func listSetting(env func(string) string, name, want string, valid func(string) bool, problems *[]error) []string {
	var out []string
	for _, item := range strings.Split(env(name), ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !valid(item) {
			*problems = append(*problems, fmt.Errorf("%s must list %s, got %q", name, want, item))
			continue
		}
		out = append(out, item)
	}
	return out
}

// validOrigin reports whether o is an allowed CORS origin: *, an http or
// https origin, or scheme://host:* (every port of the host).
func validOrigin(o string) bool {
	if o == "*" {
		return true
	}
	u, err := url.Parse(strings.TrimSuffix(o, ":*"))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && (u.Path == "" || u.Path == "/") && u.RawQuery == "" &&
		!(strings.HasSuffix(o, ":*") && (u.Port() != "" || u.Path != ""))
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
