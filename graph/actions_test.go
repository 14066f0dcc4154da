package graph

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// End-to-end tests of the hiring actions (actions.go) over the real
// handler, against the simulator: the exact body Workable receives
// (recorded by the simulator), the activity appended (read back through
// the typed activities), the caches invalidated, idempotent retries, the
// writer role, and input refused before any Workable call.

const (
	// actorID is the simulator's first admin (Eduardo Vallente), the
	// default acting member of these tests.
	actorID = "13e0eb0e"
	// otherMemberID is an active simple member (Alexia Middleton).
	otherMemberID = "3247e8c7"
	// inactiveMemberID is a member who is no longer active.
	inactiveMemberID = "6a0f4d21"

	actionPayloadFields = `candidate { id stage stageSlug disqualified disqualificationReason withdrew tags job { shortcode } }
		userErrors { field message code }`
	moveMutation       = `mutation($in: MoveCandidateInput!) { r: moveCandidate(input: $in) { ` + actionPayloadFields + ` } }`
	disqualifyMutation = `mutation($in: DisqualifyCandidateInput!) { r: disqualifyCandidate(input: $in) { ` + actionPayloadFields + ` } }`
	revertMutation     = `mutation($in: RevertDisqualificationInput!) { r: revertDisqualification(input: $in) { ` + actionPayloadFields + ` } }`
	commentMutation    = `mutation($in: CommentOnCandidateInput!) { r: commentOnCandidate(input: $in) { commentId ` + actionPayloadFields + ` } }`
	rateMutation       = `mutation($in: RateCandidateInput!) { r: rateCandidate(input: $in) { ` + actionPayloadFields + ` } }`
	tagsMutation       = `mutation($in: SetCandidateTagsInput!) { r: setCandidateTags(input: $in) { ` + actionPayloadFields + ` } }`
	copyMutation       = `mutation($in: TransferCandidateInput!) { r: copyCandidate(input: $in) { ` + actionPayloadFields + ` } }`
	relocateMutation   = `mutation($in: TransferCandidateInput!) { r: relocateCandidate(input: $in) { ` + actionPayloadFields + ` } }`

	// readBack reads a candidate and its newest activity, typed.
	readBack = `query($id: ID!) { candidate(id: $id) { id stage stageSlug disqualified disqualificationReason withdrew tags job { shortcode }
		latestStageMove { member { id } fromStage { slug } toStage { slug } }
		latestActivity { id kind body member { id } rating { scale grade } disqualificationReason fromStage { slug } toStage { slug } }
		activities(first: 100) { nodes { id } } } }`
)

// candView is a candidate as the action tests read it.
type candView struct {
	ID                     string
	Stage                  string
	StageSlug              *string
	Disqualified           bool
	DisqualificationReason *string
	Withdrew               *bool
	Tags                   []string
	Job                    struct{ Shortcode string }
	LatestStageMove        *struct {
		Member    struct{ ID string }
		FromStage struct{ Slug string }
		ToStage   struct{ Slug string }
	}
	LatestActivity *struct {
		ID, Kind string
		Body     *string
		Member   *struct{ ID string }
		Rating   *struct {
			Scale string
			Grade int
		}
		DisqualificationReason *string
		FromStage, ToStage     *struct{ Slug string }
	}
	Activities struct{ Nodes []struct{ ID string } }
}

// actionPayload is any action's payload (aliased r).
type actionPayload struct {
	CommentID  *string
	Candidate  *candView
	UserErrors []model.UserError
}

// runAction sends an action mutation and decodes its payload; the response
// must have no GraphQL error.
func (e *testEnv) runAction(mutation string, in map[string]any) actionPayload {
	e.t.Helper()
	var out struct{ R actionPayload }
	e.mustQuery(mutation, vars{"in": in}, &out)
	return out.R
}

// readCandidate reads a candidate back through the gateway (nil when
// Workable no longer has it).
func (e *testEnv) readCandidate(id string) *candView {
	e.t.Helper()
	var out struct{ Candidate *candView }
	e.mustQuery(readBack, vars{"id": id}, &out)
	return out.Candidate
}

// pickActionCandidate returns the first candidate of sim that keep accepts.
func pickActionCandidate(t *testing.T, sim *simulator.Simulator, keep func(workable.Candidate) bool) workable.Candidate {
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

func disqualified(c workable.Candidate) bool { return c.Disqualified }

// otherJob returns the shortcode of a job that is not shortcode.
func otherJob(t *testing.T, sim *simulator.Simulator, shortcode string) string {
	t.Helper()
	for _, j := range sim.Jobs() {
		if j.Shortcode != shortcode && j.State == "published" {
			return j.Shortcode
		}
	}
	t.Fatal("no other job")
	return ""
}

// requireBodies checks that Workable received exactly the JSON bodies want
// on route.
func requireBodies(t *testing.T, sim *simulator.Simulator, route string, want ...string) {
	t.Helper()
	got := sim.RequestBodies(route)
	if len(got) != len(want) {
		t.Fatalf("%s received %d bodies %q, want %d", route, len(got), got, len(want))
	}
	for i := range want {
		var g, w any
		if err := json.Unmarshal(got[i], &g); err != nil {
			t.Fatalf("%s body %q: %v", route, got[i], err)
		}
		if err := json.Unmarshal([]byte(want[i]), &w); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("%s body (-want +got):\n%s", route, diff)
		}
	}
}

// actionCase is one action as the table-driven tests run it.
type actionCase struct {
	name, route, mutation string
	// pick chooses the candidate to act on.
	pick func(workable.Candidate) bool
	// input is the mutation's input for candidate c; target is another job.
	input func(c workable.Candidate, target string) map[string]any
	// body is the JSON Workable must receive.
	body func(c workable.Candidate, target string) string
	// check checks the payload and the candidate read back (nil when it
	// is gone) after the action.
	check func(t *testing.T, env *testEnv, c workable.Candidate, target string, p actionPayload)
	// keyed actions take an idempotency key.
	keyed bool
}

