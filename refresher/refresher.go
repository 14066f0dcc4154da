// Package refresher keeps the gateway's cache warm in the background: per
// credential, it polls Workable's lists for what changed since a watermark
// (GET /candidates?updated_after= and GET /jobs?updated_after=, API.md §2,
// §3), makes stale what changed (the candidate lists, the changed
// candidates' details and activities, the jobs), and emits the candidate
// events that GraphQL subscriptions show.
//
// It spends only what users leave: its reads queue for the rate budget at
// workable.PriorityBackground (every user call goes first, so a user call
// waits for at most the one background call already under way), it makes
// a call only when no user call of its replica is waiting for the budget
// (and the budget shared through Redis holds the call back while a user
// call waits on any replica), and it makes at most Share of the budget's
// calls (REFRESH_BUDGET_SHARE, default 0.2: 2 of an account token's 10 per
// 10 s). Across replicas one refresher runs
// per credential: it holds a lease (in Redis when the gateway has one).
//
// A walk of a list that the budget interrupts resumes at the next round
// from where it stopped (the cursor is saved with the watermark), so a
// long backlog is worked through a little at a time.
package refresher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/workable"
)

// Defaults of Config.
const (
	DefaultInterval = 30 * time.Second
	DefaultShare    = 0.2
	// pageSize is the largest page Workable serves (API.md §2): the fewest
	// calls per change.
	pageSize = 100
	// skew is how far before the start of a walk the next walk's
	// updated_after is set: it covers changes made while the walk ran (a
	// candidate changed behind the walk's cursor) and clocks that differ
	// between the gateway and Workable. What the overlap shows again is
	// recognised (State.Seen) and not reported twice.
	skew = time.Minute
	// maxKnownStages bounds the stages remembered per credential to tell
	// a move from another change.
	maxKnownStages = 100_000
)

// Invalidator makes stale, on every replica, what changed for a
// credential: candidates (the candidate lists, and each candidate's detail
// and activities) and jobs.
type Invalidator interface {
	CandidatesChanged(ctx context.Context, credential string, ids ...string) error
	JobsChanged(ctx context.Context, credential string, shortcodes ...string) error
}

// Observer receives the refresher's measurements (see Metrics).
type Observer interface {
	// Call counts one call of the refresher to Workable (an attempt that
	// got a slot of the budget).
	Call(credential string)
	// Lag is how old the freshest complete picture of the credential is:
	// the time since the updated_after of the last complete walk of both
	// lists.
	Lag(credential string, lag time.Duration)
}

// Config configures one credential's refresher.
type Config struct {
	// Credential is the credential's nickname.
	Credential string
	// Client is the credential's client; its limiter is the budget shared
	// with the users (it must report its Budget).
	Client      *workable.Client
	Invalidator Invalidator
	Publisher   events.Publisher
	// Lease and State are shared by the replicas (Redis), or local.
	Lease Lease
	State StateStore
	// Changes, when set, remembers the changes announced (see
	// events.OncePerChange), so that a change a webhook announced already
	// is not published again; nil publishes every event.
	Changes idempotency.Store
	// Interval is the time between rounds (default DefaultInterval).
	Interval time.Duration
	// Share is the largest share of the budget's calls the refresher
	// makes, in (0, 1] (default DefaultShare).
	Share    float64
	Logger   *slog.Logger
	Observer Observer
}

// Refresher refreshes one credential. Run runs it; Round runs one round.
type Refresher struct {
	cfg   Config
	pacer *pacer
	once  *events.OncePerChange

	mu sync.Mutex
	// stages remembers each candidate's stage as last seen, to tell a move
	// from another change. It is kept in process: after a restart, or when
	// another replica takes the lease over, the first change seen of a
	// candidate is reported as a move to its current stage (harmless for a
	// board, which shows the candidate where it already is; dropping it
	// could hide a real move).
	stages map[string]string
}

