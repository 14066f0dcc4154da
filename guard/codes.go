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
		body, held := unreadBody(r)
		if !held && r.Body != nil {
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
		if !held {
			r = withBody(r, body)
		}
		next.ServeHTTP(w, r)
	})
}

// noQuery is the answer to a request without a query (nor a persisted
// query's hash): it is not a GraphQL request at all.
const noQuery = "the request has no query: send {\"query\": \"…\"} (or a persisted query's hash in extensions.persistedQuery)"

// graphQLBodyProblem describes what is wrong with a POST body, or returns
// "" when it is a well-formed GraphQL request.
func graphQLBodyProblem(body []byte) string {
	req, ok := scanBodyMembers(body)
	if !ok {
		if req, ok = unmarshalBodyMembers(body); !ok {
			return notAnObject
		}
	}
	return req.problem()
}

// problem describes what is wrong with the members of a body, or returns
// "".
func (req bodyMembers) problem() string {
	if q := bytes.TrimSpace(req.query); (len(q) == 0 || string(q) == "null" || string(q) == `""`) &&
		!bytes.Contains(req.extensions, []byte(`"persistedQuery"`)) {
		return noQuery
	}
	for _, m := range []struct {
		field string
		value []byte
		want  byte
	}{{"query", req.query, '"'}, {"operationName", req.operationName, '"'}, {"variables", req.variables, '{'}, {"extensions", req.extensions, '{'}} {
		v := bytes.TrimSpace(m.value)
		if len(v) == 0 || string(v) == "null" {
			continue
		}
		if v[0] != m.want {
			kind := "a string"
			if m.want == '{' {
				kind = "an object"
			}
			return "the request's " + m.field + " must be " + kind
		}
	}
	return ""
}

// unmarshalBodyMembers decodes the members of body with json.Unmarshal;
// false when body is not a JSON object.
func unmarshalBodyMembers(body []byte) (bodyMembers, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return bodyMembers{}, false
	}
	return bodyMembers{m["query"], m["operationName"], m["variables"], m["extensions"]}, true
}

// notAnObject is the answer to a POST body that is not a JSON object.
const notAnObject = "the request body is not a JSON object; send {\"query\": \"…\", \"variables\": {…}}"

// bodyMembers are the members of a POST body that graphQLBodyProblem
// checks, each as json.Unmarshal into a map[string]json.RawMessage leaves
// it: the last member of that name, nil when there is none.
type bodyMembers struct{ query, operationName, variables, extensions []byte }

// scanBodyMembers finds the members of body, a JSON object, without
// decoding it; false when body is not valid JSON, not an object, or has a
// member name with an escape (json.Unmarshal then decides).
func scanBodyMembers(body []byte) (m bodyMembers, ok bool) {
	if !json.Valid(body) {
		return m, false
	}
	i := skipJSONSpace(body, 0)
	if body[i] != '{' {
		return m, false
	}
	i = skipJSONSpace(body, i+1)
	for body[i] != '}' {
		end := jsonStringEnd(body, i)
		name := body[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			return m, false
		}
		i = skipJSONSpace(body, skipJSONSpace(body, end)+1) // past the colon
		end = jsonValueEnd(body, i)
		switch string(name) {
		case "query":
			m.query = body[i:end]
		case "operationName":
			m.operationName = body[i:end]
		case "variables":
			m.variables = body[i:end]
		case "extensions":
			m.extensions = body[i:end]
		}
		i = skipJSONSpace(body, end)
		if body[i] == ',' {
			i = skipJSONSpace(body, i+1)
		}
	}
	return m, true
}

// skipJSONSpace returns the index of the first byte of b from i on that is
// not JSON whitespace (len(b) if none).
func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// jsonStringEnd returns the index just past the string of valid JSON b
// that starts at i.
func jsonStringEnd(b []byte, i int) int {
	for i++; ; i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

// jsonValueEnd returns the index just past the value of valid JSON b that
// starts at i.
func jsonValueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return jsonStringEnd(b, i)
	case '{', '[':
		depth := 0
		for {
			switch b[i] {
			case '"':
				i = jsonStringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	// A number, true, false or null: up to the next delimiter.
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
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
