package hiring

import (
	"strings"
	"testing"
)

func TestFieldPath(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"firstname":                          "input.firstName",
		"lastname":                           "input.lastName",
		"name":                               "input.firstName",
		"email":                              "input.email",
		"cover_letter":                       "input.coverLetter",
		"education_entries[1].start_date":    "input.educationEntries.1.startDate",
		"education_entries.0.field_of_study": "input.educationEntries.0.fieldOfStudy",
		"social_profiles[2].type":            "input.socialProfiles.2.type",
		"tags[3]":                            "input.tags.3",
		"experience_entries":                 "input.experienceEntries",
		"stage":                              "input",
		"candidate":                          "input",
		"":                                   "input",
		"[].":                                "input",
	}
	for key, want := range tests {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			if got := strings.Join(FieldPath(key), "."); got != want {
				t.Errorf("FieldPath(%q) = %s, want %s", key, got, want)
			}
		})
	}
}
