package workable

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Tests of the hiring actions (actions.go): the method, path and exact body
// of each, and that every 2xx is success whatever its body (API.md §8, §10).

// answer writes a 2xx of the given status, content type and body.
func answer(w http.ResponseWriter, status int, contentType, body string) {
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func TestActionRequests(t *testing.T) {
	t.Parallel()
	no := false
	cases := []struct {
		name    string
		pattern string
		body    string
		call    func(ctx context.Context, c *Client) error
	}{
		{"move", "POST /candidates/3fc9a80f/move", `{"member_id":"13e0eb0e","target_stage":"interview"}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Candidates.Move(ctx, "3fc9a80f", Move{MemberID: "13e0eb0e", TargetStage: "interview"})
				return err
			}},
		{"disqualify", "POST /candidates/3fc9a80f/disqualify",
			`{"member_id":"13e0eb0e","disqualify_reason_id":"7f21a0","disqualify_note":"Too far","withdrew":false}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Candidates.Disqualify(ctx, "3fc9a80f", Disqualification{MemberID: "13e0eb0e", ReasonID: "7f21a0", Note: "Too far", Withdrew: &no})
				return err
			}},
		{"disqualify with the member only", "POST /candidates/3fc9a80f/disqualify", `{"member_id":"13e0eb0e"}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Candidates.Disqualify(ctx, "3fc9a80f", Disqualification{MemberID: "13e0eb0e"})
				return err
			}},
		{"revert", "POST /candidates/3fc9a80f/revert", `{"member_id":"13e0eb0e"}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Candidates.RevertDisqualification(ctx, "3fc9a80f", "13e0eb0e")
				return err
			}},
		{"comment", "POST /candidates/3fc9a80f/comments",
			`{"member_id":"3247e8c7","comment":{"body":"He is really good","policy":["recruiter","admin"]}}`,
			func(ctx context.Context, c *Client) error {
				_, _, err := c.Candidates.Comment(ctx, "3fc9a80f", NewComment{MemberID: "3247e8c7", Body: "He is really good", Policy: []string{"recruiter", "admin"}})
				return err
			}},
		{"comment without policy", "POST /candidates/3fc9a80f/comments", `{"member_id":"3247e8c7","comment":{"body":"Hi"}}`,
			func(ctx context.Context, c *Client) error {
				_, _, err := c.Candidates.Comment(ctx, "3fc9a80f", NewComment{MemberID: "3247e8c7", Body: "Hi"})
				return err
			}},
		{"rate", "POST /candidates/3fc9a80f/ratings", `{"member_id":"13e0eb0e","comment":"Good, I guess","scale":"thumbs","grade":1}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Candidates.Rate(ctx, "3fc9a80f", NewRating{MemberID: "13e0eb0e", Comment: "Good, I guess", Scale: ScaleThumbs, Grade: 1})
				return err
			}},
		{"rate grade 0 without comment", "POST /candidates/3fc9a80f/ratings", `{"member_id":"13e0eb0e","scale":"stars","grade":0}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Candidates.Rate(ctx, "3fc9a80f", NewRating{MemberID: "13e0eb0e", Scale: ScaleStars})
				return err
			}},
		{"tags", "PUT /candidates/3fc9a80f/tags", `{"tags":["globetrotter","adventurer"]}`,
			func(ctx context.Context, c *Client) error {
				_, _, err := c.Candidates.SetTags(ctx, "3fc9a80f", []string{"globetrotter", "adventurer"})
				return err
			}},
		{"clear tags", "PUT /candidates/3fc9a80f/tags", `{"tags":[]}`,
			func(ctx context.Context, c *Client) error {
				_, _, err := c.Candidates.SetTags(ctx, "3fc9a80f", nil)
				return err
			}},
		{"copy", "POST /candidates/3fc9a80f/copy", `{"member_id":"13e0eb0e","target_job_shortcode":"GROOV005","target_stage":"applied"}`,
			func(ctx context.Context, c *Client) error {
				_, _, err := c.Candidates.Copy(ctx, "3fc9a80f", Transfer{MemberID: "13e0eb0e", TargetJobShortcode: "GROOV005", TargetStage: "applied"})
				return err
			}},
		{"relocate", "POST /candidates/3fc9a80f/relocate", `{"member_id":"13e0eb0e","target_job_shortcode":"GROOV005","target_stage":"applied"}`,
			func(ctx context.Context, c *Client) error {
				_, _, err := c.Candidates.Relocate(ctx, "3fc9a80f", Transfer{MemberID: "13e0eb0e", TargetJobShortcode: "GROOV005", TargetStage: "applied"})
				return err
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			method, _, _ := strings.Cut(tc.pattern, " ")
			env.mux.HandleFunc(tc.pattern, func(w http.ResponseWriter, r *http.Request) {
				checkRequest(t, r, method, nil)
				checkJSONBody(t, r, tc.body)
				answer(w, http.StatusOK, "text/plain", "")
			})
			if err := tc.call(context.Background(), env.client); err != nil {
				t.Fatal(err)
			}
			if ev := env.recordedEvents(); len(ev) != 1 {
				t.Errorf("%d attempts, want 1", len(ev))
			}
		})
	}
}

