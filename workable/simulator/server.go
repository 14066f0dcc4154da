package simulator

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"
)

// pathPrefix is where the SPI lives: https://{subdomain}.workable.com/spi/v3/…
const pathPrefix = "/spi/v3/"

// maxBodyBytes caps request bodies.
const maxBodyBytes = 1 << 20

type handlerFunc func(s *Simulator, w http.ResponseWriter, r *http.Request, p map[string]string)

// route is one endpoint: its method, its path segments under /spi/v3/ (a
// "{name}" segment captures), its key for counters and faults, and the token
// scope it needs (API.md §1 table).
type route struct {
	method  string
	pattern []string
	key     string
	scope   string
	handle  handlerFunc
}

func routes() []route {
	mk := func(method, path, scope string, h handlerFunc) route {
		return route{method: method, pattern: strings.Split(path, "/"), key: method + " /" + path, scope: scope, handle: h}
	}
	return []route{
		mk(http.MethodGet, "jobs", ScopeReadJobs, (*Simulator).listJobs),
		mk(http.MethodGet, "jobs/{shortcode}", ScopeReadJobs, (*Simulator).getJob),
		mk(http.MethodGet, "candidates", ScopeReadCandidates, (*Simulator).listCandidates),
		mk(http.MethodGet, "jobs/{shortcode}/candidates", ScopeReadCandidates, (*Simulator).listJobCandidates),
		mk(http.MethodGet, "candidates/{id}", ScopeReadCandidates, (*Simulator).getCandidate),
		mk(http.MethodPost, "jobs/{shortcode}/candidates", ScopeWriteCandidates, (*Simulator).createCandidate),
		mk(http.MethodPatch, "candidates/{id}", ScopeWriteCandidates, (*Simulator).updateCandidate),
		mk(http.MethodGet, "candidates/{id}/activities", ScopeReadCandidates, (*Simulator).listActivities),
		mk(http.MethodGet, "jobs/{shortcode}/activities", ScopeReadCandidates, (*Simulator).listJobActivities),
		mk(http.MethodGet, "stages", ScopeReadJobs, (*Simulator).listStages),
		mk(http.MethodGet, "jobs/{shortcode}/stages", ScopeReadJobs, (*Simulator).listJobStages),
		mk(http.MethodGet, "departments", ScopeReadJobs, (*Simulator).listDepartments),
		mk(http.MethodGet, "disqualification_reasons", ScopeReadJobs, (*Simulator).listDisqualificationReasons),
		mk(http.MethodGet, "members", ScopeReadJobs, (*Simulator).listMembers),
		mk(http.MethodGet, "accounts", ScopeReadJobs, (*Simulator).listAccounts),
		mk(http.MethodGet, "accounts/{subdomain}", ScopeReadJobs, (*Simulator).getAccount),
		mk(http.MethodGet, "jobs/{shortcode}/members", ScopeReadJobs, (*Simulator).listJobMembers),
		mk(http.MethodPost, "candidates/{id}/move", ScopeWriteCandidates, (*Simulator).moveCandidate),
		mk(http.MethodPost, "candidates/{id}/disqualify", ScopeWriteCandidates, (*Simulator).disqualifyCandidate),
		mk(http.MethodPost, "candidates/{id}/revert", ScopeWriteCandidates, (*Simulator).revertDisqualification),
		mk(http.MethodPost, "candidates/{id}/comments", ScopeWriteCandidates, (*Simulator).commentOnCandidate),
		mk(http.MethodPost, "candidates/{id}/ratings", ScopeWriteCandidates, (*Simulator).rateCandidate),
		mk(http.MethodPut, "candidates/{id}/tags", ScopeWriteCandidates, (*Simulator).setCandidateTags),
		mk(http.MethodPost, "candidates/{id}/copy", ScopeWriteCandidates, (*Simulator).copyCandidate),
		mk(http.MethodPost, "candidates/{id}/relocate", ScopeWriteCandidates, (*Simulator).relocateCandidate),
		// API.md §1: the subscriptions take r_candidates (or r_employees).
		mk(http.MethodPost, "subscriptions", ScopeReadCandidates, (*Simulator).createSubscription),
		mk(http.MethodGet, "subscriptions", ScopeReadCandidates, (*Simulator).listSubscriptions),
		mk(http.MethodDelete, "subscriptions/{id}", ScopeReadCandidates, (*Simulator).deleteSubscription),
	}
}

