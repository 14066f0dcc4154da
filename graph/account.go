package graph

import (
	"context"
	"fmt"

	"github.com/workablegw/gateway/workable"
)

const (
	// memberPageLimit and maxMemberPages bound Query.members to 500
	// members (5 Workable calls).
	memberPageLimit = 100
	maxMemberPages  = 5
)

// stages resolves Query.stages: one GET /stages.
func (r *Resolver) stages(ctx context.Context) ([]workable.Stage, error) {
	ctx = requestContext(ctx)
	stateFrom(ctx).noResponseCache() // not cached by record, so not invalidated
	stages, _, err := r.clientFor(ctx).Accounts.ListStages(ctx)
	noteCall(ctx, "stages", err)
	if err != nil {
		return nil, fmt.Errorf("list stages: %w", err)
	}
	out := make([]workable.Stage, 0, len(stages))
	for _, s := range stages {
		out = append(out, *s)
	}
	return out, nil
}

// members resolves Query.members: GET /members pages, following Workable's
// since_id paging (at most maxMemberPages pages).
func (r *Resolver) members(ctx context.Context, role, email, name, status *string) ([]workable.Member, error) {
	ctx = requestContext(ctx)
	stateFrom(ctx).noResponseCache()
	opts := &workable.MemberListOptions{
		Limit:  memberPageLimit,
		Role:   deref(role),
		Email:  deref(email),
		Name:   deref(name),
		Status: deref(status),
	}
	out := []workable.Member{}
	seen := make(map[string]bool)
	for range maxMemberPages {
		members, resp, err := r.clientFor(ctx).Accounts.ListMembers(ctx, opts)
		noteCall(ctx, "members:"+opts.SinceID, err)
		if err != nil {
			return nil, fmt.Errorf("list members: %w", err)
		}
		for _, m := range members {
			// since_id is inclusive; never list a member twice.
			if !seen[m.ID] {
				seen[m.ID] = true
				out = append(out, *m)
			}
		}
		if resp == nil || resp.NextSinceID == "" || resp.NextSinceID == opts.SinceID {
			break
		}
		opts.SinceID = resp.NextSinceID
	}
	return out, nil
}

// account resolves Query.account: GET /accounts/{subdomain}.
func (r *Resolver) account(ctx context.Context) (*workable.Account, error) {
	ctx = requestContext(ctx)
	stateFrom(ctx).noResponseCache()
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
