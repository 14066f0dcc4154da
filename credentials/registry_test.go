package credentials

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// bubbleStart is the time in a testing/synctest bubble until it sleeps:
// what the registry reads as now in the tests that run in one.
var bubbleStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// within fails unless at is between before and after: the time a registry
// read during a test that talks to a server (outside a synctest bubble).
func within(t *testing.T, what string, at, before, after time.Time) {
	t.Helper()
	if at.Before(before) || at.After(after) {
		t.Errorf("%s = %v, want between %v and %v", what, at, before, after)
	}
}

// clientCounter builds clients for a base URL and counts the builds.
type clientCounter struct {
	base string // "" → Workable's own host
	opts []workable.Option

	mu    sync.Mutex
	built map[string]int // nickname → clients built
}

func newClientCounter(base string, opts ...workable.Option) *clientCounter {
	return &clientCounter{base: base, opts: opts, built: make(map[string]int)}
}

func (cc *clientCounter) newClient(c Credential) (*workable.Client, error) {
	cc.mu.Lock()
	cc.built[c.Nickname]++
	cc.mu.Unlock()
	// One attempt per call keeps failure tests fast; no retries to wait for.
	opts := append([]workable.Option{workable.WithRetry(1, 0, 0), workable.WithRateLimitRetries(0)}, cc.opts...)
	if cc.base != "" {
		opts = append(opts, workable.WithBaseURL(cc.base))
	}
	return workable.NewClient(c.Subdomain, c.Token, opts...)
}

func (cc *clientCounter) count(nickname string) int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.built[nickname]
}

func defaultCred() *Credential {
	return &Credential{Subdomain: simulator.DemoSubdomain, Token: simulator.DemoToken}
}

func TestRegistryDefaultCredential(t *testing.T) {
	t.Parallel()
	synctest.Test(t, testRegistryDefaultCredential)
}

func testRegistryDefaultCredential(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	r := NewRegistry(store, defaultCred(), newClientCounter("http://127.0.0.1:1/").newClient)
	if _, err := r.Add(ctx, cred("acme", "acme-co", "token-acme-1234")); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"", DefaultNickname} {
		got, err := r.Get(ctx, name)
		if err != nil {
			t.Fatalf("Get(%q): %v", name, err)
		}
		want := Credential{Nickname: DefaultNickname, Subdomain: simulator.DemoSubdomain, Token: simulator.DemoToken, CreatedAt: bubbleStart, IsDefault: true}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Get(%q) (-want +got):\n%s", name, diff)
		}
	}

	list, err := r.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range list {
		names = append(names, c.Nickname)
		if c.IsDefault != (c.Nickname == DefaultNickname) {
			t.Errorf("%s: IsDefault = %v", c.Nickname, c.IsDefault)
		}
	}
	if diff := cmp.Diff([]string{"default", "acme"}, names); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}

	for _, name := range []string{"", DefaultNickname} {
		if err := r.Remove(ctx, name); !errors.Is(err, ErrDefaultImmutable) {
			t.Errorf("Remove(%q) = %v, want ErrDefaultImmutable", name, err)
		}
	}
	if _, err := r.Add(ctx, cred(DefaultNickname, "acme-co", "token-x-12345")); !errors.Is(err, ErrAlreadyExists) {
		t.Errorf("Add(default) = %v, want ErrAlreadyExists", err)
	}
	if _, err := store.Get(ctx, DefaultNickname); !errors.Is(err, ErrNotFound) {
		t.Errorf("the default credential reached the store: %v", err)
	}
}

