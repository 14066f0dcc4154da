package ratebudget

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/redisconn"
	"github.com/workablegw/gateway/workable"
)

// Defaults of Limiter.
const (
	// DefaultSafetyMargin is added to the window so that requests admitted at
	// the edges of two windows do not reach Workable within one of its own.
	DefaultSafetyMargin = 250 * time.Millisecond
	// DefaultTimeout bounds each call to Redis made by the limiter
	// (measured: see redisconn.DefaultTimeout).
	DefaultTimeout = redisconn.DefaultTimeout
)

// admitScript is the sliding-window log. Atomically, with Redis server time
// (so that the gateways' clocks do not matter) it:
//   - takes the limit: the one Workable announced for the token (kept in
//     the limit key by Observe, so that every replica uses the same), else
//     the limiter's own (ARGV[1]); a fixed limiter always uses its own;
//   - refuses while the "blocked until" key (set by Observe) lies ahead;
//   - drops log entries older than the window and counts the rest;
//   - refuses a read while a write is waiting (writers go first when the
//     budget is tight);
//   - refuses a background call (workable.PriorityBackground) while a user
//     call (any other priority) is waiting on any replica, so that the
//     background takes only slots no user wants;
//   - refuses a call while a live ticket of another replica comes before
//     its own (see below), so that a freed slot goes to the caller that has
//     waited longest, whichever replica it is on;
//   - admits when the count is below the limit by adding a unique member,
//     else returns the milliseconds until the oldest entry leaves.
//
// The tickets keep callers first come, first served within a priority
// across replicas: a caller that has to wait (refused, or queued in its
// process behind others, see ticketScript) takes a ticket scored by its
// priority (higher first) and then the server time it took it, once; its
// admission or give-up removes it. A replica's place is its earliest
// ticket: a caller is admitted only when the first ticket is its own
// replica's (within a process the local queue orders callers, so the
// replica holding the first ticket always has a caller asking, and no two
// replicas can wait for each other).
//
// A refused write registers itself in the writers set, and a refused user
// call (a write or a user read) in the waiters set, with an expiry (score =
// server ms after which it no longer counts), so that a crashed process
// cannot hold reads or the background back for long; its admission removes
// it.
//
// KEYS: log, writers, blocked, limit, waiters, tickets, ticket expiries.
// ARGV: limit, window ms, write (0|1), member, writer expiry ms, read poll
// ms, fixed (0|1), user (0|1: any priority above
// workable.PriorityBackground), priority, the replica's member prefix.
// Returns {admitted
// 0|1, wait ms, server ms, limit, blocked until ms, then the server ms of
// the most recent limit entries of the log, oldest first}: the picture the
// process uses to tell its queued callers whether their slots can come
// before their deadlines.
var admitScript = redis.NewScript(`
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
` + ticketLua + `
local limit = tonumber(ARGV[1])
if ARGV[7] ~= '1' then
  local adopted = tonumber(redis.call('GET', KEYS[4]) or '')
  if adopted and adopted > 0 then limit = adopted end
end
local window = tonumber(ARGV[2])
local write = ARGV[3] == '1'
local member = ARGV[4]
local wttl = tonumber(ARGV[5])
local poll = tonumber(ARGV[6])
local user = ARGV[8] == '1'
local blocked = tonumber(redis.call('GET', KEYS[3]) or '0') or 0

-- register puts the caller in the writers or waiters set at key.
local function register(key)
  redis.call('ZADD', key, now + wttl, member)
  redis.call('PEXPIRE', key, wttl)
end

local function refuse(wait)
  takeTicket()
  if write then register(KEYS[2]) end
  if user then register(KEYS[5]) end
  local out = {0, wait, now, limit, blocked}
  local log = redis.call('ZRANGE', KEYS[1], -limit, -1, 'WITHSCORES')
  for i = 2, #log, 2 do out[#out + 1] = tonumber(log[i]) end
  return out
end

if blocked > now then
  return refuse(blocked - now)
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local wait = 0
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  wait = tonumber(oldest[2]) + window - now
  if wait < 1 then wait = 1 end
end

-- pending drops the expired entries of the writers or waiters set at key
-- and reports whether any is left: reads wait for writers, the background
-- for user calls.
local function pending(key)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  return redis.call('ZCARD', key) > 0
end

if (not write and pending(KEYS[2])) or (not user and pending(KEYS[5])) then
  if wait == 0 then wait = poll end
  return refuse(wait)
end

if count >= limit then
  return refuse(wait)
end
if ticketAhead() then
  return refuse(poll)
end
redis.call('ZADD', KEYS[1], now, member)
redis.call('ZREM', KEYS[6], member)
redis.call('ZREM', KEYS[7], member)
redis.call('PEXPIRE', KEYS[1], window)
if write then
  redis.call('ZREM', KEYS[2], member)
end
if user then
  redis.call('ZREM', KEYS[5], member)
end
return {1, 0, now, limit, blocked}
`)

