package graph

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/cache"
)

// TestGlobalIDsRefetchWithoutWorkableCalls: every Job, Candidate and
// Activity has a globalId next to Workable's own id, and Query.node and
// Query.nodes find each again through the cache, without a Workable call.
func TestGlobalIDsRefetchWithoutWorkableCalls(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withCache(cache.NewMemory(16<<20), "relay-test:"))
	var listed struct {
		Jobs struct {
			Nodes []struct{ ID, GlobalID, Shortcode, Title string }
		}
		Candidates struct {
			Nodes []struct {
				ID, GlobalID, Name string
				Activities         struct {
					Nodes []struct{ ID, GlobalID, Action string }
				}
			}
		}
	}
	env.mustQuery(`{
	  jobs(first: 2) { nodes { id globalId shortcode title } }
	  candidates(first: 2) { nodes { id globalId name activities(first: 2) { nodes { id globalId action } } } }
	}`, nil, &listed)
	job, cand := listed.Jobs.Nodes[0], listed.Candidates.Nodes[0]
	if len(cand.Activities.Nodes) == 0 {
		t.Fatalf("the first candidate has no activity: %+v", cand)
	}
	act := cand.Activities.Nodes[0]
	for _, tc := range []struct {
		typ, workableID, globalID, wantDecoded string
	}{
		{"Job", job.ID, job.GlobalID, "Job:" + job.Shortcode},
		{"Candidate", cand.ID, cand.GlobalID, "Candidate:" + cand.ID},
		{"Activity", act.ID, act.GlobalID, "Activity:" + cand.ID + ":" + act.ID},
	} {
		raw, err := base64.RawURLEncoding.DecodeString(tc.globalID)
		if err != nil || string(raw) != tc.wantDecoded || tc.globalID == tc.workableID {
			t.Errorf("%s globalId %q decodes to %q (%v), want %q, distinct from its id %q",
				tc.typ, tc.globalID, raw, err, tc.wantDecoded, tc.workableID)
		}
	}

	env.sim.ResetCounts()
	var out struct {
		Job       struct{ Typename, ID, Title string } `json:"job"`
		Candidate struct {
			Typename string `json:"__typename"`
			ID, Name string
		} `json:"candidate"`
		Activity struct {
			Typename             string `json:"__typename"`
			ID, Action, GlobalID string
		} `json:"activity"`
		Nodes []map[string]any
	}
	env.mustQuery(`query($j: ID!, $c: ID!, $a: ID!) {
	  job: node(id: $j) { ... on Job { id title } }
	  candidate: node(id: $c) { __typename ... on Candidate { id name } }
	  activity: node(id: $a) { __typename globalId ... on Activity { id action } }
	  nodes(ids: [$a, $j, $c]) { __typename globalId }
	}`, vars{"j": job.GlobalID, "c": cand.GlobalID, "a": act.GlobalID}, &out)
	if out.Job.ID != job.ID || out.Job.Title != job.Title || out.Candidate.ID != cand.ID || out.Candidate.Name != cand.Name ||
		out.Activity.ID != act.ID || out.Activity.Action != act.Action || out.Activity.GlobalID != act.GlobalID {
		t.Errorf("node() answered %+v", out)
	}
	var types []string
	for _, n := range out.Nodes {
		types = append(types, n["__typename"].(string))
	}
	if diff := cmp.Diff([]string{"Activity", "Job", "Candidate"}, types); diff != "" {
		t.Errorf("nodes() types (-want +got):\n%s", diff)
	}
	if n := env.sim.TotalRequests(); n != 0 {
		t.Errorf("refetching cached objects by global id cost %d Workable calls: %v", n, env.sim.RequestCounts())
	}
}

