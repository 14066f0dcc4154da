package simulator

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Paging limits of every list endpoint (API.md §2).
const (
	defaultLimit = 50
	maxLimit     = 100
)

// listParams are the paging parameters shared by every list.
type listParams struct {
	limit   int
	sinceID uint64
	hasMin  bool
	maxID   uint64
	hasMax  bool
}

// paramError is a bad query parameter, answered 422.
//
// simulator guess: Workable does not document how it rejects bad parameters;
// 422 {"error": "...", "validation_errors": {param: [msg]}} matches its other
// validation failures.
type paramError struct {
	param, msg string
}

func (e *paramError) Error() string { return e.param + " " + e.msg }

func writeParamError(w http.ResponseWriter, err error) {
	if pe, ok := err.(*paramError); ok {
		writeValidation(w, "Invalid parameter: "+pe.param, map[string][]string{pe.param: {pe.msg}})
		return
	}
	writeError(w, http.StatusUnprocessableEntity, err.Error())
}

// parseListParams reads limit (default 50; above 100 is clamped to 100 —
// simulator guess; zero, negative or non-numeric is a 422 — simulator
// guess), since_id and max_id (hex ids, both inclusive).
func parseListParams(q url.Values) (listParams, error) {
	lp := listParams{limit: defaultLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return lp, &paramError{"limit", "must be a positive integer"}
		}
		lp.limit = min(n, maxLimit)
	}
	if v := q.Get("since_id"); v != "" {
		n, ok := parseHexID(v)
		if !ok {
			return lp, &paramError{"since_id", "is not a valid id"}
		}
		lp.sinceID, lp.hasMin = n, true
	}
	if v := q.Get("max_id"); v != "" {
		n, ok := parseHexID(v)
		if !ok {
			return lp, &paramError{"max_id", "is not a valid id"}
		}
		lp.maxID, lp.hasMax = n, true
	}
	return lp, nil
}

func (lp listParams) inRange(id uint64) bool {
	return (!lp.hasMin || id >= lp.sinceID) && (!lp.hasMax || id <= lp.maxID)
}

// paginate keeps the items (already filtered, in ascending id order) within
// since_id/max_id and returns the first page and, when more remain, the
// since_id of the next page: the page's last id plus one, as a live account
// answers (a page ending at 2727030a has since_id=2727030b, API.md §10).
func paginate[T any](items []T, id func(T) uint64, lp listParams) (page []T, next uint64, more bool) {
	for _, it := range items {
		if !lp.inRange(id(it)) {
			continue
		}
		if len(page) == lp.limit {
			return page, id(page[len(page)-1]) + 1, true
		}
		page = append(page, it)
	}
	return page, 0, false
}

// pagingJSON is the "paging" key of a list response.
type pagingJSON struct {
	Next string `json:"next"`
}

// nextURL is paging.next: an absolute URL on the request's host, same path,
// the original filters, then limit and since_id (API.md §2, §10). The
// scheme is http, or https for TLS, or X-Forwarded-Proto.
func nextURL(r *http.Request, limit int, since uint64) string {
	return nextURLAt(r, r.URL.Path, nil, limit, since)
}

// nextURLAt is nextURL on another path, without the query parameters in
// drop: a live GET /candidates?shortcode=X pages through
// /jobs/X/candidates (API.md §10).
func nextURLAt(r *http.Request, path string, drop []string, limit int, since uint64) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		scheme = strings.ToLower(strings.TrimSpace(strings.Split(p, ",")[0]))
	}
	q := url.Values{}
	for k, vs := range r.URL.Query() {
		if k == "limit" || k == "since_id" || slices.Contains(drop, k) {
			continue
		}
		q[k] = vs
	}
	query := q.Encode()
	if query != "" {
		query += "&"
	}
	query += fmt.Sprintf("limit=%d&since_id=%s", limit, hexID(since))
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: path, RawQuery: query}).String()
}

// writeList answers {key: items, "paging": {...}} with paging only when
// more items remain: on the last page the key is absent (API.md §10).
func writeList(w http.ResponseWriter, r *http.Request, key string, items any, lp listParams, next uint64, more bool) {
	writeListNext(w, key, items, more, func() string { return nextURL(r, lp.limit, next) })
}

// writeListNext is writeList with paging.next made by next.
func writeListNext(w http.ResponseWriter, key string, items any, more bool, next func() string) {
	body := map[string]any{key: items}
	if more {
		body["paging"] = pagingJSON{Next: next()}
	}
	writeJSON(w, http.StatusOK, body)
}

// parseTimeParam reads created_after/updated_after: RFC 3339 (with or
// without fractional seconds), ISO 8601 basic (20150708T115616Z), a date
// (2015-07-08), or Unix seconds (1436356721) — API.md §2.
func parseTimeParam(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	// A '+' in an offset arrives as a space when the client did not escape it.
	v = strings.ReplaceAll(v, " ", "+")
	layouts := []string{time.RFC3339Nano, "20060102T150405Z", "20060102T150405Z0700", "2006-01-02T15:04:05Z0700", "2006-01-02"}
	for _, layout := range layouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// timeFilter is created_after and updated_after.
//
// simulator guess: "after" is strict (created_at > t); the reference does
// not say whether the bound is inclusive.
type timeFilter struct {
	createdAfter, updatedAfter *time.Time
}

func parseTimeFilter(q url.Values) (timeFilter, error) {
	var tf timeFilter
	for _, p := range []struct {
		name string
		dst  **time.Time
	}{{"created_after", &tf.createdAfter}, {"updated_after", &tf.updatedAfter}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, ok := parseTimeParam(v)
		if !ok {
			return tf, &paramError{p.name, "is not a valid timestamp"}
		}
		*p.dst = &t
	}
	return tf, nil
}

func (tf timeFilter) keep(created, updated time.Time) bool {
	if tf.createdAfter != nil && !created.After(*tf.createdAfter) {
		return false
	}
	if tf.updatedAfter != nil && !updated.After(*tf.updatedAfter) {
		return false
	}
	return true
}
