package upstream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/cache"
)

// The response cache: whole responses of queries, keyed by the request's
// bytes (method, query string, body, and the Accept and Content-Type
// headers that choose the transport and the response's media type) and the
// caller's role, under the credential's namespace. A hit skips parsing,
// validation and execution altogether, which is what lets a warm gateway
// answer at a good fraction of a static handler's speed. Since a hit also
// skips the field-level access check (access.FieldGuard), the role is part
// of the key: a response is only ever served to callers of the role it was
// built for, whose check it passed.
//
// A response is stored only when it is a query's, has no errors, used no
// stale data and only data that is cached by record (not stages, members or
// the account). It carries the generation tokens of the data it was built
// from and counts only while they are all current, so a candidate write
// invalidates exactly the responses that showed that candidate or a
// candidate list, on every replica sharing the cache. It stays fresh until
// the earliest of its data would have stopped being fresh, and is never
// served stale (stale answers come from the record cache, flagged).

// maxCachedRequestBytes bounds the request bodies looked up in the response
// cache; larger requests are executed normally.
const maxCachedRequestBytes = 64 << 10

// A stored response is laid out as its header, then the bytes of the
// response's data. The header is the media type, the operation label (for
// the metrics and log line of the requests it answers) and the generation
// tokens the response was built under (key, value pairs), each string
// preceded by its length as a uvarint, the pairs preceded by their count.
// responseFormat is part of every response key, so that a layout change
// never decodes an older entry (it is simply not found, and expires).
const responseFormat = "r2"

// encodeResponse lays out a stored response.
func encodeResponse(contentType, operation string, deps map[string]string, data []byte) []byte {
	n := len(contentType) + len(operation) + len(data) + 4*binary.MaxVarintLen64
	for k, v := range deps {
		n += len(k) + len(v) + 2*binary.MaxVarintLen64
	}
	b := make([]byte, 0, n)
	b = appendString(b, contentType)
	b = appendString(b, operation)
	b = binary.AppendUvarint(b, uint64(len(deps)))
	for k, v := range deps {
		b = appendString(b, k)
		b = appendString(b, v)
	}
	return append(b, data...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// storedResponse is a decoded stored response.
type storedResponse struct {
	contentType string
	operation   string
	depKeys     []string
	depValues   [][]byte // aliasing the stored bytes
	data        []byte
}

// decodeResponse reverses encodeResponse; ok is false for a corrupt value.
func decodeResponse(b []byte) (r storedResponse, ok bool) {
	next := func() ([]byte, bool) {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return nil, false
		}
		s := b[w : w+int(n)]
		b = b[w+int(n):]
		return s, true
	}
	ct, ok := next()
	if !ok {
		return r, false
	}
	r.contentType = string(ct)
	op, ok := next()
	if !ok {
		return r, false
	}
	r.operation = string(op)
	count, w := binary.Uvarint(b)
	if w <= 0 || count > uint64(len(b)) {
		return r, false
	}
	b = b[w:]
	r.depKeys = make([]string, 0, count)
	r.depValues = make([][]byte, 0, count)
	for range count {
		k, ok1 := next()
		v, ok2 := next()
		if !ok1 || !ok2 {
			return r, false
		}
		r.depKeys = append(r.depKeys, string(k))
		r.depValues = append(r.depValues, v)
	}
	r.data = b
	return r, true
}

// serveWithResponseCache answers r from the response cache when it can, and
// otherwise executes it with next and stores the response when it may.
func (e *Economy) serveWithResponseCache(w http.ResponseWriter, r *http.Request, rs *Request, next http.Handler) {
	key, ok := e.responseKey(r)
	if !ok {
		next.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	ctx, span := e.startSpan(r.Context(), "response cache")
	op, hit := e.serveCachedResponse(w, ctx, key)
	span.SetAttributes(cacheHitKey.Bool(hit))
	span.End()
	if hit {
		e.servedCachedResponse(rs, op, start)
		return
	}
	e.missedCachedResponse()
	cw := &captureWriter{ResponseWriter: w, status: http.StatusOK}
	next.ServeHTTP(cw, r)
	e.storeResponse(r.Context(), key, rs, cw)
}

// responseKey returns the cache key of r, restoring its body; ok is false
// for requests that are not looked up (other methods, large bodies; Serve
// leaves out those answered in parts). The key includes the role of r's
// caller (access.PrincipalFrom), see the file comment.
func (e *Economy) responseKey(r *http.Request) (string, bool) {
	var body []byte
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		b, err := io.ReadAll(io.LimitReader(r.Body, maxCachedRequestBytes+1))
		rest := r.Body
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), rest), rest}
		if err != nil || len(b) > maxCachedRequestBytes {
			return "", false
		}
		body = b
	default:
		return "", false
	}
	role := strconv.Itoa(int(access.PrincipalFrom(r.Context()).Role))
	h := sha256.New()
	for _, part := range []string{responseFormat, role, r.Method, r.Header.Get("Accept"), r.Header.Get("Content-Type"), r.URL.RawQuery} {
		io.WriteString(h, part)
		h.Write([]byte{0})
	}
	h.Write(body)
	return cache.Key(e.ns, cache.KindResponse, hex.EncodeToString(h.Sum(nil))), true
}

