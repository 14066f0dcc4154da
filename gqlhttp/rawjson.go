package gqlhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/workablegw/gateway/ctxkey"
)

// rawData serves its transport's (gqlgen's POST or GET) requests, every
// header, status code and request error included, but writes an
// operation's response without encoding/json's second pass over data.
// gqlgen's transports write a response with json.Marshal, which validates
// and compacts the already compact data (json.RawMessage) byte by byte;
// here data is scanned once and copied, escaped exactly as json.Marshal
// escapes it (<, > and & as \u003c \u003e \u0026, U+2028 and U+2029),
// while errors and extensions are marshalled by encoding/json as before.
// The bytes are json.Marshal's: data with anything the scan does not
// expect of compact JSON (whitespace between tokens, invalid UTF-8 in a
// string, an empty value) is written through json.Marshal itself.
type rawData struct{ graphql.Transport }

// Do implements graphql.Transport.
func (t rawData) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	held := &heldResponse{}
	t.Transport.Do(&rawDataWriter{ResponseWriter: w, held: held}, r, heldExecutor{GraphExecutor: exec, held: held})
}

// heldResponse is an operation's response, between the executor that
// produced it and the writer that writes it.
type heldResponse struct {
	resp *graphql.Response
	// prepared is the buffer PreparedData handed out as the data, when
	// the data is already escaped.
	prepared *bytes.Buffer
}

// heldKey carries an operation's heldResponse in its context.
var heldKey = ctxkey.New[*heldResponse]("gqlhttp.heldResponse")

// DataBuffer returns an empty buffer for the data of the operation of ctx,
// to be handed back with PreparedData: pooled when the operation's
// response is written by GET or POST, new otherwise.
func DataBuffer(ctx context.Context) *bytes.Buffer {
	if h := heldKey.Get(ctx); h != nil {
		buf := bufPool.Get().(*bytes.Buffer)
		buf.Reset()
		return buf
	}
	return new(bytes.Buffer)
}

// PreparedData returns the bytes of buf (from DataBuffer) as the data of
// the operation of ctx. They must be compact JSON escaped as json.Marshal
// escapes a json.RawMessage (<, > and & as \u003c \u003e \u0026, U+2028
// and U+2029 as \u2028 \u2029): the GET and POST transports then write
// them without a scan, and return buf to the pool once the response is
// written, unless the response's data is no longer buf's bytes by then.
// The caller must not use buf afterwards. Other transports marshal the
// data as any other, and buf is left to the garbage collector.
func PreparedData(ctx context.Context, buf *bytes.Buffer) json.RawMessage {
	if h := heldKey.Get(ctx); h != nil && h.prepared == nil {
		h.prepared = buf
	}
	return buf.Bytes()
}

// heldExecutor gives the transport, for the operation's response, a stub
// without errors and data (cheap for json.Marshal), and keeps the
// response for rawDataWriter.
type heldExecutor struct {
	graphql.GraphExecutor
	held *heldResponse
}

// DispatchOperation implements graphql.GraphExecutor.
func (e heldExecutor) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	next, ctx := e.GraphExecutor.DispatchOperation(ctx, rc)
	return func(ctx context.Context) *graphql.Response {
		resp := next(ctx)
		if resp == nil || e.held.resp != nil {
			return resp
		}
		e.held.resp = resp
		stub := *resp
		stub.Errors, stub.Data = nil, nil
		return &stub
	}, heldKey.With(ctx, e.held)
}

// stubPrefix is how json.Marshal of heldExecutor's stub starts.
const stubPrefix = `{"data":null`

// rawDataWriter writes the held response in place of its stub.
type rawDataWriter struct {
	http.ResponseWriter
	held *heldResponse
}

