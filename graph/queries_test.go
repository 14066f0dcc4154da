package graph

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/workable"
)

// The GraphQL selections of every field of Job and Candidate.
const (
	locationFields    = `{ locationStr country countryCode region regionCode city zipCode telecommuting workplaceType }`
	jobLocationFields = `{ country countryCode region stateCode city zipCode coordinates { latitude longitude } hidden }`
	jobListFields     = `id shortcode title fullTitle code state department url applicationUrl shortlink
		location ` + locationFields + ` createdAt updatedAt confidential departmentHierarchy { id name }
		workplaceType salary { from to currency } keywords locations(includeHidden: true) ` + jobLocationFields
	jobDetailFields = `description fullDescription requirements benefits employmentType industry function
		experience education`
	candidateListFields = `id name firstName lastName email headline stage disqualified sourced profileUrl
		phone address createdAt updatedAt stageKind domain disqualificationReason hiredAt
		outlet commonSource commonSourceCategory anonymized movedToOfferAt`
	// candidateLiveFields are the candidate fields that need the pipeline
	// (stageSlug), the detail (withdrew) or the list item (resumeMetadata).
	candidateLiveFields   = `stageSlug withdrew resumeMetadata { filename fileType createdAt updatedAt }`
	candidateDetailFields = `summary coverLetter tags
		educationEntries { school degree fieldOfStudy startDate endDate }
		experienceEntries { title summary company industry startDate endDate current }
		socialProfiles { type name username url }
		skills imageUrl resumeUrl disqualifiedAt location ` + locationFields
)

// asJSON round-trips v through JSON so it compares with decoded responses.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// rfc3339 is a DateTime as the gateway writes it (milliseconds kept).
func rfc3339(t time.Time) string { return model.FormatDateTime(t) }

func optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return rfc3339(*t)
}

func wantLocation(l *workable.Location) any {
	if l == nil {
		return nil
	}
	return map[string]any{
		"locationStr": l.LocationStr, "country": l.Country, "countryCode": l.CountryCode,
		"region": l.Region, "regionCode": l.RegionCode, "city": l.City, "zipCode": l.ZipCode,
		"telecommuting": l.Telecommuting, "workplaceType": l.WorkplaceType,
	}
}

// wantJobLocation is the expected answer for jobLocationFields.
func wantJobLocation(l workable.JobLocation) any {
	var coords any
	if lat, lng, ok := l.Coordinates(); ok {
		coords = map[string]any{"latitude": lat, "longitude": lng}
	}
	return map[string]any{
		"country": l.CountryName, "countryCode": l.CountryCode, "region": l.Subregion, "stateCode": l.StateCode,
		"city": l.City, "zipCode": l.ZipCode, "coordinates": coords, "hidden": l.Hidden,
	}
}

// wantJobList is the expected answer for jobListFields.
func wantJobList(j workable.Job) map[string]any {
	deps := []any{}
	for _, d := range j.DepartmentHierarchy {
		deps = append(deps, map[string]any{"id": strconv.FormatInt(d.ID, 10), "name": d.Name})
	}
	locs := []any{}
	for _, l := range j.Locations {
		locs = append(locs, wantJobLocation(l))
	}
	var salary any
	if j.Salary != nil {
		salary = map[string]any{"from": j.Salary.From, "to": j.Salary.To, "currency": j.Salary.Currency}
	}
	keywords := append([]string{}, j.Keywords...)
	return map[string]any{
		"id": j.ID, "shortcode": j.Shortcode, "title": j.Title, "fullTitle": j.FullTitle, "code": j.Code,
		"state": strings.ToUpper(j.State), "department": j.Department, "url": j.URL,
		"applicationUrl": j.ApplicationURL, "shortlink": j.Shortlink, "location": wantLocation(j.Location),
		"createdAt": rfc3339(j.CreatedAt), "updatedAt": optTime(j.UpdatedAt), "confidential": j.Confidential,
		"departmentHierarchy": deps, "workplaceType": j.WorkplaceType, "salary": salary, "keywords": keywords,
		"locations": locs,
	}
}

