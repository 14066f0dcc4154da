package graph

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/hiring"
	"github.com/workablegw/gateway/workable"
)

// The codes of the mutations' userErrors (UserError.code).
const (
	// UserErrorInvalid is an input the gateway (or Workable) rejects.
	UserErrorInvalid = hiring.CodeInvalid
	// UserErrorNotFound is an unknown job (create) or candidate (update):
	// Workable answered 404.
	UserErrorNotFound = hiring.CodeNotFound
	// UserErrorAlreadyExists is Workable's duplicate candidate: the job
	// already has a candidate with that e-mail address.
	UserErrorAlreadyExists = hiring.CodeAlreadyExists
	// UserErrorEncryptionKeyMissing refuses to store a credential: the
	// gateway keeps credentials in Redis and has no CREDENTIALS_KEY.
	UserErrorEncryptionKeyMissing = "ENCRYPTION_KEY_MISSING"
	// UserErrorDefaultCredential refuses to remove the default credential,
	// which comes from the environment.
	UserErrorDefaultCredential = "DEFAULT_CREDENTIAL"
	// UserErrorIdempotencyKeyReused is an idempotency key used before with
	// another createCandidate input.
	UserErrorIdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED"
)

// Limits of the mutation inputs. Workable documents none of them; these are
// the gateway's own choices, generous for real data and small enough that a
// single request cannot push megabytes to Workable. Lengths count characters
// (runes), after trimming.
const (
	// maxNameLen bounds first and last names.
	maxNameLen = 255
	// maxEmailLen is RFC 5321's limit on a forward path.
	maxEmailLen = 254
	// maxShortTextLen bounds one-line texts: headline, school, degree,
	// field of study, title, company, industry, profile name and username.
	maxShortTextLen = 255
	// maxPhoneLen bounds a phone number.
	maxPhoneLen = 50
	// maxAddressLen bounds a postal address.
	maxAddressLen = 1000
	// maxLongTextLen bounds summary, cover letter and an experience's summary.
	maxLongTextLen = 10000
	// maxURLLen bounds a social profile URL.
	maxURLLen = 2048
	// maxListLen bounds each of educationEntries, experienceEntries and
	// socialProfiles.
	maxListLen = 50
	// maxTags and maxTagLen bound tags.
	maxTags   = 50
	maxTagLen = 100
	// minYear and maxYear bound the years of entry dates: anything outside
	// is a typo rather than a school or a job.
	minYear = 1900
	maxYear = 2100
)

// textKind says which characters a text may hold.
type textKind int

const (
	// singleLine texts may not contain any control character.
	singleLine textKind = iota
	// multiLine texts may contain newlines, carriage returns and tabs.
	multiLine
)

// fieldPath is the path of an input field, e.g. input.educationEntries.1.startDate.
type fieldPath []string

// inputAt returns the path of a field of the mutation's input argument, the
// root of every userError path: inputAt("educationEntries", "1", "startDate")
// is input.educationEntries.1.startDate.
func inputAt(elems ...string) fieldPath { return fieldPath{"input"}.at(elems...) }

// at returns a new path with elems appended; p is never modified, so paths
// can be shared by siblings.
func (p fieldPath) at(elems ...string) fieldPath {
	out := make(fieldPath, 0, len(p)+len(elems))
	return append(append(out, p...), elems...)
}

// index returns the path of the list element i.
func (p fieldPath) index(i int) fieldPath { return p.at(strconv.Itoa(i)) }

// validator collects every problem of one input, in input order.
type validator struct {
	errs []model.UserError
}

// fail records an INVALID problem at path.
func (v *validator) fail(path fieldPath, format string, args ...any) {
	v.errs = append(v.errs, model.UserError{Field: path.at(), Message: fmt.Sprintf(format, args...), Code: UserErrorInvalid})
}

// text checks a trimmed text that is present: not longer than max
// characters, valid UTF-8 and free of control characters (multi-line texts
// may hold line breaks and tabs). It reports whether s is acceptable.
func (v *validator) text(path fieldPath, s string, maxLen int, kind textKind) bool {
	if !utf8.ValidString(s) {
		v.fail(path, "must be valid UTF-8 text")
		return false
	}
	if n := utf8.RuneCountInString(s); n > maxLen {
		v.fail(path, "must be at most %d characters long (got %d)", maxLen, n)
		return false
	}
	for _, r := range s {
		if kind == multiLine && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			v.fail(path, "must not contain control characters")
			return false
		}
	}
	return true
}

