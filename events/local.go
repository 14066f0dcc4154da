package events

import (
	"context"
	"sync"
)

// DefaultBuffer is how many events a subscription holds that its subscriber has not taken yet
// before it is dropped with ErrLagged. A live board takes an event in microseconds; 256 covers a
// burst such as a bulk move of a whole stage.
const DefaultBuffer = 256

// Option configures a bus.
type Option func(*options)

type options struct {
	buffer int
}

// WithBuffer sets how many untaken events a subscription may hold (at least 1; default
// DefaultBuffer).
func WithBuffer(n int) Option {
	return func(o *options) { o.buffer = max(n, 1) }
}

func buildOptions(opts []Option) options {
	o := options{buffer: DefaultBuffer}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Subscription is one subscriber's stream of events of one credential.
type Subscription struct {
	// C delivers the events in the order they were published on this replica's bus (for
	// Redis, in the order Redis delivered them). It is closed when the subscription ends.
	C <-chan Event

	ch      chan Event
	credKey string
	local   *Local
	// err is set, under local.mu, before ch is closed.
	err error
	// onEnd runs once when the subscription ends, outside local.mu.
	onEnd   func()
	stopCtx func() bool
}

// Err reports why the subscription ended: ErrLagged, ErrClosed, the context's error, or nil
// when Close ended it (or it is still live).
func (s *Subscription) Err() error {
	s.local.mu.Lock()
	defer s.local.mu.Unlock()
	return s.err
}

// Close ends the subscription; it is safe to call more than once and after it ended.
func (s *Subscription) Close() {
	s.local.end(s, nil)
}

// Local is a bus within one process: events published on it reach the subscribers of this
// process only. Publish never blocks: a subscriber whose buffer is full is dropped with
// ErrLagged.
type Local struct {
	opts options

	mu     sync.Mutex
	subs   map[string]map[*Subscription]struct{}
	closed bool
}

// NewLocal returns an in-process bus.
func NewLocal(opts ...Option) *Local {
	return &Local{opts: buildOptions(opts), subs: make(map[string]map[*Subscription]struct{})}
}

// Publish delivers e to the current subscribers of e.Credential without waiting for any.
func (l *Local) Publish(_ context.Context, e Event) error {
	l.deliver(e)
	return nil
}

// Subscribe returns a subscription to the events of credential, which ends with ctx.
func (l *Local) Subscribe(ctx context.Context, credential string) (*Subscription, error) {
	return l.subscribe(ctx, credential, nil)
}

// subscribe is Subscribe with a function run once when the subscription ends.
func (l *Local) subscribe(ctx context.Context, credential string, onEnd func()) (*Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := make(chan Event, l.opts.buffer)
	s := &Subscription{C: ch, ch: ch, credKey: credential, local: l, onEnd: onEnd}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, ErrClosed
	}
	set := l.subs[credential]
	if set == nil {
		set = make(map[*Subscription]struct{})
		l.subs[credential] = set
	}
	set[s] = struct{}{}
	// Under the lock, so that an end racing with this reads stopCtx set; should ctx be done
	// already, the function runs once the lock is released.
	s.stopCtx = context.AfterFunc(ctx, func() { l.end(s, context.Cause(ctx)) })
	l.mu.Unlock()
	return s, nil
}

// Subscribers returns how many subscriptions of credential are live on this bus.
func (l *Local) Subscribers(credential string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.subs[credential])
}

// Live returns how many subscriptions are live on this bus, of every
// credential.
func (l *Local) Live() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, set := range l.subs {
		n += len(set)
	}
	return n
}

// deliver hands e to every subscriber of its credential, dropping those that are full.
func (l *Local) deliver(e Event) {
	var dropped []*Subscription
	l.mu.Lock()
	for s := range l.subs[e.Credential] {
		select {
		case s.ch <- e:
		default:
			dropped = append(dropped, s)
			l.endLocked(s, ErrLagged)
		}
	}
	l.mu.Unlock()
	finish(dropped)
}

// end ends s with err, once.
func (l *Local) end(s *Subscription, err error) {
	l.mu.Lock()
	ended := l.endLocked(s, err)
	l.mu.Unlock()
	if ended {
		finish([]*Subscription{s})
	}
}

// endLocked removes s, records err and closes its channel; it reports whether s was live.
func (l *Local) endLocked(s *Subscription, err error) bool {
	set := l.subs[s.credKey]
	if _, live := set[s]; !live {
		return false
	}
	delete(set, s)
	if len(set) == 0 {
		delete(l.subs, s.credKey)
	}
	s.err = err
	close(s.ch)
	return true
}

// finish runs what must follow the end of subscriptions, outside the lock.
func finish(ended []*Subscription) {
	for _, s := range ended {
		if s.stopCtx != nil {
			s.stopCtx()
		}
		if s.onEnd != nil {
			s.onEnd()
		}
	}
}

// Close ends every subscription with ErrClosed and refuses new ones. Publishing afterwards
// delivers to nobody.
func (l *Local) Close() error {
	var ended []*Subscription
	l.mu.Lock()
	l.closed = true
	for _, set := range l.subs {
		for s := range set {
			ended = append(ended, s)
		}
	}
	for _, s := range ended {
		l.endLocked(s, ErrClosed)
	}
	l.mu.Unlock()
	finish(ended)
	return nil
}