// wantJobDetail is the expected answer for jobDetailFields.
func wantJobDetail(j workable.Job) map[string]any {
	return map[string]any{
		"description": j.Description, "fullDescription": j.FullDescription, "requirements": j.Requirements,
		"benefits": j.Benefits, "employmentType": j.EmploymentType, "industry": j.Industry,
		"function": j.Function, "experience": j.Experience, "education": j.Education,
	}
}

// wantCandidateList is the expected answer for candidateListFields.
func wantCandidateList(c workable.Candidate) map[string]any {
	return map[string]any{
		"id": c.ID, "name": c.Name, "firstName": c.Firstname, "lastName": c.Lastname, "email": c.Email,
		"headline": c.Headline, "stage": c.Stage, "disqualified": c.Disqualified, "sourced": c.Sourced,
		"profileUrl": c.ProfileURL, "phone": c.Phone, "address": c.Address, "createdAt": rfc3339(c.CreatedAt),
		"updatedAt": optTime(c.UpdatedAt), "stageKind": c.StageKind, "domain": c.Domain,
		"disqualificationReason": c.DisqualificationReason, "hiredAt": c.HiredAt,
		"outlet": c.Outlet, "commonSource": c.CommonSource, "commonSourceCategory": c.CommonSourceCategory,
		"anonymized": c.Anonymized, "movedToOfferAt": optTime(c.MovedToOfferAt),
	}
}

// wantCandidateLive is the expected answer for candidateLiveFields: c is
// the candidate's detail (withdrew), listed its list item
// (resume_metadata), and the slug comes from the simulator's pipeline.
func wantCandidateLive(env *testEnv, c, listed workable.Candidate) map[string]any {
	var slug any
	for _, st := range env.sim.Stages() {
		if st.Name == *c.Stage {
			slug = st.Slug
		}
	}
	var resume any
	if rm := listed.ResumeMetadata.Value; rm != nil {
		resume = map[string]any{"filename": rm.Filename, "fileType": rm.Filetype,
			"createdAt": optTime(rm.CreatedAt), "updatedAt": optTime(rm.UpdatedAt)}
	}
	return map[string]any{"stageSlug": slug, "withdrew": c.Withdrew, "resumeMetadata": resume}
}

// listItem returns the candidate's list item, straight from the simulator.
func listItem(t *testing.T, env *testEnv, id string) workable.Candidate {
	t.Helper()
	cands, _, err := env.client.Candidates.List(context.Background(), &workable.CandidateListOptions{ListOptions: workable.ListOptions{SinceID: id, Limit: 1}})
	if err != nil || len(cands) != 1 || cands[0].ID != id {
		t.Fatalf("list item of %s: %v, %v", id, cands, err)
	}
	if !cands[0].ResumeMetadata.Set {
		t.Fatalf("list item of %s lacks resume_metadata", id)
	}
	return *cands[0]
}

// wantCandidateDetail is the expected answer for candidateDetailFields.
func wantCandidateDetail(c workable.Candidate) map[string]any {
	edu, exp, soc, skills := []any{}, []any{}, []any{}, []any{}
	for _, e := range c.EducationEntries {
		edu = append(edu, map[string]any{"school": e.School, "degree": e.Degree, "fieldOfStudy": e.FieldOfStudy,
			"startDate": e.StartDate, "endDate": e.EndDate})
	}
	for _, e := range c.ExperienceEntries {
		exp = append(exp, map[string]any{"title": e.Title, "summary": e.Summary, "company": e.Company,
			"industry": e.Industry, "startDate": e.StartDate, "endDate": e.EndDate, "current": e.Current})
	}
	for _, s := range c.SocialProfiles {
		soc = append(soc, map[string]any{"type": s.Type, "name": s.Name, "username": s.Username, "url": s.URL})
	}
	for _, s := range c.Skills {
		skills = append(skills, s.Name)
	}
	tags := []string{}
	tags = append(tags, c.Tags...)
	return map[string]any{
		"summary": c.Summary, "coverLetter": c.CoverLetter, "tags": tags, "educationEntries": edu,
		"experienceEntries": exp, "socialProfiles": soc, "skills": skills, "imageUrl": c.ImageURL,
		"resumeUrl": c.ResumeURL, "disqualifiedAt": optTime(c.DisqualifiedAt), "location": wantLocation(c.Location),
	}
}