// ticketLua is the part of admitScript and ticketScript that keeps the
// tickets (KEYS[6], scored by order) and their expiries (KEYS[7], scored by
// the server ms after which a ticket no longer counts, so that a crashed
// process cannot hold the others back for long). It needs t and now (the
// server's TIME), and ARGV[4] member, ARGV[5] expiry ms, ARGV[9] priority,
// ARGV[10] the replica's member prefix. A ticket's score is the priority
// (2^42 ms apart, higher first) then the server time in ms with its
// microseconds, exact to a few microseconds in a double.
const ticketLua = `
local function takeTicket()
  local exact = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
  local score = exact - tonumber(ARGV[9]) * 4398046511104
  redis.call('ZADD', KEYS[6], 'NX', score, ARGV[4])
  redis.call('ZADD', KEYS[7], now + tonumber(ARGV[5]), ARGV[4])
  redis.call('PEXPIRE', KEYS[6], ARGV[5])
  redis.call('PEXPIRE', KEYS[7], ARGV[5])
end
local function dropExpiredTickets()
  local gone = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', now)
  for _, m in ipairs(gone) do redis.call('ZREM', KEYS[6], m) end
  redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now)
end
local function ticketAhead()
  dropExpiredTickets()
  if redis.call('ZCARD', KEYS[6]) == 0 then return false end
  takeTicket()
  local first = redis.call('ZRANGE', KEYS[6], 0, 0)[1]
  return string.sub(first, 1, #ARGV[10]) ~= ARGV[10]
end
`

// ticketScript takes a ticket (see admitScript) for a caller queued in its
// process behind others, so that its place across replicas is its arrival,
// not the time it reaches the head of its process's queue. Taken again, it
// renews the ticket's lease and keeps its place, and renews the caller's
// registration as a waiting write (ARGV[3]) or user call (ARGV[8]) if it
// has one. KEYS and ARGV as admitScript's (the unused ones empty).
var ticketScript = redis.NewScript(`
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
` + ticketLua + `
dropExpiredTickets()
takeTicket()
local expiry = now + tonumber(ARGV[5])
if ARGV[3] == '1' then redis.call('ZADD', KEYS[2], 'XX', expiry, ARGV[4]) end
if ARGV[8] == '1' then redis.call('ZADD', KEYS[5], 'XX', expiry, ARGV[4]) end
return 0
`)

// budgetScript reads the budget without changing it. KEYS: log, blocked,
// limit. ARGV: limit, window ms, fixed (0|1). Returns {server ms, limit,
// blocked until ms, then the server ms of every entry within the window,
// oldest first}.
var budgetScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
if ARGV[3] ~= '1' then
  local adopted = tonumber(redis.call('GET', KEYS[3]) or '')
  if adopted and adopted > 0 then limit = adopted end
end
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
local out = {now, limit, blocked}
local log = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - tonumber(ARGV[2])), '+inf', 'WITHSCORES')
for i = 2, #log, 2 do out[#out + 1] = tonumber(log[i]) end
return out
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

// adoptedLimitTTL is how long an adopted limit is kept in Redis after the
// last response that confirmed it; adoptedLimitRefresh is how often a
// process that keeps seeing the same limit writes it again.
const (
	adoptedLimitTTL     = 24 * time.Hour
	adoptedLimitRefresh = time.Hour
)

