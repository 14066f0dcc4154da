package model

import (
	"bytes"
	"testing"
	"time"
)

func TestDateTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      any
		want    string
		wantErr bool
	}{
		{"2015-07-01T00:00:00Z", `"2015-07-01T00:00:00Z"`, false},
		{"2015-07-01T02:30:00+02:00", `"2015-07-01T00:30:00Z"`, false},
		// Fractional seconds are kept: milliseconds as Workable sends them
		// (API.md §10), finer digits as given.
		{"2015-07-01T00:00:00.5Z", `"2015-07-01T00:00:00.500Z"`, false},
		{"2026-04-11T03:36:48.560Z", `"2026-04-11T03:36:48.560Z"`, false},
		{"2026-04-11T05:36:48.007+02:00", `"2026-04-11T03:36:48.007Z"`, false},
		{"2026-04-11T03:36:48.000Z", `"2026-04-11T03:36:48Z"`, false},
		{"2026-04-11T03:36:48.123456789Z", `"2026-04-11T03:36:48.123456789Z"`, false},
		{"2026-04-11T03:36:48.12345Z", `"2026-04-11T03:36:48.12345Z"`, false},
		{"2015-07-01", "", true},
		{"yesterday", "", true},
		{1436356721, "", true},
	}
	for _, tt := range tests {
		got, err := UnmarshalDateTime(tt.in)
		if (err != nil) != tt.wantErr {
			t.Fatalf("UnmarshalDateTime(%v) error = %v, wantErr %v", tt.in, err, tt.wantErr)
		}
		if err != nil {
			continue
		}
		var buf bytes.Buffer
		MarshalDateTime(got).MarshalGQL(&buf)
		if buf.String() != tt.want {
			t.Errorf("round trip of %v = %s, want %s", tt.in, buf.String(), tt.want)
		}
	}
	var buf bytes.Buffer
	MarshalDateTime(time.Date(2020, 1, 2, 3, 4, 5, 0, time.FixedZone("X", -3600))).MarshalGQL(&buf)
	if buf.String() != `"2020-01-02T04:04:05Z"` {
		t.Errorf("MarshalDateTime in another zone = %s", buf.String())
	}
	// Two instants of one second keep their order in the text.
	a, b := time.Date(2026, 4, 15, 9, 30, 12, 345e6, time.UTC), time.Date(2026, 4, 15, 9, 30, 12, 901e6, time.UTC)
	if fa, fb := FormatDateTime(a), FormatDateTime(b); fa >= fb {
		t.Errorf("FormatDateTime orders %s after %s", fa, fb)
	}
}
