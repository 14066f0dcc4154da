package graph

import (
	"context"
	"fmt"

	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

const (
	// memberPageLimit and maxMemberPages bound Query.members to 500
	// members (5 Workable calls).
	memberPageLimit = 100
	maxMemberPages  = 5
)

// stages resolves Query.stages: GET /stages through the stages loader, the
// same cached pipeline that types activities and gives candidates their
// stage slug.
func (r *Resolver) stages(ctx context.Context) ([]workable.Stage, error) {
	stages, err := load(ctx, r.loadersFor(ctx).stages, "")
	if err != nil {
		return nil, fmt.Errorf("list stages: %w", err)
	}
	out := make([]workable.Stage, 0, len(stages))
	for _, s := range stages {
		out = append(out, *s)
	}
	return out, nil
}

// members resolves Query.members: GET /members with the filters of API.md
// §9 (limit, role, email, name, status), then each paging.next exactly as
// given (at most maxMemberPages pages; more is an error rather than a
// silently cut list).
func (r *Resolver) members(ctx context.Context, role, email, name, status *string) ([]workable.Member, error) {
	if err := checkMemberFilters(role, email, name, status); err != nil {
		return nil, err
	}
	ctx = gqlhttp.RequestContext(ctx)
	upstream.RequestFrom(ctx).NoResponseCache()
	c := r.clientFor(ctx)
	opts := &workable.MemberListOptions{
		Limit:  memberPageLimit,
		Role:   deref(role),
		Email:  deref(email),
		Name:   deref(name),
		Status: deref(status),
	}
	out := []workable.Member{}
	seen := make(map[string]bool)
	for m, err := range workable.Walk(ctx, c, func(ctx context.Context) ([]*workable.Member, *workable.Response, error) {
		return c.Accounts.ListMembers(ctx, opts)
	}, maxMemberPages) {
		if err != nil {
			noteCall(ctx, "members", err)
			return nil, fmt.Errorf("list members: %w", err)
		}
		// Never list a member twice, whatever the pages overlap.
		if !seen[m.ID] {
			seen[m.ID] = true
			out = append(out, *m)
		}
	}
	noteCall(ctx, "members", nil)
	return out, nil
}

// account resolves Query.account: GET /accounts/{subdomain}.
func (r *Resolver) account(ctx context.Context) (*workable.Account, error) {
	ctx = gqlhttp.RequestContext(ctx)
	upstream.RequestFrom(ctx).NoResponseCache()
	a, _, err := r.clientFor(ctx).Accounts.Get(ctx)
	noteCall(ctx, "account", err)
	if err != nil {
		return nil, fmt.Errorf("get account: %w", err)
	}
	return a, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
