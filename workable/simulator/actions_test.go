package simulator

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/workable"
)

// Tests of the hiring actions (actions.go): the answers of a live account
// (API.md §10), the activity each appends, and their validation.

const (
	actor    = DemoMemberID // Eduardo Vallente, an active admin
	inactive = "6a0f4d21"   // Martin Kessler, no longer active
)

// pickCandidate returns a candidate of the simulator matching keep.
func pickCandidate(t *testing.T, sim *Simulator, keep func(workable.Candidate) bool) workable.Candidate {
	t.Helper()
	for _, c := range sim.Candidates() {
		if keep(c) {
			return c
		}
	}
	t.Fatal("no candidate matches")
	return workable.Candidate{}
}

func qualifiedIn(stage string) func(workable.Candidate) bool {
	return func(c workable.Candidate) bool { return !c.Disqualified && c.Stage != nil && *c.Stage == stage }
}

// lastActivity returns the newest activity of a candidate.
func lastActivity(t *testing.T, sim *Simulator, id string) workable.Activity {
	t.Helper()
	acts := sim.Activities(id)
	if len(acts) == 0 {
		t.Fatalf("candidate %s has no activity", id)
	}
	return acts[len(acts)-1]
}

// requireEmpty checks a 2xx with the empty text/plain body of a live
// account (API.md §10).
func requireEmpty(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status || len(r.body) != 0 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("answer = %d %q %q, want %d with an empty text/plain body", r.status, r.header.Get("Content-Type"), r.body, status)
	}
}

func TestMoveCandidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, time.July, 1, 10, 0, 0, 0, time.UTC)
	ts := newTestServerAt(t, newFakeClock(now).Now)
	c := pickCandidate(t, ts.sim, qualifiedIn("Applied"))
	before := len(ts.sim.Activities(c.ID))

	r := ts.call(t, http.MethodPost, "/spi/v3/candidates/"+c.ID+"/move", DemoToken,
		map[string]any{"member_id": actor, "target_stage": "phone-screen"})
	requireEmpty(t, r, http.StatusOK)

	got, _ := ts.sim.Candidate(c.ID)
	if *got.Stage != "Phone Screen" || !got.UpdatedAt.Equal(now) {
		t.Errorf("after the move: stage %q, updated_at %v", *got.Stage, got.UpdatedAt)
	}
	acts := ts.sim.Activities(c.ID)
	if len(acts) != before+1 {
		t.Fatalf("%d activities, want %d", len(acts), before+1)
	}
	a := acts[len(acts)-1]
	want := workable.Activity{
		ID: a.ID, Action: "phone-screen", StageName: strPtr("Applied"),
		ActionStage: &workable.StageRef{ID: "4120002", Identifier: "5077a2", Name: "Applied", Slug: "applied"},
		TargetStage: &workable.StageRef{ID: "4120005", Identifier: "5077a5", Name: "Phone Screen", Slug: "phone-screen"},
		Member:      &workable.MemberRef{ID: actor, Name: "Eduardo Vallente", Type: strPtr("Member")},
		CreatedAt:   now, UpdatedAt: &now,
	}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("move activity (-want +got):\n%s", diff)
	}
	if body := ts.sim.RequestBodies("POST /candidates/{id}/move"); len(body) != 1 ||
		string(body[0]) != `{"member_id":"13e0eb0e","target_stage":"phone-screen"}` {
		t.Errorf("recorded bodies = %q", body)
	}

	// Into an offer stage: moved_to_offer_at is the move's time.
	r = ts.call(t, http.MethodPost, "/spi/v3/candidates/"+c.ID+"/move", DemoToken,
		map[string]any{"member_id": actor, "target_stage": "offer"})
	requireEmpty(t, r, http.StatusOK)
	if got, _ := ts.sim.Candidate(c.ID); got.MovedToOfferAt == nil || !got.MovedToOfferAt.Equal(now) {
		t.Errorf("moved_to_offer_at = %v", got.MovedToOfferAt)
	}
}

