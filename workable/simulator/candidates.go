package simulator

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// listCandidates serves GET /candidates (API.md §3): shortcode, stage (a
// stage slug), email, created_after, updated_after, limit, since_id, max_id.
// With shortcode, paging.next goes through the older per-job path,
// /jobs/:shortcode/candidates, as a live account's does (API.md §10).
func (s *Simulator) listCandidates(w http.ResponseWriter, r *http.Request, _ map[string]string) {
	s.serveCandidateList(w, r, r.URL.Query().Get("shortcode"), false)
}

// listJobCandidates serves GET /jobs/:shortcode/candidates: GET /candidates
// restricted to the job (API.md §3, §10); an unknown job is 404.
func (s *Simulator) listJobCandidates(w http.ResponseWriter, r *http.Request, p map[string]string) {
	s.serveCandidateList(w, r, p["shortcode"], true)
}

func (s *Simulator) serveCandidateList(w http.ResponseWriter, r *http.Request, shortcode string, jobMustExist bool) {
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
	stage, email := q.Get("stage"), q.Get("email")

	s.mu.Lock()
	if jobMustExist && s.jobByShortcode(shortcode) == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	if stage != "" && s.stageBySlug(stage) == nil {
		s.mu.Unlock()
		// simulator guess: an unknown stage slug is rejected (it catches a
		// stage name sent where the slug belongs) rather than matching nothing.
		writeParamError(w, &paramError{"stage", "is not a valid stage slug"})
		return
	}
	var matched []*candidateRec
	for _, c := range s.candidates {
		switch {
		case shortcode != "" && c.job.shortcode != shortcode,
			stage != "" && c.stage.slug != stage,
			email != "" && (c.email == nil || !strings.EqualFold(*c.email, email)),
			!tf.keep(c.createdAt, c.updatedAt):
			continue
		}
		matched = append(matched, c)
	}
	page, next, more := paginate(matched, func(c *candidateRec) uint64 { return c.id }, lp)
	out := make([]candidateListJSON, 0, len(page))
	for _, c := range page {
		out = append(out, s.candidateListJSON(c))
	}
	s.mu.Unlock()
	if shortcode != "" && !jobMustExist {
		path := pathPrefix + "jobs/" + url.PathEscape(shortcode) + "/candidates"
		writeListNext(w, "candidates", out, more, func() string {
			return nextURLAt(r, path, []string{"shortcode"}, lp.limit, next)
		})
		return
	}
	writeList(w, r, "candidates", out, lp, next, more)
}

// getCandidate serves GET /candidates/:id: {"candidate": detail} (API.md §3).
func (s *Simulator) getCandidate(w http.ResponseWriter, _ *http.Request, p map[string]string) {
	s.mu.Lock()
	c := s.candidateByID(p["id"])
	if c == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	out := s.candidateDetailJSON(c)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"candidate": out})
}

// listActivities serves GET /candidates/:id/activities (API.md §6, in the
// live semantics of §10): limit, since_id, max_id and actions
// (comma-separated action names).
func (s *Simulator) listActivities(w http.ResponseWriter, r *http.Request, p map[string]string) {
	q := r.URL.Query()
	lp, err := parseListParams(q)
	if err != nil {
		writeParamError(w, err)
		return
	}
	var actions []string
	if v := q.Get("actions"); v != "" {
		actions = strings.Split(v, ",")
	}

	s.mu.Lock()
	c := s.candidateByID(p["id"])
	if c == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	var matched []*activityRec
	for _, a := range c.activities {
		if actions == nil || containsFold(actions, a.action) {
			matched = append(matched, a)
		}
	}
	page, next, more := paginate(matched, func(a *activityRec) uint64 { return a.id }, lp)
	out := make([]activityJSON, 0, len(page))
	for _, a := range page {
		out = append(out, a.toJSON())
	}
	s.mu.Unlock()
	writeList(w, r, "activities", out, lp, next, more)
}

// listJobActivities serves GET /jobs/:shortcode/activities (API.md §6,
// §10): the job's own activity ("opened") and every activity of its
// candidates, in id order, each with the candidate it is about and
// stage_name null; limit, since_id, max_id and actions as for a candidate.
// An unknown job is 404.
func (s *Simulator) listJobActivities(w http.ResponseWriter, r *http.Request, p map[string]string) {
	q := r.URL.Query()
	lp, err := parseListParams(q)
	if err != nil {
		writeParamError(w, err)
		return
	}
	var actions []string
	if v := q.Get("actions"); v != "" {
		actions = strings.Split(v, ",")
	}
	s.mu.Lock()
	j := s.jobByShortcode(p["shortcode"])
	if j == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	var matched []jobAct
	for _, ja := range s.jobActivities(j) {
		if actions == nil || containsFold(actions, ja.a.action) {
			matched = append(matched, ja)
		}
	}
	page, next, more := paginate(matched, func(ja jobAct) uint64 { return ja.a.id }, lp)
	out := make([]activityJSON, 0, len(page))
	for _, ja := range page {
		out = append(out, ja.a.jobActivityJSON(ja.c))
	}
	s.mu.Unlock()
	writeList(w, r, "activities", out, lp, next, more)
}

// jobAct is one of a job's activities and the candidate it is about (nil
// for the job's own).
type jobAct struct {
	a *activityRec
	c *candidateRec
}

// jobActivities returns j's activities in id order. The caller holds s.mu.
func (s *Simulator) jobActivities(j *jobRec) []jobAct {
	var all []jobAct
	if j.opened != nil {
		all = append(all, jobAct{a: j.opened})
	}
	for _, c := range s.candidates {
		if c.job != j {
			continue
		}
		for _, a := range c.activities {
			all = append(all, jobAct{a: a, c: c})
		}
	}
	sort.Slice(all, func(x, y int) bool { return all[x].a.id < all[y].a.id })
	return all
}

// candidateByID finds a candidate by its exact id. The caller holds s.mu.
func (s *Simulator) candidateByID(id string) *candidateRec {
	n, ok := parseHexID(id)
	if !ok || hexID(n) != id {
		return nil
	}
	i := sort.Search(len(s.candidates), func(i int) bool { return s.candidates[i].id >= n })
	if i < len(s.candidates) && s.candidates[i].id == n {
		return s.candidates[i]
	}
	return nil
}

// stageBySlug finds a stage. The caller holds s.mu.
func (s *Simulator) stageBySlug(slug string) *stageRec {
	for i := range s.stages {
		if s.stages[i].slug == slug {
			return &s.stages[i]
		}
	}
	return nil
}
