// Package graph implements the gateway's GraphQL API: the schema's resolvers,
// Relay connections over Workable's since_id paging, per-request dataloaders
// and the HTTP handler that serves /query.
package graph

//go:generate go tool gqlgen generate
