package credentials

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// DefaultTestTimeout bounds one Registry.Test, rate-limit wait and retries
// included.
const DefaultTestTimeout = 20 * time.Second

// Messages of TestResult, in words a person can act on.
const (
	MsgTokenRejected  = "the token was rejected"
	MsgMissingScope   = "the token was rejected: it lacks the r_jobs scope needed to read the account"
	MsgNoSuchAccount  = "no such subdomain"
	MsgNoAnswer       = "Workable did not answer"
	MsgRateLimited    = "Workable is limiting this token's requests; try again in a few seconds"
	msgConnectedTo    = "connected to "
	msgUnexpectedCode = "Workable gave an unexpected answer (HTTP %d)"
	msgTestFailed     = "the test failed"
)

// TestResult is the outcome of Registry.Test.
type TestResult struct {
	// OK reports that Workable accepted the credential.
	OK bool
	// AccountName is the account's name when OK.
	AccountName string
	// Message says what happened, e.g. "connected to Groove Tech" or
	// "the token was rejected". It never contains the token.
	Message string
	// TestedAt is when the test ended.
	TestedAt time.Time
}

// Registry is the gateway's set of credentials: the default credential
// (from the environment; never stored, cannot be removed) in front of a
// Store. It validates input, keeps one upstream.Economy per credential (its
// workable.Client, so its own rate limiter, its cache namespace and its
// coalescing of fetches) and tests credentials.
// It is safe for concurrent use.
type Registry struct {
	store       Store
	newClient   func(Credential) (*workable.Client, error)
	upstream    upstream.Config
	testTimeout time.Duration

	mu       sync.Mutex
	def      *Credential // nil without a default credential
	clients  map[string]*built
	onRemove []func(context.Context, Credential)
}

// built is a credential's economy and the credential it was built from.
type built struct {
	econ *upstream.Economy
	// cred is the credential the economy was built for: a record of the
	// nickname made later (removed and added again) gets an economy of its
	// own, and cred is answered while the store cannot be read (see
	// Economy).
	cred Credential
}

// builtFor reports whether b was built for c.
func (b *built) builtFor(c Credential) bool {
	return b.cred.Subdomain == c.Subdomain && b.cred.Token == c.Token && b.cred.MemberID == c.MemberID &&
		b.cred.CreatedAt.Equal(c.CreatedAt)
}

// RegistryOption configures a Registry.
type RegistryOption func(*Registry)

// WithUpstream sets what the economy of every credential shares: the
// cache, its TTLs and namespace prefix, the response cache, the observers
// (default: no cache).
func WithUpstream(cfg upstream.Config) RegistryOption {
	return func(r *Registry) { r.upstream = cfg }
}

// WithTestTimeout bounds each Test (default DefaultTestTimeout).
func WithTestTimeout(d time.Duration) RegistryOption {
	return func(r *Registry) {
		if d > 0 {
			r.testTimeout = d
		}
	}
}

// NewRegistry returns a Registry over store. def is the default credential,
// or nil when there is none; its nickname becomes DefaultNickname and
// IsDefault is set. newClient builds the client of a credential (typically
// workable.NewClient with the configured base URL and options); it is called
// once per credential, and again only if the credential is replaced.
func NewRegistry(store Store, def *Credential, newClient func(Credential) (*workable.Client, error), opts ...RegistryOption) *Registry {
	r := &Registry{
		store:       store,
		newClient:   newClient,
		testTimeout: DefaultTestTimeout,
		clients:     make(map[string]*built),
	}
	for _, o := range opts {
		o(r)
	}
	if def != nil {
		d := def.clone()
		d.Nickname, d.IsDefault = DefaultNickname, true
		if d.CreatedAt.IsZero() {
			d.CreatedAt = time.Now().UTC()
		}
		r.def = &d
	}
	return r
}

// HasDefault reports whether there is a default credential.
func (r *Registry) HasDefault() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.def != nil
}

// isDefaultName reports whether nickname selects the default credential.
func isDefaultName(nickname string) bool {
	return nickname == "" || nickname == DefaultNickname
}

// defaultCredential returns a copy of the default credential, or ErrNotFound.
func (r *Registry) defaultCredential() (Credential, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.def == nil {
		return Credential{}, fmt.Errorf("%w: no default credential (set WORKABLE_SUBDOMAIN and WORKABLE_API_TOKEN, "+
			"or choose a credential by nickname)", ErrNotFound)
	}
	return r.def.clone(), nil
}

