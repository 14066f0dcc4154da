package guard

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// DefaultMaxBodyBytes is the body cap BodyLimit applies when given max <= 0.
// A GraphQL request is a query text plus variables; 1 MiB is far above any
// reasonable one and far below what would hurt the gateway.
const DefaultMaxBodyBytes int64 = 1 << 20

// BodyLimit reads at most max+1 bytes of the request body before calling
// next. A body over max bytes (or a Content-Length that announces one) gets
// HTTP 413 with code REQUEST_TOO_LARGE and next is not called; otherwise next
// sees the whole body, already in memory. max <= 0 means
// DefaultMaxBodyBytes.
//
// Reading up front means a slow client holds no resolver and no upstream
// budget; the http.Server's ReadTimeout bounds how long the read may take.
// A GET request's query string is bounded by the server's MaxHeaderBytes
// instead.
func BodyLimit(max int64, next http.Handler) http.Handler {
	if max <= 0 {
		max = DefaultMaxBodyBytes
	}
	tooLarge := fmt.Sprintf("the request body is larger than %d bytes", max)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			WriteError(w, http.StatusRequestEntityTooLarge, CodeRequestTooLarge, tooLarge)
			return
		}
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
		_ = r.Body.Close()
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				WriteError(w, http.StatusRequestEntityTooLarge, CodeRequestTooLarge, tooLarge)
				return
			}
			WriteError(w, http.StatusBadRequest, CodeBadRequest, "the request body could not be read")
			return
		}
		if int64(len(body)) > max {
			WriteError(w, http.StatusRequestEntityTooLarge, CodeRequestTooLarge, tooLarge)
			return
		}
		next.ServeHTTP(w, withBody(r, body))
	})
}

// heldBody is a request body read into memory (by BodyLimit or
// CheckRequest): the checks after it look at its bytes instead of reading
// it again.
type heldBody struct {
	bytes.Reader
	data []byte
}

// Close implements io.Closer.
func (*heldBody) Close() error { return nil }

// withBody returns a shallow copy of r (as r.WithContext makes) whose body
// is data, held in memory.
func withBody(r *http.Request, data []byte) *http.Request {
	hb := &heldBody{data: data}
	hb.Reset(data)
	r2 := r.WithContext(r.Context())
	r2.Body = hb
	r2.ContentLength = int64(len(data))
	return r2
}

// unreadBody returns the bytes of r's body when it is held in memory and
// nothing has read from it yet.
func unreadBody(r *http.Request) ([]byte, bool) {
	hb, ok := r.Body.(*heldBody)
	if !ok || hb.Len() != len(hb.data) {
		return nil, false
	}
	return hb.data, true
}

// RejectBatches answers a POST whose JSON body is an array (a batch of
// operations, as some clients send) with HTTP 400 and code
// BATCH_NOT_SUPPORTED, without calling next.
//
// The gateway runs one operation per request: gqlgen's POST transport cannot
// decode a batch anyway (it would answer with a confusing decode error), and
// a batch would multiply a request's cost past every per-operation limit.
// So batches are refused outright rather than allowed up to some N.
//
// Only the leading whitespace and the first byte of the body are read here;
// put BodyLimit outside this middleware so that whitespace is bounded (the
// body BodyLimit holds in memory is looked at, not read).
func RejectBatches(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Body == nil || r.Body == http.NoBody || !isJSON(r.Header.Get("Content-Type")) {
			next.ServeHTTP(w, r)
			return
		}
		if data, ok := unreadBody(r); ok {
			if i := skipJSONSpace(data, 0); i < len(data) && data[i] == '[' {
				WriteError(w, http.StatusBadRequest, CodeBatchNotSupported, batchRefusal)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		br := bufio.NewReader(r.Body)
		first, err := firstNonSpace(br)
		if err == nil && first == '[' {
			WriteError(w, http.StatusBadRequest, CodeBatchNotSupported, batchRefusal)
			return
		}
		r2 := r.WithContext(r.Context())
		r2.Body = struct {
			io.Reader
			io.Closer
		}{br, r.Body}
		next.ServeHTTP(w, r2)
	})
}

// batchRefusal is the message of RejectBatches' answer.
const batchRefusal = "batched operations are not supported; send one operation per request"

// firstNonSpace consumes JSON whitespace from br and returns the next byte
// without consuming it.
func firstNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return b, br.UnreadByte()
	}
}

// isJSON reports whether a Content-Type names JSON (application/json or a
// +json type).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
