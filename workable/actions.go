package workable

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// The hiring actions on a candidate (API.md §9, in the answer shapes of a
// live account, §10): move, disqualify, revert, comment, rate, tags, copy
// and relocate. Every one but tags names the acting member (member_id, an
// id from GET /members). Their 2xx answers vary: move, disqualify, revert
// and ratings answer an empty text/plain body, a comment {"id": …} (the
// documentation shows an empty 201), tags {"tags": […]}, copy and relocate
// {"candidate": {"id", "url"}}; whether a write answers 200, 201 or 202 is
// not settled (the live recordings kept only "2xx"), so every 2xx is
// success and no answer is required to be JSON. Like the other writes,
// they are never retried after a 5xx or a timeout: those match
// ErrOutcomeUnknown.

// Rating scales (API.md §9): the grades each takes are 0 to MaxGrade.
const (
	ScaleThumbs  = "thumbs"
	ScaleStars   = "stars"
	ScaleNumbers = "numbers"
)

// MaxGrade returns the highest grade of a rating scale (thumbs 2: negative,
// positive, definitely; stars 4; numbers 9; API.md §9), and false for a
// scale Workable does not document.
func MaxGrade(scale string) (int, bool) {
	switch scale {
	case ScaleThumbs:
		return 2, true
	case ScaleStars:
		return 4, true
	case ScaleNumbers:
		return 9, true
	}
	return 0, false
}

// MaxDisqualifyNoteLen is the longest disqualify_note Workable takes
// (API.md §9: "≤256 chars").
const MaxDisqualifyNoteLen = 256

// VisibilityRoles returns the roles a comment can be shown to (its policy)
// and that activities list in visibility_roles (API.md §6, §9), in a fresh
// slice the caller may change.
func VisibilityRoles() []string {
	return []string{"admin", "recruiting_admin", "hiring_manager", "simple", "reviewer", "recruiter"}
}

// Move is the body of POST /candidates/:id/move (API.md §9).
type Move struct {
	// MemberID is the acting member.
	MemberID string `json:"member_id"`
	// TargetStage is the slug of a stage of the candidate's job's
	// pipeline (GET /jobs/:shortcode/stages), e.g. "interview".
	TargetStage string `json:"target_stage"`
}

// Disqualification is the body of POST /candidates/:id/disqualify (API.md
// §9). The deprecated free-text disqualification_reason is not offered:
// ReasonID names one of GET /disqualification_reasons.
type Disqualification struct {
	MemberID string `json:"member_id"`
	// ReasonID is the id of a disqualification reason; "" sends none.
	ReasonID string `json:"disqualify_reason_id,omitempty"`
	// Note is at most MaxDisqualifyNoteLen characters; "" sends none.
	Note string `json:"disqualify_note,omitempty"`
	// Withdrew says the candidate withdrew; nil sends nothing.
	Withdrew *bool `json:"withdrew,omitempty"`
}

// NewComment is a comment on a candidate (API.md §9, POST
// /candidates/:id/comments). Body is required; Policy lists the roles who
// may see it (see VisibilityRoles; admins always see it), nil leaving
// Workable's default.
type NewComment struct {
	MemberID string
	Body     string
	Policy   []string
}

// MarshalJSON encodes the comment as Workable's
// {"member_id", "comment": {"body", "policy"}} body.
func (c NewComment) MarshalJSON() ([]byte, error) {
	type comment struct {
		Body   string   `json:"body"`
		Policy []string `json:"policy,omitempty"`
	}
	return json.Marshal(struct {
		MemberID string  `json:"member_id"`
		Comment  comment `json:"comment"`
	}{c.MemberID, comment{Body: c.Body, Policy: c.Policy}})
}

// NewRating is the body of POST /candidates/:id/ratings (API.md §9): a
// grade on a scale (see MaxGrade) and an optional comment.
type NewRating struct {
	MemberID string `json:"member_id"`
	Comment  string `json:"comment,omitempty"`
	Scale    string `json:"scale"`
	Grade    int    `json:"grade"`
}

// Transfer is the body of POST /candidates/:id/copy and
// /candidates/:id/relocate (API.md §9): the job to copy or move the
// candidate to, and the slug of the stage it lands in.
type Transfer struct {
	MemberID           string `json:"member_id"`
	TargetJobShortcode string `json:"target_job_shortcode"`
	TargetStage        string `json:"target_stage"`
}

// CandidateLink is how copy and relocate name the candidate they made
// (API.md §9, §10): {"id", "url"}.
type CandidateLink struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// Move moves a candidate to another stage of its job (API.md §9, POST
// /candidates/:id/move). Workable answers an empty body (§10).
func (s *CandidatesService) Move(ctx context.Context, id string, m Move) (*Response, error) {
	_, resp, err := s.client.action(ctx, "move candidate", "POST /candidates/{id}/move", id, http.MethodPost, "move", m)
	return resp, err
}

