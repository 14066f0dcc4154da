package graph

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable/simulator"
)

// Tests of the stale fallback's privacy and correctness: a stale answer
// names its entry by an opaque reference only (never the query's filters),
// and a copy that a write made obsolete is never served stale.

// staleRefPattern is the shape of a staleData reference (economy.staleID).
var staleRefPattern = regexp.MustCompile(`^[0-9a-f]{12}$`)

// TestStaleAnswerKeepsFiltersPrivate: a stale answer to candidates(email:)
// leaves the e-mail address in neither the log nor the response, where
// staleData names the list by an opaque reference.
func TestStaleAnswerKeepsFiltersPrivate(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			econBubble(t, b, func(t *testing.T, env *testEnv) {
				c := env.sim.Candidates()[3]
				if c.Email == nil || *c.Email == "" {
					t.Fatal("simulator candidate without an e-mail address")
				}
				email := *c.Email
				local, _, _ := strings.Cut(email, "@")
				// What must not appear: the address, its query-string form, and
				// its local part (which both contain).
				secrets := []string{email, url.QueryEscape(email), local}

				const q = `query($e: String) { candidates(email: $e) { nodes { id name } } }`
				fresh := env.query(q, vars{"e": email})
				if len(fresh.Errors) > 0 {
					t.Fatalf("first query: %s", fresh.Raw)
				}
				if !strings.Contains(string(fresh.Data), c.ID) {
					t.Fatalf("the e-mail filter did not find candidate %s: %s", c.ID, fresh.Data)
				}
				time.Sleep(cache.DefaultTTLs().CandidateList.Fresh * 2) // stale, still held
				env.sim.InjectFault("GET /candidates", simulator.Fault{Status: http.StatusServiceUnavailable})

				resp := env.query(q, vars{"e": email})
				if len(resp.Errors) > 0 {
					t.Fatalf("stale copy not served: %s", resp.Raw)
				}
				ext := extensionsOf(t, resp)
				if !ext.Stale || len(ext.StaleData) != 1 {
					t.Fatalf("want one stale answer in extensions, got %s", resp.Raw)
				}
				ref := ext.StaleData[0]
				if ref.Kind != string(cache.KindCandidateList) || !staleRefPattern.MatchString(ref.ID) {
					t.Errorf("staleData = %+v, want kind %q and a 12-hex-digit reference", ref, cache.KindCandidateList)
				}
				logs := env.logs.String()
				if !strings.Contains(logs, "serving a stale copy") || !strings.Contains(logs, "ref="+ref.ID) {
					t.Errorf("no stale log line with ref=%s in the log:\n%s", ref.ID, logs)
				}
				for _, s := range secrets {
					if strings.Contains(resp.Raw, s) {
						t.Errorf("the response contains %q: %s", s, resp.Raw)
					}
					if strings.Contains(logs, s) {
						t.Errorf("the log contains %q:\n%s", s, logs)
					}
				}
			})
		})
	}
}

// TestStaleIDIsOpaque: the reference of an entry is stable for one
// namespace, differs across namespaces and kinds, and does not contain the
// entry's id.
func TestStaleIDIsOpaque(t *testing.T) {
	t.Parallel()
	a := upstream.New(upstream.Config{}, upstream.Credential{Nickname: "a", Namespace: cache.Namespace("acme", "token-a")}, nil)
	b := upstream.New(upstream.Config{}, upstream.Credential{Nickname: "b", Namespace: cache.Namespace("acme", "token-b")}, nil)
	const id = "email=jane%40example.com&limit=50"
	ref := a.StaleID(cache.KindCandidateList, id)
	if !staleRefPattern.MatchString(ref) {
		t.Fatalf("staleID = %q, want 12 hex digits", ref)
	}
	if again := a.StaleID(cache.KindCandidateList, id); again != ref {
		t.Errorf("staleID not stable: %q then %q", ref, again)
	}
	if other := b.StaleID(cache.KindCandidateList, id); other == ref {
		t.Errorf("two credentials share the reference %q", ref)
	}
	if other := a.StaleID(cache.KindCandidate, id); other == ref {
		t.Errorf("two kinds share the reference %q", ref)
	}
}

// TestStaleCopyObsoletedByWrite: a cached list that a write has made
// obsolete (its generation was replaced) is a miss, never a stale fallback:
// with Workable failing after the update, the list is an error or fresh
// data, never the list from before the write.
func TestStaleCopyObsoletedByWrite(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := econEnv(t, b)
			x := env.sim.Candidates()[2]
			const list = `{ candidates(first: 50) { nodes { id headline } } }`
			type nodes struct {
				Candidates struct {
					Nodes []struct{ ID, Headline string }
				}
			}
			var before nodes
			env.mustQuery(list, nil, &before)

			// The update changes one row of the cached page, which is
			// obsolete from then on.
			const headline = "written after the list was cached"
			update := `mutation($in: UpdateCandidateInput!) { updateCandidate(input: $in) { candidate { id headline } userErrors { message } } }`
			env.mustQuery(update, vars{"in": map[string]any{"id": x.ID, "headline": headline}}, nil)

			env.sim.InjectFault("GET /candidates", simulator.Fault{Status: http.StatusServiceUnavailable})
			resp := env.query(list, nil)
			if len(resp.Errors) > 0 {
				if ext := extensionsOf(t, resp); ext.Stale {
					t.Errorf("an error answer flagged stale: %s", resp.Raw)
				}
				return // an error: what the outage leaves without a current copy
			}
			var after nodes
			if err := json.Unmarshal(resp.Data, &after); err != nil {
				t.Fatal(err)
			}
			if ext := extensionsOf(t, resp); ext.Stale {
				t.Errorf("the list from before the write was served stale: %s", resp.Raw)
			}
			found := false
			for _, n := range after.Candidates.Nodes {
				if n.ID == x.ID {
					found = true
					if n.Headline != headline {
						t.Errorf("candidate %s headline = %q, want %q (pre-write data)", x.ID, n.Headline, headline)
					}
				}
			}
			if !found {
				t.Errorf("candidate %s missing from the list: %s", x.ID, resp.Data)
			}
		})
	}
}
