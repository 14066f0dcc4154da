package upstream

import (
	"context"
	"sync"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/workablegw/gateway/workable"
)

// Loader is a dataloader that remembers, per key, the rank of the field
// that asked for it (see Read): dataloader v7 calls a batch function with
// the context of one Load, so the rank of each key has to travel beside it
// for the batch to queue each key's Workable call at its own rank.
type Loader[K comparable, V any] struct {
	e  *Economy
	rs *Request
	sp Spec[K, V]

	// dl is the dataloader, made when the request first needs it: most
	// requests use few of their loaders, and a warm one answered by the
	// decoded tier (Local) needs none.
	dlOnce sync.Once
	dl     *dataloader.Loader[K, *Pending[V]]

	mu    sync.Mutex
	ranks map[K]workable.Rank
	// primed are the keys given a value by Replace: the loader's own cache
	// answers them, never the decoded tier.
	primed map[K]bool
	// local are the values the decoded tier gave this request, so that
	// the fields asking for one key again take it at once. The first one
	// is kept beside the map (firstKey, firstLocal, hasFirst): a request
	// reads one key of most of its loaders, and the map of a large key
	// (a page's) would cost more than the lookup it saves.
	local      map[K]V
	firstKey   K
	firstLocal V
	hasFirst   bool
	// tickets are the keys read and announced to the request's join order
	// (see joinOrder) that do not have their places yet; placed are those
	// that had them, which the dataloader's cache answers from then on, so
	// that reading them again announces nothing.
	tickets map[K]*joinTicket
	placed  map[K]bool
}

// localValue returns the value the decoded tier gave this request for
// key; l.mu must be held.
func (l *Loader[K, V]) localValue(key K) (V, bool) {
	if l.hasFirst && l.firstKey == key {
		return l.firstLocal, true
	}
	v, ok := l.local[key]
	return v, ok
}

// keepLocal remembers v, the decoded tier's value of key, for the rest of
// the request; l.mu must be held.
func (l *Loader[K, V]) keepLocal(key K, v V) {
	switch {
	case !l.hasFirst:
		l.firstKey, l.firstLocal, l.hasFirst = key, v, true
	case l.firstKey == key:
		l.firstLocal = v
	default:
		if l.local == nil {
			l.local = make(map[K]V)
		}
		l.local[key] = v
	}
}

// dataloader returns the dataloader, making it on first use.
func (l *Loader[K, V]) dataloader() *dataloader.Loader[K, *Pending[V]] {
	l.dlOnce.Do(func() {
		sp := l.sp
		sp.Rank = l.rank
		sp.Placed = l.settle
		l.dl = dataloader.NewBatchedLoader(Batch(l.e, l.rs, sp), dataloader.WithWait[K, *Pending[V]](l.e.LoaderWait()))
	})
	return l.dl
}

// Clear forgets the dataloader's value of key.
func (l *Loader[K, V]) Clear(ctx context.Context, key K) {
	l.mu.Lock()
	delete(l.placed, key)
	l.mu.Unlock()
	l.dataloader().Clear(ctx, key)
}

// ClearAll forgets every value of the dataloader.
func (l *Loader[K, V]) ClearAll() {
	l.mu.Lock()
	clear(l.placed)
	l.mu.Unlock()
	l.dataloader().ClearAll()
}

// Replace makes key read as v for the rest of the request.
func (l *Loader[K, V]) Replace(ctx context.Context, key K, v V) {
	l.mu.Lock()
	if l.primed == nil {
		l.primed = make(map[K]bool)
	}
	l.primed[key] = true
	l.mu.Unlock()
	l.Clear(ctx, key)
	l.dataloader().Prime(ctx, key, Resolved(v, nil))
	l.mu.Lock()
	if l.placed == nil {
		l.placed = make(map[K]bool)
	}
	l.placed[key] = true
	l.mu.Unlock()
}