// TestActionAnswers: every 2xx is success; the bodies a live account
// answers (API.md §10) are read, and the documented empty or blank ones
// (§8) are no error.
func TestActionAnswers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		wantComment string
		wantTags    []string
		wantLink    CandidateLink
	}{
		{"live", http.StatusOK, "application/json", `{"id":"90775157","tags":["a","b"],"candidate":{"id":"3fc9a80f","url":"https://groove-tech.workable.com/spi/v3/candidates/3fc9a80f"}}`,
			"90775157", []string{"a", "b"}, CandidateLink{ID: "3fc9a80f", URL: "https://groove-tech.workable.com/spi/v3/candidates/3fc9a80f"}},
		{"documented statuses", http.StatusCreated, "application/json", `{"id":90775157,"tags":[],"candidate":{"id":"3fc9a80f"}}`,
			"90775157", []string{}, CandidateLink{ID: "3fc9a80f"}},
		{"accepted", http.StatusAccepted, "application/json", `{"tags":["x"]}`, "", []string{"x"}, CandidateLink{}},
		{"empty text/plain", http.StatusOK, "text/plain", "", "", nil, CandidateLink{}},
		{"blank text/plain", http.StatusOK, "text/plain; charset=utf-8", " ", "", nil, CandidateLink{}},
		{"no content", http.StatusNoContent, "", "", "", nil, CandidateLink{}},
		{"not JSON", http.StatusOK, "text/html", "<p>ok</p>", "", nil, CandidateLink{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			env.mux.HandleFunc("/candidates/", func(w http.ResponseWriter, r *http.Request) {
				answer(w, tc.status, tc.contentType, tc.body)
			})
			ctx, c := context.Background(), env.client
			if _, err := c.Candidates.Move(ctx, "1a", Move{MemberID: "m", TargetStage: "s"}); err != nil {
				t.Errorf("move: %v", err)
			}
			if _, err := c.Candidates.Disqualify(ctx, "1a", Disqualification{MemberID: "m"}); err != nil {
				t.Errorf("disqualify: %v", err)
			}
			if _, err := c.Candidates.RevertDisqualification(ctx, "1a", "m"); err != nil {
				t.Errorf("revert: %v", err)
			}
			if _, err := c.Candidates.Rate(ctx, "1a", NewRating{MemberID: "m", Scale: ScaleThumbs}); err != nil {
				t.Errorf("rate: %v", err)
			}
			id, _, err := c.Candidates.Comment(ctx, "1a", NewComment{MemberID: "m", Body: "b"})
			if err != nil || id != tc.wantComment {
				t.Errorf("comment = %q, %v; want %q", id, err, tc.wantComment)
			}
			tags, _, err := c.Candidates.SetTags(ctx, "1a", []string{"x"})
			if err != nil || !cmp.Equal(tags, tc.wantTags) {
				t.Errorf("tags = %q, %v; want %q", tags, err, tc.wantTags)
			}
			for _, f := range []func(context.Context, string, Transfer) (CandidateLink, *Response, error){c.Candidates.Copy, c.Candidates.Relocate} {
				link, _, err := f(ctx, "1a", Transfer{MemberID: "m", TargetJobShortcode: "J", TargetStage: "s"})
				if err != nil || link != tc.wantLink {
					t.Errorf("transfer = %+v, %v; want %+v", link, err, tc.wantLink)
				}
			}
		})
	}
}