// actionCases are the eight actions. The default acting member is actorID.
func actionCases() []actionCase {
	return []actionCase{
		{
			name: "move", route: "POST /candidates/{id}/move", mutation: moveMutation, keyed: true,
			pick: qualifiedIn("Applied"),
			input: func(c workable.Candidate, _ string) map[string]any {
				return map[string]any{"id": c.ID, "toStage": "phone-screen"}
			},
			body: func(workable.Candidate, string) string {
				return `{"member_id":"13e0eb0e","target_stage":"phone-screen"}`
			},
			check: func(t *testing.T, env *testEnv, c workable.Candidate, _ string, p actionPayload) {
				if p.Candidate == nil || p.Candidate.Stage != "Phone Screen" || *p.Candidate.StageSlug != "phone-screen" {
					t.Errorf("payload = %+v", p.Candidate)
				}
				got := env.readCandidate(c.ID)
				m := got.LatestStageMove
				if m == nil || m.Member.ID != actorID || m.FromStage.Slug != "applied" || m.ToStage.Slug != "phone-screen" {
					t.Errorf("latestStageMove = %+v", m)
				}
				if a := got.LatestActivity; a == nil || a.Kind != "STAGE_MOVE" {
					t.Errorf("latestActivity = %+v", a)
				}
			},
		},
		{
			name: "disqualify", route: "POST /candidates/{id}/disqualify", mutation: disqualifyMutation, keyed: true,
			pick: qualifiedIn("Interview"),
			input: func(c workable.Candidate, _ string) map[string]any {
				return map[string]any{"id": c.ID, "reasonId": "7f21a0", "note": "  Chose another offer ", "withdrew": true}
			},
			body: func(workable.Candidate, string) string {
				return `{"member_id":"13e0eb0e","disqualify_reason_id":"7f21a0","disqualify_note":"Chose another offer","withdrew":true}`
			},
			check: func(t *testing.T, env *testEnv, c workable.Candidate, _ string, p actionPayload) {
				got := env.readCandidate(c.ID)
				if !got.Disqualified || got.DisqualificationReason == nil || *got.DisqualificationReason != "Not enough experience" ||
					got.Withdrew == nil || !*got.Withdrew {
					t.Errorf("after disqualify: %+v", got)
				}
				a := got.LatestActivity
				if a == nil || a.Kind != "DISQUALIFIED" || a.DisqualificationReason == nil || *a.DisqualificationReason != "Not enough experience" ||
					a.Member == nil || a.Member.ID != actorID {
					t.Errorf("latestActivity = %+v", a)
				}
				if p.Candidate == nil || !p.Candidate.Disqualified {
					t.Errorf("payload = %+v", p.Candidate)
				}
			},
		},
		{
			name: "revert", route: "POST /candidates/{id}/revert", mutation: revertMutation, keyed: true,
			pick:  disqualified,
			input: func(c workable.Candidate, _ string) map[string]any { return map[string]any{"id": c.ID} },
			body:  func(workable.Candidate, string) string { return `{"member_id":"13e0eb0e"}` },
			check: func(t *testing.T, env *testEnv, c workable.Candidate, _ string, p actionPayload) {
				got := env.readCandidate(c.ID)
				if got.Disqualified || got.DisqualificationReason != nil {
					t.Errorf("after revert: %+v", got)
				}
				if a := got.LatestActivity; a == nil || a.Kind != "REVERTED" || a.Member == nil || a.Member.ID != actorID {
					t.Errorf("latestActivity = %+v", a)
				}
				if p.Candidate == nil || p.Candidate.Disqualified {
					t.Errorf("payload = %+v", p.Candidate)
				}
			},
		},
		{
			name: "comment", route: "POST /candidates/{id}/comments", mutation: commentMutation, keyed: true,
			pick: qualifiedIn("Applied"),
			input: func(c workable.Candidate, _ string) map[string]any {
				return map[string]any{"id": c.ID, "memberId": otherMemberID, "body": "Strong portfolio.\nInvite to a call.",
					"visibleTo": []string{"RECRUITER", "HIRING_MANAGER", "RECRUITER"}}
			},
			body: func(workable.Candidate, string) string {
				return `{"member_id":"3247e8c7","comment":{"body":"Strong portfolio.\nInvite to a call.","policy":["recruiter","hiring_manager"]}}`
			},
			check: func(t *testing.T, env *testEnv, c workable.Candidate, _ string, p actionPayload) {
				if p.CommentID == nil || *p.CommentID == "" {
					t.Errorf("commentId = %v", p.CommentID)
				}
				a := env.readCandidate(c.ID).LatestActivity
				if a == nil || a.Kind != "COMMENT" || a.Body == nil || *a.Body != "Strong portfolio.\nInvite to a call." ||
					a.Member == nil || a.Member.ID != otherMemberID {
					t.Errorf("latestActivity = %+v", a)
				}
			},
		},
		{
			name: "rate", route: "POST /candidates/{id}/ratings", mutation: rateMutation, keyed: true,
			pick: qualifiedIn("Applied"),
			input: func(c workable.Candidate, _ string) map[string]any {
				return map[string]any{"id": c.ID, "scale": "STARS", "grade": 4, "comment": "Solid"}
			},
			body: func(workable.Candidate, string) string {
				return `{"member_id":"13e0eb0e","comment":"Solid","scale":"stars","grade":4}`
			},
			check: func(t *testing.T, env *testEnv, c workable.Candidate, _ string, p actionPayload) {
				a := env.readCandidate(c.ID).LatestActivity
				if a == nil || a.Kind != "RATING" || a.Rating == nil || a.Rating.Scale != "stars" || a.Rating.Grade != 4 ||
					a.Body == nil || *a.Body != "Solid" || a.Member == nil || a.Member.ID != actorID {
					t.Errorf("latestActivity = %+v", a)
				}
			},
		},
		{
			name: "tags", route: "PUT /candidates/{id}/tags", mutation: tagsMutation,
			pick: qualifiedIn("Applied"),
			input: func(c workable.Candidate, _ string) map[string]any {
				return map[string]any{"id": c.ID, "tags": []string{" globetrotter", "adventurer"}}
			},
			body: func(workable.Candidate, string) string { return `{"tags":["globetrotter","adventurer"]}` },
			check: func(t *testing.T, env *testEnv, c workable.Candidate, _ string, p actionPayload) {
				want := []string{"globetrotter", "adventurer"}
				if p.Candidate == nil || !cmp.Equal(p.Candidate.Tags, want) {
					t.Errorf("payload = %+v", p.Candidate)
				}
				if got := env.readCandidate(c.ID); !cmp.Equal(got.Tags, want) {
					t.Errorf("tags read back = %q", got.Tags)
				}
			},
		},
		{
			name: "copy", route: "POST /candidates/{id}/copy", mutation: copyMutation, keyed: true,
			pick: qualifiedIn("Interview"),
			input: func(c workable.Candidate, target string) map[string]any {
				return map[string]any{"id": c.ID, "toJob": target, "toStage": "applied"}
			},
			body: func(_ workable.Candidate, target string) string {
				return `{"member_id":"13e0eb0e","target_job_shortcode":"` + target + `","target_stage":"applied"}`
			},
			check: func(t *testing.T, env *testEnv, c workable.Candidate, target string, p actionPayload) {
				if p.Candidate == nil || p.Candidate.ID == c.ID || p.Candidate.Job.Shortcode != target || *p.Candidate.StageSlug != "applied" {
					t.Fatalf("payload = %+v", p.Candidate)
				}
				if a := env.readCandidate(p.Candidate.ID).LatestActivity; a == nil || a.Kind != "COPIED" || a.Member == nil || a.Member.ID != actorID {
					t.Errorf("the copy's latestActivity = %+v", a)
				}
				if orig := env.readCandidate(c.ID); orig == nil || orig.Job.Shortcode != c.Job.Shortcode {
					t.Errorf("the original = %+v", orig)
				}
			},
		},
		{
			name: "relocate", route: "POST /candidates/{id}/relocate", mutation: relocateMutation, keyed: true,
			pick: qualifiedIn("Interview"),
			input: func(c workable.Candidate, target string) map[string]any {
				return map[string]any{"id": c.ID, "toJob": target, "toStage": "shortlisted"}
			},
			body: func(_ workable.Candidate, target string) string {
				return `{"member_id":"13e0eb0e","target_job_shortcode":"` + target + `","target_stage":"shortlisted"}`
			},
			check: func(t *testing.T, env *testEnv, c workable.Candidate, target string, p actionPayload) {
				if p.Candidate == nil || p.Candidate.ID == c.ID || p.Candidate.Job.Shortcode != target || *p.Candidate.StageSlug != "shortlisted" {
					t.Fatalf("payload = %+v", p.Candidate)
				}
				a := env.readCandidate(p.Candidate.ID).LatestActivity
				if a == nil || a.Kind != "RELOCATION" || a.FromStage == nil || a.FromStage.Slug != "interview" ||
					a.ToStage == nil || a.ToStage.Slug != "shortlisted" || a.Member == nil || a.Member.ID != actorID {
					t.Errorf("the relocated candidate's latestActivity = %+v", a)
				}
				if orig := env.readCandidate(c.ID); orig != nil {
					t.Errorf("the original is still there: %+v", orig)
				}
			},
		},
	}
}