// Limiter is a workable.RateLimiter whose state lives in Redis, so that
// several gateway processes sharing one Workable token together stay inside
// its budget. It keeps a sliding-window log of admissions in a sorted set,
// updated atomically by a Lua script that reads the Redis server's clock.
//
// The limit starts at the limiter's own and follows the X-Rate-Limit-Limit
// Workable announces for the token (unless WithFixedLimit): the adopted
// limit is kept in Redis, so every replica uses the one any of them saw.
//
// When the budget is tight, writes go before reads: a write that has to wait
// registers itself, and reads are refused while one is registered. Likewise
// user calls go before background calls (workable.PriorityBackground) across
// replicas: a user call that has to wait registers itself, and background
// calls are refused, and wait, while one is registered. Within a
// priority callers are served first come, first served across replicas:
// a waiting caller holds a ticket in Redis, and a freed slot goes to the
// earliest ticket, whichever replica holds it. Within a
// process, callers queue locally in the order of workable.WindowLimiter
// (priority, then workable.RankFrom, then arrival) and only the first of
// them asks Redis, so the process's share of the budget goes to its callers
// in that order; a queued caller whose slot cannot come before its deadline
// fails at once.
//
// When Redis does not answer (down, paused, failing over, or slower than the
// timeout), the limiter never falls back to the whole budget: every other
// replica may be counting on its own too. For one span (window plus margin)
// after the first failure, callers wait for Redis, retried after each
// cool-down; a blip costs them a little latency and no budget. After that
// span every send the shared log admitted before the outage has left the
// window, and the replica sends at most its share: the limit divided by the
// live replicas it last saw (Replicas), rounded down, at least 1 per window,
// through an in-process workable.WindowLimiter, which it says in a warning
// and through WithShareHook. A replica that never saw the replica count
// (Redis was down from its start) takes the least share, 1 per window;
// without WithReplicas the limiter only waits for Redis. When Redis answers again, the replica first
// writes into the shared log the sends its share made within the span and,
// for the other replicas that may still be counting on their own, their
// shares, so that the first window after the outage cannot hold more than
// the limit. A replica cut off from a Redis the others still reach (a
// network partition) is the one case this cannot bound: it spends its share
// on top of the others' whole budget until it reaches Redis again.
type Limiter struct {
	client     redis.UniversalClient
	logKey     string
	writersKey string
	waitersKey string
	ticketsKey string
	expiryKey  string
	blockedKey string
	limitKey   string
	limit      int
	fixed      bool
	window     time.Duration
	margin     time.Duration
	timeout    time.Duration
	poll       time.Duration
	coolDown   time.Duration
	breaker    *redisconn.Breaker
	queue      localQueue
	replicas   *Replicas
	logger     *slog.Logger
	onShare    func(share int)

	// share is what the replica may send on its own while Redis is
	// unreachable (see Limiter); its limit is set when it is used.
	share *workable.WindowLimiter

	id  string
	seq atomic.Uint64

	// known is the limit last seen (adopted in Redis, announced by
	// Workable, or the limiter's own): the one an outage divides.
	known atomic.Int64

	// outageMu guards the state of the current Redis outage.
	outageMu sync.Mutex
	// since is the time of the first failure of the current outage; zero
	// while Redis answers.
	since time.Time
	// sharing is set while the share is in use; shareSends are the local
	// times of its sends, which go into the shared log when Redis answers
	// again (reconcile), with phantoms for the other replicas' shares.
	sharing    bool
	reconcile  bool
	shareSends []time.Time
	phantoms   int

	// adoptMu guards what this process last wrote to the limit key.
	adoptMu   sync.Mutex
	adopted   int
	adoptedAt time.Time
}

var (
	_ workable.RateLimiter    = (*Limiter)(nil)
	_ workable.BudgetReporter = (*Limiter)(nil)
)

// Option configures a Limiter.
type Option func(*Limiter)

// WithReplicas tells the limiter how many replicas share the budget, for
// its share while Redis is unreachable. Without it the limiter never uses
// a share: it waits for Redis.
func WithReplicas(r *Replicas) Option {
	return func(l *Limiter) { l.replicas = r }
}

// WithLogger sets where the limiter says that it lost or regained the
// shared budget (default: nowhere).
func WithLogger(logger *slog.Logger) Option {
	return func(l *Limiter) {
		if logger != nil {
			l.logger = logger
		}
	}
}

// WithShareHook sets a function called with the replica's share per window
// when it starts counting on its own, and with 0 when it is back on the
// shared budget (the ratelimit_local_share metric).
func WithShareHook(f func(share int)) Option {
	return func(l *Limiter) { l.onShare = f }
}

// WithSafetyMargin sets how much is added to the window (default
// DefaultSafetyMargin, capped at a tenth of the window).
func WithSafetyMargin(d time.Duration) Option {
	return func(r *Limiter) { r.margin = max(d, 0) }
}

// WithTimeout bounds each call to Redis (default DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return func(r *Limiter) { r.timeout = d }
}

// WithCoolDown sets how long Redis is left alone after it fails before it
// is tried again (default redisconn.DefaultCoolDown).
func WithCoolDown(d time.Duration) Option {
	return func(r *Limiter) { r.coolDown = d }
}

// WithFixedLimit pins the limiter to its own limit: the X-Rate-Limit-Limit
// of responses is neither adopted nor written to Redis, and a limit adopted
// by other replicas is ignored (WORKABLE_RATE_LIMIT).
func WithFixedLimit() Option {
	return func(r *Limiter) { r.fixed = true }
}

