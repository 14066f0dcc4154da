package credentials

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/workablegw/gateway/redisconn/redistest"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// storeFactories returns a fresh store of each kind per call.
func storeFactories() []struct {
	name string
	new  func(t *testing.T) Store
} {
	return []struct {
		name string
		new  func(t *testing.T) Store
	}{
		{"memory", func(*testing.T) Store { return NewMemoryStore() }},
		{"redis", func(t *testing.T) Store {
			rdb, prefix := redistest.Redis(t)
			s, err := NewRedisStore(rdb, prefix, newKey(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	}
}

func cred(nickname, subdomain, token string) Credential {
	return Credential{
		Nickname:  nickname,
		Subdomain: subdomain,
		Token:     token,
		CreatedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
	}
}

func TestStores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	testedAt := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)

	tests := []struct {
		name string
		run  func(t *testing.T, s Store)
	}{
		{"add then get", func(t *testing.T, s Store) {
			want := cred("acme", "acme-co", secretToken)
			mustAdd(t, s, want)
			got, err := s.Get(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Get (-want +got):\n%s", diff)
			}
		}},
		{"keeps the acting member", func(t *testing.T, s Store) {
			want := cred("acme", "acme-co", secretToken)
			want.MemberID = "13e0eb0e"
			mustAdd(t, s, want)
			got, err := s.Get(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Get (-want +got):\n%s", diff)
			}
		}},
		{"add existing nickname", func(t *testing.T, s Store) {
			mustAdd(t, s, cred("acme", "acme-co", "token-1-xxxxxxxx"))
			err := s.Add(ctx, cred("acme", "other-co", "token-2-xxxxxxxx"))
			if !errors.Is(err, ErrAlreadyExists) {
				t.Fatalf("second Add = %v, want ErrAlreadyExists", err)
			}
			got, _ := s.Get(ctx, "acme")
			if got.Subdomain != "acme-co" || got.Token != "token-1-xxxxxxxx" {
				t.Errorf("the first credential was replaced: %v", got)
			}
		}},
		{"add invalid nickname", func(t *testing.T, s Store) {
			if err := s.Add(ctx, cred("bad name", "acme-co", "t")); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Add = %v, want ErrInvalid", err)
			}
		}},
		{"unknown nickname", func(t *testing.T, s Store) {
			if _, err := s.Get(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get = %v, want ErrNotFound", err)
			}
			if err := s.Remove(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Remove = %v, want ErrNotFound", err)
			}
			if err := s.RecordTest(ctx, "nobody", true, "ok", testedAt); !errors.Is(err, ErrNotFound) {
				t.Errorf("RecordTest = %v, want ErrNotFound", err)
			}
			if _, err := s.Get(ctx, "no such\nname"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get(malformed) = %v, want ErrNotFound", err)
			}
		}},
		{"list sorted", func(t *testing.T, s Store) {
			empty, err := s.List(ctx)
			if err != nil || len(empty) != 0 {
				t.Fatalf("List of empty store = %v, %v", empty, err)
			}
			for _, n := range []string{"zeta", "Alpha", "beta", "alpha"} {
				mustAdd(t, s, cred(n, "acme-co", "token-"+n))
			}
			got, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range got {
				names = append(names, c.Nickname)
				if c.Token != "token-"+c.Nickname {
					t.Errorf("%s has token %q", c.Nickname, c.Token)
				}
			}
			if diff := cmp.Diff([]string{"Alpha", "alpha", "beta", "zeta"}, names); diff != "" {
				t.Errorf("List order (-want +got):\n%s", diff)
			}
		}},
		{"remove", func(t *testing.T, s Store) {
			mustAdd(t, s, cred("acme", "acme-co", "t1"))
			mustAdd(t, s, cred("keep", "acme-co", "t2"))
			if err := s.Remove(ctx, "acme"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, "acme"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get after Remove = %v, want ErrNotFound", err)
			}
			if err := s.Remove(ctx, "acme"); !errors.Is(err, ErrNotFound) {
				t.Errorf("second Remove = %v, want ErrNotFound", err)
			}
			if list, _ := s.List(ctx); len(list) != 1 || list[0].Nickname != "keep" {
				t.Errorf("List after Remove = %v", list)
			}
			// The nickname is free again.
			mustAdd(t, s, cred("acme", "new-co", "t3"))
		}},
		{"record test", func(t *testing.T, s Store) {
			c := cred("acme", "acme-co", secretToken)
			mustAdd(t, s, c)
			for _, r := range []struct {
				ok  bool
				msg string
			}{{false, "the token was rejected"}, {true, "connected to Acme"}} {
				if err := s.RecordTest(ctx, "acme", r.ok, r.msg, testedAt); err != nil {
					t.Fatal(err)
				}
				got, err := s.Get(ctx, "acme")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(c.withTest(r.ok, r.msg, testedAt), got); diff != "" {
					t.Errorf("after RecordTest (-want +got):\n%s", diff)
				}
			}
		}},
		{"record test after remove does not resurrect", func(t *testing.T, s Store) {
			mustAdd(t, s, cred("acme", "acme-co", "t1"))
			if err := s.Remove(ctx, "acme"); err != nil {
				t.Fatal(err)
			}
			if err := s.RecordTest(ctx, "acme", true, "ok", testedAt); !errors.Is(err, ErrNotFound) {
				t.Errorf("RecordTest = %v, want ErrNotFound", err)
			}
			if list, _ := s.List(ctx); len(list) != 0 {
				t.Errorf("List = %v, want empty", list)
			}
		}},
		{"results are copies", func(t *testing.T, s Store) {
			mustAdd(t, s, cred("acme", "acme-co", "t1"))
			if err := s.RecordTest(ctx, "acme", true, "ok", testedAt); err != nil {
				t.Fatal(err)
			}
			got, _ := s.Get(ctx, "acme")
			*got.LastTestOK, *got.LastTestMessage = false, "changed"
			again, _ := s.Get(ctx, "acme")
			if !*again.LastTestOK || *again.LastTestMessage != "ok" {
				t.Errorf("changing a returned credential changed the store: %v %q", *again.LastTestOK, *again.LastTestMessage)
			}
		}},
		{"concurrent adds of one nickname", func(t *testing.T, s Store) {
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					errs[i] = s.Add(ctx, cred("race", "acme-co", fmt.Sprintf("token-%d", i)))
				})
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, ErrAlreadyExists):
					t.Errorf("Add = %v", err)
				}
			}
			if won != 1 {
				t.Errorf("%d concurrent Adds succeeded, want 1", won)
			}
		}},
	}
	for _, f := range storeFactories() {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					tt.run(t, f.new(t))
				})
			}
		})
	}
}

