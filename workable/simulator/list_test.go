package simulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/workablegw/gateway/workable"
)

// walk follows paging.next from first until a page has no paging, checking
// every next URL, and returns the ids in the order served. nextPath is the
// path every paging.next must have ("" for first's own).
func walk(t *testing.T, ts *testServer, first, key string, wantQuery url.Values, nextPath string) []string {
	t.Helper()
	var got []string
	next := first
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		env := ts.getPage(t, next, key)
		got = append(got, ids(env.items)...)
		if env.paging == nil {
			return got
		}
		if len(env.items) == 0 {
			t.Fatalf("GET %s: empty page with paging", next)
		}
		u, err := url.Parse(env.paging.Next)
		if err != nil {
			t.Fatalf("paging.next %q: %v", env.paging.Next, err)
		}
		srv, _ := url.Parse(ts.srv.URL)
		if !u.IsAbs() || u.Scheme != "http" || u.Host != srv.Host {
			t.Fatalf("paging.next %q is not an absolute URL on %s", env.paging.Next, srv.Host)
		}
		firstURL, _ := url.Parse(ts.srv.URL + first)
		if nextPath == "" {
			nextPath = firstURL.Path
		}
		if u.Path != nextPath {
			t.Fatalf("paging.next path %q, want %q", u.Path, nextPath)
		}
		q := u.Query()
		for k, v := range wantQuery {
			if diff := cmp.Diff(v, q[k]); diff != "" {
				t.Fatalf("paging.next %q lost filter %s (-want +got):\n%s", env.paging.Next, k, diff)
			}
		}
		if q.Get("since_id") == "" || q.Get("limit") == "" {
			t.Fatalf("paging.next %q lacks limit or since_id", env.paging.Next)
		}
		// since_id is the last id of this page plus one, as a live account
		// answers (API.md §10).
		if last := mustHex(t, got[len(got)-1]); mustHex(t, q.Get("since_id")) != last+1 {
			t.Fatalf("paging.next since_id %s is not %s + 1", q.Get("since_id"), got[len(got)-1])
		}
		next = env.paging.Next
	}
}

func TestPagingWalk(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	sim := ts.sim

	var jobIDs, candIDs, memberIDs, activeIDs, job5IDs []string
	for _, j := range sim.Jobs() {
		jobIDs = append(jobIDs, j.ID)
	}
	var published []string
	for _, j := range sim.Jobs() {
		if j.State == "published" {
			published = append(published, j.ID)
		}
	}
	var interviewIDs []string
	for _, c := range sim.Candidates() {
		candIDs = append(candIDs, c.ID)
		if c.Job.Shortcode == "GROOV005" {
			job5IDs = append(job5IDs, c.ID)
		}
		if *c.Stage == "Interview" {
			interviewIDs = append(interviewIDs, c.ID)
		}
	}
	for _, m := range sim.Members() {
		memberIDs = append(memberIDs, m.ID)
		if *m.Active {
			activeIDs = append(activeIDs, m.ID)
		}
	}
	if len(activeIDs) == len(memberIDs) {
		t.Fatal("the seed has no inactive member")
	}
	var jobActIDs []string
	for _, a := range sim.JobActivities("GROOV005") {
		jobActIDs = append(jobActIDs, a.ID)
	}
	// The candidate with the most activities, so that its stream pages.
	var busy workable.Candidate
	var actIDs []string
	for _, c := range sim.Candidates() {
		if acts := sim.Activities(c.ID); len(acts) > len(actIDs) {
			busy, actIDs = c, nil
			for _, a := range acts {
				actIDs = append(actIDs, a.ID)
			}
		}
	}

	tests := []struct {
		name, first, key string
		filters          url.Values
		nextPath         string
		want             []string
	}{
		{"jobs", "/spi/v3/jobs?limit=5", "jobs", nil, "", jobIDs},
		{"jobs published", "/spi/v3/jobs?state=published&limit=2", "jobs", url.Values{"state": {"published"}}, "", published},
		{"candidates default limit", "/spi/v3/candidates", "candidates", nil, "", candIDs},
		{"candidates", "/spi/v3/candidates?limit=100", "candidates", nil, "", candIDs},
		// A live account pages a job's candidates through the per-job path
		// (API.md §10).
		{"candidates of a job by filter", "/spi/v3/candidates?shortcode=GROOV005&stage=applied&limit=2", "candidates",
			url.Values{"stage": {"applied"}, "shortcode": nil}, "/spi/v3/jobs/GROOV005/candidates", job5Applied(sim)},
		{"candidates by stage", "/spi/v3/candidates?stage=interview&limit=3", "candidates",
			url.Values{"stage": {"interview"}}, "", interviewIDs},
		{"job candidates", "/spi/v3/jobs/GROOV005/candidates?limit=7", "candidates", nil, "", job5IDs},
		{"activities", "/spi/v3/candidates/" + busy.ID + "/activities?limit=2", "activities", nil, "", actIDs},
		{"job activities", "/spi/v3/jobs/GROOV005/activities?limit=50", "activities", nil, "", jobActIDs},
		{"members", "/spi/v3/members?limit=4", "members", nil, "", activeIDs},
		{"members, all", "/spi/v3/members?limit=4&status=all", "members", url.Values{"status": {"all"}}, "", memberIDs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.want) < 2 {
				t.Fatalf("fixture too small to page: %d items", len(tt.want))
			}
			got := walk(t, ts, tt.first, tt.key, tt.filters, tt.nextPath)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ids served (-want +got):\n%s", diff)
			}
			for i := 1; i < len(got); i++ {
				if mustHex(t, got[i-1]) >= mustHex(t, got[i]) {
					t.Fatalf("not ascending at %d: %s then %s", i, got[i-1], got[i])
				}
			}
		})
	}
}

