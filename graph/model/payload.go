package model

import "github.com/workablegw/gateway/workable"

// CandidatePayload answers a mutation with the candidate it wrote and its
// userErrors: gqlgen.yml binds to it the payload of every mutation whose
// payload has just these two fields (createCandidate, updateCandidate and
// the hiring actions but commentOnCandidate), so that one piece of code
// answers them all.
type CandidatePayload struct {
	Candidate  *workable.Candidate `json:"candidate,omitempty"`
	UserErrors []UserError         `json:"userErrors"`
}
