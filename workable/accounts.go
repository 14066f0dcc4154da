package workable

import (
	"context"
	"fmt"
	"net/http"
)

// MemberListOptions are the query parameters of GET /members (API.md §9).
// Zero values are not sent.
// Every parameter is documented for GET /members in API.md §9.
type MemberListOptions struct {
	// Limit is the page size (Workable: default 50).
	Limit int `url:"limit"`
	// SinceID returns members with id >= SinceID; MaxID with id <= MaxID.
	SinceID string `url:"since_id"`
	MaxID   string `url:"max_id"`
	// Role is simple, admin or reviewer.
	Role string `url:"role"`
	// Shortcode restricts the list to a job's collaborators.
	Shortcode string `url:"shortcode"`
	// Email and Name filter by exact value.
	Email string `url:"email"`
	Name  string `url:"name"`
	// Status is active (Workable's default), inactive or all.
	Status string `url:"status"`
}

// Get fetches the client's own account (API.md §9, GET /accounts/:subdomain;
// the body is the account itself). It is a cheap way to test a token.
func (s *AccountsService) Get(ctx context.Context) (*Account, *Response, error) {
	k, err := newCall(http.MethodGet, "GET /accounts/{subdomain}", s.client.endpoint("accounts", s.client.subdomain), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("get account: %w", err)
	}
	acct := new(Account)
	resp, err := s.client.do(ctx, k, acct)
	if err != nil {
		return nil, resp, fmt.Errorf("get account: %w", err)
	}
	return acct, resp, nil
}

// ListStages lists the account's hiring pipeline stages (API.md §9,
// GET /stages). The list is not paged.
func (s *AccountsService) ListStages(ctx context.Context) ([]*Stage, *Response, error) {
	stages, resp, err := array[*Stage](ctx, s.client, "GET /stages", s.client.endpoint("stages"), "stages")
	if err != nil {
		return nil, resp, fmt.Errorf("list stages: %w", err)
	}
	return stages, resp, nil
}

// ListDepartments lists the account's departments (API.md §9, GET
// /departments), which a live account answers as a bare JSON array (API.md
// §10); a {"departments": […]} body is accepted too. The list is not paged.
func (s *AccountsService) ListDepartments(ctx context.Context) ([]*AccountDepartment, *Response, error) {
	deps, resp, err := array[*AccountDepartment](ctx, s.client, "GET /departments", s.client.endpoint("departments"), "departments")
	if err != nil {
		return nil, resp, fmt.Errorf("list departments: %w", err)
	}
	return deps, resp, nil
}

// ListDisqualificationReasons lists the reasons a candidate can be
// disqualified for (API.md §9, GET /disqualification_reasons), a bare JSON
// array in live answers (API.md §10); a {"disqualification_reasons": […]}
// body is accepted too. The list is not paged.
func (s *AccountsService) ListDisqualificationReasons(ctx context.Context) ([]*DisqualificationReason, *Response, error) {
	reasons, resp, err := array[*DisqualificationReason](ctx, s.client, "GET /disqualification_reasons",
		s.client.endpoint("disqualification_reasons"), "disqualification_reasons")
	if err != nil {
		return nil, resp, fmt.Errorf("list disqualification reasons: %w", err)
	}
	return reasons, resp, nil
}

// ListMembers lists one page of the account's members (API.md §9,
// GET /members). Paging is followed like the other lists; see Walk.
func (s *AccountsService) ListMembers(ctx context.Context, opts *MemberListOptions) ([]*Member, *Response, error) {
	u := s.client.endpoint("members")
	u.RawQuery = queryValues(opts).Encode()
	members, resp, err := list[*Member](ctx, s.client, "GET /members", u, "members")
	if err != nil {
		return nil, resp, fmt.Errorf("list members: %w", err)
	}
	return members, resp, nil
}
