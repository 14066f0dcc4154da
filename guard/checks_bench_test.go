package guard

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkRequestChecks measures the checks in front of every POST /query
// (BodyLimit, RejectBatches, CheckRequest, in the gateway's order) on the
// peer benchmark's q1 body, up to a handler that reads the body as gqlgen's
// POST transport does.
func BenchmarkRequestChecks(b *testing.B) {
	body := []byte(`{"query":"{ candidates(first: 50) { nodes { id name job { shortcode title } } } }"}`)
	h := BodyLimit(0, RejectBatches(CheckRequest(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got, err := io.ReadAll(r.Body); err != nil || !bytes.Equal(got, body) {
			b.Fatalf("next read %q, %v", got, err)
		}
	}))))
	template := httptest.NewRequest(http.MethodPost, "/query", nil)
	template.Header.Set("Content-Type", "application/json")
	template.ContentLength = int64(len(body))
	rec := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		req := *template
		req.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(rec, &req)
	}
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}
