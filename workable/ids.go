package workable

import (
	"errors"
	"fmt"
)

// MaxIDLen bounds an id or a shortcode. Workable's are a few characters long
// (ids are short hex strings, shortcodes like GROOV005: API.md §1, §10).
const MaxIDLen = 64

// ErrInvalidID is matched (errors.Is) by every error of CheckID: an id or
// shortcode that cannot be one of Workable's, refused before any request.
var ErrInvalidID = errors.New("workable: invalid id or shortcode")

// InvalidIDError is the error of CheckID.
type InvalidIDError struct {
	// What names the identifier, e.g. "shortcode" or "candidate id".
	What string
}

// Reason is the problem in words, without the package prefix, for showing
// to the person who typed the identifier. The value itself is left out: it
// may be huge or garbage.
func (e *InvalidIDError) Reason() string {
	return fmt.Sprintf("%s must be 1 to %d ASCII letters, digits, hyphens or underscores", e.What, MaxIDLen)
}

func (e *InvalidIDError) Error() string { return "workable: " + e.Reason() }

// Is makes the error match ErrInvalidID.
func (e *InvalidIDError) Is(target error) bool { return target == ErrInvalidID }

// ValidID reports whether s can be a Workable id or shortcode: 1 to
// MaxIDLen ASCII letters, digits, '-' or '_'. Every id and shortcode the
// reference shows fits (hex ids such as 108d1748, shortcodes such as
// GROOV005); anything else — a dot segment, a slash, white space, a
// megabyte — would only cost a pointless request, or climb out of the path
// it is put in.
//
// This is the one rule for identifiers: the client checks path parameters
// with it, and the GraphQL layer checks arguments and cursors with it.
func ValidID(s string) bool {
	if s == "" || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// CheckID returns an *InvalidIDError (matching ErrInvalidID) when s is not
// ValidID; what names the identifier in the message.
func CheckID(what, s string) error {
	if ValidID(s) {
		return nil
	}
	return &InvalidIDError{What: what}
}