// TestActionErrors: a 422 is a validation error with its fields, a 404 is
// ErrNotFound, a 5xx is ErrOutcomeUnknown and is not retried, and a bad id
// is refused before any request.
func TestActionErrors(t *testing.T) {
	t.Parallel()
	env := setup(t)
	calls := 0
	env.mux.HandleFunc("POST /candidates/{id}/move", func(w http.ResponseWriter, r *http.Request) {
		calls++
		switch r.PathValue("id") {
		case "invalid":
			writeJSON(w, http.StatusUnprocessableEntity, `{"error":"Validation failed","validation_errors":{"target_stage":["is not a stage"]}}`)
		case "gone":
			writeJSON(w, http.StatusNotFound, `{"error":"Not found"}`)
		default:
			writeJSON(w, http.StatusBadGateway, `{"error":"Bad gateway"}`)
		}
	})
	ctx := context.Background()
	m := Move{MemberID: "m", TargetStage: "s"}
	_, err := env.client.Candidates.Move(ctx, "invalid", m)
	var er *ErrorResponse
	if !errors.Is(err, ErrValidation) || !errors.As(err, &er) || !cmp.Equal(er.ValidationErrors, map[string][]string{"target_stage": {"is not a stage"}}) {
		t.Errorf("422: %v", err)
	}
	if _, err := env.client.Candidates.Move(ctx, "gone", m); !errors.Is(err, ErrNotFound) {
		t.Errorf("404: %v", err)
	}
	calls = 0
	if _, err := env.client.Candidates.Move(ctx, "broken", m); !errors.Is(err, ErrOutcomeUnknown) || calls != 1 {
		t.Errorf("502: %v after %d calls, want ErrOutcomeUnknown after 1", err, calls)
	}
	if _, err := env.client.Candidates.Move(ctx, "../jobs", m); !errors.Is(err, ErrInvalidID) {
		t.Errorf("bad id: %v", err)
	}
}

func TestListJobMembers(t *testing.T) {
	t.Parallel()
	const item = `{"id":"13e0eb0e","name":"Eduardo Vallente","type":"Member","role":"admin","roles":["ats.admin"],"active":true,"collaboration_role":"hiring_manager"}`
	want := []*Member{{ID: "13e0eb0e", Name: "Eduardo Vallente", Type: ptr("Member"), Role: ptr("admin"), Roles: []string{"ats.admin"},
		Active: ptr(true), CollaborationRole: ptr("hiring_manager")}}
	for _, tc := range []struct{ name, body string }{
		{"wrapped", `{"members":[` + item + `]}`},
		{"bare array", `[` + item + `]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			env.mux.HandleFunc("GET /jobs/GROOV005/members", func(w http.ResponseWriter, r *http.Request) {
				checkRequest(t, r, http.MethodGet, nil)
				checkNoBody(t, r)
				writeJSON(w, http.StatusOK, tc.body)
			})
			got, resp, err := env.client.Jobs.ListMembers(context.Background(), "GROOV005")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			if resp.NextURL != "" {
				t.Errorf("NextURL = %q", resp.NextURL)
			}
		})
	}
	t.Run("paged", func(t *testing.T) {
		t.Parallel()
		env := setup(t)
		env.mux.HandleFunc("GET /jobs/GROOV005/members", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("since_id") == "" {
				writeJSON(w, http.StatusOK, `{"members":[`+item+`],"paging":{"next":"`+env.server.URL+`/spi/v3/jobs/GROOV005/members?since_id=13e0eb0f"}}`)
				return
			}
			writeJSON(w, http.StatusOK, `{"members":[{"id":"19782abc","name":"Nadia Sawahla"}]}`)
		})
		var names []string
		for m, err := range Walk(context.Background(), env.client, func(ctx context.Context) ([]*Member, *Response, error) {
			return env.client.Jobs.ListMembers(ctx, "GROOV005")
		}, 5) {
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, m.Name)
		}
		if !cmp.Equal(names, []string{"Eduardo Vallente", "Nadia Sawahla"}) {
			t.Errorf("walked %q", names)
		}
	})
}

func TestMaxGrade(t *testing.T) {
	t.Parallel()
	for scale, want := range map[string]int{ScaleThumbs: 2, ScaleStars: 4, ScaleNumbers: 9} {
		if got, ok := MaxGrade(scale); !ok || got != want {
			t.Errorf("MaxGrade(%q) = %d, %v", scale, got, ok)
		}
	}
	if _, ok := MaxGrade("hearts"); ok {
		t.Error("MaxGrade accepts an undocumented scale")
	}
}
