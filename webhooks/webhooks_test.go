package webhooks

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/events"
	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable"
)

const token = "acme-token-5f1e9d"

// creds is a CredentialSource of one credential, "acme"; err, when set,
// is what every lookup fails with.
type creds struct{ err error }

func (c creds) Get(_ context.Context, nickname string) (credentials.Credential, error) {
	if c.err != nil {
		return credentials.Credential{}, c.err
	}
	if nickname != "acme" {
		return credentials.Credential{}, credentials.ErrNotFound
	}
	return credentials.Credential{Nickname: "acme", Subdomain: "acme", Token: token}, nil
}

// recorder is an Invalidator and a Publisher that records what it is
// asked, and fails the next failInvalidate/failPublish calls.
type recorder struct {
	mu                          sync.Mutex
	invalidated                 [][]string
	published                   []events.Event
	failInvalidate, failPublish int
}

func (r *recorder) CandidatesChanged(_ context.Context, credential string, ids ...string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failInvalidate > 0 {
		r.failInvalidate--
		return errors.New("cache unreachable")
	}
	r.invalidated = append(r.invalidated, append([]string{credential}, ids...))
	return nil
}

func (r *recorder) Publish(_ context.Context, e events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failPublish > 0 {
		r.failPublish--
		return errors.New("bus unreachable")
	}
	r.published = append(r.published, e)
	return nil
}

func (r *recorder) counts() (int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.invalidated), len(r.published)
}

func newHandler(t *testing.T, rec *recorder, seen idempotency.Store, src CredentialSource) *Handler {
	t.Helper()
	h, err := New(Config{Credentials: src, Invalidator: rec, Publisher: rec, Seen: seen, MaxBodyBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

const movedBody = `{"id":"ev-1","event_type":"candidate_moved","fired_at":"2026-12-06T10:00:00Z","resource_type":"candidate",` +
	`"data":{"id":"3fc9a80f","name":"Cindy Sawyers","job":{"shortcode":"GROOV005","title":"Office Manager"},"stage":"Interview","created_at":"2026-01-01T00:00:00Z"}}`

// deliver POSTs body to the handler for credential, signed with sig ("-"
// for no header), and returns the status.
func deliver(h http.Handler, credential, body, sig string) int {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/workable/"+credential, strings.NewReader(body))
	if sig != "-" {
		req.Header.Set(workable.SignatureHeader, sig)
	}
	rw := httptest.NewRecorder()
	mux := http.NewServeMux()
	mux.Handle(Path, h)
	mux.ServeHTTP(rw, req)
	return rw.Code
}

func TestDelivery(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	h := newHandler(t, rec, idempotency.NewMemoryStore(), creds{})
	if got := deliver(h, "acme", movedBody, workable.Sign(token, []byte(movedBody))); got != http.StatusOK {
		t.Fatalf("status %d, want 200", got)
	}
	// The handler has returned: what it did happened before the answer.
	want := events.Event{
		ID: "ev-1", Credential: "acme", Kind: events.CandidateMoved, CandidateID: "3fc9a80f", JobShortcode: "GROOV005",
		Stage: "Interview", At: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC), Source: "webhook",
	}
	if diff := cmp.Diff([]events.Event{want}, rec.published); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{"acme", "3fc9a80f"}}, rec.invalidated); diff != "" {
		t.Errorf("invalidated (-want +got):\n%s", diff)
	}
	// Workable replays: the same event id is acknowledged and does nothing.
	if got := deliver(h, "acme", movedBody, workable.Sign(token, []byte(movedBody))); got != http.StatusOK {
		t.Fatalf("replay: status %d, want 200", got)
	}
	if inv, pub := rec.counts(); inv != 1 || pub != 1 {
		t.Errorf("after a replay: %d invalidations, %d events; want 1 and 1", inv, pub)
	}
}

