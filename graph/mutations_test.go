package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// End-to-end tests of createCandidate and updateCandidate over the real
// handler, against the simulator.

const (
	routeCreate = "POST /jobs/{shortcode}/candidates"
	routeUpdate = "PATCH /candidates/{id}"
	routeGet    = "GET /candidates/{id}"

	// mutationCandidateFields is the candidate selection of these tests:
	// every field a mutation can set, plus what create decides.
	mutationCandidateFields = `id name firstName lastName email headline summary address phone coverLetter
		stage sourced tags
		educationEntries { school degree fieldOfStudy startDate endDate }
		experienceEntries { title summary company industry startDate endDate current }
		socialProfiles { type username url }
		job { shortcode title }`

	createMutation = `mutation($in: CreateCandidateInput!) { createCandidate(input: $in) {
		candidate { ` + mutationCandidateFields + ` } userErrors { field message code } } }`
	updateMutation = `mutation($in: UpdateCandidateInput!) { updateCandidate(input: $in) {
		candidate { ` + mutationCandidateFields + ` } userErrors { field message code } } }`
	readCandidate = `query($id: ID!) { candidate(id: $id) { ` + mutationCandidateFields + ` } }`
)

// payloadOut decodes either mutation's payload.
type payloadOut struct {
	Candidate  map[string]any    `json:"candidate"`
	UserErrors []model.UserError `json:"userErrors"`
}

type createOut struct {
	CreateCandidate payloadOut `json:"createCandidate"`
}

type updateOut struct {
	UpdateCandidate payloadOut `json:"updateCandidate"`
}

// recordedRequest is one request the gateway sent to Workable.
type recordedRequest struct {
	Method, Path string
	Body         []byte
}

// recorder is an http.RoundTripper that records every request the
// workable.Client sends (and then sends it), so tests can assert the exact
// bodies that reach Workable.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []recordedRequest
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, recordedRequest{Method: req.Method, Path: req.URL.Path, Body: body})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// take returns the decoded bodies of the recorded requests with method
// ("" matches none) and forgets every recorded request.
func (r *recorder) take(t *testing.T, method string) []any {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []any
	for _, req := range r.reqs {
		if req.Method != method {
			continue
		}
		var v any
		if err := json.Unmarshal(req.Body, &v); err != nil {
			t.Fatalf("%s %s body %q: %v", req.Method, req.Path, req.Body, err)
		}
		out = append(out, v)
	}
	r.reqs = nil
	return out
}

// newRecordingEnv is newTestEnv with a recorder on the Workable client.
func newRecordingEnv(t *testing.T, opts ...envOption) (*testEnv, *recorder) {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	rec := &recorder{next: tr}
	opts = append(opts, withClientOptions(workable.WithHTTPClient(&http.Client{Transport: rec})))
	return newTestEnv(t, opts...), rec
}

