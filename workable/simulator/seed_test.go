package simulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/workablegw/gateway/workable"
)

// same fails when x and y encode differently; cmp.Diff, slow on hundreds of
// candidates under -race, only runs to explain a difference.
func same(t *testing.T, what string, x, y any) {
	t.Helper()
	bx, errx := json.Marshal(x)
	by, erry := json.Marshal(y)
	if errx != nil || erry != nil {
		t.Fatalf("%s: encode: %v %v", what, errx, erry)
	}
	if !bytes.Equal(bx, by) {
		t.Errorf("%s differ:\n%s", what, cmp.Diff(x, y))
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	a, b := New(), New()
	same(t, "jobs", a.Jobs(), b.Jobs())
	ca := a.Candidates()
	same(t, "candidates", ca, b.Candidates())
	for _, c := range ca {
		same(t, "activities of "+c.ID, a.Activities(c.ID), b.Activities(c.ID))
	}
	same(t, "members", a.Members(), b.Members())

	// The wire bodies are byte-identical too.
	body := func(s *Simulator) string {
		req, _ := http.NewRequest("GET", "http://sim.test/spi/v3/candidates?limit=100", nil)
		req.Header.Set("Authorization", "Bearer "+DemoToken)
		rec := &recorder{header: http.Header{}}
		s.Handler().ServeHTTP(rec, req)
		return rec.body.String()
	}
	if body(a) != body(b) {
		t.Error("GET /candidates bodies differ between two New()")
	}

	s7 := New(WithSeed(7), WithCandidates(40))
	same(t, "WithSeed(7) candidates", s7.Candidates(), New(WithSeed(7), WithCandidates(40)).Candidates())
	x, _ := json.Marshal(s7.Candidates())
	y, _ := json.Marshal(New(WithCandidates(40)).Candidates())
	if bytes.Equal(x, y) {
		t.Error("WithSeed(7) gives the same candidates as the default seed")
	}
}

// recorder is a minimal http.ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

func TestSeededData(t *testing.T) {
	t.Parallel()
	s := New()

	jobs := s.Jobs()
	states := map[string]int{}
	jobByCode := map[string]workable.Job{}
	for _, j := range jobs {
		states[j.State]++
		jobByCode[j.Shortcode] = j
		if j.Location == nil || j.Location.LocationStr == nil || j.Location.WorkplaceType == nil ||
			j.Department == nil || len(j.DepartmentHierarchy) == 0 || j.Description == nil || j.FullDescription == nil {
			t.Errorf("job %s lacks location/department/description: %+v", j.Shortcode, j)
		}
	}
	if len(jobs) < 10 || states["published"] < 3 || states["draft"] == 0 || states["closed"] == 0 || states["archived"] == 0 {
		t.Errorf("job states %v over %d jobs", states, len(jobs))
	}

	stages := s.Stages()
	var slugs []string
	for _, st := range stages {
		slugs = append(slugs, st.Slug)
	}
	want := []string{"sourced", "applied", "shortlisted", "assessment", "phone-screen", "interview", "offer", "hired"}
	if diff := cmp.Diff(want, slugs); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
	if n := len(s.Members()); n < 5 {
		t.Errorf("%d members", n)
	}
	if a := s.Account(); a.Name != "Groove Tech" || a.Subdomain != DemoSubdomain {
		t.Errorf("account %+v", a)
	}

	cands := s.Candidates()
	if len(cands) != 300 {
		t.Fatalf("%d candidates, want 300", len(cands))
	}
	perStage, perJob := map[string]int{}, map[string]int{}
	var disqualified, withDetail int
	for i, c := range cands {
		perStage[*c.StageKind]++
		perJob[c.Job.Shortcode]++
		if c.Disqualified {
			disqualified++
		}
		if c.Summary != nil && len(c.EducationEntries) > 0 && len(c.ExperienceEntries) > 0 && len(c.Skills) > 0 {
			withDetail++
		}
		if jobByCode[c.Job.Shortcode].State == "draft" {
			t.Errorf("candidate %s in draft job %s", c.ID, c.Job.Shortcode)
		}
		if c.CreatedAt.Before(jobByCode[c.Job.Shortcode].CreatedAt) {
			t.Errorf("candidate %s created before its job", c.ID)
		}
		if i > 0 && !c.CreatedAt.After(cands[i-1].CreatedAt) {
			t.Errorf("created_at not increasing in id order at %s", c.ID)
		}
		if c.UpdatedAt.Before(c.CreatedAt) {
			t.Errorf("candidate %s updated before created", c.ID)
		}
		checkLiveActivities(t, s, c)
	}
	for _, sl := range want {
		if perStage[sl] == 0 {
			t.Errorf("no candidate in stage %s", sl)
		}
	}
	if len(perJob) < 5 {
		t.Errorf("candidates over %d jobs only", len(perJob))
	}
	if disqualified < 10 || withDetail < 200 {
		t.Errorf("%d disqualified, %d with detail fields", disqualified, withDetail)
	}
	if first, last := cands[0].CreatedAt, cands[len(cands)-1].CreatedAt; last.Sub(first) < 180*24*time.Hour || last.After(time.Now()) {
		t.Errorf("created_at range %v – %v", first, last)
	}
}

// checkLiveActivities checks c's activity stream against the live
// semantics of API.md §10.
func checkLiveActivities(t *testing.T, s *Simulator, c workable.Candidate) {
	t.Helper()
	stageBySlug := map[string]workable.Stage{}
	for _, st := range s.Stages() {
		stageBySlug[st.Slug] = st
	}
	acts := s.Activities(c.ID)
	if len(acts) < 2 || len(acts) > 7 {
		t.Errorf("candidate %s has %d activities", c.ID, len(acts))
	}
	if a := acts[0].Action; a != "sourced" && a != "applied" {
		t.Errorf("candidate %s starts with %q", c.ID, a)
	}
	if acts[0].Action == "applied" {
		// A system e-mail follows the application in the same second.
		ev := acts[1]
		if ev.Action != "event" || ev.Member != nil || ev.CreatedAt.Truncate(time.Second) != acts[0].CreatedAt.Truncate(time.Second) {
			t.Errorf("candidate %s: after applying %+v", c.ID, ev)
		}
	}
	for k := 1; k < len(acts); k++ {
		if !acts[k].CreatedAt.After(acts[k-1].CreatedAt) || mustHex(t, acts[k].ID) <= mustHex(t, acts[k-1].ID) {
			t.Errorf("activities of %s out of order", c.ID)
		}
	}
	current := acts[0].ActionStage
	for _, a := range acts {
		if a.StageName == nil || a.ActionStage == nil || *a.StageName != a.ActionStage.Name || a.ActionStage.Slug != current.Slug {
			t.Errorf("candidate %s: %s happened in %+v (stage_name %v), the candidate was in %s", c.ID, a.Action, a.ActionStage, a.StageName, current.Slug)
		}
		if a.TargetStage != nil {
			// A move: the action is the target's slug, stage_name the stage left.
			if a.Action != a.TargetStage.Slug || a.Member == nil || a.TargetStage.ID == "" || a.TargetStage.Identifier == "" {
				t.Errorf("candidate %s: bad move %+v", c.ID, a)
			}
			if _, ok := stageBySlug[a.Action]; !ok {
				t.Errorf("candidate %s: move to unknown stage %q", c.ID, a.Action)
			}
			current = a.TargetStage
			if a.Action == "offer" && (c.MovedToOfferAt == nil || !c.MovedToOfferAt.Equal(a.CreatedAt)) {
				t.Errorf("candidate %s: moved_to_offer_at %v, move to offer at %v", c.ID, c.MovedToOfferAt, a.CreatedAt)
			}
		}
		if a.Action == "rating" && (a.Rating == nil || a.Rating.Scale == nil || a.Rating.Grade == nil) {
			t.Errorf("candidate %s: rating without scale and grade: %+v", c.ID, a.Rating)
		}
	}
	if current.Slug != *c.StageKind {
		t.Errorf("candidate %s: the moves end in %s, the candidate is in %s", c.ID, current.Slug, *c.StageKind)
	}
	last := acts[len(acts)-1]
	if c.Disqualified {
		if last.Action != "disqualified" || last.Body == nil || *last.Body != *c.DisqualificationReason ||
			!c.DisqualifiedAt.Equal(last.CreatedAt) {
			t.Errorf("disqualified candidate %s ends with %+v", c.ID, last)
		}
	}
	if c.UpdatedAt.Before(last.CreatedAt) {
		t.Errorf("candidate %s updated before its last activity", c.ID)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	s := New(WithCandidates(3), WithSubdomain("acme"))
	cands := s.Candidates()
	if len(cands) != 3 {
		t.Fatalf("%d candidates", len(cands))
	}
	if cands[0].Account.Subdomain != "acme" || !strings.Contains(*cands[0].ProfileURL, "https://acme.workable.com/") {
		t.Errorf("candidate %+v", cands[0])
	}
	ts := newTestServer(t, WithSubdomain("acme"))
	var a workable.Account
	ts.get(t, "/spi/v3/accounts/acme", &a)
	if a.Subdomain != "acme" {
		t.Errorf("account %+v", a)
	}
	if j, ok := s.Job("GROOV005"); !ok || !strings.HasPrefix(*j.URL, "https://acme.workable.com/jobs/") {
		t.Errorf("job %+v", j)
	}
	if _, ok := s.Job("NOPE"); ok {
		t.Error("Job(NOPE) found")
	}
	if _, ok := s.Candidate("nope"); ok {
		t.Error("Candidate(nope) found")
	}
	if s.Activities("nope") != nil {
		t.Error("Activities(nope) not nil")
	}
	if n := len(New(WithCandidates(0)).Candidates()); n != 0 {
		t.Errorf("WithCandidates(0): %d", n)
	}
}
