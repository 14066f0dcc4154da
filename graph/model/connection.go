package model

import "github.com/workablegw/gateway/workable"

// CandidateConnection is a page of candidates (Relay). Nodes and the edges'
// nodes point at the candidates the page was read into, which the
// process's decoded tier may share with other requests: nothing may change
// them.
type CandidateConnection struct {
	Edges    []CandidateEdge       `json:"edges"`
	Nodes    []*workable.Candidate `json:"nodes"`
	PageInfo *PageInfo             `json:"pageInfo"`
}
