package hiring

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/workablegw/gateway/workable"
)

// The codes of Problem.Code.
const (
	// CodeInvalid is an input the gateway (or Workable) rejects.
	CodeInvalid = "INVALID"
	// CodeNotFound is an unknown job or candidate: Workable answered 404.
	CodeNotFound = "NOT_FOUND"
	// CodeAlreadyExists is Workable's duplicate candidate: the job already
	// has a candidate with that e-mail address.
	CodeAlreadyExists = "ALREADY_EXISTS"
)

// Problem is a rejection of a write that is the caller's to fix: Workable's
// 404 or 422, on the input field it is about. Its JSON is that of the
// GraphQL UserError, which the idempotency store keeps for repeats.
type Problem struct {
	// Field is the path of the input field from the input's root,
	// "input" ([input toStage]).
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code"`
}

// WriteProblems turns the Workable errors of a create or update that are
// the caller's to fix (404, 422) into problems; it returns nil for every
// other error. notFoundField is where a 404 points: the job or the
// candidate of the input.
func WriteProblems(err error, notFoundField Path, notFoundMsg string) []Problem {
	switch {
	case errors.Is(err, workable.ErrNotFound):
		return []Problem{{Field: notFoundField, Message: notFoundMsg, Code: CodeNotFound}}
	case errors.Is(err, workable.ErrAlreadyExists), errors.Is(err, workable.ErrValidation):
		return validationProblems(err)
	}
	return nil
}

// validationProblems maps a Workable 422 of a create or update to
// problems: one per message of validation_errors, in key order, on the
// input field the key names (FieldPath). A duplicate candidate
// (workable.ErrAlreadyExists) gives ALREADY_EXISTS on email; everything
// else INVALID.
func validationProblems(err error) []Problem {
	alreadyExists := errors.Is(err, workable.ErrAlreadyExists)
	er, out := eachValidationMessage(err, FieldPath, func(msg string) (string, bool) {
		if alreadyExists && strings.Contains(strings.ToLower(msg), "already exists") {
			return "", false // reported once below
		}
		return CodeInvalid, true
	})
	if alreadyExists {
		out = append([]Problem{{
			Field:   InputAt("email"),
			Message: "a candidate with this e-mail address already exists in this job",
			Code:    CodeAlreadyExists,
		}}, out...)
	}
	return orRejected(out, er, "Workable rejected the input")
}

// actionProblems maps a Workable 422 of a hiring action to problems: one
// per message of validation_errors, in key order, on the input field fields
// names for its key (or for the key's first segment, e.g. "comment" of
// "comment.body"), else on the input root. "already exists" messages (a
// copy into a job that has the candidate's e-mail address) get
// ALREADY_EXISTS.
func actionProblems(err error, fields map[string]string) []Problem {
	var er *workable.ErrorResponse
	if !errors.As(err, &er) {
		return []Problem{{Field: InputAt(), Code: CodeInvalid, Message: "Workable rejected the input"}}
	}
	path := func(key string) Path {
		if f, ok := fields[key]; ok {
			return InputAt(f)
		} else if i := strings.IndexAny(key, ".["); i > 0 && fields[key[:i]] != "" {
			return InputAt(fields[key[:i]])
		}
		return InputAt()
	}
	_, out := eachValidationMessage(err, path, func(msg string) (string, bool) {
		if strings.Contains(strings.ToLower(msg), "already exists") {
			return CodeAlreadyExists, true
		}
		return CodeInvalid, true
	})
	return orRejected(out, er, "Workable rejected the action")
}

// eachValidationMessage returns err's Workable answer (nil when it has
// none) and one problem per message of its validation_errors, in key
// order, on path(key), with the code that code gives the message (none
// when it says to skip the message).
func eachValidationMessage(err error, path func(key string) Path, code func(msg string) (string, bool)) (*workable.ErrorResponse, []Problem) {
	var er *workable.ErrorResponse
	if !errors.As(err, &er) {
		return nil, nil
	}
	var out []Problem
	for _, key := range slices.Sorted(maps.Keys(er.ValidationErrors)) {
		field := path(key)
		for _, msg := range er.ValidationErrors[key] {
			if c, ok := code(msg); ok {
				out = append(out, Problem{Field: field, Code: c, Message: fmt.Sprintf("Workable rejected %s: %s", key, msg)})
			}
		}
	}
	return er, out
}

// orRejected is out, or when it is empty one INVALID problem on the input
// root saying msg and Workable's message.
func orRejected(out []Problem, er *workable.ErrorResponse, msg string) []Problem {
	if len(out) > 0 {
		return out
	}
	if er != nil && er.Message != "" {
		msg += ": " + er.Message
	}
	return []Problem{{Field: InputAt(), Message: msg, Code: CodeInvalid}}
}

// FieldPath maps a Workable validation key of a candidate to the input
// path of the field it names. Keys are snake_case and may index lists in
// either "education_entries[1].start_date" or
// "education_entries.1.start_date" form (the exact form is not documented,
// API.md §4 [I]). A key that names no input field (e.g. "stage",
// "candidate") maps to the input root.
//
// simulator guess: the simulator uses the bracket form; both are accepted.
func FieldPath(key string) Path {
	parts := strings.FieldsFunc(key, func(r rune) bool { return r == '[' || r == ']' || r == '.' })
	if len(parts) == 0 {
		return InputAt()
	}
	top, ok := candidateInputField(parts[0])
	if !ok {
		return InputAt()
	}
	path := InputAt(top)
	for _, p := range parts[1:] {
		path = path.At(snakeToCamel(p))
	}
	return path
}

// candidateInputField returns the input field of a top-level Workable
// candidate key. "name" is derived from firstName and lastName, so its
// problems point at firstName.
func candidateInputField(key string) (string, bool) {
	switch key {
	case "name", "firstname":
		return "firstName", true
	case "lastname":
		return "lastName", true
	case "email", "headline", "summary", "address", "phone", "cover_letter",
		"education_entries", "experience_entries", "social_profiles", "tags":
		return snakeToCamel(key), true
	}
	return "", false
}

// snakeToCamel turns field_of_study into fieldOfStudy; digits and names
// without underscores are returned as they are.
func snakeToCamel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if p := parts[i]; p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}
