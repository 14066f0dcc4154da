// Package workable is a typed client for Workable's recruiting REST API
// ("SPI v3"), as described in ../shared/workable-reference/API.md.
//
// A Client groups the endpoints in services (Jobs, Candidates, Accounts).
// Every request passes through a RateLimiter that keeps the token inside
// Workable's budget (the X-Rate-Limit-Limit Workable announces for the
// token: 10 requests per 10 seconds for account tokens, 50 for OAuth and
// partner tokens), and is not sent when its answer could not come back
// before the context's deadline; 429s are waited out and retried, transient failures of reads are retried with
// jittered backoff, and writes whose outcome is unknown are never retried.
package workable

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

const (
	defaultUserAgent        = "workable-graphql-gateway/1"
	defaultRequestTimeout   = 10 * time.Second
	defaultMaxResponseBytes = 16 << 20
	defaultMaxAttempts      = 3
	defaultBaseDelay        = 200 * time.Millisecond
	defaultMaxDelay         = 5 * time.Second
	defaultRateLimitRetries = 3
	// defaultRateLimitWait is how long to wait after a 429 that carries
	// neither Retry-After nor X-Rate-Limit-Reset: one full interval (API.md §7).
	defaultRateLimitWait = 10 * time.Second
	// maxRedirects bounds redirects followed by the default HTTP client.
	maxRedirects = 5
)

// RequestEvent describes one HTTP attempt; request hooks receive one after
// every attempt, retries included.
type RequestEvent struct {
	// Method is the HTTP method.
	Method string
	// Route is the route template, e.g. "GET /candidates/{id}".
	Route string
	// Status is the HTTP status, 0 when no response was received.
	Status int
	// Err is the attempt's error, nil on success.
	Err error
	// Duration is how long the attempt took, not counting rate-limit waits.
	Duration time.Duration
	// Attempt is 1 for the first attempt, 2 for the first retry, ….
	Attempt int
}

// Client talks to one Workable account.
type Client struct {
	// Jobs is GET /jobs and GET /jobs/{shortcode}.
	Jobs *JobsService
	// Candidates is the candidate endpoints.
	Candidates *CandidatesService
	// Accounts is the account, stages and members endpoints.
	Accounts *AccountsService
	// Subscriptions is the webhook subscription endpoints.
	Subscriptions *SubscriptionsService

	httpClient          *http.Client
	baseURL             *url.URL
	subdomain           string
	token               string
	userAgent           string
	limiter             RateLimiter
	requestTimeout      time.Duration
	maxResponseBytes    int64
	maxAttempts         int
	baseDelay           time.Duration
	maxDelay            time.Duration
	maxRateLimitRetries int
	hooks               []func(context.Context, RequestEvent)
	// callTime is the moving average of how long an attempt that got an
	// answer took (nanoseconds, 0 until the first answer); see callEstimate.
	callTime atomic.Int64
}

type service struct {
	client *Client
}

// JobsService is the jobs endpoints (API.md §2, §3).
type JobsService service

// CandidatesService is the candidate endpoints (API.md §3–§6).
type CandidatesService service

// AccountsService is the account, stages and members endpoints (API.md §9).
type AccountsService service

// SubscriptionsService is the webhook subscription endpoints (API.md §9).
type SubscriptionsService service

// Option configures a Client.
type Option func(*Client) error

// WithBaseURL sets the API root, e.g. "http://127.0.0.1:1234/spi/v3/"; a
// missing trailing "/" is added.
func WithBaseURL(rawURL string) Option {
	return func(c *Client) error {
		u, err := url.Parse(rawURL)
		if err != nil {
			return fmt.Errorf("workable: parse base URL: %w", err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("workable: base URL scheme must be http or https, not %q", u.Scheme)
		}
		if u.Host == "" {
			return errors.New("workable: base URL has no host")
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("workable: base URL must not carry user info, a query or a fragment")
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
			if u.RawPath != "" {
				u.RawPath += "/"
			}
		}
		c.baseURL = u
		return nil
	}
}

// WithHTTPClient sets the HTTP client (its Transport carries tracing, say).
// The client's own per-attempt timeout still applies. Unless hc has a
// redirect policy of its own, the client's is used (a copy of hc gets it):
// redirects are followed only on the base URL's origin, so that the token
// never leaves it.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("workable: nil HTTP client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header (default "workable-graphql-gateway/1").
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if ua == "" || strings.ContainsAny(ua, "\r\n") {
			return errors.New("workable: invalid user agent")
		}
		c.userAgent = ua
		return nil
	}
}