// NewLimiter returns a limiter admitting at most limit requests per
// window (plus the safety margin) for everyone using key on the same Redis,
// until Workable announces another limit (see Limiter). key names the
// shared budget, e.g. Namespace(subdomain, token)+"rate"; the limiter's keys
// are built from it with one hash tag, so that they live in one cluster
// slot. A limit below 1 counts as 1; a non-positive window as 10 s,
// Workable's interval.
func NewLimiter(client redis.UniversalClient, key string, limit int, window time.Duration, opts ...Option) *Limiter {
	limit = max(limit, 1)
	if window <= 0 {
		window = 10 * time.Second
	}
	tag := "{" + key + "}"
	var id [8]byte
	_, _ = rand.Read(id[:]) // never fails (crypto/rand)
	r := &Limiter{
		client:     client,
		logKey:     tag + ":log",
		writersKey: tag + ":writers",
		waitersKey: tag + ":waiters",
		ticketsKey: tag + ":tickets",
		expiryKey:  tag + ":tickets:expiry",
		blockedKey: tag + ":blocked",
		limitKey:   tag + ":limit",
		limit:      limit,
		window:     window,
		margin:     min(DefaultSafetyMargin, window/10),
		timeout:    DefaultTimeout,
		poll:       max(window/time.Duration(limit)/10, 5*time.Millisecond),
		coolDown:   redisconn.DefaultCoolDown,
		logger:     slog.New(slog.DiscardHandler),
		id:         hex.EncodeToString(id[:]),
	}
	for _, o := range opts {
		o(r)
	}
	r.known.Store(int64(limit))
	r.breaker = redisconn.NewBreaker(r.coolDown)
	// The share's limit is set when it is used.
	r.share = workable.NewWindowLimiter(1, window, workable.WithMargin(r.margin), workable.WithFixedLimit())
	return r
}

// Healthy reports whether the last call to Redis succeeded.
func (r *Limiter) Healthy() bool { return r.breaker.Healthy() }

// errRedisDown says that Redis did not answer; Wait goes on with the
// outage rules.
var errRedisDown = errors.New("rate limiter: redis did not answer")

// errUnexpectedReply is a script's answer that is not of its shape.
var errUnexpectedReply = errors.New("unexpected reply")