// inputVars renders a generated input model as GraphQL variables (the
// models' JSON tags are the schema's field names).
func inputVars(t *testing.T, in any) map[string]any {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// pickCandidate returns the first simulated candidate that satisfies ok.
func pickCandidate(t *testing.T, sim *simulator.Simulator, ok func(workable.Candidate) bool) workable.Candidate {
	t.Helper()
	for _, c := range sim.Candidates() {
		if ok(c) {
			return c
		}
	}
	t.Fatal("no simulated candidate fits")
	return workable.Candidate{}
}

// richCandidate has every optional field, so clearing each is observable.
func richCandidate(c workable.Candidate) bool {
	return c.Headline != nil && c.Summary != nil && c.Address != nil && c.Phone != nil && c.CoverLetter != nil &&
		len(c.Tags) > 0 && len(c.EducationEntries) > 0 && len(c.ExperienceEntries) > 0 && len(c.SocialProfiles) > 0
}

func publishedJob(t *testing.T, sim *simulator.Simulator) workable.Job {
	t.Helper()
	for _, j := range sim.Jobs() {
		if j.State == "published" {
			return j
		}
	}
	t.Fatal("no published job")
	return workable.Job{}
}

func TestCreateCandidateEveryField(t *testing.T) {
	t.Parallel()
	env, rec := newRecordingEnv(t, withSimOptions(simulator.WithCandidates(20)))
	job := publishedJob(t, env.sim)
	in := map[string]any{
		"jobShortcode": job.Shortcode, "firstName": " Jj ", "lastName": "Botha", "email": "jj_botha@fakemail.com",
		"sourced": false, "headline": "Professional Administration Manager", "summary": "A focussed team player.",
		"address": "25772 Gustave Shore, Iowa, USA", "phone": "1-859-557-6573", "coverLetter": "Lorem ipsum.",
		"educationEntries": []any{map[string]any{"school": "University of Pennsylvania", "degree": "MBA",
			"fieldOfStudy": "Business", "startDate": "2008-03-01", "endDate": "2011-03-30"}},
		"experienceEntries": []any{map[string]any{"title": "Sales Director", "summary": "Sold.", "company": "Vox Mobile",
			"industry": "Telecommunications", "startDate": "2011-03-01", "endDate": "2014-03-30", "current": true}},
		"socialProfiles": []any{map[string]any{"type": "twitter", "name": "Twitter", "username": "jj_botha",
			"url": "http://www.twitter.com/jj_botha"}},
		"tags": []any{"globetrotter", "sales"},
	}
	env.sim.ResetCounts()
	var out createOut
	env.mustQuery(createMutation, vars{"in": in}, &out)

	want := map[string]any{
		"name": "Jj Botha", "firstName": "Jj", "lastName": "Botha", "email": "jj_botha@fakemail.com",
		"headline": "Professional Administration Manager", "summary": "A focussed team player.",
		"address": "25772 Gustave Shore, Iowa, USA", "phone": "1-859-557-6573", "coverLetter": "Lorem ipsum.",
		"stage": "Applied", "sourced": false, "tags": []any{"globetrotter", "sales"},
		"educationEntries": []any{map[string]any{"school": "University of Pennsylvania", "degree": "MBA",
			"fieldOfStudy": "Business", "startDate": "2008-03-01", "endDate": "2011-03-30"}},
		"experienceEntries": []any{map[string]any{"title": "Sales Director", "summary": "Sold.", "company": "Vox Mobile",
			"industry": "Telecommunications", "startDate": "2011-03-01", "endDate": "2014-03-30", "current": true}},
		// The social profile's name is output-side in Workable (API.md §4): not echoed.
		"socialProfiles": []any{map[string]any{"type": "twitter", "username": "jj_botha", "url": "http://www.twitter.com/jj_botha"}},
		"job":            map[string]any{"shortcode": job.Shortcode, "title": job.Title},
	}
	got := out.CreateCandidate.Candidate
	if len(out.CreateCandidate.UserErrors) != 0 || got == nil {
		t.Fatalf("create failed: %+v", out.CreateCandidate)
	}
	id, _ := got["id"].(string)
	if id == "" {
		t.Fatalf("created candidate has no id: %v", got)
	}
	if diff := cmp.Diff(want, without(got, "id")); diff != "" {
		t.Errorf("created candidate mismatch (-want +got):\n%s", diff)
	}
	// One write, and the detail fields came from its answer, not another GET.
	if diff := cmp.Diff(map[string]int{routeCreate: 1}, env.sim.RequestCounts()); diff != "" {
		t.Errorf("Workable calls (-want +got):\n%s", diff)
	}
	// Exactly what Workable received.
	wantBody := map[string]any{
		"sourced": false,
		"candidate": map[string]any{
			"name": "Jj Botha", "firstname": "Jj", "lastname": "Botha", "email": "jj_botha@fakemail.com",
			"headline": "Professional Administration Manager", "summary": "A focussed team player.",
			"address": "25772 Gustave Shore, Iowa, USA", "phone": "1-859-557-6573", "cover_letter": "Lorem ipsum.",
			"education_entries": []any{map[string]any{"school": "University of Pennsylvania", "degree": "MBA",
				"field_of_study": "Business", "start_date": "2008-03-01", "end_date": "2011-03-30"}},
			"experience_entries": []any{map[string]any{"title": "Sales Director", "summary": "Sold.", "company": "Vox Mobile",
				"industry": "Telecommunications", "start_date": "2011-03-01", "end_date": "2014-03-30", "current": true}},
			"social_profiles": []any{map[string]any{"type": "twitter", "name": "Twitter", "username": "jj_botha",
				"url": "http://www.twitter.com/jj_botha"}},
			"tags": []any{"globetrotter", "sales"},
		},
	}
	if diff := cmp.Diff([]any{wantBody}, rec.take(t, http.MethodPost)); diff != "" {
		t.Errorf("POST body mismatch (-want +got):\n%s", diff)
	}

	// Read back in a new request: the same candidate.
	var read struct{ Candidate map[string]any }
	env.mustQuery(readCandidate, vars{"id": id}, &read)
	if diff := cmp.Diff(got, read.Candidate); diff != "" {
		t.Errorf("read back mismatch (-create +read):\n%s", diff)
	}
}

// without returns a copy of m without key.
func without(m map[string]any, key string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func TestCreateCandidateSourced(t *testing.T) {
	t.Parallel()
	env, rec := newRecordingEnv(t, withSimOptions(simulator.WithCandidates(20)))
	job := publishedJob(t, env.sim)
	tests := []struct {
		name        string
		sourced     any // nil: not in the input
		wantStage   string
		wantSourced bool
		wantBody    bool // whether the body has a "sourced" key
	}{
		{"absent: Workable's default", nil, "Sourced", true, false},
		{"true", true, "Sourced", true, true},
		{"false", false, "Applied", false, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := map[string]any{"jobShortcode": job.Shortcode, "firstName": "Ann", "lastName": "Lee",
				"email": "ann.lee" + string(rune('a'+i)) + "@example.com"}
			if tt.sourced != nil {
				in["sourced"] = tt.sourced
			}
			var out createOut
			env.mustQuery(createMutation, vars{"in": in}, &out)
			c := out.CreateCandidate.Candidate
			if c == nil {
				t.Fatalf("create failed: %+v", out.CreateCandidate.UserErrors)
			}
			if c["stage"] != tt.wantStage || c["sourced"] != tt.wantSourced {
				t.Errorf("stage, sourced = %v, %v; want %v, %v", c["stage"], c["sourced"], tt.wantStage, tt.wantSourced)
			}
			bodies := rec.take(t, http.MethodPost)
			if len(bodies) != 1 {
				t.Fatalf("got %d POSTs, want 1", len(bodies))
			}
			body := bodies[0].(map[string]any)
			if got, ok := body["sourced"]; ok != tt.wantBody || (ok && got != tt.sourced) {
				t.Errorf("body sourced = %v (present %v), want %v (present %v)", got, ok, tt.sourced, tt.wantBody)
			}
		})
	}
}

// userErrorCodes renders userErrors as "field.path CODE" strings.
func userErrorCodes(errs []model.UserError) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, strings.Join(e.Field, ".")+" "+e.Code)
		if e.Message == "" {
			out = append(out, "(no message)")
		}
	}
	return out
}