func TestActionValidation(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := pickCandidate(t, ts.sim, qualifiedIn("Applied"))
	dq := pickCandidate(t, ts.sim, func(c workable.Candidate) bool { return c.Disqualified })
	other := ""
	for _, j := range ts.sim.Jobs() {
		if j.Shortcode != c.Job.Shortcode {
			other = j.Shortcode
			break
		}
	}
	cases := []struct {
		name, method, verb, id string
		body                   any
		status                 int
		fields                 map[string][]string // nil: any
	}{
		{"move without member", "POST", "move", c.ID, map[string]any{"target_stage": "interview"}, 422,
			map[string][]string{"member_id": {msgBlank}}},
		{"move by an inactive member", "POST", "move", c.ID, map[string]any{"member_id": inactive, "target_stage": "interview"}, 422,
			map[string][]string{"member_id": {msgNotMember}}},
		{"move by an unknown member", "POST", "move", c.ID, map[string]any{"member_id": "abc", "target_stage": "interview"}, 422,
			map[string][]string{"member_id": {msgNotMember}}},
		{"move to a stage name", "POST", "move", c.ID, map[string]any{"member_id": actor, "target_stage": "Interview"}, 422,
			map[string][]string{"target_stage": {msgNotStage}}},
		{"move to the current stage", "POST", "move", c.ID, map[string]any{"member_id": actor, "target_stage": "applied"}, 422,
			map[string][]string{"target_stage": {msgSameStage}}},
		{"move an unknown candidate", "POST", "move", "fffffff", map[string]any{"member_id": actor, "target_stage": "interview"}, 404, nil},
		{"move with a body that is not JSON", "POST", "move", c.ID, "{", 400, nil},
		{"disqualify for an unknown reason", "POST", "disqualify", c.ID, map[string]any{"member_id": actor, "disqualify_reason_id": "123"}, 422,
			map[string][]string{"disqualify_reason_id": {msgNotReason}}},
		{"disqualify with a long note", "POST", "disqualify", c.ID, map[string]any{"member_id": actor, "disqualify_note": strings.Repeat("é", 257)}, 422,
			map[string][]string{"disqualify_note": {"is too long (maximum is 256 characters)"}}},
		{"disqualify twice", "POST", "disqualify", dq.ID, map[string]any{"member_id": actor}, 422,
			map[string][]string{"candidate": {"is already disqualified"}}},
		{"revert a qualified candidate", "POST", "revert", c.ID, map[string]any{"member_id": actor}, 422,
			map[string][]string{"candidate": {"is not disqualified"}}},
		{"comment without a body", "POST", "comments", c.ID, map[string]any{"member_id": actor, "comment": map[string]any{"body": " "}}, 422,
			map[string][]string{"comment.body": {msgBlank}}},
		{"comment without a comment", "POST", "comments", c.ID, map[string]any{"member_id": actor}, 422,
			map[string][]string{"comment": {msgBlank}}},
		{"comment for an unknown role", "POST", "comments", c.ID,
			map[string]any{"member_id": actor, "comment": map[string]any{"body": "hi", "policy": []string{"boss"}}}, 422,
			map[string][]string{"comment.policy": {msgNotIncluded}}},
		{"comment with a broken attachment", "POST", "comments", c.ID,
			map[string]any{"member_id": actor, "comment": map[string]any{"body": "hi", "attachment": map[string]any{"name": "a.gif", "data": "!!"}}}, 422,
			map[string][]string{"comment.attachment": {"must have a name and base64 data"}}},
		{"rate above the scale", "POST", "ratings", c.ID, map[string]any{"member_id": actor, "scale": "stars", "grade": 5}, 422,
			map[string][]string{"grade": {"must be between 0 and 4 on the stars scale"}}},
		{"rate below the scale", "POST", "ratings", c.ID, map[string]any{"member_id": actor, "scale": "thumbs", "grade": -1}, 422,
			map[string][]string{"grade": {"must be between 0 and 2 on the thumbs scale"}}},
		{"rate on an unknown scale", "POST", "ratings", c.ID, map[string]any{"member_id": actor, "scale": "hearts", "grade": 1}, 422,
			map[string][]string{"scale": {msgNotIncluded}}},
		{"rate without a grade", "POST", "ratings", c.ID, map[string]any{"member_id": actor, "scale": "numbers"}, 422,
			map[string][]string{"grade": {msgBlank}}},
		{"rate with a legacy score", "POST", "ratings", c.ID, map[string]any{"member_id": actor, "score": "meh"}, 422,
			map[string][]string{"score": {msgNotIncluded}}},
		{"tags missing", "PUT", "tags", c.ID, map[string]any{}, 422, map[string][]string{"tags": {msgBlank}}},
		{"tags not strings", "PUT", "tags", c.ID, map[string]any{"tags": []int{1}}, 422, map[string][]string{"tags": {"must be a list of strings"}}},
		{"copy to an unknown job", "POST", "copy", c.ID, map[string]any{"member_id": actor, "target_job_shortcode": "NOPE", "target_stage": "applied"}, 422,
			map[string][]string{"target_job_shortcode": {msgNotJob}}},
		{"copy to its own job", "POST", "copy", c.ID, map[string]any{"member_id": actor, "target_job_shortcode": c.Job.Shortcode, "target_stage": "applied"}, 422,
			map[string][]string{"target_job_shortcode": {"is the candidate's own job"}}},
		{"relocate without a stage", "POST", "relocate", c.ID, map[string]any{"member_id": actor, "target_job_shortcode": other}, 422,
			map[string][]string{"target_stage": {msgBlank}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(ts.sim.Activities(tc.id))
			r := ts.call(t, tc.method, "/spi/v3/candidates/"+tc.id+"/"+tc.verb, DemoToken, tc.body)
			if r.status != tc.status {
				t.Fatalf("status = %d (%s), want %d", r.status, r.body, tc.status)
			}
			if tc.fields != nil {
				if diff := cmp.Diff(tc.fields, r.errBody(t).ValidationErrors); diff != "" {
					t.Errorf("validation_errors (-want +got):\n%s", diff)
				}
			}
			if after := len(ts.sim.Activities(tc.id)); after != before {
				t.Errorf("a refused action appended %d activities", after-before)
			}
		})
	}
}

