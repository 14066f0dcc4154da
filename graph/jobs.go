package graph

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/workable"
)

// jobTexts are the job text fields: the detail fields that include_fields
// can add to the jobs list (API.md §2), sparing one GET /jobs/{shortcode}
// per job. Workable's name, the field's member of model.JobText and how to
// read it.
var jobTexts = []struct {
	name string
	bit  model.JobText
	get  func(*workable.Job) *string
}{
	{"description", model.TextDescription, func(j *workable.Job) *string { return j.Description }},
	{"full_description", model.TextFullDescription, func(j *workable.Job) *string { return j.FullDescription }},
	{"requirements", model.TextRequirements, func(j *workable.Job) *string { return j.Requirements }},
	{"benefits", model.TextBenefits, func(j *workable.Job) *string { return j.Benefits }},
}

// listedText returns the text fields a jobs list page fetched with
// include_fields is known to carry: those that at least one job of the page
// has. If Workable ignored include_fields (or its format is not the guessed
// one), no job has them and every text field falls back to the job's detail,
// GET /jobs/{shortcode}, instead of silently resolving to null. A field that
// some job carries is taken as delivered for the whole page, so a job whose
// own value is absent or null reads null, as its detail would.
//
// The decoded workable.Job cannot tell an absent key from a null one; both
// count as absent here, which only costs a detail call per job when a field
// is null on every job of the page.
func listedText(jobs []*workable.Job) model.JobText {
	var set model.JobText
	for _, j := range jobs {
		for _, f := range jobTexts {
			if f.get(j) != nil {
				set |= f.bit
			}
		}
	}
	return set
}

// jobFieldNeed is what a Job field needs loaded.
type jobFieldNeed int

const (
	needNothing jobFieldNeed = iota // shortcode, title: always known
	needList                        // fields of the jobs list
	needText                        // a list whose response carried it, or the detail
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
// include_fields, so they cost no call per job as long as Workable honours
// it (see listedText).
func (r *Resolver) jobsConnection(ctx context.Context, first *int, after *string, last *int, before *string, state *model.JobState, createdAfter, updatedAfter *time.Time) (*model.JobConnection, error) {
	stateStr := ""
	if state != nil {
		stateStr = strings.ToLower(string(*state))
	}
	key := jobPageKey{State: stateStr, CreatedAfter: keyTime(createdAfter), UpdatedAfter: keyTime(updatedAfter)}
	p, err := newPageRequest(ctx, kindJobs, map[string]string{
		"state": key.State, "createdAfter": key.CreatedAfter, "updatedAfter": key.UpdatedAfter,
	}, first, after, last, before)
	if err != nil {
		return nil, err
	}
	conn := &model.JobConnection{Edges: []model.JobEdge{}, Nodes: []model.Job{}, PageInfo: &model.PageInfo{}}
	if p.skip {
		return conn, nil
	}
	key.WithText = maxJobNeed(nodeFields(ctx)) == needText
	pages := r.loadersFor(ctx).jobPages
	items, hasPrev, hasNext, err := connectionPage(ctx, p, func(ctx context.Context, since, until string, limit int) (page[workable.Job], error) {
		k := key
		k.SinceID, k.MaxID, k.Limit = since, until, limit
		return load(ctx, pages, k)
	}, jobID)
	if err != nil {
		return nil, err
	}
	var text model.JobText
	if key.WithText {
		text = listedText(items)
	}
	cursors, info := edgeCursors(p, items, jobID, hasPrev, hasNext)
	conn.PageInfo = info
	conn.Nodes = make([]model.Job, len(items))
	conn.Edges = make([]model.JobEdge, len(items))
	for i, j := range items {
		conn.Nodes[i] = model.Job{Shortcode: j.Shortcode, Title: j.Title, Listed: j, Text: text}
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
	return &model.Job{Shortcode: j.Shortcode, Title: j.Title, Listed: j, Detail: true}, nil
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
		job.Detail = true
	}
	if err != nil {
		return nil, err
	}
	if job.Listed == nil {
		// The job is gone from Workable: keep what the candidate knows;
		// fields that need more resolve to null or NOT_FOUND.
		job.Detail = false
	}
	return job, nil
}

// jobData returns the Workable job behind a Job field with the given need,
// loading it when obj does not carry it. It returns nil when the job no
// longer exists. Text fields go through jobText, which knows which of them
// a list carried; here needText counts as needDetail.
func (r *Resolver) jobData(ctx context.Context, obj *model.Job, need jobFieldNeed) (*workable.Job, error) {
	switch {
	case obj.Listed != nil && (need <= needList || obj.Detail):
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

// jobText resolves one text field of a job (field is its member of
// model.JobText, get reads it): from the list the job came from when that
// list's response carried the field, else from the job's detail.
func (r *Resolver) jobText(ctx context.Context, obj *model.Job, field model.JobText, get func(*workable.Job) *string) (*string, error) {
	if obj.Listed != nil && obj.Text.Has(field) {
		return get(obj.Listed), nil
	}
	return r.jobString(ctx, obj, needDetail, get)
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
