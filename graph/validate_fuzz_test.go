package graph

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/hiring"
	"github.com/workablegw/gateway/workable"
)

// FuzzValidateCreateCandidateInput checks that validation never panics,
// is deterministic, points every problem into the input, and lets through
// only requests that satisfy the rules Workable relies on. Its seed corpus
// runs with every `go test`.
func FuzzValidateCreateCandidateInput(f *testing.F) {
	seeds := [][9]string{
		{"GROOV005", "Jj", "Botha", "jj_botha@fakemail.com", "University", "2008-03-01", "2011-03-30", "twitter", "http://twitter.com/jj"},
		{"", "", "", "", "", "", "", "", ""},
		{" .. ", " \t", "\x00", "a@b@c", " ", "2023-02-30", "2022-01-01", "TWITTER", "ftp://x"},
		{"J/1", "é", strings.Repeat("x", 300), "Jj <jj@x.io>", "MIT", "2011-03-30", "2008-03-01", "linkedin", "https://u:p@x.io"},
		{"J1", "\xff", "B", "jj@x..io", "MIT", "9999-12-31", "0000-01-01", "", "/relative"},
		{"J1", "A", "B", `"a b"@x.io`, "MIT", "2008-3-1", "+008-03-01", "github", "https://github.com/a b"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8])
	}
	f.Fuzz(func(t *testing.T, shortcode, first, last, email, school, start, end, socialType, socialURL string) {
		in := model.CreateCandidateInput{
			JobShortcode: shortcode, FirstName: first, LastName: last, Email: email,
			Headline: &first, Summary: &school, Address: &last, Phone: &start, CoverLetter: &end,
			EducationEntries:  []model.EducationEntryInput{{School: school, Degree: &end, StartDate: &start, EndDate: &end}},
			ExperienceEntries: []model.ExperienceEntryInput{{Title: last, Company: &school, StartDate: &end, EndDate: &start}},
			SocialProfiles:    []model.SocialProfileInput{{Type: socialType, Name: &first, Username: &email, URL: socialURL}},
			Tags:              []string{first, last, socialType},
		}
		req, errs := validateCreateCandidateInput(in)
		req2, errs2 := validateCreateCandidateInput(in)
		if diff := cmp.Diff(errs, errs2); diff != "" {
			t.Fatalf("validation is not deterministic:\n%s", diff)
		}
		if diff := cmp.Diff(req, req2); diff != "" {
			t.Fatalf("mapping is not deterministic:\n%s", diff)
		}
		for _, e := range errs {
			if len(e.Field) == 0 || e.Field[0] != "input" || e.Code != UserErrorInvalid || e.Message == "" {
				t.Fatalf("malformed userError %+v", e)
			}
		}
		if len(errs) > 0 {
			return
		}
		// A request that passes satisfies what Workable requires.
		c := req.Candidate
		for _, s := range []string{req.Shortcode, c.Firstname, c.Lastname, c.Email} {
			if s == "" || s != strings.TrimSpace(s) || !utf8.ValidString(s) {
				t.Fatalf("required value %q is blank, untrimmed or not UTF-8", s)
			}
		}
		if strings.Count(c.Email, "@") != 1 {
			t.Fatalf("email %q passed", c.Email)
		}
		if c.Name != c.Firstname+" "+c.Lastname {
			t.Fatalf("name %q", c.Name)
		}
		for _, e := range c.EducationEntries {
			checkDates(t, e.StartDate, e.EndDate)
		}
		for _, e := range c.ExperienceEntries {
			checkDates(t, e.StartDate, e.EndDate)
		}
		for _, p := range c.SocialProfiles {
			if !slices.Contains(workable.SocialProfileTypes(), p.Type) {
				t.Fatalf("social type %q passed", p.Type)
			}
			if !strings.HasPrefix(p.URL, "http://") && !strings.HasPrefix(p.URL, "https://") {
				t.Fatalf("social url %q passed", p.URL)
			}
		}
	})
}

func checkDates(t *testing.T, start, end *string) {
	t.Helper()
	var st, et string
	for _, d := range []struct {
		p   *string
		out *string
	}{{start, &st}, {end, &et}} {
		if d.p == nil {
			continue
		}
		if _, ok := hiring.ParseDate(*d.p); !ok {
			t.Fatalf("date %q passed", *d.p)
		}
		*d.out = *d.p
	}
	// YYYY-MM-DD compares as text.
	if st != "" && et != "" && et < st {
		t.Fatalf("end %s before start %s passed", et, st)
	}
}

