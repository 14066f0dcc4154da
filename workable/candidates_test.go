package workable

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCandidatesList(t *testing.T) {
	t.Parallel()
	after := time.Date(2015, 6, 26, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		opts      *CandidateListOptions
		wantQuery url.Values
	}{
		{name: "nil options", wantQuery: url.Values{}},
		{
			name: "every option",
			opts: &CandidateListOptions{
				Shortcode:   "GROOV005",
				Stage:       "interview",
				Email:       "lakita_marrero@gmail.com",
				ListOptions: ListOptions{Limit: 100, SinceID: "ce4da98", MaxID: "2700d6df", CreatedAfter: &after, UpdatedAfter: &after},
			},
			wantQuery: url.Values{"shortcode": {"GROOV005"}, "stage": {"interview"}, "email": {"lakita_marrero@gmail.com"},
				"limit": {"100"}, "since_id": {"ce4da98"}, "max_id": {"2700d6df"},
				"created_after": {"2015-06-26T00:00:00Z"}, "updated_after": {"2015-06-26T00:00:00Z"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			env.mux.HandleFunc("GET /candidates", func(w http.ResponseWriter, r *http.Request) {
				checkRequest(t, r, "GET", tt.wantQuery)
				checkNoBody(t, r)
				writeJSON(w, 200, `{"candidates":[{"id":"ce4da98","name":"Lakita Marrero","firstname":"Lakita","lastname":"Marrero",
				  "job":{"shortcode":"GROOV005","title":"Office Manager"},"stage":"Interview","stage_kind":"interview",
				  "disqualified":true,"sourced":false,"email":"lakita_marrero@gmail.com","created_at":"2015-06-26T00:00:00Z",
				  "updated_at":"2015-07-08T14:46:48Z","hired_at":null}],
				  "paging":{"next":"https://groove-tech.workable.com/spi/v3/candidates?limit=3&since_id=2700d6df"}}`)
			})
			cands, resp, err := env.client.Candidates.List(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			want := []*Candidate{{
				ID: "ce4da98", Name: "Lakita Marrero", Firstname: ptr("Lakita"), Lastname: ptr("Marrero"),
				Job: JobRef{Shortcode: "GROOV005", Title: "Office Manager"}, Stage: ptr("Interview"), StageKind: ptr("interview"),
				Disqualified: true, Email: ptr("lakita_marrero@gmail.com"),
				CreatedAt: time.Date(2015, 6, 26, 0, 0, 0, 0, time.UTC), UpdatedAt: ptr(time.Date(2015, 7, 8, 14, 46, 48, 0, time.UTC)),
			}}
			if diff := cmp.Diff(want, cands); diff != "" {
				t.Errorf("candidates mismatch (-want +got):\n%s", diff)
			}
			if resp.NextSinceID != "2700d6df" {
				t.Errorf("NextSinceID = %q", resp.NextSinceID)
			}
		})
	}
}

func TestCandidatesGet(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /candidates/{id}", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, "GET", nil)
		checkNoBody(t, r)
		if got := r.PathValue("id"); got != "108d1748" {
			t.Errorf("id = %q", got)
		}
		writeJSON(w, 200, `{"candidate":{"id":"108d1748","name":"Cindy Sawyers","stage":"Applied",
		  "job":{"shortcode":"GROOV005","title":"Office Manager"},"created_at":"2015-07-01T00:00:00Z",
		  "skills":[{"name":"Administration"}],"tags":["vip"],
		  "education_entries":[{"id":"e1","school":"University of Chicago","degree":"B.A."}]}}`)
	})
	cand, _, err := env.client.Candidates.Get(context.Background(), "108d1748")
	if err != nil {
		t.Fatal(err)
	}
	want := &Candidate{
		ID: "108d1748", Name: "Cindy Sawyers", Stage: ptr("Applied"),
		Job:              JobRef{Shortcode: "GROOV005", Title: "Office Manager"},
		CreatedAt:        time.Date(2015, 7, 1, 0, 0, 0, 0, time.UTC),
		Skills:           []Skill{{Name: "Administration"}},
		Tags:             []string{"vip"},
		EducationEntries: []EducationEntry{{ID: ptr("e1"), School: "University of Chicago", Degree: ptr("B.A.")}},
	}
	if diff := cmp.Diff(want, cand); diff != "" {
		t.Errorf("candidate mismatch (-want +got):\n%s", diff)
	}
}

