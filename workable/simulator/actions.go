package simulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// The hiring actions on a candidate (API.md §9) and the job's members, in
// the answer shapes of a live account (API.md §10): move, disqualify,
// revert and ratings answer an empty text/plain body, a comment {"id"},
// tags {"tags"}, copy and relocate {"candidate": {"id", "url"}}. Each
// action names its acting member (member_id, an active member of the
// account) and appends the activity a live account shows: a move's action
// is the target stage's slug (stage_name the stage left, action_stage and
// target_stage the stages), "disqualified" has the reason as body,
// "reverted", "comment" with its visibility roles, "rating" with {score,
// scale, grade}, "moved" on a relocation. Validation failures are 422
// {"error", "validation_errors"}, an unknown candidate 404, a body that is
// not JSON 400 (simulator guess, as for the other writes).
//
// simulator guess: the status codes of successful writes are unsettled
// (the live recordings kept only "2xx"); the simulator answers what the
// documentation shows: 201 for a comment, a copy and a relocation, 202 for
// tags, 200 for the others. A client must accept any 2xx.

// Validation messages of the actions. simulator guess: Workable's texts are
// not documented; these follow the Rails wording of the other writes.
const (
	msgNotMember      = "is not an active member of the account"
	msgNotStage       = "is not a stage of the job's pipeline"
	msgNotReason      = "is not a disqualification reason of the account"
	msgNotIncluded    = "is not included in the list"
	msgSameStage      = "is the candidate's current stage"
	msgNotJob         = "is not a job of the account"
	msgDisqualified   = "Candidate is already disqualified"
	msgQualified      = "Candidate is not disqualified"
	maxNoteLen        = 256 // disqualify_note (API.md §9)
	msgTooLongNoteFmt = "is too long (maximum is %d characters)"
)

// writeEmpty answers a 2xx with an empty text/plain body, as a live
// account answers move, disqualify, revert and ratings (API.md §10).
func writeEmpty(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
}

// memberByID finds a member by its exact id. The caller holds s.mu.
func (s *Simulator) memberByID(id string) *memberRec {
	n, ok := parseHexID(id)
	if !ok || hexID(n) != id {
		return nil
	}
	for i := range s.members {
		if s.members[i].id == n {
			return &s.members[i]
		}
	}
	return nil
}

// actingMember checks member_id: required, and an active member of the
// account (API.md §9: "the acting member; from /members"). It records the
// problem in errs and returns nil when there is one. The caller holds s.mu.
func (s *Simulator) actingMember(errs map[string][]string, id *string) *memberRec {
	if blank(id) {
		errs["member_id"] = append(errs["member_id"], msgBlank)
		return nil
	}
	m := s.memberByID(strings.TrimSpace(*id))
	if m == nil || !m.active {
		errs["member_id"] = append(errs["member_id"], msgNotMember)
		return nil
	}
	return m
}

// actionTarget decodes an action's body into v and finds its candidate,
// answering 400 (not JSON) or 404 (no such candidate) itself. On success it
// returns with s.mu held; the caller unlocks it.
func (s *Simulator) actionTarget(w http.ResponseWriter, r *http.Request, p map[string]string, v any) (*candidateRec, bool) {
	if !decodeJSON(r, v) {
		writeError(w, http.StatusBadRequest, msgMalformed)
		return nil, false
	}
	s.mu.Lock()
	c := s.candidateByID(p["id"])
	if c == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not found")
		return nil, false
	}
	return c, true
}

// appendActivity adds an activity by m to c's stream, now, in the stage
// the candidate is in, and touches the candidate. The caller holds s.mu.
func (s *Simulator) appendActivity(c *candidateRec, a *activityRec) *activityRec {
	a.id = newID(&s.nextActID)
	a.createdAt = s.nowUTC()
	if a.actionStage == nil {
		a.actionStage = c.stage
	}
	c.activities = append(c.activities, a)
	c.updatedAt = a.createdAt
	return a
}

// enterStage puts c in stage st, keeping the timestamps a live account
// derives from stages (moved_to_offer_at, hired_at). The caller holds s.mu.
func (s *Simulator) enterStage(c *candidateRec, st *stageRec) {
	c.stage = st
	now := s.nowUTC()
	switch st.kind {
	case "offer":
		c.movedToOfferAt = &now
	case "hired":
		c.hiredAt = &now
	}
}

