package idempotency

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/redisconn"
	"github.com/workablegw/gateway/redisconn/redistest"
)

const testTTL = time.Hour

// harness is one store under test, made inside the testing/synctest bubble
// its test runs in: synctest.Wait returns once every caller waits for
// another's run (a waiter's poll of a Redis over a socket is not durable
// blocking, so Wait waits for its reply), and the bubble's clock moves the
// store's timers.
type harness struct {
	store Store
	// advance moves the store's time forward by d: the bubble's clock for
	// the memory store, the server's clock (miniredis) for the Redis store.
	advance func(d time.Duration)
	// redis is the Redis store and client its connection, nil for the
	// memory store.
	redis  *RedisStore
	client redis.UniversalClient
}

// newMemoryHarness is a MemoryStore, for a test running in a synctest
// bubble: time moves by sleeping, which returns at once once every other
// goroutine of the test waits.
func newMemoryHarness(opts ...MemoryOption) *harness {
	return &harness{store: NewMemoryStore(opts...), advance: time.Sleep}
}

// redisHarness starts a Redis for t, outside the bubble: the REDIS_URL
// server when set, else miniredis; with needClock always miniredis, whose
// clock can be moved. The returned func, called inside the bubble, makes
// the store on a client of its own, whose connections belong to the
// bubble.
func redisHarness(t *testing.T, needClock bool, opts ...RedisOption) func(t *testing.T) *harness {
	t.Helper()
	srv := redistest.NewServer(t)
	if needClock {
		srv = redistest.Mini(t)
	}
	return func(t *testing.T) *harness {
		c := srv.NewClient(t)
		s := NewRedisStore(c, srv.Prefix, append([]RedisOption{WithPolling(time.Millisecond, 5*time.Millisecond)}, opts...)...)
		h := &harness{store: s, redis: s, client: c}
		if srv.Mini != nil {
			h.advance = srv.Mini.FastForward
		}
		return h
	}
}

// harnesses lists a factory per store kind: called outside the bubble, it
// returns the func that makes the store inside it.
func harnesses() []struct {
	name string
	new  func(t *testing.T, needClock bool) func(t *testing.T) *harness
} {
	return []struct {
		name string
		new  func(t *testing.T, needClock bool) func(t *testing.T) *harness
	}{
		{"memory", func(*testing.T, bool) func(*testing.T) *harness {
			return func(*testing.T) *harness { return newMemoryHarness() }
		}},
		{"redis", func(t *testing.T, needClock bool) func(*testing.T) *harness { return redisHarness(t, needClock) }},
	}
}

// answer is what a call of Do returned.
type answer struct {
	r   []byte
	rep bool
	err error
}

// doAsync calls Do(ctx, key, "fp", testTTL, c.fn) on a goroutine of its own
// and sends its answer on the returned channel.
func (h *harness) doAsync(ctx context.Context, key string, c *counter) <-chan answer {
	got := make(chan answer, 1)
	go func() {
		r, rep, err := h.store.Do(ctx, key, "fp", testTTL, c.fn)
		got <- answer{r, rep, err}
	}()
	return got
}

// counter is an fn that counts its runs and answers what it is told.
type counter struct {
	calls  atomic.Int32
	result []byte
	err    error
	// gate, when set, is waited for before answering.
	gate chan struct{}
	// started, when set, is closed at the first run's start.
	started chan struct{}
	once    sync.Once
}

func (c *counter) fn(ctx context.Context) ([]byte, error) {
	c.calls.Add(1)
	if c.started != nil {
		c.once.Do(func() { close(c.started) })
	}
	if c.gate != nil {
		<-c.gate
	}
	return c.result, c.err
}