func TestDisqualifyAndRevert(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, time.July, 2, 9, 30, 0, 0, time.UTC)
	ts := newTestServerAt(t, newFakeClock(now).Now)
	c := pickCandidate(t, ts.sim, qualifiedIn("Interview"))
	reasons := disqualificationReasonRecs()
	withdrew := reasons[len(reasons)-1]

	r := ts.call(t, http.MethodPost, "/spi/v3/candidates/"+c.ID+"/disqualify", DemoToken,
		map[string]any{"member_id": actor, "disqualify_reason_id": withdrew.ID, "disqualify_note": "Took another offer"})
	requireEmpty(t, r, http.StatusOK)
	got, _ := ts.sim.Candidate(c.ID)
	if !got.Disqualified || got.Withdrew == nil || !*got.Withdrew || *got.DisqualificationReason != withdrew.Description ||
		got.DisqualifiedAt == nil || !got.DisqualifiedAt.Equal(now) {
		t.Errorf("after disqualify: %+v", got)
	}
	a := lastActivity(t, ts.sim, c.ID)
	if a.Action != "disqualified" || a.Body == nil || *a.Body != withdrew.Description || a.Member == nil || a.Member.ID != actor ||
		a.TargetStage != nil || a.ActionStage == nil || a.ActionStage.Slug != "interview" {
		t.Errorf("disqualified activity = %+v", a)
	}

	r = ts.call(t, http.MethodPost, "/spi/v3/candidates/"+c.ID+"/revert", DemoToken, map[string]any{"member_id": actor})
	requireEmpty(t, r, http.StatusOK)
	got, _ = ts.sim.Candidate(c.ID)
	if got.Disqualified || got.DisqualificationReason != nil || got.DisqualifiedAt != nil || *got.Withdrew {
		t.Errorf("after revert: %+v", got)
	}
	if a := lastActivity(t, ts.sim, c.ID); a.Action != "reverted" || a.Member == nil || a.Member.ID != actor || a.Body != nil {
		t.Errorf("reverted activity = %+v", a)
	}
}