func (rt route) match(segs []string) (map[string]string, bool) {
	if len(segs) != len(rt.pattern) {
		return nil, false
	}
	var params map[string]string
	for i, p := range rt.pattern {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = make(map[string]string)
			}
			params[strings.Trim(p, "{}")] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// Transport returns a RoundTripper that serves each request with Handler in
// the caller's goroutine, without a socket: a client in a testing/synctest
// bubble uses it, as a real connection would keep the bubble's clock from
// moving.
func (s *Simulator) Transport() http.RoundTripper { return handlerTransport{s.Handler()} }

// handlerTransport serves requests with a handler, in process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

// Handler returns the HTTP handler of the simulated API. It serves
// everything under /spi/v3/, and the UI controls under UIPrefix; other
// paths answer 404 {"error":"Not found"}.
func (s *Simulator) Handler() http.Handler {
	rts := routes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, UIPrefix) {
			s.serveUI(w, r)
			return
		}
		s.serve(rts, w, r)
	})
}

func (s *Simulator) serve(rts []route, w http.ResponseWriter, r *http.Request) {
	var (
		matched *route
		params  map[string]string
		pathHit bool
	)
	if rest, ok := strings.CutPrefix(r.URL.Path, pathPrefix); ok {
		segs := strings.Split(rest, "/")
		for i := range rts {
			p, ok := rts[i].match(segs)
			if !ok {
				continue
			}
			pathHit = true
			if rts[i].method == r.Method {
				matched, params = &rts[i], p
				break
			}
		}
	}

	s.mu.Lock()
	now := s.now()
	s.answered++
	w.Header().Set("X-Request-Id", requestID(s.seed, s.answered))
	if matched != nil && matched.method == http.MethodGet {
		gw := &getWriter{ResponseWriter: w}
		defer gw.finish()
		w = gw
	}
	if matched == nil {
		s.setRateHeaders(w, "", now)
		s.mu.Unlock()
		if pathHit {
			// simulator guess: a known path with another method is 405.
			writeError(w, http.StatusMethodNotAllowed, "Method not allowed")
			return
		}
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	s.counts[matched.key]++
	s.total++

	token, scopes, authed := s.authenticate(r)
	if !authed {
		s.setRateHeaders(w, "", now)
		s.mu.Unlock()
		writeError(w, http.StatusUnauthorized, "Not authorized")
		return
	}
	if !scopes[matched.scope] {
		// simulator guess: a scope-less request does not use up the budget.
		s.setRateHeaders(w, token, now)
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, "Forbidden")
		return
	}
	if !s.consume(token, now) {
		s.setRateHeaders(w, token, now)
		s.tooMany++
		s.mu.Unlock()
		writeError(w, http.StatusTooManyRequests, "Too many requests")
		return
	}
	s.setRateHeaders(w, token, now)
	fault, faulty := s.takeFault(matched.key)
	if faulty && fault.Status == http.StatusTooManyRequests {
		s.tooMany++
	}
	s.mu.Unlock()

	// Read the body now: net/http notices a client that has gone away (and
	// cancels r.Context()) only once the body has been read, and a delayed
	// fault must end when the client gives up.
	// In-process callers may hand over client-side requests with a nil Body.
	if r.Body == nil {
		r.Body = http.NoBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "Request entity too large")
			return
		}
		writeError(w, http.StatusBadRequest, "Could not read the request body")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if matched.method != http.MethodGet {
		s.mu.Lock()
		s.bodies[matched.key] = append(s.bodies[matched.key], body)
		s.mu.Unlock()
	}

	if faulty {
		if fault.Delay > 0 {
			t := time.NewTimer(fault.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if fault.Status != 0 {
			if fault.Body == "" {
				writeError(w, fault.Status, http.StatusText(fault.Status))
				return
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(fault.Status)
			_, _ = w.Write([]byte(fault.Body))
			return
		}
	}
	matched.handle(s, w, r, params)
}

// authenticate reads "Authorization: Bearer <token>". The caller holds s.mu.
func (s *Simulator) authenticate(r *http.Request) (string, map[string]bool, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", nil, false
	}
	token = strings.TrimSpace(token)
	scopes, ok := s.tokens[token]
	if !ok {
		return "", nil, false
	}
	return token, scopes, true
}

// currentWindow returns token's window at now, starting a new one when the
// last has ended. Windows are fixed intervals aligned on multiples of the
// window length. The caller holds s.mu.
func (s *Simulator) currentWindow(token string, now time.Time) *rateWindow {
	start := now.Truncate(s.window)
	w, ok := s.windows[token]
	if !ok || !w.start.Equal(start) {
		w = &rateWindow{start: start}
		s.windows[token] = w
	}
	return w
}

// consume spends one request of token's budget; false means over budget.
// The caller holds s.mu.
func (s *Simulator) consume(token string, now time.Time) bool {
	if s.limit == 0 {
		return true
	}
	w := s.currentWindow(token, now)
	if w.count >= s.limit {
		return false
	}
	w.count++
	return true
}

// setRateHeaders sets X-Rate-Limit-Limit/Remaining/Reset (API.md §7) for
// token ("" for a request without a known token). With rate limiting off
// they advertise Workable's budget, untouched. Reset is the Unix second of
// the next interval, rounded up so that waiting until then is always enough.
// The caller holds s.mu.
func (s *Simulator) setRateHeaders(w http.ResponseWriter, token string, now time.Time) {
	limit, remaining, period := workableLimit, workableLimit, workableWindow
	var start time.Time
	if s.limit > 0 {
		limit, remaining, period = s.limit, s.limit, s.window
		if token != "" {
			win := s.currentWindow(token, now)
			remaining = max(0, s.limit-win.count)
			start = win.start
		}
	}
	if start.IsZero() {
		start = now.Truncate(period)
	}
	reset := start.Add(period)
	secs := int64(math.Ceil(float64(reset.UnixNano()) / 1e9))
	h := w.Header()
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(secs, 10))
}