// Wait blocks until one request of priority p may be sent. It returns an
// error wrapping workable.ErrRateLimited (a *workable.BudgetError) at once
// when the wait would outlast ctx's deadline, and ctx.Err() when ctx ends
// first. While Redis is unreachable it waits for Redis, then uses the
// replica's share (see Limiter).
func (r *Limiter) Wait(ctx context.Context, p workable.Priority) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for {
		if r.breaker.Allow() {
			err := r.waitShared(ctx, p)
			if !errors.Is(err, errRedisDown) {
				return err
			}
		}
		share, retryAt := r.outagePlan()
		if share > 0 {
			return r.waitShare(ctx, p, share)
		}
		workable.NotifyQueued(ctx)
		now := time.Now()
		wait := max(retryAt.Sub(now), time.Millisecond)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return &workable.BudgetError{NextSlot: now.Add(wait), Wait: wait}
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

// outagePlan says what a caller does while Redis is unreachable: use the
// share (> 0) or wait for Redis until retryAt.
func (r *Limiter) outagePlan() (share int, retryAt time.Time) {
	now := time.Now()
	r.outageMu.Lock()
	defer r.outageMu.Unlock()
	if r.since.IsZero() {
		// The breaker is open but no failure was recorded here (a failure
		// of Observe or Budget): the outage starts now.
		r.since = now
	}
	retryAt = r.breaker.RetryAt()
	if !retryAt.After(now) {
		retryAt = now.Add(r.coolDown)
	}
	if end := r.since.Add(r.window + r.margin); now.Before(end) {
		if end.Before(retryAt) {
			retryAt = end
		}
		return 0, retryAt
	}
	if r.replicas == nil {
		return 0, retryAt
	}
	// A replica that never reached Redis cannot know how many share the
	// budget: it takes the least share, 1 per window.
	limit := int(r.known.Load())
	live := r.replicas.Live()
	share = 1
	if live > 0 {
		share = max(limit/live, 1)
	}
	// The share follows the replicas seen (SetLimit of the same is free).
	r.share.SetLimit(share)
	if !r.sharing {
		r.sharing = true
		r.reconcile = true
		r.logger.Warn("rate budget: Redis is unreachable; this replica now sends at most its share of the budget",
			"share", share, "limit", limit, "replicas", live, "window", r.window.String(), "unreachable_since", r.since)
		if r.onShare != nil {
			r.onShare(share)
		}
	}
	r.phantoms = max(r.phantoms, share*(live-1))
	return share, time.Time{}
}

// waitShare admits one send from the replica's share.
func (r *Limiter) waitShare(ctx context.Context, p workable.Priority, share int) error {
	if err := r.share.Wait(ctx, p); err != nil {
		return err
	}
	now := time.Now()
	r.outageMu.Lock()
	r.shareSends = append(r.shareSends, now)
	r.outageMu.Unlock()
	return nil
}

// redis is one call to Redis through the breaker (redisconn.Breaker.Do,
// bounded by the limiter's timeout), which also starts and ends outages:
// an open breaker fails it with redisconn.ErrUnavailable.
func (r *Limiter) redis(ctx context.Context, fn func(context.Context) error) error {
	err := r.breaker.Do(ctx, r.timeout, fn)
	switch {
	case err == nil:
		r.redisAnswered()
	case ctx.Err() == nil && !errors.Is(err, redisconn.ErrUnavailable):
		r.redisFailed()
	}
	return err
}

// redisFailed records that Redis did not answer (the breaker knows).
func (r *Limiter) redisFailed() {
	now := time.Now()
	r.outageMu.Lock()
	defer r.outageMu.Unlock()
	if r.since.IsZero() {
		r.since = now
		r.logger.Warn("rate budget: Redis does not answer; callers wait for it, for one window at most, before this replica counts on its own share",
			"window", (r.window + r.margin).String())
	}
}

// redisAnswered records that Redis answered (the breaker knows).
func (r *Limiter) redisAnswered() {
	r.outageMu.Lock()
	defer r.outageMu.Unlock()
	if r.since.IsZero() {
		return
	}
	wasSharing := r.sharing
	r.since, r.sharing = time.Time{}, false
	if wasSharing {
		r.logger.Info("rate budget: Redis answers again; back on the shared budget")
		if r.onShare != nil {
			r.onShare(0)
		}
	}
}

// reconcileScript writes sends made without Redis into the shared log.
// KEYS: log. ARGV: span ms, member prefix, then the age (ms before the
// server's now) of each send.
var reconcileScript = redis.NewScript(`
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local span = tonumber(ARGV[1])
for i = 3, #ARGV do
  local at = now - tonumber(ARGV[i])
  if at > now - span then
    redis.call('ZADD', KEYS[1], at, ARGV[2] .. ':' .. i)
  end
end
redis.call('PEXPIRE', KEYS[1], span)
return 0
`)

// reconcileOutage writes, once Redis answers after the replica used its
// share, the share's sends within the span and the phantom sends of the
// other replicas' shares into the shared log.
func (r *Limiter) reconcileOutage(ctx context.Context) error {
	now := time.Now()
	span := r.window + r.margin
	r.outageMu.Lock()
	if !r.reconcile {
		r.outageMu.Unlock()
		return nil
	}
	args := []any{span.Milliseconds(), r.id + ":o" + strconv.FormatUint(r.seq.Add(1), 36)}
	for _, t := range r.shareSends {
		if age := now.Sub(t); age < span {
			args = append(args, max(age.Milliseconds(), 0))
		}
	}
	for range r.phantoms {
		args = append(args, 0)
	}
	r.outageMu.Unlock()

	err := r.redis(ctx, func(ctx context.Context) error {
		return reconcileScript.Run(ctx, r.client, []string{r.logKey}, args...).Err()
	})
	if err != nil {
		return fmt.Errorf("rate limiter reconcile: %w", err)
	}
	r.outageMu.Lock()
	r.reconcile, r.shareSends, r.phantoms = false, nil, 0
	r.outageMu.Unlock()
	return nil
}

// waitShared waits for the shared budget in Redis; it returns errRedisDown
// when Redis does not answer.
func (r *Limiter) waitShared(ctx context.Context, p workable.Priority) error {
	w, err := r.queue.join(ctx, p)
	workable.NotifyQueued(ctx)
	if err != nil {
		return err
	}
	defer r.queue.leave(w)
	write := p >= workable.PriorityWrite
	member := r.id + ":" + strconv.FormatUint(r.seq.Add(1), 36)
	registered := false
	defer func() {
		if registered {
			r.unregister(ctx, member, write)
		}
	}()
	if !r.queue.isHead(w) {
		// Its place across replicas is kept from now; if Redis does not
		// answer, the head finds out and the outage rules apply.
		registered = r.takeTicket(ctx, member, p) == nil
	}
	// While it waits its turn in this process, a caller holding a ticket
	// renews its lease every span (the lease is two), so that however long
	// the callers ahead of it take, it keeps its place across replicas.
	renew := func() {
		if registered {
			_ = r.takeTicket(ctx, member, p)
		}
	}
	for {
		if err := r.queue.awaitTurn(ctx, w, r.window+r.margin, renew); err != nil {
			return err
		}
		if !r.breaker.Allow() {
			return errRedisDown
		}
		if err := r.reconcileOutage(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errRedisDown
		}
		res, err := r.admit(ctx, member, p)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errRedisDown
		}
		if !r.fixed {
			r.known.Store(int64(res.limit))
		}
		if res.admitted {
			registered = false // the script removed it
			return nil
		}
		registered = true // its ticket, and its registration as a user call
		local := time.Now()
		r.queue.delayed(w)
		// Callers queued behind this one cannot go before this one's slot
		// nor before the log lets them: fail those whose deadlines come
		// first.
		r.queue.project(res.picture(local, r.window+r.margin))
		if w.Misses(local.Add(res.wait)) {
			r.queue.lateAt(w)
			return &workable.BudgetError{NextSlot: local.Add(res.wait), Wait: res.wait}
		}
		t := time.NewTimer(res.wait)
		select {
		case <-ctx.Done():
			t.Stop()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				r.queue.lateAt(w)
			}
			return ctx.Err()
		case <-t.C:
		}
	}
}

// admitResult is one answer of the admission script.
type admitResult struct {
	admitted  bool
	wait      time.Duration
	serverMs  int64
	limit     int
	blockedMs int64
	logMs     []int64 // the most recent limit entries, oldest first
}