// moveCandidate serves POST /candidates/:id/move (API.md §9):
// {"member_id", "target_stage": <stage slug>}. The candidate enters the
// stage and its stream gets the move: action the target's slug,
// action_stage the stage left, target_stage the stage entered (API.md
// §10). Answer: 200, empty.
//
// simulator guess: every job uses the account's pipeline; moving to the
// current stage is refused (422 target_stage); fill_reserved_requisition
// and requisition are accepted and ignored (the simulated account has no
// Hiring Plan).
func (s *Simulator) moveCandidate(w http.ResponseWriter, r *http.Request, p map[string]string) {
	var body struct {
		MemberID    *string `json:"member_id"`
		TargetStage *string `json:"target_stage"`
	}
	c, ok := s.actionTarget(w, r, p, &body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	errs := map[string][]string{}
	m := s.actingMember(errs, body.MemberID)
	var target *stageRec
	switch {
	case blank(body.TargetStage):
		errs["target_stage"] = []string{msgBlank}
	default:
		if target = s.stageBySlug(strings.TrimSpace(*body.TargetStage)); target == nil {
			errs["target_stage"] = []string{msgNotStage}
		} else if target == c.stage {
			errs["target_stage"] = []string{msgSameStage}
		}
	}
	if len(errs) > 0 {
		writeValidation(w, msgValidation, errs)
		return
	}
	from := c.stage
	s.appendActivity(c, &activityRec{action: target.slug, actionStage: from, targetStage: target, member: m})
	s.enterStage(c, target)
	writeEmpty(w, http.StatusOK)
}

// disqualifyCandidate serves POST /candidates/:id/disqualify (API.md §9):
// {"member_id", "disqualify_reason_id", "disqualify_note" (≤ 256
// characters), "withdrew"}, or the deprecated free-text
// "disqualification_reason". The candidate is disqualified with the
// reason's description and the stream gets "disqualified" with the reason
// as body (API.md §10). Answer: 200, empty.
//
// simulator guess: a reason is optional; withdrew defaults to the reason's
// candidate_withdrew; the note is kept nowhere visible (no documented
// field shows it); disqualifying a disqualified candidate is refused (422).
func (s *Simulator) disqualifyCandidate(w http.ResponseWriter, r *http.Request, p map[string]string) {
	var body struct {
		MemberID   *string         `json:"member_id"`
		ReasonID   *string         `json:"disqualify_reason_id"`
		Note       *string         `json:"disqualify_note"`
		Withdrew   json.RawMessage `json:"withdrew"`
		ReasonText *string         `json:"disqualification_reason"`
	}
	c, ok := s.actionTarget(w, r, p, &body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	errs := map[string][]string{}
	m := s.actingMember(errs, body.MemberID)
	var reason *disqualificationReasonJSON
	if body.ReasonID != nil {
		for _, rr := range disqualificationReasonRecs() {
			if rr.ID == strings.TrimSpace(*body.ReasonID) {
				reason = &rr
				break
			}
		}
		if reason == nil {
			errs["disqualify_reason_id"] = []string{msgNotReason}
		}
	}
	if body.Note != nil && utf8.RuneCountInString(*body.Note) > maxNoteLen {
		errs["disqualify_note"] = []string{fmt.Sprintf(msgTooLongNoteFmt, maxNoteLen)}
	}
	var withdrew *bool
	if len(body.Withdrew) > 0 && !bytes.Equal(body.Withdrew, []byte("null")) {
		var b bool
		if json.Unmarshal(body.Withdrew, &b) != nil {
			errs["withdrew"] = []string{"must be true or false"}
		}
		withdrew = &b
	}
	if len(errs) > 0 {
		writeValidation(w, msgValidation, errs)
		return
	}
	if c.disqualified {
		writeValidation(w, msgDisqualified, map[string][]string{"candidate": {"is already disqualified"}})
		return
	}
	var text *string
	switch {
	case reason != nil:
		text = strPtr(reason.Description)
	case body.ReasonText != nil:
		text = cleaned(body.ReasonText)
	}
	c.disqualified, c.dqReason = true, text
	c.withdrew = reason != nil && reason.CandidateWithdrew
	if withdrew != nil {
		c.withdrew = *withdrew
	}
	a := s.appendActivity(c, &activityRec{action: "disqualified", member: m, body: text})
	at := a.createdAt
	c.disqualifiedAt = &at
	writeEmpty(w, http.StatusOK)
}

// revertDisqualification serves POST /candidates/:id/revert (API.md §9):
// {"member_id"}. The candidate is qualified again and the stream gets
// "reverted" (API.md §10). Answer: 200, empty.
//
// simulator guess: reverting a candidate who is not disqualified is
// refused (422).
func (s *Simulator) revertDisqualification(w http.ResponseWriter, r *http.Request, p map[string]string) {
	var body struct {
		MemberID *string `json:"member_id"`
	}
	c, ok := s.actionTarget(w, r, p, &body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	errs := map[string][]string{}
	m := s.actingMember(errs, body.MemberID)
	if len(errs) > 0 {
		writeValidation(w, msgValidation, errs)
		return
	}
	if !c.disqualified {
		writeValidation(w, msgQualified, map[string][]string{"candidate": {"is not disqualified"}})
		return
	}
	c.disqualified, c.dqReason, c.disqualifiedAt, c.withdrew = false, nil, nil, false
	s.appendActivity(c, &activityRec{action: "reverted", member: m})
	writeEmpty(w, http.StatusOK)
}

// commentOnCandidate serves POST /candidates/:id/comments (API.md §9):
// {"member_id", "comment": {"body" (required), "policy": [roles],
// "attachment": {"name", "data" (base64)}}}. The stream gets "comment"
// with the body and the policy as visibility_roles. Answer: 201 {"id"} (a
// live account's shape, API.md §10).
//
// simulator guess: the comment's id is its activity's; the attachment is
// checked and not kept; without a policy the activity has no
// visibility_roles.
func (s *Simulator) commentOnCandidate(w http.ResponseWriter, r *http.Request, p map[string]string) {
	var body struct {
		MemberID *string `json:"member_id"`
		Comment  *struct {
			Body       *string    `json:"body"`
			Policy     []string   `json:"policy"`
			Attachment *fileInput `json:"attachment"`
		} `json:"comment"`
	}
	c, ok := s.actionTarget(w, r, p, &body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	errs := map[string][]string{}
	m := s.actingMember(errs, body.MemberID)
	var policy []string
	switch in := body.Comment; {
	case in == nil:
		errs["comment"] = []string{msgBlank}
	default:
		if blank(in.Body) {
			errs["comment.body"] = []string{msgBlank}
		}
		for _, role := range in.Policy {
			if !slices.Contains(visibilityRoles(), role) {
				errs["comment.policy"] = []string{msgNotIncluded}
				break
			}
		}
		policy = in.Policy
		if a := in.Attachment; a != nil {
			if _, err := base64.StdEncoding.DecodeString(a.Data); err != nil || a.Name == "" || a.Data == "" {
				errs["comment.attachment"] = []string{"must have a name and base64 data"}
			}
		}
	}
	if len(errs) > 0 {
		writeValidation(w, msgValidation, errs)
		return
	}
	a := s.appendActivity(c, &activityRec{action: "comment", member: m, body: cleaned(body.Comment.Body), visibility: policy})
	writeJSON(w, http.StatusCreated, map[string]string{"id": hexID(a.id)})
}

// visibilityRoles are the roles a comment can be shown to (API.md §6, §9).
func visibilityRoles() []string {
	return []string{"admin", "recruiting_admin", "hiring_manager", "simple", "reviewer", "recruiter"}
}

// rateCandidate serves POST /candidates/:id/ratings (API.md §9):
// {"member_id", "comment", "scale" (thumbs, stars, numbers), "grade"
// (thumbs 0–2, stars 0–4, numbers 0–9)}, or the legacy {"member_id",
// "comment", "score": "negative" | "positive" | "definitely"} (a thumbs
// rating). The stream gets "rating" with the comment as body and {score,
// scale, grade} (API.md §10). Answer: 200, empty.
func (s *Simulator) rateCandidate(w http.ResponseWriter, r *http.Request, p map[string]string) {
	var body struct {
		MemberID *string         `json:"member_id"`
		Comment  *string         `json:"comment"`
		Scale    *string         `json:"scale"`
		Grade    json.RawMessage `json:"grade"`
		Score    *string         `json:"score"`
	}
	c, ok := s.actionTarget(w, r, p, &body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	errs := map[string][]string{}
	m := s.actingMember(errs, body.MemberID)
	var rating *ratingJSON
	switch {
	case body.Scale == nil && body.Score != nil:
		if g := slices.Index(thumbsScores(), *body.Score); g >= 0 {
			rating = newRating("thumbs", g)
		} else {
			errs["score"] = []string{msgNotIncluded}
		}
	case blank(body.Scale):
		errs["scale"] = []string{msgBlank}
	default:
		top := map[string]int{"thumbs": 2, "stars": 4, "numbers": 9}
		maxGrade, known := top[*body.Scale]
		if !known {
			errs["scale"] = []string{msgNotIncluded}
		}
		var grade int
		switch {
		case len(body.Grade) == 0 || bytes.Equal(body.Grade, []byte("null")):
			errs["grade"] = []string{msgBlank}
		case json.Unmarshal(body.Grade, &grade) != nil:
			errs["grade"] = []string{"must be an integer"}
		case known && (grade < 0 || grade > maxGrade):
			errs["grade"] = []string{fmt.Sprintf("must be between 0 and %d on the %s scale", maxGrade, *body.Scale)}
		}
		if len(errs) == 0 {
			rating = newRating(*body.Scale, grade)
		}
	}
	if len(errs) > 0 {
		writeValidation(w, msgValidation, errs)
		return
	}
	s.appendActivity(c, &activityRec{action: "rating", member: m, body: cleaned(body.Comment), rating: rating})
	writeEmpty(w, http.StatusOK)
}

// setCandidateTags serves PUT /candidates/:id/tags (API.md §9): {"tags":
// […]} replaces the candidate's tags, [] clears them. Tags are trimmed and
// folded like on create. Answer: 202 {"tags": […]} (API.md §9, §10).
//
// simulator guess: a tag change adds no activity.
func (s *Simulator) setCandidateTags(w http.ResponseWriter, r *http.Request, p map[string]string) {
	var body struct {
		Tags json.RawMessage `json:"tags"`
	}
	c, ok := s.actionTarget(w, r, p, &body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	var tags []string
	switch {
	case len(body.Tags) == 0 || bytes.Equal(body.Tags, []byte("null")):
		writeValidation(w, msgValidation, map[string][]string{"tags": {msgBlank}})
		return
	case json.Unmarshal(body.Tags, &tags) != nil:
		writeValidation(w, msgValidation, map[string][]string{"tags": {"must be a list of strings"}})
		return
	}
	c.tags = tagList(tags)
	c.updatedAt = s.nowUTC()
	writeJSON(w, http.StatusAccepted, map[string][]string{"tags": append([]string{}, c.tags...)})
}

// transferBody is the body of copy and relocate (API.md §9).
type transferBody struct {
	MemberID    *string `json:"member_id"`
	TargetJob   *string `json:"target_job_shortcode"`
	TargetStage *string `json:"target_stage"`
}

// transfer checks a copy or relocation of c and returns the acting member,
// the target job and stage; it answers 422 itself and returns false when
// the body is invalid. The caller holds s.mu.
//
// simulator guess: target_stage is required; the job may be in any state;
// the target job must not already have a candidate with c's e-mail
// address (as on create).
func (s *Simulator) transfer(w http.ResponseWriter, c *candidateRec, body transferBody) (*memberRec, *jobRec, *stageRec, bool) {
	errs := map[string][]string{}
	m := s.actingMember(errs, body.MemberID)
	var job *jobRec
	if blank(body.TargetJob) {
		errs["target_job_shortcode"] = []string{msgBlank}
	} else if job = s.jobByShortcode(strings.TrimSpace(*body.TargetJob)); job == nil {
		errs["target_job_shortcode"] = []string{msgNotJob}
	}
	var stage *stageRec
	if blank(body.TargetStage) {
		errs["target_stage"] = []string{msgBlank}
	} else if stage = s.stageBySlug(strings.TrimSpace(*body.TargetStage)); stage == nil {
		errs["target_stage"] = []string{msgNotStage}
	}
	if len(errs) > 0 {
		writeValidation(w, msgValidation, errs)
		return nil, nil, nil, false
	}
	if job == c.job {
		writeValidation(w, msgValidation, map[string][]string{"target_job_shortcode": {"is the candidate's own job"}})
		return nil, nil, nil, false
	}
	if c.email != nil && s.emailTaken(job, *c.email, nil) {
		writeValidation(w, msgValidation, map[string][]string{"email": {msgExists}})
		return nil, nil, nil, false
	}
	return m, job, stage, true
}

// cloneCandidate returns a new candidate (new id) in job and stage with
// c's personal data. The caller holds s.mu.
func (s *Simulator) cloneCandidate(c *candidateRec, job *jobRec, stage *stageRec) *candidateRec {
	n := *c
	n.id = newID(&s.nextCandID)
	n.job = job
	n.outbound = hexID(n.id) + "@outbound.workable.mailgun.org"
	n.education = slices.Clone(c.education)
	n.experience = slices.Clone(c.experience)
	n.skills = slices.Clone(c.skills)
	n.answers = slices.Clone(c.answers)
	n.social = slices.Clone(c.social)
	n.tags = slices.Clone(c.tags)
	n.activities = nil
	now := s.nowUTC()
	n.createdAt, n.updatedAt = now, now
	n.hiredAt, n.movedToOfferAt = nil, nil
	s.enterStage(&n, stage)
	return &n
}

// writeCandidateLink answers a copy or relocation: 201 {"candidate": {"id",
// "url"}} (API.md §9, §10), the URL in the form the reference shows.
func (s *Simulator) writeCandidateLink(w http.ResponseWriter, c *candidateRec) {
	id := hexID(c.id)
	writeJSON(w, http.StatusCreated, map[string]any{"candidate": map[string]string{
		"id": id, "url": fmt.Sprintf("https://%s.workable.com/spi/v3/candidates/%s", s.subdomain, id),
	}})
}

// copyCandidate serves POST /candidates/:id/copy (API.md §9):
// {"member_id", "target_job_shortcode", "target_stage"}. A new candidate
// with the same personal data joins the target job in the target stage;
// the original stays. Answer: 201 {"candidate": {"id", "url"}}.
//
// simulator guess: the copy is qualified, starts its stream with a
// "copied" activity by the member, names the original in
// originating_candidate_id, and the original's stream is unchanged.
func (s *Simulator) copyCandidate(w http.ResponseWriter, r *http.Request, p map[string]string) {
	var body transferBody
	c, ok := s.actionTarget(w, r, p, &body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	m, job, stage, ok := s.transfer(w, c, body)
	if !ok {
		return
	}
	n := s.cloneCandidate(c, job, stage)
	n.disqualified, n.dqReason, n.disqualifiedAt, n.withdrew = false, nil, nil, false
	n.originating = strPtr(hexID(c.id))
	s.appendActivity(n, &activityRec{action: "copied", member: m})
	s.candidates = append(s.candidates, n)
	s.writeCandidateLink(w, n)
}

// relocateCandidate serves POST /candidates/:id/relocate (API.md §9): the
// body of a copy. The candidate moves to the target job as a new candidate
// (new id) and the original is deleted. Its stream carries over and gets
// "moved" (a relocation, API.md §10) with action_stage the stage left and
// target_stage the stage entered. Answer: 201 {"candidate": {"id",
// "url"}}.
//
// simulator guess: the stream and the disqualification carry over.
func (s *Simulator) relocateCandidate(w http.ResponseWriter, r *http.Request, p map[string]string) {
	var body transferBody
	c, ok := s.actionTarget(w, r, p, &body)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	m, job, stage, ok := s.transfer(w, c, body)
	if !ok {
		return
	}
	from := c.stage
	n := s.cloneCandidate(c, job, stage)
	n.activities = slices.Clone(c.activities)
	n.movedToOfferAt = c.movedToOfferAt
	s.appendActivity(n, &activityRec{action: "moved", actionStage: from, targetStage: stage, member: m})
	s.candidates = slices.DeleteFunc(s.candidates, func(x *candidateRec) bool { return x == c })
	s.candidates = append(s.candidates, n)
	s.writeCandidateLink(w, n)
}

// jobMemberJSON is a member of a job: a member with its collaboration_role
// (API.md §9, §10).
type jobMemberJSON struct {
	memberJSON
	CollaborationRole string `json:"collaboration_role"`
}

// listJobMembers serves GET /jobs/:shortcode/members (API.md §9): the
// job's collaborators, each with its collaboration_role; an unknown job is
// 404. It pages like GET /members (limit, since_id, max_id).
//
// simulator guess: every active member collaborates on every job; admins
// as admin, simple members as recruiter, reviewers as hiring_manager; the
// answer is wrapped in "members" like GET /members.
func (s *Simulator) listJobMembers(w http.ResponseWriter, r *http.Request, p map[string]string) {
	lp, err := parseListParams(r.URL.Query())
	if err != nil {
		writeParamError(w, err)
		return
	}
	s.mu.Lock()
	if s.jobByShortcode(p["shortcode"]) == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	active := s.activeMembers()
	s.mu.Unlock()
	page, next, more := paginate(active, func(m memberRec) uint64 { return m.id }, lp)
	roles := map[string]string{"admin": "admin", "simple": "recruiter", "reviewer": "hiring_manager"}
	out := make([]jobMemberJSON, 0, len(page))
	for _, m := range page {
		out = append(out, jobMemberJSON{memberJSON: m.toJSON(), CollaborationRole: roles[m.role]})
	}
	writeList(w, r, "members", out, lp, next, more)
}
