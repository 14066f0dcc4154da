package redisconn

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestBreakerDoReadLateReadGetsItsOwnTimeout: a read that Redis answers
// too late is tried again with a timeout of its own, not with what is left
// of the first attempt's (nothing), so a second attempt that Redis answers
// in time succeeds and the breaker stays closed.
func TestBreakerDoReadLateReadGetsItsOwnTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 250 * time.Millisecond
		b := NewBreaker(time.Minute)
		calls := 0
		err := b.DoRead(t.Context(), timeout, func(ctx context.Context) error {
			calls++
			start := time.Now()
			dl, ok := ctx.Deadline()
			if !ok || dl.Sub(start) != timeout {
				t.Errorf("attempt %d: deadline %v after its start, want %v", calls, dl.Sub(start), timeout)
			}
			if calls == 1 {
				<-ctx.Done() // Redis answers after the timeout
				return ctx.Err()
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return nil
		})
		if err != nil || calls != 2 || !b.Healthy() {
			t.Errorf("DoRead = %v after %d attempts, healthy %v; want nil after 2, healthy", err, calls, b.Healthy())
		}
	})
}

func TestBreakerDoRead(t *testing.T) {
	errRedis := errors.New("i/o timeout")
	tests := []struct {
		name string
		// results are what the attempts return, in order; during is run
		// inside the first attempt.
		results     []error
		during      func(b *Breaker, cancel context.CancelFunc)
		wantErr     error
		wantCalls   int
		wantHealthy bool
	}{
		{"first attempt answers", []error{nil}, nil, nil, 1, true},
		{"one failure is tried again", []error{errRedis, nil}, nil, nil, 2, true},
		{"two failures open the breaker", []error{errRedis, errRedis}, nil, errRedis, 2, false},
		{"not tried again once another call opened the breaker", []error{errRedis, nil},
			func(b *Breaker, _ context.CancelFunc) { b.Failure() }, errRedis, 1, false},
		{"not tried again once the caller gave up", []error{errRedis, nil},
			func(_ *Breaker, cancel context.CancelFunc) { cancel() }, errRedis, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBreaker(time.Minute)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			calls := 0
			err := b.DoRead(ctx, time.Minute, func(context.Context) error {
				calls++
				if calls == 1 && tt.during != nil {
					tt.during(b, cancel)
				}
				return tt.results[calls-1]
			})
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if calls != tt.wantCalls {
				t.Errorf("attempts = %d, want %d", calls, tt.wantCalls)
			}
			if b.Healthy() != tt.wantHealthy {
				t.Errorf("Healthy() = %v, want %v", b.Healthy(), tt.wantHealthy)
			}
		})
	}
}