// required trims s and checks that it is not blank and passes text.
func (v *validator) required(path fieldPath, s string, maxLen int, kind textKind) string {
	s = strings.TrimSpace(s)
	if s == "" {
		v.fail(path, "must not be blank")
		return ""
	}
	v.text(path, s, maxLen, kind)
	return s
}

// optional trims an optional text; nil or blank gives nil (Workable stores
// an empty text as null).
func (v *validator) optional(path fieldPath, p *string, maxLen int, kind textKind) *string {
	if p == nil {
		return nil
	}
	s := strings.TrimSpace(*p)
	if s == "" {
		return nil
	}
	v.text(path, s, maxLen, kind)
	return &s
}

// identifier checks a candidate id or job shortcode, trimmed, with the one
// rule for Workable identifiers (workable.ValidID) that queries and the
// client use too.
func (v *validator) identifier(path fieldPath, s, what string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		v.fail(path, "must not be blank")
	case !workable.ValidID(s):
		v.fail(path, "is not a valid %s: 1 to %d ASCII letters, digits, hyphens or underscores", what, workable.MaxIDLen)
	}
	return s
}

// slugProblem returns why s can never be one of Workable's slugs (a stage's,
// a member role's), or "". Slugs are what Workable makes of a name
// (phone-screen, interview, offer; API.md §9, §10) and an account names its
// stages freely, so the check is permissive: it refuses only what no slug
// holds and what would change the meaning of the URL it goes into —
// nothing at all, more than maxShortTextLen characters, invalid UTF-8,
// white space or other control characters, a path separator (/ or \), ?,
// #, %, and the dot segments "." and "..". Anything else goes to Workable,
// which knows its own slugs.
func slugProblem(s string) string {
	switch {
	case s == "":
		return "not empty (leave the argument out to filter nothing)"
	case !utf8.ValidString(s):
		return "valid UTF-8"
	case utf8.RuneCountInString(s) > maxShortTextLen:
		return fmt.Sprintf("at most %d characters long", maxShortTextLen)
	case s == "." || s == "..":
		return `not "." or ".."`
	case strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`/\?#%`, r)
	}):
		return `without white space, control characters, /, \, ?, # or %`
	}
	return ""
}

// memberStatuses are the values of the status filter of GET /members
// (API.md §9).
var memberStatuses = []string{"active", "inactive", "all"}

// checkMemberFilters refuses the filters of Query.members that Workable
// could only refuse, before they cost a call: a status that is not one of
// memberStatuses, a role that cannot be a slug (slugProblem), an e-mail
// address or a name that is too long or holds control characters. An empty
// email or name filters nothing, as Workable is not sent it.
func checkMemberFilters(role, email, name, status *string) error {
	if status != nil && !slices.Contains(memberStatuses, *status) {
		return badInput("status must be one of %s", strings.Join(memberStatuses, ", "))
	}
	if role != nil {
		if msg := slugProblem(*role); msg != "" {
			return badInput("role must be a member role such as simple, admin or reviewer: %s", msg)
		}
	}
	for _, f := range []struct {
		arg    string
		value  *string
		maxLen int
	}{{"email", email, maxEmailLen}, {"name", name, maxShortTextLen}} {
		if f.value == nil {
			continue
		}
		var v validator
		if !v.text(fieldPath{f.arg}, *f.value, f.maxLen, singleLine) {
			return badInput("%s %s", f.arg, v.errs[0].Message)
		}
	}
	return nil
}

// email checks a required e-mail address; see emailProblem.
func (v *validator) email(path fieldPath, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		v.fail(path, "must not be blank")
		return ""
	}
	if msg := emailProblem(s); msg != "" {
		v.fail(path, "%s", msg)
	}
	return s
}