func TestRegistryWithoutDefault(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := NewRegistry(NewMemoryStore(), nil, newClientCounter("http://127.0.0.1:1/").newClient)
	if r.HasDefault() {
		t.Error("HasDefault() = true")
	}
	for _, name := range []string{"", DefaultNickname} {
		if _, _, err := r.Client(ctx, name); !errors.Is(err, ErrNotFound) {
			t.Errorf("Client(%q) = %v, want ErrNotFound", name, err)
		}
		if err := r.Remove(ctx, name); !errors.Is(err, ErrNotFound) {
			t.Errorf("Remove(%q) = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := r.Add(ctx, cred(DefaultNickname, "acme-co", "token-x-12345")); !errors.Is(err, ErrInvalid) {
		t.Errorf("Add(default) = %v, want ErrInvalid (reserved)", err)
	}
	if list, err := r.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("List = %v, %v; want empty", list, err)
	}
}

func TestRegistryAdd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		in      Credential
		want    Credential
		wantErr error
	}{
		{
			name: "normalised",
			in:   Credential{Nickname: "acme", Subdomain: " Acme-Co ", Token: " " + secretToken + "\n", IsDefault: true, LastTestOK: new(bool)},
			want: Credential{Nickname: "acme", Subdomain: "acme-co", Token: secretToken, CreatedAt: bubbleStart},
		},
		{
			name: "keeps CreatedAt",
			in:   cred("acme", "acme-co", secretToken),
			want: cred("acme", "acme-co", secretToken),
		},
		{
			name: "with an acting member",
			in:   Credential{Nickname: "acme", Subdomain: "acme-co", Token: secretToken, MemberID: " 13e0eb0e "},
			want: Credential{Nickname: "acme", Subdomain: "acme-co", Token: secretToken, CreatedAt: bubbleStart, MemberID: "13e0eb0e"},
		},
		{name: "bad member id", in: Credential{Nickname: "acme", Subdomain: "acme", Token: secretToken, MemberID: "13e0/eb0e"}, wantErr: ErrInvalid},
		{name: "bad nickname", in: Credential{Nickname: "a b", Subdomain: "acme", Token: secretToken}, wantErr: ErrInvalid},
		{name: "long nickname", in: Credential{Nickname: strings.Repeat("a", 65), Subdomain: "acme", Token: secretToken}, wantErr: ErrInvalid},
		{name: "bad subdomain", in: Credential{Nickname: "acme", Subdomain: "acme.evil.com", Token: secretToken}, wantErr: ErrInvalid},
		{name: "empty subdomain", in: Credential{Nickname: "acme", Token: secretToken}, wantErr: ErrInvalid},
		{name: "empty token", in: Credential{Nickname: "acme", Subdomain: "acme"}, wantErr: ErrInvalid},
		{name: "token with space", in: Credential{Nickname: "acme", Subdomain: "acme", Token: "sEcReT t0ken"}, wantErr: ErrInvalid},
		{name: "token with CRLF", in: Credential{Nickname: "acme", Subdomain: "acme", Token: "sEcReT\r\nX: y"}, wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				store := NewMemoryStore()
				r := NewRegistry(store, nil, newClientCounter("").newClient)
				got, err := r.Add(ctx, tt.in)
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("Add = %v, want %v", err, tt.wantErr)
					}
					if strings.Contains(err.Error(), "sEcReT") {
						t.Errorf("error %q contains the token", err)
					}
					if list, _ := store.List(ctx); len(list) != 0 {
						t.Errorf("a rejected credential was stored: %v", list)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Add (-want +got):\n%s", diff)
				}
				stored, err := r.Get(ctx, tt.in.Nickname)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, stored); diff != "" {
					t.Errorf("Get after Add (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestRegistryAddWithoutEncryptionKey(t *testing.T) {
	t.Parallel()
	rdb, prefix := redistest.Redis(t)
	s, err := NewRedisStore(rdb, prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRegistry(s, defaultCred(), newClientCounter("").newClient)
	_, err = r.Add(context.Background(), cred("acme", "acme-co", secretToken))
	if !errors.Is(err, ErrNoEncryptionKey) {
		t.Fatalf("Add = %v, want ErrNoEncryptionKey", err)
	}
	list, err := r.List(context.Background())
	if err != nil || len(list) != 1 || !list[0].IsDefault {
		t.Errorf("List = %v, %v; want just the default", list, err)
	}
}

func TestRegistryClientCaching(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cc := newClientCounter("http://127.0.0.1:1/")
	r := NewRegistry(NewMemoryStore(), defaultCred(), cc.newClient)
	var removed []string
	r.OnRemove(func(_ context.Context, c Credential) {
		if c.Token == "" {
			t.Error("the hook got a credential without its token")
		}
		removed = append(removed, c.Nickname)
	})
	mustRegistryAdd(t, r, cred("acme", "acme-co", "token-acme-1234"))
	mustRegistryAdd(t, r, cred("beta", "beta-co", "token-beta-1234"))

	d1, dc, err := r.Client(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	d2, _, _ := r.Client(ctx, DefaultNickname)
	if d1 != d2 || !dc.IsDefault || dc.Token != simulator.DemoToken {
		t.Errorf("default: clients %p %p, credential %v", d1, d2, dc)
	}
	a1, ac, err := r.Client(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	a2, _, _ := r.Client(ctx, "acme")
	b1, _, _ := r.Client(ctx, "beta")
	if a1 != a2 {
		t.Error("two Client calls for one credential built two clients")
	}
	if a1 == b1 || a1 == d1 {
		t.Error("two credentials share a client")
	}
	if ac.Subdomain != "acme-co" || a1.Subdomain() != "acme-co" {
		t.Errorf("acme client is for %q / %q", ac.Subdomain, a1.Subdomain())
	}
	if n := cc.count("acme"); n != 1 {
		t.Errorf("acme client built %d times, want 1", n)
	}
	if _, _, err := r.Client(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Client(unknown) = %v, want ErrNotFound", err)
	}
	if _, _, err := r.Client(ctx, "bad\nname"); !errors.Is(err, ErrNotFound) || strings.Contains(err.Error(), "bad\nname") {
		t.Errorf("Client(malformed) = %v, want ErrNotFound without the name", err)
	}

	if err := r.Remove(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"acme"}, removed); diff != "" {
		t.Errorf("OnRemove calls (-want +got):\n%s", diff)
	}
	if _, _, err := r.Client(ctx, "acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Client after Remove = %v, want ErrNotFound", err)
	}
	if err := r.Remove(ctx, "acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove = %v, want ErrNotFound", err)
	}
	if len(removed) != 1 {
		t.Errorf("the hook ran for a failed Remove: %v", removed)
	}

	// Added again (another token): a new client, with its own limiter.
	mustRegistryAdd(t, r, cred("acme", "acme-co", "token-acme-5678"))
	a3, _, err := r.Client(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if a3 == a1 || cc.count("acme") != 2 {
		t.Errorf("re-added credential reused the old client (built %d times)", cc.count("acme"))
	}
}

func TestRegistrySeesRemovalByAnotherReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := redistest.Redis(t)
	key := newKey(t)
	newReplica := func() (*Registry, *clientCounter) {
		s, err := NewRedisStore(rdb, prefix, key)
		if err != nil {
			t.Fatal(err)
		}
		cc := newClientCounter("http://127.0.0.1:1/")
		return NewRegistry(s, nil, cc.newClient), cc
	}
	r1, _ := newReplica()
	r2, cc2 := newReplica()

	mustRegistryAdd(t, r1, cred("acme", "acme-co", "token-old-1234"))
	old, _, err := r2.Client(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := r1.Remove(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r2.Client(ctx, "acme"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("replica 2 Client after replica 1 removed = %v, want ErrNotFound", err)
	}
	mustRegistryAdd(t, r1, cred("acme", "acme-co", "token-new-1234"))
	renewed, c, err := r2.Client(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if renewed == old || c.Token != "token-new-1234" || cc2.count("acme") != 2 {
		t.Errorf("replica 2 kept the removed credential's client (token %q)", c.Token)
	}
}

func TestRegistryRemoveUndecryptable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := redistest.Redis(t)
	old, err := NewRedisStore(rdb, prefix, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, old, cred("acme", "acme-co", "token-1234"))
	rotated, err := NewRedisStore(rdb, prefix, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	r := NewRegistry(rotated, nil, newClientCounter("").newClient)
	hooks := 0
	r.OnRemove(func(context.Context, Credential) { hooks++ })
	if _, err := r.List(ctx); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("List = %v, want ErrWrongKey", err)
	}
	if err := r.Remove(ctx, "acme"); err != nil {
		t.Fatalf("Remove of an undecryptable record: %v", err)
	}
	if list, err := r.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("List after Remove = %v, %v", list, err)
	}
	if hooks != 0 {
		t.Errorf("hooks ran %d times for a credential that could not be read", hooks)
	}
}

func mustRegistryAdd(t *testing.T, r *Registry, c Credential) {
	t.Helper()
	if _, err := r.Add(context.Background(), c); err != nil {
		t.Fatalf("Add(%s): %v", c.Nickname, err)
	}
}

// startSimulator serves sim and returns its API base URL.
func startSimulator(t *testing.T, sim *simulator.Simulator) string {
	t.Helper()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return srv.URL + "/spi/v3/"
}

// unreachableURL returns a base URL on which nothing listens.
func unreachableURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr + "/spi/v3/"
}

// dnsNotFoundClient fails every dial as if the host did not exist.
func dnsNotFoundClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(_ context.Context, network, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
		},
	}}
}

