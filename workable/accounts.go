package workable

import "context"

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
func (s *AccountsService) Get(ctx context.Context) (_ *Account, _ *Response, err error) {
	defer wrapError(&err, "get account", "")
	return get[Account](ctx, s.client, "GET /accounts/{subdomain}", s.client.endpoint("accounts", s.client.subdomain))
}

// ListStages lists the account's hiring pipeline stages (API.md §9,
// GET /stages). The list is not paged.
func (s *AccountsService) ListStages(ctx context.Context) (_ []*Stage, _ *Response, err error) {
	defer wrapError(&err, "list stages", "")
	return array[*Stage](ctx, s.client, "GET /stages", s.client.endpoint("stages"), "stages")
}

// ListDepartments lists the account's departments (API.md §9, GET
// /departments), which a live account answers as a bare JSON array (API.md
// §10); a {"departments": […]} body is accepted too. The list is not paged.
func (s *AccountsService) ListDepartments(ctx context.Context) (_ []*AccountDepartment, _ *Response, err error) {
	defer wrapError(&err, "list departments", "")
	return array[*AccountDepartment](ctx, s.client, "GET /departments", s.client.endpoint("departments"), "departments")
}

// ListDisqualificationReasons lists the reasons a candidate can be
// disqualified for (API.md §9, GET /disqualification_reasons), a bare JSON
// array in live answers (API.md §10); a {"disqualification_reasons": […]}
// body is accepted too. The list is not paged.
func (s *AccountsService) ListDisqualificationReasons(ctx context.Context) (_ []*DisqualificationReason, _ *Response, err error) {
	defer wrapError(&err, "list disqualification reasons", "")
	return array[*DisqualificationReason](ctx, s.client, "GET /disqualification_reasons",
		s.client.endpoint("disqualification_reasons"), "disqualification_reasons")
}

// ListMembers lists one page of the account's members (API.md §9,
// GET /members). Paging is followed like the other lists; see Walk.
func (s *AccountsService) ListMembers(ctx context.Context, opts *MemberListOptions) (_ []*Member, _ *Response, err error) {
	defer wrapError(&err, "list members", "")
	return list[*Member](ctx, s.client, "GET /members", s.client.endpointQuery(opts, "members"), "members")
}