func TestStores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	tests := []struct {
		name      string
		needClock bool
		run       func(t *testing.T, h *harness)
	}{
		{"one run for concurrent callers", false, func(t *testing.T, h *harness) {
			const n = 8
			c := &counter{result: []byte(`{"id":"c1"}`), gate: make(chan struct{}), started: make(chan struct{})}
			type answer struct {
				result   []byte
				replayed bool
				err      error
			}
			answers := make([]answer, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					r, rep, err := h.store.Do(ctx, "k", "fp", testTTL, c.fn)
					answers[i] = answer{r, rep, err}
				})
			}
			<-c.started
			synctest.Wait() // everyone else is waiting for the first
			close(c.gate)
			wg.Wait()
			if got := c.calls.Load(); got != 1 {
				t.Errorf("fn ran %d times, want 1", got)
			}
			fresh := 0
			for i, a := range answers {
				if a.err != nil || string(a.result) != `{"id":"c1"}` {
					t.Errorf("caller %d got %q, %v", i, a.result, a.err)
				}
				if !a.replayed {
					fresh++
				}
			}
			if fresh != 1 {
				t.Errorf("%d callers were told they ran fn, want 1", fresh)
			}
		}},
		{"replay after completion", false, func(t *testing.T, h *harness) {
			c := &counter{result: []byte("first")}
			r1, rep1, err := h.store.Do(ctx, "k", "fp", testTTL, c.fn)
			if err != nil || rep1 || string(r1) != "first" {
				t.Fatalf("first Do = %q, %v, %v", r1, rep1, err)
			}
			r1[0] = 'X' // the caller's copy is its own
			other := &counter{result: []byte("second")}
			r2, rep2, err := h.store.Do(ctx, "k", "fp", testTTL, other.fn)
			if err != nil || !rep2 || string(r2) != "first" {
				t.Errorf("repeat Do = %q, %v, %v; want the first result, replayed", r2, rep2, err)
			}
			if other.calls.Load() != 0 {
				t.Error("the repeat ran fn")
			}
			// Another key is independent.
			if r, rep, err := h.store.Do(ctx, "k2", "fp", testTTL, other.fn); err != nil || rep || string(r) != "second" {
				t.Errorf("Do(k2) = %q, %v, %v", r, rep, err)
			}
		}},
		{"empty and nil results replay as such", false, func(t *testing.T, h *harness) {
			for key, want := range map[string][]byte{"nil": nil, "empty": {}} {
				c := &counter{result: want}
				if _, _, err := h.store.Do(ctx, key, "fp", testTTL, c.fn); err != nil {
					t.Fatal(err)
				}
				got, rep, err := h.store.Do(ctx, key, "fp", testTTL, c.fn)
				if err != nil || !rep || (got == nil) != (want == nil) || len(got) != 0 {
					t.Errorf("%s: replay = %#v, %v, %v", key, got, rep, err)
				}
			}
		}},
		{"failure releases the key", false, func(t *testing.T, h *harness) {
			boom := errors.New("validation failed")
			c := &counter{err: boom}
			if _, rep, err := h.store.Do(ctx, "k", "fp", testTTL, c.fn); !errors.Is(err, boom) || rep {
				t.Fatalf("failing Do = %v, %v; want fn's error", rep, err)
			}
			ok := &counter{result: []byte("ok")}
			r, rep, err := h.store.Do(ctx, "k", "fp", testTTL, ok.fn)
			if err != nil || rep || string(r) != "ok" || ok.calls.Load() != 1 {
				t.Errorf("retry after failure = %q, %v, %v (runs %d); want a fresh run", r, rep, err, ok.calls.Load())
			}
		}},
		{"failure lets a waiter run", false, func(t *testing.T, h *harness) {
			first := &counter{err: errors.New("boom"), gate: make(chan struct{}), started: make(chan struct{})}
			done := make(chan error, 1)
			go func() {
				_, _, err := h.store.Do(ctx, "k", "fp", testTTL, first.fn)
				done <- err
			}()
			<-first.started
			second := &counter{result: []byte("second")}
			got := h.doAsync(ctx, "k", second)
			synctest.Wait()
			close(first.gate)
			if err := <-done; err == nil {
				t.Error("the first caller did not get its error")
			}
			a := <-got
			if a.err != nil || a.rep || string(a.r) != "second" || second.calls.Load() != 1 {
				t.Errorf("waiter = %q, %v, %v; want its own run", a.r, a.rep, a.err)
			}
		}},
		{"unknown outcome stays locked", true, func(t *testing.T, h *harness) {
			c := &counter{err: fmt.Errorf("create candidate: %w", ErrOutcomeUnknown)}
			_, rep, err := h.store.Do(ctx, "k", "fp", testTTL, c.fn)
			if !errors.Is(err, ErrOutcomeUnknown) || rep {
				t.Fatalf("first Do = %v, %v; want ErrOutcomeUnknown", rep, err)
			}
			for range 2 {
				ok := &counter{result: []byte("ok")}
				r, rep, err := h.store.Do(ctx, "k", "fp", testTTL, ok.fn)
				if !errors.Is(err, ErrOutcomeUnknown) || !rep || r != nil {
					t.Errorf("repeat Do = %q, %v, %v; want ErrOutcomeUnknown", r, rep, err)
				}
				if ok.calls.Load() != 0 {
					t.Error("a repeat ran fn after an unknown outcome")
				}
			}
			h.advance(testTTL + time.Second)
			ok := &counter{result: []byte("ok")}
			if r, rep, err := h.store.Do(ctx, "k", "fp", testTTL, ok.fn); err != nil || rep || string(r) != "ok" {
				t.Errorf("Do after the TTL = %q, %v, %v; want a fresh run", r, rep, err)
			}
		}},
		{"waiter's context cancelled", false, func(t *testing.T, h *harness) {
			first := &counter{result: []byte("first"), gate: make(chan struct{}), started: make(chan struct{})}
			done := make(chan error, 1)
			go func() {
				_, _, err := h.store.Do(ctx, "k", "fp", testTTL, first.fn)
				done <- err
			}()
			<-first.started
			wctx, cancel := context.WithCancel(ctx)
			waiterErr := make(chan error, 1)
			second := &counter{}
			go func() {
				_, _, err := h.store.Do(wctx, "k", "fp", testTTL, second.fn)
				waiterErr <- err
			}()
			synctest.Wait()
			cancel()
			if err := <-waiterErr; !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled waiter = %v, want context.Canceled", err)
			}
			close(first.gate)
			if err := <-done; err != nil {
				t.Errorf("first caller = %v", err)
			}
			if second.calls.Load() != 0 || first.calls.Load() != 1 {
				t.Errorf("runs: first %d, waiter %d", first.calls.Load(), second.calls.Load())
			}
			if r, rep, err := h.store.Do(ctx, "k", "fp", testTTL, second.fn); err != nil || !rep || string(r) != "first" {
				t.Errorf("Do after = %q, %v, %v", r, rep, err)
			}
		}},
		{"already cancelled context", false, func(t *testing.T, h *harness) {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			c := &counter{}
			if _, _, err := h.store.Do(cctx, "k", "fp", testTTL, c.fn); !errors.Is(err, context.Canceled) || c.calls.Load() != 0 {
				t.Errorf("Do = %v (runs %d), want context.Canceled without running", err, c.calls.Load())
			}
		}},
		{"ttl expiry", true, func(t *testing.T, h *harness) {
			c := &counter{result: []byte("r")}
			if _, _, err := h.store.Do(ctx, "k", "fp", testTTL, c.fn); err != nil {
				t.Fatal(err)
			}
			h.advance(testTTL - time.Minute)
			if _, rep, _ := h.store.Do(ctx, "k", "fp", testTTL, c.fn); !rep {
				t.Error("the result expired before its TTL")
			}
			h.advance(2 * time.Minute)
			if _, rep, err := h.store.Do(ctx, "k", "fp", testTTL, c.fn); err != nil || rep {
				t.Errorf("Do after the TTL = %v, %v; want a fresh run", rep, err)
			}
			if got := c.calls.Load(); got != 2 {
				t.Errorf("fn ran %d times, want 2", got)
			}
		}},
		{"key reused with another input", false, func(t *testing.T, h *harness) {
			c := &counter{result: []byte("r")}
			if _, _, err := h.store.Do(ctx, "done", "fp-a", testTTL, c.fn); err != nil {
				t.Fatal(err)
			}
			if _, _, err := h.store.Do(ctx, "done", "fp-b", testTTL, c.fn); !errors.Is(err, ErrKeyReused) {
				t.Errorf("reuse after completion = %v, want ErrKeyReused", err)
			}
			u := &counter{err: ErrOutcomeUnknown}
			_, _, _ = h.store.Do(ctx, "unknown", "fp-a", testTTL, u.fn)
			if _, _, err := h.store.Do(ctx, "unknown", "fp-b", testTTL, c.fn); !errors.Is(err, ErrKeyReused) {
				t.Errorf("reuse after unknown outcome = %v, want ErrKeyReused", err)
			}
			// While the first runs, another input is refused at once.
			p := &counter{result: []byte("p"), gate: make(chan struct{}), started: make(chan struct{})}
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _, _ = h.store.Do(ctx, "pending", "fp-a", testTTL, p.fn)
			}()
			<-p.started
			if _, _, err := h.store.Do(ctx, "pending", "fp-b", testTTL, c.fn); !errors.Is(err, ErrKeyReused) {
				t.Errorf("reuse while running = %v, want ErrKeyReused", err)
			}
			close(p.gate)
			<-done
			if got := c.calls.Load(); got != 1 {
				t.Errorf("fn ran %d times, want 1", got)
			}
		}},
		{"panic releases the key", false, func(t *testing.T, h *harness) {
			func() {
				defer func() {
					if recover() == nil {
						t.Error("the panic did not reach the caller")
					}
				}()
				_, _, _ = h.store.Do(ctx, "k", "fp", testTTL, func(context.Context) ([]byte, error) { panic("boom") })
			}()
			c := &counter{result: []byte("ok")}
			if r, rep, err := h.store.Do(ctx, "k", "fp", testTTL, c.fn); err != nil || rep || string(r) != "ok" {
				t.Errorf("Do after a panic = %q, %v, %v; want a fresh run", r, rep, err)
			}
		}},
		{"invalid arguments", false, func(t *testing.T, h *harness) {
			c := &counter{}
			for name, call := range map[string]func() error{
				"empty key": func() error { _, _, err := h.store.Do(ctx, "", "fp", testTTL, c.fn); return err },
				"zero ttl":  func() error { _, _, err := h.store.Do(ctx, "k", "fp", 0, c.fn); return err },
				"nil fn":    func() error { _, _, err := h.store.Do(ctx, "k", "fp", testTTL, nil); return err },
			} {
				if call() == nil {
					t.Errorf("%s: no error", name)
				}
			}
			if c.calls.Load() != 0 {
				t.Error("fn ran")
			}
		}},
	}
	for _, hs := range harnesses() {
		t.Run(hs.name, func(t *testing.T) {
			t.Parallel()
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					open := hs.new(t, tt.needClock)
					synctest.Test(t, func(t *testing.T) { tt.run(t, open(t)) })
				})
			}
		})
	}
}

