package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"

	"github.com/99designs/gqlgen/graphql"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// Relay connections over Workable's since_id paging.
//
// Paging. A page asks Workable for first+1 items: the extra one, never
// returned, proves that a next page exists, so hasNextPage does not depend
// on paging.next. A cursor names an item X and means "the items after X";
// Workable's since_id is inclusive, so a page after X asks for since_id=X
// with one item more still and drops X (if X has been deleted meanwhile
// nothing is dropped and the extra items only prove there is a next page).
// Only when Workable's largest page (100) leaves no room for the extra item
// does hasNextPage come from paging.next, which a live account sends on
// every list, activities included, and leaves out on the last page (API.md
// §2, §10). Should Workable answer a page with fewer items than asked and a
// paging.next, the loaders follow that URL exactly as given (same host) to
// complete the page (see upstream.Economy.FetchJobPage). See pageRequest.
//
// Cursors. A cursor is base64url(JSON{v, k, f, a, s}): the format version,
// the connection kind, the connection's filters, X's id and a checksum of
// those. Cursors hold no server state, so they survive restarts. They are
// opaque to clients but NOT authenticated: the checksum is no secret (a
// truncated SHA-256 anyone can recompute), so it only protects against
// accidental edits (a truncated or hand-modified cursor fails loudly instead
// of paging from elsewhere). A deliberately forged cursor passes, but all it
// can do is select another since_id within the same connection kind and the
// same filters, which the caller's own credential could query directly
// anyway: it reaches no other account, connection or filter. Decoding is
// strict: anything that is not exactly what this package would have produced
// for the same connection and filters, checksum included, is BAD_USER_INPUT.
// Should cursors ever carry something a client may not choose, sign them
// (HMAC with a server key) instead of checksumming them.

const (
	defaultFirst = 50
	maxFirst     = 100
	// workableMaxLimit is the largest page Workable serves (API.md §2); it
	// caps first+1 (+1 after a cursor), see pageRequest.want.
	workableMaxLimit = 100
	cursorVersion    = 1
	maxCursorLen     = 2048
)

// Connection kinds, one per connection field of the schema.
const (
	kindJobs          = "jobs"
	kindCandidates    = "candidates"
	kindJobCandidates = "job.candidates"
	kindActivities    = "activities"
	kindJobActivities = "job.activities"
)

// cursor is the decoded form of a connection cursor.
type cursor struct {
	V int               `json:"v"`
	K string            `json:"k"`
	F map[string]string `json:"f,omitempty"`
	A string            `json:"a"`
	// S is a checksum of the other fields. It is no secret and no
	// signature: it only makes an accidentally edited cursor fail loudly
	// instead of paging from elsewhere. A forged one can only pick another
	// since_id of the same kind and filters (see the top of this file).
	S string `json:"s"`
}

