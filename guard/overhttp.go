package guard

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"github.com/workablegw/gateway/ctxkey"
	"github.com/workablegw/gateway/gqlext"
)

// GraphQL over HTTP (https://graphql.github.io/graphql-over-http/) asks
// for status codes that depend on the media type the client accepts, and
// gqlgen's transports get some of them wrong: a document that does not
// parse or validate answers 422 to application/json (the spec says 200, and
// Python's urllib, among others, raises on 422 before a script can read
// errors), and a response that never reached execution keeps a "data":
// null entry, which the spec says must be absent. OverHTTP fixes the
// answers; RequestErrors tells it which ones never reached execution.

// Media types of GraphQL responses.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// requestErrors is what RequestErrors learns about one request: whether its
// response was produced before execution (a request error: parse,
// validation, variable coercion, query limits, access, persisted query
// not found), and the code of its first error.
type requestErrors struct {
	before bool
	code   string
}

// requestErrorsKey carries the requestErrors of OverHTTP to the extension.
var requestErrorsKey = ctxkey.New[*requestErrors]("guard.requestErrors")

// RequestErrors returns a gqlgen extension that notes, for OverHTTP, when a
// response is a request error: a response that carries errors and no data
// because the operation never ran. Add it to the server that OverHTTP
// wraps.
func RequestErrors() graphql.HandlerExtension { return requestErrorsExtension{Name: "RequestErrors"} }

type requestErrorsExtension struct{ gqlext.Name }

var _ graphql.ResponseInterceptor = requestErrorsExtension{}

// InterceptResponse marks responses without data: gqlgen produces those
// only for errors raised before execution (an executed operation always
// has data, null included).
func (requestErrorsExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || resp.Data != nil || len(resp.Errors) == 0 {
		return resp
	}
	if re := requestErrorsKey.Get(ctx); re != nil && !re.before {
		re.before = true
		if code, ok := resp.Errors[0].Extensions["code"].(string); ok {
			re.code = code
		}
	}
	return resp
}

// OverHTTP makes the GraphQL handler next answer as GraphQL over HTTP asks
// (its server must use RequestErrors):
//
//   - A request error (nothing executed) answers 200 to a client that
//     accepts application/json, and 400 (403 for FORBIDDEN) to one that
//     accepts application/graphql-response+json, and its body has no data
//     entry. A response of an executed operation is untouched.
//   - A mutation sent with GET answers 405 METHOD_NOT_ALLOWED with
//     Allow: POST, as the spec requires, instead of gqlgen's 406.
//
// The code of a request error is recorded for the request log line and
// metrics (see ErrorCodeRecorder). Streamed responses (Flush) pass through
// unbuffered.
func OverHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		re := &requestErrors{}
		ow := &overHTTPWriter{ResponseWriter: w, method: r.Method, re: re}
		next.ServeHTTP(ow, r.WithContext(requestErrorsKey.With(r.Context(), re)))
		ow.finish()
	})
}

// overHTTPWriter holds back the status until the first byte of the body,
// when RequestErrors has seen the response, and buffers the answers it
// rewrites.
type overHTTPWriter struct {
	http.ResponseWriter
	method string
	re     *requestErrors

	status    int  // the status next asked for (0: none yet)
	decided   bool // the status has been written or the answer is buffered
	buffering bool
	// getMutation is a mutation refused over GET.
	getMutation bool
	buf         bytes.Buffer
}

func (o *overHTTPWriter) WriteHeader(status int) {
	if o.decided || o.status != 0 {
		return
	}
	if status >= 100 && status < 200 {
		o.ResponseWriter.WriteHeader(status) // informational: pass on
		return
	}
	o.status = status
}

func (o *overHTTPWriter) Write(b []byte) (int, error) {
	o.decide()
	if o.buffering {
		return o.buf.Write(b)
	}
	return o.ResponseWriter.Write(b)
}

// Flush writes the held status and flushes, for streamed responses.
func (o *overHTTPWriter) Flush() {
	o.decide()
	if o.buffering {
		return
	}
	if f, ok := o.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (o *overHTTPWriter) Unwrap() http.ResponseWriter { return o.ResponseWriter }

// decide writes the status, or starts buffering an answer to rewrite.
func (o *overHTTPWriter) decide() {
	if o.decided {
		return
	}
	o.decided = true
	status := o.status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case o.method == http.MethodGet && status == http.StatusNotAcceptable:
		// gqlgen's answer to a mutation over GET.
		o.getMutation, o.buffering = true, true
	case o.re.before:
		o.buffering = true
		o.status = requestErrorStatus(responseMedia(o.Header()), status, o.re.code)
		recordCode(o.ResponseWriter, o.re.code)
	default:
		o.ResponseWriter.WriteHeader(status)
	}
}

// finish writes what was held back or buffered.
func (o *overHTTPWriter) finish() {
	if !o.decided {
		if o.status == 0 {
			return // nothing was written: net/http answers 200 with no body
		}
		o.decide()
	}
	if !o.buffering {
		return
	}
	if o.getMutation {
		o.Header().Del("Content-Length")
		o.Header().Set("Allow", "POST")
		WriteError(o.ResponseWriter, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"GET requests only run queries; send mutations with POST")
		return
	}
	body := withoutData(o.buf.Bytes())
	o.Header().Set("Content-Length", strconv.Itoa(len(body)))
	o.ResponseWriter.WriteHeader(o.status)
	_, _ = o.ResponseWriter.Write(body)
}

// requestErrorStatus is the status of a request error answered in media
// type media that next wanted to answer with status.
func requestErrorStatus(media string, status int, code string) int {
	if media == mediaGraphQLResponse {
		// A response without data must have a 4xx or 5xx status.
		switch {
		case status >= 400:
			return status
		case code == "FORBIDDEN":
			return http.StatusForbidden
		default:
			return http.StatusBadRequest
		}
	}
	if status == http.StatusUnprocessableEntity {
		// A well-formed request answered in application/json gets 200,
		// whatever its GraphQL errors.
		return http.StatusOK
	}
	return status
}

// responseMedia returns the media type of the response headers h.
func responseMedia(h http.Header) string {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return mediaJSON
	}
	return mt
}

// withoutData returns the GraphQL response b without its data entry (which
// is null for a request error), or b itself when it is not a JSON object.
func withoutData(b []byte) []byte {
	var resp map[string]json.RawMessage
	if json.Unmarshal(b, &resp) != nil || resp == nil {
		return b
	}
	if _, ok := resp["data"]; !ok {
		return b
	}
	delete(resp, "data")
	out, err := json.Marshal(resp)
	if err != nil {
		return b
	}
	return out
}
