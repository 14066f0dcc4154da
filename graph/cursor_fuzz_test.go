package graph

import (
	"strings"
	"testing"
)

// FuzzDecodeCursor feeds arbitrary strings to decodeCursor: it must never
// panic, and it accepts only the canonical cursor of what it returns (so a
// cursor cannot be edited into another page). The seed corpus runs as an
// ordinary test.
func FuzzDecodeCursor(f *testing.F) {
	filters := map[string]string{"shortcode": "ABC123", "stage": "applied"}
	for _, seed := range []string{
		encodeCursor(kindCandidates, filters, "3fa8c1"),
		encodeCursor(kindJobs, nil, "61884e2"),
		encodeCursor(kindActivities, nil, "a1"),
		encodeCursor(kindJobCandidates, map[string]string{"shortcode": "X"}, "zz"),
		"",
		"e30",
		"eyJ2IjoxfQ",
		"not base64!",
		strings.Repeat("A", 5000),
		"eyJ2IjoxLCJrIjoiam9icyIsImEiOiIxIiwicyI6IjAwIn0",
	} {
		f.Add(seed, kindCandidates)
		f.Add(seed, kindJobs)
	}
	f.Fuzz(func(t *testing.T, s, kind string) {
		for _, fl := range []map[string]string{nil, filters} {
			id, err := decodeCursor(s, kind, fl)
			if err != nil {
				if id != "" {
					t.Errorf("decodeCursor(%q) = %q with error %v", s, id, err)
				}
				continue
			}
			if id == "" || encodeCursor(kind, fl, id) != s {
				t.Errorf("decodeCursor(%q, %q) = %q, but that is not the cursor's canonical form", s, kind, id)
			}
		}
	})
}