// picture turns the script's view of the log into local time (local is the
// local time the answer was read at), for projecting slots.
func (a admitResult) picture(local time.Time, span time.Duration) logPicture {
	toLocal := func(ms int64) time.Time { return local.Add(time.Duration(ms-a.serverMs) * time.Millisecond) }
	p := logPicture{limit: a.limit, span: span, notBefore: local.Add(a.wait)}
	if a.blockedMs > a.serverMs {
		p.notBefore = toLocal(a.blockedMs)
	}
	for _, ms := range a.logMs {
		p.sends = append(p.sends, toLocal(ms))
	}
	return p
}

// admit runs the admission script once for a call of priority p.
func (r *Limiter) admit(ctx context.Context, member string, p workable.Priority) (admitResult, error) {
	write := p >= workable.PriorityWrite
	user := p > workable.PriorityBackground
	windowMs := (r.window + r.margin).Milliseconds()
	// A waiting user call re-registers on every retry, at most a window
	// apart; two windows of grace cover a slow retry without letting a
	// crashed process hold reads or the background back for long.
	writerTTL := 2 * windowMs
	var res []int64
	err := r.redis(ctx, func(ctx context.Context) (err error) {
		res, err = admitScript.Run(ctx, r.client, r.admitKeys(),
			r.limit, windowMs, flag(write), member, writerTTL, max(r.poll.Milliseconds(), 1), r.fixedArg(), flag(user),
			int(p), r.id+":",
		).Int64Slice()
		if err == nil && len(res) < 5 {
			err = errUnexpectedReply
		}
		return err
	})
	if err != nil {
		return admitResult{}, fmt.Errorf("rate limiter admit: %w", err)
	}
	return admitResult{
		admitted:  res[0] == 1,
		wait:      time.Duration(res[1]) * time.Millisecond,
		serverMs:  res[2],
		limit:     int(res[3]),
		blockedMs: res[4],
		logMs:     res[5:],
	}, nil
}

// admitKeys are the KEYS of admitScript and ticketScript.
func (r *Limiter) admitKeys() []string {
	return []string{r.logKey, r.writersKey, r.blockedKey, r.limitKey, r.waitersKey, r.ticketsKey, r.expiryKey}
}

// takeTicket takes the ticket of a caller of priority p queued in this
// process behind others (see ticketScript).
func (r *Limiter) takeTicket(ctx context.Context, member string, p workable.Priority) error {
	ttl := 2 * (r.window + r.margin).Milliseconds()
	write, user := flag(p >= workable.PriorityWrite), flag(p > workable.PriorityBackground)
	err := r.redis(ctx, func(ctx context.Context) error {
		return ticketScript.Run(ctx, r.client, r.admitKeys(), "", "", write, member, ttl, "", "", user, int(p), r.id+":").Err()
	})
	if err != nil {
		return fmt.Errorf("rate limiter ticket: %w", err)
	}
	return nil
}

func (r *Limiter) fixedArg() string { return flag(r.fixed) }

// flag is a boolean argument of a script.
func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// unregister removes a user call that gave up from the waiters set (and a
// write from the writers set), so that it does not hold reads or the
// background back.
func (r *Limiter) unregister(ctx context.Context, member string, write bool) {
	_ = r.redis(context.WithoutCancel(ctx), func(ctx context.Context) error {
		_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.ZRem(ctx, r.waitersKey, member)
			p.ZRem(ctx, r.ticketsKey, member)
			p.ZRem(ctx, r.expiryKey, member)
			if write {
				p.ZRem(ctx, r.writersKey, member)
			}
			return nil
		})
		return err
	})
}

// Observe keeps the limiter in step with Workable's X-Rate-Limit-* headers.
// A limit (X-Rate-Limit-Limit) is adopted by every replica: it is written
// to Redis when it differs from what this process last wrote there (or an
// hour has passed). When Remaining is 0 every process is held back until
// Reset plus the safety margin (at most two windows from now, in case clocks
// disagree). A Rate without a Reset (headers absent) says nothing about the
// remaining budget, nor does a positive Remaining: responses arrive out of
// order, so it is no reliable bound, while the shared log already bounds
// the traffic. The rate is also passed to the share, which then holds
// back too.
func (r *Limiter) Observe(rt workable.Rate) {
	r.share.Observe(rt)
	if !r.fixed && rt.Limit > 0 {
		n := min(rt.Limit, workable.MaxAdoptedLimit)
		r.known.Store(int64(n))
		r.adopt(n)
	}
	if rt.Reset.IsZero() || rt.Remaining > 0 {
		return
	}
	d := min(time.Until(rt.Reset)+r.margin, 2*r.window)
	if d <= 0 {
		return
	}
	ms := max(d.Milliseconds(), 1)
	_ = r.redis(context.Background(), func(ctx context.Context) error {
		return blockScript.Run(ctx, r.client, []string{r.blockedKey}, ms).Err()
	})
}

