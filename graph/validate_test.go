package graph

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/hiring"
	"github.com/workablegw/gateway/workable"
)

func ptr[T any](v T) *T { return &v }

// fieldCode is a userError without its message, for comparisons.
type fieldCode struct {
	Field string
	Code  string
}

func fieldCodes(errs []model.UserError) []fieldCode {
	out := []fieldCode{}
	for _, e := range errs {
		out = append(out, fieldCode{strings.Join(e.Field, "."), e.Code})
	}
	return out
}

// validCreateInput is a createCandidate input that passes every rule, with
// every optional field set.
func validCreateInput() model.CreateCandidateInput {
	return model.CreateCandidateInput{
		JobShortcode: "GROOV005",
		FirstName:    "Jj",
		LastName:     "Botha",
		Email:        "jj_botha@fakemail.com",
		Sourced:      ptr(false),
		Headline:     ptr("Professional Administration Manager"),
		Summary:      ptr("A focussed,\nresults-driven team player."),
		Address:      ptr("25772 Gustave Shore, Iowa, USA"),
		Phone:        ptr("1-859-557-6573"),
		CoverLetter:  ptr("Lorem ipsum."),
		EducationEntries: []model.EducationEntryInput{{
			School: "University of Pennsylvania", Degree: ptr("MBA"), FieldOfStudy: ptr("Business"),
			StartDate: ptr("2008-03-01"), EndDate: ptr("2011-03-30"),
		}},
		ExperienceEntries: []model.ExperienceEntryInput{{
			Title: "Sales Director", Summary: ptr("Sold things."), Company: ptr("Vox Mobile"),
			Industry: ptr("Telecommunications"), StartDate: ptr("2011-03-01"), EndDate: ptr("2014-03-30"), Current: ptr(false),
		}},
		SocialProfiles: []model.SocialProfileInput{{
			Type: "twitter", Name: ptr("Twitter"), Username: ptr("jj_botha"), URL: "http://www.twitter.com/jj_botha",
		}},
		Tags: []string{"globetrotter"},
	}
}

func TestValidateCreateCandidateInputMapsEveryField(t *testing.T) {
	t.Parallel()
	in := validCreateInput()
	// Surrounding white space is trimmed everywhere; blank optionals vanish.
	in.FirstName, in.Email, in.Phone, in.Headline = "  Jj ", " jj_botha@fakemail.com\t", ptr("   "), ptr(" Professional Administration Manager ")
	in.SocialProfiles[0].Type = " Twitter "
	req, errs := validateCreateCandidateInput(in)
	if len(errs) > 0 {
		t.Fatalf("unexpected userErrors: %+v", errs)
	}
	want := hiring.NewCandidate{
		Shortcode: "GROOV005",
		Candidate: &workable.NewCandidate{
			Name: "Jj Botha", Firstname: "Jj", Lastname: "Botha", Email: "jj_botha@fakemail.com",
			Headline: ptr("Professional Administration Manager"), Summary: ptr("A focussed,\nresults-driven team player."),
			Address: ptr("25772 Gustave Shore, Iowa, USA"), CoverLetter: ptr("Lorem ipsum."),
			EducationEntries: []workable.EducationEntry{{
				School: "University of Pennsylvania", Degree: ptr("MBA"), FieldOfStudy: ptr("Business"),
				StartDate: ptr("2008-03-01"), EndDate: ptr("2011-03-30"),
			}},
			ExperienceEntries: []workable.ExperienceEntry{{
				Title: "Sales Director", Summary: ptr("Sold things."), Company: ptr("Vox Mobile"),
				Industry: ptr("Telecommunications"), StartDate: ptr("2011-03-01"), EndDate: ptr("2014-03-30"), Current: ptr(false),
			}},
			SocialProfiles: []workable.SocialProfile{{
				Type: "twitter", Name: ptr("Twitter"), Username: ptr("jj_botha"), URL: "http://www.twitter.com/jj_botha",
			}},
			Tags: []string{"globetrotter"},
		},
		Options: &workable.CreateCandidateOptions{Sourced: ptr(false)},
	}
	if diff := cmp.Diff(want, req); diff != "" {
		t.Errorf("request mismatch (-want +got):\n%s", diff)
	}
}

func TestValidateCreateCandidateInputMinimal(t *testing.T) {
	t.Parallel()
	req, errs := validateCreateCandidateInput(model.CreateCandidateInput{
		JobShortcode: "J1", FirstName: "A", LastName: "B", Email: "a@b.co",
	})
	if len(errs) > 0 {
		t.Fatalf("unexpected userErrors: %+v", errs)
	}
	// Nothing optional is sent: Workable applies its defaults (sourced).
	body, err := json.Marshal(req.Candidate)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(body), `{"name":"A B","firstname":"A","lastname":"B","email":"a@b.co"}`; got != want {
		t.Errorf("candidate JSON = %s, want %s", got, want)
	}
	if req.Options.Sourced != nil {
		t.Errorf("Sourced = %v, want nil (Workable's default)", *req.Options.Sourced)
	}
}

