package cache

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNamespace(t *testing.T) {
	shape := regexp.MustCompile(`^wgw:` + SchemaVersion + `:[0-9a-f]{32}:$`)
	tests := []struct {
		name       string
		a, b       [2]string // (subdomain, token) pairs
		wantSame   bool
		secretPart string
	}{
		{"same credential", [2]string{"acme", "s3cret-token"}, [2]string{"acme", "s3cret-token"}, true, "s3cret-token"},
		{"other token", [2]string{"acme", "s3cret-token"}, [2]string{"acme", "other-token"}, false, "s3cret-token"},
		{"other account", [2]string{"acme", "s3cret-token"}, [2]string{"globex", "s3cret-token"}, false, "s3cret-token"},
		// Without the NUL separator "ab"+"c" and "a"+"bc" would collide.
		{"separator", [2]string{"ab", "c"}, [2]string{"a", "bc"}, false, "bc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			na, nb := Namespace(tt.a[0], tt.a[1]), Namespace(tt.b[0], tt.b[1])
			for _, n := range []string{na, nb} {
				if !shape.MatchString(n) {
					t.Errorf("Namespace = %q, want the shape %s", n, shape)
				}
				if strings.Contains(n, tt.secretPart) {
					t.Errorf("Namespace %q contains the token", n)
				}
			}
			if (na == nb) != tt.wantSame {
				t.Errorf("Namespace(%q) = %q, Namespace(%q) = %q; same = %v, want %v", tt.a, na, tt.b, nb, na == nb, tt.wantSame)
			}
		})
	}
}

func TestKey(t *testing.T) {
	ns := Namespace("acme", "tok")
	if got, want := Key(ns, KindCandidate, "c1"), ns+"cand:c1"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
	if Key(ns, KindJob, "x") == Key(ns, KindJobList, "x") {
		t.Error("two kinds share a key")
	}
}

func TestJitter(t *testing.T) {
	tests := []struct {
		name     string
		d        time.Duration
		frac     float64
		min, max time.Duration
	}{
		{"ten percent", time.Minute, 0.1, 54 * time.Second, 66 * time.Second},
		{"no jitter", time.Minute, 0, time.Minute, time.Minute},
		{"negative frac", time.Minute, -1, time.Minute, time.Minute},
		{"frac clamped to 1", time.Minute, 5, 0, 2 * time.Minute},
		{"zero duration", 0, 0.1, 0, 0},
		{"negative duration", -time.Second, 0.1, -time.Second, -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[time.Duration]bool{}
			for range 200 {
				got := Jitter(tt.d, tt.frac)
				if got < tt.min || got > tt.max {
					t.Fatalf("Jitter(%v, %v) = %v, want in [%v, %v]", tt.d, tt.frac, got, tt.min, tt.max)
				}
				seen[got] = true
			}
			if tt.min != tt.max && len(seen) < 2 {
				t.Errorf("Jitter(%v, %v) always returned the same value", tt.d, tt.frac)
			}
		})
	}
}

func TestDefaultTTLs(t *testing.T) {
	ttls := DefaultTTLs()
	tests := []struct {
		kind Kind
		want TTL
	}{
		{KindJob, TTL{Fresh: 5 * time.Minute, Stale: time.Hour, Jitter: 0.1}},
		{KindJobList, TTL{Fresh: time.Minute, Stale: time.Hour, Jitter: 0.1}},
		{KindCandidate, TTL{Fresh: 2 * time.Minute, Stale: time.Hour, Jitter: 0.1}},
		{KindCandidateList, TTL{Fresh: 30 * time.Second, Stale: time.Hour, Jitter: 0.1}},
		{KindActivities, TTL{Fresh: 30 * time.Second, Stale: time.Hour, Jitter: 0.1}},
		{Kind("unknown"), TTL{Fresh: 30 * time.Second, Stale: time.Hour, Jitter: 0.1}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ttls.For(tt.kind)); diff != "" {
				t.Errorf("For(%q) (-want +got):\n%s", tt.kind, diff)
			}
		})
	}

	t.Run("configurable", func(t *testing.T) {
		ttls := DefaultTTLs()
		ttls.Job = TTL{Fresh: time.Second, Stale: 2 * time.Second}
		it := ttls.For(KindJob).Item("k", []byte("v"))
		want := Item{Key: "k", Value: []byte("v"), FreshFor: time.Second, StaleFor: 2 * time.Second}
		if diff := cmp.Diff(want, it); diff != "" {
			t.Errorf("Item (-want +got):\n%s", diff)
		}
	})

	t.Run("item jitters fresh time", func(t *testing.T) {
		ttl := DefaultTTLs().Candidate
		it := ttl.Item("k", nil)
		if it.FreshFor < 108*time.Second || it.FreshFor > 132*time.Second || it.StaleFor != time.Hour {
			t.Errorf("Item = %+v, want FreshFor 2m±10%% and StaleFor 1h", it)
		}
	})
}
