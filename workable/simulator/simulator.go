// Package simulator is an in-memory fake of Workable's recruiting API
// ("SPI v3") served over net/http.
//
// It follows ../shared/workable-reference/API.md: the same endpoints, JSON
// shapes, paging, filters, validation, PATCH semantics, error bodies and
// rate-limit headers, in the shapes a live account answers (section 10,
// LIVE): ids as hex of increasing counters, paging absent on the last page
// and since_id = last id + 1, GET /candidates?shortcode= paging through
// /jobs/:shortcode/candidates, timestamps in milliseconds, live job list
// items and details, and activities whose move action is the target stage's
// slug. Where the reference is unsure ([I] tags) the choice made here is
// marked "simulator guess:" in a comment; code that talks to the simulator
// must not rely on those choices.
//
// The data is seeded and deterministic: two simulators built with the same
// options serve identical data. The simulator is safe for concurrent use.
//
// Route keys, used by RequestCount and InjectFault:
//
//	GET /jobs                          GET /jobs/{shortcode}
//	GET /candidates                    GET /jobs/{shortcode}/candidates
//	GET /candidates/{id}               POST /jobs/{shortcode}/candidates
//	PATCH /candidates/{id}             GET /candidates/{id}/activities
//	GET /jobs/{shortcode}/activities   GET /jobs/{shortcode}/stages
//	GET /stages                        GET /members
//	GET /departments                   GET /disqualification_reasons
//	GET /accounts                      GET /accounts/{subdomain}
//	GET /jobs/{shortcode}/members      POST /candidates/{id}/move
//	POST /candidates/{id}/disqualify   POST /candidates/{id}/revert
//	POST /candidates/{id}/comments     POST /candidates/{id}/ratings
//	PUT /candidates/{id}/tags          POST /candidates/{id}/copy
//	POST /candidates/{id}/relocate     POST /subscriptions
//	GET /subscriptions                 DELETE /subscriptions/{id}
//
// A request is handled in this order: route match (unknown path 404, known
// path with another method 405, neither counted), count, authentication
// (401, 403), rate limit (429), injected fault, endpoint. Every answer carries
// the X-Rate-Limit-* headers and an X-Request-Id; a successful GET also
// carries a live GET's Cache-Control and a weak ETag of its body.
package simulator

import (
	"net/http"
	"sync"
	"time"

	"github.com/workablegw/gateway/workable"
)

// DemoSubdomain is the account subdomain the simulator serves by default.
const DemoSubdomain = "groove-tech"

// DemoToken is the bearer token the simulator accepts by default.
const DemoToken = "demo-token"

// DemoMemberID is the id of the account's first admin (Eduardo Vallente),
// an active member: the acting member of the hiring actions in demo mode.
const DemoMemberID = "13e0eb0e"

// Defaults of the seeded data.
const (
	defaultSeed       = 20150708
	defaultCandidates = 300
)

// Workable's documented budget for account tokens (API.md §7). The headers
// advertise it when rate limiting is switched off.
const (
	workableLimit  = 10
	workableWindow = 10 * time.Second
)

// Scopes of Workable tokens (API.md §1) that the simulated routes require.
const (
	ScopeReadJobs        = "r_jobs"
	ScopeReadCandidates  = "r_candidates"
	ScopeWriteCandidates = "w_candidates"
)

// Option configures a Simulator built by New.
type Option func(*Simulator)

// Fault makes a route misbehave; see Simulator.InjectFault.
type Fault struct {
	// Status is the HTTP status to answer. Zero means "no status override":
	// the request is served normally after Delay.
	Status int
	// Body is the response body; empty means {"error": "<status text>"}.
	Body string
	// Delay is waited before answering. The wait ends early, without an
	// answer, when the request's context is done.
	Delay time.Duration
	// Times is how many requests the fault affects; 0 means until cleared.
	Times int
}

// window is one token's fixed rate-limit interval.
type rateWindow struct {
	start time.Time
	count int
}

// Simulator is an in-memory Workable account. Build it with New and serve it
// with Handler.
type Simulator struct {
	// Configuration, fixed after New.
	subdomain      string
	seed           int64
	nCandidates    int
	now            func() time.Time
	tokens         map[string]map[string]bool // token -> scopes it grants
	explicitTokens bool

	mu sync.Mutex

	// Rate limiting (limit 0 = off).
	limit   int
	window  time.Duration
	windows map[string]*rateWindow

	// Counters and faults.
	counts map[string]int
	bodies map[string][][]byte // bodies of the write requests, by route
	total  int
	// answered numbers every answer, for its X-Request-Id; never reset.
	answered uint64
	tooMany  int
	faults   map[string]*Fault

	// Data.
	account    accountRec
	stages     []stageRec
	members    []memberRec
	jobs       []*jobRec
	candidates []*candidateRec
	nextCandID uint64
	nextActID  uint64
	nextEntID  uint64

	// Webhooks (webhooks.go).
	webhookClient *http.Client
	subscriptions []*subscriptionRec
	nextSubID     int64
	events        map[string]*eventRec
	nextEventID   uint64
}

