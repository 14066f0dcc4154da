package workable

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pagedCandidates serves ids 1..total in pages of two, like Workable: next is
// an absolute URL with the original filters, limit and an inclusive since_id
// (API.md §2 "Paging"). nextBase overrides the scheme and host of next.
func pagedCandidates(t *testing.T, total int, nextBase func(r *http.Request) string, hits *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		q := r.URL.Query()
		if q.Get("shortcode") != "GROOV005" {
			t.Errorf("page request lost the shortcode filter: %s", r.URL.RawQuery)
		}
		start := 1
		if s := q.Get("since_id"); s != "" {
			fmt.Sscanf(s, "%x", &start)
		}
		var items []string
		for id := start; id < start+2 && id <= total; id++ {
			items = append(items, fmt.Sprintf(`{"id":"%x","name":"C %d","job":{"shortcode":"GROOV005","title":"T"},"created_at":"2015-07-01T00:00:00Z"}`, id, id))
		}
		body := `{"candidates":[` + strings.Join(items, ",") + `]`
		if start+2 <= total {
			nq := url.Values{"shortcode": {"GROOV005"}, "limit": {"2"}, "since_id": {fmt.Sprintf("%x", start+2)}}
			body += `,"paging":{"next":"` + nextBase(r) + `/spi/v3/candidates?` + nq.Encode() + `"}`
		}
		writeJSON(w, 200, body+"}")
	}
}

func sameServer(r *http.Request) string { return "http://" + r.Host }

func TestWalk(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		total     int
		nextBase  func(r *http.Request) string
		maxPages  int
		wantIDs   []string
		wantHits  int32
		wantErrIs error
	}{
		{name: "three pages", total: 5, nextBase: sameServer, maxPages: 10,
			wantIDs: []string{"1", "2", "3", "4", "5"}, wantHits: 3},
		{name: "exactly maxPages pages", total: 6, nextBase: sameServer, maxPages: 3,
			wantIDs: []string{"1", "2", "3", "4", "5", "6"}, wantHits: 3},
		{name: "maxPages bound", total: 5, nextBase: sameServer, maxPages: 2,
			wantIDs: []string{"1", "2", "3", "4"}, wantHits: 2, wantErrIs: ErrPageLimit},
		{name: "maxPages below 1 means 1", total: 5, nextBase: sameServer, maxPages: 0,
			wantIDs: []string{"1", "2"}, wantHits: 1, wantErrIs: ErrPageLimit},
		{name: "foreign host refused", total: 5, nextBase: func(*http.Request) string { return "http://evil.example.com" }, maxPages: 10,
			wantIDs: []string{"1", "2"}, wantHits: 1, wantErrIs: ErrForeignNextURL},
		{name: "same host, other scheme refused", total: 5, nextBase: func(r *http.Request) string { return "https://" + r.Host }, maxPages: 10,
			wantIDs: []string{"1", "2"}, wantHits: 1, wantErrIs: ErrForeignNextURL},
		{name: "relative next refused", total: 5, nextBase: func(*http.Request) string { return "" }, maxPages: 10,
			wantIDs: []string{"1", "2"}, wantHits: 1, wantErrIs: ErrForeignNextURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := setup(t)
			var hits atomic.Int32
			env.mux.Handle("GET /candidates", pagedCandidates(t, tt.total, tt.nextBase, &hits))
			ctx := context.Background()
			var ids []string
			var errs []error
			for c, err := range Walk(ctx, env.client, func(ctx context.Context) ([]*Candidate, *Response, error) {
				return env.client.Candidates.List(ctx, &CandidateListOptions{Shortcode: "GROOV005", ListOptions: ListOptions{Limit: 2}})
			}, tt.maxPages) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				ids = append(ids, c.ID)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if got := hits.Load(); got != tt.wantHits {
				t.Errorf("server hits = %d, want %d", got, tt.wantHits)
			}
			switch {
			case tt.wantErrIs == nil && len(errs) != 0:
				t.Errorf("errors = %v, want none", errs)
			case tt.wantErrIs != nil && (len(errs) != 1 || !errors.Is(errs[0], tt.wantErrIs)):
				t.Errorf("errors = %v, want exactly one matching %v", errs, tt.wantErrIs)
			}
			for _, e := range env.recordedEvents() {
				if e.Route != "GET /candidates" {
					t.Errorf("event route = %q, want GET /candidates", e.Route)
				}
			}
		})
	}
}

func TestWalkStopsWhenConsumerBreaks(t *testing.T) {
	t.Parallel()
	env := setup(t)
	var hits atomic.Int32
	env.mux.Handle("GET /candidates", pagedCandidates(t, 9, sameServer, &hits))
	for _, err := range Walk(context.Background(), env.client, func(ctx context.Context) ([]*Candidate, *Response, error) {
		return env.client.Candidates.List(ctx, &CandidateListOptions{Shortcode: "GROOV005"})
	}, 10) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if hits.Load() != 1 {
		t.Errorf("server hits = %d, want 1", hits.Load())
	}
}

func TestWalkYieldsFirstPageError(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /members", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, `{"error":"Not authorized"}`)
	})
	n := 0
	for m, err := range Walk(context.Background(), env.client, func(ctx context.Context) ([]*Member, *Response, error) {
		return env.client.Accounts.ListMembers(ctx, nil)
	}, 5) {
		n++
		if m != nil || !errors.Is(err, ErrUnauthorized) {
			t.Errorf("got (%v, %v), want (nil, unauthorized)", m, err)
		}
	}
	if n != 1 {
		t.Errorf("yielded %d times, want 1", n)
	}
}

func TestWalkActivities(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.mux.HandleFunc("GET /candidates/{id}/activities", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("since_id") == "" {
			writeJSON(w, 200, `{"activities":[{"id":"a1","action":"applied","created_at":"2016-09-29T00:00:00Z"}],
			  "paging":{"next":"http://`+r.Host+`/spi/v3/candidates/abc/activities?limit=1&since_id=a2"}}`)
			return
		}
		writeJSON(w, 200, `{"activities":[{"id":"a2","action":"comment","created_at":"2016-10-01T00:00:00Z"}]}`)
	})
	var ids []string
	for a, err := range Walk(context.Background(), env.client, func(ctx context.Context) ([]*Activity, *Response, error) {
		return env.client.Candidates.ListActivities(ctx, "abc", &ActivityListOptions{Limit: 1})
	}, 5) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	if diff := cmp.Diff([]string{"a1", "a2"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	for _, e := range env.recordedEvents() {
		if e.Route != "GET /candidates/{id}/activities" {
			t.Errorf("event route = %q", e.Route)
		}
	}
}