// TestActionsEndToEnd: each action sends exactly the documented body,
// Workable appends the activity (read back through the typed activities),
// and the payload shows the candidate's new state.
func TestActionsEndToEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range actionCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, withMemberID(actorID))
			c := pickActionCandidate(t, env.sim, tc.pick)
			target := otherJob(t, env.sim, c.Job.Shortcode)
			before := len(env.sim.Activities(c.ID))
			env.sim.ResetCounts()

			p := env.runAction(tc.mutation, tc.input(c, target))
			if len(p.UserErrors) != 0 {
				t.Fatalf("userErrors: %+v", p.UserErrors)
			}
			requireBodies(t, env.sim, tc.route, tc.body(c, target))
			if n := env.sim.RequestCount(tc.route); n != 1 {
				t.Errorf("%s called %d times", tc.route, n)
			}
			tc.check(t, env, c, target, p)
			if tc.name == "tags" {
				if n := len(env.sim.Activities(c.ID)); n != before {
					t.Errorf("tags changed the activities: %d → %d", before, n)
				}
			} else if tc.name != "copy" && tc.name != "relocate" {
				if n := len(env.sim.Activities(c.ID)); n != before+1 {
					t.Errorf("%d activities after the action, want %d", n, before+1)
				}
			}
		})
	}
}

