// Package ctxkey gives a package a typed key for a value it carries in a
// context.Context, so that its With and From functions need no type
// assertion of their own and no key type each.
//
// A Key is compared by identity, like net/http's ServerContextKey: two keys
// made by New are distinct even when they carry the same type, so no other
// package can read or overwrite a value without being handed its Key.
package ctxkey

import "context"

// Key is the key of a value of type T in a context. Make one with New and
// keep it unexported.
type Key[T any] struct {
	// name makes the Key non-empty (pointers to distinct zero-size values
	// may compare equal) and names it in a context's String.
	name string
}

// New returns a key for values of type T; name shows in the String of a
// context carrying it (e.g. "access.Principal").
func New[T any](name string) *Key[T] { return &Key[T]{name: name} }

// With returns a copy of ctx that carries v under k.
func (k *Key[T]) With(ctx context.Context, v T) context.Context {
	return context.WithValue(ctx, k, v)
}

// Value returns the value ctx carries under k, and whether it carries one
// (the zero T and false when not).
func (k *Key[T]) Value(ctx context.Context) (T, bool) {
	v, ok := ctx.Value(k).(T)
	return v, ok
}

// Get returns the value ctx carries under k, or the zero T when it carries
// none.
func (k *Key[T]) Get(ctx context.Context) T {
	v, _ := k.Value(ctx)
	return v
}

// String returns the key's name.
func (k *Key[T]) String() string { return k.name }