func TestCreateCandidateUserErrors(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withSimOptions(simulator.WithCandidates(20)))
	job := publishedJob(t, env.sim)
	existing := pickCandidate(t, env.sim, func(c workable.Candidate) bool { return c.Email != nil })

	type row struct {
		name      string
		in        model.CreateCandidateInput
		want      []string
		wantPOSTs int
	}
	var rows []row
	// Every validation rule of validate_test.go, end to end.
	for _, r := range createRules {
		in := validCreateInput()
		in.JobShortcode = job.Shortcode
		r.modify(&in)
		var roundTrip model.CreateCandidateInput
		b, _ := json.Marshal(in)
		if err := json.Unmarshal(b, &roundTrip); err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(in, roundTrip) {
			// JSON cannot carry this input (invalid UTF-8 becomes U+FFFD);
			// the unit test covers it.
			continue
		}
		want := []string{}
		for _, fc := range r.want {
			want = append(want, fc.Field+" "+fc.Code)
		}
		posts := 0
		if len(want) == 0 {
			posts = 1 // a row at a limit: valid, so it is created
		}
		rows = append(rows, row{"rule " + r.name, in, want, posts})
	}
	unknownJob := validCreateInput()
	unknownJob.JobShortcode = "NOSUCHJOB"
	duplicate := validCreateInput()
	duplicate.JobShortcode, duplicate.Email = existing.Job.Shortcode, " "+strings.ToUpper(*existing.Email)+" "
	several := validCreateInput()
	several.JobShortcode, several.LastName, several.Email, several.SocialProfiles[0].Type = job.Shortcode, "", "x", "nope"
	rows = append(rows,
		row{"unknown job", unknownJob, []string{"input.jobShortcode NOT_FOUND"}, 1},
		row{"duplicate email in the job", duplicate, []string{"input.email ALREADY_EXISTS"}, 1},
		row{"every problem at once", several,
			[]string{"input.lastName INVALID", "input.email INVALID", "input.socialProfiles.0.type INVALID"}, 0},
	)
	if len(rows) < len(createRules)+2 {
		t.Fatalf("only %d rows", len(rows))
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			env.sim.ResetCounts()
			var out createOut
			env.mustQuery(createMutation, vars{"in": inputVars(t, tt.in)}, &out)
			if diff := cmp.Diff(tt.want, userErrorCodes(out.CreateCandidate.UserErrors)); diff != "" {
				t.Errorf("userErrors mismatch (-want +got):\n%s", diff)
			}
			if gotCandidate := out.CreateCandidate.Candidate != nil; gotCandidate != (len(tt.want) == 0) {
				t.Errorf("candidate = %v with userErrors %v", out.CreateCandidate.Candidate, out.CreateCandidate.UserErrors)
			}
			if got := env.sim.RequestCount(routeCreate); got != tt.wantPOSTs {
				t.Errorf("%d POSTs to Workable, want %d", got, tt.wantPOSTs)
			}
		})
	}
}

