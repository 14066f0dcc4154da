package guard

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWriteError(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	WriteError(rec, http.StatusTeapot, "SOME_CODE", `a "quoted" message`)
	requireError(t, rec, http.StatusTeapot, "SOME_CODE")
	want := `{"errors":[{"message":"a \"quoted\" message","extensions":{"code":"SOME_CODE"}}]}`
	if got := rec.Body.String(); got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
}
