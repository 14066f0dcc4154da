package guard

import "testing"

// TestClientSlotsCountPerClient: each client has its own bound.
func TestClientSlotsCountPerClient(t *testing.T) {
	t.Parallel()
	l := NewClientSlots(1)
	releaseA, ok := l.Acquire("a")
	if !ok {
		t.Fatal("first of a refused")
	}
	if _, ok := l.Acquire("a"); ok {
		t.Error("second of a admitted")
	}
	if _, ok := l.Acquire("b"); !ok {
		t.Error("first of b refused")
	}
	releaseA()
	releaseA() // twice counts once
	if _, ok := l.Acquire("a"); !ok {
		t.Error("a refused after releasing")
	}
	if _, ok := l.Acquire("a"); ok {
		t.Error("a admitted twice after a double release")
	}
}
