package upstream

import (
	"context"
	"errors"
	"math"
	"strconv"
)

// Backward paging (last/before) over lists that Workable only serves
// forwards.
//
// Workable lists are in ascending id order, and a page is "the first
// limit items with since_id <= id <= max_id" (both inclusive; ids compare
// as hexadecimal numbers, API.md §1 and §10). So max_id alone gives the
// OLDEST items before a cursor, not the newest, and no total count says
// where the end is. What makes backward paging possible is that since_id
// need not be an existing id: Workable's own paging.next uses "last id + 1"
// (API.md §10). LastPage therefore searches the id space: it asks for
// windows [s, hi] and moves s until the window holds the last+1 items it
// needs (the extra one proves a previous page), estimating s from the
// density of the ids it has seen. A window that comes back complete (no
// paging.next) is known exactly; one that comes back truncated raises the
// lower bound of the search. Each probe either extends the known tail
// downwards or raises that bound, so the search always progresses; it
// stops after maxBackwardProbes calls.
//
// Ids are dense in a small list (one probe, the whole list, is enough) and
// sparse in a real account's (ids are a counter shared by every Workable
// account), where the density estimate typically needs two or three
// probes; TestBackwardPageMatchesBruteForce measures it. Every probe is a
// list page of the connection's loader, cached like any other.

const (
	// backwardLimit is the page size of a backward probe: Workable's
	// largest (API.md §2).
	backwardLimit = 100
	// MaxBackwardProbes bounds the Workable calls of one backward page.
	MaxBackwardProbes = 12
)

// ListPage fetches one Workable list page: at most limit items with
// since <= id <= max (hexadecimal ids; "" for no bound), oldest first, and
// whether paging.next was present.
type ListPage[T any] func(ctx context.Context, since, max string, limit int) (Page[T], error)

// ErrNotHexIDs is the answer to backward paging over ids that are not
// Workable's hexadecimal numbers, which the search cannot do arithmetic on.
var ErrNotHexIDs = errors.New("paging backwards needs Workable's hexadecimal ids, and this list has an id that is not one; page forwards with first and after")

// ErrBackwardPagingLimit is the answer to a backward page that the search
// could not find within MaxBackwardProbes Workable calls.
var ErrBackwardPagingLimit = errors.New("the gateway could not find this page within its budget of Workable calls for one backward page; page forwards with first and after, or narrow the list with filters")

// ParseWorkableID parses an id as Workable's hexadecimal number.
func ParseWorkableID(id string) (uint64, bool) {
	if id == "" || len(id) > 16 {
		return 0, false
	}
	v, err := strconv.ParseUint(id, 16, 64)
	return v, err == nil
}

// HexID formats v as a Workable id.
func HexID(v uint64) string { return strconv.FormatUint(v, 16) }

