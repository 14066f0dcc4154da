package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/workable"
)

// Defaults of RedisLimiter.
const (
	// DefaultSafetyMargin is added to the window so that requests admitted at
	// the edges of two windows do not reach Workable within one of its own.
	DefaultSafetyMargin = 250 * time.Millisecond
	// DefaultLimiterTimeout bounds each call to Redis made by the limiter.
	DefaultLimiterTimeout = 100 * time.Millisecond
)

// admitScript is the sliding-window log. Atomically, with Redis server time
// (so that the gateways' clocks do not matter) it:
//   - refuses while the "blocked until" key (set by Observe) lies ahead;
//   - drops log entries older than the window and counts the rest;
//   - refuses a read while a write is waiting (writers go first when the
//     budget is tight);
//   - admits when the count is below the limit by adding a unique member,
//     else returns the milliseconds until the oldest entry leaves.
//
// A refused write registers itself in the writers set with an expiry
// (score = server ms after which it no longer counts), so that a crashed
// process cannot hold reads back for long; its admission removes it.
//
// KEYS: log, writers, blocked. ARGV: limit, window ms, write (0|1), member,
// writer expiry ms, read poll ms. Returns {admitted 0|1, wait ms, server ms}.
var admitScript = redis.NewScript(`
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local write = ARGV[3] == '1'
local member = ARGV[4]
local wttl = tonumber(ARGV[5])
local poll = tonumber(ARGV[6])

local function refuse(wait)
  if write then
    redis.call('ZADD', KEYS[2], now + wttl, member)
    redis.call('PEXPIRE', KEYS[2], wttl)
  end
  return {0, wait, now}
end

local blocked = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
if blocked > now then
  return refuse(blocked - now)
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local wait = 0
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  wait = tonumber(oldest[2]) + window - now
  if wait < 1 then wait = 1 end
end

if not write then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) > 0 then
    if wait == 0 then wait = poll end
    return {0, wait, now}
  end
end

if count >= limit then
  return refuse(wait)
end
redis.call('ZADD', KEYS[1], now, member)
redis.call('PEXPIRE', KEYS[1], window)
if write then
  redis.call('ZREM', KEYS[2], member)
end
return {1, 0, now}
`)

// blockScript makes the limiter refuse everything for ARGV[1] ms from now
// (server time), unless it already blocks for longer. KEYS: blocked.
var blockScript = redis.NewScript(`
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if untilMs > cur then
  redis.call('SET', KEYS[1], untilMs, 'PX', ARGV[1])
end
return 0
`)

// RedisLimiter is a workable.RateLimiter whose state lives in Redis, so that
// several gateway processes sharing one Workable token together stay inside
// its budget. It keeps a sliding-window log of admissions in a sorted set,
// updated atomically by a Lua script that reads the Redis server's clock.
//
// When the budget is tight, writes go before reads: a write that has to wait
// registers itself, and reads are refused while one is registered. When Redis
// is unreachable (or slow), the limiter uses its local fallback instead, for
// a cool-down, then tries Redis again.
type RedisLimiter struct {
	client     redis.UniversalClient
	logKey     string
	writersKey string
	blockedKey string
	limit      int
	window     time.Duration
	margin     time.Duration
	timeout    time.Duration
	poll       time.Duration
	fallback   workable.RateLimiter
	now        func() time.Time
	breaker    *breaker

	id  string
	seq atomic.Uint64

	// onAdmit and onRefuse are test hooks, called with the Redis server time
	// (ms) of each decision made in Redis.
	onAdmit  func(serverMs int64, p workable.Priority)
	onRefuse func(serverMs int64, p workable.Priority, wait time.Duration)
}

var _ workable.RateLimiter = (*RedisLimiter)(nil)

// LimiterOption configures a RedisLimiter.
type LimiterOption func(*RedisLimiter)

// WithFallback sets the limiter used while Redis is unreachable. Each
// process then counts on its own, so give it a share of the budget if many
// replicas run. Without this option the limiter falls back to an in-process
// sliding window of the same limit and window (which ignores priorities).
func WithFallback(l workable.RateLimiter) LimiterOption {
	return func(r *RedisLimiter) { r.fallback = l }
}

