package workable

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The tests of this file decode the live-shaped fixtures of testdata/ (see
// testdata/README.md), written from API.md §10, through the client's real
// methods. Their paging.next URLs name the recorded account's host; serve
// rewrites them to the test server, which is what "the same host" means
// here.

// liveHost is the origin the fixtures' paging.next URLs use.
const liveHost = "https://acme.workable.com/spi/v3/"

// serveFixture answers with testdata/name, its paging.next pointed at the
// test server.
func serveFixture(t *testing.T, w http.ResponseWriter, r *http.Request, status int, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	writeJSON(w, status, strings.ReplaceAll(string(b), liveHost, "http://"+r.Host+"/spi/v3/"))
}

// ms is a UTC time with milliseconds.
func ms(year int, month time.Month, day, hour, min, sec, milli int) time.Time {
	return time.Date(year, month, day, hour, min, sec, milli*int(time.Millisecond), time.UTC)
}

func TestLiveJobsList(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /jobs", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.RawQuery {
		case "limit=2":
			serveFixture(t, w, r, 200, "live_jobs_page1.json")
		case "limit=2&since_id=2a3f0b": // paging.next, exactly as given
			serveFixture(t, w, r, 200, "live_jobs_page2.json")
		default:
			t.Errorf("unexpected query %q", r.URL.RawQuery)
			writeJSON(w, 404, `{"error":"Not found"}`)
		}
	})
	ctx := context.Background()
	var jobs []*Job
	for j, err := range Walk(ctx, env.client, func(ctx context.Context) ([]*Job, *Response, error) {
		return env.client.Jobs.List(ctx, &JobListOptions{ListOptions: ListOptions{Limit: 2}})
	}, 5) {
		if err != nil {
			t.Fatalf("walk: %v", err)
		}
		jobs = append(jobs, j)
	}
	if len(jobs) != 3 {
		t.Fatalf("%d jobs, want 3", len(jobs))
	}
	want := &Job{
		ID: "2a3f01", Title: "Backend Engineer", FullTitle: ptr("Backend Engineer - LDN/01"), Shortcode: "8F2C1D7A0B",
		Code: ptr("LDN/01"), State: "published", Confidential: ptr(false), Department: ptr("Engineering"),
		DepartmentHierarchy: []Department{{ID: 1201551, Name: "Engineering"}},
		URL:                 ptr("https://acme.workable.com/jobs/2754049"),
		ApplicationURL:      ptr("https://acme.workable.com/jobs/2754049/candidates/new"),
		Shortlink:           ptr("https://apply.workable.com/j/8F2C1D7A0B"),
		Location: &Location{
			LocationStr: ptr("London, England, United Kingdom"), Country: ptr("United Kingdom"), CountryCode: ptr("GB"),
			Region: ptr("England"), RegionCode: ptr("ENG"), City: ptr("London"), ZipCode: ptr("EC1V 9BX"),
			Telecommuting: ptr(false), WorkplaceType: ptr("hybrid"),
		},
		CreatedAt:     ms(2026, 3, 2, 9, 14, 7, 123),
		UpdatedAt:     ptr(ms(2026, 6, 30, 16, 2, 45, 901)),
		WorkplaceType: ptr("hybrid"),
		Salary:        &Salary{From: ptr(70000.0), To: ptr(90000.0), Currency: ptr("gbp")},
		Keywords:      []string{"go", "postgresql", "distributed systems"},
		Sample:        ptr(false),
		Locations: []JobLocation{
			{Shortcode: ptr("A1B2C3"), CountryCode: ptr("GB"), CountryName: ptr("United Kingdom"), StateCode: ptr("ENG"),
				Subregion: ptr("England"), ZipCode: ptr("EC1V 9BX"), City: ptr("London"), Coords: ptr("51.5073509, -0.1277583")},
			{Shortcode: ptr("D4E5F6"), CountryCode: ptr("IE"), CountryName: ptr("Ireland"), StateCode: ptr("D"),
				Subregion: ptr("County Dublin"), ZipCode: ptr("D02"), City: ptr("Dublin"), Coords: ptr("53.3498053, -6.2603097"), Hidden: true},
		},
	}
	if diff := cmp.Diff(want, jobs[0]); diff != "" {
		t.Errorf("first job (-want +got):\n%s", diff)
	}
	// A sample job with an empty salary, and amounts sent as strings.
	if s := jobs[1].Sample; s == nil || !*s {
		t.Errorf("sample = %v, want true", s)
	}
	if sal := jobs[1].Salary; sal == nil || sal.From != nil || sal.To != nil || sal.Currency != nil {
		t.Errorf("empty salary = %+v", sal)
	}
	if sal := jobs[2].Salary; sal == nil || *sal.From != 95000 || *sal.To != 120000 || *sal.Currency != "usd" {
		t.Errorf("string salary = %+v", sal)
	}
	if lat, lng, ok := jobs[0].Locations[1].Coordinates(); !ok || lat != 53.3498053 || lng != -6.2603097 {
		t.Errorf("Coordinates() = %v, %v, %v", lat, lng, ok)
	}
}

