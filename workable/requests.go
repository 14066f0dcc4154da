package workable

import (
	"bytes"
	"encoding/json"
)

// NewCandidate is the candidate part of POST /jobs/:shortcode/candidates
// (API.md §4). Firstname, Lastname and Email are required by the gateway.
type NewCandidate struct {
	Name              string            `json:"name,omitempty"`
	Firstname         string            `json:"firstname"`
	Lastname          string            `json:"lastname"`
	Email             string            `json:"email"`
	Headline          *string           `json:"headline,omitempty"`
	Summary           *string           `json:"summary,omitempty"`
	Address           *string           `json:"address,omitempty"`
	Phone             *string           `json:"phone,omitempty"`
	CoverLetter       *string           `json:"cover_letter,omitempty"`
	EducationEntries  []EducationEntry  `json:"education_entries,omitempty"`
	ExperienceEntries []ExperienceEntry `json:"experience_entries,omitempty"`
	SocialProfiles    []SocialProfile   `json:"social_profiles,omitempty"`
	Skills            []string          `json:"skills,omitempty"`
	Tags              []string          `json:"tags,omitempty"`
	Domain            *string           `json:"domain,omitempty"`
}

// CreateCandidateOptions are the optional parts of a create outside the
// candidate object: the root-level sourced flag (Workable's default is true)
// and the stage query parameter (a stage slug).
type CreateCandidateOptions struct {
	Sourced *bool
	Stage   string
}

// Optional is a JSON key that may be absent, null or a value. In a partial
// update: when Set is false the key is not sent at all; when Set is true the
// key is sent with Value, and a nil Value is sent as JSON null (which clears
// the field). In a response (a field tagged `json:",omitzero"`): Set tells
// whether the answer had the key, Value is nil when it was null; encoding
// leaves an unset Optional out, so a decoded record re-encodes as it came.
type Optional[T any] struct {
	Set   bool
	Value *T
}

// IsZero reports whether the key is absent (for `omitzero`).
func (o Optional[T]) IsZero() bool { return !o.Set }

// MarshalJSON writes Value, or null when it is nil.
func (o Optional[T]) MarshalJSON() ([]byte, error) {
	if o.Value == nil {
		return []byte("null"), nil
	}
	return json.Marshal(*o.Value)
}

// UnmarshalJSON records that the key was present, and its value unless it
// is null.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set, o.Value = true, nil
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.Value = &v
	return nil
}

// Some returns an Optional that sends v.
func Some[T any](v T) Optional[T] { return Optional[T]{Set: true, Value: &v} }

// Null returns an Optional that sends JSON null.
func Null[T any]() Optional[T] { return Optional[T]{Set: true} }

// CandidatePatch is the body of PATCH /candidates/:id (API.md §5). Only the
// fields that are Set are sent. The four list fields replace the stored list
// wholesale; an empty (non-nil) slice clears it.
type CandidatePatch struct {
	Firstname         Optional[string]
	Lastname          Optional[string]
	Email             Optional[string]
	Headline          Optional[string]
	Summary           Optional[string]
	Address           Optional[string]
	Phone             Optional[string]
	CoverLetter       Optional[string]
	EducationEntries  Optional[[]EducationEntry]
	ExperienceEntries Optional[[]ExperienceEntry]
	SocialProfiles    Optional[[]SocialProfile]
	Tags              Optional[[]string]
}

// Fields returns the JSON keys and values the patch sends, exactly the keys
// that are Set.
func (p CandidatePatch) Fields() map[string]any {
	m := make(map[string]any)
	addOptional(m, "firstname", p.Firstname)
	addOptional(m, "lastname", p.Lastname)
	addOptional(m, "email", p.Email)
	addOptional(m, "headline", p.Headline)
	addOptional(m, "summary", p.Summary)
	addOptional(m, "address", p.Address)
	addOptional(m, "phone", p.Phone)
	addOptional(m, "cover_letter", p.CoverLetter)
	addList(m, "education_entries", p.EducationEntries)
	addList(m, "experience_entries", p.ExperienceEntries)
	addList(m, "social_profiles", p.SocialProfiles)
	addList(m, "tags", p.Tags)
	return m
}

// MarshalJSON encodes the patch as Workable's {"candidate": {...}} body.
func (p CandidatePatch) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"candidate": p.Fields()})
}

func addOptional[T any](m map[string]any, key string, o Optional[T]) {
	if !o.Set {
		return
	}
	if o.Value == nil {
		m[key] = nil
		return
	}
	m[key] = *o.Value
}

// addList sends a list field; a cleared list is sent as [] rather than null,
// because Workable documents [] as the way to delete all entries.
func addList[T any](m map[string]any, key string, o Optional[[]T]) {
	if !o.Set {
		return
	}
	if o.Value == nil || *o.Value == nil {
		m[key] = []T{}
		return
	}
	m[key] = *o.Value
}