func TestRegistryTest(t *testing.T) {
	t.Parallel()
	const wrongToken = "wrong-sEcReT-token-0000"
	const forbiddenToken = "scopeless-sEcReT-token-0000"
	acctName := simulator.New(simulator.WithCandidates(0)).Account().Name
	if acctName == "" {
		t.Fatal("the simulator's account has no name")
	}

	tests := []struct {
		name      string
		cred      Credential
		sim       func(*simulator.Simulator) // configures the simulator
		base      func(t *testing.T, simBase string) string
		opts      []workable.Option
		wantOK    bool
		wantMsg   string
		wantName  string
		wantCalls int // requests to GET /accounts/{subdomain}; -1: not checked
	}{
		{
			name:      "ok",
			cred:      cred("acme", simulator.DemoSubdomain, simulator.DemoToken),
			wantOK:    true,
			wantMsg:   "connected to " + acctName,
			wantName:  acctName,
			wantCalls: 1,
		},
		{
			name:      "wrong token",
			cred:      cred("acme", simulator.DemoSubdomain, wrongToken),
			wantMsg:   MsgTokenRejected,
			wantCalls: 1,
		},
		{
			name:      "token without scope",
			cred:      cred("acme", simulator.DemoSubdomain, forbiddenToken),
			wantMsg:   MsgMissingScope,
			wantCalls: 1,
		},
		{
			name:      "unknown subdomain",
			cred:      cred("acme", "no-such-company", simulator.DemoToken),
			wantMsg:   MsgNoSuchAccount,
			wantCalls: 1,
		},
		{
			name: "Workable answers 503",
			cred: cred("acme", simulator.DemoSubdomain, simulator.DemoToken),
			sim: func(s *simulator.Simulator) {
				s.InjectFault("GET /accounts/{subdomain}", simulator.Fault{Status: http.StatusServiceUnavailable})
			},
			wantMsg:   MsgNoAnswer,
			wantCalls: 1,
		},
		{
			name: "Workable answers 500",
			cred: cred("acme", simulator.DemoSubdomain, simulator.DemoToken),
			sim: func(s *simulator.Simulator) {
				s.InjectFault("GET /accounts/{subdomain}", simulator.Fault{Status: http.StatusInternalServerError})
			},
			wantMsg:   MsgNoAnswer,
			wantCalls: 1,
		},
		{
			name: "Workable answers 429",
			cred: cred("acme", simulator.DemoSubdomain, simulator.DemoToken),
			sim: func(s *simulator.Simulator) {
				s.InjectFault("GET /accounts/{subdomain}", simulator.Fault{Status: http.StatusTooManyRequests})
			},
			wantMsg:   MsgRateLimited,
			wantCalls: 1,
		},
		{
			name: "Workable is too slow",
			cred: cred("acme", simulator.DemoSubdomain, simulator.DemoToken),
			sim: func(s *simulator.Simulator) {
				// The delay ends when the client gives up; it only has to
				// outlast the client's timeout.
				s.InjectFault("GET /accounts/{subdomain}", simulator.Fault{Delay: time.Hour})
			},
			opts:    []workable.Option{workable.WithRequestTimeout(20 * time.Millisecond)},
			wantMsg: MsgNoAnswer,
			// The client may give up before the request reaches the server.
			wantCalls: -1,
		},
		{
			name:      "unreachable base URL",
			cred:      cred("acme", simulator.DemoSubdomain, simulator.DemoToken),
			base:      func(t *testing.T, _ string) string { return unreachableURL(t) },
			wantMsg:   MsgNoAnswer,
			wantCalls: 0,
		},
		{
			name:      "no such host for the subdomain",
			cred:      cred("acme", "no-such-company", simulator.DemoToken),
			base:      func(*testing.T, string) string { return "" }, // https://no-such-company.workable.com/
			opts:      []workable.Option{workable.WithHTTPClient(dnsNotFoundClient())},
			wantMsg:   MsgNoSuchAccount,
			wantCalls: 0,
		},
		{
			name:      "no such host for a configured base URL",
			cred:      cred("acme", simulator.DemoSubdomain, simulator.DemoToken),
			base:      func(*testing.T, string) string { return "https://proxy.invalid/spi/v3/" },
			opts:      []workable.Option{workable.WithHTTPClient(dnsNotFoundClient())},
			wantMsg:   MsgNoAnswer,
			wantCalls: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			sim := simulator.New(simulator.WithCandidates(0),
				simulator.WithTokens(simulator.DemoToken), simulator.WithForbiddenToken(forbiddenToken))
			if tt.sim != nil {
				tt.sim(sim)
			}
			base := startSimulator(t, sim)
			if tt.base != nil {
				base = tt.base(t, base)
			}
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			cc := newClientCounter(base, append(tt.opts, workable.WithRequestHook(func(ctx context.Context, e workable.RequestEvent) {
				logger.InfoContext(ctx, "workable request", "route", e.Route, "status", e.Status, "err", e.Err)
			}))...)
			store := NewMemoryStore()
			r := NewRegistry(store, nil, cc.newClient)
			mustRegistryAdd(t, r, tt.cred)

			before := time.Now()
			res, err := r.Test(ctx, "acme")
			if err != nil {
				t.Fatalf("Test: %v", err)
			}
			within(t, "TestedAt", res.TestedAt, before, time.Now())
			want := TestResult{OK: tt.wantOK, AccountName: tt.wantName, Message: tt.wantMsg, TestedAt: res.TestedAt}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("Test (-want +got):\n%s", diff)
			}
			if got := sim.RequestCount("GET /accounts/{subdomain}"); tt.wantCalls >= 0 && got != tt.wantCalls {
				t.Errorf("GET /accounts/{subdomain} called %d times, want %d", got, tt.wantCalls)
			}
			stored, err := r.Get(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.cred.withTest(tt.wantOK, tt.wantMsg, res.TestedAt), stored); diff != "" {
				t.Errorf("recorded result (-want +got):\n%s", diff)
			}
			logger.Info("test result", "result", res.Message, "cred", stored)
			for name, out := range map[string]string{"message": res.Message, "logs": logs.String()} {
				if strings.Contains(out, tt.cred.Token) {
					t.Errorf("%s contains the token: %s", name, out)
				}
			}
		})
	}
}

func TestRegistryTestDefaultKeepsResultInMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sim := simulator.New(simulator.WithCandidates(0))
	base := startSimulator(t, sim)
	store := NewMemoryStore()
	r := NewRegistry(store, defaultCred(), newClientCounter(base).newClient)

	res, err := r.Test(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.AccountName != sim.Account().Name {
		t.Errorf("Test(default) = %+v", res)
	}
	got, err := r.Get(ctx, DefaultNickname)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastTestOK == nil || !*got.LastTestOK || *got.LastTestMessage != res.Message || !got.LastTestedAt.Equal(res.TestedAt) {
		t.Errorf("default credential after Test: %+v", got)
	}
	if list, _ := store.List(ctx); len(list) != 0 {
		t.Errorf("the default credential was stored: %v", list)
	}
	if _, err := r.Test(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Test(unknown) = %v, want ErrNotFound", err)
	}
}

func TestRegistryTestCallerCancelled(t *testing.T) {
	t.Parallel()
	sim := simulator.New(simulator.WithCandidates(0))
	r := NewRegistry(NewMemoryStore(), defaultCred(), newClientCounter(startSimulator(t, sim)).newClient)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Test(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("Test with a cancelled context = %v, want context.Canceled", err)
	}
	if got, _ := r.Get(context.Background(), ""); got.LastTestedAt != nil {
		t.Errorf("a cancelled test was recorded: %+v", got)
	}
}

func TestRegistryErrorsNeverContainToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := redistest.Redis(t)
	right, err := NewRedisStore(rdb, prefix, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := NewRedisStore(rdb, prefix, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	failing := func(Credential) (*workable.Client, error) { return nil, errors.New("refused") }
	r := NewRegistry(right, &Credential{Subdomain: "acme-co", Token: secretToken}, failing)
	rw := NewRegistry(wrong, nil, failing)
	mustRegistryAdd(t, r, cred("acme", "acme-co", secretToken))

	var errs []error
	_, err = r.Add(ctx, cred("acme", "acme-co", secretToken))
	errs = append(errs, err)
	_, err = r.Add(ctx, cred("bad", "acme-co", secretToken+" x"))
	errs = append(errs, err)
	_, _, err = r.Client(ctx, "acme")
	errs = append(errs, err)
	_, _, err = r.Client(ctx, "")
	errs = append(errs, err)
	_, err = r.Test(ctx, "acme")
	errs = append(errs, err)
	errs = append(errs, r.Remove(ctx, ""))
	_, err = rw.Get(ctx, "acme")
	errs = append(errs, err)
	_, err = rw.List(ctx)
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Errorf("error %d is nil", i)
			continue
		}
		if strings.Contains(err.Error(), secretToken) || strings.Contains(err.Error(), secretToken[:10]) {
			t.Errorf("error %d contains the token: %v", i, err)
		}
	}
}