func TestCandidatesCreate(t *testing.T) {
	t.Parallel()
	nc := &NewCandidate{
		Firstname: "Jj", Lastname: "Botha", Email: "jj_botha@fakemail.com",
		Headline:         ptr("Professional Administration Manager"),
		EducationEntries: []EducationEntry{{School: "University of Pennsylvania", Degree: ptr("MBA")}},
		SocialProfiles:   []SocialProfile{{Type: "linkedin", URL: "http://www.linkedin.com/in/jj_botha"}},
		Skills:           []string{"Travel Planning"},
		Tags:             []string{"globetrotter"},
	}
	const candidateJSON = `{"firstname":"Jj","lastname":"Botha","email":"jj_botha@fakemail.com",
	  "headline":"Professional Administration Manager",
	  "education_entries":[{"school":"University of Pennsylvania","degree":"MBA","field_of_study":null,"start_date":null,"end_date":null}],
	  "social_profiles":[{"type":"linkedin","url":"http://www.linkedin.com/in/jj_botha"}],
	  "skills":["Travel Planning"],"tags":["globetrotter"]}`
	tests := []struct {
		name      string
		opts      *CreateCandidateOptions
		status    int
		wantQuery url.Values
		wantBody  string
	}{
		{name: "no options: sourced omitted (Workable default true)", status: 201,
			wantQuery: url.Values{}, wantBody: `{"candidate":` + candidateJSON + `}`},
		{name: "applied into a stage", opts: &CreateCandidateOptions{Sourced: ptr(false), Stage: "interview"}, status: 201,
			wantQuery: url.Values{"stage": {"interview"}}, wantBody: `{"sourced":false,"candidate":` + candidateJSON + `}`},
		{name: "sourced explicitly, 200 is success too", opts: &CreateCandidateOptions{Sourced: ptr(true)}, status: 200,
			wantQuery: url.Values{}, wantBody: `{"sourced":true,"candidate":` + candidateJSON + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			env.mux.HandleFunc("POST /jobs/{shortcode}/candidates", func(w http.ResponseWriter, r *http.Request) {
				checkRequest(t, r, "POST", tt.wantQuery)
				checkJSONBody(t, r, tt.wantBody)
				if got := r.PathValue("shortcode"); got != "GROOV005" {
					t.Errorf("shortcode = %q", got)
				}
				writeJSON(w, tt.status, `{"status":"created","candidate":{"id":"3fc9a80f","name":"Jj Botha","stage":"Sourced",
				  "sourced":true,"job":{"shortcode":"GROOV005","title":"Office Manager"},"created_at":"2015-07-09T10:55:53Z"}}`)
			})
			cand, resp, err := env.client.Candidates.Create(context.Background(), "GROOV005", nc, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if cand.ID != "3fc9a80f" || cand.Name != "Jj Botha" || !cand.Sourced {
				t.Errorf("candidate = %+v", cand)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d", resp.StatusCode)
			}
			if diff := cmp.Diff([]Priority{PriorityWrite}, env.limiter.recordedWaits()); diff != "" {
				t.Errorf("limiter priorities (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCandidatesUpdate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		patch    CandidatePatch
		wantBody string
	}{
		{name: "scalars set and cleared, lists replaced and cleared",
			patch: CandidatePatch{
				Headline:       Some("Director"),
				Phone:          Null[string](),
				Tags:           Some([]string{}),
				SocialProfiles: Some([]SocialProfile{{Type: "github", URL: "https://github.com/jj"}}),
			},
			wantBody: `{"candidate":{"headline":"Director","phone":null,"tags":[],
			  "social_profiles":[{"type":"github","url":"https://github.com/jj"}]}}`},
		{name: "empty patch sends no keys", patch: CandidatePatch{}, wantBody: `{"candidate":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			env.mux.HandleFunc("PATCH /candidates/{id}", func(w http.ResponseWriter, r *http.Request) {
				checkRequest(t, r, "PATCH", nil)
				checkJSONBody(t, r, tt.wantBody)
				if got := r.PathValue("id"); got != "108d1748" {
					t.Errorf("id = %q", got)
				}
				writeJSON(w, 200, `{"candidate":{"id":"108d1748","name":"Cindy Sawyers","headline":"Director",
				  "job":{"shortcode":"GROOV005","title":"Office Manager"},"created_at":"2015-07-01T00:00:00Z","tags":[]}}`)
			})
			cand, _, err := env.client.Candidates.Update(context.Background(), "108d1748", tt.patch)
			if err != nil {
				t.Fatal(err)
			}
			if cand.ID != "108d1748" || cand.Headline == nil || *cand.Headline != "Director" {
				t.Errorf("candidate = %+v", cand)
			}
		})
	}
}

func TestCandidatesListActivities(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      *ActivityListOptions
		wantQuery url.Values
	}{
		{name: "nil options", wantQuery: url.Values{}},
		{name: "every option", opts: &ActivityListOptions{Limit: 5, SinceID: "1a2b3c", MaxID: "1a2b3f"},
			wantQuery: url.Values{"limit": {"5"}, "since_id": {"1a2b3c"}, "max_id": {"1a2b3f"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			env.mux.HandleFunc("GET /candidates/{id}/activities", func(w http.ResponseWriter, r *http.Request) {
				checkRequest(t, r, "GET", tt.wantQuery)
				checkNoBody(t, r)
				if got := r.PathValue("id"); got != "108d1748" {
					t.Errorf("id = %q", got)
				}
				writeJSON(w, 200, `{"activities":[
				  {"id":"1a2b3c","action":"applied","stage_name":"Applied","created_at":"2016-09-29T00:00:00.000Z","body":null},
				  {"id":"1a2b3e","action":"moved","stage_name":"Interview","action_stage":{"id":1,"name":"Applied"},
				   "target_stage":{"id":3,"name":"Interview"},"created_at":"2016-10-02T00:00:00.000Z",
				   "member":{"id":"13e0eb0e","name":"Eduardo Vallente"},"body":null}]}`)
			})
			acts, resp, err := env.client.Candidates.ListActivities(context.Background(), "108d1748", tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			want := []*Activity{
				{ID: "1a2b3c", Action: "applied", StageName: ptr("Applied"), CreatedAt: time.Date(2016, 9, 29, 0, 0, 0, 0, time.UTC)},
				{ID: "1a2b3e", Action: "moved", StageName: ptr("Interview"),
					ActionStage: &StageRef{ID: "1", Name: "Applied"}, TargetStage: &StageRef{ID: "3", Name: "Interview"},
					Member: &MemberRef{ID: "13e0eb0e", Name: "Eduardo Vallente"}, CreatedAt: time.Date(2016, 10, 2, 0, 0, 0, 0, time.UTC)},
			}
			if diff := cmp.Diff(want, acts); diff != "" {
				t.Errorf("activities mismatch (-want +got):\n%s", diff)
			}
			if resp.NextURL != "" {
				t.Errorf("NextURL = %q on the last page", resp.NextURL)
			}
		})
	}
}