// FuzzValidateUpdateCandidateInput checks that update validation never
// panics, is deterministic, points every problem into the input, and that a
// patch it lets through sends exactly the fields present in the input, never
// clearing a required one. mask picks which fields are present (bit set) and,
// of those, which are an explicit null (the matching bit of nulls).
func FuzzValidateUpdateCandidateInput(f *testing.F) {
	f.Add("3fc9a80f", "Jj", "jj@example.com", "2011-03-30", "linkedin", "https://linkedin.com/in/jj", uint16(0xffff), uint16(0))
	f.Add("3fc9a80f", "", "", "", "", "", uint16(0x0007), uint16(0x0007))
	f.Add(" ", "\xff", "a@b", "2023-02-30", "TWITTER", "ftp://x", uint16(0x0f0f), uint16(0x00f0))
	f.Add("id", strings.Repeat("x", 300), "jj@x..io", "9999-12-31", "", "/relative", uint16(0x1000), uint16(0x1000))
	f.Add("id", "A", "a@b.io", "", "github", "https://github.com/a", uint16(0), uint16(0))
	f.Fuzz(func(t *testing.T, id, text, email, date, socialType, url string, mask, nulls uint16) {
		str := func(bit int, v string) graphql.Omittable[*string] {
			switch {
			case mask&(1<<bit) == 0:
				return graphql.Omittable[*string]{}
			case nulls&(1<<bit) != 0:
				return graphql.OmittableOf[*string](nil)
			}
			return graphql.OmittableOf(&v)
		}
		list := func(bit int) bool { return mask&(1<<bit) != 0 }
		in := model.UpdateCandidateInput{
			ID: id, FirstName: str(0, text), LastName: str(1, text), Email: str(2, email),
			Headline: str(3, text), Summary: str(4, text), Address: str(5, text), Phone: str(6, date), CoverLetter: str(7, text),
		}
		if list(8) {
			in.EducationEntries = graphql.OmittableOf([]model.EducationEntryInput{{School: text, StartDate: &date}})
		}
		if list(9) {
			in.ExperienceEntries = graphql.OmittableOf([]model.ExperienceEntryInput{{Title: text, EndDate: &date}})
		}
		if list(10) {
			in.SocialProfiles = graphql.OmittableOf([]model.SocialProfileInput{{Type: socialType, URL: url}})
		}
		if list(11) {
			in.Tags = graphql.OmittableOf([]string{text, socialType})
		}

		gotID, patch, errs := validateUpdateCandidateInput(in)
		gotID2, patch2, errs2 := validateUpdateCandidateInput(in)
		if diff := cmp.Diff(errs, errs2); diff != "" || gotID != gotID2 || !cmp.Equal(patch.Fields(), patch2.Fields()) {
			t.Fatalf("validation is not deterministic:\n%s", diff)
		}
		for _, e := range errs {
			if len(e.Field) == 0 || e.Field[0] != "input" || e.Code != UserErrorInvalid || e.Message == "" {
				t.Fatalf("malformed userError %+v", e)
			}
		}
		if len(errs) > 0 {
			return
		}
		if gotID == "" || gotID != strings.TrimSpace(gotID) {
			t.Fatalf("accepted id %q", gotID)
		}
		// Exactly the present fields are sent.
		fields := patch.Fields()
		present := map[string]bool{
			"firstname": in.FirstName.IsSet(), "lastname": in.LastName.IsSet(), "email": in.Email.IsSet(),
			"headline": in.Headline.IsSet(), "summary": in.Summary.IsSet(), "address": in.Address.IsSet(),
			"phone": in.Phone.IsSet(), "cover_letter": in.CoverLetter.IsSet(),
			"education_entries": in.EducationEntries.IsSet(), "experience_entries": in.ExperienceEntries.IsSet(),
			"social_profiles": in.SocialProfiles.IsSet(), "tags": in.Tags.IsSet(),
		}
		for key, isSet := range present {
			if _, sent := fields[key]; sent != isSet {
				t.Fatalf("field %s present in input: %v, sent to Workable: %v", key, isSet, sent)
			}
		}
		// Required fields are never cleared or blank.
		for _, key := range []string{"firstname", "lastname", "email"} {
			if v, sent := fields[key]; sent {
				s, ok := v.(string)
				if !ok || strings.TrimSpace(s) == "" || !utf8.ValidString(s) {
					t.Fatalf("required field %s sent as %#v", key, v)
				}
			}
		}
	})
}