func TestCommentAndRate(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := pickCandidate(t, ts.sim, qualifiedIn("Applied"))

	r := ts.call(t, http.MethodPost, "/spi/v3/candidates/"+c.ID+"/comments", DemoToken,
		map[string]any{"member_id": actor, "comment": map[string]any{"body": "Strong portfolio", "policy": []string{"recruiter", "hiring_manager"}}})
	if r.status != http.StatusCreated {
		t.Fatalf("comment: %d %s", r.status, r.body)
	}
	var created struct{ ID string }
	r.decode(t, &created)
	a := lastActivity(t, ts.sim, c.ID)
	if created.ID != a.ID || a.Action != "comment" || *a.Body != "Strong portfolio" ||
		!cmp.Equal(a.VisibilityRoles, []string{"recruiter", "hiring_manager"}) || a.Member.ID != actor {
		t.Errorf("comment answered %q; activity %+v", created.ID, a)
	}

	for _, tc := range []struct {
		body  map[string]any
		score string
		scale string
		grade int
	}{
		{map[string]any{"member_id": actor, "comment": "Good, I guess", "scale": "thumbs", "grade": 1}, "positive", "thumbs", 1},
		{map[string]any{"member_id": actor, "scale": "stars", "grade": 4}, "4", "stars", 4},
		{map[string]any{"member_id": actor, "scale": "numbers", "grade": 0}, "0", "numbers", 0},
		{map[string]any{"member_id": actor, "score": "definitely"}, "definitely", "thumbs", 2},
	} {
		r := ts.call(t, http.MethodPost, "/spi/v3/candidates/"+c.ID+"/ratings", DemoToken, tc.body)
		requireEmpty(t, r, http.StatusOK)
		a := lastActivity(t, ts.sim, c.ID)
		want := &workable.Rating{Score: tc.score, Scale: &tc.scale, Grade: &tc.grade}
		if a.Action != "rating" || !cmp.Equal(want, a.Rating) {
			t.Errorf("rating %v: activity %+v rating %+v", tc.body, a, a.Rating)
		}
	}
}

func TestSetCandidateTags(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := pickCandidate(t, ts.sim, qualifiedIn("Applied"))
	before := len(ts.sim.Activities(c.ID))
	for _, tc := range []struct {
		in, want []string
	}{
		{[]string{" globetrotter", "adventurer", "globetrotter"}, []string{"globetrotter", "adventurer"}},
		{[]string{}, []string{}},
	} {
		r := ts.call(t, http.MethodPut, "/spi/v3/candidates/"+c.ID+"/tags", DemoToken, map[string]any{"tags": tc.in})
		if r.status != http.StatusAccepted {
			t.Fatalf("tags: %d %s", r.status, r.body)
		}
		var out struct{ Tags []string }
		r.decode(t, &out)
		got, _ := ts.sim.Candidate(c.ID)
		if !cmp.Equal(tc.want, out.Tags) || !cmp.Equal(tc.want, append([]string{}, got.Tags...)) {
			t.Errorf("tags %q: answered %q, stored %q, want %q", tc.in, out.Tags, got.Tags, tc.want)
		}
	}
	if n := len(ts.sim.Activities(c.ID)); n != before {
		t.Errorf("tag changes appended %d activities", n-before)
	}
}

