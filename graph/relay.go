package graph

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// Relay's Global Object Identification. Every id field keeps Workable's own
// id (clients and scripts rely on it); globalId is the opaque id of the
// Node interface, which Query.node and Query.nodes take. A global id is
// base64url of "Type:ref", where ref is what finds the object again
// through the loaders that serve it elsewhere, so that an object already
// cached costs no Workable call:
//
//	Job:<shortcode>              (Workable reads jobs by shortcode)
//	Candidate:<id>
//	Activity:<candidate id>:<id> (Workable reads activities by candidate)
//	JobActivity:<shortcode>:<id> (a job's own event, read through the job)
//
// Global ids are per Workable account, like the ids inside them: the
// credential a request uses (X-Workable-Credential) decides which account
// they are looked up in.

// Node types of global ids.
const (
	nodeJob       = "Job"
	nodeCandidate = "Candidate"
	nodeActivity  = "Activity"
	// nodeJobActivity is an Activity of a job that names no candidate.
	nodeJobActivity = "JobActivity"
)

// maxNodes bounds the ids of one Query.nodes.
const maxNodes = 100

// globalID returns the global id of an object of type typ found by refs.
func globalID(typ string, refs ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + strings.Join(refs, ":")))
}

// nodeRef is a decoded global id.
type nodeRef struct {
	typ  string
	refs []string
}

// parseGlobalID decodes a global id, strictly: only what globalID would
// have produced for a known type, with ids of the shape Workable uses.
func parseGlobalID(id string) (nodeRef, error) {
	bad := badInput("%q is not a global id of this API: pass the globalId of a Job, Candidate or Activity", truncateForMessage(id))
	raw, err := base64.RawURLEncoding.Strict().DecodeString(id)
	if err != nil || len(id) > maxCursorLen {
		return nodeRef{}, bad
	}
	parts := strings.Split(string(raw), ":")
	want := map[string]int{nodeJob: 1, nodeCandidate: 1, nodeActivity: 2, nodeJobActivity: 2}[parts[0]]
	if want == 0 || len(parts)-1 != want {
		return nodeRef{}, bad
	}
	for _, p := range parts[1:] {
		if !workable.ValidID(p) {
			return nodeRef{}, bad
		}
	}
	return nodeRef{typ: parts[0], refs: parts[1:]}, nil
}

// truncateForMessage shortens a client's value quoted in an error message.
func truncateForMessage(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// jobGlobalID resolves Job.globalId.
func jobGlobalID(j *model.Job) string { return globalID(nodeJob, j.Shortcode) }

// candidateGlobalID resolves Candidate.globalId.
func candidateGlobalID(c *workable.Candidate) string { return globalID(nodeCandidate, c.ID) }

// activityGlobalID resolves Activity.globalId: through its candidate's
// list, or the job's for a job's own event. The activity must know one of
// them (activitiesConnection and the node resolver fill them in).
func activityGlobalID(a *model.Activity) (string, error) {
	switch {
	case a.CandidateID != "":
		return globalID(nodeActivity, a.CandidateID, a.ID), nil
	case a.JobShortcode != "":
		return globalID(nodeJobActivity, a.JobShortcode, a.ID), nil
	default:
		return "", errActivityWithoutList
	}
}

// errActivityWithoutList is a bug: an Activity value built without the
// list it came from.
var errActivityWithoutList = &gqlerror.Error{Message: "internal error", Extensions: map[string]any{"code": CodeInternal}}

// node resolves Query.node.
func (r *Resolver) node(ctx context.Context, id string) (model.Node, error) {
	ref, err := parseGlobalID(id)
	if err != nil {
		return nil, err
	}
	return r.loadNode(ctx, ref)
}

// nodes resolves Query.nodes: every id is checked first, then all are
// loaded together (so that the loaders batch them); an object that fails
// to load is null with its error at its index.
func (r *Resolver) nodes(ctx context.Context, ids []string) ([]model.Node, error) {
	if len(ids) > maxNodes {
		return nil, badInput("nodes takes at most %d ids, got %d", maxNodes, len(ids))
	}
	refs := make([]nodeRef, len(ids))
	for i, id := range ids {
		ref, err := parseGlobalID(id)
		if err != nil {
			return nil, err
		}
		refs[i] = ref
	}
	out := make([]model.Node, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Go(func() { out[i], errs[i] = r.loadNode(ctx, ref) })
	}
	wg.Wait()
	path := graphql.GetPath(ctx)
	for i, err := range errs {
		if err == nil {
			continue
		}
		// The error presenter classifies err (wrapped) as usual; the path
		// points at the element.
		out[i] = nil
		graphql.AddError(ctx, &gqlerror.Error{
			Err:     err,
			Message: err.Error(),
			Path:    append(append(ast.Path{}, path...), ast.PathIndex(i)),
		})
	}
	return out, nil
}

// loadNode loads the object ref names through the loaders of its type; a
// nil result (typed, so that the Node interface marshals it as null) when
// Workable no longer has it.
func (r *Resolver) loadNode(ctx context.Context, ref nodeRef) (model.Node, error) {
	switch ref.typ {
	case nodeJob:
		return r.jobNode(ctx, ref.refs[0])
	case nodeCandidate:
		return r.candidateNode(ctx, ref.refs[0])
	case nodeActivity:
		return r.activityNode(ctx, upstream.ActivityKey{CandidateID: ref.refs[0], ID: ref.refs[1]})
	default:
		return r.activityNode(ctx, upstream.ActivityKey{Shortcode: ref.refs[0], ID: ref.refs[1]})
	}
}

// nodeFieldsOf returns the names of the fields the current field's
// selection asks of an object of type typ (fragments on Node included).
func nodeFieldsOf(ctx context.Context, typ string) []string {
	if graphql.GetFieldContext(ctx) == nil {
		return nil
	}
	fields := graphql.CollectFieldsCtx(ctx, []string{typ, "Node"})
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}

// jobNode loads a job for Query.node as Query.job does: its list item, its
// detail, or both, as the selection needs.
func (r *Resolver) jobNode(ctx context.Context, shortcode string) (model.Node, error) {
	j, err := r.loadJob(ctx, shortcode, nodeFieldsOf(ctx, nodeJob))
	if err != nil || j == nil {
		return (*model.Job)(nil), err
	}
	return j, nil
}

// candidateNode loads a candidate for Query.node as Query.candidate does:
// its list fields from a cached list page when the selection asks for no
// detail field, else its detail.
func (r *Resolver) candidateNode(ctx context.Context, id string) (model.Node, error) {
	l := r.loadersFor(ctx)
	loader := l.candidate
	if !slices.ContainsFunc(nodeFieldsOf(ctx, nodeCandidate), isCandidateDetailField) {
		loader = l.candidateBasic
	}
	c, err := load(ctx, loader, id)
	if err != nil || c == nil {
		return (*workable.Candidate)(nil), err
	}
	return c, nil
}

// activityNode loads an activity for Query.node: from the cache when a page
// of its candidate's (or job's) activity listed it, else with one call.
// The stages of a candidate's activity belong to the candidate's job, which
// a global id does not carry: activityStage falls back to the account's
// pipeline, which holds every stage of most accounts.
func (r *Resolver) activityNode(ctx context.Context, k upstream.ActivityKey) (model.Node, error) {
	a, err := load(ctx, r.loadersFor(ctx).activity, k)
	if err != nil || a == nil {
		return (*model.Activity)(nil), err
	}
	// A copy: the loaded value may be shared with other requests.
	return &model.Activity{Activity: *a, CandidateID: activityCandidate(a, k.CandidateID), JobShortcode: k.Shortcode}, nil
}
