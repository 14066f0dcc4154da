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
func (s *CandidatesService) List(ctx context.Context, opts *CandidateListOptions) ([]*Candidate, *Response, error) {
	u := s.client.endpoint("candidates")
	u.RawQuery = queryValues(opts).Encode()
	cands, resp, err := list[*Candidate](ctx, s.client, "GET /candidates", u, "candidates")
	if err != nil {
		return nil, resp, fmt.Errorf("list candidates: %w", err)
	}
	return cands, resp, nil
}

// Get fetches one candidate with its detail fields (API.md §3,
// GET /candidates/:id; the body is wrapped in "candidate").
func (s *CandidatesService) Get(ctx context.Context, id string) (*Candidate, *Response, error) {
	if err := pathParam("candidate id", id); err != nil {
		return nil, nil, fmt.Errorf("get candidate: %w", err)
	}
	k, err := newCall(http.MethodGet, "GET /candidates/{id}", s.client.endpoint("candidates", id), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("get candidate %s: %w", id, err)
	}
	cand, resp, err := s.client.doCandidate(ctx, k)
	if err != nil {
		return nil, resp, fmt.Errorf("get candidate %s: %w", id, err)
	}
	return cand, resp, nil
}

// Create adds a candidate to the job with the given shortcode (API.md §4,
// POST /jobs/:shortcode/candidates). opts may be nil: Workable then treats the
// candidate as sourced and puts it in the sourced stage. Any 2xx is success.
// A duplicate email in the job is an error matching ErrAlreadyExists; a 5xx
// or timeout matches ErrOutcomeUnknown and is not retried.
func (s *CandidatesService) Create(ctx context.Context, shortcode string, c *NewCandidate, opts *CreateCandidateOptions) (*Candidate, *Response, error) {
	if err := pathParam("shortcode", shortcode); err != nil {
		return nil, nil, fmt.Errorf("create candidate: %w", err)
	}
	if c == nil {
		return nil, nil, errors.New("create candidate: nil candidate")
	}
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
	k, err := newCall(http.MethodPost, "POST /jobs/{shortcode}/candidates", u, body)
	if err != nil {
		return nil, nil, fmt.Errorf("create candidate in job %s: %w", shortcode, err)
	}
	cand, resp, err := s.client.doCandidate(ctx, k)
	if err != nil {
		return nil, resp, fmt.Errorf("create candidate in job %s: %w", shortcode, err)
	}
	return cand, resp, nil
}

// Update changes exactly the fields set in p (API.md §5, PATCH
// /candidates/:id): the four list fields replace the stored lists wholesale.
// It returns the updated candidate. A 5xx or timeout matches
// ErrOutcomeUnknown and is not retried.
func (s *CandidatesService) Update(ctx context.Context, id string, p CandidatePatch) (*Candidate, *Response, error) {
	if err := pathParam("candidate id", id); err != nil {
		return nil, nil, fmt.Errorf("update candidate: %w", err)
	}
	// CandidatePatch.MarshalJSON produces the {"candidate": {...}} body.
	k, err := newCall(http.MethodPatch, "PATCH /candidates/{id}", s.client.endpoint("candidates", id), p)
	if err != nil {
		return nil, nil, fmt.Errorf("update candidate %s: %w", id, err)
	}
	cand, resp, err := s.client.doCandidate(ctx, k)
	if err != nil {
		return nil, resp, fmt.Errorf("update candidate %s: %w", id, err)
	}
	return cand, resp, nil
}

// ListActivities lists one page of a candidate's activity stream (API.md §6,
// GET /candidates/:id/activities). Paging is followed like the other lists.
func (s *CandidatesService) ListActivities(ctx context.Context, id string, opts *ActivityListOptions) ([]*Activity, *Response, error) {
	if err := pathParam("candidate id", id); err != nil {
		return nil, nil, fmt.Errorf("list activities: %w", err)
	}
	u := s.client.endpoint("candidates", id, "activities")
	u.RawQuery = queryValues(opts).Encode()
	acts, resp, err := list[*Activity](ctx, s.client, "GET /candidates/{id}/activities", u, "activities")
	if err != nil {
		return nil, resp, fmt.Errorf("list activities of candidate %s: %w", id, err)
	}
	return acts, resp, nil
}

// doCandidate sends k and unwraps the "candidate" key of the answer.
func (c *Client) doCandidate(ctx context.Context, k call) (*Candidate, *Response, error) {
	var body candidateBody
	resp, err := c.do(ctx, k, &body)
	if err != nil {
		return nil, resp, err
	}
	if body.Candidate == nil {
		return nil, resp, &requestError{route: k.route, msg: `response has no "candidate"`, unavailable: true}
	}
	return body.Candidate, resp, nil
}
