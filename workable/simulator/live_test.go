package simulator

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The tests of this file check that the simulator answers in the shapes a
// live account does (API.md §10), key by key where the shape is the point.

// keysOf returns the sorted keys of a JSON object.
func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestLiveJobShapes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	env := ts.getPage(t, "/spi/v3/jobs?limit=100", "jobs")
	if len(env.items) != 12 || env.paging != nil {
		t.Fatalf("%d jobs, paging %v", len(env.items), env.paging)
	}
	var hidden, salaries int
	for _, j := range env.items {
		id := j["id"].(string)
		if len(id) != 6 {
			t.Errorf("job id %q: live job ids have 6 hex digits", id)
		}
		for _, k := range []string{"workplace_type", "salary", "keywords", "sample", "updated_at", "locations"} {
			if _, ok := j[k]; !ok {
				t.Errorf("job %s lacks %s", id, k)
			}
		}
		if !strings.HasPrefix(j["shortlink"].(string), "https://apply.workable.com/j/") {
			t.Errorf("shortlink %v", j["shortlink"])
		}
		loc := j["location"].(map[string]any)
		if loc["location_str"] == nil {
			t.Errorf("job %s: list item without location_str", id)
		}
		locs := j["locations"].([]any)
		if len(locs) == 0 {
			t.Fatalf("job %s has no locations", id)
		}
		for _, l := range locs {
			item := l.(map[string]any)
			want := []string{"city", "coords", "country_code", "country_name", "hidden", "shortcode", "state_code", "subregion", "zip_code"}
			if diff := cmp.Diff(want, keysOf(item)); diff != "" {
				t.Errorf("job %s location item keys (-want +got):\n%s", id, diff)
			}
			if item["hidden"] == true {
				hidden++
			}
		}
		first := locs[0].(map[string]any)
		if first["city"] != loc["city"] || first["country_name"] != loc["country"] || first["state_code"] != loc["region_code"] {
			t.Errorf("job %s: the first location %v does not match location %v", id, first, loc)
		}
		if s := j["salary"].(map[string]any); s["salary_from"] != nil {
			salaries++
			if c := s["salary_currency"].(string); c != strings.ToLower(c) {
				t.Errorf("currency %q is not lower case", c)
			}
		}
	}
	if hidden == 0 || salaries == 0 {
		t.Errorf("%d hidden locations, %d salaries: the seed should show both", hidden, salaries)
	}

	// The detail is not a superset of the list item (API.md §10).
	var detail map[string]any
	ts.get(t, "/spi/v3/jobs/GROOV002", &detail)
	if _, ok := detail["sample"]; ok {
		t.Error("job detail has sample")
	}
	if _, ok := detail["location"].(map[string]any)["location_str"]; ok {
		t.Error("job detail location has location_str")
	}
	for _, k := range []string{"employment_type", "description", "locations", "salary", "keywords", "workplace_type"} {
		if _, ok := detail[k]; !ok {
			t.Errorf("job detail lacks %s", k)
		}
	}
}

func TestLiveCandidateShapes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	var detail struct{ Candidate map[string]any }
	ts.get(t, "/spi/v3/candidates/ce4da98", &detail)
	c := detail.Candidate
	if _, ok := c["resume_metadata"]; ok {
		t.Error("candidate detail has resume_metadata, which live list items alone carry")
	}
	for _, k := range []string{"withdrew", "anonymized", "moved_to_offer_at", "outlet", "common_source", "common_source_category"} {
		if _, ok := c[k]; !ok {
			t.Errorf("candidate detail lacks %s", k)
		}
	}
	env := ts.getPage(t, "/spi/v3/candidates?limit=100", "candidates")
	var resumes, offers int
	for _, it := range env.items {
		if rm, ok := it["resume_metadata"].(map[string]any); ok {
			resumes++
			if diff := cmp.Diff([]string{"created_at", "filename", "filetype", "updated_at"}, keysOf(rm)); diff != "" {
				t.Errorf("resume_metadata keys (-want +got):\n%s", diff)
			}
		}
		if it["moved_to_offer_at"] != nil {
			offers++
		}
	}
	if resumes == 0 || offers == 0 {
		t.Errorf("%d candidates with resume metadata, %d moved to offer: the seed should show both", resumes, offers)
	}

	// Created with only names and e-mail: Sourced, sourced, outlet SPI.
	r := ts.call(t, http.MethodPost, "/spi/v3/jobs/GROOV002/candidates", DemoToken,
		map[string]any{"candidate": map[string]any{"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com"}})
	var created struct{ Candidate map[string]any }
	r.decode(t, &created)
	if created.Candidate["stage"] != "Sourced" || created.Candidate["sourced"] != true || created.Candidate["outlet"] != "SPI" {
		t.Errorf("created candidate %v", created.Candidate)
	}
	ms := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	for _, k := range []string{"created_at", "updated_at"} {
		if s, _ := created.Candidate[k].(string); !ms.MatchString(s) {
			t.Errorf("%s = %q, want milliseconds", k, s)
		}
	}
}

