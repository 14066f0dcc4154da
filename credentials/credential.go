// Package credentials keeps the Workable credentials the gateway talks with:
// a nickname, the account's subdomain and an API token.
//
// A Store keeps the credentials added at run time (NewMemoryStore without
// Redis; NewRedisStore encrypts every record with AES-256-GCM). A Registry
// puts the default credential (from WORKABLE_SUBDOMAIN/WORKABLE_API_TOKEN,
// never stored) in front of a Store, validates input, hands out one
// workable.Client per credential, and tests credentials against Workable.
//
// A token is never shown again once added: Credential's String, GoString,
// Format, LogValue and MarshalJSON leave it out, and no error of this
// package contains one.
package credentials

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/workablegw/gateway/workable"
)

// DefaultNickname is the nickname of the default credential, the one built
// from WORKABLE_SUBDOMAIN and WORKABLE_API_TOKEN. It is reserved: no stored
// credential may use it.
const DefaultNickname = "default"

// Limits of the validated fields.
const (
	MaxNicknameLen = 64
	// MaxTokenLen bounds an API token; Workable's are far shorter.
	MaxTokenLen = 512
	// KeySize is the size of CREDENTIALS_KEY once decoded (AES-256).
	KeySize = 32
)

// Errors returned by stores and the Registry; match them with errors.Is.
var (
	// ErrNotFound means there is no credential with that nickname.
	ErrNotFound = errors.New("credentials: no such credential")
	// ErrAlreadyExists means a credential with that nickname exists.
	ErrAlreadyExists = errors.New("credentials: a credential with this nickname already exists")
	// ErrInvalid means a nickname, subdomain, token or key is malformed.
	ErrInvalid = errors.New("credentials: invalid input")
	// ErrNoEncryptionKey means a RedisStore without a key was asked to
	// store a credential.
	ErrNoEncryptionKey = errors.New("credentials: cannot store credentials without an encryption key: " +
		"set CREDENTIALS_KEY to 32 random bytes in base64 (for example the output of `openssl rand -base64 32`)")
	// ErrDefaultImmutable means the default credential, which comes from the
	// environment, was asked to be removed.
	ErrDefaultImmutable = errors.New("credentials: the default credential comes from WORKABLE_SUBDOMAIN " +
		"and WORKABLE_API_TOKEN and cannot be removed")
	// ErrWrongKey means a stored record cannot be decrypted: CREDENTIALS_KEY
	// is not the key the record was written with, or the record is damaged.
	ErrWrongKey = errors.New("credentials: cannot decrypt a stored credential: " +
		"CREDENTIALS_KEY is not the key it was stored with, or the record is damaged")
)

// UnreadableError is returned by List (of a RedisStore or a Registry)
// together with the credentials it could read, when some stored records
// cannot be decrypted: CREDENTIALS_KEY is not the key they were stored with,
// or they are damaged. It matches ErrWrongKey. Such records are left out of
// the list; they can still be removed by nickname.
type UnreadableError struct {
	// Nicknames are the nicknames of the unreadable records, sorted; a
	// record stored under a malformed nickname (which no Store writes) is
	// counted in Count but not named.
	Nicknames []string
	// Count is the number of unreadable records.
	Count int
}

// Error names the unreadable records by nickname (never their content).
func (e *UnreadableError) Error() string {
	names := ""
	if len(e.Nicknames) > 0 {
		names = " (" + strings.Join(quoteAll(e.Nicknames), ", ") + ")"
	}
	return fmt.Sprintf("credentials: %d stored credential(s)%s cannot be decrypted: "+
		"CREDENTIALS_KEY is not the key they were stored with, or the records are damaged", e.Count, names)
}

// Is makes an UnreadableError match ErrWrongKey.
func (e *UnreadableError) Is(target error) bool { return target == ErrWrongKey }