// New returns a simulator holding seeded, deterministic data: an account,
// twelve jobs in all four states, eight pipeline stages, seven members (one
// inactive) and (by default) 300 candidates with their activities.
func New(opts ...Option) *Simulator {
	s := &Simulator{
		subdomain:   DemoSubdomain,
		seed:        defaultSeed,
		nCandidates: defaultCandidates,
		now:         time.Now,
		tokens:      make(map[string]map[string]bool),
		windows:     make(map[string]*rateWindow),
		counts:      make(map[string]int),
		bodies:      make(map[string][][]byte),
		faults:      make(map[string]*Fault),
	}
	for _, opt := range opts {
		opt(s)
	}
	if !s.explicitTokens {
		s.tokens[DemoToken] = allScopes()
	}
	s.seedData()
	return s
}

func allScopes() map[string]bool {
	return map[string]bool{ScopeReadJobs: true, ScopeReadCandidates: true, ScopeWriteCandidates: true}
}

// WithToken makes token an accepted bearer token with every scope. Once
// WithToken or WithTokens is used, DemoToken is no longer accepted unless
// listed too.
func WithToken(token string) Option {
	return WithTokens(token)
}

// WithTokens makes each of tokens an accepted bearer token with every scope
// (each token has its own rate-limit window).
func WithTokens(tokens ...string) Option {
	return func(s *Simulator) {
		s.explicitTokens = true
		for _, t := range tokens {
			s.tokens[t] = allScopes()
		}
	}
}

// WithScopedToken makes token an accepted bearer token granting only scopes
// (ScopeReadJobs, ScopeReadCandidates, ScopeWriteCandidates). A route whose
// scope (API.md §1 table) is missing answers 403 {"error":"Forbidden"}.
// It does not disable DemoToken.
//
// simulator guess: the reference only infers that a missing scope gives 403.
func WithScopedToken(token string, scopes ...string) Option {
	return func(s *Simulator) {
		m := make(map[string]bool, len(scopes))
		for _, sc := range scopes {
			m[sc] = true
		}
		s.tokens[token] = m
	}
}

// WithForbiddenToken makes token an accepted bearer token without any scope:
// every route answers it 403 {"error":"Forbidden"}.
func WithForbiddenToken(token string) Option {
	return WithScopedToken(token)
}

// WithSubdomain sets the account's subdomain (default DemoSubdomain); it
// appears in the account, in candidates and in the jobs' URLs.
func WithSubdomain(subdomain string) Option {
	return func(s *Simulator) { s.subdomain = subdomain }
}

// WithSeed sets the seed of the generated data. The default is a fixed seed,
// so the data is the same on every run.
func WithSeed(seed int64) Option {
	return func(s *Simulator) { s.seed = seed }
}

// WithCandidates sets how many candidates are generated (default 300).
func WithCandidates(n int) Option {
	return func(s *Simulator) {
		if n < 0 {
			n = 0
		}
		s.nCandidates = n
	}
}

// WithRateLimit switches rate limiting on: each token may make limit requests
// per fixed window; limit 0 switches it off (the default).
func WithRateLimit(limit int, window time.Duration) Option {
	return func(s *Simulator) { s.setRateLimit(limit, window) }
}

// SetRateLimit switches rate limiting on (limit requests per token per fixed
// window) or off (limit 0). Current windows are forgotten.
func (s *Simulator) SetRateLimit(limit int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setRateLimit(limit, window)
}

func (s *Simulator) setRateLimit(limit int, window time.Duration) {
	if limit <= 0 || window <= 0 {
		limit, window = 0, 0
	}
	s.limit, s.window = limit, window
	s.windows = make(map[string]*rateWindow)
}

// RequestCount returns how many requests reached route (a route key such as
// "GET /jobs" or "PATCH /candidates/{id}"), whatever their answer.
func (s *Simulator) RequestCount(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[route]
}

// RequestCounts returns a copy of the per-route request counts.
func (s *Simulator) RequestCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		m[k] = v
	}
	return m
}

// RequestBodies returns the bodies of the write requests (every method but
// GET) to route that got past authentication and the rate limit, oldest
// first, as they were sent: tests assert the exact body a client sent.
func (s *Simulator) RequestBodies(route string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, 0, len(s.bodies[route]))
	for _, b := range s.bodies[route] {
		out = append(out, append([]byte(nil), b...))
	}
	return out
}

