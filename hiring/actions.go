package hiring

import (
	"cmp"
	"context"
	"errors"

	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// Action is a validated hiring action (API.md §9, in the answer shapes of
// a live account, §10), ready for Workable.
type Action struct {
	// Op is the mutation's name; it scopes idempotency keys (one key may
	// cover actions of different kinds in one request) and names the write
	// in errors.
	Op string
	// ID is the candidate acted on.
	ID string
	// Key is the idempotency key ("" for none).
	Key string
	// Request is what is sent to Workable, the fingerprint of the input
	// for idempotency.
	Request any
	// Fields maps the keys of Workable's validation_errors to the input's
	// fields (a key's first segment is tried too: "comment.body").
	Fields map[string]string
	// NotFound is the message of a 404 ("" for "Workable has no candidate
	// with this id").
	NotFound string
	// Send makes the Workable write.
	Send func(ctx context.Context, c *workable.Client) (Outcome, error)
}

// Outcome is what an action's Workable write gave; the idempotency store
// keeps it for repeats.
type Outcome struct {
	// CandidateID is the candidate the payload answers when it is not the
	// one acted on: the new candidate of a copy or a relocation.
	CandidateID string `json:"candidateId,omitempty"`
	// Unnamed reports a copy or relocation whose answer named no new
	// candidate (the write happened).
	Unnamed bool `json:"unnamed,omitempty"`
	// CommentID is Workable's id of a new comment, when it gave one.
	CommentID string `json:"commentId,omitempty"`
	// Problems are Workable's 404 or 422, mapped to the input.
	Problems []Problem `json:"userErrors,omitempty"`
	// Sent reports that this request made the write and Workable took it
	// (false for a replay of an earlier request's with the same
	// idempotency key, and for Problems).
	Sent bool `json:"-"`
}

// Act runs a valid action once (once per a.Key when it has one): one
// Workable write, never retried, whose 404 and 422 come back as the
// outcome's Problems; any other failure is the error. After the write, and
// also when its outcome is unknown, it invalidates what the write made
// stale (upstream.Economy.CandidatesChanged: the candidate lists, and the
// candidate acted on and the one a copy or relocation made).
func (ws Writes) Act(ctx context.Context, e *upstream.Economy, a Action) (Outcome, error) {
	w := Write{Op: a.Op, Key: a.Key, Scope: a.Op, Input: struct {
		Op, ID  string
		Request any
	}{a.Op, a.ID, a.Request}}
	out, replayed, err := Once(ctx, ws, e.Namespace(), w, func(ctx context.Context) (Outcome, error) {
		return send(ctx, e, a)
	})
	out.Sent = err == nil && !replayed && len(out.Problems) == 0
	return out, err
}

// send makes the Workable write of a valid action and invalidates what it
// made stale.
func send(ctx context.Context, e *upstream.Economy, a Action) (Outcome, error) {
	out, err := a.Send(ctx, e.Client())
	notFound := cmp.Or(a.NotFound, "Workable has no candidate with this id")
	switch {
	case err == nil:
		e.CandidatesChanged(ctx, a.ID, out.CandidateID)
		return out, nil
	case errors.Is(err, workable.ErrNotFound):
		return Outcome{Problems: []Problem{{Field: InputAt("id"), Message: notFound, Code: CodeNotFound}}}, nil
	case errors.Is(err, workable.ErrValidation):
		return Outcome{Problems: actionProblems(err, a.Fields)}, nil
	case errors.Is(err, workable.ErrOutcomeUnknown):
		// Nothing of the answer is trusted: everything the action could
		// have changed is read again. (A copy's or relocation's new
		// candidate is unknown; the lists generation covers its lists.)
		e.CandidatesChanged(ctx, a.ID)
	}
	return out, err
}
