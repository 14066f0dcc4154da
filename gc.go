package main

import (
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
)

// The garbage collector's defaults. Go's own (GOGC=100: collect whenever the
// heap has doubled since the last collection) suits a heap that is mostly
// long-lived data; the gateway's is mostly short-lived garbage of requests
// (decoded records, resolver results, response bytes), so it collects far
// more often than its memory needs. Measured on the record path (warm, 50
// connections, 2 cores): GOGC=400 raised the throughput by about a quarter
// and cut the CPU per request as much (see the README's figures).
//
// The price is a heap up to five times what it keeps alive, and what the
// gateway keeps alive is mostly its in-process caches: with them full,
// GOGC=400 alone raised a gateway's RSS from 191 to 449 MiB. So the
// gateway also sets a soft memory limit, sized from what its caches may
// hold: near the limit the collector runs as often as it must, whatever
// GOGC says, and a gateway that keeps little alive still collects rarely.
const (
	// defaultGCPercent is the GC percent the gateway sets when GOGC is
	// unset.
	defaultGCPercent = 400
	// cacheHeapFactor is what a byte of the in-process caches (counted
	// as they count: encoded) may take on the heap: the in-process
	// cache's index beside the bytes, the decoded tier's values beside
	// theirs.
	cacheHeapFactor = 2
	// heapHeadroom is the heap the soft memory limit allows beyond the
	// caches: requests in flight, their buffers, and room for GOGC to
	// collect rarely.
	heapHeadroom = 128 << 20
	// cgroupMemoryShare is the share of the cgroup's memory limit the soft
	// memory limit stays under: the rest is for what the Go heap does not
	// count (stacks, the binary, the kernel's buffers).
	cgroupMemoryShare = 0.75
	// cgroupMemoryMax is where cgroup v2 publishes the memory limit of the
	// process's group ("max" when there is none).
	cgroupMemoryMax = "/sys/fs/cgroup/memory.max"
)

// gcSettings is how the gateway tunes the collector at start. A setting the
// environment gives (GOGC, GOMEMLIMIT) is applied by the Go runtime itself
// and left alone here.
type gcSettings struct {
	// Percent is the GC percent to set; 0 leaves GOGC's.
	Percent int
	// DefaultLimit sets the soft memory limit (GOMEMLIMIT unset) to
	// defaultMemoryLimit.
	DefaultLimit bool
}

// loadGCSettings reads GOGC and GOMEMLIMIT: each one unset takes the
// gateway's default.
func loadGCSettings(getenv func(string) string) gcSettings {
	var s gcSettings
	if strings.TrimSpace(getenv("GOGC")) == "" {
		s.Percent = defaultGCPercent
	}
	s.DefaultLimit = strings.TrimSpace(getenv("GOMEMLIMIT")) == ""
	return s
}

// apply tunes the collector and logs what it set. cacheBytes is what the
// in-process caches may hold (their bounds); readFile reads the cgroup's
// memory limit (os.ReadFile).
func (s gcSettings) apply(logger *slog.Logger, cacheBytes int64, readFile func(string) ([]byte, error)) {
	var attrs []any
	if s.Percent != 0 {
		debug.SetGCPercent(s.Percent)
		attrs = append(attrs, "gogc", s.Percent)
	}
	if s.DefaultLimit {
		raw, err := readFile(cgroupMemoryMax)
		if err != nil {
			raw = nil
		}
		limit := defaultMemoryLimit(cacheBytes, string(raw))
		debug.SetMemoryLimit(limit)
		attrs = append(attrs, "gomemlimit", limit)
	}
	if len(attrs) > 0 {
		logger.Info("garbage collector tuned (GOGC and GOMEMLIMIT override)", attrs...)
	}
}

// defaultMemoryLimit returns the soft memory limit for in-process caches
// bounded to cacheBytes, in a cgroup whose cgroupMemoryMax reads memoryMax
// (empty: none): cacheHeapFactor times the caches plus heapHeadroom, and
// at most cgroupMemoryShare of the cgroup's limit when it states one.
func defaultMemoryLimit(cacheBytes int64, memoryMax string) int64 {
	limit := cacheHeapFactor*max(cacheBytes, 0) + heapHeadroom
	n, err := strconv.ParseInt(strings.TrimSpace(memoryMax), 10, 64)
	if err == nil && n > 0 {
		limit = min(limit, int64(float64(n)*cgroupMemoryShare))
	}
	return limit
}