func TestLiveJobDetailIsNotASuperset(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /jobs/{shortcode}", func(w http.ResponseWriter, r *http.Request) {
		serveFixture(t, w, r, 200, "live_job_detail.json")
	})
	env.mux.HandleFunc("GET /jobs", func(w http.ResponseWriter, r *http.Request) {
		serveFixture(t, w, r, 200, "live_jobs_page1.json")
	})
	ctx := context.Background()
	detail, _, err := env.client.Jobs.Get(ctx, "8F2C1D7A0B")
	if err != nil {
		t.Fatal(err)
	}
	if detail.Location.LocationStr != nil || detail.Sample != nil {
		t.Fatalf("the live detail has location_str %v and sample %v; the fixture must lack both", detail.Location.LocationStr, detail.Sample)
	}
	if detail.EmploymentType == nil || *detail.EmploymentType != "Full-time" || len(detail.Locations) != 2 {
		t.Errorf("detail fields missing: %+v", detail)
	}
	list, _, err := env.client.Jobs.List(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	merged := MergeJobDetail(list[0], detail)
	if merged.Location.LocationStr == nil || *merged.Location.LocationStr != "London, England, United Kingdom" {
		t.Errorf("merged location_str = %v, want the list item's", merged.Location.LocationStr)
	}
	if merged.Sample == nil || *merged.Sample {
		t.Errorf("merged sample = %v, want the list item's false", merged.Sample)
	}
	if merged.Description == nil || merged.Education == nil {
		t.Errorf("merged lacks the detail fields: %+v", merged)
	}
	if list[0].Description != nil {
		t.Error("MergeJobDetail changed the list item it was given")
	}
	// A documented (older) detail whose locations use the location keys.
	var old Job
	if err := decodeFixtureString(`{"id":"1","title":"t","shortcode":"S","state":"draft","created_at":"2015-06-08T00:00:00Z",
	  "locations":[{"location_str":"Chicago, Illinois, United States","country":"United States","country_code":"US",
	  "region":"Illinois","region_code":"IL","city":"Chicago","zip_code":"60290","telecommuting":false}]}`, &old); err != nil {
		t.Fatal(err)
	}
	wantLoc := JobLocation{CountryCode: ptr("US"), CountryName: ptr("United States"), StateCode: ptr("IL"),
		Subregion: ptr("Illinois"), ZipCode: ptr("60290"), City: ptr("Chicago")}
	if diff := cmp.Diff([]JobLocation{wantLoc}, old.Locations); diff != "" {
		t.Errorf("documented locations (-want +got):\n%s", diff)
	}
}