// job5Applied returns the ids of GROOV005's candidates in the applied stage.
func job5Applied(sim *Simulator) []string {
	var out []string
	for _, c := range sim.Candidates() {
		if c.Job.Shortcode == "GROOV005" && *c.StageKind == "applied" {
			out = append(out, c.ID)
		}
	}
	return out
}

func TestPagingPageSizes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tests := []struct {
		query    string
		wantLen  int
		wantNext bool
	}{
		{"", 50, true},
		{"?limit=1", 1, true},
		{"?limit=100", 100, true},
		{"?limit=1000", 100, true}, // clamped
		{"?limit=300", 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			env := ts.getPage(t, "/spi/v3/candidates"+tt.query, "candidates")
			if len(env.items) != tt.wantLen || (env.paging != nil) != tt.wantNext {
				t.Errorf("got %d items, paging %v; want %d, %v", len(env.items), env.paging, tt.wantLen, tt.wantNext)
			}
			if env.paging != nil {
				u, _ := url.Parse(env.paging.Next)
				if got := u.Query().Get("limit"); got != strconv.Itoa(tt.wantLen) {
					t.Errorf("next limit = %s, want %d", got, tt.wantLen)
				}
			}
		})
	}
	t.Run("last page exactly full has no paging", func(t *testing.T) {
		ts := newTestServer(t, WithCandidates(20))
		env := ts.getPage(t, "/spi/v3/candidates?limit=20", "candidates")
		if len(env.items) != 20 || env.paging != nil {
			t.Errorf("got %d items, paging %v", len(env.items), env.paging)
		}
	})
	t.Run("X-Forwarded-Proto", func(t *testing.T) {
		r := ts.call(t, http.MethodGet, "/spi/v3/jobs?limit=1", DemoToken, nil, "X-Forwarded-Proto", "https")
		var env struct{ Paging pagingJSON }
		r.decode(t, &env)
		if !strings.HasPrefix(env.Paging.Next, "https://") {
			t.Errorf("paging.next = %q, want https", env.Paging.Next)
		}
	})
}

