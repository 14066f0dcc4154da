package refresher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// State is where a credential's refresher got to: one Walk per list. It
// is saved after every round, so that a refresher taking the lease over
// (another replica, a restart) continues from there.
type State struct {
	Candidates Walk `json:"candidates"`
	Jobs       Walk `json:"jobs"`
}

// fresh is the time before which every change of both lists has been
// seen (the watermark while no walk has completed).
func (st State) fresh() time.Time {
	c, j := st.Candidates.Fresh, st.Jobs.Fresh
	if c.IsZero() {
		c = st.Candidates.After
	}
	if j.IsZero() {
		j = st.Jobs.After
	}
	if j.Before(c) {
		return j
	}
	return c
}

// Walk is the progress through one list's changes.
type Walk struct {
	// After is the updated_after of the walk under way (the watermark).
	After time.Time `json:"after"`
	// Cursor is the since_id of the walk's next page; "" at its start.
	Cursor string `json:"cursor,omitempty"`
	// Started is when the walk under way began; zero between walks.
	Started time.Time `json:"started,omitzero"`
	// Fresh is when the last complete walk began: every change made
	// before it has been seen. Zero until a walk completes.
	Fresh time.Time `json:"fresh,omitzero"`
	// Seen holds, for the records handled whose update is not older than
	// After, the time of that update (Unix ms): the next walk, which
	// overlaps this one (see skew), skips them unless they changed again.
	Seen map[string]int64 `json:"seen,omitempty"`
}

// seen reports whether the record key was handled at its update at
// updated (or a later one).
func (w *Walk) seen(key string, updated time.Time) bool {
	ms, ok := w.Seen[key]
	return ok && ms >= updated.UnixMilli()
}

func (w *Walk) markSeen(key string, updated time.Time) {
	if w.Seen == nil {
		w.Seen = make(map[string]int64)
	}
	if ms := updated.UnixMilli(); ms > w.Seen[key] {
		w.Seen[key] = ms
	}
}

// finish ends the walk under way: the next one asks for what changed
// since a little before this one began (skew), and forgets the records
// it cannot show again.
func (w *Walk) finish() {
	w.Fresh = w.Started
	if next := w.Started.Add(-skew); next.After(w.After) {
		w.After = next
	}
	w.Cursor, w.Started = "", time.Time{}
	after := w.After.UnixMilli()
	for k, ms := range w.Seen {
		if ms < after {
			delete(w.Seen, k)
		}
	}
}

// StateStore keeps each credential's State.
type StateStore interface {
	// Load returns the credential's state; found is false when there is
	// none yet.
	Load(ctx context.Context, credential string) (st State, found bool, err error)
	Save(ctx context.Context, credential string, st State) error
}

// MemoryState is a StateStore in process, for a gateway without Redis.
type MemoryState struct {
	mu     sync.Mutex
	states map[string][]byte
}

// NewMemoryState returns an empty MemoryState.
func NewMemoryState() *MemoryState { return &MemoryState{states: make(map[string][]byte)} }

// Load implements StateStore.
func (m *MemoryState) Load(_ context.Context, credential string) (State, bool, error) {
	m.mu.Lock()
	b, ok := m.states[credential]
	m.mu.Unlock()
	if !ok {
		return State{}, false, nil
	}
	// Kept encoded, so that the caller's maps are never shared.
	return decodeState(b)
}

// Save implements StateStore.
func (m *MemoryState) Save(_ context.Context, credential string, st State) error {
	b, err := encodeState(st)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[credential] = b
	return nil
}

// stateTTL is how long a saved state outlives its last round: a
// credential no replica refreshes for that long starts again from "now".
const stateTTL = 30 * 24 * time.Hour

// RedisState is a StateStore in Redis, shared by the replicas: one JSON
// string per credential under prefix.
type RedisState struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedisState returns a RedisState whose keys start with prefix.
func NewRedisState(rdb redis.UniversalClient, prefix string) *RedisState {
	return &RedisState{rdb: rdb, prefix: prefix}
}

func (s *RedisState) key(credential string) string { return s.prefix + "refresher:state:" + credential }

// Load implements StateStore.
func (s *RedisState) Load(ctx context.Context, credential string) (State, bool, error) {
	b, err := s.rdb.Get(ctx, s.key(credential)).Bytes()
	if errors.Is(err, redis.Nil) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, fmt.Errorf("read the state: redis: %w", err)
	}
	return decodeState(b)
}

// Save implements StateStore.
func (s *RedisState) Save(ctx context.Context, credential string, st State) error {
	b, err := encodeState(st)
	if err != nil {
		return err
	}
	if err := s.rdb.Set(ctx, s.key(credential), b, stateTTL).Err(); err != nil {
		return fmt.Errorf("write the state: redis: %w", err)
	}
	return nil
}

// encodeState is the form both stores keep a State in: JSON.
func encodeState(st State) ([]byte, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode the state: %w", err)
	}
	return b, nil
}

// decodeState reads a State that encodeState wrote; found is true.
func decodeState(b []byte) (st State, found bool, err error) {
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, false, fmt.Errorf("decode the state: %w", err)
	}
	return st, true, nil
}
