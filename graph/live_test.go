package graph

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/workable"
)

// The tests of this file show each field the live shapes of API.md §10
// corrected, end to end: GraphQL over the real handler, against the
// simulator, which answers in those shapes.

// TestJobDetailNeverBlanksListFields: a live job detail lacks location_str
// (and sample). Reading a job's detail must not make its list fields null,
// neither for that job nor for any candidate's job, in the same request or
// in later ones served from the cache.
func TestJobDetailNeverBlanksListFields(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			var answered atomic.Int64
			env := econEnv(t, b, withHandler(func(c Config) http.Handler {
				c.Extensions = append(c.Extensions, fastPathCount{"FastPathCount", &answered})
				return NewHandler(c)
			}))
			// The premise: the simulator's detail has no location_str.
			detail, _, err := env.client.Jobs.Get(context.Background(), "GROOV002")
			if err != nil || detail.Location == nil || detail.Location.LocationStr != nil {
				t.Fatalf("the detail should lack location_str: %+v, %v", detail, err)
			}
			want, _ := env.sim.Job("GROOV002")
			wantStr := *want.Location.LocationStr

			var one struct {
				Job struct {
					Description *string
					Location    struct{ LocationStr *string }
				}
			}
			env.mustQuery(`{ job(shortcode: "GROOV002") { description employmentType location { locationStr } } }`, nil, &one)
			if one.Job.Description == nil || one.Job.Location.LocationStr == nil || *one.Job.Location.LocationStr != wantStr {
				t.Fatalf("job(shortcode:) = %+v, want description and locationStr %q", one.Job, wantStr)
			}
			// Later requests, served from the cache the first one filled.
			var later struct {
				Jobs struct {
					Nodes []struct {
						Shortcode string
						Location  struct{ LocationStr *string }
					}
				}
				Candidates struct {
					Nodes []struct {
						Job struct {
							EmploymentType *string
							Location       struct{ LocationStr *string }
						}
					}
				}
				Again struct{ Location struct{ LocationStr *string } }
			}
			env.mustQuery(`{ jobs(first: 20) { nodes { shortcode location { locationStr } } }
				candidates(jobShortcode: "GROOV002", first: 5) { nodes { job { employmentType location { locationStr } } } }
				again: job(shortcode: "GROOV002") { location { locationStr } } }`, nil, &later)
			for _, j := range later.Jobs.Nodes {
				if j.Location.LocationStr == nil {
					t.Errorf("jobs: %s has no locationStr after its detail was read", j.Shortcode)
				}
			}
			if len(later.Candidates.Nodes) == 0 {
				t.Fatal("GROOV002 has no candidates")
			}
			for _, c := range later.Candidates.Nodes {
				if c.Job.EmploymentType == nil || c.Job.Location.LocationStr == nil || *c.Job.Location.LocationStr != wantStr {
					t.Errorf("a candidate's job = %+v, want employmentType and locationStr %q", c.Job, wantStr)
				}
			}
			if s := later.Again.Location.LocationStr; s == nil || *s != wantStr {
				t.Errorf("job(shortcode:) again: locationStr %v", s)
			}
			// A candidates page of the record fast path's shape: it writes
			// the job's fields from the list items, which the detail read
			// must not have replaced. Its first read (gqlgen's) fills the
			// decoded tier the fast path reads; the second is the fast
			// path's.
			var fast struct {
				Candidates struct {
					Nodes []struct {
						ID  string
						Job struct {
							Shortcode, Title, State string
							Location                struct{ City, LocationStr *string }
						}
					}
				}
			}
			const fastQuery = `{ candidates(jobShortcode: "GROOV002", first: 5) { nodes { id job { shortcode title state location { city locationStr } } } } }`
			env.mustQuery(fastQuery, nil, &fast)
			before := answered.Load()
			env.mustQuery(fastQuery, nil, &fast)
			if answered.Load() != before+1 {
				t.Errorf("the fast path did not answer the candidates page (%d answers before, %d after)", before, answered.Load())
			}
			if len(fast.Candidates.Nodes) == 0 {
				t.Fatal("the fast path's page has no candidates")
			}
			for _, c := range fast.Candidates.Nodes {
				if s := c.Job.Location.LocationStr; c.Job.Shortcode != "GROOV002" || s == nil || *s != wantStr {
					t.Errorf("fast path: candidate %s's job = %+v, want GROOV002 with locationStr %q", c.ID, c.Job, wantStr)
				}
			}
		})
	}
}

