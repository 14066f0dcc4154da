package gqlhttp

import "testing"

func TestUsesDefer(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]bool{
		`{ a ... @defer { b } }`:                  true,
		`{ a ...F @defer } fragment F on Q { b }`: true,
		`{ a ... @ defer { b } }`:                 true,
		`{ a } # @defer in a comment`:             false,
		`{ a(s: "@defer") }`:                      false,
		`{ deferred { b } }`:                      false,
		`{ a ... @deferred { b } }`:               false,
		`{ a ... @defer`:                          true,
		``:                                        false,
	} {
		if got := usesDefer(q); got != want {
			t.Errorf("usesDefer(%q) = %v, want %v", q, got, want)
		}
	}
}
