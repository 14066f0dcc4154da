package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ChannelVersion is part of every channel name. Bump it when the encoding of Event changes, so
// that replicas of two versions never decode each other's events.
const ChannelVersion = "v1"

// confirmTimeout bounds how long Subscribe waits for Redis to confirm the subscription.
const confirmTimeout = 5 * time.Second

// Redis is a bus over Redis pub/sub that every replica of the gateway sharing one Redis (and
// one CACHE_PREFIX) joins: an event published on any replica reaches the subscribers of all.
//
// Each credential has its own channel, prefix + "events:" + ChannelVersion + ":" + nickname,
// so a replica receives only the events of credentials someone on it subscribed to. A replica
// holds one Redis connection for all its subscriptions, whatever their number: it subscribes
// to a credential's channel when the first subscriber of that credential arrives, unsubscribes
// when the last leaves, and hands each message to its local subscribers as a Local bus does
// (a full subscriber is dropped with ErrLagged, so a slow client never holds up the others).
// An event reaches the subscribers of the replica that published it through Redis too, once.
//
// While Redis is unreachable, Publish fails and messages are lost (Redis pub/sub keeps
// nothing); the connection is re-established and its channels subscribed again by go-redis.
type Redis struct {
	rdb    redis.UniversalClient
	prefix string
	local  *Local
	logger *slog.Logger

	ps   *redis.PubSub
	stop context.CancelFunc
	done chan struct{}

	// mu orders the SUBSCRIBE and UNSUBSCRIBE commands with the reference counts.
	mu   sync.Mutex
	refs map[string]int // by channel

	pingSeq atomic.Uint64
	pongMu  sync.Mutex
	pongs   map[string]chan struct{}
}

// NewRedis returns a bus on rdb whose channels start with prefix (CACHE_PREFIX + "wgw:", the
// prefix of every key of the gateway). It starts the goroutine that reads the messages; Close
// stops it. logger receives the failures of that reading; nil discards them.
func NewRedis(rdb redis.UniversalClient, prefix string, logger *slog.Logger, opts ...Option) *Redis {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Redis{
		rdb:    rdb,
		prefix: prefix + "events:" + ChannelVersion + ":",
		local:  NewLocal(opts...),
		logger: logger,
		ps:     rdb.Subscribe(ctx),
		stop:   cancel,
		done:   make(chan struct{}),
		refs:   make(map[string]int),
		pongs:  make(map[string]chan struct{}),
	}
	go r.receive(ctx)
	return r
}

// Channel returns the Redis channel of credential's events.
func (r *Redis) Channel(credential string) string {
	return r.prefix + credential
}

// Publish sends e to every replica's subscribers of e.Credential.
func (r *Redis) Publish(ctx context.Context, e Event) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	if err := r.rdb.Publish(ctx, r.Channel(e.Credential), data).Err(); err != nil {
		return fmt.Errorf("publish event %s of credential %q: %w", e.ID, e.Credential, err)
	}
	return nil
}

// Subscribe returns a subscription to the events of credential, on every replica, which ends
// with ctx. It returns once Redis has confirmed the subscription, so that an event published
// after it returns is delivered.
func (r *Redis) Subscribe(ctx context.Context, credential string) (*Subscription, error) {
	ch := r.Channel(credential)
	r.mu.Lock()
	r.refs[ch]++
	if r.refs[ch] == 1 {
		if err := r.ps.Subscribe(ctx, ch); err != nil {
			r.releaseLocked(ch)
			r.mu.Unlock()
			return nil, fmt.Errorf("subscribe to the events of credential %q: %w", credential, err)
		}
	}
	r.mu.Unlock()
	// Redis answers the commands of one connection in order: once it answers a PING sent
	// after the SUBSCRIBE (ours or an earlier subscriber's), the subscription is in place.
	if err := r.confirm(ctx); err != nil {
		r.release(ch)
		return nil, fmt.Errorf("subscribe to the events of credential %q: %w", credential, err)
	}
	sub, err := r.local.subscribe(ctx, credential, func() { r.release(ch) })
	if err != nil {
		r.release(ch)
		return nil, err
	}
	return sub, nil
}