// createRules has one row per validation rule of the create input: the
// change to a valid input and the userErrors it must give.
// The end-to-end test runs them too (TestCreateCandidateUserErrors).
var createRules = []struct {
	name   string
	modify func(*model.CreateCandidateInput)
	want   []fieldCode
}{
	{"blank job shortcode", func(in *model.CreateCandidateInput) { in.JobShortcode = " " },
		[]fieldCode{{"input.jobShortcode", "INVALID"}}},
	{"dot-dot job shortcode", func(in *model.CreateCandidateInput) { in.JobShortcode = ".." },
		[]fieldCode{{"input.jobShortcode", "INVALID"}}},
	{"job shortcode with a space", func(in *model.CreateCandidateInput) { in.JobShortcode = "GROOV 5" },
		[]fieldCode{{"input.jobShortcode", "INVALID"}}},
	{"blank first name", func(in *model.CreateCandidateInput) { in.FirstName = "\t" },
		[]fieldCode{{"input.firstName", "INVALID"}}},
	{"blank last name", func(in *model.CreateCandidateInput) { in.LastName = "" },
		[]fieldCode{{"input.lastName", "INVALID"}}},
	{"first name too long", func(in *model.CreateCandidateInput) { in.FirstName = strings.Repeat("é", hiring.MaxNameLen+1) },
		[]fieldCode{{"input.firstName", "INVALID"}}},
	{"first name at the limit", func(in *model.CreateCandidateInput) { in.FirstName = strings.Repeat("é", hiring.MaxNameLen) },
		[]fieldCode{}},
	{"control character in last name", func(in *model.CreateCandidateInput) { in.LastName = "Bo\x00tha" },
		[]fieldCode{{"input.lastName", "INVALID"}}},
	{"newline in headline", func(in *model.CreateCandidateInput) { in.Headline = ptr("a\nb") },
		[]fieldCode{{"input.headline", "INVALID"}}},
	{"invalid UTF-8 in headline", func(in *model.CreateCandidateInput) { in.Headline = ptr("a\xffb") },
		[]fieldCode{{"input.headline", "INVALID"}}},
	{"blank email", func(in *model.CreateCandidateInput) { in.Email = "  " },
		[]fieldCode{{"input.email", "INVALID"}}},
	{"email without @", func(in *model.CreateCandidateInput) { in.Email = "jj.fakemail.com" },
		[]fieldCode{{"input.email", "INVALID"}}},
	{"email with a display name", func(in *model.CreateCandidateInput) { in.Email = "Jj <jj@fakemail.com>" },
		[]fieldCode{{"input.email", "INVALID"}}},
	{"email domain without a dot", func(in *model.CreateCandidateInput) { in.Email = "jj@localhost" },
		[]fieldCode{{"input.email", "INVALID"}}},
	{"summary too long", func(in *model.CreateCandidateInput) { in.Summary = ptr(strings.Repeat("x", hiring.MaxLongTextLen+1)) },
		[]fieldCode{{"input.summary", "INVALID"}}},
	{"cover letter too long", func(in *model.CreateCandidateInput) {
		in.CoverLetter = ptr(strings.Repeat("x", hiring.MaxLongTextLen+1))
	},
		[]fieldCode{{"input.coverLetter", "INVALID"}}},
	{"address too long", func(in *model.CreateCandidateInput) { in.Address = ptr(strings.Repeat("x", hiring.MaxAddressLen+1)) },
		[]fieldCode{{"input.address", "INVALID"}}},
	{"phone too long", func(in *model.CreateCandidateInput) { in.Phone = ptr(strings.Repeat("1", hiring.MaxPhoneLen+1)) },
		[]fieldCode{{"input.phone", "INVALID"}}},
	{"blank school", func(in *model.CreateCandidateInput) { in.EducationEntries[0].School = " " },
		[]fieldCode{{"input.educationEntries.0.school", "INVALID"}}},
	{"start date not YYYY-MM-DD", func(in *model.CreateCandidateInput) { in.EducationEntries[0].StartDate = ptr("2008-3-1") },
		[]fieldCode{{"input.educationEntries.0.startDate", "INVALID"}}},
	{"end date not a real date", func(in *model.CreateCandidateInput) { in.EducationEntries[0].EndDate = ptr("2011-02-30") },
		[]fieldCode{{"input.educationEntries.0.endDate", "INVALID"}}},
	{"date out of range", func(in *model.CreateCandidateInput) { in.EducationEntries[0].StartDate = ptr("0001-01-01") },
		[]fieldCode{{"input.educationEntries.0.startDate", "INVALID"}}},
	{"end date before start date", func(in *model.CreateCandidateInput) {
		in.ExperienceEntries[0].StartDate, in.ExperienceEntries[0].EndDate = ptr("2014-03-30"), ptr("2011-03-01")
	}, []fieldCode{{"input.experienceEntries.0.endDate", "INVALID"}}},
	{"blank title", func(in *model.CreateCandidateInput) { in.ExperienceEntries[0].Title = "" },
		[]fieldCode{{"input.experienceEntries.0.title", "INVALID"}}},
	{"unknown social profile type", func(in *model.CreateCandidateInput) { in.SocialProfiles[0].Type = "myblog" },
		[]fieldCode{{"input.socialProfiles.0.type", "INVALID"}}},
	{"relative social profile url", func(in *model.CreateCandidateInput) { in.SocialProfiles[0].URL = "/in/jj" },
		[]fieldCode{{"input.socialProfiles.0.url", "INVALID"}}},
	{"ftp social profile url", func(in *model.CreateCandidateInput) { in.SocialProfiles[0].URL = "ftp://example.com/jj" },
		[]fieldCode{{"input.socialProfiles.0.url", "INVALID"}}},
	{"social profile url with credentials", func(in *model.CreateCandidateInput) { in.SocialProfiles[0].URL = "https://u:p@example.com/" },
		[]fieldCode{{"input.socialProfiles.0.url", "INVALID"}}},
	{"blank tag", func(in *model.CreateCandidateInput) { in.Tags = []string{"ok", " "} },
		[]fieldCode{{"input.tags.1", "INVALID"}}},
	{"tag too long", func(in *model.CreateCandidateInput) { in.Tags = []string{strings.Repeat("t", hiring.MaxTagLen+1)} },
		[]fieldCode{{"input.tags.0", "INVALID"}}},
	{"too many tags", func(in *model.CreateCandidateInput) { in.Tags = make([]string, hiring.MaxTags+1) },
		[]fieldCode{{"input.tags", "INVALID"}}},
	{"too many education entries", func(in *model.CreateCandidateInput) {
		in.EducationEntries = make([]model.EducationEntryInput, hiring.MaxListLen+1)
	}, []fieldCode{{"input.educationEntries", "INVALID"}}},
	{"too many experience entries", func(in *model.CreateCandidateInput) {
		in.ExperienceEntries = make([]model.ExperienceEntryInput, hiring.MaxListLen+1)
	}, []fieldCode{{"input.experienceEntries", "INVALID"}}},
	{"too many social profiles", func(in *model.CreateCandidateInput) {
		in.SocialProfiles = make([]model.SocialProfileInput, hiring.MaxListLen+1)
	}, []fieldCode{{"input.socialProfiles", "INVALID"}}},
}

