package graph

import (
	"fmt"
	"slices"
	"strings"
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

// validator is hiring's Validator with the checks of the GraphQL inputs
// that convert them to Workable's requests.
type validator struct{ hiring.Validator }

// userErrors returns the problems found so far as userErrors.
func (v *validator) userErrors() []model.UserError { return problemUserErrors(v.Problems) }

// educationEntries checks and converts education entries.
func (v *validator) educationEntries(path hiring.Path, in []model.EducationEntryInput) []workable.EducationEntry {
	return hiring.Each(&v.Validator, path, in, hiring.MaxListLen, func(p hiring.Path, e model.EducationEntryInput) workable.EducationEntry {
		entry := workable.EducationEntry{
			School:       v.Required(p.At("school"), e.School, hiring.MaxShortTextLen, hiring.SingleLine),
			Degree:       v.Optional(p.At("degree"), e.Degree, hiring.MaxShortTextLen, hiring.SingleLine),
			FieldOfStudy: v.Optional(p.At("fieldOfStudy"), e.FieldOfStudy, hiring.MaxShortTextLen, hiring.SingleLine),
		}
		entry.StartDate, entry.EndDate = v.DateRange(p, e.StartDate, e.EndDate)
		return entry
	})
}

// experienceEntries checks and converts experience entries.
func (v *validator) experienceEntries(path hiring.Path, in []model.ExperienceEntryInput) []workable.ExperienceEntry {
	return hiring.Each(&v.Validator, path, in, hiring.MaxListLen, func(p hiring.Path, e model.ExperienceEntryInput) workable.ExperienceEntry {
		entry := workable.ExperienceEntry{
			Title:    v.Required(p.At("title"), e.Title, hiring.MaxShortTextLen, hiring.SingleLine),
			Summary:  v.Optional(p.At("summary"), e.Summary, hiring.MaxLongTextLen, hiring.MultiLine),
			Company:  v.Optional(p.At("company"), e.Company, hiring.MaxShortTextLen, hiring.SingleLine),
			Industry: v.Optional(p.At("industry"), e.Industry, hiring.MaxShortTextLen, hiring.SingleLine),
			Current:  e.Current,
		}
		entry.StartDate, entry.EndDate = v.DateRange(p, e.StartDate, e.EndDate)
		return entry
	})
}

// socialProfiles checks and converts social profiles. The type is matched
// case-insensitively against workable.SocialProfileTypes and sent in lower
// case.
func (v *validator) socialProfiles(path hiring.Path, in []model.SocialProfileInput) []workable.SocialProfile {
	return hiring.Each(&v.Validator, path, in, hiring.MaxListLen, func(p hiring.Path, s model.SocialProfileInput) workable.SocialProfile {
		typ := strings.ToLower(strings.TrimSpace(s.Type))
		switch {
		case typ == "":
			v.Fail(p.At("type"), "must not be blank")
		case !workable.IsSocialProfileType(typ):
			v.Fail(p.At("type"), "must be one of Workable's social profile types (e.g. linkedin, github, twitter); see workable.SocialProfileTypes")
		}
		return workable.SocialProfile{
			Type:     typ,
			Name:     v.Optional(p.At("name"), s.Name, hiring.MaxShortTextLen, hiring.SingleLine),
			Username: v.Optional(p.At("username"), s.Username, hiring.MaxShortTextLen, hiring.SingleLine),
			URL:      v.HTTPURL(p.At("url"), s.URL),
		}
	})
}

// validateCreateCandidateInput checks a createCandidate input and maps it to
// Workable's create request. It returns every problem it finds, in input
// order; the request is meaningful only when there are none. Strings are
// trimmed; blank optional strings are left out; Name is "first last".
func validateCreateCandidateInput(in model.CreateCandidateInput) (hiring.NewCandidate, []model.UserError) {
	var v validator
	req := hiring.NewCandidate{
		Shortcode: v.Identifier(hiring.InputAt("jobShortcode"), in.JobShortcode, "job shortcode"),
		Candidate: &workable.NewCandidate{},
		Options:   &workable.CreateCandidateOptions{Sourced: in.Sourced},
	}
	nc := req.Candidate
	nc.Firstname = v.Required(hiring.InputAt("firstName"), in.FirstName, hiring.MaxNameLen, hiring.SingleLine)
	nc.Lastname = v.Required(hiring.InputAt("lastName"), in.LastName, hiring.MaxNameLen, hiring.SingleLine)
	nc.Name = nc.Firstname + " " + nc.Lastname
	nc.Email = v.Email(hiring.InputAt("email"), in.Email)
	nc.Headline = v.Optional(hiring.InputAt("headline"), in.Headline, hiring.MaxShortTextLen, hiring.SingleLine)
	nc.Summary = v.Optional(hiring.InputAt("summary"), in.Summary, hiring.MaxLongTextLen, hiring.MultiLine)
	nc.Address = v.Optional(hiring.InputAt("address"), in.Address, hiring.MaxAddressLen, hiring.MultiLine)
	nc.Phone = v.Optional(hiring.InputAt("phone"), in.Phone, hiring.MaxPhoneLen, hiring.SingleLine)
	nc.CoverLetter = v.Optional(hiring.InputAt("coverLetter"), in.CoverLetter, hiring.MaxLongTextLen, hiring.MultiLine)
	// Empty lists are left out of the request (NewCandidate's omitempty).
	nc.EducationEntries = v.educationEntries(hiring.InputAt("educationEntries"), in.EducationEntries)
	nc.ExperienceEntries = v.experienceEntries(hiring.InputAt("experienceEntries"), in.ExperienceEntries)
	nc.SocialProfiles = v.socialProfiles(hiring.InputAt("socialProfiles"), in.SocialProfiles)
	nc.Tags = v.Tags(hiring.InputAt("tags"), in.Tags)
	return req, v.userErrors()
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
	id := v.Identifier(hiring.InputAt("id"), in.ID, "candidate id")
	p := workable.CandidatePatch{
		Firstname:   v.requiredPatch(hiring.InputAt("firstName"), in.FirstName, func(p hiring.Path, s string) string { return v.Required(p, s, hiring.MaxNameLen, hiring.SingleLine) }),
		Lastname:    v.requiredPatch(hiring.InputAt("lastName"), in.LastName, func(p hiring.Path, s string) string { return v.Required(p, s, hiring.MaxNameLen, hiring.SingleLine) }),
		Email:       v.requiredPatch(hiring.InputAt("email"), in.Email, v.Email),
		Headline:    v.optionalPatch(hiring.InputAt("headline"), in.Headline, hiring.MaxShortTextLen, hiring.SingleLine),
		Summary:     v.optionalPatch(hiring.InputAt("summary"), in.Summary, hiring.MaxLongTextLen, hiring.MultiLine),
		Address:     v.optionalPatch(hiring.InputAt("address"), in.Address, hiring.MaxAddressLen, hiring.MultiLine),
		Phone:       v.optionalPatch(hiring.InputAt("phone"), in.Phone, hiring.MaxPhoneLen, hiring.SingleLine),
		CoverLetter: v.optionalPatch(hiring.InputAt("coverLetter"), in.CoverLetter, hiring.MaxLongTextLen, hiring.MultiLine),

		EducationEntries:  listPatch(hiring.InputAt("educationEntries"), in.EducationEntries, v.educationEntries),
		ExperienceEntries: listPatch(hiring.InputAt("experienceEntries"), in.ExperienceEntries, v.experienceEntries),
		SocialProfiles:    listPatch(hiring.InputAt("socialProfiles"), in.SocialProfiles, v.socialProfiles),
		Tags:              listPatch(hiring.InputAt("tags"), in.Tags, v.Tags),
	}
	if !anySet(in.FirstName, in.LastName, in.Email, in.Headline, in.Summary, in.Address, in.Phone, in.CoverLetter) &&
		!in.EducationEntries.IsSet() && !in.ExperienceEntries.IsSet() && !in.SocialProfiles.IsSet() && !in.Tags.IsSet() {
		v.Fail(hiring.InputAt(), "nothing to update: give at least one field besides id")
	}
	return id, p, v.userErrors()
}

// requiredPatch maps a required field of an update: absent is not sent,
// null is INVALID, a value is checked by check.
func (v *validator) requiredPatch(path hiring.Path, o graphql.Omittable[*string], check func(hiring.Path, string) string) workable.Optional[string] {
	val, set := o.ValueOK()
	switch {
	case !set:
		return workable.Optional[string]{}
	case val == nil:
		v.Fail(path, "must not be null: %s is required", path[len(path)-1])
		return workable.Optional[string]{}
	}
	return workable.Some(check(path, *val))
}

// optionalPatch maps an optional text of an update: absent is not sent;
// null or blank clears it.
func (v *validator) optionalPatch(path hiring.Path, o graphql.Omittable[*string], maxLen int, kind hiring.TextKind) workable.Optional[string] {
	val, set := o.ValueOK()
	if !set {
		return workable.Optional[string]{}
	}
	if s := v.Optional(path, val, maxLen, kind); s != nil {
		return workable.Some(*s)
	}
	return workable.Null[string]()
}

// listPatch maps a list of an update: absent is not sent; otherwise the
// checked list (empty for null or []) replaces the stored one.
func listPatch[In, Out any](path hiring.Path, o graphql.Omittable[[]In], check func(hiring.Path, []In) []Out) workable.Optional[[]Out] {
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

// slugProblem returns why s can never be one of Workable's slugs (a stage's,
// a member role's), or "". Slugs are what Workable makes of a name
// (phone-screen, interview, offer; API.md §9, §10) and an account names its
// stages freely, so the check is permissive: it refuses only what no slug
// holds and what would change the meaning of the URL it goes into —
// nothing at all, more than hiring.MaxShortTextLen characters, invalid UTF-8,
// white space or other control characters, a path separator (/ or \), ?,
// #, %, and the dot segments "." and "..". Anything else goes to Workable,
// which knows its own slugs.
func slugProblem(s string) string {
	switch {
	case s == "":
		return "not empty (leave the argument out to filter nothing)"
	case !utf8.ValidString(s):
		return "valid UTF-8"
	case utf8.RuneCountInString(s) > hiring.MaxShortTextLen:
		return fmt.Sprintf("at most %d characters long", hiring.MaxShortTextLen)
	case s == "." || s == "..":
		return `not "." or ".."`
	case strings.ContainsFunc(s, notInSlug):
		return `without white space, control characters, /, \, ?, # or %`
	}
	return ""
}

// notInSlug reports whether r can never be in a slug: white space, a
// control character, /, \, ?, # or %. ASCII, what slugs are made of, is
// decided without the unicode tables (its spaces and controls are the
// characters up to ' ' and DEL).
func notInSlug(r rune) bool {
	if r < utf8.RuneSelf {
		return r <= ' ' || r == 0x7f || r == '/' || r == '\\' || r == '?' || r == '#' || r == '%'
	}
	return unicode.IsSpace(r) || unicode.IsControl(r)
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
	}{{"email", email, hiring.MaxEmailLen}, {"name", name, hiring.MaxShortTextLen}} {
		if f.value == nil {
			continue
		}
		var v validator
		if !v.Text(hiring.Path{f.arg}, *f.value, f.maxLen, hiring.SingleLine) {
			return badInput("%s %s", f.arg, v.Problems[0].Message)
		}
	}
	return nil
}