func TestLiveCandidatesByJobFollowPagingAsGiven(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /candidates", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, "GET", url.Values{"shortcode": {"8F2C1D7A0B"}, "limit": {"2"}})
		serveFixture(t, w, r, 200, "live_candidates_by_job.json")
	})
	env.mux.HandleFunc("GET /jobs/{shortcode}/candidates", func(w http.ResponseWriter, r *http.Request) {
		// The older per-job path of paging.next, followed verbatim.
		if r.PathValue("shortcode") != "8F2C1D7A0B" || r.URL.RawQuery != "limit=2&since_id=2727030b" {
			t.Errorf("next page requested as %s", r.URL)
		}
		serveFixture(t, w, r, 200, "live_job_candidates_last.json")
	})
	var cands []*Candidate
	for c, err := range Walk(context.Background(), env.client, func(ctx context.Context) ([]*Candidate, *Response, error) {
		return env.client.Candidates.List(ctx, &CandidateListOptions{Shortcode: "8F2C1D7A0B", ListOptions: ListOptions{Limit: 2}})
	}, 5) {
		if err != nil {
			t.Fatalf("walk: %v", err)
		}
		cands = append(cands, c)
	}
	if len(cands) != 3 {
		t.Fatalf("%d candidates, want 3", len(cands))
	}
	first := cands[0]
	wantRM := ResumeMetadata{Filename: ptr("maya-lindqvist-cv.pdf"), Filetype: ptr("application/pdf"),
		CreatedAt: ptr(ms(2026, 4, 11, 3, 36, 49, 12)), UpdatedAt: ptr(ms(2026, 4, 11, 3, 36, 49, 12))}
	if !first.ResumeMetadata.Set || first.ResumeMetadata.Value == nil {
		t.Fatalf("resume_metadata not decoded: %+v", first.ResumeMetadata)
	}
	if diff := cmp.Diff(wantRM, *first.ResumeMetadata.Value); diff != "" {
		t.Errorf("resume metadata (-want +got):\n%s", diff)
	}
	if first.Withdrew != nil {
		t.Errorf("withdrew = %v in a list item; live list items lack it", *first.Withdrew)
	}
	if first.Anonymized == nil || *first.Anonymized || *first.Outlet != "careers_page" ||
		*first.CommonSource != "LinkedIn" || *first.CommonSourceCategory != "Job boards" || first.MovedToOfferAt != nil {
		t.Errorf("live fields of the first candidate: %+v", first)
	}
	if !first.CreatedAt.Equal(ms(2026, 4, 11, 3, 36, 48, 560)) {
		t.Errorf("created_at = %v, milliseconds lost", first.CreatedAt)
	}
	second := cands[1]
	if !second.ResumeMetadata.Set || second.ResumeMetadata.Value != nil {
		t.Errorf("null resume_metadata = %+v, want set and nil", second.ResumeMetadata)
	}
	if !*second.Anonymized || *second.Outlet != "SPI" || second.CommonSource != nil ||
		second.MovedToOfferAt == nil || !second.MovedToOfferAt.Equal(ms(2026, 5, 20, 14, 21, 9, 333)) {
		t.Errorf("live fields of the second candidate: %+v", second)
	}
	var routes []string
	for _, e := range env.recordedEvents() {
		routes = append(routes, e.Route)
	}
	if diff := cmp.Diff([]string{"GET /candidates", "GET /jobs/{shortcode}/candidates"}, routes); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
}

func TestLiveCandidateDetail(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /candidates/{id}", func(w http.ResponseWriter, r *http.Request) {
		serveFixture(t, w, r, 200, "live_candidate_detail.json")
	})
	c, _, err := env.client.Candidates.Get(context.Background(), "27270318")
	if err != nil {
		t.Fatal(err)
	}
	if c.Withdrew == nil || *c.Withdrew {
		t.Errorf("withdrew = %v, want false", c.Withdrew)
	}
	if c.DisqualifiedAt == nil || !c.DisqualifiedAt.Equal(ms(2026, 4, 15, 9, 30, 12, 345)) {
		t.Errorf("disqualified_at = %v", c.DisqualifiedAt)
	}
	if c.DisqualificationReason == nil || *c.DisqualificationReason != "Not enough experience" {
		t.Errorf("disqualification_reason = %v", c.DisqualificationReason)
	}
	if c.ResumeMetadata.Set {
		t.Errorf("resume_metadata set on a detail that has no such key: %+v", c.ResumeMetadata)
	}
	if c.Outlet == nil || *c.Outlet != "careers_page" || c.Anonymized == nil || *c.CommonSource != "Indeed" {
		t.Errorf("live fields: %+v", c)
	}
}

