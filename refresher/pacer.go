package refresher

import (
	"math"
	"sync"
	"time"

	"github.com/workablegw/gateway/workable"
)

// pacer keeps the refresher within its share of the budget: at most
// share × limit calls per window of the budget, and none while a user
// call of this replica waits for the budget or when the budget has nothing
// left. A user call waiting on another replica is seen by the shared
// budget (ratebudget.Limiter), which holds the refresher's call back until
// that user call has gone.
type pacer struct {
	share   float64
	onSpent func()

	mu    sync.Mutex
	sends []time.Time // the refresher's own slots, oldest first
}

func newPacer(share float64, onSpent func()) *pacer {
	return &pacer{share: share, onSpent: onSpent}
}

// allowance returns how many calls the refresher may make per span: the
// whole calls of share × limit per window, or, when that is less than
// one, one call per the span that makes it one.
func (p *pacer) allowance(limit int, window time.Duration) (int, time.Duration) {
	per := p.share * float64(limit)
	if n := int(math.Floor(per + 1e-9)); n >= 1 {
		return n, window
	}
	return 1, time.Duration(float64(window) / per)
}

// allow reports whether the refresher may make one more call now, given
// the budget b.
func (p *pacer) allow(b workable.Budget) bool {
	if b.Queued > 0 || b.Remaining <= 0 || b.Limit <= 0 || p.share <= 0 {
		return false
	}
	n, span := p.allowance(b.Limit, b.Window)
	p.mu.Lock()
	defer p.mu.Unlock()
	cutoff := time.Now().Add(-span)
	i := 0
	for i < len(p.sends) && !p.sends[i].After(cutoff) {
		i++
	}
	p.sends = p.sends[i:]
	return len(p.sends) < n
}

// spent records that one of the refresher's calls got a slot.
func (p *pacer) spent() {
	p.mu.Lock()
	p.sends = append(p.sends, time.Now())
	p.mu.Unlock()
	if p.onSpent != nil {
		p.onSpent()
	}
}