// checksum returns the checksum of a cursor's fields.
func (c cursor) checksum() string {
	b, err := json.Marshal([]any{c.V, c.K, c.F, c.A})
	if err != nil {
		panic(err) // strings and a map of strings always marshal
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// encodeCursor returns the cursor of "after item id" in a connection of the
// given kind and filters.
func encodeCursor(kind string, filters map[string]string, id string) string {
	c := cursor{V: cursorVersion, K: kind, F: nonEmpty(filters), A: id}
	c.S = c.checksum()
	b, err := json.Marshal(c)
	if err != nil {
		// A struct of strings always marshals.
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor checks that s is a cursor this package produced for the
// given kind and filters and returns the id it points after.
func decodeCursor(s, kind string, filters map[string]string) (string, error) {
	if len(s) == 0 || len(s) > maxCursorLen {
		return "", badInput("invalid cursor")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return "", badInput("invalid cursor")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c cursor
	if err := dec.Decode(&c); err != nil || dec.More() {
		return "", badInput("invalid cursor")
	}
	// Only the canonical encoding is accepted, so a cursor cannot be edited
	// into an equivalent but different string.
	// The id inside must pass the one rule for Workable ids (ValidID); only
	// its opacity is relied on otherwise.
	if c.V != cursorVersion || encodeCursor(c.K, c.F, c.A) != s || !workable.ValidID(c.A) {
		return "", badInput("invalid cursor")
	}
	if c.K != kind {
		return "", badInput("the cursor belongs to another connection")
	}
	if !maps.Equal(c.F, nonEmpty(filters)) {
		return "", badInput("the cursor was made with other filters; pass the same filters as the query that returned it")
	}
	return c.A, nil
}

// nonEmpty returns filters without empty values (nil when none remain), so
// that an absent filter and an empty one give the same cursor.
func nonEmpty(filters map[string]string) map[string]string {
	var out map[string]string
	for k, v := range filters {
		if v == "" {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(filters))
		}
		out[k] = v
	}
	return out
}

// pageRequest is what one connection field asks Workable for.
type pageRequest struct {
	kind    string
	filters map[string]string
	first   int
	afterID string // "" for the first page
	// backward is set for last/before: the last items before beforeID
	// ("" for the end of the list); see upstream.LastPage.
	backward bool
	last     int
	beforeID string
	// skip is true when no Workable call is needed (first or last 0
	// without pageInfo in the selection).
	skip bool
	// edges and pageInfo report whether the selection asks for them: the
	// cursors of a page are computed only for them (a page read through
	// nodes alone needs none).
	edges, pageInfo bool
}

// want is the Workable page size that serves the request without relying on
// paging.next: first items, one more that proves a next page exists, plus
// the item the cursor points after.
func (p pageRequest) want() int {
	n := p.first + 1
	if p.afterID != "" {
		n++
	}
	return n
}

// limit is the Workable page size asked for: want, capped at Workable's
// largest page.
func (p pageRequest) limit() int { return min(p.want(), workableMaxLimit) }

// newPageRequest validates the paging arguments of a connection field:
// first and after page forwards (the default, 50 items), last and before
// backwards; the two directions do not mix.
func newPageRequest(ctx context.Context, kind string, filters map[string]string, first *int, after *string, last *int, before *string) (pageRequest, error) {
	p := pageRequest{kind: kind, filters: filters, first: defaultFirst, edges: true, pageInfo: true}
	if graphql.GetFieldContext(ctx) != nil {
		names := collectedNames(ctx)
		p.edges, p.pageInfo = slices.Contains(names, "edges"), slices.Contains(names, "pageInfo")
	}
	if (first != nil || after != nil) && (last != nil || before != nil) {
		return pageRequest{}, badInput("page forwards with first and after, or backwards with last and before, not both at once")
	}
	var err error
	if last != nil || before != nil {
		p.backward, p.first = true, 0
		if p.last, p.beforeID, err = pageArgs("last", last, before, kind, filters); err != nil {
			return pageRequest{}, err
		}
		p.skip = p.last == 0 && !p.pageInfo
		return p, nil
	}
	if p.first, p.afterID, err = pageArgs("first", first, after, kind, filters); err != nil {
		return pageRequest{}, err
	}
	p.skip = p.first == 0 && !p.pageInfo
	return p, nil
}

// pageArgs checks the paging arguments of one direction: the count (name
// is first or last; defaultFirst when n is nil) and the cursor's id ("" for
// none).
func pageArgs(name string, n *int, cur *string, kind string, filters map[string]string) (count int, id string, err error) {
	count = defaultFirst
	if n != nil {
		count = *n
	}
	if count < 0 || count > maxFirst {
		return 0, "", badInput("%s must be between 0 and %d, got %d", name, maxFirst, count)
	}
	if cur != nil {
		if id, err = decodeCursor(*cur, kind, filters); err != nil {
			return 0, "", err
		}
	}
	return count, id, nil
}

// window cuts a fetched Workable page (asked with p.limit()) down to the
// connection's page: it drops the item the cursor points after and keeps at
// most first items. An item beyond those proves a next page, and so does
// more (paging.next was present, which a live account leaves out on the
// last page, API.md §10): when the page is capped there is no room for the
// extra item, and when Workable answered short the items it did not give
// still follow. A capped page after a cursor is one item shorter than
// first, which Relay allows.
func window[T any](p pageRequest, items []T, id func(T) string, more bool) (page []T, hasNext bool) {
	if p.afterID != "" && len(items) > 0 && id(items[0]) == p.afterID {
		items = items[1:]
	}
	if len(items) > p.first {
		return items[:p.first], true
	}
	return items, more
}

// followsCursor reports whether a forward page fetched with since_id at
// the cursor's item (items, before window cuts them) starts with that item:
// then it still exists, and the page has a previous page.
func followsCursor[T any](p pageRequest, items []T, id func(T) string) bool {
	return p.afterID != "" && len(items) > 0 && id(items[0]) == p.afterID
}

// connectionPage returns the items of the page p asks for, with its
// hasPreviousPage and hasNextPage.
func connectionPage[T any](ctx context.Context, p pageRequest, fetch upstream.ListPage[T], id func(*T) string) (items []*T, hasPrev, hasNext bool, err error) {
	if p.backward {
		return upstream.LastPage(ctx, fetch, id, p.last, p.beforeID, p.kind == kindActivities)
	}
	pg, err := fetch(ctx, p.afterID, "", p.limit())
	if err != nil {
		return nil, false, false, err
	}
	hasPrev = followsCursor(p, pg.Items, id)
	items, hasNext = window(p, pg.Items, id, pg.More)
	return items, hasPrev, hasNext, nil
}

// connection reads the page p asks for through fetch and lays it out as a
// connection: its nodes (made from the page's items by nodes), one edge
// per node (made by edge with the node's cursor) and the page info; an
// empty page when p needs no call.
func connection[T, N, E any](ctx context.Context, p pageRequest, fetch upstream.ListPage[T], id func(*T) string,
	nodes func([]*T) []N, edge func(cursor string, node *N) E) ([]N, []E, *model.PageInfo, error) {
	if p.skip {
		return []N{}, []E{}, &model.PageInfo{}, nil
	}
	items, hasPrev, hasNext, err := connectionPage(ctx, p, fetch, id)
	if err != nil {
		return nil, nil, nil, err
	}
	cursors, info := edgeCursors(p, items, id, hasPrev, hasNext)
	ns := nodes(items)
	if !p.edges {
		return ns, nil, info, nil
	}
	edges := make([]E, len(ns))
	for i := range ns {
		edges[i] = edge(cursors[i], &ns[i])
	}
	return ns, edges, info, nil
}

// pageKey is the key of a list page (upstream.CandidatePageKey and the
// others), which embeds the page's upstream.PageRange.
type pageKey[K any] interface {
	*K
	SetRange(upstream.PageRange)
}

// pageReader reads one page of a list, by its key, through the list's
// loader: load, or the fast path's read of the decoded tier alone
// (localPage).
type pageReader[K comparable, T any] func(ctx context.Context, l *upstream.Loader[K, upstream.Page[T]], key K) (upstream.Page[T], error)

// listPages returns the reader of the pages of one list, which read reads
// through l: key is their key but for the page range.
func listPages[K comparable, PK pageKey[K], T any](l *upstream.Loader[K, upstream.Page[T]], key K, read pageReader[K, T]) upstream.ListPage[T] {
	return func(ctx context.Context, since, until string, limit int) (upstream.Page[T], error) {
		k := key
		PK(&k).SetRange(upstream.PageRange{SinceID: since, MaxID: until, Limit: limit})
		return read(ctx, l, k)
	}
}

// edgeCursors returns the page info and, when the selection asks for
// edges, the cursor of each item (nil otherwise). The page info has
// cursors when the selection asks for edges or pageInfo.
func edgeCursors[T any](p pageRequest, items []T, id func(T) string, hasPrev, hasNext bool) ([]string, *model.PageInfo) {
	info := &model.PageInfo{HasNextPage: hasNext, HasPreviousPage: hasPrev}
	if len(items) == 0 {
		return nil, info
	}
	if !p.edges {
		// Only pageInfo's cursors (none when the selection asks for no
		// pageInfo either).
		if p.pageInfo {
			start, end := encodeCursor(p.kind, p.filters, id(items[0])), ""
			if len(items) == 1 {
				end = start
			} else {
				end = encodeCursor(p.kind, p.filters, id(items[len(items)-1]))
			}
			info.StartCursor, info.EndCursor = &start, &end
		}
		return nil, info
	}
	cursors := make([]string, len(items))
	for i, it := range items {
		cursors[i] = encodeCursor(p.kind, p.filters, id(it))
	}
	info.StartCursor = &cursors[0]
	info.EndCursor = &cursors[len(cursors)-1]
	return cursors, info
}

// nodeFields returns the names of the fields a connection's selection asks
// of its nodes, through both `nodes { … }` and `edges { node { … } }`.
func nodeFields(ctx context.Context) map[string]bool {
	opCtx := graphql.GetOperationContext(ctx)
	out := make(map[string]bool)
	add := func(sel []graphql.CollectedField) {
		for _, f := range sel {
			out[f.Name] = true
		}
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		switch f.Name {
		case "nodes":
			add(graphql.CollectFields(opCtx, f.Selections, nil))
		case "edges":
			for _, e := range graphql.CollectFields(opCtx, f.Selections, nil) {
				if e.Name == "node" {
					add(graphql.CollectFields(opCtx, e.Selections, nil))
				}
			}
		}
	}
	return out
}

// connectionComplexity is the complexity of a connection field: its
// selection counted once per requested item (first or last), so that
// nested connections (one Workable call per parent item) are expensive.
func connectionComplexity(child int, first, last *int) int {
	n := defaultFirst
	switch {
	case first != nil:
		n = min(max(*first, 1), maxFirst)
	case last != nil:
		n = min(max(*last, 1), maxFirst)
	}
	return 1 + n*child
}

// latestComplexity is the complexity of a latest-activity field: its
// selection counted once per page of the stream it may read.
func latestComplexity(child int) int {
	return 1 + upstream.MaxActivityLogPages*child
}

// collectedNames returns the names of the fields the current field's
// selection set asks for.
func collectedNames(ctx context.Context) []string {
	fields := graphql.CollectFieldsCtx(ctx, nil)
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}