// TestSinceMaxIDNumeric: since_id and max_id compare ids as hex numbers,
// not as strings: a shorter id is smaller, whatever its first digit.
func TestSinceMaxIDNumeric(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	jobs := ts.sim.Jobs()
	all := make([]string, len(jobs))
	for i, j := range jobs {
		all[i] = j.ID
	}
	width := len(all[0])
	// As strings, "f…f" (one digit fewer) sorts after every id and
	// "10…0" (one digit more) before every id; as numbers it is the reverse.
	below := strings.Repeat("f", width-1)
	above := "1" + strings.Repeat("0", width)
	if below < all[0] == (mustHex(t, below) < mustHex(t, all[0])) {
		t.Fatalf("ids %v do not tell string from numeric order", all)
	}
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"since_id inclusive", "since_id=" + all[3], all[3:]},
		{"max_id inclusive", "max_id=" + all[3], all[:4]},
		{"both", "since_id=" + all[3] + "&max_id=" + all[5], all[3:6]},
		{"since_id between ids", fmt.Sprintf("since_id=%x", mustHex(t, all[3])+1), all[4:]},
		{"shorter since_id is smaller", "since_id=" + below, all},
		{"longer max_id is larger", "max_id=" + above, all},
		{"upper-case hex", "since_id=" + strings.ToUpper(all[3]), all[3:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := ts.getPage(t, "/spi/v3/jobs?"+tt.query, "jobs")
			if diff := cmp.Diff(tt.want, ids(env.items)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestJobFilters(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	jobs := ts.sim.Jobs()
	pivot := jobs[5]
	ct := pivot.CreatedAt
	ut := *jobs[3].UpdatedAt

	filter := func(keep func(workable.Job) bool) []string {
		var out []string
		for _, j := range jobs {
			if keep(j) {
				out = append(out, j.ID)
			}
		}
		return out
	}
	// Timestamps carry milliseconds (API.md §10); a filter written to the
	// second selects from that second on.
	createdAfter := filter(func(j workable.Job) bool { return j.CreatedAt.After(ct) })
	createdAfterS := filter(func(j workable.Job) bool { return j.CreatedAt.After(ct.Truncate(time.Second)) })
	if len(createdAfter) == len(createdAfterS) {
		t.Fatalf("job %s was created on a whole second; the test needs milliseconds", pivot.ID)
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"state=published", filter(func(j workable.Job) bool { return j.State == "published" })},
		{"state=draft", filter(func(j workable.Job) bool { return j.State == "draft" })},
		{"state=closed", filter(func(j workable.Job) bool { return j.State == "closed" })},
		{"state=archived", filter(func(j workable.Job) bool { return j.State == "archived" })},
		{"created_after=" + url.QueryEscape(ct.Format(time.RFC3339)), createdAfterS},
		{"created_after=" + ct.Format("20060102T150405Z"), createdAfterS},
		{"created_after=" + strconv.FormatInt(ct.Unix(), 10), createdAfterS},
		{"created_after=" + url.QueryEscape(ct.Format("2006-01-02T15:04:05.000Z")), createdAfter},
		{"updated_after=" + url.QueryEscape(ut.Format(time.RFC3339Nano)),
			filter(func(j workable.Job) bool { return j.UpdatedAt.After(ut) })},
		{"state=published&created_after=" + strconv.FormatInt(ct.Unix(), 10),
			filter(func(j workable.Job) bool {
				return j.State == "published" && j.CreatedAt.After(ct.Truncate(time.Second))
			})},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if len(tt.want) == 0 || len(tt.want) == len(jobs) {
				t.Fatalf("filter selects %d of %d jobs: not a useful test", len(tt.want), len(jobs))
			}
			env := ts.getPage(t, "/spi/v3/jobs?"+tt.query, "jobs")
			if diff := cmp.Diff(tt.want, ids(env.items)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("include_fields", func(t *testing.T) {
		for _, tt := range []struct {
			query string
			want  []string
		}{
			{"", nil},
			{"include_fields=description", []string{"description"}},
			{"include_fields=description,benefits", []string{"benefits", "description"}},
			{"include_fields=full_description,requirements,benefits,description",
				[]string{"benefits", "description", "full_description", "requirements"}},
		} {
			env := ts.getPage(t, "/spi/v3/jobs?limit=1&"+tt.query, "jobs")
			var got []string
			for _, k := range []string{"benefits", "description", "full_description", "requirements"} {
				if _, ok := env.items[0][k]; ok {
					got = append(got, k)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s: fields (-want +got):\n%s", tt.query, diff)
			}
			if _, ok := env.items[0]["employment_type"]; ok {
				t.Errorf("%s: list item has detail field employment_type", tt.query)
			}
		}
	})
}

func TestCandidateFilters(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	all := ts.sim.Candidates()
	ct := all[100].CreatedAt
	ut := *all[150].UpdatedAt
	target := all[42]

	filter := func(keep func(workable.Candidate) bool) []string {
		var out []string
		for _, c := range all {
			if keep(c) {
				out = append(out, c.ID)
			}
		}
		return out
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"shortcode=GROOV002", filter(func(c workable.Candidate) bool { return c.Job.Shortcode == "GROOV002" })},
		{"shortcode=NOPE", nil},
		{"stage=phone-screen", filter(func(c workable.Candidate) bool { return *c.Stage == "Phone Screen" })},
		{"stage=hired", filter(func(c workable.Candidate) bool { return *c.StageKind == "hired" })},
		{"email=" + url.QueryEscape(*target.Email), []string{target.ID}},
		{"email=" + url.QueryEscape(strings.ToUpper(*target.Email)), []string{target.ID}},
		{"email=nobody%40example.com", nil},
		// Written to the second: everything from that second on, milliseconds
		// included (API.md §10).
		{"created_after=" + ct.Format("20060102T150405Z"), filter(func(c workable.Candidate) bool { return c.CreatedAt.After(ct.Truncate(time.Second)) })},
		{"updated_after=" + strconv.FormatInt(ut.Unix(), 10), filter(func(c workable.Candidate) bool { return c.UpdatedAt.After(ut.Truncate(time.Second)) })},
		{"created_after=" + url.QueryEscape(ct.Format("2006-01-02T15:04:05.000Z")), filter(func(c workable.Candidate) bool { return c.CreatedAt.After(ct) })},
		{"shortcode=GROOV005&stage=applied", filter(func(c workable.Candidate) bool {
			return c.Job.Shortcode == "GROOV005" && *c.Stage == "Applied"
		})},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := walk(t, ts, "/spi/v3/candidates?limit=100&"+tt.query, "candidates", nil, "")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	// Live list items add anonymized … resume_metadata and lack withdrew,
	// which only the detail has (API.md §10).
	t.Run("list items are the live basic shape", func(t *testing.T) {
		env := ts.getPage(t, "/spi/v3/candidates?limit=100", "candidates")
		want := []string{"account", "address", "anonymized", "common_source", "common_source_category", "created_at",
			"disqualification_reason", "disqualified", "domain", "email", "firstname", "headline", "hired_at", "id", "job",
			"lastname", "moved_to_offer_at", "name", "outlet", "phone", "profile_url", "resume_metadata",
			"sourced", "stage", "stage_kind", "updated_at"}
		for _, it := range env.items {
			var keys []string
			for k := range it {
				keys = append(keys, k)
			}
			if diff := cmp.Diff(want, keys, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Fatalf("candidate %v keys (-want +got):\n%s", it["id"], diff)
			}
		}
	})
}

func TestListParamErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tests := []struct {
		url, param string
	}{
		{"/spi/v3/jobs?state=open", "state"},
		{"/spi/v3/jobs?limit=0", "limit"},
		{"/spi/v3/jobs?limit=-3", "limit"},
		{"/spi/v3/candidates?limit=ten", "limit"},
		{"/spi/v3/candidates?since_id=xyz", "since_id"},
		{"/spi/v3/candidates?max_id=-1", "max_id"},
		{"/spi/v3/candidates?created_after=yesterday", "created_after"},
		{"/spi/v3/jobs?updated_after=2015-13-45T00:00:00Z", "updated_after"},
		{"/spi/v3/candidates?stage=Interview", "stage"}, // the name, not the slug
		{"/spi/v3/members?limit=x", "limit"},
		{"/spi/v3/members?status=gone", "status"},
		{"/spi/v3/candidates/ce4da98/activities?limit=0", "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			r := ts.call(t, http.MethodGet, tt.url, DemoToken, nil)
			if r.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422; body %s", r.status, r.body)
			}
			e := r.errBody(t)
			if e.Error == "" || len(e.ValidationErrors[tt.param]) == 0 {
				t.Errorf("body %s lacks error or validation_errors.%s", r.body, tt.param)
			}
		})
	}
}

func TestActivitiesFilter(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	var id string
	var want []string
	for _, c := range ts.sim.Candidates() {
		var comments []string
		for _, a := range ts.sim.Activities(c.ID) {
			if a.Action == "comment" || a.Action == "moved" {
				comments = append(comments, a.ID)
			}
		}
		if len(comments) >= 2 {
			id, want = c.ID, comments
			break
		}
	}
	if id == "" {
		t.Fatal("no candidate with two comment/moved activities")
	}
	env := ts.getPage(t, "/spi/v3/candidates/"+id+"/activities?actions=comment,moved", "activities")
	if diff := cmp.Diff(want, ids(env.items)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
