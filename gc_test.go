package main

import (
	"testing"
)

func TestLoadGCSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want gcSettings
	}{
		{"both unset: the gateway's defaults", map[string]string{}, gcSettings{Percent: defaultGCPercent, LimitFromCgroup: true}},
		{"GOGC set: the runtime's", map[string]string{"GOGC": "100"}, gcSettings{LimitFromCgroup: true}},
		{"GOGC off: the runtime's", map[string]string{"GOGC": "off"}, gcSettings{LimitFromCgroup: true}},
		{"GOMEMLIMIT set: the runtime's", map[string]string{"GOMEMLIMIT": "512MiB"}, gcSettings{Percent: defaultGCPercent}},
		{"both set", map[string]string{"GOGC": "200", "GOMEMLIMIT": "1GiB"}, gcSettings{}},
		{"blank reads as unset", map[string]string{"GOGC": " ", "GOMEMLIMIT": ""}, gcSettings{Percent: defaultGCPercent, LimitFromCgroup: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := loadGCSettings(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("loadGCSettings = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSoftMemoryLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, memoryMax string
		want            int64
		ok              bool
	}{
		{"a limit", "1073741824\n", 805306368, true},
		{"no limit", "max\n", 0, false},
		{"empty", "", 0, false},
		{"zero", "0", 0, false},
		{"garbage", "lots", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := softMemoryLimit(tt.memoryMax)
			if got != tt.want || ok != tt.ok {
				t.Errorf("softMemoryLimit(%q) = %d, %v; want %d, %v", tt.memoryMax, got, ok, tt.want, tt.ok)
			}
		})
	}
}