// adopt writes an announced limit to Redis for every replica, unless this
// process wrote the same recently.
func (r *Limiter) adopt(n int) {
	now := time.Now()
	r.adoptMu.Lock()
	fresh := n == r.adopted && now.Sub(r.adoptedAt) < adoptedLimitRefresh
	r.adoptMu.Unlock()
	if fresh {
		return
	}
	err := r.redis(context.Background(), func(ctx context.Context) error {
		return r.client.Set(ctx, r.limitKey, n, adoptedLimitTTL).Err()
	})
	if err != nil {
		return
	}
	r.adoptMu.Lock()
	r.adopted, r.adoptedAt = n, now
	r.adoptMu.Unlock()
	// Callers queued for the old limit may go now, or be too late now.
	r.queue.wakeHead()
}

// Budget reports the shared budget (one Redis call, no Workable call); the
// queue length and delayed calls (those Redis refused at least once: a
// caller waiting only for its turn to ask is not delayed by the budget) are
// this process's. While Redis is unreachable it reports the replica's share
// once the replica counts on it, and fails (redisconn.ErrUnavailable) while
// it waits for Redis.
func (r *Limiter) Budget(ctx context.Context) (workable.Budget, error) {
	if !r.breaker.Allow() {
		return r.outageBudget(ctx)
	}
	span := r.window + r.margin
	var res []int64
	err := r.redis(ctx, func(ctx context.Context) (err error) {
		res, err = budgetScript.Run(ctx, r.client, []string{r.logKey, r.blockedKey, r.limitKey},
			r.limit, span.Milliseconds(), r.fixedArg()).Int64Slice()
		if err == nil && len(res) < 3 {
			err = errUnexpectedReply
		}
		return err
	})
	if err != nil {
		return workable.Budget{}, fmt.Errorf("rate limiter budget: %w", err)
	}
	local := time.Now()
	serverMs, blockedMs := res[0], res[2]
	toLocal := func(ms int64) time.Time { return local.Add(time.Duration(ms-serverMs) * time.Millisecond) }
	b := workable.Budget{Limit: int(res[1]), Window: r.window}
	b.Queued, b.Delayed = r.queue.stats()
	sends := make([]time.Time, 0, len(res)-3)
	for _, ms := range res[3:] {
		sends = append(sends, toLocal(ms))
	}
	b.Remaining = max(b.Limit-len(sends), 0)
	if len(sends) > 0 {
		b.ResetsAt = sends[0].Add(span)
	}
	notBefore := local
	if blockedMs > serverMs {
		b.Remaining = 0
		b.ResetsAt = toLocal(blockedMs)
		notBefore = b.ResetsAt
	}
	b.NextSlot = workable.SlotAfter(sends, b.Limit, span, notBefore, b.Queued)
	return b, nil
}

// outageBudget is Budget while Redis is unreachable.
func (r *Limiter) outageBudget(ctx context.Context) (workable.Budget, error) {
	r.outageMu.Lock()
	sharing := r.sharing
	r.outageMu.Unlock()
	if !sharing {
		return workable.Budget{}, fmt.Errorf("rate limiter budget: %w", redisconn.ErrUnavailable)
	}
	return r.share.Budget(ctx)
}

// localQueue orders the callers of one process that wait for the shared
// budget: the first of them (by priority, rank, arrival) asks Redis, the
// others wait their turn.
type localQueue struct {
	mu       sync.Mutex
	waiters  []*queued // in service order: the head first
	seq      uint64
	nDelayed uint64
	// picture is what the last refusal told of the log (nil before one),
	// for telling a newcomer at once that it cannot be served in time.
	picture *logPicture

	// order refuses the callers of a page ranked after one that could not
	// be served in time (see workable.PageOrder).
	order workable.PageOrder
}

// queued is one caller in a localQueue.
type queued struct {
	workable.Place
	late    error // set, and the caller removed, when its slot cannot come in time
	counted bool  // counted in nDelayed (refused by Redis at least once)
	wake    chan struct{}
}

// logPicture is what the last refusal told about the shared log, in local
// time: the most recent sends (at most limit), and the earliest any caller
// may go (the refused caller's slot, or the end of a block).
type logPicture struct {
	sends     []time.Time
	limit     int
	span      time.Duration
	notBefore time.Time
}

