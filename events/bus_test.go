package events

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/redisconn/redistest"
)

// closingBus is a bus the tests can close.
type closingBus interface {
	Bus
	Close() error
	Subscribers(credential string) int
	Live() int
}

// buses returns a constructor of each bus; the Redis one runs on REDIS_URL when set, else on
// miniredis, under the test's own prefix.
func buses() []struct {
	name string
	new  func(t *testing.T, opts ...Option) closingBus
} {
	return []struct {
		name string
		new  func(t *testing.T, opts ...Option) closingBus
	}{
		{"local", func(t *testing.T, opts ...Option) closingBus {
			b := NewLocal(opts...)
			t.Cleanup(func() { b.Close() })
			return b
		}},
		{"redis", func(t *testing.T, opts ...Option) closingBus {
			rs := redistest.NewServer(t)
			b := NewRedis(rs.Client, rs.Prefix, nil, opts...)
			t.Cleanup(func() { b.Close() })
			return b
		}},
	}
}

func event(cred string, n int) Event {
	return Event{
		ID: fmt.Sprintf("e%d", n), Credential: cred, Kind: CandidateMoved, CandidateID: fmt.Sprintf("c%d", n),
		JobShortcode: "JOB1", Stage: "interview", At: time.Date(2026, 12, 6, 10, 0, n, 0, time.UTC), Source: "gateway",
	}
}