// WithRateLimiter sets the limiter every attempt passes through (default
// NewWindowLimiter(10, 10*time.Second), which then adopts the limit Workable
// announces). Share one limiter between clients that use the same token.
func WithRateLimiter(l RateLimiter) Option {
	return func(c *Client) error {
		if l == nil {
			return errors.New("workable: nil rate limiter")
		}
		c.limiter = l
		return nil
	}
}

// WithRequestTimeout bounds each HTTP attempt, body included (default 10 s).
func WithRequestTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return errors.New("workable: request timeout must be positive")
		}
		c.requestTimeout = d
		return nil
	}
}

// WithMaxResponseBytes caps response bodies (default 16 MiB); a larger body
// is an error matching ErrUnavailable.
func WithMaxResponseBytes(n int64) Option {
	return func(c *Client) error {
		if n <= 0 {
			return errors.New("workable: max response bytes must be positive")
		}
		c.maxResponseBytes = n
		return nil
	}
}

// WithRetry sets how reads are retried after a 5xx, a timeout or a network
// error: at most maxAttempts attempts in all (1 disables retries), waiting a
// jittered exponential backoff starting near baseDelay and capped at
// maxDelay. The default is 3, 200 ms, 5 s.
func WithRetry(maxAttempts int, baseDelay, maxDelay time.Duration) Option {
	return func(c *Client) error {
		if maxAttempts < 1 || baseDelay < 0 || maxDelay < baseDelay {
			return errors.New("workable: invalid retry settings")
		}
		c.maxAttempts, c.baseDelay, c.maxDelay = maxAttempts, baseDelay, maxDelay
		return nil
	}
}

// WithRateLimitRetries sets how many times one call waits out a 429 and
// retries (default 3; 0 returns the first 429).
func WithRateLimitRetries(n int) Option {
	return func(c *Client) error {
		if n < 0 {
			return errors.New("workable: rate-limit retries must not be negative")
		}
		c.maxRateLimitRetries = n
		return nil
	}
}

// WithRequestHook registers h to be called after every HTTP attempt (not for
// calls that fail before sending, e.g. in the rate limiter). Hooks run
// synchronously and must be safe for concurrent use.
func WithRequestHook(h func(ctx context.Context, e RequestEvent)) Option {
	return func(c *Client) error {
		if h == nil {
			return errors.New("workable: nil request hook")
		}
		c.hooks = append(c.hooks, h)
		return nil
	}
}

