package workable

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestJobsList(t *testing.T) {
	t.Parallel()
	created := time.Date(2015, 7, 8, 13, 56, 16, 0, time.FixedZone("CEST", 2*3600))
	updated := time.Date(2023, 5, 31, 11, 46, 13, 390e6, time.UTC)
	tests := []struct {
		name      string
		opts      *JobListOptions
		wantQuery url.Values
	}{
		{name: "nil options", opts: nil, wantQuery: url.Values{}},
		{name: "zero options", opts: &JobListOptions{}, wantQuery: url.Values{}},
		{
			name: "every option",
			opts: &JobListOptions{
				State:         "published",
				IncludeFields: []string{"description", "benefits"},
				ListOptions:   ListOptions{Limit: 25, SinceID: "61884e2", MaxID: "167636b1", CreatedAfter: &created, UpdatedAfter: &updated},
			},
			wantQuery: url.Values{
				"state":          {"published"},
				"limit":          {"25"},
				"since_id":       {"61884e2"},
				"max_id":         {"167636b1"},
				"created_after":  {"2015-07-08T11:56:16Z"},
				"updated_after":  {"2023-05-31T11:46:13.390Z"}, // milliseconds kept (API.md §10)
				"include_fields": {"description,benefits"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			env.mux.HandleFunc("GET /jobs", func(w http.ResponseWriter, r *http.Request) {
				checkRequest(t, r, "GET", tt.wantQuery)
				checkNoBody(t, r)
				writeJSON(w, 200, `{
				  "jobs": [
				    {"id":"61884e2","title":"Sales Intern","shortcode":"GROOV003","state":"draft","created_at":"2015-07-01T00:00:00Z"},
				    {"id":"167636b1","title":"Office Manager","shortcode":"GROOV005","state":"published","department":"Administration","created_at":"2015-06-08T00:00:00Z"}
				  ],
				  "paging": {"next": "https://groove-tech.workable.com/spi/v3/jobs?limit=3&since_id=2700d6df"}
				}`)
			})
			jobs, resp, err := env.client.Jobs.List(context.Background(), tt.opts)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			want := []*Job{
				{ID: "61884e2", Title: "Sales Intern", Shortcode: "GROOV003", State: "draft", CreatedAt: time.Date(2015, 7, 1, 0, 0, 0, 0, time.UTC)},
				{ID: "167636b1", Title: "Office Manager", Shortcode: "GROOV005", State: "published", Department: ptr("Administration"), CreatedAt: time.Date(2015, 6, 8, 0, 0, 0, 0, time.UTC)},
			}
			if diff := cmp.Diff(want, jobs); diff != "" {
				t.Errorf("jobs mismatch (-want +got):\n%s", diff)
			}
			if got, want := resp.NextURL, "https://groove-tech.workable.com/spi/v3/jobs?limit=3&since_id=2700d6df"; got != want {
				t.Errorf("NextURL = %q, want %q", got, want)
			}
			if resp.NextSinceID != "2700d6df" {
				t.Errorf("NextSinceID = %q, want 2700d6df", resp.NextSinceID)
			}
		})
	}
}

func TestJobsListLastPage(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /jobs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"jobs":[{"id":"1","title":"T","shortcode":"S","state":"closed","created_at":"2015-07-01T00:00:00Z"}]}`)
	})
	jobs, resp, err := env.client.Jobs.List(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || resp.NextURL != "" || resp.NextSinceID != "" {
		t.Errorf("got %d jobs, NextURL %q, NextSinceID %q; want 1, empty, empty", len(jobs), resp.NextURL, resp.NextSinceID)
	}
}

func TestJobsGet(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /jobs/{shortcode}", func(w http.ResponseWriter, r *http.Request) {
		checkRequest(t, r, "GET", nil)
		checkNoBody(t, r)
		if got := r.PathValue("shortcode"); got != "GROOV005" {
			t.Errorf("shortcode = %q", got)
		}
		// Unwrapped body (API.md §3).
		writeJSON(w, 200, `{"id":"167636b1","title":"Office Manager","shortcode":"GROOV005","state":"published",
		  "created_at":"2015-06-08T00:00:00Z","full_description":"<p>x</p>","employment_type":"Full-time",
		  "location":{"country":"United States","city":"Chicago","telecommuting":false}}`)
	})
	job, _, err := env.client.Jobs.Get(context.Background(), "GROOV005")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	want := &Job{
		ID: "167636b1", Title: "Office Manager", Shortcode: "GROOV005", State: "published",
		CreatedAt: time.Date(2015, 6, 8, 0, 0, 0, 0, time.UTC), FullDescription: ptr("<p>x</p>"),
		EmploymentType: ptr("Full-time"),
		Location:       &Location{Country: ptr("United States"), City: ptr("Chicago"), Telecommuting: ptr(false)},
	}
	if diff := cmp.Diff(want, job); diff != "" {
		t.Errorf("job mismatch (-want +got):\n%s", diff)
	}
}

func TestPathParamsAreValidated(t *testing.T) {
	t.Parallel()
	env := setup(t) // any request would hit the failing fallback handler
	ctx := context.Background()
	for _, bad := range []string{"", ".", ".."} {
		if _, _, err := env.client.Jobs.Get(ctx, bad); err == nil {
			t.Errorf("Jobs.Get(%q) succeeded", bad)
		}
		if _, _, err := env.client.Candidates.Get(ctx, bad); err == nil {
			t.Errorf("Candidates.Get(%q) succeeded", bad)
		}
		if _, _, err := env.client.Candidates.Update(ctx, bad, CandidatePatch{}); err == nil {
			t.Errorf("Candidates.Update(%q) succeeded", bad)
		}
		if _, _, err := env.client.Candidates.ListActivities(ctx, bad, nil); err == nil {
			t.Errorf("Candidates.ListActivities(%q) succeeded", bad)
		}
		if _, _, err := env.client.Candidates.Create(ctx, bad, &NewCandidate{}, nil); err == nil {
			t.Errorf("Candidates.Create(%q) succeeded", bad)
		}
	}
	if _, _, err := env.client.Candidates.Create(ctx, "GROOV005", nil, nil); err == nil {
		t.Error("Create with a nil candidate succeeded")
	}
}

// TestPathParamsOutsideTheIDRuleAreRefused: an id or shortcode that could
// not be Workable's (ValidID) never reaches the server, whatever escaping
// would make of it, and the error matches ErrInvalidID.
func TestPathParamsOutsideTheIDRuleAreRefused(t *testing.T) {
	t.Parallel()
	env := setup(t) // any request would hit the failing fallback handler
	ctx := context.Background()
	for _, bad := range []string{"A/B?C", "GROOV 5", "x%2Fy", "é", strings.Repeat("a", MaxIDLen+1)} {
		if _, _, err := env.client.Jobs.Get(ctx, bad); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Jobs.Get(%q) = %v, want ErrInvalidID", bad, err)
		}
		if _, _, err := env.client.Candidates.Get(ctx, bad); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Candidates.Get(%q) = %v, want ErrInvalidID", bad, err)
		}
	}
	for _, good := range []string{"GROOV005", "108d1748", "a-b_C9", strings.Repeat("a", MaxIDLen)} {
		if err := CheckID("id", good); err != nil {
			t.Errorf("CheckID(%q) = %v", good, err)
		}
	}
}
