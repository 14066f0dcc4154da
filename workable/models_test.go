package workable_test

import (
	"testing"
	"time"

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

// TestCandidateStageAndUpdate: the stage and updated_at of a candidate, of
// one without them and of none are read without a nil check.
func TestCandidateStageAndUpdate(t *testing.T) {
	t.Parallel()
	stage, at := "Interview", time.Date(2026, 4, 11, 3, 36, 48, 560e6, time.UTC)
	for _, tc := range []struct {
		name      string
		c         *workable.Candidate
		wantStage string
		wantAt    time.Time
	}{
		{"nil candidate", nil, "", time.Time{}},
		{"without them", &workable.Candidate{ID: "ce55afe"}, "", time.Time{}},
		{"with them", &workable.Candidate{ID: "ce55afe", Stage: &stage, UpdatedAt: &at}, stage, at},
	} {
		if got := tc.c.StageName(); got != tc.wantStage {
			t.Errorf("%s: StageName() = %q, want %q", tc.name, got, tc.wantStage)
		}
		if got := tc.c.LastUpdated(); !got.Equal(tc.wantAt) {
			t.Errorf("%s: LastUpdated() = %v, want %v", tc.name, got, tc.wantAt)
		}
	}
}
