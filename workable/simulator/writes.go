package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/workablegw/gateway/workable"
)

// Validation messages. simulator guess: Workable's exact texts are not
// documented (API.md §4); these follow Rails' wording.
const (
	msgValidation = "Validation failed"
	msgBlank      = "can't be blank"
	msgExists     = "candidate already exists"
	msgMalformed  = "Malformed JSON body"
)

type educationInput struct {
	ID           *string `json:"id"`
	School       *string `json:"school"`
	Degree       *string `json:"degree"`
	FieldOfStudy *string `json:"field_of_study"`
	StartDate    *string `json:"start_date"`
	EndDate      *string `json:"end_date"`
}

type experienceInput struct {
	ID        *string `json:"id"`
	Title     *string `json:"title"`
	Summary   *string `json:"summary"`
	Company   *string `json:"company"`
	Industry  *string `json:"industry"`
	StartDate *string `json:"start_date"`
	EndDate   *string `json:"end_date"`
	Current   *bool   `json:"current"`
}

type socialInput struct {
	Type     *string `json:"type"`
	Name     *string `json:"name"`
	Username *string `json:"username"`
	URL      *string `json:"url"`
}

type answerInput struct {
	QuestionKey *string         `json:"question_key"`
	Body        *string         `json:"body"`
	Checked     *bool           `json:"checked"`
	Choices     []string        `json:"choices"`
	Date        *string         `json:"date"`
	Value       json.RawMessage `json:"value"`
	Number      json.RawMessage `json:"number"`
	FileURL     *string         `json:"file_url"`
}

type fileInput struct {
	Name string `json:"name"`
	Data string `json:"data"`
}

// candidateInput is the candidate object of POST /jobs/:shortcode/candidates
// (API.md §4).
type candidateInput struct {
	Name                   string            `json:"name"`
	Firstname              string            `json:"firstname"`
	Lastname               string            `json:"lastname"`
	Email                  string            `json:"email"`
	Headline               *string           `json:"headline"`
	Summary                *string           `json:"summary"`
	Address                *string           `json:"address"`
	Phone                  *string           `json:"phone"`
	CoverLetter            *string           `json:"cover_letter"`
	Domain                 *string           `json:"domain"`
	RecruiterKey           *string           `json:"recruiter_key"`
	ResumeURL              *string           `json:"resume_url"`
	Resume                 *fileInput        `json:"resume"`
	EducationEntries       []educationInput  `json:"education_entries"`
	ExperienceEntries      []experienceInput `json:"experience_entries"`
	Answers                []answerInput     `json:"answers"`
	Skills                 []string          `json:"skills"`
	Tags                   []string          `json:"tags"`
	SocialProfiles         []socialInput     `json:"social_profiles"`
	Disqualified           bool              `json:"disqualified"`
	DisqualificationReason *string           `json:"disqualification_reason"`
	DisqualifiedAt         *string           `json:"disqualified_at"`
}

func blank(p *string) bool { return p == nil || strings.TrimSpace(*p) == "" }

// cleaned trims a string and turns "" into nil (Workable returns empty
// strings as null).
func cleaned(p *string) *string {
	if p == nil {
		return nil
	}
	return nullable(strings.TrimSpace(*p))
}

// validateEntries checks the array parts shared by create and update:
// education needs school, experience needs title, a social profile needs a
// documented type and a url, an answer needs question_key (API.md §4).
//
// simulator guess: errors are keyed "<array>[<index>].<field>".
func validateEntries(errs map[string][]string, edu []educationInput, exp []experienceInput, soc []socialInput, ans []answerInput) {
	add := func(key, msg string) { errs[key] = append(errs[key], msg) }
	for i, e := range edu {
		if blank(e.School) {
			add(fmt.Sprintf("education_entries[%d].school", i), msgBlank)
		}
	}
	for i, e := range exp {
		if blank(e.Title) {
			add(fmt.Sprintf("experience_entries[%d].title", i), msgBlank)
		}
	}
	for i, p := range soc {
		switch {
		case blank(p.Type):
			add(fmt.Sprintf("social_profiles[%d].type", i), msgBlank)
		case !workable.IsSocialProfileType(*p.Type):
			add(fmt.Sprintf("social_profiles[%d].type", i), "is not included in the list")
		}
		if blank(p.URL) {
			add(fmt.Sprintf("social_profiles[%d].url", i), msgBlank)
		}
	}
	for i, a := range ans {
		if blank(a.QuestionKey) {
			add(fmt.Sprintf("answers[%d].question_key", i), msgBlank)
		}
	}
}

