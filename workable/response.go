package workable

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate is Workable's view of the token's budget, from the X-Rate-Limit-*
// headers every response carries (API.md §7).
type Rate struct {
	// Limit is X-Rate-Limit-Limit, the requests allowed per interval.
	Limit int
	// Remaining is X-Rate-Limit-Remaining, the requests left in the interval.
	Remaining int
	// Reset is X-Rate-Limit-Reset (unix seconds), the start of the next
	// interval. It is zero when the response carried no usable Remaining and
	// Reset headers; such a Rate says nothing about the budget.
	Reset time.Time
}

// parseRate reads the X-Rate-Limit-* headers. Reset is only set when both
// Remaining and Reset parse, so that a missing Remaining is never read as 0.
func parseRate(h http.Header) Rate {
	var r Rate
	if v, err := strconv.Atoi(h.Get("X-Rate-Limit-Limit")); err == nil {
		r.Limit = v
	}
	rem, errRem := strconv.Atoi(h.Get("X-Rate-Limit-Remaining"))
	reset, errReset := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	if errRem == nil && errReset == nil {
		r.Remaining = rem
		r.Reset = time.Unix(reset, 0)
	}
	return r
}

// maxRequestIDLen bounds the X-Request-Id kept from an answer; Workable's
// are UUIDs (36 characters).
const maxRequestIDLen = 128

// requestIDChars are the bytes an X-Request-Id may hold to be kept.
const requestIDChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:"

// requestID returns an answer's X-Request-Id (API.md §10) when it looks like
// an id: at most maxRequestIDLen ASCII letters, digits and "-._:". Anything
// else (it comes from outside, and goes into logs) gives "".
func requestID(h http.Header) string {
	id := h.Get("X-Request-Id")
	if len(id) > maxRequestIDLen || strings.Trim(id, requestIDChars) != "" {
		return ""
	}
	return id
}

// Response is a Workable response. The embedded *http.Response's Body has
// already been read (it is replaced by an in-memory copy of at most the
// client's maximum body size).
type Response struct {
	*http.Response

	// Rate is the parsed X-Rate-Limit-* headers.
	Rate Rate
	// NextURL is the body's paging.next (an absolute URL), "" on the last
	// page and for responses that are not lists.
	NextURL string
	// NextSinceID is the since_id query value of NextURL ("" if none); pass
	// it as SinceID in the list options to fetch the next page.
	NextSinceID string

	// pageKey and pageRoute let Walk fetch NextURL: the body key holding the
	// items (e.g. "jobs") and the route template of the list.
	pageKey   string
	pageRoute string
}