// Get returns the credential with nickname ("" or "default": the default
// credential); ErrNotFound when there is none.
func (r *Registry) Get(ctx context.Context, nickname string) (Credential, error) {
	if isDefaultName(nickname) {
		return r.defaultCredential()
	}
	if ValidateNickname(nickname) != nil {
		return Credential{}, notFound("get", nickname)
	}
	c, err := r.store.Get(ctx, nickname)
	if err != nil {
		return Credential{}, err
	}
	c.IsDefault = false
	return c, nil
}

// List returns the default credential first (when there is one), then the
// stored credentials sorted by nickname. When some stored records cannot be
// decrypted, it returns the readable credentials together with the store's
// *UnreadableError (matching ErrWrongKey); any other error comes alone.
//
// A complete list also drops the economies of credentials the store no
// longer has: removed through another replica, they would otherwise be
// kept until their nickname is asked for again.
func (r *Registry) List(ctx context.Context) ([]Credential, error) {
	stored, err := r.store.List(ctx)
	var unreadable *UnreadableError
	if err != nil && !errors.As(err, &unreadable) {
		return nil, err
	}
	if err == nil {
		r.forgetAllBut(stored)
	}
	out := make([]Credential, 0, len(stored)+1)
	if d, err := r.defaultCredential(); err == nil {
		out = append(out, d)
	}
	for _, c := range stored {
		if c.Nickname == DefaultNickname {
			continue // reserved; cannot have been added through the Registry
		}
		c.IsDefault = false
		out = append(out, c)
	}
	if unreadable != nil {
		return out, unreadable
	}
	return out, nil
}

// forgetAllBut drops the economies of the stored credentials that are not
// in stored (the default credential's is kept).
func (r *Registry) forgetAllBut(stored []Credential) {
	keep := make(map[string]bool, len(stored))
	for _, c := range stored {
		keep[c.Nickname] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for nickname := range r.clients {
		if nickname != DefaultNickname && !keep[nickname] {
			delete(r.clients, nickname)
		}
	}
}

// Add validates c and stores it. The subdomain is trimmed and lower-cased
// and the token trimmed; CreatedAt is set to now when zero; test results
// and IsDefault are cleared. It returns the credential as stored.
// Errors: ErrInvalid (including the reserved nickname "default" when there
// is no default credential), ErrAlreadyExists, and the store's errors
// (ErrNoEncryptionKey for a RedisStore without a key).
func (r *Registry) Add(ctx context.Context, c Credential) (Credential, error) {
	c.Subdomain = strings.ToLower(strings.TrimSpace(c.Subdomain))
	c.Token = strings.TrimSpace(c.Token)
	if err := ValidateNickname(c.Nickname); err != nil {
		return Credential{}, fmt.Errorf("add credential: %w", err)
	}
	if err := ValidateSubdomain(c.Subdomain); err != nil {
		return Credential{}, fmt.Errorf("add credential %q: %w", c.Nickname, err)
	}
	if err := ValidateToken(c.Token); err != nil {
		return Credential{}, fmt.Errorf("add credential %q: %w", c.Nickname, err)
	}
	c.MemberID = strings.TrimSpace(c.MemberID)
	if err := ValidateMemberID(c.MemberID); err != nil {
		return Credential{}, fmt.Errorf("add credential %q: %w", c.Nickname, err)
	}
	if c.Nickname == DefaultNickname {
		if r.HasDefault() {
			return Credential{}, fmt.Errorf("add credential %q: %w", c.Nickname, ErrAlreadyExists)
		}
		return Credential{}, fmt.Errorf("add credential: %w: the nickname %q is reserved for the credential "+
			"from WORKABLE_SUBDOMAIN and WORKABLE_API_TOKEN", ErrInvalid, DefaultNickname)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now().UTC()
	}
	c.LastTestedAt, c.LastTestOK, c.LastTestMessage, c.IsDefault = nil, nil, nil, false
	if err := r.store.Add(ctx, c); err != nil {
		return Credential{}, err
	}
	return c, nil
}

// Remove deletes the credential with nickname, drops its economy and its
// cache entries (see dropCache) and calls the OnRemove hooks with it. The default credential cannot be removed
// (ErrDefaultImmutable); an unknown nickname is ErrNotFound. A record that
// can no longer be decrypted (ErrWrongKey) is removed too, without hooks.
func (r *Registry) Remove(ctx context.Context, nickname string) error {
	if isDefaultName(nickname) && r.HasDefault() {
		return ErrDefaultImmutable
	}
	if ValidateNickname(nickname) != nil || nickname == DefaultNickname {
		return notFound("remove", nickname)
	}
	c, err := r.store.Get(ctx, nickname)
	readable := err == nil
	if err != nil && !errors.Is(err, ErrWrongKey) {
		return err
	}
	if err := r.store.Remove(ctx, nickname); err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.clients, nickname)
	hooks := slices.Clone(r.onRemove)
	r.mu.Unlock()
	if readable {
		r.dropCache(ctx, c)
		for _, h := range hooks {
			h(ctx, c)
		}
	}
	return nil
}