// TestActionsInvalidateCaches: a query made before an action and repeated
// after it (with the response cache on, on the in-process cache and on
// Redis) shows exactly what a gateway without any cache shows: the
// candidate's detail and activities, the job's candidate list and activity
// stream, a stage-filtered list, and the target job's list of a copy or a
// relocation.
func TestActionsInvalidateCaches(t *testing.T) {
	t.Parallel()
	const q = `query($id: ID!, $sc: String!, $target: String!) {
		candidate(id: $id) { id stage disqualified disqualificationReason tags updatedAt
			latestStageMove { id } latestActivity { id kind } activities(last: 3) { nodes { id kind } } }
		job(shortcode: $sc) { candidates(first: 100) { nodes { id stage disqualified updatedAt } }
			activities(last: 3) { nodes { id kind candidate { id } } } }
		target: job(shortcode: $target) { candidates(first: 100) { nodes { id name stage } } }
		inStage: candidates(jobShortcode: $sc, stage: "phone-screen", first: 100) { nodes { id } }
	}`
	for _, b := range backends() {
		for _, tc := range actionCases() {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				env := econEnv(t, b, withResponseCache(), withMemberID(actorID))
				plain := newTestEnv(t, withSim(env.sim)) // no cache at all
				c := pickActionCandidate(t, env.sim, tc.pick)
				target := otherJob(t, env.sim, c.Job.Shortcode)
				v := vars{"id": c.ID, "sc": c.Job.Shortcode, "target": target}

				before := env.query(q, v)
				if len(before.Errors) > 0 {
					t.Fatalf("before: %s", before.Raw)
				}
				if again := env.query(q, v); !extensionsOf(t, again).ResponseCache {
					t.Fatalf("the query is not answered from the response cache: %s", again.Raw)
				}
				p := env.runAction(tc.mutation, tc.input(c, target))
				if len(p.UserErrors) > 0 || p.Candidate == nil {
					t.Fatalf("payload: %+v", p)
				}
				// The payload's candidate was read after the write, not
				// from the entries it made obsolete.
				var fresh struct{ R *candView }
				plain.mustQuery(`query($id: ID!) { r: candidate(id: $id) { id stage stageSlug disqualified disqualificationReason withdrew tags job { shortcode } } }`,
					vars{"id": p.Candidate.ID}, &fresh)
				if diff := cmp.Diff(fresh.R, p.Candidate); diff != "" {
					t.Errorf("the payload's candidate is not Workable's new state (-uncached +payload):\n%s", diff)
				}
				after := env.query(q, v)
				truth := plain.query(q, v)
				if len(after.Errors) > 0 || len(truth.Errors) > 0 {
					t.Fatalf("after: %s\ntruth: %s", after.Raw, truth.Raw)
				}
				if string(before.Data) == string(truth.Data) {
					t.Fatal("the action changed nothing the query shows: the test proves nothing")
				}
				if diff := cmp.Diff(string(truth.Data), string(after.Data)); diff != "" {
					t.Errorf("after the action the gateway shows old data (-uncached +cached):\n%s", diff)
				}
			})
		}
	}
}

// staleProxy passes requests to the simulator and, while fail is set,
// answers a successful action with 504 after the simulator applied it: a
// write whose outcome the gateway cannot know.
type staleProxy struct {
	next http.Handler
	fail atomic.Bool
}

func (p *staleProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || !p.fail.Load() {
		p.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	p.next.ServeHTTP(rec, r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusGatewayTimeout)
	_, _ = w.Write([]byte(`{"error":"Gateway timeout"}`))
}

// TestActionUnknownOutcomeInvalidates: an action Workable applied but
// answered with a 5xx is UPSTREAM_UNAVAILABLE, and the caches are
// invalidated anyway (nothing of the answer is trusted): the repeated query
// shows the new state. With an idempotency key, a retry stays refused and
// makes no second call.
func TestActionUnknownOutcomeInvalidates(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			proxy := &staleProxy{}
			env := econEnv(t, b, withResponseCache(), withMemberID(actorID),
				withSimProxy(func(h http.Handler) http.Handler { proxy.next = h; return proxy }))
			c := pickActionCandidate(t, env.sim, qualifiedIn("Applied"))
			const q = `query($id: ID!, $sc: String!) { candidate(id: $id) { stage latestActivity { id kind } }
				job(shortcode: $sc) { candidates(first: 100) { nodes { id stage } } } }`
			v := vars{"id": c.ID, "sc": c.Job.Shortcode}
			env.mustQuery(q, v, nil)
			if again := env.query(q, v); !extensionsOf(t, again).ResponseCache {
				t.Fatalf("not cached: %s", again.Raw)
			}
			proxy.fail.Store(true)
			in := map[string]any{"id": c.ID, "toStage": "interview", "idempotencyKey": "move-once-1"}
			env.query(moveMutation, vars{"in": in}).requireCode(t, CodeUpstreamUnavailable)
			env.query(moveMutation, vars{"in": in}).requireCode(t, CodeUpstreamUnavailable)
			if n := env.sim.RequestCount("POST /candidates/{id}/move"); n != 1 {
				t.Errorf("the move was sent %d times", n)
			}
			proxy.fail.Store(false)

			var out struct {
				Candidate struct {
					Stage          string
					LatestActivity struct{ Kind string }
				}
				Job struct {
					Candidates struct{ Nodes []struct{ ID, Stage string } }
				}
			}
			env.mustQuery(q, v, &out)
			if out.Candidate.Stage != "Interview" || out.Candidate.LatestActivity.Kind != "STAGE_MOVE" {
				t.Errorf("after an unconfirmed move the candidate shows %+v", out.Candidate)
			}
			for _, n := range out.Job.Candidates.Nodes {
				if n.ID == c.ID && n.Stage != "Interview" {
					t.Errorf("after an unconfirmed move the job's list shows stage %q", n.Stage)
				}
			}
		})
	}
}

