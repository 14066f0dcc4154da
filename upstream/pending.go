package upstream

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/workablegw/gateway/ctxkey"
	"github.com/workablegw/gateway/workable"
)

// maxParallelFetches bounds the fetches one batch runs at once. They start
// in rank order and all wait for the rate budget together, so that the
// limiter can serve the items of a page in list order: were fewer queued
// than a window's worth of slots, a later item could take a slot while an
// earlier one had not yet joined the queue. 100 is Workable's largest page,
// so a page's items always queue together.
const maxParallelFetches = 100

// Pending is the value of one key of a batch, set once its fetch ends (see
// Batch).
type Pending[V any] struct {
	done chan struct{}
	v    V
	err  error
}

// NewPending returns a value that is not set yet.
func NewPending[V any]() *Pending[V] { return &Pending[V]{done: make(chan struct{})} }

// Resolved returns a pending value that is already set.
func Resolved[V any](v V, err error) *Pending[V] {
	p := NewPending[V]()
	p.Resolve(v, err)
	return p
}

// Resolve sets the value; it is called once.
func (p *Pending[V]) Resolve(v V, err error) {
	p.v, p.err = v, err
	close(p.done)
}

// Wait returns the value once it is set. It does not give up when the
// request's context ends: the fetch ends then too (every fetch of a request
// runs under the request's deadline), and its outcome may still be a stale
// copy worth answering with.
func (p *Pending[V]) Wait() (V, error) {
	<-p.done
	return p.v, p.err
}

// startEach runs run(0, …), …, run(n-1, …), each in a goroutine of its
// own, at most maxParallelFetches at a time, and in order: run(j+1) starts
// once run(j) has called its placed function (or returned). A run that
// makes a Workable call passes placed on with workable.WithOnQueued, so
// that the calls join the rate limiter's queue in this order, even while
// it has free slots, which it gives in arrival order. It returns at once;
// the channel is closed when every run has returned. run must not panic.
func startEach(n int, run func(j int, placed func())) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		sem := make(chan struct{}, maxParallelFetches)
		for j := range n {
			sem <- struct{}{}
			ready := make(chan struct{})
			var once sync.Once
			placed := func() { once.Do(func() { close(ready) }) }
			wg.Go(func() {
				defer func() { <-sem }()
				defer placed()
				run(j, placed)
			})
			<-ready
		}
		wg.Wait()
		close(done)
	}()
	return done
}

// Transient reports whether err may go away on a retry.
func Transient(err error) bool {
	return errors.Is(err, workable.ErrRateLimited) || errors.Is(err, workable.ErrUnavailable) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// DetailID and ListedID are the cache ids of a record's full (detail) copy
// and of its list fields. A detail copy also serves the list fields.
func DetailID(id string) string { return "d:" + id }
func ListedID(id string) string { return "l:" + id }

// NoteServed records whether the Workable call identified by key was made
// for the request: one that failed transiently (rate budget, timeout, 5xx)
// is still needed, and a retry of the request has to make it; a success or
// a permanent failure (404, 401) is not.
func (rs *Request) NoteServed(key string, err error) {
	if rs == nil {
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if err != nil && Transient(err) && !errors.Is(err, context.Canceled) {
		if rs.needed == nil {
			rs.needed = make(map[string]struct{})
		}
		rs.needed[key] = struct{}{}
		return
	}
	delete(rs.needed, key)
}

// NeededCalls is how many Workable calls the request could not make. Calls
// under a field that could not be resolved (the activities of a candidate
// whose list failed) are not known, so this is a lower bound.
func (rs *Request) NeededCalls() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return len(rs.needed)
}

// joinOrder makes the Workable calls of one request join the rate
// limiter's queue in rank order across batches and loaders, as startEach
// does within one batch. A loader's keys are read at once by the fields of
// a page, but reach the limiter through several batches (one per loader,
// and more when the fields of a page take longer than the batch wait to ask
// for them), each after a cache read of its own: without an order, a later
// item's call could find a slot free and take it while an earlier item's,
// read before it, was still on its way, and under a short budget the
// earlier item would then stay incomplete while the later one completed.
//
// A key read at a rank is announced (Loader.Read); a fetch waits, before
// its Workable call, until every key of its request announced at a lower
// rank of the same group (the first element: the request) has its place in
// the limiter's queue, or needs no call (a hit, a coalesced fetch). Keys of
// equal ranks do not wait for each other, so the waits cannot form a cycle.
// The zero joinOrder is ready to use.
type joinOrder struct {
	mu      sync.Mutex
	pending map[*joinTicket]struct{}
	// changed is closed (and forgotten) each time a ticket is settled.
	changed chan struct{}
}

// joinTicket is one announced key, until it is settled; its rank does not
// change.
type joinTicket struct{ rank workable.Rank }

// announce records a key read at rank r that is still to be placed.
func (o *joinOrder) announce(r workable.Rank) *joinTicket {
	t := &joinTicket{rank: r}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pending == nil {
		o.pending = make(map[*joinTicket]struct{})
	}
	o.pending[t] = struct{}{}
	return t
}

// settle records that t's key has its place (or needs none).
func (o *joinOrder) settle(t *joinTicket) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.pending[t]; !ok {
		return
	}
	delete(o.pending, t)
	if o.changed != nil {
		close(o.changed)
		o.changed = nil
	}
}

// await blocks until no key announced at a rank before r, in r's group, is
// still to be placed, or until ctx ends. An unranked caller never waits.
func (o *joinOrder) await(ctx context.Context, r workable.Rank) error {
	if len(r) == 0 {
		return nil
	}
	for {
		o.mu.Lock()
		ahead := false
		for t := range o.pending {
			if len(t.rank) > 0 && t.rank[0] == r[0] && t.rank.Compare(r) < 0 {
				ahead = true
				break
			}
		}
		if !ahead {
			o.mu.Unlock()
			return nil
		}
		if o.changed == nil {
			o.changed = make(chan struct{})
		}
		ch := o.changed
		o.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// joinTurnKey carries a fetch's joinTurn in its context.
var joinTurnKey = ctxkey.New[joinTurn]("upstream.joinTurn")

// joinTurn is what a fetch waits for before its Workable call (see
// joinOrder).
type joinTurn struct {
	order *joinOrder
	rank  workable.Rank
}

// withJoinTurn returns a copy of ctx whose fetch waits for its turn at rank
// r among the keys of rs (see awaitJoinTurn).
func withJoinTurn(ctx context.Context, rs *Request, r workable.Rank) context.Context {
	if rs == nil || len(r) == 0 {
		return ctx
	}
	return joinTurnKey.With(ctx, joinTurn{order: &rs.order, rank: r})
}

// awaitJoinTurn waits until the keys announced before the fetch of ctx have
// their places (see joinOrder); it returns at once without a turn in ctx.
func awaitJoinTurn(ctx context.Context) error {
	jt, ok := joinTurnKey.Value(ctx)
	if !ok {
		return nil
	}
	if err := jt.order.await(ctx, jt.rank); err != nil {
		return fmt.Errorf("wait for the calls of earlier items: %w", err)
	}
	return nil
}
