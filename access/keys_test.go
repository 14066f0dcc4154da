package access

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	readerKey = "reader-key-0123456789"
	writerKey = "writer-key-0123456789"
	adminKey  = "admin-key-01234567890"
)

// keyID is the principal id of key.
func keyID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:8]
}

// roles returns the role of each entry of k, by principal id.
func roles(k Keys) map[string]Role {
	out := map[string]Role{}
	for _, e := range k.entries {
		out[e.id] = e.role
	}
	return out
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		want      map[string]Role
		wantErr   string // a part of the error
		secret    string // must not appear in the error
		wantEmpty bool
	}{
		{name: "empty", in: "", wantEmpty: true},
		{name: "blank", in: "  \t ", wantEmpty: true},
		{name: "three roles", in: readerKey + ":reader," + writerKey + ":writer," + adminKey + ":admin",
			want: map[string]Role{keyID(readerKey): RoleReader, keyID(writerKey): RoleWriter, keyID(adminKey): RoleAdmin}},
		{name: "spaces trimmed, roles case-insensitive", in: "  " + readerKey + " : Reader ,\n" + adminKey + ":ADMIN ",
			want: map[string]Role{keyID(readerKey): RoleReader, keyID(adminKey): RoleAdmin}},
		{name: "a key may hold a colon", in: "abc:def:0123456789xyz:writer",
			want: map[string]Role{keyID("abc:def:0123456789xyz"): RoleWriter}},
		{name: "stray comma", in: readerKey + ":reader,", wantErr: "entry 2 is empty", secret: readerKey},
		{name: "empty entry in the middle", in: readerKey + ":reader, ," + adminKey + ":admin", wantErr: "entry 2 is empty", secret: readerKey},
		{name: "no role", in: readerKey, wantErr: "entry 1 has no role", secret: readerKey},
		{name: "empty key", in: " :reader", wantErr: "entry 1 has an empty key"},
		{name: "unknown role", in: readerKey + ":superuser", wantErr: "entry 1 has an unknown role", secret: readerKey},
		{name: "role none", in: readerKey + ":none", wantErr: "unknown role", secret: readerKey},
		{name: "pair written backwards", in: "writer:" + writerKey, wantErr: "unknown role", secret: writerKey},
		{name: "short keys of the README's example", in: "k3y-for-dashboards:reader,k3y-for-scripts:writer,k3y-for-ops:admin",
			want: map[string]Role{keyID("k3y-for-dashboards"): RoleReader, keyID("k3y-for-scripts"): RoleWriter, keyID("k3y-for-ops"): RoleAdmin}},
		{name: "one-character key", in: "x:reader", want: map[string]Role{keyID("x"): RoleReader}},
		{name: "key with a space", in: "0123456789 abcdefgh:reader", wantErr: "printable ASCII", secret: "0123456789 abcdefgh"},
		{name: "non-ASCII key", in: "clé-secrète-0123456789:reader", wantErr: "printable ASCII", secret: "secrète"},
		{name: "duplicate key", in: readerKey + ":reader," + adminKey + ":admin," + readerKey + ":admin", wantErr: "entries 1 and 3 have the same key", secret: readerKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParseKeys(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseKeys = %v, want an error containing %q", k, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
					t.Errorf("error %q echoes the key", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKeys: %v", err)
			}
			if k.Enabled() == tt.wantEmpty {
				t.Errorf("Enabled = %v, want %v", k.Enabled(), !tt.wantEmpty)
			}
			if tt.wantEmpty {
				return
			}
			if diff := cmp.Diff(tt.want, roles(k)); diff != "" {
				t.Errorf("roles by id (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKeysStringHidesKeys(t *testing.T) {
	t.Parallel()
	k, err := ParseKeys(readerKey + ":reader," + writerKey + ":writer," + adminKey + ":admin")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := k.String(), "3 API keys (reader 1, writer 1, admin 1)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got := k.GoString(); got != k.String() {
		t.Errorf("GoString = %q, want String", got)
	}
	if got, want := (Keys{}).String(), "no API keys (open, role writer)"; got != want {
		t.Errorf("String of no keys = %q, want %q", got, want)
	}
	if got := (Keys{}).WithOpenRole(RoleAdmin).OpenRole(); got != RoleAdmin {
		t.Errorf("OpenRole = %v, want admin", got)
	}
}

func TestRoleString(t *testing.T) {
	t.Parallel()
	got := []string{RoleNone.String(), RoleReader.String(), RoleWriter.String(), RoleAdmin.String(), Role(9).String()}
	want := []string{"none", "reader", "writer", "admin", "Role(9)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("role names (-want +got):\n%s", diff)
	}
	if !(RoleNone < RoleReader && RoleReader < RoleWriter && RoleWriter < RoleAdmin) {
		t.Error("roles are not ordered")
	}
}

// parseKeysMessages are ParseKeys's error texts with their digits removed:
// an error may only ever be one of them, so it can hold no text of the input.
var parseKeysMessages = map[string]bool{
	"parse API keys: entry  is empty (a stray comma?)":                                           true,
	"parse API keys: entry  has no role; write key:role":                                         true,
	"parse API keys: entry  has an empty key":                                                    true,
	"parse API keys: entry  has an unknown role; want reader, writer or admin":                   true,
	"parse API keys: the key of entry  holds a character other than printable ASCII (no spaces)": true,
	"parse API keys: entries  and  have the same key":                                            true,
}

var digits = regexp.MustCompile(`[0-9]+`)

// FuzzParseKeys checks that ParseKeys never panics, that its errors are
// always one of its fixed messages (so never echo the input), and that
// parsed keys authenticate with the role they were given.
func FuzzParseKeys(f *testing.F) {
	for _, seed := range []string{
		"", ",", ":", "::", " , ", readerKey + ":reader",
		readerKey + ":reader," + writerKey + ":writer," + adminKey + ":admin",
		readerKey + ":reader," + readerKey + ":writer",
		"short:admin", "writer:" + writerKey, "clé-secrète-0123456789:reader",
		"abc:def:0123456789xyz:writer", readerKey + ":READER ,",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKeys(s)
		if err != nil {
			if msg := digits.ReplaceAllString(err.Error(), ""); !parseKeysMessages[msg] {
				t.Fatalf("unexpected error text %q", err)
			}
			return
		}
		if k.Enabled() != (strings.TrimSpace(s) != "") {
			t.Fatalf("Enabled = %v for %q", k.Enabled(), s)
		}
		for _, entry := range strings.Split(s, ",") {
			if !k.Enabled() {
				break
			}
			i := strings.LastIndexByte(entry, ':')
			key := strings.TrimSpace(entry[:i])
			role, _ := parseRole(strings.TrimSpace(entry[i+1:]))
			e, ok := k.match(key)
			if !ok || e.role != role || e.id != keyID(key) {
				t.Fatalf("key of %q: match = %+v, %v; want role %v", entry, e, ok, role)
			}
			if strings.Contains(k.String(), key) {
				t.Fatalf("String %q shows a key", k.String())
			}
		}
	})
}

func TestKeysShort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"no keys", "", 0},
		{"long keys only", readerKey + ":reader," + adminKey + ":admin", 0},
		{"the README's example", "k3y-for-dashboards:reader,k3y-for-scripts:writer,k3y-for-ops:admin", 2},
		{"15 characters is short", "0123456789abcde:reader", 1},
		{"16 characters is not", "0123456789abcdef:reader", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParseKeys(tt.in)
			if err != nil {
				t.Fatalf("ParseKeys: %v", err)
			}
			if got := k.Short(); got != tt.want {
				t.Errorf("Short = %d, want %d", got, tt.want)
			}
			if strings.Contains(k.String(), "k3y") {
				t.Errorf("String %q shows a key", k.String())
			}
		})
	}
}
