package ctxkey

import (
	"context"
	"strings"
	"testing"
)

func TestKeysOfTheSameTypeAreDistinct(t *testing.T) {
	t.Parallel()
	a, b := New[string]("first key"), New[string]("second key")
	ctx := a.With(context.Background(), "x")
	if v, ok := a.Value(ctx); !ok || v != "x" {
		t.Fatalf("a.Value = %q, %v; want x, true", v, ok)
	}
	if v, ok := b.Value(ctx); ok || v != "" {
		t.Fatalf("b.Value = %q, %v; want the zero value and false", v, ok)
	}
	if v := b.Get(ctx); v != "" {
		t.Fatalf("b.Get = %q, want the zero value", v)
	}
	ctx = b.With(ctx, "y")
	if v := a.Get(ctx); v != "x" {
		t.Fatalf("b.With overwrote a's value: %q", v)
	}
	if !strings.Contains(ctx.(interface{ String() string }).String(), "second key") {
		t.Errorf("the context's String does not name the key: %s", ctx)
	}
}

func TestValueOfAnEmptyContext(t *testing.T) {
	t.Parallel()
	k := New[*int]("p")
	if v, ok := k.Value(context.Background()); ok || v != nil {
		t.Fatalf("Value = %v, %v; want nil, false", v, ok)
	}
	n := 1
	if v, ok := k.Value(k.With(context.Background(), &n)); !ok || v != &n {
		t.Fatalf("Value = %v, %v; want %v, true", v, ok, &n)
	}
}