// dropCache drops a removed credential's cache entries (records, lists,
// responses: every key under its namespace), so that nothing it cached can
// be served again, even if the same token is added later.
//
// The namespace is that of the subdomain and token, so another credential
// (the default included) with the same subdomain and token shares it: the
// entries are then kept, since they are that credential's too. If the
// other credentials cannot be listed, the entries are dropped anyway
// (another credential then only misses its cache once).
//
// The rate budget is not dropped (the Redis limiter's keys, which start
// with "{", are outside the namespace): Workable keeps counting the token's
// requests in its window whatever the gateway forgets, and the keys expire
// with the window.
func (r *Registry) dropCache(ctx context.Context, c Credential) {
	store := r.upstream.Cache
	if store == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	ns := r.upstream.Namespace(c.Subdomain, c.Token)
	logger := r.logger()
	if other, ok := r.sharesNamespace(ctx, c.Nickname, ns); ok {
		logger.LogAttrs(ctx, slog.LevelInfo, "kept the cache entries of a removed credential: another credential has the same subdomain and token",
			slog.String("credential", c.Nickname), slog.String("shared_with", other))
		return
	}
	if err := store.DeletePrefix(ctx, ns); err != nil {
		logger.LogAttrs(ctx, slog.LevelWarn, "could not drop the cache entries of a removed credential; they expire with their TTLs",
			slog.String("credential", c.Nickname), slog.Any("err", err))
	}
}

// sharesNamespace returns the nickname of a credential other than nickname
// whose cache namespace is ns, if there is one. Records that cannot be
// decrypted are ignored (they cannot be used); when the credentials cannot
// be listed at all it reports none.
func (r *Registry) sharesNamespace(ctx context.Context, nickname, ns string) (string, bool) {
	list, err := r.List(ctx)
	if err != nil && !errors.Is(err, ErrWrongKey) {
		r.logger().LogAttrs(ctx, slog.LevelWarn, "could not list the credentials to see whether a removed credential's cache is shared",
			slog.String("credential", nickname), slog.Any("err", err))
		return "", false
	}
	for _, other := range list {
		if other.Nickname != nickname && r.upstream.Namespace(other.Subdomain, other.Token) == ns {
			return other.Nickname, true
		}
	}
	return "", false
}

