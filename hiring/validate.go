package hiring

import (
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/workablegw/gateway/workable"
)

// Validation of the inputs of the candidate writes: every rule a write's
// input must pass before anything is sent to Workable. A Validator collects
// every problem of one input, in input order, so that a caller fixes them
// all at once.

// Limits of the mutation inputs. Workable documents none of them; these are
// the gateway's own choices, generous for real data and small enough that a
// single request cannot push megabytes to Workable. Lengths count characters
// (runes), after trimming.
const (
	// MaxNameLen bounds first and last names.
	MaxNameLen = 255
	// MaxEmailLen is RFC 5321's limit on a forward path.
	MaxEmailLen = 254
	// MaxShortTextLen bounds one-line texts: headline, school, degree,
	// field of study, title, company, industry, profile name and username.
	MaxShortTextLen = 255
	// MaxPhoneLen bounds a phone number.
	MaxPhoneLen = 50
	// MaxAddressLen bounds a postal address.
	MaxAddressLen = 1000
	// MaxLongTextLen bounds summary, cover letter and an experience's summary.
	MaxLongTextLen = 10000
	// MaxURLLen bounds a social profile URL.
	MaxURLLen = 2048
	// MaxListLen bounds each of educationEntries, experienceEntries and
	// socialProfiles.
	MaxListLen = 50
	// MaxTags and MaxTagLen bound tags.
	MaxTags   = 50
	MaxTagLen = 100
	// MinYear and MaxYear bound the years of entry dates: anything outside
	// is a typo rather than a school or a job.
	MinYear = 1900
	MaxYear = 2100
)

// TextKind says which characters a text may hold.
type TextKind int

const (
	// SingleLine texts may not contain any control character.
	SingleLine TextKind = iota
	// MultiLine texts may contain newlines, carriage returns and tabs.
	MultiLine
)

// Path is the path of an input field, e.g. input.educationEntries.1.startDate.
type Path []string

// InputAt returns the path of a field of the mutation's input argument, the
// root of every problem's path: InputAt("educationEntries", "1", "startDate")
// is input.educationEntries.1.startDate.
func InputAt(elems ...string) Path { return Path{"input"}.At(elems...) }

// At returns a new path with elems appended; p is never modified, so paths
// can be shared by siblings.
func (p Path) At(elems ...string) Path {
	out := make(Path, 0, len(p)+len(elems))
	return append(append(out, p...), elems...)
}

// Index returns the path of the list element i.
func (p Path) Index(i int) Path { return p.At(strconv.Itoa(i)) }

// Validator collects every problem of one input, in input order.
type Validator struct {
	Problems []Problem
}

// Fail records an INVALID problem at path.
func (v *Validator) Fail(path Path, format string, args ...any) {
	v.Problems = append(v.Problems, Problem{Field: path.At(), Message: fmt.Sprintf(format, args...), Code: CodeInvalid})
}

// Text checks a trimmed text that is present: not longer than max
// characters, valid UTF-8 and free of control characters (multi-line texts
// may hold line breaks and tabs). It reports whether s is acceptable.
func (v *Validator) Text(path Path, s string, maxLen int, kind TextKind) bool {
	if !utf8.ValidString(s) {
		v.Fail(path, "must be valid UTF-8 text")
		return false
	}
	if n := utf8.RuneCountInString(s); n > maxLen {
		v.Fail(path, "must be at most %d characters long (got %d)", maxLen, n)
		return false
	}
	for _, r := range s {
		if kind == MultiLine && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			v.Fail(path, "must not contain control characters")
			return false
		}
	}
	return true
}

// Required trims s and checks that it is not blank and passes Text.
func (v *Validator) Required(path Path, s string, maxLen int, kind TextKind) string {
	s = strings.TrimSpace(s)
	if s == "" {
		v.Fail(path, "must not be blank")
		return ""
	}
	v.Text(path, s, maxLen, kind)
	return s
}

// Optional trims an optional text; nil or blank gives nil (Workable stores
// an empty text as null).
func (v *Validator) Optional(path Path, p *string, maxLen int, kind TextKind) *string {
	if p == nil {
		return nil
	}
	s := strings.TrimSpace(*p)
	if s == "" {
		return nil
	}
	v.Text(path, s, maxLen, kind)
	return &s
}

// Identifier checks a candidate id or job shortcode, trimmed, with the one
// rule for Workable identifiers (workable.ValidID) that queries and the
// client use too.
func (v *Validator) Identifier(path Path, s, what string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		v.Fail(path, "must not be blank")
	case !workable.ValidID(s):
		v.Fail(path, "is not a valid %s: 1 to %d ASCII letters, digits, hyphens or underscores", what, workable.MaxIDLen)
	}
	return s
}

