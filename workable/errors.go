package workable

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Sentinel errors. Every error returned by the client matches at most a few of
// them with errors.Is; callers never need to match error text.
var (
	// ErrNotFound is a 404.
	ErrNotFound = errors.New("workable: not found")
	// ErrConflict is a 409: a webhook subscription to a target URL that is
	// already subscribed (API.md §8, §9).
	ErrConflict = errors.New("workable: conflict")
	// ErrUnauthorized is a 401 or a 403 (bad, expired or scope-less token).
	ErrUnauthorized = errors.New("workable: unauthorized")
	// ErrRateLimited is a 429 that retries could not get past, or a rate
	// limiter that cannot give a slot before the context's deadline.
	ErrRateLimited = errors.New("workable: rate limited")
	// ErrAlreadyExists is a 422 whose validation_errors contain
	// "candidate already exists" (API.md §4).
	ErrAlreadyExists = errors.New("workable: already exists")
	// ErrValidation is any 422.
	ErrValidation = errors.New("workable: validation failed")
	// ErrUnavailable is a 5xx, a timeout, a network error, or a response body
	// that is too large or cannot be decoded.
	ErrUnavailable = errors.New("workable: unavailable")
	// ErrOutcomeUnknown marks a write (POST, PATCH) that may or may not have
	// been applied: it got a 5xx, timed out, or lost its connection after the
	// request was sent. Such writes are never retried by the client; callers
	// should check Workable's state before trying again.
	ErrOutcomeUnknown = errors.New("workable: outcome of write unknown")
	// ErrForeignNextURL is returned when a paging.next URL is not on the base
	// URL's scheme and host: following it would send the token elsewhere.
	ErrForeignNextURL = errors.New("workable: next page URL is not on the base URL's host")
	// ErrPageLimit is returned by Walk when more pages remain after maxPages.
	ErrPageLimit = errors.New("workable: page limit reached")
)

// alreadyExistsText is the validation message Workable uses for a duplicate
// candidate (API.md §4, from the Ruby client).
const alreadyExistsText = "candidate already exists"

// ErrorResponse is a non-2xx answer from Workable (API.md §8).
type ErrorResponse struct {
	// Method is the HTTP method, e.g. "GET".
	Method string
	// Route is the route template, e.g. "GET /candidates/{id}"; it never
	// carries ids or query values.
	Route string
	// StatusCode is the HTTP status.
	StatusCode int
	// Message is the body's "error" (or "message") string, or the status
	// text when the body has neither.
	Message string
	// ValidationErrors is the body's "validation_errors" (422).
	ValidationErrors map[string][]string
	// RetryAfter is, for a 429, how long Workable asked us to wait.
	RetryAfter time.Duration
	// RequestID is the answer's X-Request-Id (API.md §10), Workable's name
	// for the request, to quote when asking Workable about it; "" when the
	// answer had none, or one that does not look like an id. It is not part
	// of Error().
	RequestID string
}

// Error returns e.g. "workable: GET /candidates/{id}: 404 Not found". It
// contains neither the token nor the request URL.
func (e *ErrorResponse) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "workable: %s: %d %s", e.Route, e.StatusCode, e.Message)
	if len(e.ValidationErrors) > 0 {
		keys := make([]string, 0, len(e.ValidationErrors))
		for k := range e.ValidationErrors {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteString(" (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s: %s", k, strings.Join(e.ValidationErrors[k], ", "))
		}
		b.WriteString(")")
	}
	return b.String()
}

// Is reports whether e matches one of the package's sentinel errors.
func (e *ErrorResponse) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrValidation:
		return e.StatusCode == http.StatusUnprocessableEntity
	case ErrAlreadyExists:
		return e.StatusCode == http.StatusUnprocessableEntity && e.alreadyExists()
	case ErrUnavailable:
		return e.StatusCode >= 500
	case ErrOutcomeUnknown:
		return e.StatusCode >= 500 && isWrite(e.Method)
	}
	return false
}

func (e *ErrorResponse) alreadyExists() bool {
	for _, msgs := range e.ValidationErrors {
		for _, m := range msgs {
			if strings.Contains(strings.ToLower(m), alreadyExistsText) {
				return true
			}
		}
	}
	return false
}

// requestError is a failure that is not a Workable error status: a network
// error, a timeout, an oversize or undecodable body. Its text is built once,
// with the token redacted, so that no formatting verb can reveal it.
type requestError struct {
	route          string
	msg            string
	err            error
	unavailable    bool
	outcomeUnknown bool
	retry          bool // safe and worth retrying
}

func (e *requestError) Error() string { return "workable: " + e.route + ": " + e.msg }

func (e *requestError) Unwrap() error { return e.err }

func (e *requestError) Is(target error) bool {
	switch target {
	case ErrUnavailable:
		return e.unavailable
	case ErrOutcomeUnknown:
		return e.outcomeUnknown
	}
	return false
}

// redact removes every occurrence of secret from s.
func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[REDACTED]")
}

func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}