// fromLocal answers key from the decoded tier when it can (see
// Local) and the request has not primed it.
func (l *Loader[K, V]) fromLocal(ctx context.Context, key K) (V, bool) {
	var zero V
	if l.rs.Wrote() {
		return zero, false
	}
	l.mu.Lock()
	primed := l.primed[key]
	v, ok := l.localValue(key)
	l.mu.Unlock()
	if primed {
		return zero, false
	}
	if ok {
		return v, true
	}
	v, ok = Local(ctx, l.e, l.rs, l.sp, key)
	if ok {
		l.mu.Lock()
		l.keepLocal(key, v)
		l.mu.Unlock()
	}
	return v, ok
}

// Local returns key's value when the decoded tier (or this request's
// earlier reads of it) answers it at once, and false otherwise, after a
// write of the request, and for a key Replace gave a value: it never loads
// anything (no batch, no cache read, no Workable call). A hit counts as
// Read's does, once per key and request.
func (l *Loader[K, V]) Local(ctx context.Context, key K) (V, bool) {
	return l.fromLocal(ctx, key)
}

// noteRank records that key was asked for at rank r; a key asked for by
// several fields keeps the best rank. A key without its place in the rate
// limiter's queue yet is announced to the request's join order (see
// joinOrder) at the rank of its first read, until settle. That rank is
// never lowered: the batch has the key's place among its misses by the best
// rank at the time it starts, which is at most the first read's, so a fetch
// never waits for a key placed after it in its own batch.
func (l *Loader[K, V]) noteRank(key K, r workable.Rank) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.ranks[key]; !ok || r.Compare(old) < 0 {
		if l.ranks == nil {
			l.ranks = make(map[K]workable.Rank)
		}
		l.ranks[key] = r
	}
	if l.rs == nil || len(r) == 0 || l.placed[key] {
		return
	}
	if _, ok := l.tickets[key]; ok {
		return
	}
	if l.tickets == nil {
		l.tickets = make(map[K]*joinTicket)
	}
	l.tickets[key] = l.rs.order.announce(r)
}

// settle records that key has its place in the rate limiter's queue, or
// needs none (the Placed hook of the loader's batches).
func (l *Loader[K, V]) settle(key K) {
	l.mu.Lock()
	t, ok := l.tickets[key]
	delete(l.tickets, key)
	if l.placed == nil {
		l.placed = make(map[K]bool)
	}
	l.placed[key] = true
	l.mu.Unlock()
	if ok {
		l.rs.order.settle(t)
	}
}

// rank returns the rank key was asked for at (nil when unknown).
func (l *Loader[K, V]) rank(key K) workable.Rank {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ranks[key]
}

// NewLoader returns a loader over Batch(sp) whose batches
// rank their keys' Workable calls.
func NewLoader[K comparable, V any](e *Economy, rs *Request, sp Spec[K, V]) *Loader[K, V] {
	return &Loader[K, V]{e: e, rs: rs, sp: sp}
}

// Read starts reading key and returns a function that waits for it. A key
// the decoded tier answers needs no batch, so it does not wait for one: the
// batch wait is for keys that must be read or fetched. Otherwise key is
// queued at rank() (the rank of the field asking). dataloader v7.1.0 has no
// NewSkipCacheError, so a transient failure (rate limit, upstream trouble)
// is cleared from the loader's cache here instead: a later read in the same
// request tries again.
func (l *Loader[K, V]) Read(ctx context.Context, key K, rank func() workable.Rank) func() (V, error) {
	if v, ok := l.fromLocal(ctx, key); ok {
		return func() (V, error) { return v, nil }
	}
	l.noteRank(key, rank())
	thunk := l.dataloader().Load(ctx, key)
	return func() (V, error) {
		p, err := thunk()
		var v V
		if err == nil {
			v, err = p.Wait()
		}
		if err != nil && Transient(err) {
			l.Clear(ctx, key)
		}
		return v, err
	}
}