// serveCachedResponse writes the cached response under key if there is a
// fresh one whose generations are all current, and returns its operation
// label.
func (e *Economy) serveCachedResponse(w http.ResponseWriter, ctx context.Context, key string) (operation string, ok bool) {
	entries, readOK := e.getMany(ctx, []string{key})
	if !readOK {
		return "", false
	}
	ent, found := entries[key]
	if !found || !ent.IsFresh(time.Now()) {
		return "", false
	}
	stored, decoded := decodeResponse(ent.Value)
	if !decoded {
		return "", false
	}
	if len(stored.depKeys) > 0 {
		gens, ok := e.getMany(ctx, stored.depKeys)
		if !ok {
			return "", false
		}
		for i, k := range stored.depKeys {
			if g, found := gens[k]; !found || !bytes.Equal(g.Value, stored.depValues[i]) {
				return "", false
			}
		}
	}
	// The cost of this answer: one cache hit, no Workable call.
	const head = `{"data":`
	const tail = `,"extensions":{"cost":{"workableCalls":0,"cacheHits":1,"cacheMisses":0,"stale":0},"responseCache":true}}`
	h := w.Header()
	h.Set("Content-Type", stored.contentType)
	h.Set("Content-Length", strconv.Itoa(len(head)+len(stored.data)+len(tail)))
	_, _ = io.WriteString(w, head)
	_, _ = w.Write(stored.data)
	_, _ = io.WriteString(w, tail)
	return stored.operation, true
}

// storeResponse stores the captured response under key when it may be
// cached (see the file comment).
func (e *Economy) storeResponse(ctx context.Context, key string, rs *Request, cw *captureWriter) {
	rs.mu.Lock()
	cacheable := rs.query && !rs.uncacheable && !rs.freshUntil.IsZero()
	freshFor := time.Until(rs.freshUntil)
	deps, op := rs.deps, rs.operation
	rs.mu.Unlock()
	if !cacheable || cw.status != http.StatusOK || freshFor < time.Second {
		return
	}
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(cw.buf.Bytes(), &resp) != nil || len(resp.Errors) > 0 ||
		len(resp.Data) == 0 || bytes.Equal(resp.Data, []byte("null")) {
		return
	}
	val := encodeResponse(cw.Header().Get("Content-Type"), op, deps, resp.Data)
	// Stored with the caller's context: a caller gone away leaves nothing
	// worth keeping half-done.
	e.setMany(ctx, []cache.Item{{Key: key, Value: val, FreshFor: freshFor}})
	e.logger.LogAttrs(ctx, slog.LevelDebug, "response cached", slog.Duration("for", freshFor))
}

// captureWriter passes a response through and keeps a copy of it.
type captureWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (c *captureWriter) WriteHeader(status int) {
	c.status = status
	c.ResponseWriter.WriteHeader(status)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.buf.Write(b)
	return c.ResponseWriter.Write(b)
}