// TotalRequests returns how many requests reached any route.
func (s *Simulator) TotalRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// TooManyRequests returns how many 429 answers the simulator has given, from
// its rate limiter or from an injected fault.
func (s *Simulator) TooManyRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooMany
}

// ResetCounts sets every request counter, and the 429 counter, back to
// zero, and forgets the recorded request bodies (RequestBodies).
func (s *Simulator) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = make(map[string]int)
	s.bodies = make(map[string][][]byte)
	s.total = 0
	s.tooMany = 0
}

// InjectFault makes route (a route key, or "*" for every route) answer
// according to f. A route's own fault wins over "*". Faulty requests are
// still counted, authenticated and rate limited first.
func (s *Simulator) InjectFault(route string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[route] = &f
}

// ClearFaults removes every injected fault.
func (s *Simulator) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = make(map[string]*Fault)
}

// takeFault returns the fault that applies to route, consuming one of its
// Times. The caller holds s.mu.
func (s *Simulator) takeFault(route string) (Fault, bool) {
	for _, key := range []string{route, "*"} {
		f, ok := s.faults[key]
		if !ok {
			continue
		}
		out := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				delete(s.faults, key)
			}
		}
		return out, true
	}
	return Fault{}, false
}

// Account returns the simulated account.
func (s *Simulator) Account() workable.Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	var a workable.Account
	mustRoundTrip(s.accountJSON(), &a)
	return a
}

// Stages returns the pipeline stages in position order.
func (s *Simulator) Stages() []workable.Stage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]workable.Stage, 0, len(s.stages))
	for i := range s.stages {
		var ws workable.Stage
		mustRoundTrip(s.stages[i].toJSON(), &ws)
		out = append(out, ws)
	}
	return out
}

// Members returns the account's members in id order.
func (s *Simulator) Members() []workable.Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]workable.Member, 0, len(s.members))
	for _, m := range s.members {
		var wm workable.Member
		mustRoundTrip(m.toJSON(), &wm)
		out = append(out, wm)
	}
	return out
}

// Jobs returns every job in id order: its list item with every detail
// field (a live detail alone lacks location_str and sample, API.md §10).
func (s *Simulator) Jobs() []workable.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]workable.Job, 0, len(s.jobs))
	for _, j := range s.jobs {
		var wj workable.Job
		mustRoundTrip(s.jobJSON(j, jobEverything()), &wj)
		out = append(out, wj)
	}
	return out
}

// Job returns the job with shortcode, as Jobs does.
func (s *Simulator) Job(shortcode string) (workable.Job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.jobByShortcode(shortcode)
	if j == nil {
		return workable.Job{}, false
	}
	var wj workable.Job
	mustRoundTrip(s.jobJSON(j, jobEverything()), &wj)
	return wj, true
}

// Candidates returns every candidate in id order, with detail fields (the
// shape of GET /candidates/:id; resume_metadata, which only list items
// carry, is left out).
func (s *Simulator) Candidates() []workable.Candidate {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]workable.Candidate, 0, len(s.candidates))
	for _, c := range s.candidates {
		var wc workable.Candidate
		mustRoundTrip(s.candidateDetailJSON(c), &wc)
		out = append(out, wc)
	}
	return out
}

// Candidate returns the candidate with id, with detail fields.
func (s *Simulator) Candidate(id string) (workable.Candidate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.candidateByID(id)
	if c == nil {
		return workable.Candidate{}, false
	}
	var wc workable.Candidate
	mustRoundTrip(s.candidateDetailJSON(c), &wc)
	return wc, true
}

// Activities returns the activity stream of the candidate with id, oldest
// first (the shape of GET /candidates/:id/activities); nil when there is no
// such candidate.
func (s *Simulator) Activities(candidateID string) []workable.Activity {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.candidateByID(candidateID)
	if c == nil {
		return nil
	}
	out := make([]workable.Activity, 0, len(c.activities))
	for _, a := range c.activities {
		var wa workable.Activity
		mustRoundTrip(a.toJSON(), &wa)
		out = append(out, wa)
	}
	return out
}

// JobActivities returns the activity stream of the job with shortcode, in
// id order (the shape of GET /jobs/:shortcode/activities); nil when there is
// no such job.
func (s *Simulator) JobActivities(shortcode string) []workable.Activity {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.jobByShortcode(shortcode)
	if j == nil {
		return nil
	}
	acts := s.jobActivities(j)
	out := make([]workable.Activity, 0, len(acts))
	for _, ja := range acts {
		var wa workable.Activity
		mustRoundTrip(ja.a.jobActivityJSON(ja.c), &wa)
		out = append(out, wa)
	}
	return out
}
