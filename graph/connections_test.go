package graph

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/workable"
)

// connPage is the part of a connection a walk reads.
type connPage struct {
	Edges []struct {
		Cursor string
		Node   struct{ ID string }
	}
	Nodes    []struct{ ID string }
	PageInfo struct {
		HasNextPage     bool
		HasPreviousPage bool
		StartCursor     *string
		EndCursor       *string
	}
}

const pageSelection = `edges { cursor node { id } } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`

// walk pages through a connection with after: endCursor and returns every
// id in order. fetch runs one page query.
func walk(t *testing.T, first int, fetch func(after *string) connPage) []string {
	t.Helper()
	ids := []string{}
	var after *string
	for pages := 0; ; pages++ {
		if pages > 400 {
			t.Fatal("walk does not end")
		}
		p := fetch(after)
		if len(p.Edges) != len(p.Nodes) {
			t.Fatalf("%d edges but %d nodes", len(p.Edges), len(p.Nodes))
		}
		if len(p.Edges) > first {
			t.Fatalf("page of %d items for first: %d", len(p.Edges), first)
		}
		for i, e := range p.Edges {
			if e.Node.ID != p.Nodes[i].ID {
				t.Fatalf("edge %d is %s but node %d is %s", i, e.Node.ID, i, p.Nodes[i].ID)
			}
			ids = append(ids, e.Node.ID)
		}
		// After a cursor whose item still exists, there is a previous page.
		if p.PageInfo.HasPreviousPage != (after != nil) {
			t.Errorf("hasPreviousPage = %v on page %d", p.PageInfo.HasPreviousPage, pages)
		}
		if len(p.Edges) > 0 {
			if p.PageInfo.StartCursor == nil || *p.PageInfo.StartCursor != p.Edges[0].Cursor ||
				p.PageInfo.EndCursor == nil || *p.PageInfo.EndCursor != p.Edges[len(p.Edges)-1].Cursor {
				t.Fatalf("startCursor/endCursor do not match the edges: %+v", p.PageInfo)
			}
		}
		if !p.PageInfo.HasNextPage {
			return ids
		}
		if p.PageInfo.EndCursor == nil {
			t.Fatal("hasNextPage without endCursor")
		}
		after = p.PageInfo.EndCursor
	}
}