func TestLiveCreateAndDuplicate(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dup := false
	env.mux.HandleFunc("POST /jobs/{shortcode}/candidates", func(w http.ResponseWriter, r *http.Request) {
		if dup {
			serveFixture(t, w, r, 422, "live_duplicate_email.json")
			return
		}
		dup = true
		// The status of writes was not preserved by the recording (API.md §10).
		serveFixture(t, w, r, 200, "live_create_candidate.json")
	})
	nc := &NewCandidate{Firstname: "Ada", Lastname: "Lovelace", Email: "ada.lovelace@example.com"}
	c, _, err := env.client.Candidates.Create(context.Background(), "8F2C1D7A0B", nc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Stage == nil || *c.Stage != "Sourced" || !c.Sourced || c.Outlet == nil || *c.Outlet != "SPI" {
		t.Errorf("created candidate = %+v", c)
	}
	_, _, err = env.client.Candidates.Create(context.Background(), "8F2C1D7A0B", nc, nil)
	if !errors.Is(err, ErrAlreadyExists) {
		t.Errorf("duplicate = %v, want ErrAlreadyExists", err)
	}
}

func TestLiveCandidateActivities(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /candidates/{id}/activities", func(w http.ResponseWriter, r *http.Request) {
		serveFixture(t, w, r, 200, "live_candidate_activities.json")
	})
	acts, resp, err := env.client.Candidates.ListActivities(context.Background(), "27270318", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.NextURL != "" {
		t.Errorf("NextURL = %q on the last page", resp.NextURL)
	}
	applied := &StageRef{ID: "4120002", Identifier: "5077a2", Name: "Applied", Slug: "applied"}
	screen := &StageRef{ID: "4120005", Identifier: "5077a5", Name: "Phone Screen", Slug: "phone-screen"}
	eduardo := &MemberRef{ID: "13e0eb0e", Name: "Eduardo Vallente", Type: ptr("Member")}
	byID := map[string]*Activity{}
	for _, a := range acts {
		byID[a.ID] = a
	}
	tests := []struct {
		name string
		id   string
		want *Activity
	}{
		{"system event without member", "3c10a002", &Activity{ID: "3c10a002", Action: "event", StageName: ptr("Applied"),
			ActionStage: applied, Body: ptr("Automated e-mail sent: Thank you for applying"),
			CreatedAt: ms(2026, 4, 11, 3, 36, 48, 912), UpdatedAt: ptr(ms(2026, 4, 11, 3, 36, 48, 912))}},
		{"stage move: action is the target slug, stage_name the stage left", "3c10a004", &Activity{ID: "3c10a004",
			Action: "phone-screen", StageName: ptr("Applied"), ActionStage: applied, TargetStage: screen, Member: eduardo,
			CreatedAt: ms(2026, 4, 12, 10, 0, 1, 7), UpdatedAt: ptr(ms(2026, 4, 12, 10, 0, 1, 7))}},
		{"rating with scale and grade", "3c10a005", &Activity{ID: "3c10a005", Action: "rating", StageName: ptr("Phone Screen"),
			ActionStage: screen, Body: ptr("Good, I guess"), Rating: &Rating{Score: "positive", Scale: ptr("thumbs"), Grade: ptr(1)},
			VisibilityRoles: []string{"admin"}, Member: &MemberRef{ID: "3247e8c7", Name: "Alexia Middleton", Type: ptr("Member")},
			CreatedAt: ms(2026, 4, 12, 10, 0, 1, 450), UpdatedAt: ptr(ms(2026, 4, 12, 10, 0, 1, 450))}},
		{"disqualification whose body is the reason", "3c10a009", &Activity{ID: "3c10a009", Action: "disqualified",
			StageName: ptr("Phone Screen"), ActionStage: screen, Body: ptr("Not enough experience"), Member: eduardo,
			CreatedAt: ms(2026, 4, 15, 9, 30, 12, 345), UpdatedAt: ptr(ms(2026, 4, 15, 9, 30, 12, 345))}},
		{"relocation", "3c10a00b", &Activity{ID: "3c10a00b", Action: "moved", StageName: ptr("Phone Screen"),
			ActionStage: screen, TargetStage: applied, Member: eduardo,
			CreatedAt: ms(2026, 4, 16, 10, 0, 0, 0), UpdatedAt: ptr(ms(2026, 4, 16, 10, 0, 0, 0))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, byID[tt.id]); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	var actions []string
	for _, a := range acts {
		actions = append(actions, a.Action)
	}
	wantActions := []string{"applied", "event", "comment", "phone-screen", "rating", "message", "assessment-sent",
		"video-interview-completed", "disqualified", "reverted", "moved", "copied", "uploaded", "referral", "recommended", "sourced"}
	if diff := cmp.Diff(wantActions, actions); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	// Two events of one second keep their order through the milliseconds.
	if a, b := byID["3c10a009"].CreatedAt, byID["3c10a00a"].CreatedAt; a.Truncate(time.Second) != b.Truncate(time.Second) || !a.Before(b) {
		t.Errorf("same-second events: %v, %v", a, b)
	}
}

func TestLiveJobActivities(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /jobs/{shortcode}/activities", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, "GET", url.Values{"limit": {"50"}})
		if r.PathValue("shortcode") != "8F2C1D7A0B" {
			t.Errorf("shortcode = %q", r.PathValue("shortcode"))
		}
		serveFixture(t, w, r, 200, "live_job_activities.json")
	})
	acts, resp, err := env.client.Jobs.ListActivities(context.Background(), "8F2C1D7A0B", &ActivityListOptions{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 2 || acts[0].Action != "opened" || acts[0].StageName != nil || acts[0].Candidate != nil {
		t.Fatalf("job activities = %+v", acts)
	}
	if diff := cmp.Diff(&CandidateRef{ID: "27270318", Name: "Amara Okafor"}, acts[1].Candidate); diff != "" {
		t.Errorf("candidate (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(resp.NextURL, "/spi/v3/jobs/8F2C1D7A0B/activities?limit=50&since_id=3c10a005") || resp.NextSinceID != "3c10a005" {
		t.Errorf("next = %q (%q)", resp.NextURL, resp.NextSinceID)
	}
	if _, _, err := env.client.Jobs.ListActivities(context.Background(), "..", nil); !errors.Is(err, ErrInvalidID) {
		t.Errorf("ListActivities(..) = %v, want ErrInvalidID", err)
	}
}

func TestLiveStagesMembersAndBareArrays(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /stages", func(w http.ResponseWriter, r *http.Request) {
		serveFixture(t, w, r, 200, "live_stages.json")
	})
	env.mux.HandleFunc("GET /jobs/{shortcode}/stages", func(w http.ResponseWriter, r *http.Request) {
		serveFixture(t, w, r, 200, "live_stages.json")
	})
	env.mux.HandleFunc("GET /members", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, "GET", url.Values{"status": {"all"}})
		serveFixture(t, w, r, 200, "live_members.json")
	})
	env.mux.HandleFunc("GET /departments", func(w http.ResponseWriter, r *http.Request) {
		serveFixture(t, w, r, 200, "live_departments.json")
	})
	env.mux.HandleFunc("GET /disqualification_reasons", func(w http.ResponseWriter, r *http.Request) {
		serveFixture(t, w, r, 200, "live_disqualification_reasons.json")
	})
	ctx := context.Background()

	stages, _, err := env.client.Accounts.ListStages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 6 {
		t.Fatalf("%d stages", len(stages))
	}
	if diff := cmp.Diff(&Stage{ID: "4120005", Identifier: "5077a5", Slug: "phone-screen", Name: "Phone Screen", Kind: "phone-screen", Position: 3}, stages[2]); diff != "" {
		t.Errorf("stage (-want +got):\n%s", diff)
	}
	if stages[0].Position != 1 {
		t.Errorf("first position = %d, live positions start at 1", stages[0].Position)
	}
	jobStages, _, err := env.client.Jobs.ListStages(ctx, "8F2C1D7A0B")
	if err != nil || len(jobStages) != 6 {
		t.Fatalf("job stages = %d, %v", len(jobStages), err)
	}

	members, _, err := env.client.Accounts.ListMembers(ctx, &MemberListOptions{Status: "all"})
	if err != nil {
		t.Fatal(err)
	}
	want := []*Member{
		{ID: "13e0eb0e", Name: "Eduardo Vallente", Type: ptr("Member"), Headline: ptr("Operations Manager"),
			Email: ptr("eduardo@acme.example"), Role: ptr("admin"), Roles: []string{"ats.admin", "workable.superadmin"},
			HrisRole: ptr("admin"), Active: ptr(true), CollaborationRole: ptr("hiring_manager")},
		{ID: "3247e8c7", Name: "Alexia Middleton", Type: ptr("Member"), Email: ptr("alexia@acme.example"),
			Role: ptr("simple"), Roles: []string{"ats.simple"}, Active: ptr(false)},
	}
	if diff := cmp.Diff(want, members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}

	deps, _, err := env.client.Accounts.ListDepartments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*AccountDepartment{{ID: "1201551", Name: "Engineering"}, {ID: "1201560", Name: "Sales"}}, deps); diff != "" {
		t.Errorf("departments (-want +got):\n%s", diff)
	}
	reasons, _, err := env.client.Accounts.ListDisqualificationReasons(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantReasons := []*DisqualificationReason{
		{ID: "7f21a0", Description: "Not enough experience", Position: ptr(1)},
		{ID: "7f21a1", Description: "Withdrew application", CandidateWithdrew: true, Position: ptr(2)},
	}
	if diff := cmp.Diff(wantReasons, reasons); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
}

