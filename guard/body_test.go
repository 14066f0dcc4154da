package guard

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// echoBody is a handler that answers 200 with the body it read.
func echoBody(called *bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*called = true
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(b)
	})
}

// failingReader fails every read.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	const max = 64
	tests := []struct {
		name       string
		body       io.Reader
		length     int64 // Content-Length; -1 unknown
		wantStatus int
		wantCode   string
	}{
		{name: "empty", body: http.NoBody, wantStatus: http.StatusOK},
		{name: "at max", body: strings.NewReader(strings.Repeat("a", max)), length: max, wantStatus: http.StatusOK},
		{name: "at max, length unknown", body: strings.NewReader(strings.Repeat("a", max)), length: -1, wantStatus: http.StatusOK},
		{name: "max+1", body: strings.NewReader(strings.Repeat("a", max+1)), length: -1, wantStatus: http.StatusRequestEntityTooLarge, wantCode: CodeRequestTooLarge},
		{name: "huge, length unknown", body: strings.NewReader(strings.Repeat("a", 10*max)), length: -1, wantStatus: http.StatusRequestEntityTooLarge, wantCode: CodeRequestTooLarge},
		// The announced length is refused before the body is read at all.
		{name: "announced max+1", body: failingReader{}, length: max + 1, wantStatus: http.StatusRequestEntityTooLarge, wantCode: CodeRequestTooLarge},
		{name: "read error", body: failingReader{}, length: -1, wantStatus: http.StatusBadRequest, wantCode: CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodPost, "/query", tt.body)
			req.ContentLength = tt.length
			var called bool
			rec := httptest.NewRecorder()
			BodyLimit(max, echoBody(&called)).ServeHTTP(rec, req)
			if tt.wantCode != "" {
				requireError(t, rec, tt.wantStatus, tt.wantCode)
				if called {
					t.Error("next was called for a refused body")
				}
				return
			}
			if rec.Code != tt.wantStatus || !called {
				t.Fatalf("status = %d, called = %v; want %d, true", rec.Code, called, tt.wantStatus)
			}
		})
	}
}

func TestBodyLimitPassesWholeBody(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("xyz", 1000)
	var called bool
	rec := httptest.NewRecorder()
	BodyLimit(0, echoBody(&called)).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
	if got := rec.Body.String(); got != body {
		t.Errorf("next read %d bytes, want the whole %d", len(got), len(body))
	}
	rec = httptest.NewRecorder()
	big := strings.NewReader(strings.Repeat("a", int(DefaultMaxBodyBytes)+1))
	BodyLimit(0, echoBody(&called)).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", big))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("default limit: status = %d, want 413", rec.Code)
	}
}

func TestRejectBatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		wantBatch   bool
	}{
		{name: "batch", method: http.MethodPost, contentType: "application/json", body: `[{"query":"{a}"},{"query":"{b}"}]`, wantBatch: true},
		{name: "batch after whitespace", method: http.MethodPost, contentType: "application/json; charset=utf-8", body: " \r\n\t[{\"query\":\"{a}\"}]", wantBatch: true},
		{name: "empty batch", method: http.MethodPost, contentType: "application/json", body: `[]`, wantBatch: true},
		{name: "graphql+json", method: http.MethodPost, contentType: "application/graphql+json", body: `[{}]`, wantBatch: true},
		{name: "single operation", method: http.MethodPost, contentType: "application/json", body: `  {"query":"{a}"}`},
		{name: "empty body", method: http.MethodPost, contentType: "application/json", body: ``},
		{name: "only whitespace", method: http.MethodPost, contentType: "application/json", body: "   "},
		{name: "not JSON", method: http.MethodPost, contentType: "text/plain", body: `[not json`},
		{name: "no content type", method: http.MethodPost, body: `[{}]`},
		{name: "GET", method: http.MethodGet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var body io.Reader = http.NoBody
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			req := httptest.NewRequest(tt.method, "/query", body)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			var called bool
			rec := httptest.NewRecorder()
			RejectBatches(echoBody(&called)).ServeHTTP(rec, req)
			if tt.wantBatch {
				requireError(t, rec, http.StatusBadRequest, CodeBatchNotSupported)
				if called {
					t.Error("next was called for a batch")
				}
				return
			}
			if !called || rec.Code != http.StatusOK {
				t.Fatalf("status = %d, called = %v; want 200, true", rec.Code, called)
			}
			// Only leading whitespace may be consumed.
			if got, want := rec.Body.String(), strings.TrimLeft(tt.body, " \t\r\n"); got != want {
				t.Errorf("next read %q, want %q", got, want)
			}
		})
	}
}
