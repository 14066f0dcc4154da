// Package guard holds the gateway's request guards: HTTP middleware that
// bounds what one request may cost (body size, deadline, per-client rate,
// batching) and a gqlgen extension that bounds the shape of an operation
// (depth, aliases, root fields, tokens). Every refusal is a GraphQL-shaped
// error with an extensions.code, so clients can handle it like any other
// GraphQL error.
package guard

import (
	"encoding/json"
	"net/http"
)

// The extensions.code values of the errors this package answers with.
const (
	CodeRequestTooLarge   = "REQUEST_TOO_LARGE"
	CodeBadRequest        = "BAD_REQUEST"
	CodeTooManyRequests   = "TOO_MANY_REQUESTS"
	CodeBatchNotSupported = "BATCH_NOT_SUPPORTED"
	CodeQueryTooDeep      = "QUERY_TOO_DEEP"
	CodeTooManyAliases    = "TOO_MANY_ALIASES"
	CodeTooManyRootFields = "TOO_MANY_ROOT_FIELDS"
	CodeTooManyFields     = "TOO_MANY_FIELDS"
	CodeTooManyTokens     = "TOO_MANY_TOKENS"
)

// errorBody is the JSON shape of a GraphQL response that carries one error
// and no data.
type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

// ErrorCodeRecorder is implemented by a response writer that wants to know
// the extensions.code of a refusal answered through it (the request
// logger, for its log line and metrics). WriteError, ErrorCodes and
// OverHTTP find it through the Unwrap chain of the writers in between.
type ErrorCodeRecorder interface {
	// RecordErrorCode notes the code of the request's refusal. More than
	// one guard may report the same refusal: the first code counts.
	RecordErrorCode(code string)
}

// recordCode passes code to the first ErrorCodeRecorder along w's Unwrap
// chain, if any.
func recordCode(w http.ResponseWriter, code string) {
	for w != nil {
		if r, ok := w.(ErrorCodeRecorder); ok {
			r.RecordErrorCode(code)
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// WriteError answers a request with status and a GraphQL-shaped body,
// {"errors":[{"message":message,"extensions":{"code":code}}]}, for refusals
// that happen before the GraphQL handler runs, and records code (see
// ErrorCodeRecorder). message is shown to the client as is, so it must
// never hold a secret.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	recordCode(w, code)
	b, err := json.Marshal(errorBody{Errors: []errorEntry{{
		Message:    message,
		Extensions: map[string]any{"code": code},
	}}})
	if err != nil {
		// Unreachable: the body holds strings only.
		b = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