// logger returns the logger of the economies (upstream.Config.Logger), or
// one that discards.
func (r *Registry) logger() *slog.Logger {
	if r.upstream.Logger != nil {
		return r.upstream.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// OnRemove registers h, called after a credential is removed through this
// Registry (e.g. so the cache drops that credential's entries). Hooks run
// synchronously, in registration order, and get the removed credential,
// token included. A removal made by another gateway replica sharing the
// store does not run this replica's hooks; its clients are dropped on their
// next use, when the store no longer has the credential.
func (r *Registry) OnRemove(h func(ctx context.Context, c Credential)) {
	if h == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onRemove = append(r.onRemove, h)
}

// Client returns the Workable client and the credential with nickname (see
// Economy).
func (r *Registry) Client(ctx context.Context, nickname string) (*workable.Client, Credential, error) {
	e, c, err := r.Economy(ctx, nickname)
	if err != nil {
		return nil, Credential{}, err
	}
	return e.Client(), c, nil
}

// Economy returns the economy and the credential with nickname ("" or
// "default": the default credential); ErrNotFound when there is none.
//
// Economies are built once per credential and reused, so all requests made
// with one credential share one rate limiter, one cache namespace and one
// coalescing of fetches. Stored credentials are read
// from the store on every call (one Redis read for a RedisStore), so that a
// credential removed or replaced by another replica stops being used at once;
// when the store cannot be read (Redis down), a credential this process has
// already used keeps its client.
func (r *Registry) Economy(ctx context.Context, nickname string) (*upstream.Economy, Credential, error) {
	c, err := r.Get(ctx, nickname)
	if err != nil {
		r.mu.Lock()
		defer r.mu.Unlock()
		switch {
		case errors.Is(err, ErrNotFound) && !isDefaultName(nickname):
			delete(r.clients, nickname)
		case !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrWrongKey) && ctx.Err() == nil:
			// The store cannot be read (Redis down or slow): keep serving a
			// credential this process has already used, so that an outage of
			// Redis does not stop its queries. A removal made meanwhile by
			// another replica takes effect once the store answers again.
			if b, ok := r.clients[nickname]; ok {
				return b.econ, b.cred, nil
			}
		}
		return nil, Credential{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.clients[c.Nickname]; ok && b.builtFor(c) {
		return b.econ, c, nil
	}
	client, err := r.newClient(c)
	if err != nil {
		return nil, Credential{}, fmt.Errorf("create client for %w", credErr(c.Nickname, err))
	}
	econ := upstream.New(r.upstream, upstream.Credential{
		Nickname:  c.Nickname,
		Namespace: r.upstream.Namespace(c.Subdomain, c.Token),
		MemberID:  c.MemberID,
	}, client)
	r.clients[c.Nickname] = &built{econ: econ, cred: c}
	return econ, c, nil
}

// Test calls Workable's account endpoint (GET /accounts/{subdomain}) with
// the credential's client and reports whether it worked, in words a person
// can act on. The result is saved with the credential (the default
// credential's only in memory). Errors: ErrNotFound for an unknown
// nickname, the caller's context ending, or failing to save the result (the
// TestResult is then still filled in).
func (r *Registry) Test(ctx context.Context, nickname string) (TestResult, error) {
	client, c, err := r.Client(ctx, nickname)
	if err != nil {
		return TestResult{}, fmt.Errorf("test credential: %w", err)
	}
	tctx, cancel := context.WithTimeout(ctx, r.testTimeout)
	acct, _, err := client.Accounts.Get(tctx)
	cancel()
	if ctx.Err() != nil {
		return TestResult{}, fmt.Errorf("test %w", credErr(c.Nickname, ctx.Err()))
	}
	res := describe(acct, err, c.Subdomain, client)
	res.TestedAt = time.Now().UTC()

	if c.IsDefault {
		r.mu.Lock()
		if r.def != nil {
			d := r.def.withTest(res.OK, res.Message, res.TestedAt)
			r.def = &d
		}
		r.mu.Unlock()
		return res, nil
	}
	err = r.store.RecordTest(ctx, c.Nickname, res.OK, res.Message, res.TestedAt)
	if err != nil && !errors.Is(err, ErrNotFound) { // removed meanwhile: nothing to record
		return res, err
	}
	return res, nil
}

// describe turns the answer of GET /accounts/{subdomain} into a TestResult.
func describe(acct *workable.Account, err error, subdomain string, client *workable.Client) TestResult {
	if err == nil {
		name := ""
		if acct != nil {
			name = acct.Name
		}
		if name == "" {
			name = subdomain
		}
		return TestResult{OK: true, AccountName: name, Message: msgConnectedTo + name}
	}
	var er *workable.ErrorResponse
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &er) && er.StatusCode == http.StatusForbidden:
		// simulator guess: the reference only infers that a token lacking a
		// scope gets 403 (API.md §7, [I: missing scope → 403]); we read any
		// 403 of the account endpoint as the missing r_jobs scope.
		return TestResult{Message: MsgMissingScope}
	case errors.Is(err, workable.ErrUnauthorized):
		return TestResult{Message: MsgTokenRejected}
	case errors.Is(err, workable.ErrNotFound):
		// simulator guess: the reference does not say what an unknown
		// subdomain answers; we read a 404 of GET /accounts/{subdomain}
		// (its generic "Not found") as "no such subdomain".
		return TestResult{Message: MsgNoSuchAccount}
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		// Without WORKABLE_BASE_URL the host is {subdomain}.workable.com, so
		// an unknown host is an unknown subdomain; behind a configured base
		// URL it is that host that is wrong, not the subdomain.
		if strings.EqualFold(client.BaseURL().Hostname(), subdomain+".workable.com") {
			return TestResult{Message: MsgNoSuchAccount}
		}
		return TestResult{Message: MsgNoAnswer}
	case errors.Is(err, workable.ErrRateLimited):
		return TestResult{Message: MsgRateLimited}
	case errors.Is(err, workable.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return TestResult{Message: MsgNoAnswer}
	case errors.As(err, &er):
		return TestResult{Message: fmt.Sprintf(msgUnexpectedCode, er.StatusCode)}
	default:
		var ne net.Error
		if errors.As(err, &ne) {
			return TestResult{Message: MsgNoAnswer}
		}
		return TestResult{Message: msgTestFailed}
	}
}
