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
		{"2015-07-01T00:00:00.5Z", `"2015-07-01T00:00:00Z"`, false},
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
}
