package upstream

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// item is a list item of the backward paging tests.
type item struct{ ID string }

func itemID(it *item) string { return it.ID }

// fakeList serves a sorted list of ids as Workable serves a list: the first
// limit items with since <= id <= max, and whether more follow (paging.next).
type fakeList struct {
	ids   []uint64
	calls int
}

func (f *fakeList) fetch(_ context.Context, since, max string, limit int) (Page[item], error) {
	f.calls++
	lo, hi := uint64(0), ^uint64(0)
	if since != "" {
		lo, _ = ParseWorkableID(since)
	}
	if max != "" {
		hi, _ = ParseWorkableID(max)
	}
	var pg Page[item]
	for _, v := range f.ids {
		if v < lo || v > hi {
			continue
		}
		if len(pg.Items) == limit {
			pg.More = true
			break
		}
		pg.Items = append(pg.Items, &item{ID: HexID(v)})
	}
	return pg, nil
}

// bursty names the list whose bursts can defeat the bounded search.
const bursty = "bursty 3000"

// idLists are lists whose ids are spread as in a small account (dense), as
// in a real one (a counter shared by every Workable account: sparse, in
// bursts), and in extremes.
func idLists() map[string][]uint64 {
	r := rand.New(rand.NewPCG(1, 2))
	gen := func(n int, gap func() uint64) []uint64 {
		ids := make([]uint64, n)
		v := uint64(0x1000000)
		for i := range ids {
			v += gap()
			ids[i] = v
		}
		return ids
	}
	return map[string][]uint64{
		"empty":       nil,
		"one":         {0x2a},
		"dense 40":    gen(40, func() uint64 { return 1 }),
		"dense 100":   gen(100, func() uint64 { return 1 }),
		"dense 101":   gen(101, func() uint64 { return 1 }),
		"dense 350":   gen(350, func() uint64 { return 1 }),
		"sparse 1000": gen(1000, func() uint64 { return 1 + r.Uint64N(1_000_000) }),
		"bursty 3000": gen(3000, func() uint64 {
			if r.IntN(50) == 0 {
				return 1 + r.Uint64N(500_000_000) // a quiet month
			}
			return 1 + r.Uint64N(2_000)
		}),
		// An account that grew (or shrank) twentyfold.
		"denser at the end 2000": func() []uint64 {
			i := 0
			return gen(2000, func() uint64 {
				i++
				return 1 + r.Uint64N(uint64(2_000_000-i*950))
			})
		}(),
		"sparser at the end 2000": func() []uint64 {
			i := 0
			return gen(2000, func() uint64 {
				i++
				return 1 + r.Uint64N(uint64(100_000+i*950))
			})
		}(),
	}
}

