package guard

import "sync"

// ClientSlots bounds the live long-running operations (subscriptions) of
// each client: a client holding max of them is refused one more until it
// releases one. It is safe for concurrent use.
type ClientSlots struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

// NewClientSlots returns slots for n operations per client (at least 1).
func NewClientSlots(n int) *ClientSlots {
	return &ClientSlots{max: max(n, 1), n: make(map[string]int)}
}

// Max returns how many operations each client may hold.
func (l *ClientSlots) Max() int { return l.max }

// Acquire takes one slot of client, or reports that it holds Max already.
// release gives the slot back; calling it again does nothing.
func (l *ClientSlots) Acquire(client string) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[client] >= l.max {
		return nil, false
	}
	l.n[client]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.n[client]--; l.n[client] <= 0 {
				delete(l.n, client)
			}
		})
	}, true
}
