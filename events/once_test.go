package events

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/redisconn/redistest"
)

type recordingPublisher struct {
	mu   sync.Mutex
	got  []Event
	fail int
}

func (p *recordingPublisher) Publish(_ context.Context, e Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail > 0 {
		p.fail--
		return errors.New("bus down")
	}
	p.got = append(p.got, e)
	return nil
}

// TestOncePerChange: a change announced by a webhook and then by the
// refresher of another replica is published once; another change of the
// same candidate is published; a failed publication is retried by the
// next announcement.
func TestOncePerChange(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	pub := &recordingPublisher{}
	a := NewOncePerChange(pub, idempotency.NewRedisStore(srv.Client, srv.Prefix), 0)
	b := NewOncePerChange(pub, idempotency.NewRedisStore(srv.NewClient(t), srv.Prefix), 0)
	ctx := context.Background()
	at := time.Date(2026, 12, 6, 10, 0, 0, 123e6, time.UTC)
	move := Event{ID: "wh-1", Credential: "main", Kind: CandidateMoved, CandidateID: "3fc9a80f", Stage: "Offer", Source: SourceWebhook}

	steps := []struct {
		name    string
		o       *OncePerChange
		e       Event
		updated time.Time
		want    bool
		wantErr bool
	}{
		{"the webhook", a, move, at, true, false},
		{"the refresher sees the same change", b, Event{ID: "r-1", Credential: "main", Kind: CandidateMoved, CandidateID: "3fc9a80f", Source: SourceRefresher}, at, false, false},
		{"another credential's change", b, Event{ID: "r-2", Credential: "other", CandidateID: "3fc9a80f"}, at, true, false},
		{"a later change", b, Event{ID: "r-3", Credential: "main", CandidateID: "3fc9a80f"}, at.Add(time.Millisecond), true, false},
		{"no updated_at", a, Event{ID: "wh-2", Credential: "main", CandidateID: "3fc9a80f"}, time.Time{}, true, false},
	}
	for _, s := range steps {
		got, err := s.o.Publish(ctx, s.e, s.updated)
		if got != s.want || (err != nil) != s.wantErr {
			t.Errorf("%s: published %v, %v; want %v", s.name, got, err, s.want)
		}
	}
	if len(pub.got) != 4 {
		t.Errorf("%d events published, want 4: %+v", len(pub.got), pub.got)
	}

	pub.fail = 1
	later := at.Add(time.Hour)
	if _, err := a.Publish(ctx, Event{ID: "wh-3", Credential: "main", CandidateID: "1"}, later); err == nil {
		t.Fatal("a failed publication reported no error")
	}
	if ok, err := b.Publish(ctx, Event{ID: "r-4", Credential: "main", CandidateID: "1"}, later); !ok || err != nil {
		t.Errorf("after a failed publication, the next announcement: %v, %v; want published", ok, err)
	}
}

// TestOncePerChangeWithoutStore: without a store every announcement is
// published, the same change twice included.
func TestOncePerChangeWithoutStore(t *testing.T) {
	t.Parallel()
	pub := &recordingPublisher{}
	o := NewOncePerChange(pub, nil, 0)
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for _, id := range []string{"wh-1", "r-1"} {
		if ok, err := o.Publish(context.Background(), Event{ID: id, Credential: "main", CandidateID: "3fc9a80f"}, at); !ok || err != nil {
			t.Errorf("%s: published %v, %v; want published", id, ok, err)
		}
	}
	if len(pub.got) != 2 {
		t.Errorf("%d events published, want 2", len(pub.got))
	}
}
