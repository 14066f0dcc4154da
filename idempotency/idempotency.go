// Package idempotency runs an operation at most once per idempotency key,
// so that a client retrying a write (createCandidate) never applies it twice.
//
// A Store's Do runs fn for the first request with a key and stores its
// result; a repeat within the TTL gets the stored result without running fn,
// and a concurrent repeat waits for the first. NewMemoryStore serves one
// process; NewRedisStore is shared by every gateway replica.
//
// # Keys
//
// Do's key must already be scoped to whoever may replay it: ScopedKey builds
// one from the credential's namespace (cache.Namespace, so two Workable
// accounts never share a key), the id of the gateway API key (so one client
// cannot replay another's result; "" when the gateway runs without keys) and
// the client's Idempotency-Key (checked with ValidateKey).
//
// # Fingerprints
//
// Do's fingerprint identifies the request input (Fingerprint of a canonical
// encoding, e.g. json.Marshal of the input struct). A repeat with the same key
// but another fingerprint is a client error: it gets ErrKeyReused (HTTP 409
// in spirit) and nothing runs.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// DefaultTTL is how long a result is kept in production: a repeat within
// 24 hours is answered from the store.
const DefaultTTL = 24 * time.Hour

// MaxKeyLen bounds a client's idempotency key.
const MaxKeyLen = 255

// Errors of Do; match them with errors.Is.
var (
	// ErrOutcomeUnknown marks an operation that may or may not have taken
	// effect (e.g. a create that timed out). fn returns an error matching it
	// (callers map workable.ErrOutcomeUnknown to it); the key then stays
	// locked for the TTL, and every repeat gets an error matching it, so that
	// a retrying client can never apply the operation twice.
	ErrOutcomeUnknown = errors.New("idempotency: outcome unknown")
	// ErrKeyReused means the key was used before with a different request
	// input (another fingerprint).
	ErrKeyReused = errors.New("idempotency: this idempotency key was already used with a different request")
	// ErrInvalidKey means a client's idempotency key is malformed.
	ErrInvalidKey = errors.New("idempotency: invalid idempotency key")
)

// Store runs operations at most once per key. Implementations are safe for
// concurrent use.
type Store interface {
	// Do runs fn once per key within ttl. The first caller runs fn; its
	// successful result is stored for ttl (DefaultTTL in production) and
	// returned with replayed false. A later caller with the same key and
	// fingerprint gets the stored result without running fn (replayed true);
	// a concurrent one waits for the first, as long as its own ctx allows,
	// and then gets its result.
	//
	// If fn fails, nothing is stored and the key is released, so a retry (or
	// a waiting caller) may run fn again; unless the error matches
	// ErrOutcomeUnknown: then the key stays locked as "unknown" for ttl, fn's
	// error is returned, and every repeat gets an error matching
	// ErrOutcomeUnknown (with replayed true: fn did not run).
	//
	// A caller whose fingerprint differs from the first caller's gets
	// ErrKeyReused. Pass the same fingerprint (e.g. "") to skip the check.
	Do(ctx context.Context, key, fingerprint string, ttl time.Duration, fn func(ctx context.Context) ([]byte, error)) (result []byte, replayed bool, err error)
}

// ValidateKey checks a client's idempotency key: 1–255 printable ASCII
// characters, no spaces. The error matches ErrInvalidKey and does not repeat
// the key.
func ValidateKey(clientKey string) error {
	if clientKey == "" || len(clientKey) > MaxKeyLen {
		return fmt.Errorf("%w: it must be 1 to %d characters long", ErrInvalidKey, MaxKeyLen)
	}
	for i := 0; i < len(clientKey); i++ {
		if c := clientKey[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("%w: it may only hold printable ASCII characters without spaces", ErrInvalidKey)
		}
	}
	return nil
}

// ScopedKey returns the key to pass to Do for a client's idempotency key:
// the hex SHA-256 of the credential namespace, the gateway API key's id and
// the client key, each length-prefixed so that no two different triples
// collide. Secrets never appear in it; apiKeyID should nevertheless be an id
// of the API key (e.g. a hash), not the key itself.
func ScopedKey(credentialNamespace, apiKeyID, clientKey string) string {
	h := sha256.New()
	for _, part := range []string{credentialNamespace, apiKeyID, clientKey} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Fingerprint returns the hex SHA-256 of a canonical encoding of a request's
// input, for Do's fingerprint.
func Fingerprint(input []byte) string {
	sum := sha256.Sum256(input)
	return hex.EncodeToString(sum[:])
}

// checkArgs validates Do's arguments.
func checkArgs(key string, ttl time.Duration, fn func(context.Context) ([]byte, error)) error {
	switch {
	case key == "":
		return errors.New("idempotency: empty key")
	case ttl <= 0:
		return errors.New("idempotency: ttl must be positive")
	case fn == nil:
		return errors.New("idempotency: nil function")
	}
	return nil
}

// replay answers a repeat from a finished first request.
func replay(storedFingerprint string, result []byte, unknown bool, fingerprint string) ([]byte, bool, error) {
	if storedFingerprint != fingerprint {
		return nil, false, ErrKeyReused
	}
	if unknown {
		return nil, true, errUnknownRepeat()
	}
	return bytes.Clone(result), true, nil
}

func errUnknownRepeat() error {
	return fmt.Errorf("idempotency: the first request with this key may or may not have been applied; "+
		"check before retrying with a new key: %w", ErrOutcomeUnknown)
}

func errWait(err error) error {
	return fmt.Errorf("idempotency: wait for the first request with this key: %w", err)
}