// New returns a refresher, or an error when a dependency is missing.
func New(cfg Config) (*Refresher, error) {
	switch {
	case cfg.Credential == "":
		return nil, errors.New("refresher: no credential")
	case cfg.Client == nil:
		return nil, errors.New("refresher: no client")
	}
	if err := cfg.checkShared(); err != nil {
		return nil, err
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Share == 0 {
		cfg.Share = DefaultShare
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Refresher{cfg: cfg, stages: make(map[string]string)}
	r.once = events.NewOncePerChange(cfg.Publisher, cfg.Changes, 0)
	r.pacer = newPacer(cfg.Share, func() {
		if cfg.Observer != nil {
			cfg.Observer.Call(cfg.Credential)
		}
	})
	return r, nil
}

// checkShared checks what every credential's refresher shares (all but
// Credential and Client).
func (cfg Config) checkShared() error {
	switch {
	case cfg.Invalidator == nil:
		return errors.New("refresher: no invalidator")
	case cfg.Publisher == nil:
		return errors.New("refresher: no event publisher")
	case cfg.Lease == nil:
		return errors.New("refresher: no lease")
	case cfg.State == nil:
		return errors.New("refresher: no state store")
	case cfg.Share < 0 || cfg.Share > 1:
		return fmt.Errorf("refresher: share %v is not within (0, 1]", cfg.Share)
	}
	return nil
}

// Run runs a round every Interval until ctx ends, then gives up the
// lease. Failures are logged: the next round tries again.
func (r *Refresher) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		if err := r.Round(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "refresher: round failed; trying again at the next one",
				slog.String("credential", r.cfg.Credential), slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = r.cfg.Lease.Release(rctx, r.leaseKey())
			cancel()
			return
		case <-t.C:
		}
	}
}

// ErrNoBudgetReport means the client's limiter cannot report the budget,
// so the refresher cannot keep to its share: it makes no call.
var ErrNoBudgetReport = errors.New("refresher: the rate limiter does not report the budget")

func (r *Refresher) leaseKey() string { return "refresher:" + r.cfg.Credential }

// Round runs one round: when this process holds the credential's lease,
// it walks the candidates and the jobs changed since the watermarks, as
// far as the budget allows, and saves where it got to.
func (r *Refresher) Round(ctx context.Context) error {
	held, err := r.cfg.Lease.Hold(ctx, r.leaseKey(), 3*r.cfg.Interval)
	if err != nil {
		return fmt.Errorf("hold the lease: %w", err)
	}
	if !held {
		return nil
	}
	st, found, err := r.cfg.State.Load(ctx, r.cfg.Credential)
	if err != nil {
		return fmt.Errorf("load the watermark: %w", err)
	}
	if !found {
		// A first round looks one interval back: what changed before was
		// not cached by a gateway that was not running.
		start := time.Now().UTC().Add(-r.cfg.Interval)
		st = State{Candidates: Walk{After: start}, Jobs: Walk{After: start}}
	}
	walkErr := r.walkCandidates(ctx, &st.Candidates)
	if walkErr == nil {
		walkErr = r.walkJobs(ctx, &st.Jobs)
	}
	// Whatever the walks got through is saved, even when one stopped.
	if err := r.cfg.State.Save(ctx, r.cfg.Credential, st); err != nil {
		return errors.Join(walkErr, fmt.Errorf("save the watermark: %w", err))
	}
	if r.cfg.Observer != nil {
		r.cfg.Observer.Lag(r.cfg.Credential, time.Since(st.fresh()))
	}
	if errors.Is(walkErr, errOutOfShare) {
		return nil
	}
	return walkErr
}

// errOutOfShare stops a walk: the refresher may not make another call now.
var errOutOfShare = errors.New("refresher: no call left in its share now")

// call runs one Workable call when the pacer allows it.
func (r *Refresher) call(ctx context.Context, f func(ctx context.Context) error) error {
	b, err := r.cfg.Client.Budget(ctx)
	if err != nil {
		return errors.Join(ErrNoBudgetReport, err)
	}
	if !r.pacer.allow(b) {
		return errOutOfShare
	}
	err = f(workable.Background(ctx, r.pacer.spent))
	if errors.Is(err, workable.ErrRateLimited) {
		// A user came first, or Workable refused: the round stops here.
		return errOutOfShare
	}
	return err
}

// walkCandidates walks GET /candidates?updated_after= from w's cursor.
func (r *Refresher) walkCandidates(ctx context.Context, w *Walk) error {
	list := func(ctx context.Context, after time.Time, cursor string) ([]*workable.Candidate, *workable.Response, error) {
		opts := &workable.CandidateListOptions{ListOptions: workable.ListOptions{UpdatedAfter: &after, SinceID: cursor, Limit: pageSize}}
		return r.cfg.Client.Candidates.List(ctx, opts)
	}
	key := func(c *workable.Candidate) (string, time.Time) { return c.ID, updatedAt(c.CreatedAt, c.UpdatedAt) }
	return walk(ctx, r, w, "candidates", list, key, r.candidatesChanged)
}

