// Package access decides who may use the gateway: it parses the client API
// keys and their roles (GATEWAY_API_KEYS), authenticates each request with
// a bearer key, checks an operation's fields against the caller's role
// before any resolver runs, and answers browsers' CORS requests.
package access

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Role is what a client may do. Roles are ordered: each allows everything
// the lower ones allow.
type Role int

// The roles, lowest first.
const (
	// RoleNone allows nothing; it is the role of a request that did not go
	// through Middleware.
	RoleNone Role = iota
	// RoleReader allows queries.
	RoleReader
	// RoleWriter also allows candidate mutations.
	RoleWriter
	// RoleAdmin also allows managing Workable credentials.
	RoleAdmin
)

// String returns the role's name as written in GATEWAY_API_KEYS.
func (r Role) String() string {
	switch r {
	case RoleNone:
		return "none"
	case RoleReader:
		return "reader"
	case RoleWriter:
		return "writer"
	case RoleAdmin:
		return "admin"
	default:
		return fmt.Sprintf("Role(%d)", int(r))
	}
}

// parseRole returns the role named s (case-insensitively); "none" is not a
// role a key can have.
func parseRole(s string) (Role, bool) {
	switch strings.ToLower(s) {
	case "reader":
		return RoleReader, true
	case "writer":
		return RoleWriter, true
	case "admin":
		return RoleAdmin, true
	default:
		return RoleNone, false
	}
}

// MinKeyLength is the length, in characters, under which Keys.Short counts
// a key as short. ParseKeys accepts shorter keys (the README's example,
// "k3y-for-ops", has 11 characters), so that a configuration that works
// stays working; the gateway warns about them at startup instead, since a
// short key is easier to guess.
const MinKeyLength = 16

// Keys is the set of client API keys and their roles. Only the SHA-256 of
// each key is kept, and neither String nor GoString shows them, so a Keys
// can be logged. The zero Keys is disabled: the gateway is open.
type Keys struct {
	entries []keyEntry
	// openRole is the role every request gets when no key is configured;
	// RoleNone means the default, RoleWriter.
	openRole Role
	// short is the number of keys under MinKeyLength characters.
	short int
}

// keyEntry is one configured key.
type keyEntry struct {
	sum  [sha256.Size]byte
	role Role
	id   string
}

// ParseKeys parses GATEWAY_API_KEYS: comma-separated key:role pairs, roles
// reader, writer or admin, e.g.
// "k3y-for-dashboards:reader,k3y-for-scripts:writer,k3y-for-ops:admin".
// Space around keys, roles and pairs is trimmed; an empty or blank s gives
// disabled Keys. It rejects an empty entry (a stray comma included), an
// empty key, a key with a character other than printable ASCII (it could
// not travel in an Authorization header), an unknown role, and a key given
// twice. Any non-empty key is accepted, however short: Short counts those
// under MinKeyLength characters, for a startup warning. Errors name entries by
// position and never contain a key (nor the role text, which holds the key
// when the pair is written backwards).
func ParseKeys(s string) (Keys, error) {
	if strings.TrimSpace(s) == "" {
		return Keys{}, nil
	}
	var k Keys
	seen := map[[sha256.Size]byte]int{}
	for i, entry := range strings.Split(s, ",") {
		n := i + 1
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return Keys{}, fmt.Errorf("parse API keys: entry %d is empty (a stray comma?)", n)
		}
		// Roles hold no colon, so a key may.
		colon := strings.LastIndexByte(entry, ':')
		if colon < 0 {
			return Keys{}, fmt.Errorf("parse API keys: entry %d has no role; write key:role", n)
		}
		key := strings.TrimSpace(entry[:colon])
		roleText := strings.TrimSpace(entry[colon+1:])
		if key == "" {
			return Keys{}, fmt.Errorf("parse API keys: entry %d has an empty key", n)
		}
		role, ok := parseRole(roleText)
		if !ok {
			return Keys{}, fmt.Errorf("parse API keys: entry %d has an unknown role; want reader, writer or admin", n)
		}
		if !printableASCII(key) {
			return Keys{}, fmt.Errorf("parse API keys: the key of entry %d holds a character other than printable ASCII (no spaces)", n)
		}
		if len(key) < MinKeyLength {
			k.short++
		}
		sum := sha256.Sum256([]byte(key))
		if first, dup := seen[sum]; dup {
			return Keys{}, fmt.Errorf("parse API keys: entries %d and %d have the same key", first, n)
		}
		seen[sum] = n
		k.entries = append(k.entries, keyEntry{sum: sum, role: role, id: hex.EncodeToString(sum[:4])})
	}
	return k, nil
}

// printableASCII reports whether s holds only the characters '!' to '~'.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

// Enabled reports whether any key is configured, i.e. whether requests
// must authenticate.
func (k Keys) Enabled() bool { return len(k.entries) > 0 }

// Len returns the number of configured keys.
func (k Keys) Len() int { return len(k.entries) }

// Short returns the number of configured keys shorter than MinKeyLength
// characters. They work, but are easier to guess than a long random key
// (e.g. openssl rand -hex 32): the gateway should warn about them at
// startup, without naming them.
func (k Keys) Short() int { return k.short }

// WithOpenRole returns k with the role every request gets while no key is
// configured. The default is RoleWriter: queries and candidate mutations,
// but no credential management. Demo mode may grant RoleAdmin; it has no
// effect once keys are configured.
func (k Keys) WithOpenRole(r Role) Keys {
	k.openRole = r
	return k
}

// OpenRole returns the role every request gets while no key is configured.
func (k Keys) OpenRole() Role {
	if k.openRole == RoleNone {
		return RoleWriter
	}
	return k.openRole
}

// String describes k without any key, e.g. "3 API keys (reader 1, writer 1, admin 1)".
func (k Keys) String() string {
	if !k.Enabled() {
		return fmt.Sprintf("no API keys (open, role %s)", k.OpenRole())
	}
	var counts [RoleAdmin + 1]int
	for _, e := range k.entries {
		counts[e.role]++
	}
	return fmt.Sprintf("%d API keys (reader %d, writer %d, admin %d)",
		len(k.entries), counts[RoleReader], counts[RoleWriter], counts[RoleAdmin])
}

// GoString is String, so that %#v cannot print key hashes either.
func (k Keys) GoString() string { return k.String() }
