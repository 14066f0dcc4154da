package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"time"
)

// SchemaVersion is part of every key. Bump it whenever the encoding of cached
// values changes, so that a new gateway never decodes an old value (old
// entries simply expire).
const SchemaVersion = "v2"

// keyRoot starts every key the gateway writes.
const keyRoot = "wgw"

// Namespace returns the key prefix of one Workable credential:
// "wgw:<SchemaVersion>:<fp>:", where fp is the hex of the first 16 bytes of
// SHA-256 over subdomain, a NUL byte and token. Two accounts, or two tokens of
// one account (which may see different data), never share a prefix, and the
// token itself never appears in a key.
func Namespace(subdomain, token string) string {
	h := sha256.New()
	h.Write([]byte(subdomain))
	h.Write([]byte{0})
	h.Write([]byte(token))
	sum := h.Sum(nil)
	return keyRoot + ":" + SchemaVersion + ":" + hex.EncodeToString(sum[:16]) + ":"
}

// Kind names one kind of cached data; it is part of the key and selects the
// TTLs.
type Kind string

// The kinds of data the gateway caches.
const (
	KindJob           Kind = "job"   // one job, by shortcode
	KindJobList       Kind = "jobs"  // one page of the jobs list, by query
	KindCandidate     Kind = "cand"  // one candidate's detail, by id
	KindCandidateList Kind = "cands" // one page of a candidates list, by query
	KindActivities    Kind = "acts"  // a candidate's activities, by candidate id
	// KindGeneration holds generation tokens: values that other entries
	// carry and that a write replaces, so that every entry made under the
	// old token stops counting at once (e.g. all cached candidate lists).
	KindGeneration Kind = "gen"
	// KindResponse holds whole GraphQL responses, by a hash of the request.
	KindResponse Kind = "resp"
)

// Key returns the key of one value: namespace + kind + ":" + id. The
// namespace comes from Namespace; id is whatever identifies the value within
// its kind (an id, a shortcode, or a canonical encoding of list options).
func Key(namespace string, kind Kind, id string) string {
	return namespace + string(kind) + ":" + id
}

// Jitter returns d moved by a uniformly random amount within ±frac of d
// (frac 0.1 → between 0.9·d and 1.1·d), so that entries written together do
// not all expire together. frac is clamped to [0, 1]; d ≤ 0 is returned as is.
func Jitter(d time.Duration, frac float64) time.Duration {
	if d <= 0 || frac <= 0 {
		return d
	}
	frac = min(frac, 1)
	f := 1 + frac*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}

// TTL is how long one kind of data stays fresh, and then stale but servable.
type TTL struct {
	Fresh time.Duration
	Stale time.Duration
	// Jitter is the fraction by which Item moves Fresh at random (see Jitter).
	Jitter float64
}

// Item returns the cache item for key and value under t, with a jittered
// fresh time.
func (t TTL) Item(key string, value []byte) Item {
	return Item{Key: key, Value: value, FreshFor: Jitter(t.Fresh, t.Jitter), StaleFor: t.Stale}
}

// TTLs holds the TTL of every kind of data. Start from DefaultTTLs and change
// the fields that need to differ.
type TTLs struct {
	Job           TTL
	JobList       TTL
	Candidate     TTL
	CandidateList TTL
	Activities    TTL
}

// Default durations used by DefaultTTLs.
const (
	DefaultStale  = time.Hour
	DefaultJitter = 0.1
)

// DefaultTTLs returns the default TTLs: jobs 5 min, job lists 1 min,
// candidate detail 2 min, candidate lists 30 s and activities 30 s fresh, each
// kept 1 h more as a stale fallback, with ±10% jitter.
func DefaultTTLs() TTLs {
	mk := func(fresh time.Duration) TTL {
		return TTL{Fresh: fresh, Stale: DefaultStale, Jitter: DefaultJitter}
	}
	return TTLs{
		Job:           mk(5 * time.Minute),
		JobList:       mk(time.Minute),
		Candidate:     mk(2 * time.Minute),
		CandidateList: mk(30 * time.Second),
		Activities:    mk(30 * time.Second),
	}
}

// For returns the TTL of kind k; an unknown kind gets the shortest default
// (candidate lists), which is the safe choice.
func (t TTLs) For(k Kind) TTL {
	switch k {
	case KindJob:
		return t.Job
	case KindJobList:
		return t.JobList
	case KindCandidate:
		return t.Candidate
	case KindCandidateList:
		return t.CandidateList
	case KindActivities:
		return t.Activities
	default:
		return t.CandidateList
	}
}