func TestMemoryStoreCapacity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newMemoryHarness(WithCapacity(2))
	c := &counter{result: []byte("r")}
	for _, k := range []string{"a", "b", "c"} {
		if _, _, err := h.store.Do(ctx, k, "fp", testTTL, c.fn); err != nil {
			t.Fatal(err)
		}
	}
	// "a" was evicted: it runs again; "c" is still there.
	if _, rep, _ := h.store.Do(ctx, "c", "fp", testTTL, c.fn); !rep {
		t.Error("the newest key was evicted")
	}
	if _, rep, _ := h.store.Do(ctx, "a", "fp", testTTL, c.fn); rep {
		t.Error("a store of capacity 2 kept 3 keys")
	}
}

func TestRedisStoreCrashedHolderExpires(t *testing.T) {
	t.Parallel()
	const lockTTL = 3 * time.Second
	open := redisHarness(t, true, WithLockTTL(lockTTL))
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		h := open(t)
		// A process took the key and died: its pending record is never refreshed.
		rkey := h.redis.redisKey("k")
		if err := h.client.Set(ctx, rkey, `{"s":"pending","o":"dead","f":"fp"}`, lockTTL).Err(); err != nil {
			t.Fatal(err)
		}
		c := &counter{result: []byte("mine")}
		got := h.doAsync(ctx, "k", c)
		synctest.Wait()
		h.advance(lockTTL)
		a := <-got
		if a.err != nil || a.rep || string(a.r) != "mine" || c.calls.Load() != 1 {
			t.Errorf("Do after the dead lock expired = %q, %v, %v", a.r, a.rep, a.err)
		}
	})
}

