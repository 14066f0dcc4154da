package upstream

import (
	"context"
	"time"

	"github.com/workablegw/gateway/cache"
)

// Coalescing across replicas. Within a process, shared makes one Workable
// call per key at a time; across replicas sharing the cache, the first
// replica to miss a key takes a short lock on it in the cache and fetches,
// and the others, instead of fetching the same record, watch the cache for
// the value it stores (with the generation they read). A replica that cannot
// take the lock waits at most coalesceWait (or until the lock is gone, when
// the fetching replica failed or gave up), then fetches on its own; so a
// lost lock or a dead replica costs a call, never an answer.

const (
	// coalesceLock is how long a lock holds when its replica does not
	// release it (it crashed): a little more than one Workable call.
	coalesceLock = 5 * time.Second
	// coalesceWait bounds how long a replica waits for another's fetch.
	coalesceWait = 3 * time.Second
	// coalescePoll is how often a waiting replica looks for the value.
	coalescePoll = 20 * time.Millisecond
)

// cachedFresh returns the fresh value of lk made under lk.gen, if the cache
// holds one.
func cachedFresh[V any](ctx context.Context, e *Economy, lk lookup) (V, bool) {
	ents, err := e.store.GetMany(ctx, []string{lk.key})
	if err != nil {
		var zero V
		return zero, false
	}
	return freshValue[V](e, lk, ents)
}

// freshValue returns the value of lk's entry among ents when the entry is
// fresh, decodes, and was made under lk.gen.
func freshValue[V any](e *Economy, lk lookup, ents map[string]cache.Entry) (V, bool) {
	var zero V
	ent, ok := ents[lk.key]
	if !ok || !ent.IsFresh(time.Now()) {
		return zero, false
	}
	v, gen, err := decodeEntry[V](e, lk.key, ent)
	if err != nil || gen != lk.gen {
		return zero, false
	}
	return v, true
}

// awaitReplica takes the cross-replica lock of lk, or waits for the
// replica holding it to store the value. It returns the value when another
// replica stored it (found), and release, which frees a lock this replica
// took; without a cache, or without a readable generation (guarded is
// set and lk.gen is ""), it neither locks nor waits.
func awaitReplica[V any](ctx context.Context, e *Economy, guarded bool, lk lookup) (v V, found bool, release func()) {
	release = func() {}
	if e.store == nil || (guarded && lk.gen == "") {
		return v, false, release
	}
	lockKey := lk.key + ":lock"
	owner := newGeneration()
	held, err := e.store.SetIfAbsent(ctx, []cache.Item{{Key: lockKey, Value: []byte(owner), FreshFor: coalesceLock}})
	if err != nil {
		return v, false, release
	}
	if ent, ok := held[lockKey]; !ok || string(ent.Value) == owner {
		return v, false, func() {
			// Freed even when the caller has gone: the others need not
			// wait for it to expire.
			_ = e.store.Delete(context.WithoutCancel(ctx), lockKey)
		}
	}
	deadline := time.Now().Add(coalesceWait)
	t := time.NewTicker(coalescePoll)
	defer t.Stop()
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return v, false, release
		case <-t.C:
		}
		ents, err := e.store.GetMany(ctx, []string{lk.key, lockKey})
		if err != nil {
			return v, false, release
		}
		if got, ok := freshValue[V](e, lk, ents); ok {
			return got, true, release
		}
		if _, locked := ents[lockKey]; !locked {
			// The fetching replica failed or gave up: fetch here.
			return v, false, release
		}
	}
	return v, false, release
}