// TestActionIdempotentRetry: a keyed action repeated with the same key
// (input field or Idempotency-Key header) answers the first result
// without a second Workable write, so there is one activity; the same key
// with another input is IDEMPOTENCY_KEY_REUSED, with no call. The store is
// the in-process one and Redis (REDIS_URL, else miniredis).
func TestActionIdempotentRetry(t *testing.T) {
	t.Parallel()
	stores := []struct {
		name string
		opt  func(t *testing.T) envOption
	}{
		{"memory", func(*testing.T) envOption { return func(*envConfig) {} }},
		{"redis", func(t *testing.T) envOption {
			srv := redistest.NewServer(t)
			store := idempotency.NewRedisStore(srv.Client, srv.Prefix+"idem:")
			return withHandler(func(c Config) http.Handler { c.Idempotency = store; return NewHandler(c) })
		}},
	}
	for _, st := range stores {
		for _, tc := range actionCases() {
			if !tc.keyed {
				continue
			}
			t.Run(st.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				env := newTestEnv(t, withMemberID(actorID), st.opt(t))
				c := pickActionCandidate(t, env.sim, tc.pick)
				target := otherJob(t, env.sim, c.Job.Shortcode)
				before := len(env.sim.Activities(c.ID))
				in := tc.input(c, target)
				in["idempotencyKey"] = "retry-" + tc.name

				first := env.runAction(tc.mutation, in)
				second := env.runAction(tc.mutation, in)
				if len(first.UserErrors) > 0 || first.Candidate == nil {
					t.Fatalf("first: %+v", first)
				}
				if diff := cmp.Diff(first, second); diff != "" {
					t.Errorf("the retry answered differently (-first +second):\n%s", diff)
				}
				if n := env.sim.RequestCount(tc.route); n != 1 {
					t.Errorf("%s called %d times, want 1", tc.route, n)
				}
				switch tc.name {
				case "copy", "relocate":
					if n := len(env.sim.Candidates()); tc.name == "copy" && n != 301 {
						t.Errorf("%d candidates after a retried copy, want 301", n)
					}
				default:
					if n := len(env.sim.Activities(c.ID)); n != before+1 {
						t.Errorf("%d activities after a retried action, want %d", n, before+1)
					}
				}

				// Another input under the same key.
				in["memberId"] = "5e81c3b7"
				p := env.runAction(tc.mutation, in)
				if len(p.UserErrors) != 1 || p.UserErrors[0].Code != UserErrorIdempotencyKeyReused {
					t.Errorf("reused key: %+v", p.UserErrors)
				}
				if n := env.sim.RequestCount(tc.route); n != 1 {
					t.Errorf("a reused key reached Workable (%d calls)", n)
				}
			})
		}
	}

	t.Run("header", func(t *testing.T) {
		t.Parallel()
		env := newTestEnv(t, withMemberID(actorID))
		c := pickActionCandidate(t, env.sim, qualifiedIn("Applied"))
		in := map[string]any{"id": c.ID, "body": "Once, please"}
		post := func() actionPayload {
			t.Helper()
			body, _ := json.Marshal(map[string]any{"query": commentMutation, "variables": vars{"in": in}})
			req, _ := http.NewRequest(http.MethodPost, env.srv.URL+"/query", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "comment-by-header")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			r := env.decode(resp)
			var out struct{ R actionPayload }
			if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil {
				t.Fatalf("comment: %s", r.Raw)
			}
			return out.R
		}
		if a, b := post(), post(); !cmp.Equal(a, b) || a.Candidate == nil {
			t.Errorf("answers differ or fail: %+v / %+v", a, b)
		}
		if n := env.sim.RequestCount("POST /candidates/{id}/comments"); n != 1 {
			t.Errorf("comment sent %d times", n)
		}
	})
}

// TestActionsReaderRefused: a reader key is refused every action with
// FORBIDDEN before any resolver runs, so nothing reaches Workable; a writer
// key may act.
func TestActionsReaderRefused(t *testing.T) {
	t.Parallel()
	ce := newCredEnv(t, nil)
	c := pickActionCandidate(t, ce.sim, qualifiedIn("Applied"))
	target := otherJob(t, ce.sim, c.Job.Shortcode)
	ce.sim.ResetCounts()
	for _, tc := range actionCases() {
		in := tc.input(c, target)
		in["memberId"] = actorID
		if tc.name == "tags" {
			delete(in, "memberId")
		}
		resp := ce.do(readerKey, "", tc.mutation, vars{"in": in})
		resp.requireCode(t, access.CodeForbidden)
		if resp.Data != nil && string(resp.Data) != "null" {
			t.Errorf("%s: a refused action has data %s", tc.name, resp.Data)
		}
	}
	if n := ce.sim.TotalRequests(); n != 0 {
		t.Errorf("refused actions made %d Workable calls", n)
	}
	var out struct{ R actionPayload }
	ce.mustDo(writerKey, "", commentMutation, vars{"in": map[string]any{"id": c.ID, "memberId": actorID, "body": "ok"}}, &out)
	if len(out.R.UserErrors) > 0 || out.R.Candidate == nil {
		t.Errorf("writer: %+v", out.R)
	}
}