// TestRegistryListSkipsUnreadable: the Registry lists the default and the
// readable credentials next to the store's *UnreadableError.
func TestRegistryListSkipsUnreadable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := redistest.Redis(t)
	old, err := NewRedisStore(rdb, prefix, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, old, cred("acme", "acme-co", "token-1234-abcdefgh"))
	rotated, err := NewRedisStore(rdb, prefix, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	r := NewRegistry(rotated, defaultCred(), newClientCounter("").newClient)
	mustRegistryAdd(t, r, cred("beta", "beta-co", "token-5678-abcdefgh"))
	list, err := r.List(ctx)
	var ue *UnreadableError
	if !errors.As(err, &ue) || !cmp.Equal(ue.Nicknames, []string{"acme"}) {
		t.Fatalf("List error = %v, want an *UnreadableError naming acme", err)
	}
	var names []string
	for _, c := range list {
		names = append(names, c.Nickname)
	}
	if diff := cmp.Diff([]string{DefaultNickname, "beta"}, names); diff != "" {
		t.Errorf("listed (-want +got):\n%s", diff)
	}
	// Choosing it is ErrWrongKey, not a store outage.
	if _, _, err := r.Client(ctx, "acme"); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Client(acme) = %v, want ErrWrongKey", err)
	}
}

