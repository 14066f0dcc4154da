package upstream

import "testing"

// TestCanonicalKeysAreStable pins the cache ids of the page and record
// keys: they name entries that other replicas, and earlier versions of the
// gateway, wrote to the shared cache, so any change to them leaves every
// cached page unused.
func TestCanonicalKeysAreStable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  interface{ Canonical() string }
		want string
	}{
		{JobPageKey{}, "ca=&limit=0&since=&state=&text=false&ua="},
		{JobPageKey{State: "published", CreatedAfter: "2026-01-02T03:04:05Z", UpdatedAfter: "2026-02-03T00:00:00Z",
			PageRange: PageRange{SinceID: "a1", MaxID: "ff", Limit: 100}, WithText: true},
			"ca=2026-01-02T03%3A04%3A05Z&limit=100&max=ff&since=a1&state=published&text=true&ua=2026-02-03T00%3A00%3A00Z"},
		{CandidatePageKey{}, "ca=&email=&job=&limit=0&since=&stage=&ua="},
		{CandidatePageKey{Shortcode: "GROOV003", Stage: "phone-screen", Email: "a+b@example.com", CreatedAfter: "x",
			UpdatedAfter: "y", PageRange: PageRange{SinceID: "1f", MaxID: "2e", Limit: 51}},
			"ca=x&email=a%2Bb%40example.com&job=GROOV003&limit=51&max=2e&since=1f&stage=phone-screen&ua=y"},
		{ActivityPageKey{CandidateID: "ce4/da98", PageRange: PageRange{SinceID: "7", Limit: 6}}, "ce4%2Fda98?limit=6&since=7"},
		{ActivityPageKey{CandidateID: "ce4da98", PageRange: PageRange{SinceID: "7", MaxID: "9", Limit: 100}}, "ce4da98?limit=100&max=9&since=7"},
		{JobActivityPageKey{Shortcode: "GROOV003", PageRange: PageRange{Limit: 3}}, "job:GROOV003?limit=3&since="},
		{JobActivityPageKey{Shortcode: "GR OV", PageRange: PageRange{SinceID: "a", MaxID: "b", Limit: 3}}, "job:GR%20OV?limit=3&max=b&since=a"},
		{ActivityKey{CandidateID: "c1", ID: "a/1"}, "r:c1/a%2F1"},
		{ActivityKey{Shortcode: "J1", ID: "a1"}, "rj:J1/a1"},
	}
	for _, tt := range tests {
		if got := tt.key.Canonical(); got != tt.want {
			t.Errorf("%#v.Canonical() = %q, want %q", tt.key, got, tt.want)
		}
	}
}