// NewClient returns a client for the account at subdomain, authenticating
// with token. The base URL defaults to https://{subdomain}.workable.com/spi/v3/
// (API.md §1).
func NewClient(subdomain, token string, opts ...Option) (*Client, error) {
	if !isDNSLabel(subdomain) {
		return nil, fmt.Errorf("workable: invalid subdomain %q", subdomain)
	}
	if token == "" {
		return nil, errors.New("workable: empty token")
	}
	if !validToken(token) {
		// The token itself is never part of the message.
		return nil, errors.New("workable: token contains whitespace or control characters")
	}
	c := &Client{
		subdomain:           subdomain,
		token:               token,
		userAgent:           defaultUserAgent,
		requestTimeout:      defaultRequestTimeout,
		maxResponseBytes:    defaultMaxResponseBytes,
		maxAttempts:         defaultMaxAttempts,
		baseDelay:           defaultBaseDelay,
		maxDelay:            defaultMaxDelay,
		maxRateLimitRetries: defaultRateLimitRetries,
	}
	if err := WithBaseURL(fmt.Sprintf("https://%s.workable.com/spi/v3/", subdomain))(c); err != nil {
		return nil, err
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.limiter == nil {
		c.limiter = NewWindowLimiter(10, 10*time.Second)
	}
	switch {
	case c.httpClient == nil:
		c.httpClient = &http.Client{CheckRedirect: c.checkRedirect}
	case c.httpClient.CheckRedirect == nil:
		hc := *c.httpClient
		hc.CheckRedirect = c.checkRedirect
		c.httpClient = &hc
	}
	c.Jobs = &JobsService{client: c}
	c.Candidates = &CandidatesService{client: c}
	c.Accounts = &AccountsService{client: c}
	c.Subscriptions = &SubscriptionsService{client: c}
	return c, nil
}

// BaseURL returns a copy of the API root.
func (c *Client) BaseURL() *url.URL {
	u := *c.baseURL
	return &u
}

// Subdomain returns the account's subdomain.
func (c *Client) Subdomain() string { return c.subdomain }

// checkRedirect keeps the token on the base URL's origin: Go's client would
// otherwise forward Authorization to subdomains of the original host.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return errors.New("too many redirects")
	}
	if !c.sameOrigin(req.URL) {
		return errors.New("refusing a redirect to another host")
	}
	return nil
}

// sameOrigin reports whether u has the base URL's scheme and host.
func (c *Client) sameOrigin(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, c.baseURL.Scheme) && strings.EqualFold(u.Host, c.baseURL.Host)
}

// endpointQuery is endpoint with the query options opts (see queryValues).
func (c *Client) endpointQuery(opts any, segments ...string) *url.URL {
	u := c.endpoint(segments...)
	u.RawQuery = queryValues(opts).Encode()
	return u
}

// endpoint resolves a path relative to the base URL; each segment is escaped.
func (c *Client) endpoint(segments ...string) *url.URL {
	esc := make([]string, len(segments))
	for i, s := range segments {
		esc[i] = url.PathEscape(s)
	}
	u, err := c.baseURL.Parse("./" + strings.Join(esc, "/"))
	if err != nil {
		// Unreachable: escaped segments always form a valid relative path.
		panic(fmt.Sprintf("workable: resolve endpoint: %v", err))
	}
	return u
}

// call is one logical request (possibly several attempts).
type call struct {
	method string
	route  string // e.g. "GET /candidates/{id}"
	url    *url.URL
	body   []byte // nil for no body
}

func newCall(method, route string, u *url.URL, body any) (call, error) {
	k := call{method: method, route: route, url: u}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return k, fmt.Errorf("workable: %s: encode body: %w", route, err)
		}
		k.body = b
	}
	return k, nil
}

// send makes one call: method on u with body (encoded as JSON unless nil),
// its answer decoded into into (unless nil), as do does.
func (c *Client) send(ctx context.Context, method, route string, u *url.URL, body, into any) (*Response, error) {
	k, err := newCall(method, route, u, body)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, k, into)
}

// get fetches u and decodes the answer into a new T.
func get[T any](ctx context.Context, c *Client, route string, u *url.URL) (*T, *Response, error) {
	v := new(T)
	resp, err := c.send(ctx, http.MethodGet, route, u, nil, v)
	if err != nil {
		return nil, resp, err
	}
	return v, resp, nil
}

// wrapError prefixes the error *errp, when there is one, with what was
// being done: op, then the id or shortcode it was done to unless id is ""
// ("get job GROOV005: …"). The endpoint methods defer it once their
// arguments are checked.
func wrapError(errp *error, op, id string) {
	if *errp == nil {
		return
	}
	if id != "" {
		op += " " + id
	}
	*errp = fmt.Errorf("%s: %w", op, *errp)
}