// flakyStore is a Store whose reads fail while down is set, as a RedisStore
// does while Redis is unreachable.
type flakyStore struct {
	Store
	mu   sync.Mutex
	down bool
}

var errStoreDown = errors.New("credentials store unavailable")

func (s *flakyStore) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

func (s *flakyStore) Get(ctx context.Context, nickname string) (Credential, error) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		return Credential{}, errStoreDown
	}
	return s.Store.Get(ctx, nickname)
}

// TestRegistryClientSurvivesStoreOutage: while the store cannot be read, a
// credential this process has already used keeps its client; one it never
// used gets the store's error; a removal seen once the store is back
// applies.
func TestRegistryClientSurvivesStoreOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &flakyStore{Store: NewMemoryStore()}
	r := NewRegistry(store, defaultCred(), newClientCounter("http://127.0.0.1:1/").newClient)
	mustRegistryAdd(t, r, cred("acme", "acme-co", "token-acme-1234"))
	mustRegistryAdd(t, r, cred("beta", "beta-co", "token-beta-1234"))
	before, _, err := r.Client(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}

	store.setDown(true)
	during, c, err := r.Client(ctx, "acme")
	if err != nil || during != before || c.Subdomain != "acme-co" || c.Token != "token-acme-1234" {
		t.Errorf("acme during the outage = %p, %v, %v; want the client it had", during, c, err)
	}
	if _, _, err := r.Client(ctx, "beta"); !errors.Is(err, errStoreDown) {
		t.Errorf("beta (never used) during the outage: err = %v, want the store's error", err)
	}
	if _, _, err := r.Client(ctx, ""); err != nil {
		t.Errorf("default during the outage: %v", err)
	}

	store.setDown(false)
	if err := store.Remove(ctx, "acme"); err != nil { // as another replica would
		t.Fatal(err)
	}
	if _, _, err := r.Client(ctx, "acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("acme after its removal: err = %v, want ErrNotFound", err)
	}
	store.setDown(true)
	if _, _, err := r.Client(ctx, "acme"); !errors.Is(err, errStoreDown) {
		t.Errorf("removed acme during a later outage: err = %v, want the store's error", err)
	}
}

// TestRemovalByAnotherReplica: two registries share one store, as two
// replicas share Redis. A credential removed through one is no longer
// served by the other, and the other drops its economy at its next
// complete List even if the nickname is never asked for again.
func TestRemovalByAnotherReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := NewMemoryStore()
	a := NewRegistry(store, defaultCred(), newClientCounter("http://127.0.0.1:1/").newClient)
	b := NewRegistry(store, defaultCred(), newClientCounter("http://127.0.0.1:1/").newClient)
	mustRegistryAdd(t, a, cred("acme", "acme-co", "token-acme-1234"))
	mustRegistryAdd(t, a, cred("beta", "beta-co", "token-beta-1234"))
	for _, n := range []string{"", "acme", "beta"} {
		if _, _, err := a.Economy(ctx, n); err != nil {
			t.Fatalf("Economy(%q): %v", n, err)
		}
	}
	if err := b.Remove(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.List(ctx); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	kept := slices.Sorted(maps.Keys(a.clients))
	a.mu.Unlock()
	if diff := cmp.Diff([]string{"beta", DefaultNickname}, kept); diff != "" {
		t.Errorf("economies kept after the other replica's removal (-want +got):\n%s", diff)
	}
	if _, _, err := a.Economy(ctx, "acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Economy(acme) after the other replica's removal = %v, want ErrNotFound", err)
	}
}
