package workable

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// CandidateListOptions are the query parameters of GET /candidates
// (API.md §3). Zero values are not sent.
// Every parameter is documented for GET /candidates in API.md §3.
type CandidateListOptions struct {
	// Shortcode restricts the list to one job.
	Shortcode string `url:"shortcode"`
	// Stage is a stage slug (from GET /stages), not its display name.
	Stage string `url:"stage"`
	// Email filters by the candidate's email.
	Email string `url:"email"`
	ListOptions
}

// ActivityListOptions are the query parameters of GET
// /candidates/:id/activities and GET /jobs/:shortcode/activities (API.md
// §6). Zero values are not sent.
// Every parameter is documented for the activity lists in API.md §6.
type ActivityListOptions struct {
	// Limit is the page size (Workable: default 50).
	Limit int `url:"limit"`
	// SinceID returns activities with id >= SinceID; MaxID with id <= MaxID.
	SinceID string `url:"since_id"`
	MaxID   string `url:"max_id"`
}

// candidateBody is the {"candidate": {...}} wrapper of candidate responses.
type candidateBody struct {
	Status    string     `json:"status,omitempty"`
	Candidate *Candidate `json:"candidate"`
}

// List lists one page of candidates (basic fields only), oldest first
// (API.md §3, GET /candidates). The Response's NextURL and NextSinceID point
// at the next page; see Walk.
func (s *CandidatesService) List(ctx context.Context, opts *CandidateListOptions) (_ []*Candidate, _ *Response, err error) {
	defer wrapError(&err, "list candidates", "")
	return list[*Candidate](ctx, s.client, "GET /candidates", s.client.endpointQuery(opts, "candidates"), "candidates")
}

// Get fetches one candidate with its detail fields (API.md §3,
// GET /candidates/:id; the body is wrapped in "candidate").
func (s *CandidatesService) Get(ctx context.Context, id string) (_ *Candidate, _ *Response, err error) {
	if err := pathParam("candidate id", id); err != nil {
		return nil, nil, fmt.Errorf("get candidate: %w", err)
	}
	defer wrapError(&err, "get candidate", id)
	return s.client.candidate(ctx, http.MethodGet, "GET /candidates/{id}", s.client.endpoint("candidates", id), nil)
}

// Create adds a candidate to the job with the given shortcode (API.md §4,
// POST /jobs/:shortcode/candidates). opts may be nil: Workable then treats the
// candidate as sourced and puts it in the sourced stage. Any 2xx is success.
// A duplicate email in the job is an error matching ErrAlreadyExists; a 5xx
// or timeout matches ErrOutcomeUnknown and is not retried.
func (s *CandidatesService) Create(ctx context.Context, shortcode string, c *NewCandidate, opts *CreateCandidateOptions) (_ *Candidate, _ *Response, err error) {
	if err := pathParam("shortcode", shortcode); err != nil {
		return nil, nil, fmt.Errorf("create candidate: %w", err)
	}
	if c == nil {
		return nil, nil, errors.New("create candidate: nil candidate")
	}
	defer wrapError(&err, "create candidate in job", shortcode)
	u := s.client.endpoint("jobs", shortcode, "candidates")
	body := struct {
		Sourced   *bool         `json:"sourced,omitempty"`
		Candidate *NewCandidate `json:"candidate"`
	}{Candidate: c}
	if opts != nil {
		body.Sourced = opts.Sourced
		if opts.Stage != "" {
			u.RawQuery = url.Values{"stage": {opts.Stage}}.Encode()
		}
	}
	return s.client.candidate(ctx, http.MethodPost, "POST /jobs/{shortcode}/candidates", u, body)
}

// Update changes exactly the fields set in p (API.md §5, PATCH
// /candidates/:id): the four list fields replace the stored lists wholesale.
// It returns the updated candidate. A 5xx or timeout matches
// ErrOutcomeUnknown and is not retried.
func (s *CandidatesService) Update(ctx context.Context, id string, p CandidatePatch) (_ *Candidate, _ *Response, err error) {
	if err := pathParam("candidate id", id); err != nil {
		return nil, nil, fmt.Errorf("update candidate: %w", err)
	}
	defer wrapError(&err, "update candidate", id)
	// CandidatePatch.MarshalJSON produces the {"candidate": {...}} body.
	return s.client.candidate(ctx, http.MethodPatch, "PATCH /candidates/{id}", s.client.endpoint("candidates", id), p)
}

// ListActivities lists one page of a candidate's activity stream (API.md §6,
// GET /candidates/:id/activities). Paging is followed like the other lists.
func (s *CandidatesService) ListActivities(ctx context.Context, id string, opts *ActivityListOptions) (_ []*Activity, _ *Response, err error) {
	if err := pathParam("candidate id", id); err != nil {
		return nil, nil, fmt.Errorf("list activities: %w", err)
	}
	defer wrapError(&err, "list activities of candidate", id)
	u := s.client.endpointQuery(opts, "candidates", id, "activities")
	return list[*Activity](ctx, s.client, "GET /candidates/{id}/activities", u, "activities")
}

// candidate sends one call whose answer is a candidate, and unwraps the
// "candidate" key of the answer.
func (c *Client) candidate(ctx context.Context, method, route string, u *url.URL, body any) (*Candidate, *Response, error) {
	var answer candidateBody
	resp, err := c.send(ctx, method, route, u, body, &answer)
	if err != nil {
		return nil, resp, err
	}
	if answer.Candidate == nil {
		return nil, resp, &requestError{route: route, msg: `response has no "candidate"`, unavailable: true}
	}
	return answer.Candidate, resp, nil
}