func TestUpdateCandidateSendsOnlyPresentFields(t *testing.T) {
	t.Parallel()
	env, rec := newRecordingEnv(t, withSimOptions(simulator.WithCandidates(40)))
	cand := pickCandidate(t, env.sim, richCandidate)
	tests := []struct {
		name     string
		in       map[string]any       // without id
		wantBody map[string]any       // the "candidate" object Workable receives
		change   func(map[string]any) // what changes in the candidate's fields
	}{
		{
			name:     "one scalar; the rest untouched",
			in:       map[string]any{"headline": "  Staff Engineer "},
			wantBody: map[string]any{"headline": "Staff Engineer"},
			change:   func(c map[string]any) { c["headline"] = "Staff Engineer" },
		},
		{
			name:     "required scalars",
			in:       map[string]any{"firstName": "Ann", "lastName": "Lee", "email": "ann.lee@example.com"},
			wantBody: map[string]any{"firstname": "Ann", "lastname": "Lee", "email": "ann.lee@example.com"},
			change: func(c map[string]any) {
				c["firstName"], c["lastName"], c["email"], c["name"] = "Ann", "Lee", "ann.lee@example.com", "Ann Lee"
			},
		},
		{
			name: "arrays replace the stored lists",
			in: map[string]any{
				"educationEntries": []any{map[string]any{"school": "MIT", "degree": "BSc", "startDate": "2001-09-01", "endDate": "2005-06-30"}},
				"tags":             []any{"alpha", "beta"},
			},
			wantBody: map[string]any{
				"education_entries": []any{map[string]any{"school": "MIT", "degree": "BSc", "field_of_study": nil,
					"start_date": "2001-09-01", "end_date": "2005-06-30"}},
				"tags": []any{"alpha", "beta"},
			},
			change: func(c map[string]any) {
				c["educationEntries"] = []any{map[string]any{"school": "MIT", "degree": "BSc", "fieldOfStudy": nil,
					"startDate": "2001-09-01", "endDate": "2005-06-30"}}
				c["tags"] = []any{"alpha", "beta"}
			},
		},
		{
			name:     "explicit null clears optional scalars",
			in:       map[string]any{"headline": nil, "summary": nil, "address": nil, "phone": nil, "coverLetter": nil},
			wantBody: map[string]any{"headline": nil, "summary": nil, "address": nil, "phone": nil, "cover_letter": nil},
			change: func(c map[string]any) {
				for _, k := range []string{"headline", "summary", "address", "phone", "coverLetter"} {
					c[k] = nil
				}
			},
		},
		{
			name:     "[] clears lists",
			in:       map[string]any{"educationEntries": []any{}, "experienceEntries": []any{}, "socialProfiles": []any{}, "tags": []any{}},
			wantBody: map[string]any{"education_entries": []any{}, "experience_entries": []any{}, "social_profiles": []any{}, "tags": []any{}},
			change: func(c map[string]any) {
				for _, k := range []string{"educationEntries", "experienceEntries", "socialProfiles", "tags"} {
					c[k] = []any{}
				}
			},
		},
	}
	// The rows run in order on one candidate: each starts from the state the
	// previous one left, read back from Workable.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before struct{ Candidate map[string]any }
			env.mustQuery(readCandidate, vars{"id": cand.ID}, &before)
			want := without(before.Candidate, "")
			tt.change(want)
			rec.take(t, "")
			env.sim.ResetCounts()

			in := map[string]any{"id": cand.ID}
			for k, v := range tt.in {
				in[k] = v
			}
			var out updateOut
			env.mustQuery(updateMutation, vars{"in": in}, &out)
			if len(out.UpdateCandidate.UserErrors) > 0 {
				t.Fatalf("userErrors: %+v", out.UpdateCandidate.UserErrors)
			}
			if diff := cmp.Diff([]any{map[string]any{"candidate": tt.wantBody}}, rec.take(t, http.MethodPatch)); diff != "" {
				t.Errorf("PATCH body mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]int{routeUpdate: 1}, env.sim.RequestCounts()); diff != "" {
				t.Errorf("Workable calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, out.UpdateCandidate.Candidate); diff != "" {
				t.Errorf("payload candidate mismatch (-want +got):\n%s", diff)
			}
			var after struct{ Candidate map[string]any }
			env.mustQuery(readCandidate, vars{"id": cand.ID}, &after)
			if diff := cmp.Diff(want, after.Candidate); diff != "" {
				t.Errorf("read back mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateCandidateUserErrors(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withSimOptions(simulator.WithCandidates(40)))
	cands := env.sim.Candidates()
	// Two candidates of the same job, for a duplicate e-mail.
	var first, second workable.Candidate
	byJob := map[string]workable.Candidate{}
	for _, c := range cands {
		if prev, ok := byJob[c.Job.Shortcode]; ok && c.Email != nil && prev.Email != nil {
			first, second = prev, c
			break
		}
		byJob[c.Job.Shortcode] = c
	}
	if first.ID == "" {
		t.Fatal("no two candidates share a job")
	}
	tests := []struct {
		name        string
		in          map[string]any
		want        []string
		wantPATCHes int
	}{
		{"nothing to update", map[string]any{"id": first.ID}, []string{"input INVALID"}, 0},
		{"null first name", map[string]any{"id": first.ID, "firstName": nil}, []string{"input.firstName INVALID"}, 0},
		{"null last name", map[string]any{"id": first.ID, "lastName": nil}, []string{"input.lastName INVALID"}, 0},
		{"null email", map[string]any{"id": first.ID, "email": nil}, []string{"input.email INVALID"}, 0},
		{"blank first name", map[string]any{"id": first.ID, "firstName": "  "}, []string{"input.firstName INVALID"}, 0},
		{"invalid email", map[string]any{"id": first.ID, "email": "ann@@example.com"}, []string{"input.email INVALID"}, 0},
		{"blank id", map[string]any{"id": " ", "headline": "x"}, []string{"input.id INVALID"}, 0},
		{"entry rules", map[string]any{"id": first.ID,
			"experienceEntries": []any{map[string]any{"title": "CTO", "startDate": "2020-05-01", "endDate": "2019-01-01"}},
			"socialProfiles":    []any{map[string]any{"type": "linkedin", "url": "linkedin.com/in/x"}},
		}, []string{"input.experienceEntries.0.endDate INVALID", "input.socialProfiles.0.url INVALID"}, 0},
		{"unknown candidate", map[string]any{"id": "fffffff0", "headline": "x"}, []string{"input.id NOT_FOUND"}, 1},
		{"duplicate email in the job", map[string]any{"id": second.ID, "email": *first.Email},
			[]string{"input.email ALREADY_EXISTS"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env.sim.ResetCounts()
			var out updateOut
			env.mustQuery(updateMutation, vars{"in": tt.in}, &out)
			if diff := cmp.Diff(tt.want, userErrorCodes(out.UpdateCandidate.UserErrors)); diff != "" {
				t.Errorf("userErrors mismatch (-want +got):\n%s", diff)
			}
			if out.UpdateCandidate.Candidate != nil {
				t.Errorf("candidate = %v, want null", out.UpdateCandidate.Candidate)
			}
			if got := env.sim.RequestCount(routeUpdate); got != tt.wantPATCHes {
				t.Errorf("%d PATCHes to Workable, want %d", got, tt.wantPATCHes)
			}
		})
	}
	// The candidate that had a duplicate e-mail proposed is unchanged.
	if got, _ := env.sim.Candidate(second.ID); *got.Email != *second.Email {
		t.Errorf("email changed to %s", *got.Email)
	}
}

// TestWorkableValidationErrorsMapToInput covers 422s the gateway's own
// validation lets through: each Workable message becomes an INVALID
// userError on the input path of its field.
func TestWorkableValidationErrorsMapToInput(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withSimOptions(simulator.WithCandidates(20)))
	cand := pickCandidate(t, env.sim, func(workable.Candidate) bool { return true })
	job := publishedJob(t, env.sim)
	const body = `{"error":"Validation failed","validation_errors":{
		"education_entries[1].start_date":["is invalid"],"phone":["is too long","is invalid"],"resume":["is broken"]}}`
	want := []string{
		"input.educationEntries.1.startDate INVALID",
		"input.phone INVALID", "input.phone INVALID",
		"input INVALID",
	}
	t.Run("update", func(t *testing.T) {
		env.sim.InjectFault(routeUpdate, simulator.Fault{Status: http.StatusUnprocessableEntity, Body: body, Times: 1})
		var out updateOut
		env.mustQuery(updateMutation, vars{"in": map[string]any{"id": cand.ID, "phone": "123"}}, &out)
		if diff := cmp.Diff(want, userErrorCodes(out.UpdateCandidate.UserErrors)); diff != "" {
			t.Errorf("userErrors mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("create", func(t *testing.T) {
		env.sim.InjectFault(routeCreate, simulator.Fault{Status: http.StatusUnprocessableEntity, Body: body, Times: 1})
		var out createOut
		env.mustQuery(createMutation, vars{"in": map[string]any{"jobShortcode": job.Shortcode, "firstName": "A",
			"lastName": "B", "email": "a.b@example.com"}}, &out)
		if diff := cmp.Diff(want, userErrorCodes(out.CreateCandidate.UserErrors)); diff != "" {
			t.Errorf("userErrors mismatch (-want +got):\n%s", diff)
		}
		if msg := out.CreateCandidate.UserErrors[0].Message; !strings.Contains(msg, "is invalid") {
			t.Errorf("message %q does not carry Workable's", msg)
		}
	})
	t.Run("422 without validation_errors", func(t *testing.T) {
		env.sim.InjectFault(routeUpdate, simulator.Fault{Status: http.StatusUnprocessableEntity,
			Body: `{"error":"Candidate is locked"}`, Times: 1})
		var out updateOut
		env.mustQuery(updateMutation, vars{"in": map[string]any{"id": cand.ID, "phone": "123"}}, &out)
		errs := out.UpdateCandidate.UserErrors
		if diff := cmp.Diff([]string{"input INVALID"}, userErrorCodes(errs)); diff != "" {
			t.Fatalf("userErrors mismatch (-want +got):\n%s", diff)
		}
		if !strings.Contains(errs[0].Message, "Candidate is locked") {
			t.Errorf("message %q does not carry Workable's", errs[0].Message)
		}
	})
}

// loseResponses sends every request and then reports a broken connection
// for the writes, as if the response had been lost on the way back. (A
// simulator Fault with a Delay cannot model a hung write: the simulator does
// not read a POST's body before the delay, so it never notices the client
// hanging up and the test server cannot close.)
type loseResponses struct{}

func (loseResponses) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.Method == http.MethodGet {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return nil, errors.New("read: connection reset by peer")
}

func TestMutationUpstreamErrors(t *testing.T) {
	t.Parallel()
	createVars := func(job string) vars {
		return vars{"in": map[string]any{"jobShortcode": job, "firstName": "A", "lastName": "B", "email": "a.b@example.com"}}
	}
	tests := []struct {
		name        string
		opts        []envOption
		route       string
		fault       simulator.Fault
		update      bool
		wantCode    string
		wantMessage string
		wantCreated bool // the simulator has the candidate afterwards
	}{
		{"503 on create", nil, routeCreate, simulator.Fault{Status: http.StatusServiceUnavailable}, false,
			CodeUpstreamUnavailable, "may or may not have been created", false},
		{"500 on update", nil, routeUpdate, simulator.Fault{Status: http.StatusInternalServerError}, true,
			CodeUpstreamUnavailable, "may or may not have been updated", false},
		// The connection breaks after Workable received the create: the
		// candidate exists, but the gateway cannot know.
		{"connection lost after a create was sent", []envOption{withClientOptions(workable.WithHTTPClient(
			&http.Client{Transport: loseResponses{}}))}, routeCreate, simulator.Fault{}, false,
			CodeUpstreamUnavailable, "may or may not have been created", true},
		// A 429 means Workable applied nothing; with no retry budget left it
		// is RATE_LIMITED.
		{"429 on create", []envOption{withClientOptions(workable.WithRateLimitRetries(0))}, routeCreate,
			simulator.Fault{Status: http.StatusTooManyRequests}, false, CodeRateLimited, "", false},
		{"401 on create", []envOption{withToken("not-the-token")}, routeCreate, simulator.Fault{}, false,
			CodeWorkableAuthFailed, "", false},
		{"401 on update", []envOption{withToken("not-the-token")}, routeUpdate, simulator.Fault{}, true,
			CodeWorkableAuthFailed, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, append(tt.opts, withSimOptions(simulator.WithCandidates(20)))...)
			job := publishedJob(t, env.sim)
			cand := pickCandidate(t, env.sim, func(workable.Candidate) bool { return true })
			if tt.fault != (simulator.Fault{}) {
				env.sim.InjectFault(tt.route, tt.fault)
			}
			env.sim.ResetCounts()
			var resp gqlResponse
			if tt.update {
				resp = env.query(updateMutation, vars{"in": map[string]any{"id": cand.ID, "headline": "x"}})
			} else {
				resp = env.query(createMutation, createVars(job.Shortcode))
			}
			e := resp.requireCode(t, tt.wantCode)
			if !strings.Contains(e.Message, tt.wantMessage) {
				t.Errorf("message %q does not contain %q", e.Message, tt.wantMessage)
			}
			// A write is sent once: never retried blindly.
			if got := env.sim.RequestCount(tt.route); got != 1 {
				t.Errorf("%d requests to %s, want exactly 1", got, tt.route)
			}
			if got := env.sim.TotalRequests(); got != 1 {
				t.Errorf("%d requests to Workable, want 1: %v", got, env.sim.RequestCounts())
			}
			created := slices.ContainsFunc(env.sim.Candidates(), func(c workable.Candidate) bool {
				return c.Email != nil && *c.Email == "a.b@example.com"
			})
			if created != tt.wantCreated {
				t.Errorf("candidate a.b@example.com created = %v, want %v", created, tt.wantCreated)
			}
		})
	}
}