func candidateIDs(cs []workable.Candidate, keep func(workable.Candidate) bool) []string {
	ids := []string{}
	for _, c := range cs {
		if keep(c) {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

func TestWalkJobs(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	cutoff := env.sim.Jobs()[4].CreatedAt
	updCutoff := env.sim.Jobs()[6].UpdatedAt
	tests := []struct {
		name  string
		args  string
		first int
		keep  func(workable.Job) bool
	}{
		{"all first 1", ``, 1, func(workable.Job) bool { return true }},
		{"all first 5", ``, 5, func(workable.Job) bool { return true }},
		{"all first 100", ``, 100, func(workable.Job) bool { return true }},
		{"published", `state: PUBLISHED`, 2, func(j workable.Job) bool { return j.State == "published" }},
		{"draft", `state: DRAFT`, 1, func(j workable.Job) bool { return j.State == "draft" }},
		{"archived", `state: ARCHIVED`, 3, func(j workable.Job) bool { return j.State == "archived" }},
		{"closed", `state: CLOSED`, 3, func(j workable.Job) bool { return j.State == "closed" }},
		{"createdAfter", `createdAfter: "` + rfc3339(cutoff) + `"`, 3,
			func(j workable.Job) bool { return j.CreatedAt.After(cutoff) }},
		{"updatedAfter", `updatedAfter: "` + rfc3339(*updCutoff) + `"`, 2,
			func(j workable.Job) bool { return j.UpdatedAt != nil && j.UpdatedAt.After(*updCutoff) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := walk(t, tt.first, func(after *string) connPage {
				var out struct{ Jobs connPage }
				env.mustQuery(fmt.Sprintf(`query($after: String) { jobs(first: %d, after: $after %s) { %s } }`,
					tt.first, sep(tt.args), pageSelection), vars{"after": after}, &out)
				return out.Jobs
			})
			want := []string{}
			for _, j := range env.sim.Jobs() {
				if tt.keep(j) {
					want = append(want, j.ID)
				}
			}
			if len(want) == 0 {
				t.Fatal("the filter matches no job: the test proves nothing")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("walk mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// sep prefixes non-empty extra arguments with a comma.
func sep(args string) string {
	if args == "" {
		return ""
	}
	return ", " + args
}

func TestWalkCandidates(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	all := env.sim.Candidates()
	slugByName := map[string]string{}
	for _, s := range env.sim.Stages() {
		slugByName[s.Name] = s.Slug
	}
	created := all[200].CreatedAt
	updated := *all[100].UpdatedAt
	email := *all[17].Email
	tests := []struct {
		name  string
		args  string
		first int
		keep  func(workable.Candidate) bool
	}{
		{"all first 37", ``, 37, func(workable.Candidate) bool { return true }},
		{"all first 100", ``, 100, func(workable.Candidate) bool { return true }},
		{"job", `jobShortcode: "GROOV004"`, 10, func(c workable.Candidate) bool { return c.Job.Shortcode == "GROOV004" }},
		{"stage", `stage: "interview"`, 7, func(c workable.Candidate) bool { return c.Stage != nil && slugByName[*c.Stage] == "interview" }},
		{"job and stage", `jobShortcode: "GROOV002", stage: "applied"`, 3, func(c workable.Candidate) bool {
			return c.Job.Shortcode == "GROOV002" && c.Stage != nil && slugByName[*c.Stage] == "applied"
		}},
		{"email", `email: "` + email + `"`, 5, func(c workable.Candidate) bool { return c.Email != nil && *c.Email == email }},
		{"createdAfter", `createdAfter: "` + rfc3339(created) + `"`, 30, func(c workable.Candidate) bool { return c.CreatedAt.After(created) }},
		{"updatedAfter", `updatedAfter: "` + rfc3339(updated) + `"`, 50, func(c workable.Candidate) bool {
			return c.UpdatedAt != nil && c.UpdatedAt.After(updated)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := walk(t, tt.first, func(after *string) connPage {
				var out struct{ Candidates connPage }
				env.mustQuery(fmt.Sprintf(`query($after: String) { candidates(first: %d, after: $after %s) { %s } }`,
					tt.first, sep(tt.args), pageSelection), vars{"after": after}, &out)
				return out.Candidates
			})
			want := candidateIDs(all, tt.keep)
			if len(want) == 0 {
				t.Fatal("the filter matches no candidate: the test proves nothing")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("walk mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWalkJobCandidates(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	all := env.sim.Candidates()
	tests := []struct {
		shortcode, stage string
		first            int
	}{
		{"GROOV005", "", 8},
		{"GROOV006", "sourced", 2},
		{"GROOV003", "", 5}, // no candidates
	}
	for _, tt := range tests {
		t.Run(tt.shortcode+"/"+tt.stage, func(t *testing.T) {
			t.Parallel()
			got := walk(t, tt.first, func(after *string) connPage {
				var out struct{ Job struct{ Candidates connPage } }
				env.mustQuery(fmt.Sprintf(`query($sc: String!, $after: String, $stage: String) { job(shortcode: $sc) {
					candidates(first: %d, after: $after, stage: $stage) { %s } } }`, tt.first, pageSelection),
					vars{"sc": tt.shortcode, "after": after, "stage": nilIfEmpty(tt.stage)}, &out)
				return out.Job.Candidates
			})
			want := candidateIDs(all, func(c workable.Candidate) bool {
				return c.Job.Shortcode == tt.shortcode && (tt.stage == "" || (c.StageKind != nil && *c.StageKind == tt.stage))
			})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("walk mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func TestWalkActivities(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	for _, c := range env.sim.Candidates()[:12] {
		for _, first := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/first %d", c.ID, first), func(t *testing.T) {
				got := walk(t, first, func(after *string) connPage {
					var out struct{ Candidate struct{ Activities connPage } }
					env.mustQuery(fmt.Sprintf(`query($id: ID!, $after: String) { candidate(id: $id) {
						activities(first: %d, after: $after) { %s } } }`, first, pageSelection),
						vars{"id": c.ID, "after": after}, &out)
					return out.Candidate.Activities
				})
				want := []string{}
				for _, a := range env.sim.Activities(c.ID) {
					want = append(want, a.ID)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("walk mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// noPagingProxy sits in front of the simulator and removes the paging key
// from every activities response, to show that below Workable's largest
// page the gateway does not depend on paging.next (a live account sends it,
// API.md §10). For candidate long it serves a synthetic stream of n
// activities instead of the simulator's (more than Workable's largest page),
// honouring since_id (inclusive) and limit like Workable, without paging
// unless paging is set: then with paging.next as a live account sends it
// (since_id = the last id + 1).
type noPagingProxy struct {
	long   string
	n      int
	paging bool

	stripped atomic.Int64 // responses that had a paging key
	maxLimit atomic.Int64 // the largest limit asked for
}

// longID is the id of the i-th activity of the synthetic stream (hex, in
// ascending order).
func longID(i int) string { return fmt.Sprintf("%x", 0x10000+i) }

func (p *noPagingProxy) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		segs := strings.Split(strings.TrimSuffix(r.URL.Path, "/"), "/")
		if len(segs) < 3 || segs[len(segs)-1] != "activities" || segs[len(segs)-3] != "candidates" {
			next.ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		limit := 50
		if v := q.Get("limit"); v != "" {
			limit, _ = strconv.Atoi(v)
		}
		for {
			old := p.maxLimit.Load()
			if int64(limit) <= old || p.maxLimit.CompareAndSwap(old, int64(limit)) {
				break
			}
		}
		if segs[len(segs)-2] == p.long {
			p.serveLong(w, r.Host, r.URL.Path, q, min(limit, 100))
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			var env map[string]json.RawMessage
			if err := json.Unmarshal(body, &env); err != nil {
				http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
				return
			}
			if _, ok := env["paging"]; ok {
				p.stripped.Add(1)
				delete(env, "paging")
			}
			body, _ = json.Marshal(env)
		}
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

func (p *noPagingProxy) serveLong(w http.ResponseWriter, host, path string, q url.Values, limit int) {
	from := 0
	if v := q.Get("since_id"); v != "" {
		since, err := strconv.ParseUint(v, 16, 64)
		if err != nil {
			http.Error(w, "bad since_id", http.StatusUnprocessableEntity)
			return
		}
		from = max(int(since)-0x10000, 0)
	}
	acts := []map[string]any{}
	i := from
	for ; i < p.n && len(acts) < limit; i++ {
		acts = append(acts, map[string]any{"id": longID(i), "action": "comment", "stage_name": nil,
			"body": "note " + longID(i), "created_at": "2024-01-02T03:04:05Z"})
	}
	body := map[string]any{"activities": acts}
	if p.paging && i < p.n {
		next := url.URL{Scheme: "http", Host: host, Path: path,
			RawQuery: url.Values{"limit": {strconv.Itoa(limit)}, "since_id": {longID(i)}}.Encode()}
		body["paging"] = map[string]string{"next": next.String()}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

// TestWalkActivitiesWithoutPaging: were Workable to send no paging.next for
// activities, walks below its largest page would still return every
// activity and end on the last one.
// TestWalkLongActivitiesAtTheCap: at Workable's largest page (first 99
// after a cursor, 100), where no extra item fits, a walk follows what
// paging.next says and returns every activity of a long stream.
func TestWalkLongActivitiesAtTheCap(t *testing.T) {
	t.Parallel()
	const longN = 250
	proxy := &noPagingProxy{n: longN, paging: true}
	env := newTestEnv(t, withSimProxy(proxy.wrap))
	proxy.long = env.sim.Candidates()[0].ID
	long := make([]string, longN)
	for i := range long {
		long[i] = longID(i)
	}
	for _, first := range []int{99, 100} {
		t.Run(fmt.Sprintf("first %d", first), func(t *testing.T) {
			got := walk(t, first, func(after *string) connPage {
				var out struct{ Candidate struct{ Activities connPage } }
				env.mustQuery(fmt.Sprintf(`query($id: ID!, $after: String) { candidate(id: $id) {
					activities(first: %d, after: $after) { %s } } }`, first, pageSelection),
					vars{"id": proxy.long, "after": after}, &out)
				return out.Candidate.Activities
			})
			if diff := cmp.Diff(long, got); diff != "" {
				t.Errorf("walk mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWalkActivitiesWithoutPaging(t *testing.T) {
	t.Parallel()
	const longN = 150
	proxy := &noPagingProxy{n: longN}
	env := newTestEnv(t, withSimProxy(proxy.wrap))
	cands := env.sim.Candidates()
	proxy.long = cands[len(cands)-1].ID
	long := make([]string, longN)
	for i := range long {
		long[i] = longID(i)
	}
	type walkCase struct {
		id    string
		first int
		want  []string
	}
	var tests []walkCase
	for _, c := range cands[:12] {
		var want []string
		for _, a := range env.sim.Activities(c.ID) {
			want = append(want, a.ID)
		}
		for _, first := range []int{1, 2, 5} {
			tests = append(tests, walkCase{c.ID, first, want})
		}
	}
	// Below Workable's largest page the extra item alone ends the walk
	// correctly; at it (first 99 after a cursor, 100), only paging.next can
	// tell, which a live account sends (API.md §10) and TestWalkActivities
	// covers.
	for _, first := range []int{7, 50, 98} {
		tests = append(tests, walkCase{proxy.long, first, long})
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/first %d", tt.id, tt.first), func(t *testing.T) {
			pages, empty := 0, 0
			got := walk(t, tt.first, func(after *string) connPage {
				var out struct{ Candidate struct{ Activities connPage } }
				env.mustQuery(fmt.Sprintf(`query($id: ID!, $after: String) { candidate(id: $id) {
					activities(first: %d, after: $after) { %s } } }`, tt.first, pageSelection),
					vars{"id": tt.id, "after": after}, &out)
				pages++
				if len(out.Candidate.Activities.Nodes) == 0 {
					empty++
				}
				return out.Candidate.Activities
			})
			if diff := cmp.Diff(append([]string{}, tt.want...), got); diff != "" {
				t.Errorf("walk mismatch (-want +got):\n%s", diff)
			}
			// Ending correctly: hasNextPage is false on the page with the
			// last activity, never true before an empty page.
			if empty > 0 {
				t.Errorf("%d of %d pages were empty", empty, pages)
			}
		})
	}
	if proxy.stripped.Load() == 0 {
		t.Error("no activities response had a paging key: the proxy proves nothing")
	}
	if n := proxy.maxLimit.Load(); n > 100 {
		t.Errorf("asked Workable for limit=%d, more than its largest page", n)
	}
}

func TestFirstZero(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	env.sim.ResetCounts()
	var out struct{ Jobs, Candidates connPage }
	env.mustQuery(`{ jobs(first: 0) { edges { cursor } nodes { id } } candidates(first: 0) { nodes { id } } }`, nil, &out)
	if len(out.Jobs.Edges)+len(out.Jobs.Nodes)+len(out.Candidates.Nodes) != 0 {
		t.Errorf("first: 0 returned items: %+v", out)
	}
	if n := env.sim.TotalRequests(); n != 0 {
		t.Errorf("first: 0 without pageInfo made %d Workable calls, want 0", n)
	}
	// With pageInfo, one call learns whether items exist.
	env.mustQuery(`{ jobs(first: 0) { edges { cursor } pageInfo { hasNextPage endCursor } } }`, nil, &out)
	if !out.Jobs.PageInfo.HasNextPage || out.Jobs.PageInfo.EndCursor != nil || len(out.Jobs.Edges) != 0 {
		t.Errorf("first: 0 with pageInfo = %+v, want no edges, hasNextPage true, no endCursor", out.Jobs)
	}
}

func TestPagingArgumentErrors(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	var first struct{ Jobs, Candidates connPage }
	env.mustQuery(`{ jobs(first: 2) { `+pageSelection+` } candidates(first: 2) { `+pageSelection+` } }`, nil, &first)
	jobCursor := *first.Jobs.PageInfo.EndCursor
	candCursor := *first.Candidates.PageInfo.EndCursor

	raw, err := base64.RawURLEncoding.DecodeString(jobCursor)
	if err != nil {
		t.Fatal(err)
	}
	reencode := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tampered := strings.Replace(string(raw), `"a":"`, `"a":"0`, 1)
	wrongVersion := strings.Replace(string(raw), `"v":1`, `"v":2`, 1)
	extraField := strings.Replace(string(raw), `{`, `{"x":1,`, 1)
	padded := jobCursor + "="

	tests := []struct {
		name, query string
		v           vars
	}{
		{"first negative", `{ jobs(first: -1) { nodes { id } } }`, nil},
		{"first too large", `{ jobs(first: 101) { nodes { id } } }`, nil},
		{"candidates first too large", `{ candidates(first: 1000) { nodes { id } } }`, nil},
		{"job.candidates first negative", `{ job(shortcode: "GROOV002") { candidates(first: -5) { nodes { id } } } }`, nil},
		{"activities first too large", `query($id: ID!) { candidate(id: $id) { activities(first: 101) { nodes { id } } } }`,
			vars{"id": env.sim.Candidates()[0].ID}},
		{"malformed", `{ jobs(after: "!!!not-a-cursor") { nodes { id } } }`, nil},
		{"empty", `{ jobs(after: "") { nodes { id } } }`, nil},
		{"not json", `query($c: String) { jobs(after: $c) { nodes { id } } }`, vars{"c": reencode("hello")}},
		{"tampered id", `query($c: String) { jobs(after: $c) { nodes { id } } }`, vars{"c": reencode(tampered)}},
		{"wrong version", `query($c: String) { jobs(after: $c) { nodes { id } } }`, vars{"c": reencode(wrongVersion)}},
		{"unknown field", `query($c: String) { jobs(after: $c) { nodes { id } } }`, vars{"c": reencode(extraField)}},
		{"padded base64", `query($c: String) { jobs(after: $c) { nodes { id } } }`, vars{"c": padded}},
		{"too long", `query($c: String) { jobs(after: $c) { nodes { id } } }`, vars{"c": strings.Repeat("A", 5000)}},
		{"other kind", `query($c: String) { candidates(after: $c) { nodes { id } } }`, vars{"c": jobCursor}},
		{"candidate cursor on job.candidates", `query($c: String) { job(shortcode: "GROOV002") { candidates(after: $c) { nodes { id } } } }`,
			vars{"c": candCursor}},
		{"other filters", `query($c: String) { jobs(after: $c, state: PUBLISHED) { nodes { id } } }`, vars{"c": jobCursor}},
		{"candidate filters differ", `query($c: String) { candidates(after: $c, email: "x@example.com") { nodes { id } } }`,
			vars{"c": candCursor}},
		{"bad DateTime", `{ jobs(createdAfter: "yesterday") { nodes { id } } }`, nil},
		{"bad DateTime variable", `query($d: DateTime) { candidates(updatedAfter: $d) { nodes { id } } }`, vars{"d": "2024-13-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := env.query(tt.query, tt.v)
			resp.requireCode(t, CodeBadUserInput)
		})
	}
	// The tampered cursors really were different from the original.
	if reencode(tampered) == jobCursor || reencode(extraField) == jobCursor {
		t.Fatal("tampering did not change the cursor")
	}
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	filters := map[string]string{"state": "published", "createdAfter": "", "updatedAfter": "2024-01-01T00:00:00Z"}
	tests := []struct {
		name    string
		cursor  string
		kind    string
		filters map[string]string
		wantID  string
		wantErr bool
	}{
		{"same", encodeCursor(kindJobs, filters, "abc123"), kindJobs, filters, "abc123", false},
		{"empty filters equal absent", encodeCursor(kindJobs, map[string]string{"state": ""}, "a1"), kindJobs, nil, "a1", false},
		{"kind differs", encodeCursor(kindJobs, nil, "a1"), kindCandidates, nil, "", true},
		{"filter differs", encodeCursor(kindJobs, filters, "a1"), kindJobs, map[string]string{"state": "draft"}, "", true},
		{"bad id", encodeCursor(kindJobs, nil, "a b"), kindJobs, nil, "", true},
		{"empty id", encodeCursor(kindJobs, nil, ""), kindJobs, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := decodeCursor(tt.cursor, tt.kind, tt.filters)
			if (err != nil) != tt.wantErr {
				t.Fatalf("decodeCursor error = %v, wantErr %v", err, tt.wantErr)
			}
			if id != tt.wantID {
				t.Errorf("id = %q, want %q", id, tt.wantID)
			}
		})
	}
}

func TestCursorsSurviveRestart(t *testing.T) {
	t.Parallel()
	// A cursor from one gateway works on another (same Workable data).
	a, b := newTestEnv(t), newTestEnv(t)
	var p1, p2 struct{ Candidates connPage }
	a.mustQuery(`{ candidates(first: 3, jobShortcode: "GROOV004") { `+pageSelection+` } }`, nil, &p1)
	b.mustQuery(`query($c: String) { candidates(first: 3, after: $c, jobShortcode: "GROOV004") { `+pageSelection+` } }`,
		vars{"c": *p1.Candidates.PageInfo.EndCursor}, &p2)
	want := candidateIDs(a.sim.Candidates(), func(c workable.Candidate) bool { return c.Job.Shortcode == "GROOV004" })[3:6]
	got := []string{}
	for _, n := range p2.Candidates.Nodes {
		got = append(got, n.ID)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("second page mismatch (-want +got):\n%s", diff)
	}
}

func TestMiddleEdgeCursor(t *testing.T) {
	t.Parallel()
	// Every edge's cursor (not only endCursor) continues right after it.
	env := newTestEnv(t)
	var p struct{ Jobs connPage }
	env.mustQuery(`{ jobs(first: 6) { `+pageSelection+` } }`, nil, &p)
	var next struct{ Jobs connPage }
	env.mustQuery(`query($c: String) { jobs(first: 2, after: $c) { `+pageSelection+` } }`,
		vars{"c": p.Jobs.Edges[2].Cursor}, &next)
	got := []string{next.Jobs.Nodes[0].ID, next.Jobs.Nodes[1].ID}
	want := []string{p.Jobs.Nodes[3].ID, p.Jobs.Nodes[4].ID}
	if diff := cmp.Diff(want, got); diff != "" || !next.Jobs.PageInfo.HasNextPage {
		t.Errorf("page after edge 2 mismatch (-want +got):\n%s (hasNextPage %v)", diff, next.Jobs.PageInfo.HasNextPage)
	}
}

// TestCursorsWhateverTheSelection: a page's cursors are computed only for
// what the selection asks for (edges, pageInfo), so the cursors a query gets
// must not depend on what else it selects: pageInfo alone, pageInfo through
// a fragment, and edges give the same start and end cursors.
func TestCursorsWhateverTheSelection(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	var full struct{ Candidates connPage }
	env.mustQuery(`{ candidates(first: 4) { `+pageSelection+` } }`, nil, &full)
	if len(full.Candidates.Edges) != 4 {
		t.Fatalf("%d edges, want 4", len(full.Candidates.Edges))
	}
	start, end := full.Candidates.Edges[0].Cursor, full.Candidates.Edges[3].Cursor
	for _, q := range []string{
		`{ candidates(first: 4) { pageInfo { startCursor endCursor } } }`,
		`{ candidates(first: 4) { nodes { id } pageInfo { startCursor endCursor } } }`,
		`{ candidates(first: 4) { ...P } } fragment P on CandidateConnection { pageInfo { startCursor endCursor } }`,
		`{ candidates(first: 4) { ... on CandidateConnection { edges { cursor } pageInfo { startCursor endCursor } } } }`,
	} {
		var got struct{ Candidates connPage }
		env.mustQuery(q, nil, &got)
		info := got.Candidates.PageInfo
		if info.StartCursor == nil || *info.StartCursor != start || info.EndCursor == nil || *info.EndCursor != end {
			t.Errorf("%s: pageInfo %+v, want start %q end %q", q, info, start, end)
		}
		for i, e := range got.Candidates.Edges {
			if e.Cursor != full.Candidates.Edges[i].Cursor {
				t.Errorf("%s: edge %d cursor %q, want %q", q, i, e.Cursor, full.Candidates.Edges[i].Cursor)
			}
		}
	}
}
