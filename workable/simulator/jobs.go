package simulator

import (
	"net/http"
	"sort"
	"strings"
)

// jobStates are the values of a job's state and of GET /jobs?state=.
func jobStates() []string { return []string{"draft", "published", "archived", "closed"} }

// listJobs serves GET /jobs (API.md §2): state, created_after, updated_after,
// include_fields, limit, since_id, max_id.
func (s *Simulator) listJobs(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	q := r.URL.Query()
	lp, err := parseListParams(q)
	if err != nil {
		writeParamError(w, err)
		return
	}
	tf, err := parseTimeFilter(q)
	if err != nil {
		writeParamError(w, err)
		return
	}
	state := q.Get("state")
	if state != "" && !containsFold(jobStates(), state) {
		// simulator guess: an unknown state is rejected rather than ignored.
		writeParamError(w, &paramError{"state", "must be one of draft, published, archived, closed"})
		return
	}
	// include_fields is a comma-separated list (API.md §2 [I]); unknown
	// names are ignored (simulator guess).
	var f jobFields
	for _, name := range strings.Split(q.Get("include_fields"), ",") {
		switch strings.TrimSpace(name) {
		case "description":
			f.description = true
		case "full_description":
			f.fullDescription = true
		case "requirements":
			f.requirements = true
		case "benefits":
			f.benefits = true
		}
	}

	s.mu.Lock()
	var matched []*jobRec
	for _, j := range s.jobs {
		if state != "" && !strings.EqualFold(j.state, state) {
			continue
		}
		if !tf.keep(j.createdAt, j.updatedAt) {
			continue
		}
		matched = append(matched, j)
	}
	page, next, more := paginate(matched, func(j *jobRec) uint64 { return j.id }, lp)
	out := make([]jobJSON, 0, len(page))
	for _, j := range page {
		out = append(out, s.jobJSON(j, f))
	}
	s.mu.Unlock()
	writeList(w, r, "jobs", out, lp, next, more)
}

// getJob serves GET /jobs/:shortcode: the job, unwrapped, with its detail
// fields (API.md §3).
func (s *Simulator) getJob(w http.ResponseWriter, _ *http.Request, p map[string]string) {
	s.mu.Lock()
	j := s.jobByShortcode(p["shortcode"])
	if j == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	out := s.jobJSON(j, jobDetail())
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// jobByShortcode finds a job; shortcodes match exactly (simulator guess:
// Workable's case sensitivity is not documented). The caller holds s.mu.
func (s *Simulator) jobByShortcode(shortcode string) *jobRec {
	for _, j := range s.jobs {
		if j.shortcode == shortcode {
			return j
		}
	}
	return nil
}

// listStages serves GET /stages (API.md §9, in the live shape of §10).
func (s *Simulator) listStages(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
	s.mu.Lock()
	out := make([]stageJSON, 0, len(s.stages))
	for i := range s.stages {
		out = append(out, s.stages[i].toJSON())
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"stages": out})
}

// listJobStages serves GET /jobs/:shortcode/stages (API.md §9); an unknown
// job is 404.
//
// simulator guess: every job uses the account's pipeline.
func (s *Simulator) listJobStages(w http.ResponseWriter, r *http.Request, p map[string]string) {
	s.mu.Lock()
	found := s.jobByShortcode(p["shortcode"]) != nil
	s.mu.Unlock()
	if !found {
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	s.listStages(w, r, p)
}

// listDepartments serves GET /departments: a bare JSON array, as a live
// account answers (API.md §10), of every department the jobs use.
//
// simulator guess: the items are {id, name}, as in department_hierarchy.
func (s *Simulator) listDepartments(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
	s.mu.Lock()
	seen := map[int64]bool{}
	out := []departmentJSON{}
	for _, j := range s.jobs {
		for _, d := range j.departments {
			if !seen[d.ID] {
				seen[d.ID] = true
				out = append(out, d)
			}
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	writeJSON(w, http.StatusOK, out)
}

// disqualificationReasonJSON is one item of GET /disqualification_reasons
// (API.md §9).
type disqualificationReasonJSON struct {
	ID                string `json:"id"`
	Description       string `json:"description"`
	CandidateWithdrew bool   `json:"candidate_withdrew"`
	Position          int    `json:"position"`
}

// listDisqualificationReasons serves GET /disqualification_reasons: a bare
// JSON array (API.md §10) of the reasons the seeded candidates carry.
//
// simulator guess: ids are hex like every other id.
func (s *Simulator) listDisqualificationReasons(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
	writeJSON(w, http.StatusOK, disqualificationReasonRecs())
}

// disqualificationReasonRecs are the account's disqualification reasons,
// in position order.
func disqualificationReasonRecs() []disqualificationReasonJSON {
	out := []disqualificationReasonJSON{}
	for i, r := range disqualificationReasons() {
		out = append(out, disqualificationReasonJSON{ID: hexID(0x7f21a0 + uint64(i)), Description: r,
			CandidateWithdrew: r == withdrewReason, Position: i + 1})
	}
	return out
}

// listMembers serves GET /members (API.md §9, §10): limit, since_id, max_id,
// the exact-match filters role, email and name, and status: active (the
// default), inactive or all.
func (s *Simulator) listMembers(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	q := r.URL.Query()
	lp, err := parseListParams(q)
	if err != nil {
		writeParamError(w, err)
		return
	}
	role, email, name, status := q.Get("role"), q.Get("email"), q.Get("name"), q.Get("status")
	if status == "" {
		status = "active"
	}
	if status != "active" && status != "inactive" && status != "all" {
		// simulator guess: an unknown status is rejected rather than ignored.
		writeParamError(w, &paramError{"status", "must be one of active, inactive, all"})
		return
	}

	s.mu.Lock()
	var matched []memberRec
	for _, m := range s.members {
		if (role != "" && m.role != role) || (email != "" && !strings.EqualFold(m.email, email)) ||
			(name != "" && m.name != name) || (status == "active" && !m.active) || (status == "inactive" && m.active) {
			continue
		}
		matched = append(matched, m)
	}
	s.mu.Unlock()
	page, next, more := paginate(matched, func(m memberRec) uint64 { return m.id }, lp)
	out := make([]memberJSON, 0, len(page))
	for _, m := range page {
		out = append(out, m.toJSON())
	}
	writeList(w, r, "members", out, lp, next, more)
}

// listAccounts serves GET /accounts (API.md §9): the one account the token
// belongs to.
func (s *Simulator) listAccounts(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
	s.mu.Lock()
	a := s.accountJSON()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"accounts": []accountJSON{a}})
}

// getAccount serves GET /accounts/:subdomain: the account object, unwrapped
// (API.md §9); another subdomain is 404.
func (s *Simulator) getAccount(w http.ResponseWriter, _ *http.Request, p map[string]string) {
	s.mu.Lock()
	a := s.accountJSON()
	s.mu.Unlock()
	if p["subdomain"] != a.Subdomain {
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	writeJSON(w, http.StatusOK, a)
}
