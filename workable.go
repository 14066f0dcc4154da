package main

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/ratebudget"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// The gateway's Workable side: the cache of Workable answers, and the
// credentials registry that builds each credential's client (with its rate
// budget) and economy (upstream.Economy) once.

// newCredentials returns the gateway's credentials registry: def as the
// default credential, each credential's economy reading through the cache
// (newStore) with the gateway's TTLs, response cache and observers. It
// builds the default credential's client at once: loadConfig applies the
// same rules, but whatever workable.NewClient still refuses must stop the
// gateway at startup, not turn every /query into a 503 while /readyz says
// ready. No upstream call is made.
func newCredentials(ctx context.Context, cfg config, obs *observability, rdb redis.UniversalClient, replicas *ratebudget.Replicas,
	def credentials.Credential, baseURL string) (*credentials.Registry, error) {
	ucfg := upstream.Config{
		Cache:           newStore(cfg, rdb),
		NamespacePrefix: cfg.CachePrefix,
		TTLs:            cfg.ttls(),
		ResponseCache:   cfg.ResponseCache,
		LocalTierBytes:  cfg.localTierBytes(),
		Logger:          obs.logger,
	}
	obs.configureUpstream(&ucfg)
	registry, err := newRegistry(cfg, rdb, &def, newClientFactory(cfg, obs, rdb, replicas, baseURL), ucfg)
	if err != nil {
		return nil, err
	}
	if _, _, err := registry.Economy(ctx, credentials.DefaultNickname); err != nil {
		return nil, fmt.Errorf("check WORKABLE_SUBDOMAIN, WORKABLE_API_TOKEN and WORKABLE_BASE_URL: %w", err)
	}
	return registry, nil
}

// newStore returns the cache of Workable answers: Redis when rdb is set
// (shared by every replica; when Redis is down or slow the store fails fast,
// with short timeouts and then a circuit breaker, so requests go straight to
// Workable and the cache comes back by itself), else in process, bounded by
// CACHE_MAX_BYTES.
func newStore(cfg config, rdb redis.UniversalClient) cache.Store {
	if rdb != nil {
		return cache.NewRedis(rdb)
	}
	return cache.NewMemory(cfg.CacheMaxBytes)
}

// newRegistry returns the gateway's credentials: def (from the environment,
// or the simulator's in demo mode) as the default, in front of the
// credentials added through the API, kept in Redis encrypted with
// CREDENTIALS_KEY (without the key adding is refused) or, without Redis, in
// memory. Each credential's economy is built with newClient and ucfg.
func newRegistry(cfg config, rdb redis.UniversalClient, def *credentials.Credential,
	newClient func(credentials.Credential) (*workable.Client, error), ucfg upstream.Config) (*credentials.Registry, error) {
	var store credentials.Store = credentials.NewMemoryStore()
	if rdb != nil {
		rs, err := credentials.NewRedisStore(rdb, cfg.CachePrefix+"wgw:", cfg.CredentialsKey)
		if err != nil {
			return nil, fmt.Errorf("credential store: %w", err)
		}
		store = rs
	}
	return credentials.NewRegistry(store, def, newClient, credentials.WithUpstream(ucfg)), nil
}

// newClientFactory returns how the Registry builds the Workable client of a
// credential: its own rate budget (in Redis under the credential's
// namespace when REDIS_URL is set, shared by every replica; else in
// process), the observability options, the per-call timeout, and
// WORKABLE_BASE_URL (or the simulator's) as the base of every credential.
//
// The budget starts at Workable's lowest documented one (10 per 10 s) and
// follows the X-Rate-Limit-Limit Workable announces for the token (50 for
// OAuth and partner tokens); WORKABLE_RATE_LIMIT pins it instead. While
// Redis is unreachable a replica sends at most its share of the budget, by
// the count of replicas (nil: it waits for Redis instead), and says so in
// the log and in ratelimit_local_share.
func newClientFactory(cfg config, obs *observability, rdb redis.UniversalClient, replicas *ratebudget.Replicas, baseURL string) func(credentials.Credential) (*workable.Client, error) {
	limit := workableLimit
	var windowOpts []workable.LimiterOption
	var redisOpts []ratebudget.Option
	if cfg.WorkableRateLimit > 0 {
		limit = cfg.WorkableRateLimit
		windowOpts = append(windowOpts, workable.WithFixedLimit())
		redisOpts = append(redisOpts, ratebudget.WithFixedLimit())
	}
	return func(c credentials.Credential) (*workable.Client, error) {
		var limiter workable.RateLimiter
		if rdb != nil {
			ns := cfg.CachePrefix + cache.Namespace(c.Subdomain, c.Token)
			limiter = ratebudget.NewLimiter(rdb, ns+"rate", limit, workableWindow,
				append([]ratebudget.Option{
					ratebudget.WithReplicas(replicas),
					ratebudget.WithLogger(obs.logger.With("credential", c.Nickname)),
					ratebudget.WithShareHook(func(n int) { obs.metrics.SetLocalShare(c.Nickname, n) }),
				}, redisOpts...)...)
		} else {
			limiter = workable.NewWindowLimiter(limit, workableWindow, windowOpts...)
		}
		opts := append(obs.workableOptions(c.Nickname, limiter),
			workable.WithRequestHook(upstream.CountWorkableCalls),
			workable.WithRequestTimeout(cfg.WorkableCallTimeout))
		if baseURL != "" {
			opts = append(opts, workable.WithBaseURL(baseURL))
		}
		client, err := workable.NewClient(c.Subdomain, c.Token, opts...)
		if err != nil {
			return nil, fmt.Errorf("create the Workable client of credential %q: %w", c.Nickname, err)
		}
		return client, nil
	}
}

// Workable's budget for account tokens, 10 requests per 10 seconds: where
// every credential's limiter starts before it adopts the limit Workable
// announces (or the one WORKABLE_RATE_LIMIT pins).
const (
	workableLimit  = 10
	workableWindow = 10 * time.Second
)