func mustAdd(t *testing.T, s Store, c Credential) {
	t.Helper()
	if err := s.Add(context.Background(), c); err != nil {
		t.Fatalf("Add(%s): %v", c.Nickname, err)
	}
}

func TestRedisStoreEncryptsAtRest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := redistest.Redis(t)
	s, err := NewRedisStore(rdb, prefix, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	c := cred("acme", "groove-tech-secretsub", secretToken)
	mustAdd(t, s, c)
	if err := s.RecordTest(ctx, "acme", true, "connected to Groove Tech Ltd", time.Now()); err != nil {
		t.Fatal(err)
	}

	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("nothing was written under the prefix")
	}
	var raw strings.Builder
	for _, k := range keys {
		raw.WriteString(k)
		fields, err := rdb.HGetAll(ctx, k).Result()
		if err != nil {
			t.Fatalf("HGETALL %s: %v", k, err)
		}
		for f, v := range fields {
			raw.WriteString(f)
			raw.WriteString(v)
		}
	}
	for _, secret := range []string{secretToken, secretToken[:8], secretToken[len(secretToken)-8:], "groove-tech-secretsub", "Groove Tech Ltd"} {
		if strings.Contains(raw.String(), secret) {
			t.Errorf("raw Redis data contains %q", secret)
		}
	}

	// Two seals of the same credential differ (random nonce).
	a, err := s.seal(c)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.seal(c)
	if a == b {
		t.Error("two seals of one credential are identical")
	}
}

func TestRedisStoreWrongKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := redistest.Redis(t)
	right, err := NewRedisStore(rdb, prefix, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, right, cred("acme", "acme-co", secretToken))
	wrong, err := NewRedisStore(rdb, prefix, newKey(t))
	if err != nil {
		t.Fatal(err)
	}

	_, getErr := wrong.Get(ctx, "acme")
	_, listErr := wrong.List(ctx)
	recErr := wrong.RecordTest(ctx, "acme", true, "ok", time.Now())
	for name, err := range map[string]error{"Get": getErr, "List": listErr, "RecordTest": recErr} {
		if !errors.Is(err, ErrWrongKey) {
			t.Errorf("%s with the wrong key = %v, want ErrWrongKey", name, err)
			continue
		}
		if !strings.Contains(err.Error(), "CREDENTIALS_KEY") {
			t.Errorf("%s error %q does not point at CREDENTIALS_KEY", name, err)
		}
		if strings.Contains(err.Error(), secretToken) {
			t.Errorf("%s error contains the token", name)
		}
	}
	// The record is untouched and still opens with the right key.
	if got, err := right.Get(ctx, "acme"); err != nil || got.Token != secretToken || got.LastTestOK != nil {
		t.Errorf("right key Get = %v, %v", got, err)
	}
}

func TestRedisStoreRecordIsBoundToNickname(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := redistest.Redis(t)
	key := newKey(t)
	s, err := NewRedisStore(rdb, prefix, key)
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, s, cred("acme", "acme-co", secretToken))
	sealed, err := rdb.HGet(ctx, s.hash, "acme").Result()
	if err != nil {
		t.Fatal(err)
	}
	// A record copied to another nickname does not open.
	if err := rdb.HSet(ctx, s.hash, "intruder", sealed).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "intruder"); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Get of a moved record = %v, want ErrWrongKey", err)
	}
	// Nor does it under another prefix with the same key.
	other, err := NewRedisStore(rdb, prefix+"other:", key)
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, other.hash, "acme", sealed).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Get(ctx, "acme"); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Get under another prefix = %v, want ErrWrongKey", err)
	}
	// A damaged record does not open.
	if err := rdb.HSet(ctx, s.hash, "short", "x").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "short"); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Get of a damaged record = %v, want ErrWrongKey", err)
	}
}

func TestRedisStoreWithoutKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := redistest.Redis(t)
	keyed, err := NewRedisStore(rdb, prefix, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, keyed, cred("acme", "acme-co", "t1"))

	s, err := NewRedisStore(rdb, prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Add(ctx, cred("new", "acme-co", "t2"))
	if !errors.Is(err, ErrNoEncryptionKey) || !strings.Contains(err.Error(), "set CREDENTIALS_KEY") {
		t.Errorf("Add without key = %v, want ErrNoEncryptionKey saying to set CREDENTIALS_KEY", err)
	}
	if list, err := s.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("List without key = %v, %v; want empty", list, err)
	}
	if _, err := s.Get(ctx, "acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get without key = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, "acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove without key = %v, want ErrNotFound", err)
	}
	if _, err := keyed.Get(ctx, "acme"); err != nil {
		t.Errorf("the keyed record was disturbed: %v", err)
	}
}

func TestNewRedisStoreRejectsBadKey(t *testing.T) {
	t.Parallel()
	rdb, prefix := redistest.Redis(t)
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := NewRedisStore(rdb, prefix, make([]byte, n)); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewRedisStore with a %d-byte key = %v, want ErrInvalid", n, err)
		}
	}
	if _, err := NewRedisStore(nil, prefix, newKey(t)); err == nil {
		t.Error("NewRedisStore(nil client) succeeded")
	}
}