// confirm sends a PING with a payload of its own on the subscription connection and waits
// for its answer.
func (r *Redis) confirm(ctx context.Context) error {
	payload := "wgw-events-" + strconv.FormatUint(r.pingSeq.Add(1), 10)
	answered := make(chan struct{})
	r.pongMu.Lock()
	r.pongs[payload] = answered
	r.pongMu.Unlock()
	defer func() {
		r.pongMu.Lock()
		delete(r.pongs, payload)
		r.pongMu.Unlock()
	}()
	if err := r.ps.Ping(ctx, payload); err != nil {
		return fmt.Errorf("ping the subscription connection: %w", err)
	}
	timer := time.NewTimer(confirmTimeout)
	defer timer.Stop()
	select {
	case <-answered:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-timer.C:
		return errors.New("redis did not confirm the subscription in time")
	case <-r.done:
		return ErrClosed
	}
}

// release drops one reference to ch, unsubscribing when it was the last.
func (r *Redis) release(ch string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.releaseLocked(ch)
}

func (r *Redis) releaseLocked(ch string) {
	r.refs[ch]--
	if r.refs[ch] > 0 {
		return
	}
	delete(r.refs, ch)
	// A failed UNSUBSCRIBE leaves the channel subscribed on a connection that is being
	// replaced; go-redis resubscribes only the channels it still lists, and this one is gone.
	ctx, cancel := context.WithTimeout(context.Background(), confirmTimeout)
	defer cancel()
	if err := r.ps.Unsubscribe(ctx, ch); err != nil && !errors.Is(err, redis.ErrClosed) {
		r.logger.Warn("events: unsubscribe from a credential's channel", "channel", ch, "err", err)
	}
}

// receive reads the subscription connection until ctx ends, handing events to the local
// subscribers and PING answers to confirm.
func (r *Redis) receive(ctx context.Context) {
	defer close(r.done)
	backoff := 50 * time.Millisecond
	for {
		msg, err := r.ps.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
				return
			}
			// go-redis replaces a broken connection and subscribes its channels again on
			// the next read; wait a little so that a Redis that is down is not hammered.
			r.logger.Warn("events: reading the subscription connection failed; retrying", "err", err, "retry_in", backoff.String())
			timer := time.NewTimer(backoff)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				return
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Message:
			var e Event
			if err := json.Unmarshal([]byte(m.Payload), &e); err != nil {
				r.logger.Warn("events: dropping an undecodable event", "channel", m.Channel, "err", err)
				continue
			}
			if r.Channel(e.Credential) != m.Channel {
				// An event only ever travels on its credential's channel.
				r.logger.Warn("events: dropping an event published on another credential's channel", "channel", m.Channel)
				continue
			}
			r.local.deliver(e)
		case *redis.Pong:
			r.pongMu.Lock()
			if answered, ok := r.pongs[m.Payload]; ok {
				close(answered)
				delete(r.pongs, m.Payload)
			}
			r.pongMu.Unlock()
		}
	}
}

// Subscribers returns how many subscriptions of credential are live on this replica.
func (r *Redis) Subscribers(credential string) int {
	return r.local.Subscribers(credential)
}

// Live returns how many subscriptions are live on this replica.
func (r *Redis) Live() int { return r.local.Live() }

// Close ends every subscription of this replica with ErrClosed and closes the subscription
// connection. Publish keeps working (it uses rdb, which the caller owns and closes).
func (r *Redis) Close() error {
	r.stop()
	err := r.ps.Close()
	<-r.done
	r.local.Close()
	if err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("close the events subscription connection: %w", err)
	}
	return nil
}