// Disqualify disqualifies a candidate (API.md §9, POST
// /candidates/:id/disqualify). Workable answers an empty (or blank) body.
func (s *CandidatesService) Disqualify(ctx context.Context, id string, d Disqualification) (*Response, error) {
	_, resp, err := s.client.action(ctx, "disqualify candidate", "POST /candidates/{id}/disqualify", id, http.MethodPost, "disqualify", d)
	return resp, err
}

// RevertDisqualification takes a candidate's disqualification back
// (API.md §9, POST /candidates/:id/revert with {"member_id"}). Workable
// answers an empty body (§10).
func (s *CandidatesService) RevertDisqualification(ctx context.Context, id, memberID string) (*Response, error) {
	body := struct {
		MemberID string `json:"member_id"`
	}{memberID}
	_, resp, err := s.client.action(ctx, "revert disqualification", "POST /candidates/{id}/revert", id, http.MethodPost, "revert", body)
	return resp, err
}

// Comment comments on a candidate (API.md §9, POST
// /candidates/:id/comments). It returns the comment's id when Workable
// gives one (a live account answers {"id": …}, §10; the documentation
// shows an empty body, so "" is no error).
func (s *CandidatesService) Comment(ctx context.Context, id string, c NewComment) (string, *Response, error) {
	data, resp, err := s.client.action(ctx, "comment on candidate", "POST /candidates/{id}/comments", id, http.MethodPost, "comments", c)
	if err != nil {
		return "", resp, err
	}
	var body struct {
		ID FlexID `json:"id"`
	}
	if !decodeOptional(data, &body) {
		return "", resp, nil
	}
	return string(body.ID), resp, nil
}

// Rate rates a candidate (API.md §9, POST /candidates/:id/ratings).
// Workable answers an empty body (§10).
func (s *CandidatesService) Rate(ctx context.Context, id string, r NewRating) (*Response, error) {
	_, resp, err := s.client.action(ctx, "rate candidate", "POST /candidates/{id}/ratings", id, http.MethodPost, "ratings", r)
	return resp, err
}

// SetTags replaces a candidate's tags (API.md §9, PUT /candidates/:id/tags;
// an empty list clears them). It returns the tags Workable answers with
// ({"tags": […]}, §10), or nil when the answer has none. A nil tags is
// sent as [].
func (s *CandidatesService) SetTags(ctx context.Context, id string, tags []string) ([]string, *Response, error) {
	if tags == nil {
		tags = []string{}
	}
	body := struct {
		Tags []string `json:"tags"`
	}{tags}
	data, resp, err := s.client.action(ctx, "set candidate tags", "PUT /candidates/{id}/tags", id, http.MethodPut, "tags", body)
	if err != nil {
		return nil, resp, err
	}
	var out struct {
		Tags []string `json:"tags"`
	}
	if !decodeOptional(data, &out) {
		return nil, resp, nil
	}
	return out.Tags, resp, nil
}

// Copy copies a candidate to another job, keeping the original (API.md §9,
// POST /candidates/:id/copy). It returns the new candidate as Workable
// names it ({"candidate": {"id", "url"}}, §10); its ID is "" when the
// answer names none.
func (s *CandidatesService) Copy(ctx context.Context, id string, t Transfer) (CandidateLink, *Response, error) {
	return s.transfer(ctx, "copy candidate", "POST /candidates/{id}/copy", "copy", id, t)
}

// Relocate moves a candidate to another job (API.md §9, POST
// /candidates/:id/relocate): Workable makes a new candidate there and
// deletes the original. It returns the new candidate as Copy does.
func (s *CandidatesService) Relocate(ctx context.Context, id string, t Transfer) (CandidateLink, *Response, error) {
	return s.transfer(ctx, "relocate candidate", "POST /candidates/{id}/relocate", "relocate", id, t)
}

func (s *CandidatesService) transfer(ctx context.Context, op, route, verb, id string, t Transfer) (CandidateLink, *Response, error) {
	data, resp, err := s.client.action(ctx, op, route, id, http.MethodPost, verb, t)
	if err != nil {
		return CandidateLink{}, resp, err
	}
	var out struct {
		Candidate *CandidateLink `json:"candidate"`
	}
	if !decodeOptional(data, &out) || out.Candidate == nil {
		return CandidateLink{}, resp, nil
	}
	return *out.Candidate, resp, nil
}

// action sends one action on the candidate id (the path
// /candidates/{id}/{verb}) and returns the answer's body, which callers
// read leniently: any 2xx is success, whatever its body.
func (c *Client) action(ctx context.Context, op, route, id, method, verb string, body any) (_ []byte, _ *Response, err error) {
	if err := pathParam("candidate id", id); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	defer wrapError(&err, op, id)
	resp, err := c.send(ctx, method, route, c.endpoint("candidates", id, verb), body, nil)
	if err != nil {
		return nil, resp, err
	}
	// do has replaced the body with an in-memory copy, already bounded.
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, resp, fmt.Errorf("read the answer: %w", err)
	}
	return data, resp, nil
}

// decodeOptional decodes a 2xx body that may be empty, blank or not JSON
// at all (text/plain answers): false when it holds no JSON object.
func decodeOptional(data []byte, into any) bool {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return false
	}
	return json.Unmarshal(data, into) == nil
}
