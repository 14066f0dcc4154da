package workable

import (
	"testing"
	"time"
)

// TestQueryValues: every options type is encoded by its url tags; zero
// values (and a nil options pointer) send nothing.
func TestQueryValues(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		opts any
		want string
	}{
		{"nil", (*CandidateListOptions)(nil), ""},
		{"zero", &JobListOptions{}, ""},
		{"negative limit", &ActivityListOptions{Limit: -1}, ""},
		{"candidates", &CandidateListOptions{
			Shortcode:   "GROOV002",
			Stage:       "applied",
			Email:       "a+b@example.com",
			ListOptions: ListOptions{Limit: 20, SinceID: "s1", MaxID: "m1", CreatedAfter: &at, UpdatedAfter: &at},
		},
			"created_after=2026-03-01T08%3A30%3A00Z&email=a%2Bb%40example.com&limit=20&max_id=m1&shortcode=GROOV002" +
				"&since_id=s1&stage=applied&updated_after=2026-03-01T08%3A30%3A00Z"},
		{"activities", &ActivityListOptions{Limit: 5, SinceID: "a", MaxID: "b"}, "limit=5&max_id=b&since_id=a"},
		{"jobs", &JobListOptions{
			State:         "published",
			IncludeFields: []string{"description", "benefits"},
			ListOptions:   ListOptions{Limit: 100, SinceID: "j", MaxID: "k", UpdatedAfter: &at},
		},
			"include_fields=description%2Cbenefits&limit=100&max_id=k&since_id=j&state=published&updated_after=2026-03-01T08%3A30%3A00Z"},
		{"members", &MemberListOptions{Limit: 3, SinceID: "x", MaxID: "y", Role: "admin", Shortcode: "J", Email: "e@x.io",
			Name: "Ann Lee", Status: "all"},
			"email=e%40x.io&limit=3&max_id=y&name=Ann+Lee&role=admin&shortcode=J&since_id=x&status=all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := queryValues(tt.opts).Encode(); got != tt.want {
				t.Errorf("queryValues = %q\nwant           %q", got, tt.want)
			}
		})
	}
}
