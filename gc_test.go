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
		{"both unset: the gateway's defaults", map[string]string{}, gcSettings{Percent: defaultGCPercent, DefaultLimit: true}},
		{"GOGC set: the runtime's", map[string]string{"GOGC": "100"}, gcSettings{DefaultLimit: true}},
		{"GOGC off: the runtime's", map[string]string{"GOGC": "off"}, gcSettings{DefaultLimit: true}},
		{"GOMEMLIMIT set: the runtime's", map[string]string{"GOMEMLIMIT": "512MiB"}, gcSettings{Percent: defaultGCPercent}},
		{"both set", map[string]string{"GOGC": "200", "GOMEMLIMIT": "1GiB"}, gcSettings{}},
		{"blank reads as unset", map[string]string{"GOGC": " ", "GOMEMLIMIT": ""}, gcSettings{Percent: defaultGCPercent, DefaultLimit: true}},
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

func TestDefaultMemoryLimit(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	tests := []struct {
		name       string
		cacheBytes int64
		memoryMax  string
		want       int64
	}{
		{"in-process cache and decoded tier, no cgroup", 96 * mib, "", 320 * mib},
		{"decoded tier only (Redis), no cgroup", 32 * mib, "", 192 * mib},
		{"no in-process cache", 0, "", 128 * mib},
		{"cgroup without limit", 96 * mib, "max\n", 320 * mib},
		{"large cgroup: the caches bound it", 96 * mib, "4294967296\n", 320 * mib},
		{"small cgroup: 3/4 of it", 96 * mib, "268435456\n", 192 * mib},
		{"zero cgroup limit ignored", 96 * mib, "0", 320 * mib},
		{"unreadable cgroup limit ignored", 96 * mib, "lots", 320 * mib},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := defaultMemoryLimit(tt.cacheBytes, tt.memoryMax); got != tt.want {
				t.Errorf("defaultMemoryLimit(%d, %q) = %d MiB, want %d MiB", tt.cacheBytes, tt.memoryMax, got/mib, tt.want/mib)
			}
		})
	}
}