// The lock tests run in a synctest bubble on an in-process miniredis, whose
// TTLs move only when the test fast-forwards them: the holder's refresher
// ticks on the bubble's clock, and the lock's TTL in Redis shows whether it
// refreshed.

func TestRedisStoreRefreshesLock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		const lockTTL = 3 * time.Second
		m, dial := redistest.InBubble(t)
		s := NewRedisStore(dial(), "idem:", WithLockTTL(lockTTL))
		c := &counter{result: []byte("r"), gate: make(chan struct{}), started: make(chan struct{})}
		done := make(chan error, 1)
		go func() {
			_, _, err := s.Do(ctx, "k", "fp", testTTL, c.fn)
			done <- err
		}()
		<-c.started
		rkey := s.redisKey("k")
		for i := range 3 {
			// A third of the lock's TTL passes, in Redis and for the
			// holder, whose refresh puts the TTL back.
			m.FastForward(lockTTL / 3)
			if ttl := m.TTL(rkey); ttl != lockTTL*2/3 {
				t.Fatalf("lock TTL before refresh %d = %v, want %v", i, ttl, lockTTL*2/3)
			}
			time.Sleep(lockTTL / 3)
			synctest.Wait()
			if ttl := m.TTL(rkey); ttl != lockTTL {
				t.Fatalf("lock TTL after refresh %d = %v, want %v", i, ttl, lockTTL)
			}
		}
		close(c.gate)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if ttl := m.TTL(rkey); ttl != testTTL {
			t.Errorf("result TTL = %v, want %v", ttl, testTTL)
		}
	})
}

