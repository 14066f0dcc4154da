package model

// Node is a value of the GraphQL interface Node: a *Job, a
// *workable.Candidate or an *Activity. It is an empty interface because
// the candidate type lives in the workable package, which knows nothing of
// GraphQL; graph/relay.go builds the values.
type Node any