// getWriter holds a GET's answer until its handler is done, so that a
// successful one goes out with the caching headers a live account's GETs
// carry (API.md §10): "Cache-Control: max-age=0, private, must-revalidate"
// and a weak ETag of the body.
type getWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (g *getWriter) WriteHeader(status int) {
	if g.status == 0 {
		g.status = status
	}
}

func (g *getWriter) Write(p []byte) (int, error) {
	if g.status == 0 {
		g.status = http.StatusOK
	}
	return g.body.Write(p)
}

// finish sends the answer held. A handler that wrote nothing (a delayed
// fault whose client went away) sends nothing.
func (g *getWriter) finish() {
	if g.status == 0 {
		return
	}
	if g.status >= 200 && g.status <= 299 {
		h := g.ResponseWriter.Header()
		h.Set("Cache-Control", "max-age=0, private, must-revalidate")
		// simulator guess: LIVE shows a weak ETag but not how it is made;
		// this is Rails' Rack::ETag, W/"<MD5 of the body in hex>". Only 2xx
		// answers carry it and the Cache-Control above (Rails' default);
		// what error answers carry is not recorded.
		sum := md5.Sum(g.body.Bytes())
		h.Set("ETag", `W/"`+hex.EncodeToString(sum[:])+`"`)
	}
	g.ResponseWriter.WriteHeader(g.status)
	_, _ = g.ResponseWriter.Write(g.body.Bytes())
}

// requestID is the X-Request-Id of the simulator's n-th answer: a UUID
// made from the seed and n, so that runs are repeatable. simulator guess:
// LIVE shows the header on every GET but not its value; Rails (whose
// ActionDispatch::RequestId makes it) sends a random UUID, on every answer.
func requestID(seed int64, n uint64) string {
	b := sha256.Sum256(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(seed)), n))
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	x := hex.EncodeToString(b[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// errorBody is Workable's error shape (API.md §8).
type errorBody struct {
	Error            string              `json:"error"`
	ValidationErrors map[string][]string `json:"validation_errors,omitempty"`
}

// writeJSON answers status with v as JSON. HTML is not escaped: Workable
// sends descriptions and URLs verbatim.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"Internal server error"}`))
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

func writeValidation(w http.ResponseWriter, msg string, fields map[string][]string) {
	writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: msg, ValidationErrors: fields})
}
