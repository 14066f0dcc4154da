package credentials

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// secretToken is distinctive enough that finding it in any output is a leak.
const secretToken = "sEcReT-t0ken-do-not-print-9f8e"

func testCredential() Credential {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok, msg := true, "connected to Groove Tech"
	return Credential{
		Nickname:        "acme-prod",
		Subdomain:       "groove-tech",
		Token:           secretToken,
		CreatedAt:       at,
		LastTestedAt:    &at,
		LastTestOK:      &ok,
		LastTestMessage: &msg,
	}
}

func TestTokenHint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		token, want string
	}{
		{"", ""},
		{"abc", "…****"},
		{"abcdefghijk", "…****"}, // 11 characters: too short to reveal four
		{"abcdefghijkl", "…ijkl"},
		{secretToken, "…9f8e"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("len%d", len(tt.token)), func(t *testing.T) {
			t.Parallel()
			if got := (Credential{Token: tt.token}).TokenHint(); got != tt.want {
				t.Errorf("TokenHint() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCredentialNeverPrintsToken(t *testing.T) {
	t.Parallel()
	c := testCredential()
	type holder struct{ C Credential }
	outputs := map[string]string{
		"String":     c.String(),
		"GoString":   c.GoString(),
		"%v":         fmt.Sprintf("%v", c),
		"%+v":        fmt.Sprintf("%+v", c),
		"%#v":        fmt.Sprintf("%#v", c),
		"%s":         fmt.Sprintf("%s", c),
		"%q":         fmt.Sprintf("%q", c),
		"%x":         fmt.Sprintf("%x", c),
		"%d":         fmt.Sprintf("%d", c),
		"pointer %v": fmt.Sprintf("%v", &c),
		"slice %v":   fmt.Sprintf("%v", []Credential{c}),
		"holder %+v": fmt.Sprintf("%+v", holder{c}),
		"holder %#v": fmt.Sprintf("%#v", holder{c}),
		"error":      fmt.Errorf("using %v: %w", c, errors.New("boom")).Error(),
	}
	for _, newHandler := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(newHandler(&buf)).Info("credential", "cred", c, "ptr", &c)
		outputs[fmt.Sprintf("slog %T", newHandler(&buf))] = buf.String()
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(js)
	jsList, err := json.Marshal(map[string]any{"list": []Credential{c}, "ptr": &c})
	if err != nil {
		t.Fatal(err)
	}
	outputs["json nested"] = string(jsList)

	for name, out := range outputs {
		if strings.Contains(out, secretToken) || strings.Contains(out, secretToken[:12]) {
			t.Errorf("%s output contains the token: %s", name, out)
		}
		if name != "%x" && !strings.Contains(out, "acme-prod") && !strings.Contains(out, "61636d652d70726f64") {
			t.Errorf("%s output lost the nickname: %s", name, out)
		}
	}
	if !strings.Contains(outputs["json"], `"tokenHint":"…9f8e"`) {
		t.Errorf("json has no token hint: %s", outputs["json"])
	}
	if !strings.Contains(outputs["slog *slog.JSONHandler"], "token_hint") {
		t.Errorf("slog output has no token hint: %s", outputs["slog *slog.JSONHandler"])
	}
}

func TestCredentialJSONFields(t *testing.T) {
	t.Parallel()
	js, err := json.Marshal(testCredential())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"nickname", "subdomain", "tokenHint", "createdAt", "lastTestedAt", "lastTestOk", "lastTestMessage", "isDefault"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, js)
		}
	}
	for k := range got {
		if strings.Contains(strings.ToLower(k), "token") && k != "tokenHint" {
			t.Errorf("JSON has field %q: %s", k, js)
		}
	}
}

func TestValidateNickname(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"simple", "acme", true},
		{"all classes", "Acme_prod-2", true},
		{"one char", "a", true},
		{"64 chars", strings.Repeat("n", 64), true},
		{"empty", "", false},
		{"65 chars", strings.Repeat("n", 65), false},
		{"space", "acme prod", false},
		{"dot", "acme.prod", false},
		{"colon", "acme:prod", false},
		{"slash", "acme/prod", false},
		{"unicode letter", "acmé", false},
		{"newline", "acme\n", false},
		{"nul", "acme\x00", false},
		{"invalid utf8", "acme\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateNickname(tt.in)
			checkValid(t, err, tt.ok, tt.in)
		})
	}
}

