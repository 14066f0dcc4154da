package model

import "github.com/workablegw/gateway/workable"

// Activity is an activity as the GraphQL layer sees it: Workable's record,
// the shortcode of the job whose pipeline its stages belong to (the
// candidate's job, or the job of Job.activities), so that a stage the
// account's pipeline lacks can be looked up in the job's own, and the
// candidate whose activity it is ("" for a job's own event), which a
// candidate's activity list does not repeat and Node ids need.
type Activity struct {
	workable.Activity
	JobShortcode string
	CandidateID  string
}