// quoteAll returns each of ss quoted with %q.
func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// Credential is one Workable account token under a nickname.
//
// Its String, GoString, Format and LogValue print a hint of the token
// (TokenHint) instead of the token, and MarshalJSON leaves it out, so that a
// Credential can be logged or printed safely. (A Credential held in an
// unexported field of another struct is printed by fmt without calling its
// methods: do not print such structs.)
type Credential struct {
	// Nickname identifies the credential: 1–64 of [A-Za-z0-9_-].
	Nickname string
	// Subdomain is the account's subdomain, e.g. "groove-tech".
	Subdomain string
	// Token is the API token. It is never printed or marshalled.
	Token string
	// CreatedAt is when the credential was added.
	CreatedAt time.Time
	// LastTestedAt, LastTestOK and LastTestMessage describe the last test
	// (Registry.Test); nil when it was never tested.
	LastTestedAt    *time.Time
	LastTestOK      *bool
	LastTestMessage *string
	// IsDefault marks the default credential (from the environment).
	IsDefault bool
	// MemberID is the acting member of the hiring actions made with this
	// credential when a request names none (Workable's actions need a
	// member_id, an id of GET /members); "" for none. It is an id, not a
	// secret, and is shown.
	MemberID string
}

// tokenHintMin is the shortest token whose last four characters TokenHint
// reveals; a shorter one would give away too large a part of it.
const tokenHintMin = 12

// TokenHint returns "…" and the last four characters of the token, e.g.
// "…abcd", so that a person can tell tokens apart. A token shorter than 12
// characters is fully masked ("…****"); an empty token gives "".
func (c Credential) TokenHint() string {
	n := utf8.RuneCountInString(c.Token)
	switch {
	case n == 0:
		return ""
	case n < tokenHintMin:
		return "…****"
	}
	r := []rune(c.Token)
	return "…" + string(r[len(r)-4:])
}

// String describes c without its token.
func (c Credential) String() string {
	return fmt.Sprintf("credential %q (subdomain %q, token %s)", c.Nickname, c.Subdomain, c.TokenHint())
}

// GoString is like String, in Go syntax, for %#v.
func (c Credential) GoString() string {
	return fmt.Sprintf("credentials.Credential{Nickname:%q, Subdomain:%q, Token:%q, IsDefault:%t}",
		c.Nickname, c.Subdomain, c.TokenHint(), c.IsDefault)
}

// Format makes every fmt verb print String (GoString for %#v): without it,
// verbs such as %d or %x would print the struct's fields, token included.
func (c Credential) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(c.GoString()))
		return
	}
	_, _ = f.Write([]byte(c.String()))
}

// LogValue logs c as a group without its token.
func (c Credential) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("nickname", c.Nickname),
		slog.String("subdomain", c.Subdomain),
		slog.String("token_hint", c.TokenHint()),
		slog.Bool("is_default", c.IsDefault),
		slog.String("member_id", c.MemberID),
	)
}

// publicJSON is Credential as JSON, without the token.
type publicJSON struct {
	Nickname        string     `json:"nickname"`
	Subdomain       string     `json:"subdomain"`
	TokenHint       string     `json:"tokenHint"`
	CreatedAt       time.Time  `json:"createdAt"`
	LastTestedAt    *time.Time `json:"lastTestedAt,omitempty"`
	LastTestOK      *bool      `json:"lastTestOk,omitempty"`
	LastTestMessage *string    `json:"lastTestMessage,omitempty"`
	IsDefault       bool       `json:"isDefault"`
	MemberID        string     `json:"memberId,omitempty"`
}

// MarshalJSON encodes c without its token (with its TokenHint instead).
func (c Credential) MarshalJSON() ([]byte, error) {
	return json.Marshal(publicJSON{
		Nickname:        c.Nickname,
		Subdomain:       c.Subdomain,
		TokenHint:       c.TokenHint(),
		CreatedAt:       c.CreatedAt,
		LastTestedAt:    c.LastTestedAt,
		LastTestOK:      c.LastTestOK,
		LastTestMessage: c.LastTestMessage,
		IsDefault:       c.IsDefault,
		MemberID:        c.MemberID,
	})
}