func TestValidateCreateCandidateInputRules(t *testing.T) {
	t.Parallel()
	for _, tt := range createRules {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := validCreateInput()
			tt.modify(&in)
			_, errs := validateCreateCandidateInput(in)
			if diff := cmp.Diff(tt.want, fieldCodes(errs)); diff != "" {
				t.Errorf("userErrors mismatch (-want +got):\n%s", diff)
			}
			for _, e := range errs {
				if e.Message == "" {
					t.Errorf("userError %v has no message", e.Field)
				}
			}
		})
	}
}

func TestValidateCreateCandidateInputReportsEveryProblem(t *testing.T) {
	t.Parallel()
	in := validCreateInput()
	in.FirstName, in.Email = "", "nope"
	in.EducationEntries = append(in.EducationEntries, model.EducationEntryInput{
		School: "MIT", StartDate: ptr("2012-13-01"), EndDate: ptr("yesterday"),
	})
	in.SocialProfiles[0] = model.SocialProfileInput{Type: "", URL: ""}
	_, errs := validateCreateCandidateInput(in)
	want := []fieldCode{
		{"input.firstName", "INVALID"},
		{"input.email", "INVALID"},
		{"input.educationEntries.1.startDate", "INVALID"},
		{"input.educationEntries.1.endDate", "INVALID"},
		{"input.socialProfiles.0.type", "INVALID"},
		{"input.socialProfiles.0.url", "INVALID"},
	}
	if diff := cmp.Diff(want, fieldCodes(errs)); diff != "" {
		t.Errorf("userErrors mismatch (-want +got):\n%s", diff)
	}
}

