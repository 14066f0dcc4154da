package model

import "github.com/workablegw/gateway/workable"

// Job is a job as the GraphQL layer sees it. Shortcode and Title are always
// known (a candidate carries them for its job). Listed is the job as Workable
// returned it, nil when only the reference is known; its other fields then
// load through the job loaders.
type Job struct {
	Shortcode string
	Title     string
	Listed    *workable.Job
	// Detail is true when Listed came from GET /jobs/{shortcode} and so
	// carries every detail field.
	Detail bool
	// HasText is true when Listed carries description, full_description,
	// requirements and benefits (a list fetched with include_fields).
	HasText bool
}
