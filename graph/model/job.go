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
	// Text is the set of text fields Listed is known to carry although it
	// came from a list (one fetched with include_fields whose response
	// actually contained them). The others load from the job's detail.
	Text JobText
}

// JobText is a set of a job's text fields: those Workable's jobs list adds
// with include_fields.
type JobText uint8

// The text fields of a job.
const (
	TextDescription JobText = 1 << iota
	TextFullDescription
	TextRequirements
	TextBenefits
)

// Has reports whether every field of f is in t.
func (t JobText) Has(f JobText) bool { return t&f == f }
