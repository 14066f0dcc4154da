package model

import "github.com/workablegw/gateway/workable"

// Job is a job as the GraphQL layer sees it. Shortcode and Title are always
// known (a candidate carries them for its job). Every other field has one
// source: the list fields come from Listed, the job's item of GET /jobs,
// and the detail fields from Detail, its GET /jobs/{shortcode}; each is nil
// until loaded (the job loaders load it when a field needs it). A detail
// never stands in for the list item: a live one lacks location_str and
// sample (API.md §10).
type Job struct {
	Shortcode string
	Title     string
	Listed    *workable.Job
	Detail    *workable.Job
	// Text is the set of text fields Listed is known to carry although it
	// came from a list (one fetched with include_fields whose response
	// actually contained them). The others come from Detail.
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
