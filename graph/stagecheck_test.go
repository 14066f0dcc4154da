package graph

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/workablegw/gateway/hiring"
	"github.com/workablegw/gateway/workable/simulator"
)

// referenceStageSlugs are the stage slugs the Workable reference shows
// (API.md §9's /stages, §10's activity actions, the Ruby client's
// stages.json fixture).
var referenceStageSlugs = []string{"sourced", "applied", "shortlisted", "assessment", "phone-screen", "interview", "offer", "hired"}

// badSlugs can never be a stage slug or a member role.
var badSlugs = []string{
	"", "../x", "a/b", `a\b`, "a?b", "a#b", "a%2Fb", "%", " interview", "inter view", "interview\n",
	"tab\there", "\u00a0offer", "nul\x00", ".", "..", "\xff\xfe", strings.Repeat("s", hiring.MaxShortTextLen+1),
}

func TestSlugProblem(t *testing.T) {
	t.Parallel()
	good := append([]string{
		// What an account could name its stages: other languages,
		// digits, underscores, capitals, dots inside, the longest allowed.
		"entrevista-técnica", "2nd-interview", "stage_2", "Phone-Screen", "v1.2", "…", "面试",
		strings.Repeat("é", hiring.MaxShortTextLen),
	}, referenceStageSlugs...)
	for _, st := range simulator.New().Stages() {
		good = append(good, st.Slug)
	}
	for _, s := range good {
		if msg := slugProblem(s); msg != "" {
			t.Errorf("slugProblem(%q) = %q, want none", s, msg)
		}
	}
	for _, s := range badSlugs {
		if slugProblem(s) == "" {
			t.Errorf("slugProblem(%q) = none, want a problem", s)
		}
	}
}

// TestMalformedFiltersCostNoWorkableCall: a stage slug, member role or
// member status that Workable could only refuse is BAD_USER_INPUT before any
// call; the slugs of the reference and of the simulator's pipeline go
// through.
func TestMalformedFiltersCostNoWorkableCall(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	const (
		candidates    = `query($s: String) { candidates(first: 1, stage: $s) { nodes { id } } }`
		jobCandidates = `query($s: String) { job(shortcode: "GROOV001") { candidates(first: 1, stage: $s) { nodes { id } } } }`
	)
	candidateCalls := func() int {
		return env.sim.RequestCount("GET /candidates") + env.sim.RequestCount("GET /jobs/{shortcode}/candidates")
	}
	for _, q := range []string{candidates, jobCandidates} {
		for _, s := range badSlugs {
			if !utf8.ValidString(s) {
				continue // JSON carries no invalid UTF-8: the request would hold U+FFFD
			}
			before := candidateCalls()
			resp := env.query(q, vars{"s": s})
			e := resp.requireCode(t, CodeBadUserInput)
			if !strings.Contains(e.Message, "stage slug") {
				t.Errorf("stage %q: message %q does not say what a stage is", s, e.Message)
			}
			if n := candidateCalls() - before; n != 0 {
				t.Errorf("stage %q cost %d Workable call(s), want 0", s, n)
			}
		}
	}
	for _, s := range append(referenceStageSlugs, "phone-screen") {
		if resp := env.query(candidates, vars{"s": s}); len(resp.Errors) > 0 {
			t.Errorf("stage %q: %s", s, resp.Raw)
		}
	}

	const members = `query($role: String, $status: String, $email: String, $name: String) {
		members(role: $role, status: $status, email: $email, name: $name) { id } }`
	for _, v := range []vars{
		{"status": "everyone"}, {"status": ""}, {"status": "Active"},
		{"role": ""}, {"role": "../admin"}, {"role": "admin reviewer"},
		{"email": strings.Repeat("a", hiring.MaxEmailLen) + "@x.io"}, {"email": "a@b.io\r\nX: y"},
		{"name": strings.Repeat("n", hiring.MaxShortTextLen+1)},
	} {
		before := env.sim.RequestCount("GET /members")
		env.query(members, v).requireCode(t, CodeBadUserInput)
		if n := env.sim.RequestCount("GET /members") - before; n != 0 {
			t.Errorf("members(%v) cost %d Workable call(s), want 0", v, n)
		}
	}
	for _, v := range []vars{{"status": "all"}, {"status": "inactive"}, {"role": "admin", "status": "active"}, {"email": "", "name": ""}} {
		if resp := env.query(members, v); len(resp.Errors) > 0 {
			t.Errorf("members(%v): %s", v, resp.Raw)
		}
	}
}

// notInSlugTables is notInSlug as the unicode tables say it.
func notInSlugTables(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`/\?#%`, r)
}

// TestNotInSlugMatchesTheUnicodeTables: notInSlug's shortcut for ASCII
// answers as the unicode tables do, for every code point.
func TestNotInSlugMatchesTheUnicodeTables(t *testing.T) {
	t.Parallel()
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if notInSlug(r) != notInSlugTables(r) {
			t.Errorf("notInSlug(%U) = %v, the unicode tables say %v", r, notInSlug(r), notInSlugTables(r))
		}
	}
}

// BenchmarkSlugCharacters checks a live slug's characters with the unicode
// tables and with notInSlug's ASCII shortcut.
func BenchmarkSlugCharacters(b *testing.B) {
	for _, bc := range []struct {
		name string
		f    func(rune) bool
	}{{"tables", notInSlugTables}, {"ascii", notInSlug}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if strings.ContainsFunc("phone-screen", bc.f) {
					b.Fatal("phone-screen refused")
				}
			}
		})
	}
}