// next returns the next event of s, failing the test if the subscription ends or nothing
// comes within a generous bound (a hang, not a timing assumption).
func next(t *testing.T, s *Subscription) Event {
	t.Helper()
	select {
	case e, ok := <-s.C:
		if !ok {
			t.Fatalf("subscription ended (%v), want an event", s.Err())
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return Event{}
}

// ended waits for the end of s and returns its error.
func ended(t *testing.T, s *Subscription) error {
	t.Helper()
	for {
		select {
		case _, ok := <-s.C:
			if !ok {
				return s.Err()
			}
		case <-time.After(10 * time.Second):
			t.Fatal("subscription still live after 10 s")
		}
	}
}

func TestBusDeliversToTheCredentialsSubscribers(t *testing.T) {
	t.Parallel()
	for _, bc := range buses() {
		t.Run(bc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			b := bc.new(t)
			acme1, err := b.Subscribe(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			acme2, err := b.Subscribe(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			other, err := b.Subscribe(ctx, "other")
			if err != nil {
				t.Fatal(err)
			}
			want := []Event{event("acme", 1), event("acme", 2)}
			for _, e := range want {
				if err := b.Publish(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			// A marker on the other credential: once it arrives, any acme event that
			// leaked to it would have arrived before it (same channel for the local bus;
			// for Redis, one connection delivers in publish order).
			if err := b.Publish(ctx, event("other", 3)); err != nil {
				t.Fatal(err)
			}
			for _, s := range []*Subscription{acme1, acme2} {
				got := []Event{next(t, s), next(t, s)}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("events (-want +got):\n%s", diff)
				}
			}
			if got := next(t, other); got.ID != "e3" {
				t.Errorf("other credential got %+v, want only its own event e3", got)
			}
		})
	}
}

func TestBusDropsALaggingSubscriberWithoutBlocking(t *testing.T) {
	t.Parallel()
	for _, bc := range buses() {
		t.Run(bc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			b := bc.new(t, WithBuffer(2))
			slow, err := b.Subscribe(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			fast, err := b.Subscribe(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			// The fast one takes each event before the next is published; the slow one
			// takes none, so the third overflows its buffer of two.
			for n := 1; n <= 4; n++ {
				if err := b.Publish(ctx, event("acme", n)); err != nil {
					t.Fatal(err)
				}
				if got := next(t, fast); got.ID != fmt.Sprintf("e%d", n) {
					t.Fatalf("fast subscriber got %s, want e%d", got.ID, n)
				}
			}
			if got := next(t, slow); got.ID != "e1" {
				t.Errorf("slow subscriber's first event = %s, want e1", got.ID)
			}
			if got := next(t, slow); got.ID != "e2" {
				t.Errorf("slow subscriber's second event = %s, want e2", got.ID)
			}
			if err := ended(t, slow); !errors.Is(err, ErrLagged) {
				t.Errorf("slow subscription ended with %v, want ErrLagged", err)
			}
			if n := b.Subscribers("acme"); n != 1 {
				t.Errorf("Subscribers = %d after the slow one was dropped, want 1", n)
			}
			if n := b.Live(); n != 1 {
				t.Errorf("Live = %d after the slow one was dropped, want 1", n)
			}
		})
	}
}

func TestBusSubscriptionEnds(t *testing.T) {
	t.Parallel()
	for _, bc := range buses() {
		t.Run(bc.name, func(t *testing.T) {
			t.Parallel()
			b := bc.new(t)

			ctx, cancel := context.WithCancel(t.Context())
			byCtx, err := b.Subscribe(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			if err := ended(t, byCtx); !errors.Is(err, context.Canceled) {
				t.Errorf("after its context ended: Err = %v, want context.Canceled", err)
			}

			byClose, err := b.Subscribe(t.Context(), "acme")
			if err != nil {
				t.Fatal(err)
			}
			byClose.Close()
			byClose.Close() // twice is fine
			if err := ended(t, byClose); err != nil {
				t.Errorf("after Close: Err = %v, want nil", err)
			}

			byBus, err := b.Subscribe(t.Context(), "acme")
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if err := ended(t, byBus); !errors.Is(err, ErrClosed) {
				t.Errorf("after the bus closed: Err = %v, want ErrClosed", err)
			}
			if _, err := b.Subscribe(t.Context(), "acme"); err == nil {
				t.Error("Subscribe on a closed bus succeeded")
			}
			if n := b.Subscribers("acme"); n != 0 {
				t.Errorf("Subscribers = %d, want 0", n)
			}
		})
	}
}

func TestBusSubscribeWithEndedContext(t *testing.T) {
	t.Parallel()
	for _, bc := range buses() {
		t.Run(bc.name, func(t *testing.T) {
			t.Parallel()
			b := bc.new(t)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if s, err := b.Subscribe(ctx, "acme"); err == nil {
				t.Errorf("Subscribe with an ended context = %v, nil; want an error", s)
			}
			if n := b.Subscribers("acme"); n != 0 {
				t.Errorf("Subscribers = %d, want 0", n)
			}
		})
	}
}

// TestRedisFansOutAcrossReplicas plays two gateway replicas, each with its own Redis
// connection and bus on one Redis: an event published on either reaches the subscribers of
// both, once each, and a deployment with another prefix sees none of it.
func TestRedisFansOutAcrossReplicas(t *testing.T) {
	t.Parallel()
	rs := redistest.NewServer(t)
	ctx := t.Context()
	a := NewRedis(rs.Client, rs.Prefix, nil)
	t.Cleanup(func() { a.Close() })
	b := NewRedis(rs.NewClient(t), rs.Prefix, nil)
	t.Cleanup(func() { b.Close() })
	elsewhere := NewRedis(rs.NewClient(t), rs.Prefix+"other-deployment:", nil)
	t.Cleanup(func() { elsewhere.Close() })

	onA, err := a.Subscribe(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	onB, err := b.Subscribe(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := elsewhere.Subscribe(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Publish(ctx, event("acme", 1)); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, event("acme", 2)); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*Subscription{"replica a": onA, "replica b": onB} {
		got := []string{next(t, s).ID, next(t, s).ID}
		if diff := cmp.Diff([]string{"e1", "e2"}, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	// The other deployment's marker arrives after anything published before it would have.
	if err := elsewhere.Publish(ctx, event("acme", 3)); err != nil {
		t.Fatal(err)
	}
	if got := next(t, stranger).ID; got != "e3" {
		t.Errorf("another prefix received %s, want only its own e3", got)
	}
	// No duplicates: the marker on a is the next thing each subscriber sees.
	if err := a.Publish(ctx, event("acme", 4)); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*Subscription{"replica a": onA, "replica b": onB} {
		if got := next(t, s).ID; got != "e4" {
			t.Errorf("%s then received %s, want e4 (no duplicate)", name, got)
		}
	}
}

// TestRedisSubscribesPerCredentialChannel: a replica listens on a credential's channel only
// while it has subscribers of that credential.
func TestRedisSubscribesPerCredentialChannel(t *testing.T) {
	t.Parallel()
	rs := redistest.NewServer(t)
	ctx := t.Context()
	b := NewRedis(rs.Client, rs.Prefix, nil)
	t.Cleanup(func() { b.Close() })
	numsub := func() int64 {
		t.Helper()
		// A PING round trip on the subscription connection: Redis has handled every
		// SUBSCRIBE and UNSUBSCRIBE sent before it.
		if err := b.confirm(ctx); err != nil {
			t.Fatal(err)
		}
		n, err := rs.Client.PubSubNumSub(ctx, b.Channel("acme")).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n[b.Channel("acme")]
	}
	if want := rs.Prefix + "events:v1:acme"; b.Channel("acme") != want {
		t.Errorf("Channel = %q, want %q", b.Channel("acme"), want)
	}
	s1, err := b.Subscribe(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	s2, err := b.Subscribe(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if n := numsub(); n != 1 {
		t.Errorf("two subscribers: %d Redis subscriptions, want 1 (one connection per replica)", n)
	}
	s1.Close()
	if n := numsub(); n != 1 {
		t.Errorf("one subscriber left: %d Redis subscriptions, want 1", n)
	}
	s2.Close()
	if n := numsub(); n != 0 {
		t.Errorf("no subscriber left: %d Redis subscriptions, want 0", n)
	}
	s3, err := b.Subscribe(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, event("acme", 1)); err != nil {
		t.Fatal(err)
	}
	if got := next(t, s3).ID; got != "e1" {
		t.Errorf("after subscribing again: %s, want e1", got)
	}
}

// TestRedisDropsForeignMessages: a message that is not an event of the channel's credential
// is dropped, and the bus goes on.
func TestRedisDropsForeignMessages(t *testing.T) {
	t.Parallel()
	rs := redistest.NewServer(t)
	ctx := t.Context()
	b := NewRedis(rs.Client, rs.Prefix, nil)
	t.Cleanup(func() { b.Close() })
	s, err := b.Subscribe(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Client.Publish(ctx, b.Channel("acme"), "not json").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rs.Client.Publish(ctx, b.Channel("acme"), `{"id":"x","credential":"other"}`).Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctx, event("acme", 1)); err != nil {
		t.Fatal(err)
	}
	if got := next(t, s).ID; got != "e1" {
		t.Errorf("got %s, want e1 (the foreign messages dropped)", got)
	}
}

// TestRedisResubscribesAfterReconnecting: when the connection to Redis
// drops and comes back, the bus subscribes its channels again, and its
// subscriptions (which stay open meanwhile) receive what is published
// afterwards.
func TestRedisResubscribesAfterReconnecting(t *testing.T) {
	t.Parallel()
	rs := redistest.Mini(t)
	ctx := t.Context()
	b := NewRedis(rs.Client, rs.Prefix, nil)
	t.Cleanup(func() { b.Close() })
	s, err := b.Subscribe(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	rs.Mini.Close()
	if err := rs.Mini.Restart(); err != nil {
		t.Fatal(err)
	}
	// The bus notices the drop on its own time, then subscribes again: wait
	// until Redis lists the channel's subscriber.
	for deadline := time.Now().Add(10 * time.Second); ; {
		n, err := rs.Client.PubSubNumSub(ctx, b.Channel("acme")).Result()
		if err == nil && n[b.Channel("acme")] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the channel was not subscribed again within 10 s (%v, %v)", n, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := b.Publish(ctx, event("acme", 1)); err != nil {
		t.Fatal(err)
	}
	if got := next(t, s).ID; got != "e1" {
		t.Errorf("after reconnecting: %s, want e1", got)
	}
}
