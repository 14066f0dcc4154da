package redistest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) { Main(m) }

// childEnv makes the test binary run TestGoRedisLogChild as a child of
// TestGoRedisLinesShowOnlyWithFailures; its value is "pass" or "fail".
const childEnv = "REDISTEST_LOG_CHILD"

// TestGoRedisLogChild dials a closed port, which makes go-redis log a
// "failed to dial" line, then passes or fails as childEnv says.
func TestGoRedisLogChild(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("runs only as the child of TestGoRedisLinesShowOnlyWithFailures")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, DialerRetries: 1, MaxRetries: -1})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("ping of a closed port succeeded")
	}
	if mode == "fail" {
		t.Fatal("failing on purpose")
	}
}

// TestGoRedisLinesShowOnlyWithFailures: under Main, go-redis's own lines
// stay out of the output of tests that pass (even with -test.v), and are
// printed, counted, when a test fails.
func TestGoRedisLinesShowOnlyWithFailures(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode     string
		wantLine bool
	}{
		{"pass", false},
		{"fail", true},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestGoRedisLogChild$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), childEnv+"="+tt.mode)
			out, err := cmd.CombinedOutput()
			if (err == nil) != (tt.mode == "pass") {
				t.Fatalf("child (%s) = %v:\n%s", tt.mode, err, out)
			}
			gotLine := strings.Contains(string(out), "failed to dial")
			gotCount := strings.Contains(string(out), "go-redis logged 1 line(s)")
			if gotLine != tt.wantLine || gotCount != tt.wantLine {
				t.Errorf("child (%s) output shows go-redis's line: %v, its count: %v; want %v:\n%s", tt.mode, gotLine, gotCount, tt.wantLine, out)
			}
		})
	}
}
