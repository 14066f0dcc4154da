package graph

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/workable"
)

// jobTextFields are the Workable detail fields that include_fields can add
// to the jobs list (API.md §2), sparing one GET /jobs/{shortcode} per job.
// simulator guess: the value is comma-separated (the reference marks the
// format as [I]).
var jobTextFields = []string{"description", "full_description", "requirements", "benefits"}

// jobFieldNeed is what a Job field needs loaded.
type jobFieldNeed int

const (
	needNothing jobFieldNeed = iota // shortcode, title: always known
	needList                        // fields of the jobs list
	needText                        // list with include_fields, or the detail
	needDetail                      // only GET /jobs/{shortcode}
)

// jobNeed classifies a Job field by the Workable read it needs.
func jobNeed(field string) jobFieldNeed {
	switch field {
	case "shortcode", "title", "__typename", "candidates":
		return needNothing
	case "description", "fullDescription", "requirements", "benefits":
		return needText
	case "employmentType", "industry", "function", "experience", "education", "locations":
		return needDetail
	default:
		return needList
	}
}

// maxJobNeed returns the strongest need among the selected Job fields.
func maxJobNeed(fields map[string]bool) jobFieldNeed {
	need := needNothing
	for f := range fields {
		need = max(need, jobNeed(f))
	}
	return need
}

// jobsConnection resolves Query.jobs: one GET /jobs per page. When the
// selection asks for description-like fields the list is fetched with
// include_fields, so they cost no call per job.
func (r *Resolver) jobsConnection(ctx context.Context, first *int, after *string, state *model.JobState, createdAfter, updatedAfter *time.Time) (*model.JobConnection, error) {
	stateStr := ""
	if state != nil {
		stateStr = strings.ToLower(string(*state))
	}
	key := jobPageKey{State: stateStr, CreatedAfter: keyTime(createdAfter), UpdatedAfter: keyTime(updatedAfter)}
	p, err := newPageRequest(ctx, kindJobs, map[string]string{
		"state": key.State, "createdAfter": key.CreatedAfter, "updatedAfter": key.UpdatedAfter,
	}, first, after)
	if err != nil {
		return nil, err
	}
	conn := &model.JobConnection{Edges: []model.JobEdge{}, Nodes: []model.Job{}, PageInfo: &model.PageInfo{}}
	if p.skip {
		return conn, nil
	}
	key.SinceID, key.Limit = p.afterID, p.limit()
	key.WithText = maxJobNeed(nodeFields(ctx)) == needText
	pg, err := load(ctx, r.loadersFor(ctx).jobPages, key)
	if err != nil {
		return nil, err
	}
	items, hasNext := window(p, pg.Items, jobID, pg.More)
	cursors, info := edgeCursors(p, items, jobID, hasNext)
	conn.PageInfo = info
	conn.Nodes = make([]model.Job, len(items))
	conn.Edges = make([]model.JobEdge, len(items))
	for i, j := range items {
		conn.Nodes[i] = model.Job{Shortcode: j.Shortcode, Title: j.Title, Listed: j, HasText: key.WithText}
		conn.Edges[i] = model.JobEdge{Cursor: cursors[i], Node: &conn.Nodes[i]}
	}
	return conn, nil
}

func jobID(j *workable.Job) string { return j.ID }

// jobByShortcode resolves Query.job: GET /jobs/{shortcode}, null on 404.
func (r *Resolver) jobByShortcode(ctx context.Context, shortcode string) (*model.Job, error) {
	if !validRef(shortcode) {
		return nil, badInput("shortcode must be 1 to %d printable ASCII characters without spaces", maxIDLen)
	}
	j, err := load(ctx, r.loadersFor(ctx).jobDetail, shortcode)
	if err != nil || j == nil {
		return nil, err
	}
	return &model.Job{Shortcode: j.Shortcode, Title: j.Title, Listed: j, Detail: true, HasText: true}, nil
}

// candidateJob resolves Candidate.job. The shortcode and title come with
// the candidate; when the selection asks for more, the job is loaded here,
// once, through the loader that serves every selected field: the job
// detail when any detail field is asked for, else the job's list fields.
func (r *Resolver) candidateJob(ctx context.Context, c *workable.Candidate) (*model.Job, error) {
	job := &model.Job{Shortcode: c.Job.Shortcode, Title: c.Job.Title}
	need := needNothing
	for _, f := range collectedNames(ctx) {
		need = max(need, jobNeed(f))
	}
	var err error
	switch need {
	case needNothing:
		return job, nil
	case needList:
		job.Listed, err = load(ctx, r.loadersFor(ctx).job, job.Shortcode)
	default:
		job.Listed, err = load(ctx, r.loadersFor(ctx).jobDetail, job.Shortcode)
		job.Detail, job.HasText = true, true
	}
	if err != nil {
		return nil, err
	}
	if job.Listed == nil {
		// The job is gone from Workable: keep what the candidate knows;
		// fields that need more resolve to null or NOT_FOUND.
		job.Detail, job.HasText = false, false
	}
	return job, nil
}

// jobData returns the Workable job behind a Job field with the given need,
// loading it when obj does not carry it. It returns nil when the job no
// longer exists.
func (r *Resolver) jobData(ctx context.Context, obj *model.Job, need jobFieldNeed) (*workable.Job, error) {
	switch {
	case obj.Listed != nil && (need <= needList || obj.Detail || (need == needText && obj.HasText)):
		return obj.Listed, nil
	case need <= needList:
		return load(ctx, r.loadersFor(ctx).job, obj.Shortcode)
	default:
		return load(ctx, r.loadersFor(ctx).jobDetail, obj.Shortcode)
	}
}

// jobString resolves an optional string field of a job.
func (r *Resolver) jobString(ctx context.Context, obj *model.Job, need jobFieldNeed, get func(*workable.Job) *string) (*string, error) {
	j, err := r.jobData(ctx, obj, need)
	if err != nil || j == nil {
		return nil, err
	}
	return get(j), nil
}

// jobRequired returns the job for a non-null field; a vanished job is
// NOT_FOUND.
func (r *Resolver) jobRequired(ctx context.Context, obj *model.Job) (*workable.Job, error) {
	j, err := r.jobData(ctx, obj, needList)
	if err != nil {
		return nil, err
	}
	if j == nil {
		return nil, errJobGone
	}
	return j, nil
}

// jobState maps Workable's state to the JobState enum.
func jobState(s string) (model.JobState, error) {
	st := model.JobState(strings.ToUpper(s))
	if !st.IsValid() {
		return "", fmt.Errorf("job state %q from Workable is not a JobState", s)
	}
	return st, nil
}