// walkJobs walks GET /jobs?updated_after= from w's cursor.
func (r *Refresher) walkJobs(ctx context.Context, w *Walk) error {
	list := func(ctx context.Context, after time.Time, cursor string) ([]*workable.Job, *workable.Response, error) {
		opts := &workable.JobListOptions{ListOptions: workable.ListOptions{UpdatedAfter: &after, SinceID: cursor, Limit: pageSize}}
		return r.cfg.Client.Jobs.List(ctx, opts)
	}
	key := func(j *workable.Job) (string, time.Time) { return j.Shortcode, updatedAt(j.CreatedAt, j.UpdatedAt) }
	changed := func(ctx context.Context, jobs []*workable.Job, _ time.Time) error {
		shortcodes := make([]string, 0, len(jobs))
		for _, j := range jobs {
			shortcodes = append(shortcodes, j.Shortcode)
		}
		if err := r.cfg.Invalidator.JobsChanged(ctx, r.cfg.Credential, shortcodes...); err != nil {
			return fmt.Errorf("invalidate %d changed jobs: %w", len(shortcodes), err)
		}
		return nil
	}
	return walk(ctx, r, w, "jobs", list, key, changed)
}

// updatedAt is a record's updated_at, or its created_at when it has none.
func updatedAt(created time.Time, updated *time.Time) time.Time {
	if updated != nil {
		return *updated
	}
	return created
}

// walk pages through one list's changes since w.After, from w's cursor,
// as far as the pacer allows. Each page's records not handled yet (see
// Walk.Seen) go to changed, with the walk's watermark; they are marked
// seen only once changed succeeded, so that a failure shows them again at
// the next round. key returns a record's key and update time.
func walk[T any](ctx context.Context, r *Refresher, w *Walk, what string,
	list func(ctx context.Context, after time.Time, cursor string) ([]T, *workable.Response, error),
	key func(T) (string, time.Time),
	changed func(ctx context.Context, recs []T, after time.Time) error) error {
	for {
		if w.Cursor == "" && w.Started.IsZero() {
			w.Started = time.Now().UTC()
		}
		var page []T
		var resp *workable.Response
		err := r.call(ctx, func(ctx context.Context) error {
			var err error
			page, resp, err = list(ctx, w.After, w.Cursor)
			return err
		})
		if err != nil {
			return fmt.Errorf("list %s updated after %s: %w", what, w.After.Format(time.RFC3339), err)
		}
		var fresh []T
		for _, rec := range page {
			if k, at := key(rec); !w.seen(k, at) {
				fresh = append(fresh, rec)
			}
		}
		if len(fresh) > 0 {
			if err := changed(ctx, fresh, w.After); err != nil {
				return err
			}
		}
		for _, rec := range fresh {
			w.markSeen(key(rec))
		}
		if resp.NextSinceID == "" {
			w.finish()
			return nil
		}
		w.Cursor = resp.NextSinceID
	}
}

// candidatesChanged makes stale and reports changed candidates, created
// or moved since after.
func (r *Refresher) candidatesChanged(ctx context.Context, cands []*workable.Candidate, after time.Time) error {
	ids := make([]string, 0, len(cands))
	var evs []events.Event
	for _, c := range cands {
		ids = append(ids, c.ID)
		if e, ok := r.eventOf(c, updatedAt(c.CreatedAt, c.UpdatedAt), after); ok {
			evs = append(evs, e)
		}
	}
	if err := r.cfg.Invalidator.CandidatesChanged(ctx, r.cfg.Credential, ids...); err != nil {
		return fmt.Errorf("invalidate %d changed candidates: %w", len(ids), err)
	}
	for _, e := range evs {
		if _, err := r.once.Publish(ctx, e, e.At); err != nil {
			return fmt.Errorf("publish event %s: %w", e.ID, err)
		}
	}
	// Remembered only once reported: after a failure, the next round
	// compares with the stage the subscribers last heard of.
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cands {
		if _, known := r.stages[c.ID]; !known && len(r.stages) >= maxKnownStages {
			clear(r.stages)
		}
		r.stages[c.ID] = c.StageName()
	}
	return nil
}

// eventOf returns the event a changed candidate makes: created when it was
// created after the walk's watermark, moved when its stage is not the one
// last seen (or none was seen), none for another change (a comment, a tag).
func (r *Refresher) eventOf(c *workable.Candidate, updated, after time.Time) (events.Event, bool) {
	stage := c.StageName()
	r.mu.Lock()
	prev, known := r.stages[c.ID]
	r.mu.Unlock()
	kind := events.CandidateMoved
	switch {
	case c.CreatedAt.After(after):
		kind = events.CandidateCreated
	case known && prev == stage:
		return events.Event{}, false
	}
	return events.Event{
		ID:           "refresher:" + c.ID + ":" + strconv.FormatInt(updated.UnixMilli(), 10),
		Credential:   r.cfg.Credential,
		Kind:         kind,
		CandidateID:  c.ID,
		JobShortcode: c.Job.Shortcode,
		Stage:        stage,
		At:           updated,
		Source:       events.SourceRefresher,
	}, true
}