// TestNodeOfUncachedAndMissingObjects: without a cache node() still finds
// each object (one call), a detail field loads the detail, and an object
// Workable does not have is null.
func TestNodeOfUncachedAndMissingObjects(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	cand := env.sim.Candidates()[3]
	acts := env.sim.Activities(cand.ID)
	if len(acts) < 2 {
		t.Fatalf("candidate %s has %d activities", cand.ID, len(acts))
	}
	var out struct {
		C *struct{ ID, Summary string } `json:"c"`
		A *struct{ ID string }          `json:"a"`
		J *struct{ Shortcode, Benefits string }
		// Objects Workable does not have.
		GoneC, GoneA, GoneJ map[string]any
	}
	env.mustQuery(`query($c: ID!, $a: ID!, $j: ID!, $gc: ID!, $ga: ID!, $gj: ID!) {
	  c: node(id: $c) { ... on Candidate { id summary } }
	  a: node(id: $a) { ... on Activity { id } }
	  j: node(id: $j) { ... on Job { shortcode benefits } }
	  goneC: node(id: $gc) { globalId }
	  goneA: node(id: $ga) { globalId }
	  goneJ: node(id: $gj) { globalId }
	}`, vars{
		"c": globalID(nodeCandidate, cand.ID), "a": globalID(nodeActivity, cand.ID, acts[1].ID), "j": globalID(nodeJob, cand.Job.Shortcode),
		"gc": globalID(nodeCandidate, "ffffffff"), "ga": globalID(nodeActivity, cand.ID, "ffffffff"), "gj": globalID(nodeJob, "NOPE1"),
	}, &out)
	if out.C == nil || out.C.ID != cand.ID || out.A == nil || out.A.ID != acts[1].ID || out.J == nil || out.J.Shortcode != cand.Job.Shortcode {
		t.Errorf("node() of existing objects = %+v", out)
	}
	if out.GoneC != nil || out.GoneA != nil || out.GoneJ != nil {
		t.Errorf("node() of missing objects = %v %v %v, want null", out.GoneC, out.GoneA, out.GoneJ)
	}
	if env.sim.RequestCount("GET /candidates/{id}") != 2 || env.sim.RequestCount("GET /jobs/{shortcode}") != 2 {
		t.Errorf("calls: %v (want each candidate's and job's detail once)", env.sim.RequestCounts())
	}
}

// TestNodeRefusesBadGlobalIDs: anything that is not a global id of this API
// is BAD_USER_INPUT, before any Workable call.
func TestNodeRefusesBadGlobalIDs(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, id := range []string{
		"", "not base64!", "Q2FuZGlkYXRlOjE=" /* padded */, enc("Candidate"), enc("Candidate:"), enc("Candidate:a:b"),
		enc("Member:1"), enc("Activity:1"), enc("Job:GROOV 1"), enc("Job:" + strings.Repeat("x", 65)),
	} {
		resp := env.query(`query($id: ID!) { node(id: $id) { globalId } }`, vars{"id": id})
		resp.requireCode(t, CodeBadUserInput)
	}
	many := make([]string, maxNodes+1)
	for i := range many {
		many[i] = globalID(nodeCandidate, fmt.Sprintf("%x", i+1))
	}
	env.query(`query($ids: [ID!]!) { nodes(ids: $ids) { globalId } }`, vars{"ids": many}).requireCode(t, CodeBadUserInput)
	if n := env.sim.TotalRequests(); n != 0 {
		t.Errorf("bad global ids cost %d Workable calls", n)
	}
}

// TestBackwardPagingThroughTheHandler walks each connection backwards with
// last/before, as Relay's loadPrevious does, and compares with the forward
// walk; mixing directions is refused.
func TestBackwardPagingThroughTheHandler(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	cand := env.sim.Candidates()[0]
	job := env.sim.Jobs()[0]
	for _, tc := range []struct {
		name, field, args string
		pick              func(data map[string]any) map[string]any
		want              []string
	}{
		{"jobs", "jobs", "", nil, func() (ids []string) {
			for _, j := range env.sim.Jobs() {
				ids = append(ids, j.ID)
			}
			return ids
		}()},
		{"candidates", "candidates", "", nil, func() (ids []string) {
			for _, c := range env.sim.Candidates() {
				ids = append(ids, c.ID)
			}
			return ids
		}()},
		{"a job's candidates", "candidates", `jobShortcode: "` + job.Shortcode + `"`, nil, func() (ids []string) {
			for _, c := range env.sim.Candidates() {
				if c.Job.Shortcode == job.Shortcode {
					ids = append(ids, c.ID)
				}
			}
			return ids
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var walked []string
			var before *string
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatal("the backward walk does not end")
				}
				var out map[string]connPage
				env.mustQuery(fmt.Sprintf(`query($before: String) { %s(last: 30, before: $before %s) { %s } }`,
					tc.field, sep(tc.args), pageSelection), vars{"before": before}, &out)
				p := out[tc.field]
				var ids []string
				for _, n := range p.Nodes {
					ids = append(ids, n.ID)
				}
				walked = append(ids, walked...)
				if p.PageInfo.HasNextPage != (before != nil) {
					t.Errorf("page %d: hasNextPage = %v", pages, p.PageInfo.HasNextPage)
				}
				if !p.PageInfo.HasPreviousPage {
					break
				}
				before = p.PageInfo.StartCursor
			}
			if diff := cmp.Diff(tc.want, walked); diff != "" {
				t.Errorf("backward walk (-forward +backward):\n%s", diff)
			}
		})
	}
	t.Run("activities", func(t *testing.T) {
		var out struct {
			Candidate struct {
				Activities connPage
			}
		}
		env.mustQuery(`query($id: ID!) { candidate(id: $id) { activities(last: 2) { `+pageSelection+` } } }`, vars{"id": cand.ID}, &out)
		acts := env.sim.Activities(cand.ID)
		var want []string
		for _, a := range acts[max(len(acts)-2, 0):] {
			want = append(want, a.ID)
		}
		var got []string
		for _, n := range out.Candidate.Activities.Nodes {
			got = append(got, n.ID)
		}
		if !slices.Equal(want, got) || out.Candidate.Activities.PageInfo.HasPreviousPage != (len(acts) > 2) {
			t.Errorf("the last 2 activities = %v (prev %v), want %v", got, out.Candidate.Activities.PageInfo.HasPreviousPage, want)
		}
	})
	t.Run("directions do not mix", func(t *testing.T) {
		for _, args := range []string{`first: 2, last: 2`, `first: 2, before: "x"`, `last: 2, after: "x"`} {
			env.query(`{ jobs(`+args+`) { nodes { id } } }`, nil).requireCode(t, CodeBadUserInput)
		}
		env.query(`{ jobs(last: 101) { nodes { id } } }`, nil).requireCode(t, CodeBadUserInput)
	})
}