func patchJSON(t *testing.T, p workable.CandidatePatch) string {
	t.Helper()
	b, err := json.Marshal(p.Fields())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestValidateUpdateCandidateInput(t *testing.T) {
	t.Parallel()
	str := graphql.OmittableOf[*string]
	tests := []struct {
		name      string
		in        model.UpdateCandidateInput
		wantPatch string // JSON of the fields sent; "" when userErrors are expected
		wantErrs  []fieldCode
	}{
		{
			name:      "one scalar",
			in:        model.UpdateCandidateInput{ID: "ce4da98", Headline: str(ptr(" CTO "))},
			wantPatch: `{"headline":"CTO"}`,
		},
		{
			name: "null clears optional scalars, blank too",
			in: model.UpdateCandidateInput{ID: "ce4da98", Headline: str(nil), Summary: str(nil), Address: str(nil),
				Phone: str(ptr("  ")), CoverLetter: str(nil)},
			wantPatch: `{"address":null,"cover_letter":null,"headline":null,"phone":null,"summary":null}`,
		},
		{
			name: "required fields",
			in: model.UpdateCandidateInput{ID: "ce4da98", FirstName: str(ptr("Jj")), LastName: str(ptr("Botha")),
				Email: str(ptr("jj@example.com"))},
			wantPatch: `{"email":"jj@example.com","firstname":"Jj","lastname":"Botha"}`,
		},
		{
			name: "lists replace; [] and null clear",
			in: model.UpdateCandidateInput{ID: "ce4da98",
				EducationEntries:  graphql.OmittableOf([]model.EducationEntryInput{{School: "MIT"}}),
				ExperienceEntries: graphql.OmittableOf([]model.ExperienceEntryInput{}),
				SocialProfiles:    graphql.OmittableOf[[]model.SocialProfileInput](nil),
				Tags:              graphql.OmittableOf([]string{" a ", "b"}),
			},
			wantPatch: `{"education_entries":[{"school":"MIT","degree":null,"field_of_study":null,"start_date":null,"end_date":null}],` +
				`"experience_entries":[],"social_profiles":[],"tags":["a","b"]}`,
		},
		{
			name:     "null required fields are invalid",
			in:       model.UpdateCandidateInput{ID: "ce4da98", FirstName: str(nil), LastName: str(nil), Email: str(nil)},
			wantErrs: []fieldCode{{"input.firstName", "INVALID"}, {"input.lastName", "INVALID"}, {"input.email", "INVALID"}},
		},
		{
			name:     "blank required fields are invalid",
			in:       model.UpdateCandidateInput{ID: "ce4da98", FirstName: str(ptr(" ")), Email: str(ptr(""))},
			wantErrs: []fieldCode{{"input.firstName", "INVALID"}, {"input.email", "INVALID"}},
		},
		{
			name:     "invalid email",
			in:       model.UpdateCandidateInput{ID: "ce4da98", Email: str(ptr("jj@localhost"))},
			wantErrs: []fieldCode{{"input.email", "INVALID"}},
		},
		{
			name:     "nothing to update",
			in:       model.UpdateCandidateInput{ID: "ce4da98"},
			wantErrs: []fieldCode{{"input", "INVALID"}},
		},
		{
			name:     "blank id",
			in:       model.UpdateCandidateInput{ID: " ", Headline: str(nil)},
			wantErrs: []fieldCode{{"input.id", "INVALID"}},
		},
		{
			name: "entry rules apply",
			in: model.UpdateCandidateInput{ID: "ce4da98",
				EducationEntries: graphql.OmittableOf([]model.EducationEntryInput{{School: "MIT"}, {School: "", EndDate: ptr("2020-02-30")}}),
				SocialProfiles:   graphql.OmittableOf([]model.SocialProfileInput{{Type: "myspace", URL: "myspace.com/jj"}}),
				Tags:             graphql.OmittableOf(make([]string, hiring.MaxTags+1)),
			},
			wantErrs: []fieldCode{
				{"input.educationEntries.1.school", "INVALID"}, {"input.educationEntries.1.endDate", "INVALID"},
				{"input.socialProfiles.0.url", "INVALID"}, {"input.tags", "INVALID"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, patch, errs := validateUpdateCandidateInput(tt.in)
			if tt.wantErrs == nil {
				tt.wantErrs = []fieldCode{}
			}
			if diff := cmp.Diff(tt.wantErrs, fieldCodes(errs)); diff != "" {
				t.Fatalf("userErrors mismatch (-want +got):\n%s", diff)
			}
			if len(errs) > 0 {
				return
			}
			if id != "ce4da98" {
				t.Errorf("id = %q", id)
			}
			if got := patchJSON(t, patch); got != tt.wantPatch {
				t.Errorf("patch = %s\nwant    %s", got, tt.wantPatch)
			}
		})
	}
}