// do sends k, waiting for the rate limiter before every attempt, retrying
// 429s (reads and writes: Workable applied nothing) and, for reads, transient
// failures. On 2xx the body is decoded into into (unless into is nil). The
// Response is returned whenever one was received, with or without an error.
func (c *Client) do(ctx context.Context, k call, into any) (*Response, error) {
	prio, onSlot := priorityOf(ctx, k.method)
	var transient, limited int
	for attempt := 1; ; attempt++ {
		if err := c.waitForSlot(ctx, prio); err != nil {
			return nil, fmt.Errorf("workable: %s: wait for rate limiter: %w", k.route, err)
		}
		if onSlot != nil {
			onSlot()
		}
		if !sendWanted(ctx) {
			return nil, fmt.Errorf("workable: %s: %w", k.route, ErrAbandoned)
		}
		resp, err := c.attempt(ctx, k, attempt, into)
		if err == nil {
			return resp, nil
		}

		var er *ErrorResponse
		var re *requestError
		switch {
		case errors.As(err, &er) && er.StatusCode == http.StatusTooManyRequests:
			if prio == PriorityBackground || limited >= c.maxRateLimitRetries || !c.fitsDeadline(ctx, er.RetryAfter) {
				return resp, err
			}
			limited++
			// Hold every caller sharing the limiter until the retry time,
			// even if the 429 carried no rate headers.
			c.limiter.Observe(Rate{Limit: resp.Rate.Limit, Remaining: 0, Reset: time.Now().Add(er.RetryAfter)})
			if serr := sleepContext(ctx, er.RetryAfter); serr != nil {
				return resp, fmt.Errorf("%w; gave up waiting: %w", err, serr)
			}
		case prio != PriorityBackground && ((errors.As(err, &er) && er.StatusCode >= 500 && !isWrite(k.method)) ||
			(errors.As(err, &re) && re.retry)):
			if transient >= c.maxAttempts-1 {
				return resp, err
			}
			transient++
			d := c.backoff(transient)
			if !c.fitsDeadline(ctx, d) {
				return resp, err
			}
			if serr := sleepContext(ctx, d); serr != nil {
				return resp, fmt.Errorf("%w; gave up waiting: %w", err, serr)
			}
		default:
			return resp, err
		}
	}
}

// waitForSlot waits for the rate limiter, asking for a slot early enough
// that the call's answer can come back before ctx's deadline: the limiter
// keeps callEstimate in reserve (WithCallReserve), so a call that would
// only be sent when its answer could no longer be used is not sent at all
// (and does not spend the budget). Running out of time while queued is a
// *BudgetError, not a timeout: the budget, not Workable, was too slow.
//
// A limiter that does not tell its callers when they have their place in
// its queue (NotifyQueued) is taken to have placed them once Wait returns.
func (c *Client) waitForSlot(ctx context.Context, prio Priority) error {
	defer NotifyQueued(ctx)
	err := c.limiter.Wait(WithCallReserve(ctx, c.callEstimate), prio)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrRateLimited) {
		return &BudgetError{}
	}
	return err
}

// callEstimate is how long a call is expected to take: the moving average
// of the attempts that got an answer, 0 before the first one (so that a
// client that has never reached Workable is not held back by a guess).
func (c *Client) callEstimate() time.Duration {
	return time.Duration(c.callTime.Load())
}

// observeCallTime adds the duration of an attempt that got an answer to the
// moving average (weight 1/4: a few slow answers move it, one does not).
func (c *Client) observeCallTime(d time.Duration) {
	for {
		old := c.callTime.Load()
		next := int64(d)
		if old > 0 {
			next = old + (int64(d)-old)/4
		}
		if c.callTime.CompareAndSwap(old, next) {
			return
		}
	}
}

// Budget reports the token's rate budget as the client's limiter sees it,
// without calling Workable. It fails with ErrNoBudget when the limiter
// cannot report it (it does not implement BudgetReporter).
func (c *Client) Budget(ctx context.Context) (Budget, error) {
	if br, ok := c.limiter.(BudgetReporter); ok {
		return br.Budget(ctx)
	}
	return Budget{}, ErrNoBudget
}

