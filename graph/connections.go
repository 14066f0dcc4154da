package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"maps"
	"regexp"

	"github.com/99designs/gqlgen/graphql"

	"github.com/workablegw/gateway/graph/model"
)

// Relay connections over Workable's since_id paging.
//
// A cursor names an item X and means "the items after X". It is
// base64url(JSON{v, k, f, a, s}): the format version, the connection kind,
// the connection's filters, X's id and a checksum of those. Workable's since_id is inclusive, so a page
// after X asks for since_id=X with one more item than wanted and drops X (if
// X has been deleted meanwhile nothing is dropped and the extra item only
// proves there is a next page). Cursors hold no server state, so they survive
// restarts. They are not signed (a forged cursor can only name a since_id,
// which any caller may page from anyway) but decoded strictly: anything that
// is not exactly what this package would have produced for the same
// connection and filters, checksum included, is BAD_USER_INPUT.

const (
	defaultFirst = 50
	maxFirst     = 100
	// workableMaxLimit is the largest page Workable serves (API.md §2). With
	// first=100 and a cursor the page holds X and 99 new items; the page is
	// then shorter than first, which Relay allows.
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
)

// cursorIDPattern bounds what an id inside a cursor may look like; Workable's
// ids are short lowercase hex strings (API.md §1), but only their opacity is
// relied on.
var cursorIDPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)

// cursor is the decoded form of a connection cursor.
type cursor struct {
	V int               `json:"v"`
	K string            `json:"k"`
	F map[string]string `json:"f,omitempty"`
	A string            `json:"a"`
	// S is a checksum of the other fields. It is no secret: it only makes
	// an edited cursor fail loudly instead of paging from elsewhere.
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
	if c.V != cursorVersion || encodeCursor(c.K, c.F, c.A) != s || !cursorIDPattern.MatchString(c.A) {
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
	// skip is true when no Workable call is needed (first: 0 without
	// pageInfo in the selection).
	skip bool
}

// limit is the Workable page size that serves the request: first (at least
// 1, to learn hasNextPage), plus the item the cursor points after.
func (p pageRequest) limit() int {
	n := max(p.first, 1)
	if p.afterID != "" {
		n++
	}
	return min(n, workableMaxLimit)
}

// newPageRequest validates the paging arguments of a connection field.
func newPageRequest(ctx context.Context, kind string, filters map[string]string, first *int, after *string) (pageRequest, error) {
	p := pageRequest{kind: kind, filters: filters, first: defaultFirst}
	if first != nil {
		p.first = *first
	}
	if p.first < 0 || p.first > maxFirst {
		return pageRequest{}, badInput("first must be between 0 and %d, got %d", maxFirst, p.first)
	}
	if after != nil {
		id, err := decodeCursor(*after, kind, filters)
		if err != nil {
			return pageRequest{}, err
		}
		p.afterID = id
	}
	p.skip = p.first == 0 && !selects(ctx, "pageInfo")
	return p, nil
}

// window cuts a fetched Workable page down to the connection's page: it
// drops the item the cursor points after and keeps at most first items.
// more is whether Workable said further items exist (paging.next).
func window[T any](p pageRequest, items []T, id func(T) string, more bool) (page []T, hasNext bool) {
	if p.afterID != "" && len(items) > 0 && id(items[0]) == p.afterID {
		items = items[1:]
	}
	if len(items) > p.first {
		return items[:p.first], true
	}
	return items, more
}

// edgeCursors returns the cursor of each item and the page info.
func edgeCursors[T any](p pageRequest, items []T, id func(T) string, hasNext bool) ([]string, *model.PageInfo) {
	cursors := make([]string, len(items))
	for i, it := range items {
		cursors[i] = encodeCursor(p.kind, p.filters, id(it))
	}
	info := &model.PageInfo{HasNextPage: hasNext, HasPreviousPage: false}
	if len(cursors) > 0 {
		info.StartCursor = &cursors[0]
		info.EndCursor = &cursors[len(cursors)-1]
	}
	return cursors, info
}

// selects reports whether the current field's selection set asks for the
// named field (fragments included).
func selects(ctx context.Context, name string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == name {
			return true
		}
	}
	return false
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
// selection counted once per requested item, so that nested connections
// (one Workable call per parent item) are expensive.
func connectionComplexity(child int, first *int) int {
	n := defaultFirst
	if first != nil {
		n = min(max(*first, 1), maxFirst)
	}
	return 1 + n*child
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
