package workable

import (
	"context"
	"fmt"
	"time"
)

// ListOptions are the paging and date parameters that GET /jobs (API.md
// §2) and GET /candidates (API.md §3) share; JobListOptions and
// CandidateListOptions embed them. Zero values are not sent.
type ListOptions struct {
	// Limit is the page size (Workable: default 50, max 100).
	Limit int `url:"limit"`
	// SinceID returns records with id >= SinceID; MaxID with id <= MaxID.
	SinceID string `url:"since_id"`
	MaxID   string `url:"max_id"`
	// CreatedAfter and UpdatedAfter are sent as RFC 3339 UTC.
	CreatedAfter *time.Time `url:"created_after"`
	UpdatedAfter *time.Time `url:"updated_after"`
}

// JobListOptions are the query parameters of GET /jobs (API.md §2). Zero
// values are not sent.
// Every parameter is documented for GET /jobs in API.md §2.
type JobListOptions struct {
	// State is draft, published, closed or archived.
	State string `url:"state"`
	ListOptions
	// IncludeFields adds detail fields (description, full_description,
	// requirements, benefits); sent comma-joined (API.md §2 marks the format
	// as inferred).
	IncludeFields []string `url:"include_fields"`
}

// List lists one page of jobs, oldest first (API.md §2, GET /jobs). The
// Response's NextURL and NextSinceID point at the next page; see Walk.
func (s *JobsService) List(ctx context.Context, opts *JobListOptions) (_ []*Job, _ *Response, err error) {
	defer wrapError(&err, "list jobs", "")
	return list[*Job](ctx, s.client, "GET /jobs", s.client.endpointQuery(opts, "jobs"), "jobs")
}

// Get fetches one job with its detail fields (API.md §3, GET /jobs/:shortcode;
// the body is the job itself, not wrapped).
func (s *JobsService) Get(ctx context.Context, shortcode string) (_ *Job, _ *Response, err error) {
	if err := pathParam("shortcode", shortcode); err != nil {
		return nil, nil, fmt.Errorf("get job: %w", err)
	}
	defer wrapError(&err, "get job", shortcode)
	return get[Job](ctx, s.client, "GET /jobs/{shortcode}", s.client.endpoint("jobs", shortcode))
}

// ListActivities lists one page of a job's activity stream (API.md §6, GET
// /jobs/:shortcode/activities): like a candidate's, plus the candidate each
// activity is about and "opened" actions; live ones page through
// …/jobs/X/activities?limit=50&since_id=… (API.md §10). Paging is followed
// like the other lists; see Walk.
func (s *JobsService) ListActivities(ctx context.Context, shortcode string, opts *ActivityListOptions) (_ []*Activity, _ *Response, err error) {
	if err := pathParam("shortcode", shortcode); err != nil {
		return nil, nil, fmt.Errorf("list job activities: %w", err)
	}
	defer wrapError(&err, "list activities of job", shortcode)
	u := s.client.endpointQuery(opts, "jobs", shortcode, "activities")
	return list[*Activity](ctx, s.client, "GET /jobs/{shortcode}/activities", u, "activities")
}

// ListStages lists the stages of one job's pipeline (API.md §9, GET
// /jobs/:shortcode/stages; same shape as GET /stages). The list is not paged.
func (s *JobsService) ListStages(ctx context.Context, shortcode string) (_ []*Stage, _ *Response, err error) {
	if err := pathParam("shortcode", shortcode); err != nil {
		return nil, nil, fmt.Errorf("list job stages: %w", err)
	}
	defer wrapError(&err, "list stages of job", shortcode)
	return array[*Stage](ctx, s.client, "GET /jobs/{shortcode}/stages", s.client.endpoint("jobs", shortcode, "stages"), "stages")
}

// ListMembers lists the members who collaborate on a job, each with its
// collaboration_role (API.md §9, GET /jobs/:shortcode/members; §10). The
// reference shows neither the envelope nor paging of this list, so a bare
// array and a {"members": […]} page are both read, and a page's
// paging.next is followed like the other lists (see Walk).
func (s *JobsService) ListMembers(ctx context.Context, shortcode string) (_ []*Member, _ *Response, err error) {
	if err := pathParam("shortcode", shortcode); err != nil {
		return nil, nil, fmt.Errorf("list job members: %w", err)
	}
	defer wrapError(&err, "list members of job", shortcode)
	return listOrArray[*Member](ctx, s.client, "GET /jobs/{shortcode}/members", s.client.endpoint("jobs", shortcode, "members"), "members")
}