// Email checks a required e-mail address; see EmailProblem.
func (v *Validator) Email(path Path, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		v.Fail(path, "must not be blank")
		return ""
	}
	if msg := EmailProblem(s); msg != "" {
		v.Fail(path, "%s", msg)
	}
	return s
}

// EmailProblem returns why s is not an acceptable e-mail address, or "". It
// must parse with net/mail as a bare address (no display name, no angle
// brackets, no comments, no quoted local part), have exactly one @, and a
// domain of at least two dot-separated labels of letters, digits and
// hyphens (internationalised letters allowed) that neither start nor end
// with a hyphen.
func EmailProblem(s string) string {
	const invalid = "must be a valid e-mail address like name@example.com"
	if !utf8.ValidString(s) {
		return invalid
	}
	if n := utf8.RuneCountInString(s); n > MaxEmailLen {
		return fmt.Sprintf("must be at most %d characters long (got %d)", MaxEmailLen, n)
	}
	if strings.Count(s, "@") != 1 {
		return invalid
	}
	addr, err := mail.ParseAddress(s)
	if err != nil {
		return invalid
	}
	if addr.Name != "" || addr.Address != s {
		return "must be a bare e-mail address, without a display name or angle brackets"
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || !strings.Contains(domain, ".") {
		return invalid
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return invalid
		}
		for _, r := range label {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return invalid
			}
		}
	}
	return ""
}

// Date checks an optional date, which must be a real calendar date written
// YYYY-MM-DD between MinYear and MaxYear. It returns the trimmed text (nil
// when absent or blank) and the parsed date (zero when absent or invalid).
func (v *Validator) Date(path Path, p *string) (*string, time.Time) {
	if p == nil {
		return nil, time.Time{}
	}
	s := strings.TrimSpace(*p)
	if s == "" {
		return nil, time.Time{}
	}
	t, ok := ParseDate(s)
	if !ok {
		v.Fail(path, "must be a date written YYYY-MM-DD, e.g. 2021-09-30")
		return &s, time.Time{}
	}
	if t.Year() < MinYear || t.Year() > MaxYear {
		v.Fail(path, "must be a date between %d and %d", MinYear, MaxYear)
		return &s, time.Time{}
	}
	return &s, t
}

// ParseDate parses exactly YYYY-MM-DD (ASCII digits) as a real date (no
// 2023-02-30). The shape is checked first so that the rule does not depend
// on the leniencies of time.Parse.
func ParseDate(s string) (time.Time, bool) {
	if len(s) != len(time.DateOnly) {
		return time.Time{}, false
	}
	for i := range len(s) {
		switch c := s[i]; i {
		case 4, 7:
			if c != '-' {
				return time.Time{}, false
			}
		default:
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
		}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// DateRange checks the dates of an entry and that the end is not before the
// start (reported on endDate).
func (v *Validator) DateRange(path Path, start, end *string) (*string, *string) {
	s, st := v.Date(path.At("startDate"), start)
	e, et := v.Date(path.At("endDate"), end)
	if !st.IsZero() && !et.IsZero() && et.Before(st) {
		v.Fail(path.At("endDate"), "must not be before startDate")
	}
	return s, e
}

// HTTPURL checks a required absolute http(s) URL with a host.
func (v *Validator) HTTPURL(path Path, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		v.Fail(path, "must not be blank")
		return ""
	}
	if !v.Text(path, s, MaxURLLen, SingleLine) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" ||
		strings.ContainsAny(s, " \t") {
		v.Fail(path, "must be an absolute http or https URL, e.g. https://www.linkedin.com/in/someone")
		return s
	}
	if u.User != nil {
		v.Fail(path, "must not contain a user name or password")
	}
	return s
}

// Each checks and converts a list of at most maxLen items, each with item
// (given the item's path). The result is never nil, so it can also clear a
// list; a list that is too long gives one problem, not thousands, and its
// items are not checked.
func Each[In, Out any](v *Validator, path Path, in []In, maxLen int, item func(p Path, x In) Out) []Out {
	out := make([]Out, 0, len(in))
	if len(in) > maxLen {
		v.Fail(path, "must have at most %d entries (got %d)", maxLen, len(in))
		return out
	}
	for i, x := range in {
		out = append(out, item(path.Index(i), x))
	}
	return out
}

// Tags checks and trims tags. Duplicates are kept (Workable folds them), so
// that the indices of Workable's errors match the input's.
func (v *Validator) Tags(path Path, in []string) []string {
	return Each(v, path, in, MaxTags, func(p Path, t string) string {
		return v.Required(p, t, MaxTagLen, SingleLine)
	})
}

// StageSlug checks a stage slug: Workable takes slugs (phone-screen), not
// names (Phone Screen), and every slug fits the one id rule.
func (v *Validator) StageSlug(path Path, s string) string {
	return v.Identifier(path, s, "stage slug (e.g. phone-screen, see Job.stages)")
}