// fitsDeadline reports whether waiting d, then making the call, still ends
// before ctx's deadline.
func (c *Client) fitsDeadline(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Now().Add(d+c.callEstimate()).Before(dl)
}

// backoff returns the wait before retry n (1-based): exponential from
// baseDelay, capped at maxDelay, with jitter over its upper half so that
// concurrent callers do not retry in lockstep.
func (c *Client) backoff(n int) time.Duration {
	d := c.baseDelay
	for i := 1; i < n && d < c.maxDelay; i++ {
		d *= 2
	}
	d = min(d, c.maxDelay)
	if half := d / 2; half > 0 {
		return half + rand.N(half+1)
	}
	return d
}

// attempt performs one HTTP exchange under the per-attempt timeout and
// reports it to the hooks.
func (c *Client) attempt(ctx context.Context, k call, n int, into any) (*Response, error) {
	actx, cancel := context.WithTimeout(ctx, c.requestTimeout)
	defer cancel()
	start := time.Now()
	resp, err := c.exchange(ctx, actx, k, into)
	ev := RequestEvent{
		Method:   k.method,
		Route:    k.route,
		Err:      err,
		Duration: time.Since(start),
		Attempt:  n,
	}
	if resp != nil {
		ev.Status = resp.StatusCode
		c.observeCallTime(ev.Duration)
	}
	for _, h := range c.hooks {
		h(ctx, ev)
	}
	return resp, err
}

func (c *Client) exchange(ctx, actx context.Context, k call, into any) (*Response, error) {
	var body io.Reader
	if k.body != nil {
		body = bytes.NewReader(k.body)
	}
	req, err := http.NewRequestWithContext(actx, k.method, k.url.String(), body)
	if err != nil {
		return nil, &requestError{route: k.route, msg: "build request: " + redact(err.Error(), c.token), err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if k.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	hr, err := c.httpClient.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, actx, k, err, false)
	}
	resp := &Response{Response: hr, Rate: parseRate(hr.Header)}
	data, tooLarge, err := readBody(hr.Body, c.maxResponseBytes)
	hr.Body = io.NopCloser(bytes.NewReader(data))
	c.limiter.Observe(resp.Rate)
	if err != nil {
		return resp, c.transportError(ctx, actx, k, err, true)
	}
	if tooLarge {
		return resp, &requestError{
			route:       k.route,
			msg:         fmt.Sprintf("response body exceeds %d bytes", c.maxResponseBytes),
			unavailable: true,
		}
	}
	if hr.StatusCode < 200 || hr.StatusCode > 299 {
		return resp, c.errorResponse(k, resp, data)
	}
	if into == nil {
		return resp, nil
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return resp, &requestError{route: k.route, msg: "empty response body", unavailable: true}
	}
	if err := json.Unmarshal(data, into); err != nil {
		return resp, &requestError{
			route:       k.route,
			msg:         "decode response body: " + redact(err.Error(), c.token),
			err:         err,
			unavailable: true,
		}
	}
	return resp, nil
}

// readBody reads at most max bytes of r and closes it; tooLarge reports that
// more were available.
func readBody(r io.ReadCloser, max int64) (data []byte, tooLarge bool, err error) {
	defer r.Close()
	data, err = io.ReadAll(io.LimitReader(r, max+1))
	if int64(len(data)) > max {
		return data[:max], true, nil
	}
	return data, false, err
}

// transportError classifies an error of the HTTP exchange itself. sent
// reports that a response (status line) arrived, so the request was sent.
func (c *Client) transportError(ctx, actx context.Context, k call, err error, sent bool) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL may carry filter values; keep it out of the text
	}
	write := isWrite(k.method)
	e := &requestError{route: k.route, err: err, unavailable: true}
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		// The caller's context ended: never retried.
		e.err = ctx.Err()
		e.msg = "request interrupted: " + ctx.Err().Error()
		e.unavailable = errors.Is(ctx.Err(), context.DeadlineExceeded)
		e.outcomeUnknown = write
	case actx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()):
		e.err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		e.msg = fmt.Sprintf("request timed out after %s", c.requestTimeout)
		e.retry = !write
		e.outcomeUnknown = write
	case !sent && isDialError(err):
		// Nothing reached Workable: safe to retry, even a write.
		e.msg = "connect: " + redact(err.Error(), c.token)
		e.retry = true
	default:
		e.msg = "network error: " + redact(err.Error(), c.token)
		e.retry = !write
		e.outcomeUnknown = write
	}
	return e
}

