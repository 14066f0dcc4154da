package redistest

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// keptLines is how many of go-redis's last log lines Main keeps to show
// when a test fails.
const keptLines = 50

// Main is the TestMain of a package whose tests use Redis:
//
//	func TestMain(m *testing.M) { redistest.Main(m) }
//
// go-redis logs some failures itself, on stderr, through one logger per
// process: a test that stops Redis on purpose makes its pools log "redis:
// connection pool: failed to dial …" by the hundred. Main installs a logger
// that keeps those lines out of the test output while the tests pass, and
// prints how many there were and the last keptLines of them after the
// tests when any test failed, next to the failure they may explain. A test
// that installs a logger of its own (the gateway's run does) replaces this
// one for the rest of the process.
func Main(m *testing.M) {
	l := QuietLogger()
	code := m.Run()
	if code != 0 {
		l.Report(os.Stderr)
	}
	os.Exit(code)
}

// LineLogger keeps go-redis's log lines: a count, and the last few.
type LineLogger struct {
	mu    sync.Mutex
	total int
	last  []string // oldest first, at most keptLines
}

// QuietLogger installs a new LineLogger as go-redis's logger and returns it.
func QuietLogger() *LineLogger {
	l := &LineLogger{}
	redis.SetLogger(l)
	return l
}

// Printf keeps one line of go-redis.
func (l *LineLogger) Printf(_ context.Context, format string, v ...any) {
	line := fmt.Sprintf(format, v...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total++
	if len(l.last) == keptLines {
		copy(l.last, l.last[1:])
		l.last = l.last[:keptLines-1]
	}
	l.last = append(l.last, line)
}

// Report writes how many lines go-redis logged and the last ones kept;
// nothing when it logged none.
func (l *LineLogger) Report(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.total == 0 {
		return
	}
	fmt.Fprintf(w, "go-redis logged %d line(s) during these tests (kept out of the output while they pass); the last %d:\n", l.total, len(l.last))
	for _, line := range l.last {
		fmt.Fprintf(w, "  %s\n", line)
	}
}