// TestActionsBadInput: every problem of an input is a userError with its
// field and code, and nothing reaches Workable.
func TestActionsBadInput(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("é", n) }
	cases := []struct {
		name, mutation string
		in             map[string]any
		noDefault      bool // the gateway has no default acting member
		want           []model.UserError
	}{
		{"blank id", moveMutation, map[string]any{"id": " ", "toStage": "interview"}, false,
			[]model.UserError{{Field: []string{"input", "id"}, Code: UserErrorInvalid, Message: "must not be blank"}}},
		{"id with a slash", moveMutation, map[string]any{"id": "../jobs", "toStage": "interview"}, false,
			[]model.UserError{{Field: []string{"input", "id"}, Code: UserErrorInvalid,
				Message: "is not a valid candidate id: 1 to 64 ASCII letters, digits, hyphens or underscores"}}},
		{"stage name instead of slug", moveMutation, map[string]any{"id": "1a2b", "toStage": "Phone Screen"}, false,
			[]model.UserError{{Field: []string{"input", "toStage"}, Code: UserErrorInvalid,
				Message: "is not a valid stage slug (e.g. phone-screen, see Job.stages): 1 to 64 ASCII letters, digits, hyphens or underscores"}}},
		{"no acting member", moveMutation, map[string]any{"id": "1a2b", "toStage": "interview"}, true,
			[]model.UserError{{Field: []string{"input", "memberId"}, Code: UserErrorMemberRequired}}},
		{"blank member", moveMutation, map[string]any{"id": "1a2b", "toStage": "interview", "memberId": ""}, false,
			[]model.UserError{{Field: []string{"input", "memberId"}, Code: UserErrorInvalid, Message: "must not be blank"}}},
		{"every problem at once", moveMutation, map[string]any{"id": "a b", "toStage": "", "memberId": "x/y"}, false,
			[]model.UserError{
				{Field: []string{"input", "id"}, Code: UserErrorInvalid},
				{Field: []string{"input", "toStage"}, Code: UserErrorInvalid, Message: "must not be blank"},
				{Field: []string{"input", "memberId"}, Code: UserErrorInvalid},
			}},
		{"malformed idempotency key", moveMutation, map[string]any{"id": "1a2b", "toStage": "interview", "idempotencyKey": "two words"}, false,
			[]model.UserError{{Field: []string{"input", "idempotencyKey"}, Code: UserErrorInvalid}}},
		{"note over 256 characters", disqualifyMutation, map[string]any{"id": "1a2b", "note": long(257)}, false,
			[]model.UserError{{Field: []string{"input", "note"}, Code: UserErrorInvalid, Message: "must be at most 256 characters long (got 257)"}}},
		{"bad reason id", disqualifyMutation, map[string]any{"id": "1a2b", "reasonId": "no such"}, false,
			[]model.UserError{{Field: []string{"input", "reasonId"}, Code: UserErrorInvalid}}},
		{"revert without member", revertMutation, map[string]any{"id": "1a2b"}, true,
			[]model.UserError{{Field: []string{"input", "memberId"}, Code: UserErrorMemberRequired}}},
		{"blank comment", commentMutation, map[string]any{"id": "1a2b", "body": " \n "}, false,
			[]model.UserError{{Field: []string{"input", "body"}, Code: UserErrorInvalid, Message: "must not be blank"}}},
		{"comment too long", commentMutation, map[string]any{"id": "1a2b", "body": long(10001)}, false,
			[]model.UserError{{Field: []string{"input", "body"}, Code: UserErrorInvalid, Message: "must be at most 10000 characters long (got 10001)"}}},
		{"comment with a control character", commentMutation, map[string]any{"id": "1a2b", "body": "a\x00b"}, false,
			[]model.UserError{{Field: []string{"input", "body"}, Code: UserErrorInvalid, Message: "must not contain control characters"}}},
		{"comment visible to nobody", commentMutation, map[string]any{"id": "1a2b", "body": "hi", "visibleTo": []string{}}, false,
			[]model.UserError{{Field: []string{"input", "visibleTo"}, Code: UserErrorInvalid}}},
		{"thumbs grade 3", rateMutation, map[string]any{"id": "1a2b", "scale": "THUMBS", "grade": 3}, false,
			[]model.UserError{{Field: []string{"input", "grade"}, Code: UserErrorInvalid, Message: "must be 0 to 2 on the THUMBS scale (got 3)"}}},
		{"stars grade 5", rateMutation, map[string]any{"id": "1a2b", "scale": "STARS", "grade": 5}, false,
			[]model.UserError{{Field: []string{"input", "grade"}, Code: UserErrorInvalid, Message: "must be 0 to 4 on the STARS scale (got 5)"}}},
		{"numbers grade 10", rateMutation, map[string]any{"id": "1a2b", "scale": "NUMBERS", "grade": 10}, false,
			[]model.UserError{{Field: []string{"input", "grade"}, Code: UserErrorInvalid, Message: "must be 0 to 9 on the NUMBERS scale (got 10)"}}},
		{"negative grade", rateMutation, map[string]any{"id": "1a2b", "scale": "NUMBERS", "grade": -1}, false,
			[]model.UserError{{Field: []string{"input", "grade"}, Code: UserErrorInvalid, Message: "must be 0 to 9 on the NUMBERS scale (got -1)"}}},
		{"rating comment too long", rateMutation, map[string]any{"id": "1a2b", "scale": "THUMBS", "grade": 1, "comment": long(10001)}, false,
			[]model.UserError{{Field: []string{"input", "comment"}, Code: UserErrorInvalid, Message: "must be at most 10000 characters long (got 10001)"}}},
		{"blank tag", tagsMutation, map[string]any{"id": "1a2b", "tags": []string{"ok", " "}}, false,
			[]model.UserError{{Field: []string{"input", "tags", "1"}, Code: UserErrorInvalid, Message: "must not be blank"}}},
		{"too many tags", tagsMutation, map[string]any{"id": "1a2b", "tags": make([]string, 51)}, false,
			[]model.UserError{{Field: []string{"input", "tags"}, Code: UserErrorInvalid, Message: "must have at most 50 entries (got 51)"}}},
		{"copy to a bad shortcode", copyMutation, map[string]any{"id": "1a2b", "toJob": "GROOV 1", "toStage": "applied"}, false,
			[]model.UserError{{Field: []string{"input", "toJob"}, Code: UserErrorInvalid}}},
		{"relocate to a stage name", relocateMutation, map[string]any{"id": "1a2b", "toJob": "GROOV001", "toStage": "Phone Screen"}, false,
			[]model.UserError{{Field: []string{"input", "toStage"}, Code: UserErrorInvalid}}},
	}
	withDefault := newTestEnv(t, withMemberID(actorID))
	without := newTestEnv(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := withDefault
			if tc.noDefault {
				env = without
			}
			before := env.sim.TotalRequests()
			p := env.runAction(tc.mutation, tc.in)
			if p.Candidate != nil {
				t.Errorf("refused input answered a candidate: %+v", p.Candidate)
			}
			// Messages are compared when the case gives one.
			got := make([]model.UserError, len(p.UserErrors))
			for i, e := range p.UserErrors {
				got[i] = e
				if i < len(tc.want) && tc.want[i].Message == "" {
					got[i].Message = ""
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("userErrors (-want +got):\n%s", diff)
			}
			if n := env.sim.TotalRequests() - before; n != 0 {
				t.Errorf("refused input made %d Workable calls", n)
			}
		})
	}

	// Values the schema refuses never reach a resolver.
	for _, bad := range []map[string]any{
		{"id": "1a2b", "body": "hi", "visibleTo": []string{"BOSS"}},
		{"id": "1a2b", "body": "hi", "visibleTo": "ADMIN ,"},
	} {
		before := withDefault.sim.TotalRequests()
		resp := withDefault.query(commentMutation, vars{"in": bad})
		if len(resp.Errors) == 0 || resp.Errors[0].Code() != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("visibleTo %v: %s", bad["visibleTo"], resp.Raw)
		}
		if withDefault.sim.TotalRequests() != before {
			t.Errorf("visibleTo %v reached Workable", bad["visibleTo"])
		}
	}
}