func isDialError(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// errorBody is Workable's error body (API.md §8). "error" is a string for the
// SPI; OAuth endpoints nest an object there, which is ignored.
type errorBody struct {
	Error            json.RawMessage     `json:"error"`
	Message          string              `json:"message"`
	ValidationErrors map[string][]string `json:"validation_errors"`
}

func (c *Client) errorResponse(k call, resp *Response, data []byte) *ErrorResponse {
	e := &ErrorResponse{Method: k.method, Route: k.route, StatusCode: resp.StatusCode, RequestID: requestID(resp.Header)}
	var b errorBody
	if json.Unmarshal(data, &b) == nil {
		var s string
		if json.Unmarshal(b.Error, &s) == nil && s != "" {
			e.Message = s
		} else {
			e.Message = b.Message
		}
		if len(b.ValidationErrors) > 0 {
			e.ValidationErrors = make(map[string][]string, len(b.ValidationErrors))
			for field, msgs := range b.ValidationErrors {
				clean := make([]string, len(msgs))
				for i, m := range msgs {
					clean[i] = redact(m, c.token)
				}
				e.ValidationErrors[redact(field, c.token)] = clean
			}
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	e.Message = redact(e.Message, c.token)
	if resp.StatusCode == http.StatusTooManyRequests {
		e.RetryAfter = c.rateLimitWait(resp)
	}
	return e
}

// rateLimitWait is how long to wait after a 429: until the later of
// Retry-After and X-Rate-Limit-Reset when present, else one interval (10 s).
// API.md §7 says Workable documents only X-Rate-Limit-Reset; Retry-After is
// honoured too in case it is sent, and taking the later of the two is the
// conservative choice.
func (c *Client) rateLimitWait(resp *Response) time.Duration {
	now := time.Now()
	wait, found := time.Duration(0), false
	if v := strings.TrimSpace(resp.Header.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil {
			wait, found = max(wait, time.Duration(secs)*time.Second), true
		} else if t, err := http.ParseTime(v); err == nil {
			wait, found = max(wait, t.Sub(now)), true
		}
	}
	if !resp.Rate.Reset.IsZero() {
		wait, found = max(wait, resp.Rate.Reset.Sub(now)), true
	} else if v, err := strconv.ParseInt(resp.Header.Get("X-Rate-Limit-Reset"), 10, 64); err == nil {
		wait, found = max(wait, time.Unix(v, 0).Sub(now)), true
	}
	if !found {
		return defaultRateLimitWait
	}
	return max(wait, 0)
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// isDNSLabel reports whether s is a DNS label (RFC 1123): 1–63 letters,
// digits and hyphens, not starting or ending with a hyphen.
func isDNSLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
			return false
		}
	}
	return true
}

// validToken rejects tokens that would corrupt the Authorization header.
func validToken(t string) bool {
	for _, r := range t {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// pathParam checks an id or shortcode before it becomes a path segment
// (see ValidID): an empty value would turn GET /candidates/{id} into the
// list endpoint, and "." or ".." would climb out of it.
func pathParam(name, v string) error {
	return CheckID(name, v)
}

// formatTime formats a time filter as RFC 3339 UTC, e.g.
// 2015-07-08T11:56:16Z, with milliseconds when it has any
// (2023-05-31T11:46:13.390Z, the form Nango and Airbyte send, API.md §2):
// live timestamps carry milliseconds (API.md §10), and dropping them would
// widen the filter.
func formatTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() == 0 {
		return t.Format(time.RFC3339)
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}
