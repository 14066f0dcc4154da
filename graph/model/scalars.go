// Package model holds the GraphQL model types of the gateway: the ones gqlgen
// generates (models_gen.go) and the hand-written ones bound in gqlgen.yml.
package model

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// MarshalDateTime writes t as an RFC 3339 string in UTC (the DateTime scalar).
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(t.UTC().Format(time.RFC3339)))
	})
}

// UnmarshalDateTime reads a DateTime argument: an RFC 3339 string (any
// offset, normalised to UTC).
func UnmarshalDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, badDateTime(fmt.Sprintf("DateTime must be an RFC 3339 string, got %T", v))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badDateTime(fmt.Sprintf("DateTime must be an RFC 3339 string like 2015-07-01T00:00:00Z, got %q", s))
	}
	return t.UTC(), nil
}

// badDateTime is the error of an invalid DateTime argument; it carries its
// extensions.code because the model package cannot use graph's error types.
func badDateTime(msg string) error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": "BAD_USER_INPUT"}}
}

// MarshalInt64ID writes an int64 identifier (e.g. a department id) as an ID
// string.
func MarshalInt64ID(i int64) graphql.Marshaler {
	return graphql.MarshalID(strconv.FormatInt(i, 10))
}

// UnmarshalInt64ID reads an ID argument holding an int64 identifier.
func UnmarshalInt64ID(v any) (int64, error) {
	s, err := graphql.UnmarshalID(v)
	if err != nil {
		return 0, err
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("ID %q is not an integer", s)
	}
	return i, nil
}
