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

// MarshalDateTime writes t as an RFC 3339 string in UTC (the DateTime
// scalar), keeping its fractional seconds: milliseconds
// (2026-04-11T03:36:48.560Z) as Workable's timestamps have them (API.md
// §10), finer digits when t has them, none on a whole second. Two events of
// one candidate can differ only in their milliseconds.
func MarshalDateTime(t time.Time) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(FormatDateTime(t)))
	})
}

// FormatDateTime is the text of a DateTime: see MarshalDateTime.
func FormatDateTime(t time.Time) string {
	t = t.UTC()
	switch {
	case t.Nanosecond() == 0:
		return t.Format(time.RFC3339)
	case t.Nanosecond()%int(time.Millisecond) == 0:
		return t.Format("2006-01-02T15:04:05.000Z07:00")
	default:
		return t.Format(time.RFC3339Nano)
	}
}

// UnmarshalDateTime reads a DateTime argument: an RFC 3339 string (any
// offset, normalised to UTC), with or without fractional seconds.
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