// TestBackwardPageMatchesBruteForce pages backwards through lists of every
// shape, from every kind of position, and compares each page and its page
// info with what the whole list says; it also bounds the Workable calls.
// On the bursty list the search may stop at MaxBackwardProbes: the page is
// then the last items found, fewer than asked (checked by
// TestBackwardWalkCoversEveryItem).
func TestBackwardPageMatchesBruteForce(t *testing.T) {
	t.Parallel()
	maxCalls := map[string]int{}
	for name, ids := range idLists() {
		befores := []int{-1} // no before: the end of the list
		if len(ids) > 0 {
			befores = append(befores, 0, len(ids)/2, len(ids)-1)
		}
		for _, b := range befores {
			for _, last := range []int{0, 1, 7, 20, 50, 99, 100} {
				for _, fullIsTruncated := range []bool{false, true} {
					label := fmt.Sprintf("%s/before %d/last %d/full page truncated %v", name, b, last, fullIsTruncated)
					before, end := "", len(ids)
					if b >= 0 {
						before, end = HexID(ids[b]), b
					}
					f := &fakeList{ids: ids}
					got, hasPrev, hasNext, err := LastPage(context.Background(), f.fetch, itemID, last, before, fullIsTruncated)
					if err != nil && (name != bursty || !errors.Is(err, ErrBackwardPagingLimit)) {
						t.Fatalf("%s: %v", label, err)
					}
					if err != nil {
						continue
					}
					want := hexIDs(ids[max(end-last, 0):end])
					gotIDs := itemIDs(got)
					if f.calls == MaxBackwardProbes && len(gotIDs) < len(want) {
						// Stopped at the cap: a shorter page of the right
						// items, and a previous page to come.
						want = want[len(want)-len(gotIDs):]
						if name != bursty {
							t.Errorf("%s: the search stopped at %d calls on a list without bursts", label, f.calls)
						}
					}
					if diff := cmp.Diff(want, gotIDs); diff != "" {
						t.Errorf("%s: items (-want +got):\n%s", label, diff)
					}
					if wantPrev := end > len(gotIDs); hasPrev != wantPrev {
						t.Errorf("%s: hasPreviousPage = %v, want %v", label, hasPrev, wantPrev)
					}
					if wantNext := b >= 0; hasNext != wantNext {
						t.Errorf("%s: hasNextPage = %v, want %v", label, hasNext, wantNext)
					}
					if f.calls > MaxBackwardProbes {
						t.Errorf("%s: %d Workable calls, more than %d", label, f.calls, MaxBackwardProbes)
					}
					maxCalls[name] = max(maxCalls[name], f.calls)
				}
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(maxCalls)) {
		t.Logf("%-24s at most %d Workable calls per backward page", n, maxCalls[n])
	}
}

// TestBackwardWalkCoversEveryItem walks every list backwards from its end,
// as Relay's loadPrevious does (last: n, before: the page's first item),
// and checks that the walk returns every item exactly once, in order, with
// no empty page before the start; it reports the Workable calls per page.
func TestBackwardWalkCoversEveryItem(t *testing.T) {
	t.Parallel()
	for _, name := range slices.Sorted(maps.Keys(idLists())) {
		ids := idLists()[name]
		for _, last := range []int{1, 20, 100} {
			f := &fakeList{ids: ids}
			var walked []string
			pages, limited := 0, 0
			before := ""
			for {
				pages++
				if pages > len(ids)+2 {
					t.Fatalf("%s last %d: the walk does not end", name, last)
				}
				got, hasPrev, _, err := LastPage(context.Background(), f.fetch, itemID, last, before, false)
				if name == bursty && errors.Is(err, ErrBackwardPagingLimit) {
					// A burst after a quiet month can hide the end of a
					// long list from the bounded search; the answer says so.
					limited++
					break
				}
				if err != nil {
					t.Fatalf("%s last %d: %v", name, last, err)
				}
				walked = append(itemIDs(got), walked...)
				if !hasPrev {
					break
				}
				if len(got) == 0 {
					t.Fatalf("%s last %d: an empty page says a previous one follows", name, last)
				}
				before = got[0].ID
			}
			want := hexIDs(ids)
			if limited > 0 {
				// The walk stopped early: what it returned is the end of
				// the list.
				want = want[len(want)-len(walked):]
			}
			if diff := cmp.Diff(want, walked, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s last %d: the backward walk (-want +got):\n%s", name, last, diff)
			}
			t.Logf("%-24s last %3d: %d pages, %.1f Workable calls per page, stopped by the limit: %v",
				name, last, pages, float64(f.calls)/float64(pages), limited > 0)
		}
	}
}

func hexIDs(ids []uint64) []string {
	var out []string
	for _, v := range ids {
		out = append(out, HexID(v))
	}
	return out
}

func itemIDs(items []*item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

// TestBackwardPageFromADeletedItem: a before cursor whose item is gone
// still pages from where it was; hasNextPage is then false (unknown).
func TestBackwardPageFromADeletedItem(t *testing.T) {
	t.Parallel()
	f := &fakeList{ids: []uint64{0x10, 0x20, 0x30, 0x50}}
	got, hasPrev, hasNext, err := LastPage(context.Background(), f.fetch, itemID, 2, "40", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "20" || got[1].ID != "30" || !hasPrev || hasNext {
		t.Errorf("page before a deleted item = %v, prev %v, next %v", got, hasPrev, hasNext)
	}
}

// TestBackwardPageRefusesIDsThatAreNotHex: the search needs Workable's
// hexadecimal ids; anything else is a clear error, not a wrong page.
func TestBackwardPageRefusesIDsThatAreNotHex(t *testing.T) {
	t.Parallel()
	fetch := func(context.Context, string, string, int) (Page[item], error) {
		return Page[item]{Items: []*item{{ID: "GROOV003"}}}, nil
	}
	for _, before := range []string{"", "not-hex"} {
		_, _, _, err := LastPage(context.Background(), fetch, itemID, 2, before, false)
		if !errors.Is(err, ErrNotHexIDs) {
			t.Errorf("before %q: error %v, want ErrNotHexIDs", before, err)
		}
	}
}