// WithSafetyMargin sets how much is added to the window (default
// DefaultSafetyMargin, capped at a tenth of the window).
func WithSafetyMargin(d time.Duration) LimiterOption {
	return func(r *RedisLimiter) { r.margin = max(d, 0) }
}

// WithLimiterTimeout bounds each call to Redis (default DefaultLimiterTimeout).
func WithLimiterTimeout(d time.Duration) LimiterOption {
	return func(r *RedisLimiter) { r.timeout = d }
}

// WithLimiterCoolDown sets how long the fallback is used after Redis fails
// before Redis is tried again (default DefaultCoolDown).
func WithLimiterCoolDown(d time.Duration) LimiterOption {
	return func(r *RedisLimiter) { r.breaker.coolDown = d }
}

// WithLimiterClock makes the limiter read the time from now for its circuit
// breaker and for turning a Rate's Reset into a duration. Admission itself
// always uses the Redis server's clock.
func WithLimiterClock(now func() time.Time) LimiterOption {
	return func(r *RedisLimiter) {
		r.now = now
		r.breaker.now = now
	}
}

// NewRedisLimiter returns a limiter admitting at most limit requests per
// window (plus the safety margin) for everyone using key on the same Redis.
// key names the shared budget, e.g. Namespace(subdomain, token)+"rate"; the
// limiter's keys are built from it with one hash tag, so that they live in
// one cluster slot. A limit below 1 counts as 1; a non-positive window as
// 10 s, Workable's interval.
func NewRedisLimiter(client redis.UniversalClient, key string, limit int, window time.Duration, opts ...LimiterOption) *RedisLimiter {
	limit = max(limit, 1)
	if window <= 0 {
		window = 10 * time.Second
	}
	tag := "{" + key + "}"
	var id [8]byte
	_, _ = rand.Read(id[:]) // never fails (crypto/rand)
	r := &RedisLimiter{
		client:     client,
		logKey:     tag + ":log",
		writersKey: tag + ":writers",
		blockedKey: tag + ":blocked",
		limit:      limit,
		window:     window,
		margin:     min(DefaultSafetyMargin, window/10),
		timeout:    DefaultLimiterTimeout,
		poll:       max(window/time.Duration(limit)/10, 5*time.Millisecond),
		now:        time.Now,
		breaker:    newBreaker(time.Now, DefaultCoolDown),
		id:         hex.EncodeToString(id[:]),
	}
	for _, o := range opts {
		o(r)
	}
	if r.fallback == nil {
		// The fallback waits in real time, whatever clock the breaker reads.
		r.fallback = newLocalLimiter(limit, window+r.margin, time.Now)
	}
	return r
}

// Healthy reports whether the last call to Redis succeeded.
func (r *RedisLimiter) Healthy() bool { return r.breaker.healthy() }