// TestRedisStoreListSkipsUnreadable: records that cannot be decrypted do not
// hide the readable ones: List returns those, with an *UnreadableError
// naming the others (never their content).
func TestRedisStoreListSkipsUnreadable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := redistest.Redis(t)
	old, err := NewRedisStore(rdb, prefix, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, old, cred("zeta", "zeta-co", secretToken))
	mustAdd(t, old, cred("alpha", "alpha-co", secretToken))
	s, err := NewRedisStore(rdb, prefix, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, s, cred("good", "good-co", "good-token-0123456789"))
	// A damaged record under a nickname no Store would write.
	if err := rdb.HSet(ctx, s.hash, "bad nick!", "x").Err(); err != nil {
		t.Fatal(err)
	}

	list, err := s.List(ctx)
	var names []string
	for _, c := range list {
		names = append(names, c.Nickname)
	}
	if diff := cmp.Diff([]string{"good"}, names); diff != "" {
		t.Errorf("readable credentials (-want +got):\n%s", diff)
	}
	var ue *UnreadableError
	if !errors.As(err, &ue) || !errors.Is(err, ErrWrongKey) {
		t.Fatalf("List error = %v, want an *UnreadableError matching ErrWrongKey", err)
	}
	if diff := cmp.Diff(&UnreadableError{Nicknames: []string{"alpha", "zeta"}, Count: 3}, ue); diff != "" {
		t.Errorf("UnreadableError (-want +got):\n%s", diff)
	}
	for _, secret := range []string{secretToken, "bad nick!", "alpha-co"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains %q", err, secret)
		}
	}
	if !strings.Contains(err.Error(), `"alpha", "zeta"`) || !strings.Contains(err.Error(), "CREDENTIALS_KEY") {
		t.Errorf("error %q should name the records and CREDENTIALS_KEY", err)
	}
}

// TestRedisStoreStoredFormat pins the sealed record kept in Redis: a record
// written before (a fixed blob, key and prefix) must still open to the same
// credential, and a record written now must hold the same JSON, so that the
// credentials of a running deployment survive an upgrade.
func TestRedisStoreStoredFormat(t *testing.T) {
	t.Parallel()
	rdb, _ := redistest.Redis(t)
	key := make([]byte, KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	// The AAD binds a record to its prefix and nickname: both are fixed.
	s, err := NewRedisStore(rdb, "gw:", key)
	if err != nil {
		t.Fatal(err)
	}
	tested := time.Date(2026, 3, 4, 5, 6, 7, 800000000, time.UTC)
	ok, msg := true, "token works"
	want := Credential{
		Nickname: "acme", Subdomain: "acme-inc", Token: "tok-0123456789abcdef",
		CreatedAt:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		LastTestedAt: &tested, LastTestOK: &ok, LastTestMessage: &msg, MemberID: "13e0eb0e",
	}
	const stored = "AaZCJA7jEz1GaRV1QFZSKA0Lka3rIg8aOG6A6I5NuLZU2EVSe/8Yr320PP0uqAzeEsBxAWVIWN2omlwMg388IH1usZn20GOlMvdIXVFtBfy1dkvzBOllew7dIwlLgoJbWenVjCZIdBlEEI7OLe+sW0NhHkgP8H1b3j7Otj/5ojdRqbzYeKJ23yvNqsf/e0WNMEZ8k2kkGFMO7WsQGaOULUucZf8FpHwuFpcdt5deysqb5aHOM+C5LA=="
	blob, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.open("acme", string(blob))
	if err != nil {
		t.Fatalf("open the stored record: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored record opens to another credential (-want +got):\n%s", diff)
	}

	sealed, err := s.seal(want)
	if err != nil {
		t.Fatal(err)
	}
	if sealed[0] != recordVersion {
		t.Fatalf("record version %d, want %d", sealed[0], recordVersion)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	ns := gcm.NonceSize()
	plain, err := gcm.Open(nil, []byte(sealed[1:1+ns]), []byte(sealed[1+ns:]), []byte("gw:acme"))
	if err != nil {
		t.Fatalf("decrypt a record written now: %v", err)
	}
	const wantJSON = `{"n":"acme","s":"acme-inc","t":"tok-0123456789abcdef","c":"2026-01-02T03:04:05Z",` +
		`"lt":"2026-03-04T05:06:07.8Z","lo":true,"lm":"token works","m":"13e0eb0e"}`
	if string(plain) != wantJSON {
		t.Errorf("a record written now holds\n%s\nwant\n%s", plain, wantJSON)
	}
}
