package guard

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// DefaultMaxClients is how many clients a ClientLimiter remembers when given
// maxClients <= 0.
const DefaultMaxClients = 10000

// ClientLimiter limits the request rate of each client separately, with one
// token bucket per client id. It remembers at most maxClients clients (the
// least recently seen are forgotten, and start again with a full bucket), so
// a flood of distinct ids cannot exhaust memory. With API keys the ids are
// bounded by the number of keys; without them, size maxClients above the
// number of addresses active at once.
//
// A ClientLimiter is safe for concurrent use.
type ClientLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	clients *simplelru.LRU[string, *rate.Limiter]
}

// NewClientLimiter returns a limiter that lets each client make perSecond
// requests per second on average, with bursts of up to burst requests
// (burst < 1 means max(1, ceil(perSecond))). perSecond <= 0 means no limit:
// Middleware then returns its handler unchanged.
func NewClientLimiter(perSecond float64, burst int, maxClients int) *ClientLimiter {
	if maxClients <= 0 {
		maxClients = DefaultMaxClients
	}
	if burst < 1 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	// NewLRU fails only for a size <= 0, excluded above.
	clients, _ := simplelru.NewLRU[string, *rate.Limiter](maxClients, nil)
	return &ClientLimiter{
		limit:   rate.Limit(perSecond),
		burst:   burst,
		clients: clients,
	}
}

// Allow takes one request from client id's bucket. When the bucket is empty
// it reports false and how long until a request would be allowed.
func (l *ClientLimiter) Allow(id string) (ok bool, retryAfter time.Duration) {
	if l.limit <= 0 {
		return true, 0
	}
	now := time.Now()
	lim := l.limiterFor(id)
	res := lim.ReserveN(now, 1)
	if !res.OK() {
		// Unreachable with burst >= 1; refuse for a second to be safe.
		return false, time.Second
	}
	delay := res.DelayFrom(now)
	if delay <= 0 {
		return true, 0
	}
	// The request is refused, so it must not consume the token it reserved.
	res.CancelAt(now)
	return false, delay
}

// limiterFor returns client id's bucket, creating it if it is new.
func (l *ClientLimiter) limiterFor(id string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.clients.Get(id)
	if !ok {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.clients.Add(id, lim)
	}
	return lim
}

// Middleware refuses a client's request with HTTP 429, a Retry-After header
// (whole seconds, at least 1) and code TOO_MANY_REQUESTS when its bucket is
// empty; next is then not called. identify names the client of a request,
// for example the API key's principal id; nil means RemoteAddr.
func (l *ClientLimiter) Middleware(identify func(*http.Request) string, next http.Handler) http.Handler {
	if l.limit <= 0 {
		return next
	}
	if identify == nil {
		identify = RemoteAddr
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := l.Allow(identify(r))
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		secs := retryAfterSeconds(wait)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		WriteError(w, http.StatusTooManyRequests, CodeTooManyRequests,
			fmt.Sprintf("too many requests from this client; retry after %d s", secs))
	})
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1, as
// Retry-After wants.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// RemoteAddr returns the IP address of the request's peer (RemoteAddr
// without its port). Behind a reverse proxy that is the proxy's address:
// forwarded headers are not trusted here, since any client can set them.
func RemoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
