package graph

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
)

// jobTexts are the job text fields: the detail fields that include_fields
// can add to the jobs list (API.md §2), sparing one GET /jobs/{shortcode}
// per job (upstream.JobTextFields names them to Workable). The field's member
// of model.JobText and how to read it.
var jobTexts = []struct {
	bit model.JobText
	get func(*workable.Job) *string
}{
	{model.TextDescription, func(j *workable.Job) *string { return j.Description }},
	{model.TextFullDescription, func(j *workable.Job) *string { return j.FullDescription }},
	{model.TextRequirements, func(j *workable.Job) *string { return j.Requirements }},
	{model.TextBenefits, func(j *workable.Job) *string { return j.Benefits }},
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

// jobNeed classifies a Job field by the Workable read it needs. The live
// list items carry workplace_type, salary, keywords and locations (API.md
// §10), so those are list fields: asking for them costs no detail call.
func jobNeed(field string) jobFieldNeed {
	switch field {
	case "shortcode", "title", "__typename", "candidates", "activities":
		return needNothing
	case "description", "fullDescription", "requirements", "benefits":
		return needText
	case "employmentType", "industry", "function", "experience", "education":
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
	key := upstream.JobPageKey{State: stateStr, CreatedAfter: upstream.KeyTime(createdAfter), UpdatedAfter: upstream.KeyTime(updatedAfter)}
	p, err := newPageRequest(ctx, kindJobs, map[string]string{
		"state": key.State, "createdAfter": key.CreatedAfter, "updatedAfter": key.UpdatedAfter,
	}, first, after, last, before)
	if err != nil {
		return nil, err
	}
	key.WithText = maxJobNeed(nodeFields(ctx)) == needText
	conn := &model.JobConnection{}
	conn.Nodes, conn.Edges, conn.PageInfo, err = connection(ctx, p, listPages(r.loadersFor(ctx).jobPages, key, load), jobID,
		func(items []*workable.Job) []model.Job {
			var text model.JobText
			if key.WithText {
				text = listedText(items)
			}
			nodes := make([]model.Job, len(items))
			for i, j := range items {
				nodes[i] = model.Job{Shortcode: j.Shortcode, Title: j.Title, Listed: j, Text: text}
			}
			return nodes
		},
		func(cursor string, j *model.Job) model.JobEdge { return model.JobEdge{Cursor: cursor, Node: j} })
	if err != nil {
		return nil, err
	}
	return conn, nil
}

func jobID(j *workable.Job) string { return j.ID }

// jobByShortcode resolves Query.job, null when Workable has no such job. It
// loads what the selection needs: the job's list item for list fields (and
// to know the job exists when nothing else is asked), its detail for
// detail and text fields; each field then reads its own source.
func (r *Resolver) jobByShortcode(ctx context.Context, shortcode string) (*model.Job, error) {
	if err := checkRef("shortcode", shortcode); err != nil {
		return nil, err
	}
	return r.loadJob(ctx, shortcode, collectedNames(ctx))
}

// loadJob loads the job with shortcode for a selection of Job fields: its
// list item, its detail, or both (together) as the fields need. It returns
// nil when Workable has no such job.
func (r *Resolver) loadJob(ctx context.Context, shortcode string, fields []string) (*model.Job, error) {
	var wantList, wantDetail bool
	for _, f := range fields {
		switch jobNeed(f) {
		case needList:
			wantList = true
		case needText, needDetail:
			wantDetail = true
		}
	}
	// Both reads, when both are needed, run together.
	l := r.loadersFor(ctx)
	var detail, listed func() (*workable.Job, error)
	if wantDetail {
		detail = loadAsync(ctx, l.jobDetail, shortcode)
	}
	if wantList || !wantDetail {
		listed = loadAsync(ctx, l.job, shortcode)
	}
	job := &model.Job{Shortcode: shortcode}
	var err error
	if detail != nil {
		if job.Detail, err = detail(); err != nil || job.Detail == nil {
			return nil, err
		}
		job.Title = job.Detail.Title
	}
	if listed != nil {
		if job.Listed, err = listed(); err != nil || job.Listed == nil {
			return nil, err
		}
		job.Title = job.Listed.Title
	}
	return job, nil
}

// candidateJob resolves Candidate.job. The shortcode and title come with
// the candidate; every other field loads its own source when it is asked
// for (the loaders batch them across the candidates of a page).
func (r *Resolver) candidateJob(_ context.Context, c *workable.Candidate) (*model.Job, error) {
	return &model.Job{Shortcode: c.Job.Shortcode, Title: c.Job.Title}, nil
}

// jobData returns the Workable record behind a Job field with the given
// need: the list item for list fields, the detail for detail fields (text
// fields go through jobText), loading it when obj does not carry it. It
// returns nil when the job no longer exists.
func (r *Resolver) jobData(ctx context.Context, obj *model.Job, need jobFieldNeed) (*workable.Job, error) {
	if need <= needList {
		if obj.Listed != nil {
			return obj.Listed, nil
		}
		return load(ctx, r.loadersFor(ctx).job, obj.Shortcode)
	}
	if obj.Detail != nil {
		return obj.Detail, nil
	}
	return load(ctx, r.loadersFor(ctx).jobDetail, obj.Shortcode)
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

// jobLocations resolves Job.locations: the list item's locations, the
// hidden ones only when asked for (they are not meant to be shown
// publicly, API.md §10).
func (r *Resolver) jobLocations(ctx context.Context, obj *model.Job, includeHidden bool) ([]workable.JobLocation, error) {
	j, err := r.jobData(ctx, obj, needList)
	if err != nil || j == nil {
		return []workable.JobLocation{}, err
	}
	out := make([]workable.JobLocation, 0, len(j.Locations))
	for _, l := range j.Locations {
		if !l.Hidden || includeHidden {
			out = append(out, l)
		}
	}
	return out, nil
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