func merge(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestJobLookupEveryField(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	for _, j := range env.sim.Jobs() {
		t.Run(j.Shortcode, func(t *testing.T) {
			detail, ok := env.sim.Job(j.Shortcode)
			if !ok {
				t.Fatalf("simulator has no job %s", j.Shortcode)
			}
			var out struct{ Job any }
			env.mustQuery(`query($sc: String!) { job(shortcode: $sc) { `+jobListFields+` `+jobDetailFields+` } }`,
				vars{"sc": j.Shortcode}, &out)
			want := asJSON(t, merge(wantJobList(detail), wantJobDetail(detail)))
			if diff := cmp.Diff(want, out.Job); diff != "" {
				t.Errorf("job(shortcode: %q) mismatch (-want +got):\n%s", j.Shortcode, diff)
			}
		})
	}
}

func TestCandidateLookupEveryField(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	cands := env.sim.Candidates()
	// A spread of candidates: first, last and some in between.
	for _, i := range []int{0, 1, 7, 42, 150, len(cands) - 1} {
		c, ok := env.sim.Candidate(cands[i].ID)
		if !ok {
			t.Fatalf("simulator has no candidate %s", cands[i].ID)
		}
		t.Run(c.ID, func(t *testing.T) {
			var out struct{ Candidate any }
			env.mustQuery(`query($id: ID!) { candidate(id: $id) { `+candidateListFields+` `+candidateDetailFields+`
				`+candidateLiveFields+` job { shortcode title } } }`, vars{"id": c.ID}, &out)
			want := merge(wantCandidateList(c), wantCandidateDetail(c), wantCandidateLive(env, c, listItem(t, env, c.ID)))
			want["job"] = map[string]any{"shortcode": c.Job.Shortcode, "title": c.Job.Title}
			if diff := cmp.Diff(asJSON(t, want), out.Candidate); diff != "" {
				t.Errorf("candidate(id: %q) mismatch (-want +got):\n%s", c.ID, diff)
			}
		})
	}
}

func TestCandidateJobEveryField(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	c := env.sim.Candidates()[3]
	job, _ := env.sim.Job(c.Job.Shortcode)
	var out struct{ Candidate struct{ Job any } }
	env.mustQuery(`query($id: ID!) { candidate(id: $id) { job { `+jobListFields+` `+jobDetailFields+` } } }`,
		vars{"id": c.ID}, &out)
	if diff := cmp.Diff(asJSON(t, merge(wantJobList(job), wantJobDetail(job))), out.Candidate.Job); diff != "" {
		t.Errorf("candidate.job mismatch (-want +got):\n%s", diff)
	}
}

func TestLookupsReturnNull(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	tests := []struct {
		name, query string
	}{
		{"job", `{ job(shortcode: "NOPE999") { id title } }`},
		{"candidate", `{ candidate(id: "fffffff0") { id name summary } }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := env.query(tt.query, nil)
			if len(resp.Errors) > 0 {
				t.Fatalf("want no errors, got %s", resp.Raw)
			}
			if diff := cmp.Diff(`{"`+tt.name+`":null}`, string(resp.Data)); diff != "" {
				t.Errorf("data mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestActivityEveryField(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	stages := map[string]map[string]any{}
	for _, st := range env.sim.Stages() {
		stages[st.Slug] = map[string]any{"id": string(st.ID), "slug": st.Slug, "name": st.Name, "kind": st.Kind}
	}
	// The kinds of the seeded actions; a move's action is its target's slug.
	kinds := map[string]string{"applied": "APPLIED", "sourced": "SOURCED", "event": "EVENT", "comment": "COMMENT",
		"rating": "RATING", "disqualified": "DISQUALIFIED"}
	for _, c := range env.sim.Candidates()[:25] {
		acts := env.sim.Activities(c.ID)
		want := []any{}
		for _, a := range acts {
			var member, rating, from, to, reason any
			if a.Member != nil {
				member = map[string]any{"id": a.Member.ID, "name": a.Member.Name}
			}
			var score *string
			if a.Rating != nil {
				score = &a.Rating.Score
				rating = map[string]any{"score": a.Rating.Score, "scale": a.Rating.Scale, "grade": a.Rating.Grade}
			}
			kind := kinds[a.Action]
			if a.TargetStage != nil {
				kind, from, to = "STAGE_MOVE", stages[a.ActionStage.Slug], stages[a.TargetStage.Slug]
			}
			if kind == "DISQUALIFIED" {
				reason = a.Body
			}
			want = append(want, map[string]any{"id": a.ID, "action": a.Action, "stageName": a.StageName,
				"body": a.Body, "createdAt": rfc3339(a.CreatedAt), "member": member, "ratingScore": score,
				"kind": kind, "fromStage": from, "toStage": to, "stage": stages[a.ActionStage.Slug],
				"rating": rating, "disqualificationReason": reason, "candidate": nil})
		}
		var out struct {
			Candidate struct{ Activities struct{ Nodes any } }
		}
		env.mustQuery(`query($id: ID!) { candidate(id: $id) { activities(first: 100) { nodes {
			id action stageName body createdAt member { id name } ratingScore kind
			fromStage { id slug name kind } toStage { id slug name kind } stage { id slug name kind }
			rating { score scale grade } disqualificationReason candidate { id }
		} } } }`, vars{"id": c.ID}, &out)
		if diff := cmp.Diff(asJSON(t, want), out.Candidate.Activities.Nodes); diff != "" {
			t.Errorf("activities of %s mismatch (-want +got):\n%s", c.ID, diff)
		}
	}
}

func TestStagesMembersAccount(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	var out struct {
		Stages, Members, Account any
	}
	env.mustQuery(`{ stages { id slug name kind position } members { id name headline email role active roles }
		account { id name subdomain description summary websiteUrl } }`, nil, &out)
	var stages, members []any
	for _, s := range env.sim.Stages() {
		stages = append(stages, map[string]any{"id": string(s.ID), "slug": s.Slug, "name": s.Name, "kind": s.Kind, "position": s.Position})
	}
	for _, m := range env.sim.Members() {
		if !*m.Active {
			continue // Workable lists active members unless asked (status)
		}
		members = append(members, map[string]any{"id": m.ID, "name": m.Name, "headline": m.Headline,
			"email": m.Email, "role": m.Role, "active": m.Active, "roles": m.Roles})
	}
	a := env.sim.Account()
	want := map[string]any{"stages": stages, "members": members, "account": map[string]any{
		"id": a.ID, "name": a.Name, "subdomain": a.Subdomain, "description": a.Description,
		"summary": a.Summary, "websiteUrl": a.WebsiteURL}}
	got := map[string]any{"stages": out.Stages, "members": out.Members, "account": out.Account}
	if diff := cmp.Diff(asJSON(t, want), got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestGETTransport(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	resp := env.get(`{ job(shortcode: "GROOV002") { shortcode title } }`)
	if len(resp.Errors) > 0 || resp.Status != 200 {
		t.Fatalf("GET /query: status %d, %s", resp.Status, resp.Raw)
	}
	if diff := cmp.Diff(`{"job":{"shortcode":"GROOV002","title":"Senior Backend Engineer"}}`, string(resp.Data)); diff != "" {
		t.Errorf("data mismatch (-want +got):\n%s", diff)
	}
	// Introspection is on (Playground needs it).
	resp = env.query(`{ __type(name: "JobState") { enumValues { name } } }`, nil)
	if diff := cmp.Diff(`{"__type":{"enumValues":[{"name":"DRAFT"},{"name":"PUBLISHED"},{"name":"ARCHIVED"},{"name":"CLOSED"}]}}`, string(resp.Data)); diff != "" {
		t.Errorf("introspection mismatch (-want +got):\n%s", diff)
	}
}
