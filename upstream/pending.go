package upstream

import (
	"context"
	"errors"
	"sync"

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
