package workable_test

import (
	"testing"

	"github.com/workablegw/gateway/workable"
)

func TestSocialProfileTypes(t *testing.T) {
	t.Parallel()
	types := workable.SocialProfileTypes()
	if len(types) == 0 {
		t.Fatal("SocialProfileTypes() is empty")
	}
	for _, typ := range types {
		if !workable.IsSocialProfileType(typ) {
			t.Errorf("IsSocialProfileType(%q) = false for a listed type", typ)
		}
	}
	// The slice is the caller's: changing it changes nothing for others.
	first := types[0]
	types[0] = "myownnetwork"
	if workable.IsSocialProfileType("myownnetwork") || workable.SocialProfileTypes()[0] != first {
		t.Error("changing the returned slice changed the package's list")
	}
	for _, typ := range []string{"", "LinkedIn", " linkedin", "mastodon"} {
		if workable.IsSocialProfileType(typ) {
			t.Errorf("IsSocialProfileType(%q) = true, want false", typ)
		}
	}
}