// join adds a caller of priority p (rank and deadline from ctx). A caller
// that has to queue behind others, and that the last picture of the log
// already shows cannot be served before its deadline, fails at once.
func (lq *localQueue) join(ctx context.Context, p workable.Priority) (*queued, error) {
	w := &queued{Place: workable.PlaceOf(ctx, p), wake: make(chan struct{}, 1)}
	lq.mu.Lock()
	defer lq.mu.Unlock()
	w.Seq = lq.seq
	lq.seq++
	now := time.Now()
	if lq.order.Behind(w.Rank, now) {
		return nil, &workable.BudgetError{}
	}
	pos, _ := slices.BinarySearchFunc(lq.waiters, w, func(a, b *queued) int {
		if a.Before(b.Place) {
			return -1
		}
		return 1
	})
	if pos > 0 && lq.picture != nil && !w.Deadline.IsZero() {
		pic := *lq.picture
		if now.After(pic.notBefore) {
			pic.notBefore = now
		}
		if at := workable.SlotAfter(pic.sends, pic.limit, pic.span, pic.notBefore, pos); w.Misses(at) {
			lq.markLate(w, now)
			return nil, &workable.BudgetError{NextSlot: at, Wait: time.Until(at)}
		}
	}
	lq.waiters = slices.Insert(lq.waiters, pos, w)
	return w, nil
}

// lateAt records that w could not be served in time (see
// workable.PageOrder) and fails the callers of its page queued behind it.
func (lq *localQueue) lateAt(w *queued) {
	lq.mu.Lock()
	defer lq.mu.Unlock()
	lq.markLate(w, time.Now())
}

// markLate is lateAt with lq.mu held.
func (lq *localQueue) markLate(w *queued, now time.Time) {
	lq.order.Late(w.Rank, w.Deadline, now)
	lq.waiters = slices.DeleteFunc(lq.waiters, func(q *queued) bool {
		if q == w || !lq.order.Behind(q.Rank, now) {
			return false
		}
		q.late = &workable.BudgetError{}
		signal(q.wake)
		return true
	})
}

// count counts w once in the delayed calls. lq.mu must be held.
func (lq *localQueue) count(w *queued) {
	if !w.counted {
		w.counted = true
		lq.nDelayed++
	}
}

// delayed counts w as delayed (it was refused).
func (lq *localQueue) delayed(w *queued) {
	lq.mu.Lock()
	defer lq.mu.Unlock()
	lq.count(w)
}

// leave removes w (admitted, failed or gone) and lets the next caller ask.
func (lq *localQueue) leave(w *queued) {
	lq.mu.Lock()
	defer lq.mu.Unlock()
	wasHead := len(lq.waiters) > 0 && lq.waiters[0] == w
	lq.waiters = slices.DeleteFunc(lq.waiters, func(x *queued) bool { return x == w })
	if wasHead && len(lq.waiters) > 0 {
		signal(lq.waiters[0].wake)
	}
}

// awaitTurn blocks until w is the first caller, and fails when w was found
// late or ctx ends. Meanwhile it calls renew every interval.
func (lq *localQueue) awaitTurn(ctx context.Context, w *queued, every time.Duration, renew func()) error {
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		lq.mu.Lock()
		late, head := w.late, len(lq.waiters) > 0 && lq.waiters[0] == w
		lq.mu.Unlock()
		if late != nil {
			return late
		}
		if head {
			return nil
		}
		select {
		case <-w.wake:
		case <-tick:
			renew()
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				lq.lateAt(w)
			}
			return ctx.Err()
		}
	}
}

// project fails the callers behind the head whose earliest possible slot,
// by the picture of the log, comes after their deadlines (and the callers
// of their pages ranked after them, see workable.PageOrder). The picture is a
// lower bound (other replicas may take slots too), so no caller that could
// have been served in time is failed.
func (lq *localQueue) project(p logPicture) {
	lq.mu.Lock()
	defer lq.mu.Unlock()
	lq.picture = &p
	if len(lq.waiters) < 2 {
		return
	}
	now := time.Now()
	kept := 1
	for _, w := range lq.waiters[1:] {
		// The head takes the first slot; w comes after the kept ones.
		at := workable.SlotAfter(p.sends, p.limit, p.span, p.notBefore, kept)
		late := w.Misses(at)
		if late {
			lq.order.Late(w.Rank, w.Deadline, now)
		}
		if late || lq.order.Behind(w.Rank, now) {
			w.late = &workable.BudgetError{NextSlot: at, Wait: time.Until(at)}
			signal(w.wake)
			continue
		}
		lq.waiters[kept] = w
		kept++
	}
	clear(lq.waiters[kept:])
	lq.waiters = lq.waiters[:kept]
}

// isHead reports whether w is the first caller.
func (lq *localQueue) isHead(w *queued) bool {
	lq.mu.Lock()
	defer lq.mu.Unlock()
	return len(lq.waiters) > 0 && lq.waiters[0] == w
}

// wakeHead makes the first caller ask Redis again.
func (lq *localQueue) wakeHead() {
	lq.mu.Lock()
	defer lq.mu.Unlock()
	if len(lq.waiters) > 0 {
		signal(lq.waiters[0].wake)
	}
}

// stats returns the queue length and the calls delayed so far.
func (lq *localQueue) stats() (queued int, delayed uint64) {
	lq.mu.Lock()
	defer lq.mu.Unlock()
	return len(lq.waiters), lq.nDelayed
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
