package hiring

import (
	"strings"
	"testing"
)

func TestEmailProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		email string
		ok    bool
	}{
		{"jj@fakemail.com", true},
		{"first.last+tag@sub.example.co.uk", true},
		{"jörg@bücher.de", true},
		{"a@b.c", true},
		{"", false},
		{"plain", false},
		{"@example.com", false},
		{"jj@", false},
		{"jj@@example.com", false},
		{"a@b@example.com", false},
		{"jj@example", false},
		{"jj@.example.com", false},
		{"jj@example..com", false},
		{"jj@example.com.", false},
		{"jj@-example.com", false},
		{"jj@exa_mple.com", false},
		{"jj@[127.0.0.1]", false},
		{"Jj Botha <jj@example.com>", false},
		{"<jj@example.com>", false},
		{"jj@example.com (Jj)", false},
		{`"j j"@example.com`, false},
		{"j j@example.com", false},
		{"jj@example.com\n", false},
		{strings.Repeat("a", 250) + "@b.co", false},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			t.Parallel()
			msg := EmailProblem(tt.email)
			if ok := msg == ""; ok != tt.ok {
				t.Errorf("EmailProblem(%q) = %q, want ok=%v", tt.email, msg, tt.ok)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		{"2008-03-01", true},
		{"2024-02-29", true},
		{"2023-02-29", false},
		{"2023-04-31", false},
		{"2023-13-01", false},
		{"2023-00-10", false},
		{"2023-1-01", false},
		{"23-01-01", false},
		{"2023/01/01", false},
		{"2023-01-01T00:00:00Z", false},
		{"+023-01-01", false},
		{"２０２３-01-01", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if _, ok := ParseDate(tt.in); ok != tt.ok {
				t.Errorf("ParseDate(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			}
		})
	}
}

// patchJSON renders the fields a patch sends, as Workable receives them.
func TestFieldPathAtDoesNotAlias(t *testing.T) {
	t.Parallel()
	base := InputAt("educationEntries")
	a, b := base.Index(0), base.Index(1)
	if got := strings.Join(a, "."); got != "input.educationEntries.0" {
		t.Errorf("a = %s", got)
	}
	if got := strings.Join(b, "."); got != "input.educationEntries.1" {
		t.Errorf("b = %s", got)
	}
}