func TestRedisStoreLostLockIsNotOverwritten(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		const lockTTL = 3 * time.Second
		m, dial := redistest.InBubble(t)
		s := NewRedisStore(dial(), "idem:", WithLockTTL(lockTTL))
		slow := &counter{result: []byte("slow"), gate: make(chan struct{}), started: make(chan struct{})}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _, _ = s.Do(ctx, "k", "fp", testTTL, slow.fn)
		}()
		<-slow.started
		// The slow holder's lock expires in Redis before its refresher
		// ticks (the bubble's clock stands still): another takes the key.
		m.FastForward(lockTTL)
		fast := &counter{result: []byte("fast")}
		if r, rep, err := s.Do(ctx, "k", "fp", testTTL, fast.fn); err != nil || rep || string(r) != "fast" {
			t.Fatalf("Do after the lock expired = %q, %v, %v", r, rep, err)
		}
		close(slow.gate)
		<-done
		if r, rep, err := s.Do(ctx, "k", "fp", testTTL, fast.fn); err != nil || !rep || string(r) != "fast" {
			t.Errorf("stored result = %q, %v, %v; want the new holder's", r, rep, err)
		}
	})
}

func TestRedisStoreKeysAreHashedAndPrefixed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.NewServer(t)
	a := NewRedisStore(srv.Client, srv.Prefix+"a:")
	b := NewRedisStore(srv.Client, srv.Prefix+"b:")
	key := ScopedKey("wgw:v1:ns:", "api-key-id", "client-key-visible")
	ca, cb := &counter{result: []byte("a")}, &counter{result: []byte("b")}
	if _, _, err := a.Do(ctx, key, "fp", testTTL, ca.fn); err != nil {
		t.Fatal(err)
	}
	if r, rep, err := b.Do(ctx, key, "fp", testTTL, cb.fn); err != nil || rep || string(r) != "b" {
		t.Errorf("another prefix shares results: %q, %v, %v", r, rep, err)
	}
	keys, err := srv.Client.Keys(ctx, srv.Prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Errorf("keys = %v, want 2", keys)
	}
	for _, k := range keys {
		if want := a.redisKey(key); k != want && k != b.redisKey(key) {
			t.Errorf("unexpected key %q", k)
		}
	}
}