// TestBadIdentifiersAreBadUserInput: one rule for ids and shortcodes
// (workable.ValidID), whose failure is BAD_USER_INPUT wherever the value
// comes in, before any Workable call.
func TestBadIdentifiersAreBadUserInput(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	tests := []struct{ name, query string }{
		{"dot-dot shortcode", `{ job(shortcode: "..") { title } }`},
		{"dot shortcode", `{ job(shortcode: ".") { title description } }`},
		{"empty shortcode", `{ job(shortcode: "") { title } }`},
		{"shortcode with a slash", `{ job(shortcode: "GROOV002/../x") { title } }`},
		{"shortcode with a space", `{ job(shortcode: "GROOV 2") { title } }`},
		{"non-ASCII shortcode", `{ job(shortcode: "GRÖÖV2") { title } }`},
		{"too long shortcode", `{ job(shortcode: "` + strings.Repeat("A", workable.MaxIDLen+1) + `") { title } }`},
		{"dot-dot candidate id", `{ candidate(id: "..") { name } }`},
		{"candidate id with a query", `{ candidate(id: "ce4da98?x=1") { name summary } }`},
		{"dot-dot job filter", `{ candidates(jobShortcode: "..") { nodes { id } } }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.sim.ResetCounts()
			resp := env.query(tt.query, nil)
			e := resp.requireCode(t, CodeBadUserInput)
			if !strings.Contains(e.Message, "letters, digits, hyphens or underscores") {
				t.Errorf("message %q does not say what is allowed", e.Message)
			}
			if n := env.sim.TotalRequests(); n != 0 {
				t.Errorf("%d Workable calls for a bad identifier", n)
			}
		})
	}
	// Mutations report it as a userError on the field, with the same rule.
	var out struct {
		UpdateCandidate struct{ UserErrors []model.UserError }
	}
	env.mustQuery(`mutation { updateCandidate(input: {id: "..", headline: "x"}) { userErrors { field message code } } }`, nil, &out)
	if errs := out.UpdateCandidate.UserErrors; len(errs) != 1 || strings.Join(errs[0].Field, ".") != "input.id" || errs[0].Code != UserErrorInvalid {
		t.Errorf("userErrors = %+v", errs)
	}
}

// movedCandidate returns a seeded candidate with at least one stage move
// and its last move.
func movedCandidate(t *testing.T, env *testEnv, disqualified bool) (workable.Candidate, workable.Activity) {
	t.Helper()
	for _, c := range env.sim.Candidates() {
		if c.Disqualified != disqualified {
			continue
		}
		acts := env.sim.Activities(c.ID)
		for i := len(acts) - 1; i >= 0; i-- {
			if acts[i].TargetStage != nil && i < len(acts)-1 {
				return c, acts[i]
			}
		}
	}
	t.Fatal("no seeded candidate with a stage move followed by other activities")
	return workable.Candidate{}, workable.Activity{}
}

// TestLatestStageMove is the seed use case: what was this candidate's last
// stage move, and who made it — one field, one activities call.
func TestLatestStageMove(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	c, move := movedCandidate(t, env, true)
	env.sim.ResetCounts()
	var out struct {
		Candidate struct {
			StageSlug       string
			LatestStageMove struct {
				ID, Kind, Action, CreatedAt string
				Member                      struct{ ID, Name string }
				FromStage, ToStage          struct{ Slug, Name, Kind string }
			}
			Disqualification struct {
				Kind                   string
				DisqualificationReason *string
				Member                 *struct{ Name string }
			}
			Latest struct{ ID string }
		}
	}
	env.mustQuery(`query($id: ID!) { candidate(id: $id) {
		stageSlug
		latestStageMove { id kind action createdAt member { id name } fromStage { slug name kind } toStage { slug name kind } }
		disqualification: latestActivity(kinds: [DISQUALIFIED]) { kind disqualificationReason member { name } }
		latest: latestActivity { id }
	} }`, vars{"id": c.ID}, &out)
	got := out.Candidate.LatestStageMove
	if got.ID != move.ID || got.Kind != "STAGE_MOVE" || got.Action != move.TargetStage.Slug {
		t.Errorf("latestStageMove = %+v, want %s to %s", got, move.ID, move.TargetStage.Slug)
	}
	if got.Member.ID != move.Member.ID || got.Member.Name != move.Member.Name {
		t.Errorf("made by %+v, want %+v", got.Member, move.Member)
	}
	if got.FromStage.Slug != move.ActionStage.Slug || got.ToStage.Slug != move.TargetStage.Slug ||
		got.ToStage.Kind != move.TargetStage.Slug || got.FromStage.Name != *move.StageName {
		t.Errorf("from %+v to %+v; Workable: left %q (%s), entered %s", got.FromStage, got.ToStage, *move.StageName, move.ActionStage.Slug, move.TargetStage.Slug)
	}
	if got.CreatedAt != model.FormatDateTime(move.CreatedAt) {
		t.Errorf("createdAt %s, want %s", got.CreatedAt, model.FormatDateTime(move.CreatedAt))
	}
	if got.ToStage.Slug != out.Candidate.StageSlug {
		t.Errorf("the last move entered %s, the candidate is in %s", got.ToStage.Slug, out.Candidate.StageSlug)
	}
	dq := out.Candidate.Disqualification
	if dq.Kind != "DISQUALIFIED" || dq.DisqualificationReason == nil || *dq.DisqualificationReason != *c.DisqualificationReason || dq.Member == nil {
		t.Errorf("disqualification = %+v, want reason %q by a member", dq, *c.DisqualificationReason)
	}
	acts := env.sim.Activities(c.ID)
	if out.Candidate.Latest.ID != acts[len(acts)-1].ID {
		t.Errorf("latestActivity = %s, want %s", out.Candidate.Latest.ID, acts[len(acts)-1].ID)
	}
	// Three fields, one read of the stream and one of the pipeline.
	if n := env.sim.RequestCount("GET /candidates/{id}/activities"); n != 1 {
		t.Errorf("%d activities calls, want 1", n)
	}
	if n := env.sim.RequestCount("GET /stages"); n != 1 {
		t.Errorf("%d stages calls, want 1", n)
	}

	// A candidate never moved has none.
	for _, x := range env.sim.Candidates() {
		if slices.ContainsFunc(env.sim.Activities(x.ID), func(a workable.Activity) bool { return a.TargetStage != nil }) {
			continue
		}
		var none struct {
			Candidate struct{ LatestStageMove *struct{ ID string } }
		}
		env.mustQuery(`query($id: ID!) { candidate(id: $id) { latestStageMove { id } } }`, vars{"id": x.ID}, &none)
		if none.Candidate.LatestStageMove != nil {
			t.Errorf("candidate %s was never moved; latestStageMove = %+v", x.ID, none.Candidate.LatestStageMove)
		}
		break
	}
}

// fixtureProxy serves the live fixture of candidate activities
// (workable/testdata) as the activities of candidate *id, and the simulator
// otherwise.
func fixtureProxy(t *testing.T, id *string) func(http.Handler) http.Handler {
	body, err := os.ReadFile("../workable/testdata/live_candidate_activities.json")
	if err != nil {
		t.Fatal(err)
	}
	return activitiesProxy(id, body)
}

// activitiesProxy serves body as the activities of candidate *id, and the
// simulator otherwise.
func activitiesProxy(id *string, body []byte) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/spi/v3/candidates/"+*id+"/activities" {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(body)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// liveStage is a Stage in the answers of TestActivityKindsOfLiveActions.
type liveStage struct{ ID, Slug, Kind string }

// liveRating is an ActivityRating in its answers.
type liveRating struct {
	Score, Scale string
	Grade        int
}

// TestActivityKindsOfLiveActions types every action the live recording
// showed (API.md §10), from the hand-written fixture; its stages are the
// simulator's pipeline (same ids and identifiers).
func TestActivityKindsOfLiveActions(t *testing.T) {
	t.Parallel()
	var id string
	env := newTestEnv(t, withSimProxy(fixtureProxy(t, &id)))
	id = env.sim.Candidates()[0].ID
	type node struct {
		Action, Kind           string
		Member                 *struct{ Name string }
		FromStage, ToStage     *liveStage
		Stage                  *struct{ Slug string }
		Rating                 *liveRating
		DisqualificationReason *string
	}
	var out struct {
		Candidate struct {
			Activities      struct{ Nodes []node }
			LatestStageMove struct {
				Action    string
				Member    struct{ Name string }
				FromStage struct{ Slug string }
			}
			Relocation struct {
				Action  string
				ToStage struct{ Slug string }
			}
		}
	}
	env.mustQuery(`query($id: ID!) { candidate(id: $id) { activities(first: 50) { nodes {
		action kind member { name } fromStage { id slug kind } toStage { id slug kind } stage { slug }
		rating { score scale grade } disqualificationReason } }
		latestStageMove { action member { name } fromStage { slug } }
		relocation: latestActivity(kinds: [RELOCATION]) { action toStage { slug } } } }`, vars{"id": id}, &out)
	wantKinds := map[string]string{
		"applied": "APPLIED", "event": "EVENT", "comment": "COMMENT", "phone-screen": "STAGE_MOVE", "rating": "RATING",
		"message": "MESSAGE", "assessment-sent": "ASSESSMENT", "video-interview-completed": "VIDEO_INTERVIEW",
		"disqualified": "DISQUALIFIED", "reverted": "REVERTED", "moved": "RELOCATION", "copied": "COPIED",
		"uploaded": "UPLOADED", "referral": "REFERRAL", "recommended": "RECOMMENDED", "sourced": "SOURCED",
	}
	nodes := out.Candidate.Activities.Nodes
	if len(nodes) != len(wantKinds) {
		t.Fatalf("%d activities, want %d", len(nodes), len(wantKinds))
	}
	applied := &liveStage{ID: "4120002", Slug: "applied", Kind: "applied"}
	screen := &liveStage{ID: "4120005", Slug: "phone-screen", Kind: "phone-screen"}
	system := map[string]bool{"applied": true, "event": true, "assessment-sent": true,
		"video-interview-completed": true, "referral": true, "recommended": true, "sourced": true}
	for _, n := range nodes {
		if n.Kind != wantKinds[n.Action] {
			t.Errorf("%s: kind %s, want %s", n.Action, n.Kind, wantKinds[n.Action])
		}
		var from, to *liveStage
		switch n.Action {
		case "phone-screen":
			from, to = applied, screen
		case "moved":
			from, to = screen, applied
		}
		if diff := cmp.Diff(from, n.FromStage); diff != "" {
			t.Errorf("%s: fromStage (-want +got):\n%s", n.Action, diff)
		}
		if diff := cmp.Diff(to, n.ToStage); diff != "" {
			t.Errorf("%s: toStage (-want +got):\n%s", n.Action, diff)
		}
		if n.Stage == nil {
			t.Errorf("%s: no stage", n.Action)
		}
		if system[n.Action] != (n.Member == nil) {
			t.Errorf("%s: member %+v; only system events have none", n.Action, n.Member)
		}
		if (n.Action == "disqualified") != (n.DisqualificationReason != nil) {
			t.Errorf("%s: disqualificationReason %v", n.Action, n.DisqualificationReason)
		}
		if n.Action == "rating" && (n.Rating == nil || *n.Rating != (liveRating{"positive", "thumbs", 1})) {
			t.Errorf("rating = %+v", n.Rating)
		}
		if n.Action == "disqualified" && *n.DisqualificationReason != "Not enough experience" {
			t.Errorf("reason = %q", *n.DisqualificationReason)
		}
	}
	// The relocation ("moved") is no stage move within the job.
	lsm := out.Candidate.LatestStageMove
	if lsm.Action != "phone-screen" || lsm.Member.Name != "Eduardo Vallente" || lsm.FromStage.Slug != "applied" {
		t.Errorf("latestStageMove = %+v", lsm)
	}
	if rel := out.Candidate.Relocation; rel.Action != "moved" || rel.ToStage.Slug != "applied" {
		t.Errorf("latest relocation = %+v", rel)
	}
}

// TestLatestIsByCreatedAt: a live stream comes in id order, which may
// differ from created_at order (API.md §10). The latest activity and the
// latest stage move are the newest by created_at; of two created at the
// same instant, the later in the stream.
func TestLatestIsByCreatedAt(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../workable/testdata/live_candidate_activities.json")
	if err != nil {
		t.Fatal(err)
	}
	var stream struct {
		Activities []map[string]any `json:"activities"`
	}
	if err := json.Unmarshal(raw, &stream); err != nil {
		t.Fatal(err)
	}
	byID := map[string]map[string]any{}
	for _, a := range stream.Activities {
		byID[a["id"].(string)] = a
	}
	clone := func(a map[string]any, id, createdAt string) map[string]any {
		c := make(map[string]any, len(a))
		for k, v := range a {
			c[k] = v
		}
		c["id"], c["created_at"] = id, createdAt
		return c
	}
	// The recorded stage move (3c10a004) is the newest by created_at but
	// not last by id; a later id is an older move into the same stage; a
	// later id is a comment created at the same instant as 3c10a003.
	move, comment := byID["3c10a004"], byID["3c10a003"]
	move["created_at"] = "2026-04-20T08:00:00.000Z"
	stream.Activities = append(stream.Activities,
		clone(move, "3c10a011", "2026-04-11T05:00:00.000Z"),
		clone(comment, "3c10a012", comment["created_at"].(string)))
	body, err := json.Marshal(stream)
	if err != nil {
		t.Fatal(err)
	}

	var id string
	env := newTestEnv(t, withSimProxy(activitiesProxy(&id, body)))
	id = env.sim.Candidates()[0].ID
	var out struct {
		Candidate struct {
			LatestStageMove, Latest, Comment, Relocation struct{ ID string }
		}
	}
	env.mustQuery(`query($id: ID!) { candidate(id: $id) {
		latestStageMove { id }
		latest: latestActivity { id }
		comment: latestActivity(kinds: [COMMENT]) { id }
		relocation: latestActivity(kinds: [RELOCATION]) { id } } }`, vars{"id": id}, &out)
	got := out.Candidate
	for _, c := range []struct{ field, got, want string }{
		{"latestStageMove", got.LatestStageMove.ID, "3c10a004"},
		{"latestActivity", got.Latest.ID, "3c10a004"},
		{"latestActivity(kinds: [COMMENT])", got.Comment.ID, "3c10a012"},
		{"latestActivity(kinds: [RELOCATION])", got.Relocation.ID, "3c10a00b"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.field, c.got, c.want)
		}
	}
}

// TestJobActivities: a job's stream, with the candidate each activity is
// about, walked page by page.
func TestJobActivities(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	want := env.sim.JobActivities("GROOV005")
	type node struct {
		ID, Kind  string
		StageName *string
		Candidate *struct{ ID, Name string }
		Member    *struct{ Name string }
	}
	var got []node
	var after *string
	for range 100 {
		var out struct {
			Job struct {
				Activities struct {
					Nodes    []node
					PageInfo struct {
						HasNextPage bool
						EndCursor   *string
					}
				}
			}
		}
		env.mustQuery(`query($after: String) { job(shortcode: "GROOV005") { activities(first: 30, after: $after) {
			nodes { id kind stageName candidate { id name } member { name } } pageInfo { hasNextPage endCursor } } } }`,
			vars{"after": after}, &out)
		got = append(got, out.Job.Activities.Nodes...)
		if !out.Job.Activities.PageInfo.HasNextPage {
			break
		}
		after = out.Job.Activities.PageInfo.EndCursor
	}
	if len(got) != len(want) || len(want) < 60 {
		t.Fatalf("%d job activities, want %d (and enough to page)", len(got), len(want))
	}
	for i, a := range want {
		g := got[i]
		if g.ID != a.ID || g.StageName != nil {
			t.Errorf("activity %d = %+v, want %s with stageName null", i, g, a.ID)
		}
		switch {
		case a.Candidate == nil:
			if g.Kind != "OPENED" || g.Candidate != nil || g.Member == nil {
				t.Errorf("the job's own activity = %+v", g)
			}
		case g.Candidate == nil || g.Candidate.ID != a.Candidate.ID || g.Candidate.Name != a.Candidate.Name:
			t.Errorf("activity %s: candidate %+v, want %+v", a.ID, g.Candidate, a.Candidate)
		}
	}

	// Another field than id and name loads the candidate.
	var out struct {
		Job struct {
			Activities struct {
				Nodes []struct{ Candidate *struct{ ID, Email string } }
			}
		}
	}
	env.mustQuery(`{ job(shortcode: "GROOV005") { activities(first: 3) { nodes { candidate { id email } } } } }`, nil, &out)
	seen := 0
	for _, n := range out.Job.Activities.Nodes {
		if n.Candidate == nil {
			continue
		}
		seen++
		c, _ := env.sim.Candidate(n.Candidate.ID)
		if n.Candidate.Email != *c.Email {
			t.Errorf("candidate %s email %q, want %q", n.Candidate.ID, n.Candidate.Email, *c.Email)
		}
	}
	if seen == 0 {
		t.Error("no job activity with a candidate among the first three")
	}
}

// TestStageSlugFeedsTheStageFilter: Candidate.stageSlug is what the stage
// filter takes, so a client can pass a candidate's stage back.
func TestStageSlugFeedsTheStageFilter(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	seen := map[string]bool{}
	for _, c := range env.sim.Candidates() {
		if seen[*c.StageKind] {
			continue
		}
		seen[*c.StageKind] = true
		var one struct {
			Candidate struct{ Stage, StageSlug string }
		}
		env.mustQuery(`query($id: ID!) { candidate(id: $id) { stage stageSlug } }`, vars{"id": c.ID}, &one)
		if one.Candidate.StageSlug == "" || one.Candidate.StageSlug == one.Candidate.Stage {
			t.Fatalf("candidate %s: stage %q, stageSlug %q", c.ID, one.Candidate.Stage, one.Candidate.StageSlug)
		}
		var list struct {
			Candidates struct{ Nodes []struct{ ID string } }
		}
		env.mustQuery(`query($stage: String, $job: String) { candidates(stage: $stage, jobShortcode: $job, first: 100) { nodes { id } } }`,
			vars{"stage": one.Candidate.StageSlug, "job": c.Job.Shortcode}, &list)
		if !slices.ContainsFunc(list.Candidates.Nodes, func(n struct{ ID string }) bool { return n.ID == c.ID }) {
			t.Errorf("candidates(stage: %q) lacks %s", one.Candidate.StageSlug, c.ID)
		}
	}
	if len(seen) != 8 {
		t.Errorf("checked %d stages, want all 8", len(seen))
	}
}

// liveLocation is a JobLocation in the answers of TestJobLiveFields.
type liveLocation struct {
	City        string
	Hidden      bool
	Coordinates *struct{ Latitude, Longitude float64 }
}

// TestJobLiveFields: salary, workplaceType, keywords and locations come with
// the jobs list (no detail call); hidden locations only when asked.
func TestJobLiveFields(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	var out struct {
		Jobs struct {
			Nodes []struct {
				Shortcode     string
				WorkplaceType string
				Salary        *struct {
					From, To *float64
					Currency *string
				}
				Keywords  []string
				Locations []liveLocation
				AllPlaces []liveLocation
			}
		}
	}
	env.sim.ResetCounts()
	env.mustQuery(`{ jobs(first: 20) { nodes { shortcode workplaceType salary { from to currency } keywords
		locations { city hidden coordinates { latitude longitude } }
		allPlaces: locations(includeHidden: true) { city hidden coordinates { latitude longitude } } } } }`, nil, &out)
	if n := env.sim.TotalRequests(); n != 1 {
		t.Errorf("%d Workable calls, want the one jobs list", n)
	}
	var hidden, salaries int
	for _, j := range out.Jobs.Nodes {
		w, _ := env.sim.Job(j.Shortcode)
		if j.WorkplaceType != *w.WorkplaceType || !slices.Equal(j.Keywords, w.Keywords) || len(j.Keywords) == 0 {
			t.Errorf("%s: workplaceType %q keywords %v", j.Shortcode, j.WorkplaceType, j.Keywords)
		}
		if j.Salary == nil || !equalPtr(j.Salary.From, w.Salary.From) || !equalPtr(j.Salary.To, w.Salary.To) ||
			!equalPtr(j.Salary.Currency, w.Salary.Currency) {
			t.Errorf("%s: salary %+v, want %+v", j.Shortcode, j.Salary, w.Salary)
		}
		if j.Salary != nil && j.Salary.From != nil {
			salaries++
		}
		public := 0
		for _, l := range w.Locations {
			if !l.Hidden {
				public++
			}
		}
		if len(j.Locations) != public || len(j.AllPlaces) != len(w.Locations) {
			t.Errorf("%s: %d locations by default and %d with hidden ones, want %d and %d",
				j.Shortcode, len(j.Locations), len(j.AllPlaces), public, len(w.Locations))
		}
		for _, l := range j.Locations {
			if l.Hidden {
				t.Errorf("%s: hidden location %s shown by default", j.Shortcode, l.City)
			}
		}
		for i, l := range j.AllPlaces {
			if l.Hidden {
				hidden++
			}
			lat, lng, _ := w.Locations[i].Coordinates()
			if l.Coordinates == nil || l.Coordinates.Latitude != lat || l.Coordinates.Longitude != lng {
				t.Errorf("%s: coordinates %+v, want %v, %v", j.Shortcode, l.Coordinates, lat, lng)
			}
		}
	}
	if hidden == 0 || salaries == 0 {
		t.Errorf("%d hidden locations, %d salaries: the test proves little", hidden, salaries)
	}
}

// liveCandidate is a Candidate in the answers of TestCandidateLiveFields.
type liveCandidate struct {
	ID, CreatedAt        string
	Outlet               *string
	CommonSource         *string
	CommonSourceCategory *string
	Anonymized           *bool
	MovedToOfferAt       *string
	ResumeMetadata       *struct{ Filename, FileType, CreatedAt string }
}

// TestCandidateLiveFields: the fields both live shapes carry come with the
// list; resumeMetadata comes with list items only and withdrew with the
// detail only (API.md §10), each from its own source.
func TestCandidateLiveFields(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	var out struct {
		Candidates struct{ Nodes []liveCandidate }
	}
	env.sim.ResetCounts()
	env.mustQuery(`{ candidates(first: 100) { nodes { id createdAt outlet commonSource commonSourceCategory anonymized
		movedToOfferAt resumeMetadata { filename fileType createdAt } } } }`, nil, &out)
	if n := env.sim.TotalRequests(); n != 1 {
		t.Errorf("%d Workable calls, want the one candidates list", n)
	}
	var resumes, offers, withMillis int
	for _, c := range out.Candidates.Nodes {
		w, _ := env.sim.Candidate(c.ID)
		l := listItem(t, env, c.ID)
		if c.CreatedAt != model.FormatDateTime(w.CreatedAt) {
			t.Errorf("%s: createdAt %s, want %s", c.ID, c.CreatedAt, model.FormatDateTime(w.CreatedAt))
		}
		if strings.Contains(c.CreatedAt, ".") {
			withMillis++
		}
		if !equalPtr(c.Outlet, w.Outlet) || !equalPtr(c.Anonymized, w.Anonymized) || !equalPtr(c.CommonSource, w.CommonSource) ||
			!equalPtr(c.CommonSourceCategory, w.CommonSourceCategory) || c.Outlet == nil {
			t.Errorf("%s: %+v", c.ID, c)
		}
		if w.MovedToOfferAt != nil {
			offers++
			if c.MovedToOfferAt == nil || *c.MovedToOfferAt != model.FormatDateTime(*w.MovedToOfferAt) {
				t.Errorf("%s: movedToOfferAt %v, want %v", c.ID, c.MovedToOfferAt, w.MovedToOfferAt)
			}
		}
		if rm := l.ResumeMetadata.Value; rm != nil {
			resumes++
			if c.ResumeMetadata == nil || c.ResumeMetadata.Filename != *rm.Filename || c.ResumeMetadata.FileType != *rm.Filetype {
				t.Errorf("%s: resumeMetadata %+v, want %+v", c.ID, c.ResumeMetadata, rm)
			}
		} else if c.ResumeMetadata != nil {
			t.Errorf("%s: resumeMetadata %+v, want null", c.ID, c.ResumeMetadata)
		}
	}
	if resumes == 0 || offers == 0 || withMillis < 90 {
		t.Errorf("%d resumes, %d offers, %d timestamps with milliseconds in the first page: the test proves little",
			resumes, offers, withMillis)
	}

	// withdrew is a detail field: one detail call per candidate.
	env.sim.ResetCounts()
	var wd struct {
		Candidates struct {
			Nodes []struct {
				ID       string
				Withdrew *bool
			}
		}
	}
	env.mustQuery(`{ candidates(first: 3) { nodes { id withdrew } } }`, nil, &wd)
	for _, c := range wd.Candidates.Nodes {
		w, _ := env.sim.Candidate(c.ID)
		if c.Withdrew == nil || *c.Withdrew != *w.Withdrew {
			t.Errorf("%s: withdrew %v, want %v", c.ID, c.Withdrew, *w.Withdrew)
		}
	}
	if n := env.sim.RequestCount("GET /candidates/{id}"); n != 3 {
		t.Errorf("%d detail calls for withdrew, want 3", n)
	}

	// A candidate created through the API: outlet SPI; its resume metadata
	// comes from its list item (the write answers with the detail).
	var created struct {
		CreateCandidate struct {
			Candidate struct {
				ID, Stage, StageSlug, Outlet string
				ResumeMetadata               *struct{ Filename string }
			}
		}
	}
	env.mustQuery(`mutation { createCandidate(input: {jobShortcode: "GROOV002", firstName: "Ada", lastName: "Lovelace",
		email: "ada.live@example.com"}) { candidate { id stage stageSlug outlet resumeMetadata { filename } } userErrors { message } } }`, nil, &created)
	if c := created.CreateCandidate.Candidate; c.Outlet != "SPI" || c.Stage != "Sourced" || c.StageSlug != "sourced" || c.ResumeMetadata != nil {
		t.Errorf("created = %+v", c)
	}
}

func equalPtr[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// TestMembersLiveFields: active and roles, and status all lists inactive
// members too.
func TestMembersLiveFields(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	var out struct {
		Active []struct {
			ID     string
			Active bool
			Roles  []string
		}
		All []struct {
			ID     string
			Active bool
		}
	}
	env.mustQuery(`{ active: members { id active roles } all: members(status: "all") { id active } }`, nil, &out)
	inactive := 0
	for _, m := range out.All {
		if !m.Active {
			inactive++
		}
	}
	if inactive == 0 || len(out.Active)+inactive != len(out.All) {
		t.Errorf("%d active, %d in all with %d inactive", len(out.Active), len(out.All), inactive)
	}
	for _, m := range out.Active {
		if !m.Active || len(m.Roles) == 0 {
			t.Errorf("member %+v", m)
		}
	}
}

// capProxy makes the simulator answer at most max items per page, as a
// Workable that caps the page size below what is asked would, and records
// every paging.next it sends and every request URI it gets.
type capProxy struct {
	max int

	mu    sync.Mutex
	nexts []string
	uris  []string
}

func (p *capProxy) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.uris = append(p.uris, r.URL.RequestURI())
		p.mu.Unlock()
		q := r.URL.Query()
		if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > p.max {
			q.Set("limit", strconv.Itoa(p.max))
			r.URL.RawQuery = q.Encode()
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var env struct {
			Paging *struct{ Next string } `json:"paging"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &env) == nil && env.Paging != nil {
			p.mu.Lock()
			p.nexts = append(p.nexts, env.Paging.Next)
			p.mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// TestShortPagesFollowPagingNextAsGiven: when Workable answers fewer items
// than asked with a paging.next — for ?shortcode= lists a URL on the older
// per-job path (API.md §10) — the gateway follows that URL exactly as given
// to complete the page, and a walk still sees every candidate once.
func TestShortPagesFollowPagingNextAsGiven(t *testing.T) {
	t.Parallel()
	proxy := &capProxy{max: 3}
	env := newTestEnv(t, withSimProxy(proxy.wrap))
	var want []string
	for _, c := range env.sim.Candidates() {
		if c.Job.Shortcode == "GROOV005" {
			want = append(want, c.ID)
		}
	}
	var got []string
	var after *string
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("the walk does not end")
		}
		var out struct {
			Candidates struct {
				Nodes    []struct{ ID string }
				PageInfo struct {
					HasNextPage bool
					EndCursor   *string
				}
			}
		}
		env.mustQuery(`query($after: String) { candidates(jobShortcode: "GROOV005", first: 7, after: $after) {
			nodes { id } pageInfo { hasNextPage endCursor } } }`, vars{"after": after}, &out)
		if out.Candidates.PageInfo.HasNextPage && len(out.Candidates.Nodes) != 7 {
			t.Errorf("page %d has %d candidates, want 7", pages, len(out.Candidates.Nodes))
		}
		for _, n := range out.Candidates.Nodes {
			got = append(got, n.ID)
		}
		if !out.Candidates.PageInfo.HasNextPage {
			break
		}
		after = out.Candidates.PageInfo.EndCursor
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("walk (-want +got):\n%s", diff)
	}
	if n := env.sim.RequestCount("GET /jobs/{shortcode}/candidates"); n == 0 {
		t.Error("no page was followed through /jobs/{shortcode}/candidates")
	}
	// Every request on the per-job path is a paging.next, byte for byte.
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	given := map[string]bool{}
	for _, n := range proxy.nexts {
		u, err := url.Parse(n)
		if err != nil {
			t.Fatal(err)
		}
		given[u.RequestURI()] = true
	}
	for _, uri := range proxy.uris {
		if strings.HasPrefix(uri, "/spi/v3/jobs/GROOV005/candidates") && !given[uri] {
			t.Errorf("requested %s, which no paging.next gave", uri)
		}
	}
}
