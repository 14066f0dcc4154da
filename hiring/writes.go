// Package hiring makes the gateway's candidate writes on Workable:
// createCandidate, updateCandidate and the hiring actions (move,
// disqualify, revert, comment, rate, tags, copy, relocate). It runs a write
// at most once per idempotency key, makes the one Workable call (never
// retried), maps Workable's 404 and 422 to Problems on the input, and
// invalidates what the write made stale (upstream.Economy.CandidatesChanged),
// also when its outcome is unknown. It knows nothing of GraphQL: validating
// the input and presenting the outcome are the caller's.
package hiring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// Idempotent writes. A client sends an idempotency key; the first request
// with a key makes the Workable write, and a repeat within the TTL (24 h)
// gets the first result without calling Workable, while a concurrent repeat
// waits for the first. The key is scoped to the credential's namespace, the
// caller's API key and what Write.Scope names (idempotency.ScopedKey), and
// bound to the normalised input: a repeat with another input is
// idempotency.ErrKeyReused. A write whose outcome is unknown keeps the key
// locked, so a retrying script can never create a second candidate; its
// repeats get ErrEarlierOutcomeUnknown.

// ErrEarlierOutcomeUnknown is a repeat of an idempotency key whose first
// write has an unknown outcome (5xx, timeout): the write may or may not
// have happened, and the key stays locked.
var ErrEarlierOutcomeUnknown = errors.New("the write of the earlier request with this idempotency key has an unknown outcome")

// Writes holds what every write of a gateway shares: the store that runs
// each idempotency key once and how long it remembers a key.
type Writes struct {
	Store idempotency.Store
	TTL   time.Duration
}

// Write describes a write for Once.
type Write struct {
	// Op names the write in errors ("create candidate").
	Op string
	// Key is the request's idempotency key ("" for none) and Scope what
	// else it is scoped by beside the credential and the caller ("" for
	// nothing).
	Key, Scope string
	// Input is what the key is bound to: a repeat with another input is
	// refused.
	Input any
}

// Once runs send at most once per idempotency key of the credential whose
// cache namespace is namespace (every time without a key) and returns its outcome, or the outcome the first
// request with the key stored (replayed). send returns Workable's 404 and
// 422 in its outcome; an error matching workable.ErrOutcomeUnknown keeps
// the key locked, so that a retrying script can never repeat a write that
// may have happened. A key used before with another input is
// idempotency.ErrKeyReused; a repeat of a write whose outcome is unknown
// ErrEarlierOutcomeUnknown.
func Once[T any](ctx context.Context, ws Writes, namespace string, w Write, send func(context.Context) (T, error)) (out T, replayed bool, err error) {
	if w.Key == "" {
		out, err = send(ctx)
		return out, false, err
	}
	// Without API keys every client is anonymous (""), so that a script
	// retrying from another address still finds its key.
	who := ""
	if p := access.PrincipalFrom(ctx); p.Authenticated {
		who = p.ID
	}
	fingerprint, err := json.Marshal(w.Input)
	if err != nil {
		return out, false, fmt.Errorf("%s: fingerprint the input: %w", w.Op, err)
	}
	key := w.Key
	if w.Scope != "" {
		key = w.Scope + "\x00" + key
	}
	scoped := idempotency.ScopedKey(namespace, who, key)
	result, replayed, err := ws.Store.Do(ctx, scoped, idempotency.Fingerprint(fingerprint), ws.TTL,
		func(ctx context.Context) ([]byte, error) {
			o, err := send(ctx)
			if err != nil {
				if errors.Is(err, workable.ErrOutcomeUnknown) {
					return nil, fmt.Errorf("%w: %w", idempotency.ErrOutcomeUnknown, err)
				}
				return nil, err
			}
			return json.Marshal(o)
		})
	switch {
	case err != nil && replayed && errors.Is(err, idempotency.ErrOutcomeUnknown):
		return out, replayed, fmt.Errorf("%s: %w", w.Op, ErrEarlierOutcomeUnknown)
	case err != nil:
		return out, replayed, err
	}
	if err := json.Unmarshal(result, &out); err != nil {
		return out, replayed, fmt.Errorf("%s: decode the stored result: %w", w.Op, err)
	}
	return out, replayed, nil
}

// NewCandidate is a validated createCandidate input, ready for
// Candidates.Create. Its JSON is the fingerprint idempotency keys are bound
// to.
type NewCandidate struct {
	Shortcode string
	Candidate *workable.NewCandidate
	Options   *workable.CreateCandidateOptions
}

// Created is what the idempotency store keeps of a create: Workable's
// candidate, or the problems of Workable's 404/422 (a repeat gets the same
// answer).
type Created struct {
	Candidate *workable.Candidate `json:"candidate,omitempty"`
	Problems  []Problem           `json:"userErrors,omitempty"`
}

// Create makes one POST /jobs/{shortcode}/candidates for req, once per key
// ("" for none). An unknown outcome invalidates the candidate lists.
func (ws Writes) Create(ctx context.Context, e *upstream.Economy, key string, req NewCandidate) (out Created, replayed bool, err error) {
	w := Write{Op: "create candidate", Key: key, Input: req}
	return Once(ctx, ws, e.Namespace(), w, func(ctx context.Context) (Created, error) {
		c, _, err := e.Client().Candidates.Create(ctx, req.Shortcode, req.Candidate, req.Options)
		if err != nil {
			if problems := WriteProblems(err, InputAt("jobShortcode"), "Workable has no job with this shortcode"); problems != nil {
				return Created{Problems: problems}, nil
			}
			if errors.Is(err, workable.ErrOutcomeUnknown) {
				e.CandidatesChanged(ctx)
			}
			return Created{}, err
		}
		return Created{Candidate: c}, nil
	})
}

// Update makes one PATCH /candidates/{id}. Workable's 404 and 422 come
// back as problems; an unknown outcome invalidates the candidate and the
// candidate lists.
func Update(ctx context.Context, e *upstream.Economy, id string, patch workable.CandidatePatch) (*workable.Candidate, []Problem, error) {
	c, _, err := e.Client().Candidates.Update(ctx, id, patch)
	if err != nil {
		if problems := WriteProblems(err, InputAt("id"), "Workable has no candidate with this id"); problems != nil {
			return nil, problems, nil
		}
		if errors.Is(err, workable.ErrOutcomeUnknown) {
			e.CandidatesChanged(ctx, id)
		}
		return nil, nil, err
	}
	return c, nil, nil
}