// TestActionsWorkableRejections: Workable's 404 and 422 are userErrors on
// the input field they concern.
func TestActionsWorkableRejections(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withMemberID(actorID))
	c := pickActionCandidate(t, env.sim, qualifiedIn("Applied"))
	target := otherJob(t, env.sim, c.Job.Shortcode)
	cases := []struct {
		name, mutation string
		in             map[string]any
		field          []string
		code           string
	}{
		{"unknown candidate", moveMutation, map[string]any{"id": "fffffff", "toStage": "interview"}, []string{"input", "id"}, UserErrorNotFound},
		{"unknown stage", moveMutation, map[string]any{"id": c.ID, "toStage": "final-round"}, []string{"input", "toStage"}, UserErrorInvalid},
		{"inactive member", moveMutation, map[string]any{"id": c.ID, "toStage": "interview", "memberId": inactiveMemberID}, []string{"input", "memberId"}, UserErrorInvalid},
		{"unknown reason", disqualifyMutation, map[string]any{"id": c.ID, "reasonId": "abc123"}, []string{"input", "reasonId"}, UserErrorInvalid},
		{"revert a qualified candidate", revertMutation, map[string]any{"id": c.ID}, []string{"input"}, UserErrorInvalid},
		{"unknown job", copyMutation, map[string]any{"id": c.ID, "toJob": "NOPE1", "toStage": "applied"}, []string{"input", "toJob"}, UserErrorInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := env.runAction(tc.mutation, tc.in)
			if len(p.UserErrors) != 1 || !cmp.Equal(p.UserErrors[0].Field, tc.field) || p.UserErrors[0].Code != tc.code {
				t.Errorf("userErrors = %+v, want one %s on %v", p.UserErrors, tc.code, tc.field)
			}
		})
	}
	t.Run("copy into a job that has the e-mail", func(t *testing.T) {
		in := map[string]any{"id": c.ID, "toJob": target, "toStage": "applied"}
		if p := env.runAction(copyMutation, in); len(p.UserErrors) > 0 {
			t.Fatalf("first copy: %+v", p.UserErrors)
		}
		p := env.runAction(copyMutation, in)
		if len(p.UserErrors) != 1 || p.UserErrors[0].Code != UserErrorAlreadyExists || !cmp.Equal(p.UserErrors[0].Field, []string{"input", "toJob"}) {
			t.Errorf("second copy: %+v", p.UserErrors)
		}
	})
}

// liveShapes answers every action the way the reference allows and the
// simulator does not: every 2xx becomes 200, and a comment's and tags'
// bodies are dropped (the documentation shows a blank comment answer).
func liveShapes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		status, body := rec.Code, rec.Body.Bytes()
		if status >= 200 && status < 300 {
			status = http.StatusOK
			if strings.HasSuffix(r.URL.Path, "/comments") || strings.HasSuffix(r.URL.Path, "/tags") {
				body = []byte(" ")
				w.Header().Set("Content-Type", "text/plain")
			}
		}
		for k, v := range rec.Header() {
			if _, set := w.Header()[k]; !set {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

// TestActionsAcceptOtherAnswers: the gateway relies on no status code and
// on no answer body the reference leaves open.
func TestActionsAcceptOtherAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range actionCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, withMemberID(actorID), withSimProxy(liveShapes))
			c := pickActionCandidate(t, env.sim, tc.pick)
			target := otherJob(t, env.sim, c.Job.Shortcode)
			p := env.runAction(tc.mutation, tc.input(c, target))
			if len(p.UserErrors) > 0 || p.Candidate == nil {
				t.Errorf("%+v", p)
			}
			if tc.name == "comment" && p.CommentID != nil {
				t.Errorf("commentId %q from a blank answer", *p.CommentID)
			}
		})
	}
}

// TestActionForms: disqualificationReasons, Job.stages and Job.members
// give the ids the actions take, and cost no Workable call once cached.
func TestActionForms(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := econEnv(t, b)
			const q = `{ disqualificationReasons { id description candidateWithdrew position }
				job(shortcode: "GROOV001") { stages { slug name kind position } members { id name collaborationRole } } }`
			var out struct {
				DisqualificationReasons []struct {
					ID, Description   string
					CandidateWithdrew bool
					Position          *int
				}
				Job struct {
					Stages  []struct{ Slug string }
					Members []struct {
						ID, Name          string
						CollaborationRole *string
					}
				}
			}
			env.mustQuery(q, nil, &out)
			if r := out.DisqualificationReasons; len(r) != 6 || r[0].ID != "7f21a0" || r[0].Description != "Not enough experience" ||
				!r[5].CandidateWithdrew || r[0].Position == nil || *r[0].Position != 1 {
				t.Errorf("reasons = %+v", r)
			}
			var slugs []string
			for _, s := range out.Job.Stages {
				slugs = append(slugs, s.Slug)
			}
			if !cmp.Equal(slugs, []string{"sourced", "applied", "shortlisted", "assessment", "phone-screen", "interview", "offer", "hired"}) {
				t.Errorf("stages = %q", slugs)
			}
			if m := out.Job.Members; len(m) != 6 || m[0].ID != actorID || m[0].CollaborationRole == nil || *m[0].CollaborationRole != "admin" {
				t.Errorf("members = %+v", m)
			}
			env.sim.ResetCounts()
			resp := env.query(q, nil)
			if len(resp.Errors) > 0 {
				t.Fatal(resp.Raw)
			}
			if n := env.sim.TotalRequests(); n != 0 {
				t.Errorf("cached forms made %d calls: %v", n, env.sim.RequestCounts())
			}
			if got := env.query(`{ job(shortcode: "NOPE1") { members { id } } }`, nil); string(got.Data) != `{"job":null}` {
				t.Errorf("unknown job: %s", got.Raw)
			}
		})
	}
}

