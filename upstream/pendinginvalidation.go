package upstream

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/redisconn"
)

// No invalidation is lost. A write (or a webhook, or the refresher) changes
// what cached data means by replacing generation tokens in the shared
// cache. When the cache cannot take the new tokens (Redis down, paused,
// failing over), the change would be lost and every replica would go on
// serving records and whole responses made before it, until they expire.
// So the economy records which generations it could not replace, replaces
// them before its own next read, and retries in the background until the
// cache takes them: the first moment Redis answers again, every replica
// sees the new tokens, and nothing cached under the old ones (records, the
// decoded tier, whole responses, which all carry the tokens they were made
// under) is served again. The tokens are replaced anew, not restored: a
// token any replica read before or during the outage is never current
// again. Only the tokens are replayed, never the records a write returned:
// by then Workable may hold newer ones.

// pendingRetry is how often the background retry tries the cache.
const pendingRetry = redisconn.DefaultCoolDown

// pendingInvalidations are the generation keys an economy could not
// replace in the cache.
type pendingInvalidations struct {
	// applying serializes applyPending: concurrent readers finding keys
	// pending when Redis returns replace the tokens once, not once each
	// (each replacement would end what the previous one's readers cached).
	applying sync.Mutex
	mu       sync.Mutex
	keys     map[string]struct{}
	// running is true while retryPending runs; only retryPending clears it.
	running bool
}

// invalidate replaces the generation tokens of items (and stores the other
// items, best effort). When the cache does not take them, the generation
// keys are recorded and replaced later (see pendingInvalidations); the error
// is returned for the caller to log or answer.
func (e *Economy) invalidate(ctx context.Context, items []cache.Item) error {
	ctx = context.WithoutCancel(ctx)
	err := e.store.SetMany(ctx, items)
	if err == nil {
		return nil
	}
	var keys []string
	genPrefix := cache.Key(e.ns, cache.KindGeneration, "")
	for _, it := range items {
		if strings.HasPrefix(it.Key, genPrefix) {
			keys = append(keys, it.Key)
		}
	}
	e.deferInvalidation(keys)
	return err
}

// deferInvalidation records keys to replace once the cache answers, and
// starts the background retry if it is not running.
func (e *Economy) deferInvalidation(keys []string) {
	if len(keys) == 0 {
		return
	}
	p := &e.pending
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keys == nil {
		p.keys = make(map[string]struct{})
	}
	for _, k := range keys {
		p.keys[k] = struct{}{}
	}
	e.logger.Warn("cache invalidation recorded: it will be applied as soon as the cache (Redis) answers",
		"pending", len(p.keys))
	if p.running {
		return
	}
	p.running = true
	go e.retryPending()
}

// retryPending applies the recorded invalidations every pendingRetry until
// none is left.
func (e *Economy) retryPending() {
	t := time.NewTicker(pendingRetry)
	defer t.Stop()
	p := &e.pending
	for range t.C {
		if !e.applyPending(context.Background()) {
			continue
		}
		p.mu.Lock()
		if len(p.keys) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
}

// applyPending replaces the recorded generation tokens in one write, one
// caller at a time (a caller that waited finds them applied). It reports
// whether none is left to apply.
func (e *Economy) applyPending(ctx context.Context) (done bool) {
	p := &e.pending
	p.applying.Lock()
	defer p.applying.Unlock()
	p.mu.Lock()
	keys := make([]string, 0, len(p.keys))
	for k := range p.keys {
		keys = append(keys, k)
	}
	p.mu.Unlock()
	if len(keys) == 0 {
		return true
	}
	slices.Sort(keys)
	items := make([]cache.Item, len(keys))
	for i, k := range keys {
		items[i] = genItem(k, newGeneration())
	}
	if err := e.store.SetMany(ctx, items); err != nil {
		return false
	}
	p.mu.Lock()
	for _, k := range keys {
		delete(p.keys, k)
	}
	p.mu.Unlock()
	e.logger.LogAttrs(ctx, slog.LevelInfo, "cache invalidations recorded during an outage applied", slog.Int("generations", len(keys)))
	return !e.hasPending()
}

// hasPending reports whether invalidations wait for the cache.
func (e *Economy) hasPending() bool {
	p := &e.pending
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.keys) > 0
}
