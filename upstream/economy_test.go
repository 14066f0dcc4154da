package upstream

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/cache"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers (the logger).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// contains reports whether the logs contain s.
func (b *syncBuffer) contains(s string) bool { return strings.Contains(b.String(), s) }

// TestSharedFetchPanicIsAnError: a panic inside a shared fetch (which runs
// in singleflight's own goroutine, out of reach of gqlgen's recovery) is
// logged and returned as an error that shows the client nothing of it.
func TestSharedFetchPanicIsAnError(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	e := New(Config{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, Credential{Nickname: "default"}, nil)

	t.Run("shared", func(t *testing.T) {
		v, err := e.shared(context.Background(), "k", func(context.Context) (any, error) {
			panic("fetch exploded: internal detail")
		})
		if v != nil || !errors.Is(err, ErrFetchPanicked) {
			t.Fatalf("shared = %v, %v; want nil, ErrFetchPanicked", v, err)
		}
		if strings.Contains(err.Error(), "internal detail") {
			t.Errorf("the error shows the panic: %v", err)
		}
		if !logs.contains("shared Workable fetch panicked") || !logs.contains("internal detail") {
			t.Errorf("panic not logged:\n%s", logs.String())
		}
		// The key is free again: the next fetch runs.
		v, err = e.shared(context.Background(), "k", func(context.Context) (any, error) { return 42, nil })
		if err != nil || v != 42 {
			t.Errorf("after a panic: shared = %v, %v; want 42, nil", v, err)
		}
	})

	t.Run("batch", func(t *testing.T) {
		rs := &Request{}
		batch := Batch(e, rs, Spec[string, string]{
			Kind: cache.KindCandidate,
			ID:   DetailID,
			Fetch: func(context.Context, string, string) (string, []cache.Item, error) {
				panic("fetch exploded")
			},
		})
		res := batch(context.Background(), []string{"a", "b"})
		for i, r := range res {
			if r == nil || r.Error != nil {
				t.Fatalf("result %d = %+v, want a pending value", i, r)
			}
			if _, err := r.Data.Wait(); !errors.Is(err, ErrFetchPanicked) {
				t.Errorf("result %d = %v, want ErrFetchPanicked", i, err)
			}
		}
	})
}

// TestResponseKeyHasTheRole: the response cache key of one request differs
// by the caller's role, and only by the role, not by who the caller is.
func TestResponseKeyHasTheRole(t *testing.T) {
	t.Parallel()
	e := &Economy{ns: "ns:"}
	key := func(p access.Principal) string {
		t.Helper()
		r := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{"query":"{ jobs { nodes { id } } }"}`))
		r.Header.Set("Content-Type", "application/json")
		r = r.WithContext(access.WithPrincipal(r.Context(), p))
		k, ok := e.responseKey(r)
		if !ok {
			t.Fatal("request not looked up")
		}
		return k
	}
	reader := key(access.Principal{ID: "a", Role: access.RoleReader})
	if other := key(access.Principal{ID: "b", Role: access.RoleReader}); other != reader {
		t.Errorf("two readers get two keys: %q, %q", reader, other)
	}
	for _, role := range []access.Role{access.RoleNone, access.RoleWriter, access.RoleAdmin} {
		if k := key(access.Principal{ID: "a", Role: role}); k == reader {
			t.Errorf("role %s shares the reader's key %q", role, k)
		}
	}
}