// TestActingMemberPerCredential: an action without memberId is made by the
// credential's default acting member: WORKABLE_MEMBER_ID's for the default
// credential, addWorkableCredential's memberId for an added one; without
// one it is MEMBER_REQUIRED.
func TestActingMemberPerCredential(t *testing.T) {
	t.Parallel()
	ce := newCredEnvWithMember(t, nil, actorID)
	c := pickActionCandidate(t, ce.sim, qualifiedIn("Applied"))
	comment := func(credential string) actionPayload {
		t.Helper()
		var out struct{ R actionPayload }
		ce.mustDo(writerKey, credential, commentMutation, vars{"in": map[string]any{"id": c.ID, "body": "hello"}}, &out)
		return out.R
	}
	if p := comment(""); len(p.UserErrors) > 0 {
		t.Fatalf("default credential: %+v", p.UserErrors)
	}

	// A second credential on the same account, with another acting member.
	var added struct {
		AddWorkableCredential struct {
			Credential *struct{ MemberID *string }
			UserErrors []model.UserError
		}
	}
	const add = `mutation($in: AddWorkableCredentialInput!) { addWorkableCredential(input: $in) {
		credential { memberId } userErrors { field code } } }`
	ce.mustDo(adminKey, "", add, vars{"in": map[string]any{"nickname": "alexia", "subdomain": simulator.DemoSubdomain,
		"apiToken": simulator.DemoToken, "memberId": otherMemberID}}, &added)
	if cr := added.AddWorkableCredential.Credential; cr == nil || cr.MemberID == nil || *cr.MemberID != otherMemberID {
		t.Fatalf("added: %+v", added.AddWorkableCredential)
	}
	if p := comment("alexia"); len(p.UserErrors) > 0 {
		t.Fatalf("alexia: %+v", p.UserErrors)
	}
	requireBodies(t, ce.sim, "POST /candidates/{id}/comments",
		`{"member_id":"13e0eb0e","comment":{"body":"hello"}}`, `{"member_id":"3247e8c7","comment":{"body":"hello"}}`)

	ce.mustDo(adminKey, "", add, vars{"in": map[string]any{"nickname": "nobody", "subdomain": simulator.DemoSubdomain,
		"apiToken": simulator.DemoToken}}, &added)
	if p := comment("nobody"); len(p.UserErrors) != 1 || p.UserErrors[0].Code != UserErrorMemberRequired {
		t.Errorf("without a default member: %+v", p.UserErrors)
	}
	ce.mustDo(adminKey, "", add, vars{"in": map[string]any{"nickname": "bad", "subdomain": simulator.DemoSubdomain,
		"apiToken": simulator.DemoToken, "memberId": "no/slash"}}, &added)
	if e := added.AddWorkableCredential.UserErrors; len(e) != 1 || !cmp.Equal(e[0].Field, []string{"input", "memberId"}) {
		t.Errorf("bad memberId: %+v", e)
	}
	var list struct {
		WorkableCredentials []struct {
			Nickname string
			MemberID *string
		}
	}
	ce.mustDo(adminKey, "", `{ workableCredentials { nickname memberId } }`, nil, &list)
	got := map[string]string{}
	for _, cr := range list.WorkableCredentials {
		got[cr.Nickname] = fmt.Sprint(cr.MemberID != nil && *cr.MemberID != "")
		if cr.MemberID != nil {
			got[cr.Nickname] = *cr.MemberID
		}
	}
	if diff := cmp.Diff(map[string]string{"default": actorID, "alexia": otherMemberID, "nobody": "false"}, got); diff != "" {
		t.Errorf("credentials' members (-want +got):\n%s", diff)
	}
}

// TestTwoActionsInOneRequest: the second action's payload shows the first's
// effect and its own: each action forgets what the request had loaded.
func TestTwoActionsInOneRequest(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := econEnv(t, b, withMemberID(actorID))
			c := pickActionCandidate(t, env.sim, qualifiedIn("Applied"))
			const m = `mutation($id: ID!) {
				a: moveCandidate(input: {id: $id, toStage: "interview"}) { candidate { stage latestActivity { kind } activities(first: 100) { nodes { id } } } }
				b: commentOnCandidate(input: {id: $id, body: "Booked"}) { candidate { stage latestActivity { kind } activities(first: 100) { nodes { id } } } }
			}`
			type pay struct {
				Candidate struct {
					Stage          string
					LatestActivity struct{ Kind string }
					Activities     struct{ Nodes []struct{ ID string } }
				}
			}
			var out struct{ A, B pay }
			env.mustQuery(m, vars{"id": c.ID}, &out)
			n := len(env.sim.Activities(c.ID))
			if out.A.Candidate.Stage != "Interview" || out.A.Candidate.LatestActivity.Kind != "STAGE_MOVE" || len(out.A.Candidate.Activities.Nodes) != n-1 {
				t.Errorf("first payload = %+v", out.A)
			}
			if out.B.Candidate.Stage != "Interview" || out.B.Candidate.LatestActivity.Kind != "COMMENT" || len(out.B.Candidate.Activities.Nodes) != n {
				t.Errorf("second payload = %+v (the candidate has %d activities)", out.B, n)
			}
		})
	}
}

// TestVisibilityRolesAreWorkables: the VisibilityRole enum is exactly the
// list of roles the reference gives, in its order.
func TestVisibilityRolesAreWorkables(t *testing.T) {
	t.Parallel()
	var got []string
	for _, r := range model.AllVisibilityRole {
		got = append(got, strings.ToLower(string(r)))
	}
	if diff := cmp.Diff(workable.VisibilityRoles(), got); diff != "" {
		t.Errorf("VisibilityRole (-reference +enum):\n%s", diff)
	}
}
