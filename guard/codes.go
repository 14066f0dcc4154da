package guard

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// More extensions.code values of this package.
const (
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	CodeMethodNotAllowed     = "METHOD_NOT_ALLOWED"
)

// CheckRequest refuses, before the GraphQL server sees them, requests it
// could only answer with a vague error: a method other than GET, POST or
// OPTIONS (405 METHOD_NOT_ALLOWED), a POST whose Content-Type is not
// application/json (415 UNSUPPORTED_MEDIA_TYPE), a POST body that is not a
// JSON object with a string query, a string operationName and object
// variables and extensions (each optional or null; 400 BAD_REQUEST), and a
// request with no query nor persisted query hash at all (400 BAD_REQUEST,
// as GraphQL over HTTP asks: it is no GraphQL request).
//
// It reads the whole body: put BodyLimit outside it (and RejectBatches,
// whose answer for a JSON array is the more helpful one).
func CheckRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		case http.MethodGet:
			q := r.URL.Query()
			if q.Get("query") == "" && !strings.Contains(q.Get("extensions"), "persistedQuery") {
				WriteError(w, http.StatusBadRequest, CodeBadRequest, noQuery)
				return
			}
			next.ServeHTTP(w, r)
			return
		case http.MethodPost:
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			WriteError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "use GET or POST")
			return
		}
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			WriteError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
				"send GraphQL requests as POST with Content-Type: application/json (or as GET with a query parameter)")
			return
		}
		var body []byte
		if r.Body != nil {
			body, err = io.ReadAll(r.Body)
			_ = r.Body.Close()
			if err != nil {
				WriteError(w, http.StatusBadRequest, CodeBadRequest, "the request body could not be read")
				return
			}
		}
		if msg := graphQLBodyProblem(body); msg != "" {
			WriteError(w, http.StatusBadRequest, CodeBadRequest, msg)
			return
		}
		r2 := r.Clone(r.Context())
		r2.Body = io.NopCloser(bytes.NewReader(body))
		r2.ContentLength = int64(len(body))
		next.ServeHTTP(w, r2)
	})
}

// noQuery is the answer to a request without a query (nor a persisted
// query's hash): it is not a GraphQL request at all.
const noQuery = "the request has no query: send {\"query\": \"…\"} (or a persisted query's hash in extensions.persistedQuery)"

// graphQLBodyProblem describes what is wrong with a POST body, or returns
// "" when it is a well-formed GraphQL request.
func graphQLBodyProblem(body []byte) string {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil || req == nil {
		return "the request body is not a JSON object; send {\"query\": \"…\", \"variables\": {…}}"
	}
	if q := bytes.TrimSpace(req["query"]); (len(q) == 0 || string(q) == "null" || string(q) == `""`) &&
		!bytes.Contains(req["extensions"], []byte(`"persistedQuery"`)) {
		return noQuery
	}
	for field, want := range map[string]byte{"query": '"', "operationName": '"', "variables": '{', "extensions": '{'} {
		v := bytes.TrimSpace(req[field])
		if len(v) == 0 || string(v) == "null" {
			continue
		}
		if v[0] != want {
			kind := map[byte]string{'"': "a string", '{': "an object"}[want]
			return "the request's " + field + " must be " + kind
		}
	}
	return ""
}

// ErrorCodes makes sure every error answer of next (HTTP status 400 or
// more) carries an extensions.code, so that clients can handle every
// refusal the same way: gqlgen's transports answer some malformed requests
// (a body that is not JSON, variables of the wrong shape, a mutation over
// GET) with errors that have none. Such an error gets CodeBadRequest; a
// body that is not a GraphQL-shaped JSON error is replaced by one. Answers
// below 400 pass through untouched, unbuffered.
func ErrorCodes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &codeWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		cw.finish()
	})
}

// codeWriter buffers an error answer to add codes to it.
type codeWriter struct {
	http.ResponseWriter
	status    int
	buffering bool
	buf       bytes.Buffer
}

func (c *codeWriter) WriteHeader(status int) {
	if c.status != 0 {
		return
	}
	c.status = status
	if status >= http.StatusBadRequest {
		c.buffering = true
		return
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *codeWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if c.buffering {
		return c.buf.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *codeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// Flush passes flushes on for answers streamed in parts (@defer over
// multipart/mixed, Server-Sent Events), which gqlgen's transports only
// send through a writer that is an http.Flusher. An error answer being
// buffered is not flushed.
func (c *codeWriter) Flush() {
	if c.buffering {
		return
	}
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// finish writes a buffered error answer with codes added.
func (c *codeWriter) finish() {
	if !c.buffering {
		return
	}
	body, code, ok := withCodes(c.buf.Bytes())
	if !ok {
		WriteError(c.ResponseWriter, c.status, CodeBadRequest, http.StatusText(c.status))
		return
	}
	recordCode(c.ResponseWriter, code)
	h := c.Header()
	if responseMedia(h) != mediaGraphQLResponse {
		h.Set("Content-Type", mediaJSON)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.ResponseWriter.WriteHeader(c.status)
	_, _ = c.ResponseWriter.Write(body)
}

// withCodes adds code BAD_REQUEST to every error of a GraphQL response
// body that has none and returns the code of its first error; ok is false
// when b is not such a body.
func withCodes(b []byte) (out []byte, first string, ok bool) {
	var resp map[string]json.RawMessage
	if json.Unmarshal(b, &resp) != nil {
		return nil, "", false
	}
	var errs []map[string]any
	if json.Unmarshal(resp["errors"], &errs) != nil || len(errs) == 0 {
		return nil, "", false
	}
	changed := false
	for _, e := range errs {
		ext, _ := e["extensions"].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			e["extensions"] = ext
		}
		if code, _ := ext["code"].(string); code == "" {
			ext["code"] = CodeBadRequest
			changed = true
		}
	}
	first, _ = errs[0]["extensions"].(map[string]any)["code"].(string)
	if !changed {
		return b, first, true
	}
	raw, err := json.Marshal(errs)
	if err != nil {
		return nil, "", false
	}
	resp["errors"] = raw
	out, err = json.Marshal(resp)
	return out, first, err == nil
}