// Wait blocks until one request of priority p may be sent. It returns an
// error wrapping workable.ErrRateLimited at once when the wait would outlast
// ctx's deadline, and ctx.Err() when ctx ends first.
func (r *RedisLimiter) Wait(ctx context.Context, p workable.Priority) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	write := p >= workable.PriorityWrite
	member := r.id + ":" + strconv.FormatUint(r.seq.Add(1), 36)
	registered := false
	defer func() {
		if registered {
			r.unregister(ctx, member)
		}
	}()
	for {
		if !r.breaker.allow() {
			return r.fallback.Wait(ctx, p)
		}
		admitted, wait, serverMs, err := r.admit(ctx, member, write)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.breaker.failure()
			return r.fallback.Wait(ctx, p)
		}
		r.breaker.success()
		if admitted {
			registered = false // the script removed it
			if r.onAdmit != nil {
				r.onAdmit(serverMs, p)
			}
			return nil
		}
		registered = registered || write
		if r.onRefuse != nil {
			r.onRefuse(serverMs, p, wait)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return fmt.Errorf("wait %v for the rate budget: %w", wait, workable.ErrRateLimited)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// admit runs the admission script once.
func (r *RedisLimiter) admit(ctx context.Context, member string, write bool) (admitted bool, wait time.Duration, serverMs int64, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	w := "0"
	if write {
		w = "1"
	}
	windowMs := (r.window + r.margin).Milliseconds()
	// A waiting write re-registers on every retry, at most a window apart;
	// two windows of grace cover a slow retry without letting a crashed
	// process hold reads back for long.
	writerTTL := 2 * windowMs
	res, err := admitScript.Run(ctx, r.client,
		[]string{r.logKey, r.writersKey, r.blockedKey},
		r.limit, windowMs, w, member, writerTTL, max(r.poll.Milliseconds(), 1),
	).Int64Slice()
	if err != nil {
		return false, 0, 0, fmt.Errorf("rate limiter admit: %w", err)
	}
	if len(res) != 3 {
		return false, 0, 0, errors.New("rate limiter admit: unexpected reply")
	}
	return res[0] == 1, time.Duration(res[1]) * time.Millisecond, res[2], nil
}

// unregister removes a write that gave up from the writers set, so that it
// does not hold reads back.
func (r *RedisLimiter) unregister(ctx context.Context, member string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
	defer cancel()
	if err := r.client.ZRem(ctx, r.writersKey, member).Err(); err != nil {
		r.breaker.failure()
	}
}

// Observe keeps the limiter in step with Workable's X-Rate-Limit-* headers:
// when Remaining is 0 every process is held back until Reset plus the safety
// margin (at most two windows from now, in case clocks disagree). A Rate
// without a Reset (headers absent) says nothing about the budget and is
// ignored, as is a positive Remaining: responses arrive out of order, so it
// is no reliable bound, while the shared log already bounds the traffic. The
// rate is also passed to the fallback limiter.
func (r *RedisLimiter) Observe(rt workable.Rate) {
	r.fallback.Observe(rt)
	if rt.Reset.IsZero() || rt.Remaining > 0 {
		return
	}
	d := min(rt.Reset.Sub(r.now())+r.margin, 2*r.window)
	if d <= 0 || !r.breaker.allow() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	ms := max(d.Milliseconds(), 1)
	if err := blockScript.Run(ctx, r.client, []string{r.blockedKey}, ms).Err(); err != nil {
		r.breaker.failure()
		return
	}
	r.breaker.success()
}

// localLimiter is the default fallback: an in-process sliding-window log of
// the last limit admissions. It ignores priorities.
type localLimiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu           sync.Mutex
	times        []time.Time // admissions within the window, oldest first
	blockedUntil time.Time
}

func newLocalLimiter(limit int, window time.Duration, now func() time.Time) *localLimiter {
	return &localLimiter{limit: limit, window: window, now: now}
}

// Wait admits one request, waiting for a slot like RedisLimiter.Wait.
func (l *localLimiter) Wait(ctx context.Context, _ workable.Priority) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		wait := l.tryAdmit()
		if wait == 0 {
			return nil
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return fmt.Errorf("wait %v for the local rate budget: %w", wait, workable.ErrRateLimited)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// tryAdmit admits and returns 0, or returns how long to wait.
func (l *localLimiter) tryAdmit() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Before(l.blockedUntil) {
		return l.blockedUntil.Sub(now)
	}
	i := 0
	for i < len(l.times) && !now.Before(l.times[i].Add(l.window)) {
		i++
	}
	l.times = l.times[i:]
	if len(l.times) >= l.limit {
		return max(l.times[0].Add(l.window).Sub(now), time.Millisecond)
	}
	l.times = append(l.times, now)
	return 0
}

// Observe holds admissions back until Reset when Remaining is 0, with the
// same rules as RedisLimiter.Observe.
func (l *localLimiter) Observe(rt workable.Rate) {
	if rt.Reset.IsZero() || rt.Remaining > 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	until := minTime(rt.Reset, l.now().Add(2*l.window))
	if until.After(l.blockedUntil) {
		l.blockedUntil = until
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
