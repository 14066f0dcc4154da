package events

import "testing"

func TestFilterMatches(t *testing.T) {
	t.Parallel()
	moved := Event{JobShortcode: "GROOV005", Stage: "Phone Screen"}
	for _, tc := range []struct {
		name string
		f    Filter
		want bool
	}{
		{"no filter", Filter{}, true},
		{"its job", Filter{Job: "GROOV005"}, true},
		{"another job", Filter{Job: "GROOV002"}, false},
		{"its stage by slug", Filter{Stage: "phone-screen"}, true},
		{"its stage by name, other case", Filter{Stage: " phone screen "}, true},
		{"its stage with underscores", Filter{Stage: "PHONE_SCREEN"}, true},
		{"another stage", Filter{Stage: "interview"}, false},
		{"its job, another stage", Filter{Job: "GROOV005", Stage: "offer"}, false},
	} {
		if got := tc.f.Matches(moved); got != tc.want {
			t.Errorf("%s: Matches = %v, want %v", tc.name, got, tc.want)
		}
	}
}