// clone returns a copy of c that shares no pointers with it.
func (c Credential) clone() Credential {
	if c.LastTestedAt != nil {
		t := *c.LastTestedAt
		c.LastTestedAt = &t
	}
	if c.LastTestOK != nil {
		ok := *c.LastTestOK
		c.LastTestOK = &ok
	}
	if c.LastTestMessage != nil {
		m := *c.LastTestMessage
		c.LastTestMessage = &m
	}
	return c
}

// withTest returns c with the result of a test.
func (c Credential) withTest(ok bool, message string, at time.Time) Credential {
	c.LastTestedAt, c.LastTestOK, c.LastTestMessage = &at, &ok, &message
	return c
}

// ValidateNickname checks that s is 1–64 letters, digits, '-' or '_'. The
// error matches ErrInvalid and does not repeat s.
func ValidateNickname(s string) error {
	if s == "" || len(s) > MaxNicknameLen {
		return fmt.Errorf("%w: a nickname must be 1 to %d characters long", ErrInvalid, MaxNicknameLen)
	}
	for i := 0; i < len(s); i++ {
		if !isNicknameByte(s[i]) {
			return fmt.Errorf("%w: a nickname may only hold letters, digits, '-' and '_'", ErrInvalid)
		}
	}
	return nil
}

func isNicknameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

// ValidateSubdomain checks that s is a lower-case DNS label (RFC 1123): 1–63
// of [a-z0-9-], neither starting nor ending with '-'. The error matches
// ErrInvalid and does not repeat s.
func ValidateSubdomain(s string) error {
	if s == "" || len(s) > 63 {
		return fmt.Errorf("%w: a subdomain must be 1 to 63 characters long", ErrInvalid)
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-') {
			return fmt.Errorf("%w: a subdomain may only hold lower-case letters, digits and '-'", ErrInvalid)
		}
	}
	if s[0] == '-' || s[len(s)-1] == '-' {
		return fmt.Errorf("%w: a subdomain cannot start or end with '-'", ErrInvalid)
	}
	return nil
}

// ValidateToken checks that s could be an API token: 1–512 printable
// characters without spaces (anything else would corrupt the Authorization
// header). The error matches ErrInvalid and never contains s.
func ValidateToken(s string) error {
	if s == "" {
		return fmt.Errorf("%w: the API token is empty", ErrInvalid)
	}
	if len(s) > MaxTokenLen {
		return fmt.Errorf("%w: the API token is longer than %d characters", ErrInvalid, MaxTokenLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: the API token is not valid UTF-8", ErrInvalid)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return fmt.Errorf("%w: the API token contains spaces or control characters", ErrInvalid)
		}
	}
	return nil
}

// ValidateMemberID checks an acting member's id: "" (none), or an id by
// Workable's one rule for identifiers (workable.ValidID). The error
// matches ErrInvalid and does not repeat s.
func ValidateMemberID(s string) error {
	if s != "" && !workable.ValidID(s) {
		return fmt.Errorf("%w: a member id must be 1 to %d ASCII letters, digits, hyphens or underscores", ErrInvalid, workable.MaxIDLen)
	}
	return nil
}

// ParseKey decodes CREDENTIALS_KEY: 32 bytes in standard or URL-safe base64,
// padded or not; surrounding white space is ignored. The error matches
// ErrInvalid and never contains the value.
func ParseKey(b64 string) ([]byte, error) {
	s := strings.TrimSpace(b64)
	if s == "" {
		return nil, fmt.Errorf("%w: CREDENTIALS_KEY is empty", ErrInvalid)
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		key, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("%w: CREDENTIALS_KEY must decode to %d bytes, not %d "+
				"(generate one with `openssl rand -base64 32`)", ErrInvalid, KeySize, len(key))
		}
		return key, nil
	}
	return nil, fmt.Errorf("%w: CREDENTIALS_KEY is not valid base64 "+
		"(generate one with `openssl rand -base64 32`)", ErrInvalid)
}