// TestLiveTimestampsHaveMilliseconds: every timestamp of every answer is
// written with milliseconds (API.md §10).
func TestLiveTimestampsHaveMilliseconds(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, WithCandidates(30))
	ms := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	var check func(path string, v any)
	check = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && (strings.HasSuffix(k, "_at") || k == "valid_until") && !ms.MatchString(s) {
					t.Errorf("%s.%s = %q, want milliseconds", path, k, s)
				}
				check(path+"."+k, e)
			}
		case []any:
			for _, e := range x {
				check(path, e)
			}
		}
	}
	cand := ts.sim.Candidates()[0].ID
	for _, u := range []string{"/spi/v3/jobs", "/spi/v3/jobs/GROOV002", "/spi/v3/candidates", "/spi/v3/candidates/" + cand,
		"/spi/v3/candidates/" + cand + "/activities", "/spi/v3/jobs/GROOV002/activities"} {
		var body any
		ts.get(t, u, &body)
		check(u, body)
	}
}

func TestLiveJobActivities(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	env := ts.getPage(t, "/spi/v3/jobs/GROOV005/activities?limit=100", "activities")
	if len(env.items) < 10 {
		t.Fatalf("%d job activities", len(env.items))
	}
	first := env.items[0]
	if first["action"] != "opened" || first["candidate"] != nil || first["member"] == nil {
		t.Errorf("first job activity %v, want the job's opening by a member", first)
	}
	job5 := map[string]bool{}
	for _, c := range ts.sim.Candidates() {
		if c.Job.Shortcode == "GROOV005" {
			job5[c.ID] = true
		}
	}
	for _, a := range env.items {
		if v, ok := a["stage_name"]; !ok || v != nil {
			t.Errorf("job activity %v: stage_name must be present and null", a["id"])
		}
		if a["action"] == "opened" {
			continue
		}
		cand, _ := a["candidate"].(map[string]any)
		if diff := cmp.Diff([]string{"id", "name"}, keysOf(cand)); diff != "" || !job5[cand["id"].(string)] {
			t.Errorf("job activity %v: candidate %v", a["id"], cand)
		}
	}
	if r := ts.call(t, http.MethodGet, "/spi/v3/jobs/NOPE/activities", DemoToken, nil); r.status != http.StatusNotFound {
		t.Errorf("unknown job: %d", r.status)
	}
}

func TestLiveCandidateActivitySemantics(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	var moves, system, dqs, ratings int
	for _, c := range ts.sim.Candidates()[:100] {
		env := ts.getPage(t, "/spi/v3/candidates/"+c.ID+"/activities", "activities")
		for _, a := range env.items {
			if _, ok := a["target_stage"]; !ok {
				t.Fatalf("activity %v: target_stage must be present (null on non-moves)", a["id"])
			}
			if tgt, ok := a["target_stage"].(map[string]any); ok {
				moves++
				if a["action"] != tgt["slug"] {
					t.Errorf("move %v: action %v, target %v", a["id"], a["action"], tgt["slug"])
				}
				if diff := cmp.Diff([]string{"id", "identifier", "name", "slug"}, keysOf(tgt)); diff != "" {
					t.Errorf("target_stage keys (-want +got):\n%s", diff)
				}
				if _, isInt := tgt["id"].(float64); !isInt {
					t.Errorf("target_stage id %v is not a number", tgt["id"])
				}
				if a["stage_name"] != a["action_stage"].(map[string]any)["name"] {
					t.Errorf("move %v: stage_name %v is not the stage left", a["id"], a["stage_name"])
				}
			}
			if _, ok := a["member"]; !ok {
				system++
			}
			switch a["action"] {
			case "disqualified":
				dqs++
				if a["body"] == nil {
					t.Errorf("disqualification %v without a reason", a["id"])
				}
			case "rating":
				ratings++
				r := a["rating"].(map[string]any)
				if diff := cmp.Diff([]string{"grade", "scale", "score"}, keysOf(r)); diff != "" {
					t.Errorf("rating keys (-want +got):\n%s", diff)
				}
			}
		}
	}
	if moves == 0 || system == 0 || dqs == 0 || ratings == 0 {
		t.Errorf("%d moves, %d system events, %d disqualifications, %d ratings in 100 candidates", moves, system, dqs, ratings)
	}
}