func TestCopyAndRelocate(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := pickCandidate(t, ts.sim, qualifiedIn("Interview"))
	var target string
	for _, j := range ts.sim.Jobs() {
		if j.Shortcode != c.Job.Shortcode {
			target = j.Shortcode
			break
		}
	}
	link := func(r response) string {
		t.Helper()
		if r.status != http.StatusCreated {
			t.Fatalf("answer %d %s", r.status, r.body)
		}
		var out struct{ Candidate struct{ ID, URL string } }
		r.decode(t, &out)
		if out.Candidate.URL != "https://groove-tech.workable.com/spi/v3/candidates/"+out.Candidate.ID {
			t.Errorf("url = %q", out.Candidate.URL)
		}
		return out.Candidate.ID
	}

	copyID := link(ts.call(t, http.MethodPost, "/spi/v3/candidates/"+c.ID+"/copy", DemoToken,
		map[string]any{"member_id": actor, "target_job_shortcode": target, "target_stage": "applied"}))
	cp, ok := ts.sim.Candidate(copyID)
	if !ok || cp.Job.Shortcode != target || *cp.Stage != "Applied" || *cp.Email != *c.Email ||
		cp.OriginatingCandidateID == nil || *cp.OriginatingCandidateID != c.ID {
		t.Errorf("copy = %+v", cp)
	}
	if acts := ts.sim.Activities(copyID); len(acts) != 1 || acts[0].Action != "copied" || acts[0].Member.ID != actor {
		t.Errorf("copy's activities = %+v", acts)
	}
	if _, ok := ts.sim.Candidate(c.ID); !ok {
		t.Error("copy removed the original")
	}
	// The copy's e-mail is now taken in the target job.
	r := ts.call(t, http.MethodPost, "/spi/v3/candidates/"+c.ID+"/copy", DemoToken,
		map[string]any{"member_id": actor, "target_job_shortcode": target, "target_stage": "applied"})
	if r.status != http.StatusUnprocessableEntity || !cmp.Equal(r.errBody(t).ValidationErrors, map[string][]string{"email": {msgExists}}) {
		t.Errorf("second copy: %d %s", r.status, r.body)
	}

	other := pickCandidate(t, ts.sim, func(x workable.Candidate) bool {
		return qualifiedIn("Interview")(x) && x.ID != c.ID && x.Job.Shortcode != target
	})
	history := ts.sim.Activities(other.ID)
	movedID := link(ts.call(t, http.MethodPost, "/spi/v3/candidates/"+other.ID+"/relocate", DemoToken,
		map[string]any{"member_id": actor, "target_job_shortcode": target, "target_stage": "shortlisted"}))
	if _, ok := ts.sim.Candidate(other.ID); ok {
		t.Error("relocate kept the original")
	}
	if r := ts.call(t, http.MethodGet, "/spi/v3/candidates/"+other.ID, DemoToken, nil); r.status != http.StatusNotFound {
		t.Errorf("GET the relocated original = %d", r.status)
	}
	moved, _ := ts.sim.Candidate(movedID)
	if moved.Job.Shortcode != target || *moved.Stage != "Shortlisted" {
		t.Errorf("relocated = %+v", moved)
	}
	acts := ts.sim.Activities(movedID)
	if len(acts) != len(history)+1 {
		t.Fatalf("relocated stream has %d activities, want the %d of the original and the move", len(acts), len(history))
	}
	a := acts[len(acts)-1]
	if a.Action != "moved" || *a.StageName != "Interview" || a.TargetStage == nil || a.TargetStage.Slug != "shortlisted" || a.Member.ID != actor {
		t.Errorf("relocation activity = %+v", a)
	}
	found := false
	for _, ja := range ts.sim.JobActivities(target) {
		if ja.ID == a.ID && ja.Candidate != nil && ja.Candidate.ID == movedID {
			found = true
		}
	}
	if !found {
		t.Error("the target job's activities lack the relocation")
	}
}

func TestListJobMembers(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	env := ts.getPage(t, "/spi/v3/jobs/GROOV001/members", "members")
	if len(env.items) != 6 || env.paging != nil {
		t.Fatalf("job members = %d items, paging %v", len(env.items), env.paging)
	}
	roles := map[string]string{}
	for _, m := range env.items {
		roles[m["id"].(string)] = m["collaboration_role"].(string)
	}
	if roles[actor] != "admin" || roles["3247e8c7"] != "recruiter" || roles["4d2a91f0"] != "hiring_manager" {
		t.Errorf("collaboration roles = %v", roles)
	}
	if r := ts.call(t, http.MethodGet, "/spi/v3/jobs/NOPE/members", DemoToken, nil); r.status != http.StatusNotFound {
		t.Errorf("unknown job = %d", r.status)
	}
}

// TestDemoMemberIsTheFirstAdmin: DemoMemberID is the first active admin.
func TestDemoMemberIsTheFirstAdmin(t *testing.T) {
	t.Parallel()
	for _, m := range New(WithCandidates(0)).Members() {
		if m.Role != nil && *m.Role == "admin" && m.Active != nil && *m.Active {
			if m.ID != DemoMemberID {
				t.Errorf("the first admin is %s, DemoMemberID %s", m.ID, DemoMemberID)
			}
			return
		}
	}
	t.Error("the simulator has no active admin")
}