func TestScopedKey(t *testing.T) {
	t.Parallel()
	base := ScopedKey("ns1:", "key1", "abc")
	tests := []struct {
		name          string
		ns, api, user string
		same          bool
	}{
		{"same", "ns1:", "key1", "abc", true},
		{"other credential", "ns2:", "key1", "abc", false},
		{"other API key", "ns1:", "key2", "abc", false},
		{"other client key", "ns1:", "key1", "abd", false},
		{"shifted boundary", "ns1:k", "ey1", "abc", false},
		{"shifted boundary 2", "ns1:", "key1a", "bc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ScopedKey(tt.ns, tt.api, tt.user)
			if (got == base) != tt.same {
				t.Errorf("ScopedKey(%q, %q, %q) == base: %v, want %v", tt.ns, tt.api, tt.user, got == base, tt.same)
			}
		})
	}
}

func TestValidateKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"uuid", "0b6d6ac4-6b5e-4d0f-9f3a-2f1f6a1f0e3c", true},
		{"punctuation", "order#42/retry:1", true},
		{"max", fmt.Sprintf("%0255d", 7), true},
		{"empty", "", false},
		{"too long", fmt.Sprintf("%0256d", 7), false},
		{"space", "a b", false},
		{"newline", "a\nb", false},
		{"non-ASCII", "clé", false},
		{"nul", "a\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateKey(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("ValidateKey = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidKey) {
				t.Errorf("error %v does not match ErrInvalidKey", err)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	a, b := Fingerprint([]byte(`{"name":"Ann"}`)), Fingerprint([]byte(`{"name":"Bob"}`))
	if a == b || a != Fingerprint([]byte(`{"name":"Ann"}`)) {
		t.Errorf("fingerprints: %s %s", a, b)
	}
	if diff := cmp.Diff(64, len(a)); diff != "" {
		t.Errorf("fingerprint length (-want +got):\n%s", diff)
	}
}

// TestRedisStoreUnavailable: a Redis that does not answer is a store outage
// (redisconn.ErrUnavailable: nothing was done, a retry is safe), and fn does
// not run; a caller that gave up is not an outage.
func TestRedisStoreUnavailable(t *testing.T) {
	t.Parallel()
	s := NewRedisStore(redistest.Dial(t, redistest.ClosedAddr(t)), "idem:")
	c := &counter{result: []byte("x")}
	_, _, err := s.Do(t.Context(), "k", "fp", testTTL, c.fn)
	if !errors.Is(err, redisconn.ErrUnavailable) {
		t.Errorf("Do with Redis down = %v, want redisconn.ErrUnavailable", err)
	}
	if n := c.calls.Load(); n != 0 {
		t.Errorf("fn ran %d times with Redis down, want 0", n)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := s.Do(ctx, "k", "fp", testTTL, c.fn); errors.Is(err, redisconn.ErrUnavailable) {
		t.Errorf("Do with an ended context = %v, want no store outage", err)
	}
}