// validEmail is a minimal check. simulator guess: Workable's email rules are
// not documented.
func validEmail(e string) bool {
	at := strings.Index(e, "@")
	return at > 0 && at < len(e)-1 && !strings.ContainsAny(e, " \t\n")
}

// educationRecs turns input entries into stored ones. An entry whose id
// names one of old keeps that id; every other entry gets a new id.
func (s *Simulator) educationRecs(in []educationInput, old []educationRec) []educationRec {
	out := make([]educationRec, 0, len(in))
	for _, e := range in {
		out = append(out, educationRec{
			ID: s.keepEntryID(e.ID, func(id string) bool {
				return slices.ContainsFunc(old, func(o educationRec) bool { return o.ID == id })
			}),
			School: strings.TrimSpace(*e.School), Degree: cleaned(e.Degree), FieldOfStudy: cleaned(e.FieldOfStudy),
			StartDate: cleaned(e.StartDate), EndDate: cleaned(e.EndDate),
		})
	}
	return out
}

func (s *Simulator) experienceRecs(in []experienceInput, old []experienceRec) []experienceRec {
	out := make([]experienceRec, 0, len(in))
	for _, e := range in {
		out = append(out, experienceRec{
			ID: s.keepEntryID(e.ID, func(id string) bool {
				return slices.ContainsFunc(old, func(o experienceRec) bool { return o.ID == id })
			}),
			Title: strings.TrimSpace(*e.Title), Summary: cleaned(e.Summary), Company: cleaned(e.Company),
			Industry: cleaned(e.Industry), StartDate: cleaned(e.StartDate), EndDate: cleaned(e.EndDate),
			Current: e.Current != nil && *e.Current,
		})
	}
	return out
}

func (s *Simulator) keepEntryID(id *string, exists func(string) bool) string {
	if id != nil && exists(*id) {
		return *id
	}
	return hexID(newID(&s.nextEntID))
}

// socialRecs stores social profiles. The input name is dropped, as in the
// reference's create response fixture (API.md §4).
func socialRecs(in []socialInput) []socialRec {
	out := make([]socialRec, 0, len(in))
	for _, p := range in {
		out = append(out, socialRec{Type: *p.Type, Username: cleaned(p.Username), URL: strings.TrimSpace(*p.URL)})
	}
	return out
}

// skillList stores skills lower-cased and without duplicates, as in the
// reference's create response fixture (API.md §4).
func skillList(in []string) []string {
	out := make([]string, 0, len(in))
	for _, sk := range in {
		sk = strings.ToLower(strings.TrimSpace(sk))
		if sk != "" && !slices.Contains(out, sk) {
			out = append(out, sk)
		}
	}
	return out
}

func tagList(in []string) []string {
	out := make([]string, 0, len(in))
	for _, t := range in {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// answerRecs renders answers in Workable's output shape (API.md §3): free
// text wrapped in <p>, choice ids as {body}.
//
// simulator guess: the simulated jobs have no questions, so the question is
// rendered as {"key": <question_key>, "body": "Question <question_key>"} and
// choice ids are echoed as their bodies.
func answerRecs(in []answerInput) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(in))
	for _, a := range in {
		ans := map[string]any{}
		switch {
		case a.Body != nil:
			ans["body"] = "<p>" + *a.Body + "</p>"
		case a.Checked != nil:
			ans["checked"] = *a.Checked
		case a.Choices != nil:
			choices := make([]map[string]string, 0, len(a.Choices))
			for _, c := range a.Choices {
				choices = append(choices, map[string]string{"body": c})
			}
			ans["choices"] = choices
		case a.Date != nil:
			ans["date"] = *a.Date
		case a.Value != nil:
			ans["number"] = a.Value
		case a.Number != nil:
			ans["number"] = a.Number
		case a.FileURL != nil:
			ans["file_url"] = *a.FileURL
		}
		b, _ := json.Marshal(map[string]any{
			"question": map[string]string{"key": *a.QuestionKey, "body": "Question " + *a.QuestionKey},
			"answer":   ans,
		})
		out = append(out, b)
	}
	return out
}

