// Package gqlext holds what the gateway's gqlgen extensions share.
package gqlext

import "github.com/99designs/gqlgen/graphql"

// Name is the graphql.HandlerExtension half of an extension that needs
// nothing from the schema: embed it in the extension's type, set to the
// extension's name, and implement only the interceptors it needs.
type Name string

var _ graphql.HandlerExtension = Name("")

// ExtensionName implements graphql.HandlerExtension.
func (n Name) ExtensionName() string { return string(n) }

// Validate implements graphql.HandlerExtension: there is nothing to check.
func (Name) Validate(graphql.ExecutableSchema) error { return nil }