// emailProblem returns why s is not an acceptable e-mail address, or "". It
// must parse with net/mail as a bare address (no display name, no angle
// brackets, no comments, no quoted local part), have exactly one @, and a
// domain of at least two dot-separated labels of letters, digits and
// hyphens (internationalised letters allowed) that neither start nor end
// with a hyphen.
func emailProblem(s string) string {
	const invalid = "must be a valid e-mail address like name@example.com"
	if !utf8.ValidString(s) {
		return invalid
	}
	if n := utf8.RuneCountInString(s); n > maxEmailLen {
		return fmt.Sprintf("must be at most %d characters long (got %d)", maxEmailLen, n)
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

// date checks an optional date, which must be a real calendar date written
// YYYY-MM-DD between minYear and maxYear. It returns the trimmed text (nil
// when absent or blank) and the parsed date (zero when absent or invalid).
func (v *validator) date(path fieldPath, p *string) (*string, time.Time) {
	if p == nil {
		return nil, time.Time{}
	}
	s := strings.TrimSpace(*p)
	if s == "" {
		return nil, time.Time{}
	}
	t, ok := parseDate(s)
	if !ok {
		v.fail(path, "must be a date written YYYY-MM-DD, e.g. 2021-09-30")
		return &s, time.Time{}
	}
	if t.Year() < minYear || t.Year() > maxYear {
		v.fail(path, "must be a date between %d and %d", minYear, maxYear)
		return &s, time.Time{}
	}
	return &s, t
}

// parseDate parses exactly YYYY-MM-DD (ASCII digits) as a real date (no
// 2023-02-30). The shape is checked first so that the rule does not depend
// on the leniencies of time.Parse.
func parseDate(s string) (time.Time, bool) {
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

// dateRange checks the dates of an entry and that the end is not before the
// start (reported on endDate).
func (v *validator) dateRange(path fieldPath, start, end *string) (*string, *string) {
	s, st := v.date(path.at("startDate"), start)
	e, et := v.date(path.at("endDate"), end)
	if !st.IsZero() && !et.IsZero() && et.Before(st) {
		v.fail(path.at("endDate"), "must not be before startDate")
	}
	return s, e
}

// httpURL checks a required absolute http(s) URL with a host.
func (v *validator) httpURL(path fieldPath, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		v.fail(path, "must not be blank")
		return ""
	}
	if !v.text(path, s, maxURLLen, singleLine) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" ||
		strings.ContainsAny(s, " \t") {
		v.fail(path, "must be an absolute http or https URL, e.g. https://www.linkedin.com/in/someone")
		return s
	}
	if u.User != nil {
		v.fail(path, "must not contain a user name or password")
	}
	return s
}

// each checks and converts a list of at most maxLen items, each with item
// (given the item's path). The result is never nil, so it can also clear a
// list; a list that is too long gives one problem, not thousands, and its
// items are not checked.
func each[In, Out any](v *validator, path fieldPath, in []In, maxLen int, item func(p fieldPath, x In) Out) []Out {
	out := make([]Out, 0, len(in))
	if len(in) > maxLen {
		v.fail(path, "must have at most %d entries (got %d)", maxLen, len(in))
		return out
	}
	for i, x := range in {
		out = append(out, item(path.index(i), x))
	}
	return out
}

// educationEntries checks and converts education entries.
func (v *validator) educationEntries(path fieldPath, in []model.EducationEntryInput) []workable.EducationEntry {
	return each(v, path, in, maxListLen, func(p fieldPath, e model.EducationEntryInput) workable.EducationEntry {
		entry := workable.EducationEntry{
			School:       v.required(p.at("school"), e.School, maxShortTextLen, singleLine),
			Degree:       v.optional(p.at("degree"), e.Degree, maxShortTextLen, singleLine),
			FieldOfStudy: v.optional(p.at("fieldOfStudy"), e.FieldOfStudy, maxShortTextLen, singleLine),
		}
		entry.StartDate, entry.EndDate = v.dateRange(p, e.StartDate, e.EndDate)
		return entry
	})
}

// experienceEntries checks and converts experience entries.
func (v *validator) experienceEntries(path fieldPath, in []model.ExperienceEntryInput) []workable.ExperienceEntry {
	return each(v, path, in, maxListLen, func(p fieldPath, e model.ExperienceEntryInput) workable.ExperienceEntry {
		entry := workable.ExperienceEntry{
			Title:    v.required(p.at("title"), e.Title, maxShortTextLen, singleLine),
			Summary:  v.optional(p.at("summary"), e.Summary, maxLongTextLen, multiLine),
			Company:  v.optional(p.at("company"), e.Company, maxShortTextLen, singleLine),
			Industry: v.optional(p.at("industry"), e.Industry, maxShortTextLen, singleLine),
			Current:  e.Current,
		}
		entry.StartDate, entry.EndDate = v.dateRange(p, e.StartDate, e.EndDate)
		return entry
	})
}

// socialProfiles checks and converts social profiles. The type is matched
// case-insensitively against workable.SocialProfileTypes and sent in lower
// case.
func (v *validator) socialProfiles(path fieldPath, in []model.SocialProfileInput) []workable.SocialProfile {
	return each(v, path, in, maxListLen, func(p fieldPath, s model.SocialProfileInput) workable.SocialProfile {
		typ := strings.ToLower(strings.TrimSpace(s.Type))
		switch {
		case typ == "":
			v.fail(p.at("type"), "must not be blank")
		case !workable.IsSocialProfileType(typ):
			v.fail(p.at("type"), "must be one of Workable's social profile types (e.g. linkedin, github, twitter); see workable.SocialProfileTypes")
		}
		return workable.SocialProfile{
			Type:     typ,
			Name:     v.optional(p.at("name"), s.Name, maxShortTextLen, singleLine),
			Username: v.optional(p.at("username"), s.Username, maxShortTextLen, singleLine),
			URL:      v.httpURL(p.at("url"), s.URL),
		}
	})
}

// tags checks and trims tags. Duplicates are kept (Workable folds them), so
// that the indices of Workable's errors match the input's.
func (v *validator) tags(path fieldPath, in []string) []string {
	return each(v, path, in, maxTags, func(p fieldPath, t string) string {
		return v.required(p, t, maxTagLen, singleLine)
	})
}

// validateCreateCandidateInput checks a createCandidate input and maps it to
// Workable's create request. It returns every problem it finds, in input
// order; the request is meaningful only when there are none. Strings are
// trimmed; blank optional strings are left out; Name is "first last".
func validateCreateCandidateInput(in model.CreateCandidateInput) (hiring.NewCandidate, []model.UserError) {
	var v validator
	req := hiring.NewCandidate{
		Shortcode: v.identifier(inputAt("jobShortcode"), in.JobShortcode, "job shortcode"),
		Candidate: &workable.NewCandidate{},
		Options:   &workable.CreateCandidateOptions{Sourced: in.Sourced},
	}
	nc := req.Candidate
	nc.Firstname = v.required(inputAt("firstName"), in.FirstName, maxNameLen, singleLine)
	nc.Lastname = v.required(inputAt("lastName"), in.LastName, maxNameLen, singleLine)
	nc.Name = nc.Firstname + " " + nc.Lastname
	nc.Email = v.email(inputAt("email"), in.Email)
	nc.Headline = v.optional(inputAt("headline"), in.Headline, maxShortTextLen, singleLine)
	nc.Summary = v.optional(inputAt("summary"), in.Summary, maxLongTextLen, multiLine)
	nc.Address = v.optional(inputAt("address"), in.Address, maxAddressLen, multiLine)
	nc.Phone = v.optional(inputAt("phone"), in.Phone, maxPhoneLen, singleLine)
	nc.CoverLetter = v.optional(inputAt("coverLetter"), in.CoverLetter, maxLongTextLen, multiLine)
	// Empty lists are left out of the request (NewCandidate's omitempty).
	nc.EducationEntries = v.educationEntries(inputAt("educationEntries"), in.EducationEntries)
	nc.ExperienceEntries = v.experienceEntries(inputAt("experienceEntries"), in.ExperienceEntries)
	nc.SocialProfiles = v.socialProfiles(inputAt("socialProfiles"), in.SocialProfiles)
	nc.Tags = v.tags(inputAt("tags"), in.Tags)
	return req, v.errs
}

// validateUpdateCandidateInput checks an updateCandidate input and maps it
// to a patch that sets exactly the fields present in the input:
//   - a required field (firstName, lastName, email) set to null or to a
//     blank string is INVALID;
//   - an optional text set to null, or to a blank string, is cleared (sent
//     as null);
//   - a list replaces the stored list; [] clears it, and so does null
//     (sent as []);
//   - an input with nothing but the id is INVALID ("nothing to update"):
//     the gateway does not spend a Workable call on a no-op.
//
// It returns the trimmed id, the patch and every problem found.
func validateUpdateCandidateInput(in model.UpdateCandidateInput) (string, workable.CandidatePatch, []model.UserError) {
	var v validator
	id := v.identifier(inputAt("id"), in.ID, "candidate id")
	p := workable.CandidatePatch{
		Firstname:   v.requiredPatch(inputAt("firstName"), in.FirstName, func(p fieldPath, s string) string { return v.required(p, s, maxNameLen, singleLine) }),
		Lastname:    v.requiredPatch(inputAt("lastName"), in.LastName, func(p fieldPath, s string) string { return v.required(p, s, maxNameLen, singleLine) }),
		Email:       v.requiredPatch(inputAt("email"), in.Email, v.email),
		Headline:    v.optionalPatch(inputAt("headline"), in.Headline, maxShortTextLen, singleLine),
		Summary:     v.optionalPatch(inputAt("summary"), in.Summary, maxLongTextLen, multiLine),
		Address:     v.optionalPatch(inputAt("address"), in.Address, maxAddressLen, multiLine),
		Phone:       v.optionalPatch(inputAt("phone"), in.Phone, maxPhoneLen, singleLine),
		CoverLetter: v.optionalPatch(inputAt("coverLetter"), in.CoverLetter, maxLongTextLen, multiLine),

		EducationEntries:  listPatch(inputAt("educationEntries"), in.EducationEntries, v.educationEntries),
		ExperienceEntries: listPatch(inputAt("experienceEntries"), in.ExperienceEntries, v.experienceEntries),
		SocialProfiles:    listPatch(inputAt("socialProfiles"), in.SocialProfiles, v.socialProfiles),
		Tags:              listPatch(inputAt("tags"), in.Tags, v.tags),
	}
	if !anySet(in.FirstName, in.LastName, in.Email, in.Headline, in.Summary, in.Address, in.Phone, in.CoverLetter) &&
		!in.EducationEntries.IsSet() && !in.ExperienceEntries.IsSet() && !in.SocialProfiles.IsSet() && !in.Tags.IsSet() {
		v.fail(inputAt(), "nothing to update: give at least one field besides id")
	}
	return id, p, v.errs
}

// requiredPatch maps a required field of an update: absent is not sent,
// null is INVALID, a value is checked by check.
func (v *validator) requiredPatch(path fieldPath, o graphql.Omittable[*string], check func(fieldPath, string) string) workable.Optional[string] {
	val, set := o.ValueOK()
	switch {
	case !set:
		return workable.Optional[string]{}
	case val == nil:
		v.fail(path, "must not be null: %s is required", path[len(path)-1])
		return workable.Optional[string]{}
	}
	return workable.Some(check(path, *val))
}

// optionalPatch maps an optional text of an update: absent is not sent;
// null or blank clears it.
func (v *validator) optionalPatch(path fieldPath, o graphql.Omittable[*string], maxLen int, kind textKind) workable.Optional[string] {
	val, set := o.ValueOK()
	if !set {
		return workable.Optional[string]{}
	}
	if s := v.optional(path, val, maxLen, kind); s != nil {
		return workable.Some(*s)
	}
	return workable.Null[string]()
}

// listPatch maps a list of an update: absent is not sent; otherwise the
// checked list (empty for null or []) replaces the stored one.
func listPatch[In, Out any](path fieldPath, o graphql.Omittable[[]In], check func(fieldPath, []In) []Out) workable.Optional[[]Out] {
	val, set := o.ValueOK()
	if !set {
		return workable.Optional[[]Out]{}
	}
	return workable.Some(check(path, val))
}

// anySet reports whether any of the fields is present in the input.
func anySet(fields ...graphql.Omittable[*string]) bool {
	return slices.ContainsFunc(fields, graphql.Omittable[*string].IsSet)
}