// emailTaken reports whether another candidate of job has email
// (case-insensitive). The caller holds s.mu.
//
// simulator guess: duplicates are keyed on email per job (API.md §4 [I]).
func (s *Simulator) emailTaken(job *jobRec, email string, except *candidateRec) bool {
	for _, c := range s.candidates {
		if c.job == job && c != except && c.email != nil && strings.EqualFold(*c.email, email) {
			return true
		}
	}
	return false
}

// decodeJSON decodes a request body; false means it is not valid JSON for v.
func decodeJSON(r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		return false
	}
	return !dec.More()
}

// nowUTC is the simulator clock, in UTC, to the millisecond (the precision
// of a live account's timestamps, API.md §10). The caller holds s.mu.
func (s *Simulator) nowUTC() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// createCandidate serves POST /jobs/:shortcode/candidates (API.md §4).
//
// Body {"sourced": bool?, "candidate": {...}}. sourced defaults to true
// (stage Sourced), false puts the candidate in Applied, ?stage=<slug>
// overrides both. A malformed body is 400 (simulator guess); validation
// failures are 422 {"error", "validation_errors"}; an unknown job is 404.
// Success is 201 {"status":"created","candidate": detail}, and the new
// candidate's activity stream starts with a "sourced" or "applied" activity
// (simulator guess: the action names follow the sourced flag).
func (s *Simulator) createCandidate(w http.ResponseWriter, r *http.Request, p map[string]string) {
	var body struct {
		Sourced   *bool           `json:"sourced"`
		Candidate *candidateInput `json:"candidate"`
	}
	if !decodeJSON(r, &body) {
		writeError(w, http.StatusBadRequest, msgMalformed)
		return
	}
	stageSlug := r.URL.Query().Get("stage")

	s.mu.Lock()
	defer s.mu.Unlock()
	job := s.jobByShortcode(p["shortcode"])
	if job == nil {
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	sourced := body.Sourced == nil || *body.Sourced
	stage := s.stageBySlug("applied")
	if sourced {
		stage = s.stageBySlug("sourced")
	}
	if stageSlug != "" {
		if stage = s.stageBySlug(stageSlug); stage == nil {
			writeValidation(w, msgValidation, map[string][]string{"stage": {"is not a valid stage slug"}})
			return
		}
	}
	if body.Candidate == nil {
		writeValidation(w, msgValidation, map[string][]string{"candidate": {msgBlank}})
		return
	}
	in := body.Candidate

	errs := map[string][]string{}
	name, first, last := strings.TrimSpace(in.Name), strings.TrimSpace(in.Firstname), strings.TrimSpace(in.Lastname)
	if name == "" {
		switch {
		case first == "" && last == "":
			errs["name"] = []string{msgBlank}
		case first == "":
			errs["firstname"] = []string{msgBlank}
		case last == "":
			errs["lastname"] = []string{msgBlank}
		}
	}
	email := strings.TrimSpace(in.Email)
	switch {
	case email == "":
		errs["email"] = []string{msgBlank}
	case !validEmail(email):
		errs["email"] = []string{"is invalid"}
	}
	validateEntries(errs, in.EducationEntries, in.ExperienceEntries, in.SocialProfiles, in.Answers)
	if len(errs) > 0 {
		writeValidation(w, msgValidation, errs)
		return
	}
	if s.emailTaken(job, email, nil) {
		writeValidation(w, msgValidation, map[string][]string{"email": {msgExists}})
		return
	}

	if name == "" {
		name = first + " " + last
	}
	if first == "" && last == "" {
		// simulator guess: a lone name is split on its first space (API.md §4
		// says modern accounts probably split it).
		first, last, _ = strings.Cut(name, " ")
	}
	now := s.nowUTC()
	c := &candidateRec{
		id: newID(&s.nextCandID), job: job, name: name,
		firstname: nullable(first), lastname: nullable(strings.TrimSpace(last)),
		headline: cleaned(in.Headline), email: &email, phone: cleaned(in.Phone), address: cleaned(in.Address),
		summary: cleaned(in.Summary), coverLetter: cleaned(in.CoverLetter), domain: cleaned(in.Domain),
		resumeURL: cleaned(in.ResumeURL), stage: stage, sourced: sourced, createdAt: now, updatedAt: now,
		education:  s.educationRecs(in.EducationEntries, nil),
		experience: s.experienceRecs(in.ExperienceEntries, nil),
		skills:     skillList(in.Skills), answers: answerRecs(in.Answers),
		social: socialRecs(in.SocialProfiles), tags: tagList(in.Tags),
	}
	c.outbound = hexID(c.id) + "@outbound.workable.mailgun.org"
	// Candidates created through the API have outlet "SPI" (API.md §10).
	c.outlet = "SPI"
	if in.Resume != nil && in.Resume.Name != "" {
		c.resumeURL = strPtr(fmt.Sprintf("https://%s.workable.com/resumes/%s/%s", s.subdomain, hexID(c.id), in.Resume.Name))
		// simulator guess: the file type follows the name's extension.
		c.resume = &resumeRec{filename: in.Resume.Name, filetype: mimeTypeOf(in.Resume.Name), at: now}
	}
	if stage.slug == "hired" {
		c.hiredAt = &now
	}
	action := "applied"
	if sourced {
		action = "sourced"
	}
	// A system activity: no member acts for an API token (API.md §10).
	c.activities = []*activityRec{{id: newID(&s.nextActID), action: action, actionStage: stage, createdAt: now}}
	if in.Disqualified {
		c.disqualified = true
		c.dqReason = cleaned(in.DisqualificationReason)
		at := now
		if in.DisqualifiedAt != nil && *in.DisqualifiedAt != "" {
			if t, err := time.Parse("2006-01-02", *in.DisqualifiedAt); err == nil {
				at = t
			}
		}
		c.disqualifiedAt = &at
		c.activities = append(c.activities, &activityRec{id: newID(&s.nextActID), action: "disqualified",
			actionStage: stage, body: c.dqReason, createdAt: now})
	}
	s.candidates = append(s.candidates, c)
	writeJSON(w, http.StatusCreated, map[string]any{"status": "created", "candidate": s.candidateDetailJSON(c)})
}

// updateCandidate serves PATCH /candidates/:id (API.md §5).
//
// Only the keys present change: a scalar set to null (or "") is cleared; the
// array keys education_entries, experience_entries, social_profiles and tags
// replace the stored list wholesale, [] or null clearing it. skills also
// replaces (simulator guess: the reference lists skills as a string list
// without saying). Entries are validated as on create. updated_at moves to
// the clock's now. The answer is 200 {"candidate": detail}; an unknown id
// is 404; a malformed body 400 (simulator guess).
//
// simulator guess: keys outside the documented list (API.md §5, plus
// resume_url and image_url that clients send) are rejected with 422 rather
// than ignored, so a client sending a key Workable does not take is caught;
// firstname, lastname and email cannot be cleared (422 "can't be blank").
func (s *Simulator) updateCandidate(w http.ResponseWriter, r *http.Request, p map[string]string) {
	var body map[string]json.RawMessage
	if !decodeJSON(r, &body) || body == nil {
		writeError(w, http.StatusBadRequest, msgMalformed)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.candidateByID(p["id"])
	if c == nil {
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	var fields map[string]json.RawMessage
	if raw, ok := body["candidate"]; !ok || json.Unmarshal(raw, &fields) != nil || fields == nil {
		writeValidation(w, msgValidation, map[string][]string{"candidate": {msgBlank}})
		return
	}

	errs := map[string][]string{}
	var apply []func()
	isNull := func(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }
	str := func(key string, raw json.RawMessage) (*string, bool) {
		if isNull(raw) {
			return nil, true
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			errs[key] = append(errs[key], "must be a string")
			return nil, false
		}
		return cleaned(&v), true
	}
	list := func(key string, raw json.RawMessage, into any) bool {
		if isNull(raw) {
			return true
		}
		if json.Unmarshal(raw, into) != nil {
			errs[key] = append(errs[key], "must be a list")
			return false
		}
		return true
	}
	scalars := map[string]**string{
		"headline": &c.headline, "summary": &c.summary, "address": &c.address, "phone": &c.phone,
		"cover_letter": &c.coverLetter, "resume_url": &c.resumeURL, "image_url": &c.imageURL,
	}
	var edu []educationInput
	var exp []experienceInput
	var soc []socialInput

	for key, raw := range fields {
		switch key {
		case "headline", "summary", "address", "phone", "cover_letter", "resume_url", "image_url":
			if v, ok := str(key, raw); ok {
				dst := scalars[key]
				apply = append(apply, func() { *dst = v })
			}
		case "firstname", "lastname", "email":
			v, ok := str(key, raw)
			if !ok {
				continue
			}
			if v == nil {
				errs[key] = append(errs[key], msgBlank)
				continue
			}
			switch key {
			case "firstname":
				apply = append(apply, func() { c.firstname = v })
			case "lastname":
				apply = append(apply, func() { c.lastname = v })
			case "email":
				if !validEmail(*v) {
					errs[key] = append(errs[key], "is invalid")
				} else if s.emailTaken(c.job, *v, c) {
					errs[key] = append(errs[key], msgExists)
				}
				apply = append(apply, func() { c.email = v })
			}
		case "texting_consent":
			v, ok := str(key, raw)
			if ok && v != nil && *v != "forced" && *v != "declined" {
				errs[key] = append(errs[key], "is not included in the list")
			}
			// Accepted and not shown: the candidate shapes have no such field.
		case "resume", "image":
			var f *fileInput
			if json.Unmarshal(raw, &f) != nil || (f != nil && f.Name == "") {
				errs[key] = append(errs[key], "must be an object with name and data")
				continue
			}
			var u *string
			if f != nil {
				u = strPtr(fmt.Sprintf("https://%s.workable.com/%ss/%s/%s", s.subdomain, key, hexID(c.id), f.Name))
			}
			dst := &c.resumeURL
			if key == "image" {
				dst = &c.imageURL
			}
			apply = append(apply, func() { *dst = u })
		case "education_entries":
			edu = []educationInput{}
			if list(key, raw, &edu) {
				apply = append(apply, func() { c.education = s.educationRecs(edu, c.education) })
			}
		case "experience_entries":
			exp = []experienceInput{}
			if list(key, raw, &exp) {
				apply = append(apply, func() { c.experience = s.experienceRecs(exp, c.experience) })
			}
		case "social_profiles":
			soc = []socialInput{}
			if list(key, raw, &soc) {
				apply = append(apply, func() { c.social = socialRecs(soc) })
			}
		case "tags":
			var tags []string
			if list(key, raw, &tags) {
				apply = append(apply, func() { c.tags = tagList(tags) })
			}
		case "skills":
			var skills []string
			if list(key, raw, &skills) {
				apply = append(apply, func() { c.skills = skillList(skills) })
			}
		default:
			errs[key] = append(errs[key], "is not a permitted attribute")
		}
	}
	validateEntries(errs, edu, exp, soc, nil)
	if len(errs) > 0 {
		writeValidation(w, msgValidation, errs)
		return
	}
	for _, f := range apply {
		f()
	}
	_, first := fields["firstname"]
	_, last := fields["lastname"]
	if first || last {
		c.name = strings.TrimSpace(deref(c.firstname) + " " + deref(c.lastname))
	}
	c.updatedAt = s.nowUTC()
	writeJSON(w, http.StatusOK, map[string]any{"candidate": s.candidateDetailJSON(c)})
}

// mimeTypeOf guesses a resume's MIME type from its file name.
func mimeTypeOf(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".pdf":
		return "application/pdf"
	case ".doc":
		return "application/msword"
	case ".docx":
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case ".txt":
		return "text/plain"
	default:
		return "application/octet-stream"
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