// Write implements http.ResponseWriter.
func (w *rawDataWriter) Write(p []byte) (int, error) {
	resp := w.held.resp
	if resp == nil || !bytes.HasPrefix(p, []byte(stubPrefix)) {
		return w.ResponseWriter.Write(p)
	}
	w.held.resp = nil
	// The data is the prepared buffer's as long as no interceptor has
	// replaced it; only then is it known to be escaped, and referenced by
	// nothing but resp once written.
	prepared := w.held.prepared
	w.held.prepared = nil
	if prepared != nil && !sameBytes(resp.Data, prepared.Bytes()) {
		prepared = nil
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		putBuf(buf)
		if prepared != nil {
			resp.Data = nil
			putBuf(prepared)
		}
	}()
	buf.Reset()
	if !appendResponse(buf, resp, p[len(stubPrefix):], prepared != nil) {
		b, err := json.Marshal(resp)
		if err != nil {
			// As gqlgen's transports do: a response that cannot be
			// marshalled is a bug in the schema's marshalers.
			panic(err)
		}
		buf.Reset()
		buf.Write(b)
	}
	if _, err := w.ResponseWriter.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Unwrap lets http.ResponseController reach the connection.
func (w *rawDataWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Buffers of responses are pooled up to maxPooledBuf bytes.
const maxPooledBuf = 1 << 20

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBuf returns buf to the pool unless it is larger than maxPooledBuf.
func putBuf(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuf {
		buf.Reset()
		bufPool.Put(buf)
	}
}

// sameBytes reports whether a and b are the same bytes in memory.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// appendResponse appends json.Marshal(resp) to buf, given rest, what
// json.Marshal of resp without errors and data writes after stubPrefix.
// Data that is escaped already (PreparedData) is copied as it is. It
// reports false, with buf's contents undefined, when data is not the
// compact JSON it copies.
func appendResponse(buf *bytes.Buffer, resp *graphql.Response, rest []byte, escaped bool) bool {
	buf.WriteByte('{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			return false
		}
		buf.WriteString(`"errors":`)
		buf.Write(errs)
		buf.WriteByte(',')
	}
	buf.WriteString(`"data":`)
	switch {
	case resp.Data == nil:
		buf.WriteString("null")
	case escaped && len(resp.Data) > 0:
		buf.Write(resp.Data)
	case !appendCompactData(buf, resp.Data):
		return false
	}
	buf.Write(rest)
	return true
}

// scanClass says, for each byte, what appendCompactData does with it:
// 0 copy, 1 the end of a string or an escape, 2 whitespace (outside a
// string, not compact), 3 HTML-escaped, 4 the start of U+2028 or U+2029 in
// UTF-8, 5 a control character (invalid in a string), 6 the start of a
// multi-byte UTF-8 sequence.
var scanClass = func() (t [256]byte) {
	t['"'], t['\\'] = 1, 1
	t[' '], t['\t'], t['\n'], t['\r'] = 2, 2, 2, 2
	t['<'], t['>'], t['&'] = 3, 3, 3
	for c := 0; c < 0x20; c++ {
		if t[c] == 0 {
			t[c] = 5
		}
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = 6
	}
	t[0xE2] = 4
	return t
}()

const hexDigits = "0123456789abcdef"

// appendCompactData appends data to buf as json.Marshal writes a
// json.RawMessage: compact, with <, >, &, U+2028 and U+2029 escaped. It
// reports false for data it cannot copy unchanged but for those escapes:
// whitespace between tokens, a control character or invalid UTF-8 in a
// string, or empty data. It checks the lexical structure it relies on,
// not the grammar: data is a marshaler's output.
func appendCompactData(buf *bytes.Buffer, data []byte) bool {
	if len(data) == 0 {
		return false
	}
	inString := false
	start := 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch scanClass[c] {
		case 0:
			continue
		case 1:
			if c == '"' {
				inString = !inString
			} else {
				// An escape: its next byte is copied (a \u's four
				// hexadecimal digits are copied as any byte is).
				if !inString || i+1 >= len(data) || !isEscaped(data[i+1]) {
					return false
				}
				i++
			}
		case 2:
			// Only a space may be in a string; nothing between tokens.
			if !inString || c != ' ' {
				return false
			}
		case 3:
			buf.Write(data[start:i])
			buf.WriteString(`\u00`)
			buf.WriteByte(hexDigits[c>>4])
			buf.WriteByte(hexDigits[c&0xF])
			start = i + 1
		case 4, 6:
			if !inString {
				return false
			}
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				return false
			}
			if r == '\u2028' || r == '\u2029' {
				buf.Write(data[start:i])
				buf.WriteString(`\u202`)
				buf.WriteByte(hexDigits[r&0xF])
				start = i + size
			}
			i += size - 1
		case 5:
			return false
		}
	}
	if inString {
		return false
	}
	buf.Write(data[start:])
	return true
}

// isEscaped reports whether c may follow a backslash in a JSON string.
func isEscaped(c byte) bool {
	switch c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't', 'u':
		return true
	}
	return false
}