func TestValidateSubdomain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"simple", "groove-tech", true},
		{"digits", "acme2", true},
		{"one char", "a", true},
		{"63 chars", strings.Repeat("a", 63), true},
		{"empty", "", false},
		{"64 chars", strings.Repeat("a", 64), false},
		{"upper case", "Groove-Tech", false},
		{"leading hyphen", "-acme", false},
		{"trailing hyphen", "acme-", false},
		{"dot", "acme.workable", false},
		{"underscore", "acme_co", false},
		{"slash", "acme/../x", false},
		{"at", "user@acme", false},
		{"space", "acme co", false},
		{"unicode", "äcme", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkValid(t, ValidateSubdomain(tt.in), tt.ok, tt.in)
		})
	}
}

func TestValidateToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"typical", "3a4f1b2c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a", true},
		{"punctuation", "abc.def-ghi_jkl~123+/=", true},
		{"max length", strings.Repeat("t", MaxTokenLen), true},
		{"empty", "", false},
		{"too long", strings.Repeat("t", MaxTokenLen+1), false},
		{"space", "abc def", false},
		{"newline", "abc\r\nX-Evil: 1", false},
		{"tab", "abc\tdef", false},
		{"del", "abc\x7f", false},
		{"c1 control", "abc\u0085", false},
		{"invalid utf8", "abc\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateToken(tt.in)
			checkValid(t, err, tt.ok, "")
			if err != nil && tt.in != "" && strings.Contains(err.Error(), tt.in) {
				t.Errorf("error %q repeats the token", err)
			}
		})
	}
}

// checkValid checks err against ok: nil, or an ErrInvalid that does not
// repeat a non-trivial input.
func checkValid(t *testing.T, err error, ok bool, in string) {
	t.Helper()
	if ok {
		if err != nil {
			t.Errorf("got %v, want nil", err)
		}
		return
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v, want ErrInvalid", err)
	}
	if len(in) > 3 && strings.Contains(err.Error(), in) {
		t.Errorf("error %q repeats the input", err)
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{0xfb, 0xff, 0x01, 0x7e}, 8) // has '+' '/' in std, '-' '_' in URL base64
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"std", base64.StdEncoding.EncodeToString(key), true},
		{"std raw", base64.RawStdEncoding.EncodeToString(key), true},
		{"url", base64.URLEncoding.EncodeToString(key), true},
		{"url raw", base64.RawURLEncoding.EncodeToString(key), true},
		{"surrounding space", "  " + base64.StdEncoding.EncodeToString(key) + "\n", true},
		{"empty", "", false},
		{"blank", "   ", false},
		{"16 bytes", base64.StdEncoding.EncodeToString(key[:16]), false},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(key, 1)), false},
		{"hex", strings.Repeat("ab", 32), false},
		{"not base64", "this is not base64 at all!!", false},
		{"raw 32 chars", "0123456789abcdef0123456789abcdef", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseKey(tt.in)
			if tt.ok {
				if err != nil {
					t.Fatalf("ParseKey: %v", err)
				}
				if !bytes.Equal(got, key) {
					t.Errorf("ParseKey = %x, want %x", got, key)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseKey error = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), "CREDENTIALS_KEY") {
				t.Errorf("error %q does not name CREDENTIALS_KEY", err)
			}
			if v := strings.TrimSpace(tt.in); v != "" && strings.Contains(err.Error(), v) {
				t.Errorf("error %q echoes the value", err)
			}
		})
	}
}