func TestLiveStagesMembersAndLists(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	var stages struct{ Stages []map[string]any }
	ts.get(t, "/spi/v3/stages", &stages)
	for i, st := range stages.Stages {
		if diff := cmp.Diff([]string{"id", "identifier", "kind", "name", "position", "slug"}, keysOf(st)); diff != "" {
			t.Errorf("stage keys (-want +got):\n%s", diff)
		}
		if st["position"] != float64(i+1) {
			t.Errorf("stage %v position %v, want %d (live positions start at 1)", st["slug"], st["position"], i+1)
		}
	}
	var jobStages struct{ Stages []map[string]any }
	ts.get(t, "/spi/v3/jobs/GROOV002/stages", &jobStages)
	if diff := cmp.Diff(stages, jobStages); diff != "" {
		t.Errorf("job stages differ from the account's (-account +job):\n%s", diff)
	}

	var members struct{ Members []map[string]any }
	ts.get(t, "/spi/v3/members?status=all", &members)
	var inactive int
	for _, m := range members.Members {
		if m["type"] != "Member" || m["roles"] == nil || m["role"] == nil {
			t.Errorf("member %v", m)
		}
		if m["active"] == false {
			inactive++
		}
	}
	var active struct{ Members []map[string]any }
	ts.get(t, "/spi/v3/members", &active)
	var onlyInactive struct{ Members []map[string]any }
	ts.get(t, "/spi/v3/members?status=inactive", &onlyInactive)
	if inactive == 0 || len(active.Members)+inactive != len(members.Members) || len(onlyInactive.Members) != inactive {
		t.Errorf("members: %d all, %d active, %d inactive (%d listed)", len(members.Members), len(active.Members), inactive, len(onlyInactive.Members))
	}

	// Bare JSON arrays (API.md §10).
	for _, u := range []string{"/spi/v3/departments", "/spi/v3/disqualification_reasons"} {
		r := ts.get(t, u, nil)
		var arr []map[string]any
		if err := json.Unmarshal(r.body, &arr); err != nil || len(arr) == 0 {
			t.Errorf("GET %s = %s: want a non-empty bare array (%v)", u, r.body, err)
		}
	}
	var reasons []struct {
		Description string `json:"description"`
	}
	ts.get(t, "/spi/v3/disqualification_reasons", &reasons)
	var texts []string
	for _, r := range reasons {
		texts = append(texts, r.Description)
	}
	for _, c := range ts.sim.Candidates() {
		if c.DisqualificationReason != nil && !slices.Contains(texts, *c.DisqualificationReason) {
			t.Errorf("candidate %s disqualified for %q, not one of the account's reasons", c.ID, *c.DisqualificationReason)
		}
	}
}

// TestLiveGetHeaders: every successful GET carries what a live account's
// GETs carry besides the rate headers (API.md §10): Cache-Control "max-age=0,
// private, must-revalidate", a weak ETag (of the body: the same body, the
// same ETag) and an X-Request-Id, a new one for each answer. Other answers
// carry the X-Request-Id alone.
func TestLiveGetHeaders(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	weak := regexp.MustCompile(`^W/"[0-9a-f]{32}"$`)
	seen := map[string]bool{}
	requestID := func(r response, what string) {
		t.Helper()
		id := r.header.Get("X-Request-Id")
		if !uuid.MatchString(id) || seen[id] {
			t.Errorf("%s: X-Request-Id %q, want a new UUID", what, id)
		}
		seen[id] = true
	}
	etags := map[string]string{}
	for _, path := range []string{
		"/spi/v3/jobs", "/spi/v3/jobs/GROOV001", "/spi/v3/candidates?limit=3", "/spi/v3/stages",
		"/spi/v3/departments", "/spi/v3/members", "/spi/v3/accounts", "/spi/v3/jobs", "/spi/v3/stages",
	} {
		r := ts.get(t, path, nil)
		requestID(r, "GET "+path)
		if got := r.header.Get("Cache-Control"); got != "max-age=0, private, must-revalidate" {
			t.Errorf("GET %s: Cache-Control %q", path, got)
		}
		etag := r.header.Get("ETag")
		if !weak.MatchString(etag) {
			t.Errorf("GET %s: ETag %q, want a weak one", path, etag)
		}
		if prev, ok := etags[path]; ok && prev != etag {
			t.Errorf("GET %s twice: ETag %q then %q for the same body", path, prev, etag)
		}
		etags[path] = etag
	}
	if etags["/spi/v3/jobs"] == etags["/spi/v3/stages"] {
		t.Error("two different bodies have the same ETag")
	}
	for _, tc := range []struct {
		method, path, token string
		body                any
		status              int
	}{
		{http.MethodGet, "/spi/v3/jobs/NOPE", DemoToken, nil, http.StatusNotFound},
		{http.MethodGet, "/spi/v3/jobs", "", nil, http.StatusUnauthorized},
		{http.MethodGet, "/spi/v3/candidates?stage=..%2Fx", DemoToken, nil, http.StatusUnprocessableEntity},
		{http.MethodGet, "/spi/v3/nowhere", DemoToken, nil, http.StatusNotFound},
		{http.MethodPatch, "/spi/v3/candidates/nope", DemoToken, map[string]any{"candidate": map[string]any{}}, http.StatusNotFound},
	} {
		r := ts.call(t, tc.method, tc.path, tc.token, tc.body)
		what := tc.method + " " + tc.path
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d", what, r.status, tc.status)
		}
		requestID(r, what)
		if r.header.Get("ETag") != "" || r.header.Get("Cache-Control") != "" {
			t.Errorf("%s: ETag %q, Cache-Control %q on an answer that is not a successful GET", what,
				r.header.Get("ETag"), r.header.Get("Cache-Control"))
		}
	}
}
