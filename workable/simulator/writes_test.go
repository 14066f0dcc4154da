package simulator

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/workablegw/gateway/workable"
)

var _ = workable.Candidate{} // the tests decode into the shared model types

type createResp struct {
	Status    string             `json:"status"`
	Candidate workable.Candidate `json:"candidate"`
}

func validCandidate(email string) map[string]any {
	return map[string]any{
		"firstname": "Jj", "lastname": "Botha", "email": email,
		"headline": "Professional Administration Manager",
		"education_entries": []map[string]any{
			{"degree": "MBA", "school": "University of Pennsylvania", "start_date": "2008-03-01", "end_date": "2011-03-30"},
		},
		"experience_entries": []map[string]any{{"title": "Sales Director", "company": "Vox Mobile", "current": false}},
		"social_profiles": []map[string]any{
			{"type": "twitter", "name": "Twitter", "username": "jj_botha", "url": "http://www.twitter.com/jj_botha"},
		},
		"skills":  []string{"Travel Planning", "Problem Solving"},
		"tags":    []string{"globetrotter"},
		"answers": []map[string]any{{"question_key": "2128d717", "body": "Planning"}},
	}
}

func TestCreateCandidate(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC))
	ts := newTestServerAt(t, clock.Now)
	before := ts.sim.Candidates()
	lastID := mustHex(t, before[len(before)-1].ID)

	tests := []struct {
		name      string
		query     string
		body      map[string]any
		wantStage string
		wantKind  string
		sourced   bool
		action    string
	}{
		{"default is sourced", "", map[string]any{"candidate": validCandidate("a@example.com")}, "Sourced", "sourced", true, "sourced"},
		{"sourced true", "", map[string]any{"sourced": true, "candidate": validCandidate("b@example.com")}, "Sourced", "sourced", true, "sourced"},
		{"sourced false is applied", "", map[string]any{"sourced": false, "candidate": validCandidate("c@example.com")}, "Applied", "applied", false, "applied"},
		{"stage overrides", "?stage=interview", map[string]any{"sourced": false, "candidate": validCandidate("d@example.com")}, "Interview", "interview", false, "applied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.call(t, http.MethodPost, "/spi/v3/jobs/GROOV005/candidates"+tt.query, DemoToken, tt.body)
			if r.status != http.StatusCreated {
				t.Fatalf("status %d, body %s", r.status, r.body)
			}
			var got createResp
			r.decode(t, &got)
			c := got.Candidate
			if got.Status != "created" || *c.Stage != tt.wantStage || *c.StageKind != tt.wantKind || c.Sourced != tt.sourced {
				t.Errorf("status %q stage %q kind %q sourced %v; want created %q %q %v",
					got.Status, *c.Stage, *c.StageKind, c.Sourced, tt.wantStage, tt.wantKind, tt.sourced)
			}
			if c.Name != "Jj Botha" || *c.Firstname != "Jj" || *c.Lastname != "Botha" {
				t.Errorf("name %q first %v last %v", c.Name, *c.Firstname, *c.Lastname)
			}
			if c.Job.Shortcode != "GROOV005" || c.Job.Title != "Office Manager" {
				t.Errorf("job = %+v", c.Job)
			}
			if id := mustHex(t, c.ID); id <= lastID {
				t.Errorf("new id %s is not above the last id %x", c.ID, lastID)
			}
			wantTime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			if !c.CreatedAt.Equal(wantTime) || !c.UpdatedAt.Equal(wantTime) {
				t.Errorf("created_at %v updated_at %v, want %v", c.CreatedAt, c.UpdatedAt, wantTime)
			}
			if len(c.EducationEntries) != 1 || c.EducationEntries[0].School != "University of Pennsylvania" ||
				c.EducationEntries[0].ID == nil {
				t.Errorf("education = %+v", c.EducationEntries)
			}
			if diff := cmp.Diff([]workable.Skill{{Name: "travel planning"}, {Name: "problem solving"}}, c.Skills); diff != "" {
				t.Errorf("skills (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"globetrotter"}, c.Tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			if len(c.SocialProfiles) != 1 || c.SocialProfiles[0].Name != nil || *c.SocialProfiles[0].Username != "jj_botha" {
				t.Errorf("social = %+v", c.SocialProfiles)
			}
			// The candidate is stored: detail, list and activities agree.
			stored, ok := ts.sim.Candidate(c.ID)
			if !ok {
				t.Fatal("created candidate not stored")
			}
			if diff := cmp.Diff(c, stored); diff != "" {
				t.Errorf("stored candidate differs (-created +stored):\n%s", diff)
			}
			acts := ts.sim.Activities(c.ID)
			if len(acts) != 1 || acts[0].Action != tt.action || *acts[0].StageName != tt.wantStage {
				t.Errorf("activities = %+v", acts)
			}
		})
	}

	t.Run("name only is split", func(t *testing.T) {
		r := ts.call(t, http.MethodPost, "/spi/v3/jobs/GROOV002/candidates", DemoToken,
			map[string]any{"candidate": map[string]any{"name": "Ada Lovelace King", "email": "ada@example.com"}})
		var got createResp
		r.decode(t, &got)
		if r.status != http.StatusCreated || got.Candidate.Name != "Ada Lovelace King" ||
			*got.Candidate.Firstname != "Ada" || *got.Candidate.Lastname != "Lovelace King" {
			t.Errorf("status %d candidate %+v", r.status, got.Candidate)
		}
	})
	t.Run("same email in another job is fine", func(t *testing.T) {
		r := ts.call(t, http.MethodPost, "/spi/v3/jobs/GROOV004/candidates", DemoToken,
			map[string]any{"candidate": validCandidate("a@example.com")})
		if r.status != http.StatusCreated {
			t.Errorf("status %d, body %s", r.status, r.body)
		}
	})
	t.Run("listed last in the job", func(t *testing.T) {
		got := walk(t, ts, "/spi/v3/jobs/GROOV005/candidates?limit=100", "candidates", nil, "")
		stored, _ := ts.sim.Candidate(got[len(got)-1])
		if *stored.Email != "d@example.com" {
			t.Errorf("last candidate of GROOV005 is %s", *stored.Email)
		}
	})
}

func TestCreateCandidateErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	// An existing candidate, whose email is taken in its job.
	existing := ts.sim.Candidates()[0]

	with := func(mod func(c map[string]any)) map[string]any {
		c := validCandidate("new@example.com")
		mod(c)
		return map[string]any{"candidate": c}
	}
	tests := []struct {
		name       string
		path       string
		body       any
		wantStatus int
		wantErrors map[string][]string
	}{
		{"no name", "", with(func(c map[string]any) { delete(c, "firstname"); delete(c, "lastname") }),
			422, map[string][]string{"name": {"can't be blank"}}},
		{"firstname only", "", with(func(c map[string]any) { delete(c, "lastname") }),
			422, map[string][]string{"lastname": {"can't be blank"}}},
		{"lastname only", "", with(func(c map[string]any) { c["firstname"] = "" }),
			422, map[string][]string{"firstname": {"can't be blank"}}},
		{"no email", "", with(func(c map[string]any) { delete(c, "email") }),
			422, map[string][]string{"email": {"can't be blank"}}},
		{"bad email", "", with(func(c map[string]any) { c["email"] = "not-an-email" }),
			422, map[string][]string{"email": {"is invalid"}}},
		{"education without school", "", with(func(c map[string]any) {
			c["education_entries"] = []map[string]any{{"school": "Ok"}, {"degree": "MBA"}}
		}), 422, map[string][]string{"education_entries[1].school": {"can't be blank"}}},
		{"experience without title", "", with(func(c map[string]any) {
			c["experience_entries"] = []map[string]any{{"company": "Vox"}}
		}), 422, map[string][]string{"experience_entries[0].title": {"can't be blank"}}},
		{"social without type", "", with(func(c map[string]any) {
			c["social_profiles"] = []map[string]any{{"url": "http://x"}}
		}), 422, map[string][]string{"social_profiles[0].type": {"can't be blank"}}},
		{"social with unknown type", "", with(func(c map[string]any) {
			c["social_profiles"] = []map[string]any{{"type": "myblog", "url": "http://x"}}
		}), 422, map[string][]string{"social_profiles[0].type": {"is not included in the list"}}},
		{"social without url", "", with(func(c map[string]any) {
			c["social_profiles"] = []map[string]any{{"type": "github"}}
		}), 422, map[string][]string{"social_profiles[0].url": {"can't be blank"}}},
		{"answer without question_key", "", with(func(c map[string]any) {
			c["answers"] = []map[string]any{{"body": "x"}}
		}), 422, map[string][]string{"answers[0].question_key": {"can't be blank"}}},
		{"several at once", "", with(func(c map[string]any) {
			delete(c, "email")
			c["experience_entries"] = []map[string]any{{}}
		}), 422, map[string][]string{"email": {"can't be blank"}, "experience_entries[0].title": {"can't be blank"}}},
		{"duplicate email in the job", "/spi/v3/jobs/" + existing.Job.Shortcode + "/candidates",
			with(func(c map[string]any) { c["email"] = *existing.Email }),
			422, map[string][]string{"email": {"candidate already exists"}}},
		{"duplicate email ignores case", "/spi/v3/jobs/" + existing.Job.Shortcode + "/candidates",
			map[string]any{"sourced": false, "candidate": map[string]any{"name": "X Y", "email": "  " + upper(*existing.Email)}},
			422, map[string][]string{"email": {"candidate already exists"}}},
		{"missing candidate", "", map[string]any{"sourced": true}, 422, map[string][]string{"candidate": {"can't be blank"}}},
		{"unknown stage", "/spi/v3/jobs/GROOV005/candidates?stage=nope", with(func(map[string]any) {}),
			422, map[string][]string{"stage": {"is not a valid stage slug"}}},
		{"unknown job", "/spi/v3/jobs/NOPE/candidates", with(func(map[string]any) {}), 404, nil},
		{"malformed JSON", "", `{"candidate": {`, 400, nil},
		{"wrong type", "", `{"candidate": {"name": 5}}`, 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "/spi/v3/jobs/GROOV005/candidates"
			}
			n := candidateCount(ts.sim)
			r := ts.call(t, http.MethodPost, path, DemoToken, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			e := r.errBody(t)
			if e.Error == "" {
				t.Errorf("no error message in %s", r.body)
			}
			if tt.wantStatus == 404 && e.Error != "Not found" {
				t.Errorf("404 body %s", r.body)
			}
			if diff := cmp.Diff(tt.wantErrors, e.ValidationErrors); diff != "" {
				t.Errorf("validation_errors (-want +got):\n%s", diff)
			}
			if got := candidateCount(ts.sim); got != n {
				t.Errorf("a failed create stored a candidate: %d -> %d", n, got)
			}
		})
	}
}

