package workable

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// MemberListOptions are the query parameters of GET /members (API.md §9).
// Zero values are not sent.
type MemberListOptions struct {
	// Limit is the page size (Workable: default 50).
	Limit int
	// SinceID returns members with id >= SinceID; MaxID with id <= MaxID.
	SinceID, MaxID string
	// Role is simple, admin or reviewer.
	Role string
	// Shortcode restricts the list to a job's collaborators.
	Shortcode string
	// Email and Name filter by exact value.
	Email, Name string
	// Status is active (Workable's default), inactive or all.
	Status string
}

func (o *MemberListOptions) values() url.Values {
	q := url.Values{}
	if o == nil {
		return q
	}
	setInt(q, "limit", o.Limit)
	setString(q, "since_id", o.SinceID)
	setString(q, "max_id", o.MaxID)
	setString(q, "role", o.Role)
	setString(q, "shortcode", o.Shortcode)
	setString(q, "email", o.Email)
	setString(q, "name", o.Name)
	setString(q, "status", o.Status)
	return q
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
	k, err := newCall(http.MethodGet, "GET /stages", s.client.endpoint("stages"), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("list stages: %w", err)
	}
	var body struct {
		Stages []*Stage `json:"stages"`
	}
	resp, err := s.client.do(ctx, k, &body)
	if err != nil {
		return nil, resp, fmt.Errorf("list stages: %w", err)
	}
	return body.Stages, resp, nil
}

// ListMembers lists one page of the account's members (API.md §9,
// GET /members). Paging is followed like the other lists; see Walk.
func (s *AccountsService) ListMembers(ctx context.Context, opts *MemberListOptions) ([]*Member, *Response, error) {
	u := s.client.endpoint("members")
	u.RawQuery = opts.values().Encode()
	members, resp, err := list[*Member](ctx, s.client, "GET /members", u, "members")
	if err != nil {
		return nil, resp, fmt.Errorf("list members: %w", err)
	}
	return members, resp, nil
}