// LastPage returns the last n items before beforeID (or of the whole list
// when it is ""), hasPrev (exact, except that it is true when the search
// stopped at MaxBackwardProbes before knowing) and hasNext (whether the
// before item still exists; false at the end of the list, which is exact).
// A search that stops at MaxBackwardProbes returns the last items it found
// (fewer than asked, still the right ones), or ErrBackwardPagingLimit when
// it found none; ids that are not hexadecimal give ErrNotHexIDs.
//
// A probe is truncated when more items than it returned are in its window:
// paging.next says so for jobs and candidates; for activities, whose
// paging.next the reference does not confirm, fullIsTruncated makes a full
// page count as truncated.
func LastPage[T any](ctx context.Context, fetch ListPage[T], id func(*T) string, n int, beforeID string, fullIsTruncated bool) (items []*T, hasPrev, hasNext bool, err error) {
	hasBefore := beforeID != ""
	hi := uint64(math.MaxUint64) // inclusive upper bound of the search
	if hasBefore {
		var ok bool
		if hi, ok = ParseWorkableID(beforeID); !ok {
			return nil, false, false, ErrNotHexIDs
		}
	}
	truncated := func(pg Page[T]) bool {
		return pg.More || (fullIsTruncated && len(pg.Items) >= backwardLimit)
	}
	var (
		// tail holds every item with tailFrom <= id <= hi, oldest first,
		// once tailKnown.
		tail      []*T
		tailFrom  uint64
		tailKnown bool
		// low holds the oldest items from lowFrom on, complete up to
		// lowLast, of the last truncated probe: the search's lower bound.
		low              []*T
		lowFrom, lowLast uint64
		// lowPer and topPer estimate the id distance between neighbouring
		// items: at low's end (from low's items) and near the top (from the
		// latest complete probe with items, else low's).
		lowPer, topPer uint64 = 1, 1
		// grow widens the estimate four times after each probe that came
		// back complete but with too few items, until one is truncated.
		grow   uint64 = 1
		gallop uint64 = 4
		capped bool
	)
	// have counts the tail's items, the before item excluded.
	have := func() int {
		if hasBefore && len(tail) > 0 && mustID(tail[len(tail)-1], id) == hi {
			return len(tail) - 1
		}
		return len(tail)
	}
	for probes := 0; ; {
		if have() > n || (tailKnown && tailFrom == 0) {
			break
		}
		if low != nil && tailKnown && lowLast+1 >= tailFrom {
			// The truncated probe and the tail meet: all of [lowFrom, hi]
			// is known.
			tail = append(low[:len(low):len(low)], tail...)
			tailFrom, low = lowFrom, nil
			continue
		}
		if probes == MaxBackwardProbes {
			capped = true
			break
		}
		probes++
		var s uint64
		switch {
		case low == nil:
			// The oldest items first: a list of at most 100 items is
			// then known whole, and a longer one shows its id density.
			s = 0
		case !tailKnown && !hasBefore:
			// The end of the list is not known yet: gallop upwards, in
			// steps of four pages' span first, four times longer each
			// time.
			s = satAdd(lowLast+1, satMul(satMul(lowPer, backwardLimit), gallop))
			gallop = satMul(gallop, 2)
		default:
			// Estimate from the latest density where the missing items
			// start, with half as much again for a margin. When the
			// estimate reaches down to what low already covers, the
			// density is misleading (a burst near the top, say): halve
			// the unknown range instead, so the search never walks.
			upper := hi
			if tailKnown {
				upper = tailFrom - 1
			}
			need := uint64(n + 1 - have())
			back := satMul(satAdd(satMul(satMul(need, topPer), 3)/2, 1), grow)
			gap := upper - lowLast // ids in (lowLast, upper]
			// A whole-gap probe would only walk a page up from low when
			// the gap holds pages of items at low's density.
			walks := gap/lowPer > 2*backwardLimit
			switch {
			case have() > 0 && gap > back:
				s = upper - back + 1
			case walks:
				// Where the items stop (or get sparse) within the gap is
				// unknown: bisect.
				s = lowLast + 1 + gap/2
			default:
				// The whole gap: it holds about what is missing, or less.
				s = lowLast + 1
			}
		}
		until := ""
		switch {
		case tailKnown:
			until = HexID(tailFrom - 1)
		case hasBefore:
			until = HexID(hi)
		}
		since := ""
		if s > 0 {
			since = HexID(s)
		}
		pg, err := fetch(ctx, since, until, backwardLimit)
		if err != nil {
			return nil, false, false, err
		}
		for _, it := range pg.Items {
			if _, ok := ParseWorkableID(id(it)); !ok {
				return nil, false, false, ErrNotHexIDs
			}
		}
		per := topPer
		if k := len(pg.Items); k >= 2 {
			per = max((mustID(pg.Items[k-1], id)-mustID(pg.Items[0], id))/uint64(k-1), 1)
		}
		switch {
		case truncated(pg) && len(pg.Items) > 0:
			low, lowFrom, lowLast = pg.Items, s, mustID(pg.Items[len(pg.Items)-1], id)
			lowPer, grow = per, 1
			if !tailKnown {
				topPer = per
			}
		default:
			if tailKnown {
				grow = satMul(grow, 4)
			}
			if len(pg.Items) >= 2 {
				topPer = per
			}
			tail = append(pg.Items[:len(pg.Items):len(pg.Items)], tail...)
			tailFrom, tailKnown = s, true
		}
	}
	if hasBefore && len(tail) > 0 && mustID(tail[len(tail)-1], id) == hi {
		tail, hasNext = tail[:len(tail)-1], true
	}
	if capped && len(tail) == 0 {
		// Nothing found to return, and no cursor to continue from.
		return nil, false, false, ErrBackwardPagingLimit
	}
	// Capped, the page holds the last items found, fewer than asked: a
	// correct page, which the client continues from with before.
	hasPrev = len(tail) > n || low != nil || (capped && !(tailKnown && tailFrom == 0))
	if len(tail) > n {
		tail = tail[len(tail)-n:]
	}
	return tail, hasPrev, hasNext, nil
}

// mustID returns the numeric id of an item whose id has been checked.
func mustID[T any](it *T, id func(*T) string) uint64 {
	v, _ := ParseWorkableID(id(it))
	return v
}

// satAdd and satMul add and multiply without wrapping around.
func satAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

func satMul(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/a {
		return math.MaxUint64
	}
	return a * b
}