func candidateCount(s *Simulator) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.candidates)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func TestUpdateCandidate(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	ts := newTestServerAt(t, clock.Now)

	// A candidate with every list field filled, so replacing is visible.
	var orig workable.Candidate
	for _, c := range ts.sim.Candidates() {
		if len(c.EducationEntries) > 0 && len(c.ExperienceEntries) > 0 && len(c.SocialProfiles) > 0 &&
			len(c.Tags) > 0 && c.Phone != nil && c.Summary != nil {
			orig = c
			break
		}
	}
	if orig.ID == "" {
		t.Fatal("no fully filled candidate in the seed")
	}
	path := "/spi/v3/candidates/" + orig.ID
	patch := func(t *testing.T, fields any) (workable.Candidate, response) {
		t.Helper()
		r := ts.call(t, http.MethodPatch, path, DemoToken, map[string]any{"candidate": fields})
		var got struct{ Candidate workable.Candidate }
		if r.status == http.StatusOK {
			r.decode(t, &got)
		}
		return got.Candidate, r
	}

	t.Run("scalars change, absent untouched", func(t *testing.T) {
		clock.Set(time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC))
		got, r := patch(t, map[string]any{"headline": "Chief of Staff", "firstname": "Renamed"})
		if r.status != http.StatusOK {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
		want := orig
		want.Headline = strPtr("Chief of Staff")
		want.Firstname = strPtr("Renamed")
		want.Name = "Renamed " + *orig.Lastname
		upd := time.Date(2026, 3, 1, 12, 0, 1, 0, time.UTC)
		want.UpdatedAt = &upd
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		orig = got
	})
	t.Run("null clears", func(t *testing.T) {
		got, r := patch(t, map[string]any{"phone": nil, "summary": nil})
		if r.status != http.StatusOK {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
		want := orig
		want.Phone, want.Summary = nil, nil
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		orig = got
	})
	t.Run("arrays replace wholesale", func(t *testing.T) {
		keepID := *orig.EducationEntries[0].ID
		got, r := patch(t, map[string]any{
			"education_entries": []map[string]any{
				{"id": keepID, "school": "MIT", "degree": "PhD"},
				{"school": "ETH Zurich"},
			},
			"experience_entries": []map[string]any{{"title": "CTO", "company": "Groove", "current": true}},
			"social_profiles":    []map[string]any{{"type": "github", "url": "https://github.com/x"}},
			"tags":               []string{"a", "b"},
		})
		if r.status != http.StatusOK {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
		if len(got.EducationEntries) != 2 || got.EducationEntries[0].School != "MIT" ||
			*got.EducationEntries[0].ID != keepID || got.EducationEntries[1].School != "ETH Zurich" ||
			got.EducationEntries[1].ID == nil || *got.EducationEntries[1].ID == keepID {
			t.Errorf("education = %+v", got.EducationEntries)
		}
		if len(got.ExperienceEntries) != 1 || got.ExperienceEntries[0].Title != "CTO" {
			t.Errorf("experience = %+v", got.ExperienceEntries)
		}
		if diff := cmp.Diff([]workable.SocialProfile{{Type: "github", URL: "https://github.com/x"}}, got.SocialProfiles); diff != "" {
			t.Errorf("social (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"a", "b"}, got.Tags); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		if *got.Headline != *orig.Headline || got.Name != orig.Name {
			t.Errorf("untouched scalars changed: %q %q", *got.Headline, got.Name)
		}
		orig = got
	})
	t.Run("empty arrays clear, others untouched", func(t *testing.T) {
		got, r := patch(t, map[string]any{"tags": []string{}, "social_profiles": []any{}})
		if r.status != http.StatusOK {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
		want := orig
		want.Tags, want.SocialProfiles = []string{}, []workable.SocialProfile{}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		// On the wire they are [] (not null, not absent).
		r = ts.call(t, http.MethodGet, path, DemoToken, nil)
		var raw struct{ Candidate map[string]any }
		r.decode(t, &raw)
		for _, k := range []string{"tags", "social_profiles"} {
			if v, ok := raw.Candidate[k].([]any); !ok || len(v) != 0 {
				t.Errorf("%s = %#v, want []", k, raw.Candidate[k])
			}
		}
		if len(ts.sim.Activities(orig.ID)) == 0 {
			t.Error("activities lost")
		}
	})

	errTests := []struct {
		name       string
		path       string
		body       any
		wantStatus int
		wantErrors map[string][]string
	}{
		{"unknown id", "/spi/v3/candidates/ffffffff", map[string]any{"candidate": map[string]any{"headline": "x"}}, 404, nil},
		{"non-hex id", "/spi/v3/candidates/zzz", map[string]any{"candidate": map[string]any{"headline": "x"}}, 404, nil},
		{"malformed", path, `{"candidate":`, 400, nil},
		{"no candidate", path, map[string]any{"headline": "x"}, 422, map[string][]string{"candidate": {"can't be blank"}}},
		{"unknown key", path, map[string]any{"candidate": map[string]any{"name": "x"}}, 422,
			map[string][]string{"name": {"is not a permitted attribute"}}},
		{"email cannot be cleared", path, map[string]any{"candidate": map[string]any{"email": nil}}, 422,
			map[string][]string{"email": {"can't be blank"}}},
		{"bad entry", path, map[string]any{"candidate": map[string]any{
			"experience_entries": []map[string]any{{"company": "x"}}, "headline": "not applied"}}, 422,
			map[string][]string{"experience_entries[0].title": {"can't be blank"}}},
		{"bad social type", path, map[string]any{"candidate": map[string]any{
			"social_profiles": []map[string]any{{"type": "nope", "url": "u"}}}}, 422,
			map[string][]string{"social_profiles[0].type": {"is not included in the list"}}},
		{"scalar of wrong type", path, map[string]any{"candidate": map[string]any{"phone": 5}}, 422,
			map[string][]string{"phone": {"must be a string"}}},
		{"texting_consent", path, map[string]any{"candidate": map[string]any{"texting_consent": "maybe"}}, 422,
			map[string][]string{"texting_consent": {"is not included in the list"}}},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := ts.sim.Candidate(orig.ID)
			r := ts.call(t, http.MethodPatch, tt.path, DemoToken, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			e := r.errBody(t)
			if e.Error == "" {
				t.Errorf("no error in %s", r.body)
			}
			if diff := cmp.Diff(tt.wantErrors, e.ValidationErrors); diff != "" {
				t.Errorf("validation_errors (-want +got):\n%s", diff)
			}
			after, _ := ts.sim.Candidate(orig.ID)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("a failed PATCH changed the candidate:\n%s", diff)
			}
		})
	}

	t.Run("email taken in the job", func(t *testing.T) {
		var other workable.Candidate
		for _, c := range ts.sim.Candidates() {
			if c.Job.Shortcode == orig.Job.Shortcode && c.ID != orig.ID {
				other = c
				break
			}
		}
		_, r := patch(t, map[string]any{"email": *other.Email})
		if r.status != 422 {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
		if diff := cmp.Diff(map[string][]string{"email": {"candidate already exists"}}, r.errBody(t).ValidationErrors); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("skills, resume and own email", func(t *testing.T) {
		got, r := patch(t, map[string]any{"skills": []string{"Go", "go", "SQL"}, "email": *orig.Email,
			"resume": map[string]any{"name": "cv.pdf", "data": "AAAA"}})
		if r.status != http.StatusOK {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
		if diff := cmp.Diff([]workable.Skill{{Name: "go"}, {Name: "sql"}}, got.Skills); diff != "" {
			t.Errorf("skills (-want +got):\n%s", diff)
		}
		if got.ResumeURL == nil {
			t.Error("resume_url not set")
		}
	})
}