// TestDeliveryWithoutFiredAt: an event whose delivery has no fired_at is
// dated when the gateway receives it.
func TestDeliveryWithoutFiredAt(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		h := newHandler(t, rec, idempotency.NewMemoryStore(), creds{})
		body := strings.Replace(movedBody, `"fired_at":"2026-12-06T10:00:00Z",`, "", 1)
		time.Sleep(time.Hour)
		received := time.Now().UTC()
		if got := deliver(h, "acme", body, workable.Sign(token, []byte(body))); got != http.StatusOK {
			t.Fatalf("status %d, want 200", got)
		}
		if len(rec.published) != 1 || !rec.published[0].At.Equal(received) {
			t.Errorf("published %+v, want one event at %s", rec.published, received)
		}
	})
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	signed := func(body string) string { return workable.Sign(token, []byte(body)) }
	cases := []struct {
		name       string
		credential string
		body, sig  string
		src        CredentialSource
		want       int
	}{
		{"no signature", "acme", movedBody, "-", creds{}, http.StatusUnauthorized},
		{"an empty signature", "acme", movedBody, "", creds{}, http.StatusUnauthorized},
		{"signed with another token", "acme", movedBody, workable.Sign("other", []byte(movedBody)), creds{}, http.StatusUnauthorized},
		{"signed for another body", "acme", movedBody, signed(strings.Replace(movedBody, "Interview", "Offer", 1)), creds{}, http.StatusUnauthorized},
		{"an unknown credential", "nobody", movedBody, signed(movedBody), creds{}, http.StatusNotFound},
		{"a body over the limit", "acme", strings.Repeat(" ", 5000) + movedBody, signed(strings.Repeat(" ", 5000) + movedBody), creds{}, http.StatusRequestEntityTooLarge},
		{"signed, not JSON", "acme", "{", signed("{"), creds{}, http.StatusBadRequest},
		{"signed, no candidate", "acme", `{"id":"e2","event_type":"candidate_created"}`, signed(`{"id":"e2","event_type":"candidate_created"}`), creds{}, http.StatusBadRequest},
		{"the credential store is down", "acme", movedBody, signed(movedBody), creds{err: errors.New("redis: connection refused")}, http.StatusServiceUnavailable},
		{"an unreadable credential", "acme", movedBody, signed(movedBody), creds{err: credentials.ErrWrongKey}, http.StatusServiceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			h := newHandler(t, rec, idempotency.NewMemoryStore(), tc.src)
			if got := deliver(h, tc.credential, tc.body, tc.sig); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
			if inv, pub := rec.counts(); inv != 0 || pub != 0 {
				t.Errorf("a refused delivery changed something: %d invalidations, %d events", inv, pub)
			}
		})
	}
	t.Run("another method", func(t *testing.T) {
		t.Parallel()
		h := newHandler(t, &recorder{}, idempotency.NewMemoryStore(), creds{})
		rw := httptest.NewRecorder()
		h.ServeHTTP(rw, httptest.NewRequest(http.MethodGet, "/webhooks/workable/acme", nil))
		if rw.Code != http.StatusMethodNotAllowed {
			t.Errorf("GET: %d, want 405", rw.Code)
		}
	})
	t.Run("a signed employee event", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		h := newHandler(t, rec, idempotency.NewMemoryStore(), creds{})
		body := `{"id":"e3","event_type":"employee_created","data":{"id":"77"}}`
		if got := deliver(h, "acme", body, signed(body)); got != http.StatusOK {
			t.Errorf("status %d, want 200 (acknowledged, so that Workable does not replay it)", got)
		}
		if inv, pub := rec.counts(); inv != 0 || pub != 0 {
			t.Errorf("an employee event changed something: %d invalidations, %d events", inv, pub)
		}
	})
}

// TestFailureIsRetried: when the cache or the bus fails, the answer is
// 503 and the event id is not remembered, so Workable's retry does the
// work; a success is then remembered.
func TestFailureIsRetried(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		rec  *recorder
	}{
		{"the cache fails", &recorder{failInvalidate: 1}},
		{"the bus fails", &recorder{failPublish: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHandler(t, tc.rec, idempotency.NewMemoryStore(), creds{})
			sig := workable.Sign(token, []byte(movedBody))
			if got := deliver(h, "acme", movedBody, sig); got != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503", got)
			}
			if _, pub := tc.rec.counts(); pub != 0 {
				t.Fatalf("a failed delivery published %d events", pub)
			}
			if got := deliver(h, "acme", movedBody, sig); got != http.StatusOK {
				t.Fatalf("retry: status %d, want 200", got)
			}
			if got := deliver(h, "acme", movedBody, sig); got != http.StatusOK {
				t.Fatalf("replay: status %d, want 200", got)
			}
			if _, pub := tc.rec.counts(); pub != 1 {
				t.Errorf("%d events published, want 1 (the retry; the replay is a duplicate)", pub)
			}
		})
	}
}

// TestReplicasShareSeenEvents: two replicas on one Redis handle an event
// once between them.
func TestReplicasShareSeenEvents(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rec := &recorder{}
	a := newHandler(t, rec, idempotency.NewRedisStore(srv.Client, srv.Prefix), creds{})
	b := newHandler(t, rec, idempotency.NewRedisStore(srv.NewClient(t), srv.Prefix), creds{})
	sig := workable.Sign(token, []byte(movedBody))
	for i, h := range []*Handler{a, b, a} {
		if got := deliver(h, "acme", movedBody, sig); got != http.StatusOK {
			t.Fatalf("delivery %d: status %d", i, got)
		}
	}
	if inv, pub := rec.counts(); inv != 1 || pub != 1 {
		t.Errorf("%d invalidations and %d events across replicas, want 1 and 1", inv, pub)
	}
}

func TestNewRefusesMissingDependencies(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	full := Config{Credentials: creds{}, Invalidator: rec, Publisher: rec, Seen: idempotency.NewMemoryStore()}
	for name, cfg := range map[string]Config{
		"no credentials": {Invalidator: rec, Publisher: rec, Seen: full.Seen},
		"no invalidator": {Credentials: creds{}, Publisher: rec, Seen: full.Seen},
		"no publisher":   {Credentials: creds{}, Invalidator: rec, Seen: full.Seen},
		"no seen store":  {Credentials: creds{}, Invalidator: rec, Publisher: rec},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if _, err := New(full); err != nil {
		t.Errorf("New: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	rec := &recorder{}
	h, err := New(Config{Credentials: creds{}, Invalidator: rec, Publisher: rec, Seen: idempotency.NewMemoryStore(),
		Observe: NewMetrics(reg).Observe})
	if err != nil {
		t.Fatal(err)
	}
	sig := workable.Sign(token, []byte(movedBody))
	deliver(h, "acme", movedBody, sig)
	deliver(h, "acme", movedBody, sig)
	deliver(h, "acme", movedBody, "-")
	deliver(h, "someone-else", movedBody, sig)
	want := `
# HELP workable_gateway_webhook_deliveries_total Webhook deliveries received from Workable, by outcome (handled, duplicate, ignored, bad_signature, malformed, unknown_credential, too_large, failed).
# TYPE workable_gateway_webhook_deliveries_total counter
workable_gateway_webhook_deliveries_total{outcome="bad_signature"} 1
workable_gateway_webhook_deliveries_total{outcome="duplicate"} 1
workable_gateway_webhook_deliveries_total{outcome="handled"} 1
workable_gateway_webhook_deliveries_total{outcome="unknown_credential"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