// TestArrayAcceptsWrappedForm: the unpaged lists accept an object wrapping
// the array as well as the live bare array, and refuse anything else.
func TestArrayAcceptsWrappedForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       int
		wantErr    bool
	}{
		{"bare array", `[{"id":1,"name":"A"}]`, 1, false},
		{"wrapped", `{"departments":[{"id":"x","name":"A"},{"id":2,"name":"B"}]}`, 2, false},
		{"empty bare array", `[]`, 0, false},
		{"wrong key", `{"items":[]}`, 0, true},
		{"not a list", `"departments"`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			env.mux.HandleFunc("GET /departments", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, tt.body)
			})
			deps, _, err := env.client.Accounts.ListDepartments(context.Background())
			if (err != nil) != tt.wantErr || len(deps) != tt.want {
				t.Errorf("ListDepartments = %d, %v", len(deps), err)
			}
			if err != nil && !errors.Is(err, ErrUnavailable) {
				t.Errorf("error %v does not match ErrUnavailable", err)
			}
		})
	}
}

// TestOptionalRoundTrip: a response's Optional keeps absent, null and a
// value apart through an encode and decode (the cache does both).
func TestOptionalRoundTrip(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"id":"1"}`, `{"id":"1","resume_metadata":null}`, `{"id":"1","resume_metadata":{"filename":"cv.pdf"}}`} {
		var c Candidate
		if err := decodeFixtureString(body, &c); err != nil {
			t.Fatal(err)
		}
		var again Candidate
		if err := roundTrip(&c, &again); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c.ResumeMetadata, again.ResumeMetadata); diff != "" {
			t.Errorf("%s: round trip changed resume_metadata (-before +after):\n%s", body, diff)
		}
	}
}

func decodeFixtureString(s string, into any) error { return json.Unmarshal([]byte(s), into) }

func roundTrip(v, into any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}