// TestJobActivitiesPageBackwardsAndRefetch pages a job's activity stream
// backwards and refetches its activities by global id: a job's own event
// (no candidate) through the job's list, one about a candidate through that
// candidate's list.
func TestJobActivitiesPageBackwardsAndRefetch(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withCache(cache.NewMemory(16<<20), "relay-job-acts:"))
	want := env.sim.JobActivities("GROOV005")
	if len(want) < 3 {
		t.Fatalf("GROOV005 has %d activities; the test needs 3", len(want))
	}
	type act struct {
		ID, GlobalID, Kind string
		Candidate          *struct{ ID string }
	}
	var out struct {
		Job struct {
			Activities struct {
				Nodes    []act
				PageInfo struct{ HasPreviousPage, HasNextPage bool }
			}
		}
	}
	env.mustQuery(`{ job(shortcode: "GROOV005") { activities(last: 3) {
		nodes { id globalId kind candidate { id } } pageInfo { hasPreviousPage hasNextPage } } } }`, nil, &out)
	got := out.Job.Activities
	if len(got.Nodes) != 3 || !got.PageInfo.HasPreviousPage || got.PageInfo.HasNextPage {
		t.Fatalf("last 3 = %+v, want 3 items with a previous page and no next one", got)
	}
	for i, a := range got.Nodes {
		if w := want[len(want)-3+i]; a.ID != w.ID {
			t.Errorf("last 3, item %d = %s, want %s", i, a.ID, w.ID)
		}
	}

	// The stream's first activity is the job's own (OPENED, no candidate);
	// a later one is about a candidate.
	var first struct {
		Job struct{ Activities struct{ Nodes []act } }
	}
	env.mustQuery(`{ job(shortcode: "GROOV005") { activities(first: 100) { nodes { id globalId kind candidate { id } } } } }`, nil, &first)
	var own, about *act
	for i := range first.Job.Activities.Nodes {
		a := &first.Job.Activities.Nodes[i]
		switch {
		case a.Candidate == nil && own == nil:
			own = a
		case a.Candidate != nil && about == nil:
			about = a
		}
	}
	if own == nil || about == nil {
		t.Fatalf("GROOV005's first 100 activities lack a job event or a candidate's: %+v", first.Job.Activities.Nodes)
	}
	for _, tc := range []struct {
		a    *act
		want string
	}{
		{own, "JobActivity:GROOV005:" + own.ID},
		{about, "Activity:" + about.Candidate.ID + ":" + about.ID},
	} {
		raw, err := base64.RawURLEncoding.DecodeString(tc.a.GlobalID)
		if err != nil || string(raw) != tc.want {
			t.Errorf("globalId %q decodes to %q (%v), want %q", tc.a.GlobalID, raw, err, tc.want)
		}
		var node struct {
			Node struct{ ID, GlobalID, Kind string }
		}
		env.mustQuery(`query($id: ID!) { node(id: $id) { globalId ... on Activity { id kind } } }`, vars{"id": tc.a.GlobalID}, &node)
		if node.Node.ID != tc.a.ID || node.Node.GlobalID != tc.a.GlobalID || node.Node.Kind != tc.a.Kind {
			t.Errorf("node(%s) = %+v, want %+v", tc.want, node.Node, *tc.a)
		}
	}
}
