package upstream

import (
	"context"
	"fmt"

	"github.com/workablegw/gateway/cache"
)

// Invalidation for changes the gateway learns of from outside its own
// writes: Workable's webhooks and the background refresher see changes
// made in Workable itself. Unlike the write paths, which log a failure
// (the write happened; the caller's answer does not depend on the cache),
// these return it: a webhook that could not invalidate answers 503 so that
// Workable delivers it again. Either way the invalidation is recorded and
// applied once the cache answers (pendinginvalidation.go).

// JobsGenKey is the key of the jobs generation: it guards every cached job
// (detail and list item) and jobs list page.
func (e *Economy) JobsGenKey() string { return e.jobsGen }

// InvalidateCandidates makes stale, on every replica sharing the cache,
// what a change to the candidates ids changes: the candidate lists
// generation (every candidate list page, the list fields of every
// candidate, the job activity pages) and each candidate's generation (its
// detail and activities). Whole responses cached from them stop counting
// too. It returns the cache's error; it does nothing without a cache.
func (e *Economy) InvalidateCandidates(ctx context.Context, ids ...string) error {
	if e.store == nil {
		return nil
	}
	items := []cache.Item{genItem(e.ListsGenKey(), newGeneration())}
	for _, id := range ids {
		if id != "" {
			items = append(items, genItem(e.CandidateGenKey(id), newGeneration()))
		}
	}
	// The change happened in Workable: the cache is told even if the
	// caller has gone away.
	if err := e.invalidate(ctx, items); err != nil {
		return fmt.Errorf("invalidate %d candidates: %w", len(ids), err)
	}
	return nil
}

// InvalidateJobs makes every cached job and jobs list page stale, on every
// replica sharing the cache (one generation guards them all: jobs change
// rarely, and a job's fields show on every page that lists it). It
// returns the cache's error; it does nothing without a cache.
func (e *Economy) InvalidateJobs(ctx context.Context) error {
	if e.store == nil {
		return nil
	}
	if err := e.invalidate(ctx, []cache.Item{genItem(e.JobsGenKey(), newGeneration())}); err != nil {
		return fmt.Errorf("invalidate the jobs: %w", err)
	}
	return nil
}
