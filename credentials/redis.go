package credentials

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisStore is a Store in Redis, shared by every gateway replica.
//
// All credentials live in one Redis hash, "<prefix>credentials:v1", whose
// field is the nickname and whose value is the record (nickname, subdomain,
// token, creation time, last test) as JSON sealed with AES-256-GCM: a
// version byte, a random 12-byte nonce, then the ciphertext, authenticated
// with prefix+nickname as additional data so a record cannot be moved to
// another nickname. Only the nicknames are readable without the key. One
// hash (a single key) keeps every operation on one cluster slot.
type RedisStore struct {
	rdb    redis.UniversalClient
	prefix string
	hash   string
	aead   cipher.AEAD // nil without a key
	// casSet replaces a field only if it still holds the expected value.
	casSet *redis.Script
}

var _ Store = (*RedisStore)(nil)

// recordVersion is the first byte of every sealed record.
const recordVersion byte = 1

// casRetries bounds how often RecordTest retries after a concurrent change.
const casRetries = 5

// casSetScript: KEYS[1] hash, ARGV[1] field, ARGV[2] expected value, ARGV[3]
// new value. Returns 1 when set, 0 when the field is gone, -1 when it holds
// another value.
const casSetScript = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
if cur ~= ARGV[2] then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`

// record is what is sealed in Redis.
type record struct {
	Nickname        string     `json:"n"`
	Subdomain       string     `json:"s"`
	Token           string     `json:"t"`
	CreatedAt       time.Time  `json:"c"`
	LastTestedAt    *time.Time `json:"lt,omitempty"`
	LastTestOK      *bool      `json:"lo,omitempty"`
	LastTestMessage *string    `json:"lm,omitempty"`
	MemberID        string     `json:"m,omitempty"`
}

// NewRedisStore returns a store on rdb (a single node, Sentinel or Cluster
// client) under keyPrefix, encrypting with key (32 bytes, see ParseKey).
//
// With a nil key the store holds nothing: Add fails with ErrNoEncryptionKey,
// List returns no credentials and Get, Remove and RecordTest ErrNotFound, so
// that a gateway without CREDENTIALS_KEY still serves its default credential.
func NewRedisStore(rdb redis.UniversalClient, keyPrefix string, key []byte) (*RedisStore, error) {
	if rdb == nil {
		return nil, errors.New("credentials: nil Redis client")
	}
	s := &RedisStore{
		rdb:    rdb,
		prefix: keyPrefix,
		hash:   keyPrefix + "credentials:v1",
		casSet: redis.NewScript(casSetScript),
	}
	if key == nil {
		return s, nil
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: the encryption key must be %d bytes, not %d", ErrInvalid, KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("credentials: create cipher: %w", err)
	}
	if s.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("credentials: create GCM: %w", err)
	}
	return s, nil
}

// Add stores c atomically (HSETNX); ErrAlreadyExists when its nickname is
// taken, ErrNoEncryptionKey without a key.
func (s *RedisStore) Add(ctx context.Context, c Credential) error {
	if s.aead == nil {
		return ErrNoEncryptionKey
	}
	if err := ValidateNickname(c.Nickname); err != nil {
		return fmt.Errorf("add credential: %w", err)
	}
	sealed, err := s.seal(c)
	if err != nil {
		return fmt.Errorf("add credential %q: %w", c.Nickname, err)
	}
	added, err := s.rdb.HSetNX(ctx, s.hash, c.Nickname, sealed).Result()
	if err != nil {
		return fmt.Errorf("add credential %q: redis: %w", c.Nickname, err)
	}
	if !added {
		return fmt.Errorf("add credential %q: %w", c.Nickname, ErrAlreadyExists)
	}
	return nil
}

// Get returns the credential with nickname; ErrNotFound when none, ErrWrongKey
// when its record cannot be decrypted.
func (s *RedisStore) Get(ctx context.Context, nickname string) (Credential, error) {
	c, _, err := s.get(ctx, nickname)
	if err != nil {
		return Credential{}, fmt.Errorf("get %w", err)
	}
	return c, nil
}

// get returns the credential and its sealed record as stored.
func (s *RedisStore) get(ctx context.Context, nickname string) (Credential, string, error) {
	if s.aead == nil || ValidateNickname(nickname) != nil {
		return Credential{}, "", credErr(nickname, ErrNotFound)
	}
	sealed, err := s.rdb.HGet(ctx, s.hash, nickname).Result()
	if errors.Is(err, redis.Nil) {
		return Credential{}, "", credErr(nickname, ErrNotFound)
	}
	if err != nil {
		return Credential{}, "", credErr(nickname, fmt.Errorf("redis: %w", err))
	}
	c, err := s.open(nickname, sealed)
	if err != nil {
		return Credential{}, "", credErr(nickname, err)
	}
	return c, sealed, nil
}

// List returns every credential, sorted by nickname. Records that cannot be
// decrypted are left out: List then returns the readable credentials
// together with an *UnreadableError naming the others (it matches
// ErrWrongKey), so that one broken record does not hide the rest.
func (s *RedisStore) List(ctx context.Context) ([]Credential, error) {
	if s.aead == nil {
		return []Credential{}, nil
	}
	all, err := s.rdb.HGetAll(ctx, s.hash).Result()
	if err != nil {
		return nil, fmt.Errorf("list credentials: redis: %w", err)
	}
	out := make([]Credential, 0, len(all))
	var unreadable UnreadableError
	for nickname, sealed := range all {
		c, err := s.open(nickname, sealed)
		if err != nil {
			unreadable.Count++
			if ValidateNickname(nickname) == nil {
				unreadable.Nicknames = append(unreadable.Nicknames, nickname)
			}
			continue
		}
		out = append(out, c)
	}
	sortByNickname(out)
	if unreadable.Count > 0 {
		slices.Sort(unreadable.Nicknames)
		return out, &unreadable
	}
	return out, nil
}

// Remove deletes the credential with nickname; ErrNotFound when none.
func (s *RedisStore) Remove(ctx context.Context, nickname string) error {
	if s.aead == nil || ValidateNickname(nickname) != nil {
		return notFound("remove", nickname)
	}
	n, err := s.rdb.HDel(ctx, s.hash, nickname).Result()
	if err != nil {
		return fmt.Errorf("remove credential %q: redis: %w", nickname, err)
	}
	if n == 0 {
		return notFound("remove", nickname)
	}
	return nil
}

// RecordTest saves the result of a test; ErrNotFound when there is no
// credential with nickname. The record is replaced only if nobody changed
// it meanwhile, so a test finishing after a Remove (or a Remove and a new
// Add under the same nickname) never brings back or overwrites a credential.
func (s *RedisStore) RecordTest(ctx context.Context, nickname string, ok bool, message string, at time.Time) error {
	for range casRetries {
		c, old, err := s.get(ctx, nickname)
		if err != nil {
			return fmt.Errorf("record test of %w", err)
		}
		sealed, err := s.seal(c.withTest(ok, message, at))
		if err != nil {
			return fmt.Errorf("record test of credential %q: %w", nickname, err)
		}
		res, err := s.casSet.Run(ctx, s.rdb, []string{s.hash}, nickname, old, sealed).Int()
		if err != nil {
			return fmt.Errorf("record test of credential %q: redis: %w", nickname, err)
		}
		switch res {
		case 1:
			return nil
		case 0:
			return notFound("record test of", nickname)
		}
		// -1: changed concurrently; read it again.
	}
	return fmt.Errorf("record test of credential %q: the record kept changing; try again", nickname)
}

// seal encrypts c as a record bound to its nickname.
func (s *RedisStore) seal(c Credential) (string, error) {
	plain, err := json.Marshal(record{
		Nickname:        c.Nickname,
		Subdomain:       c.Subdomain,
		Token:           c.Token,
		CreatedAt:       c.CreatedAt,
		LastTestedAt:    c.LastTestedAt,
		LastTestOK:      c.LastTestOK,
		LastTestMessage: c.LastTestMessage,
		MemberID:        c.MemberID,
	})
	if err != nil {
		// Not wrapped: the JSON error could quote a value.
		return "", errors.New("encode record")
	}
	out := make([]byte, 1, 1+s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	out[0] = recordVersion
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("make nonce: %w", err)
	}
	out = append(out, nonce...)
	out = s.aead.Seal(out, nonce, plain, s.aad(c.Nickname))
	return string(out), nil
}

// open decrypts the record stored under nickname.
func (s *RedisStore) open(nickname, sealed string) (Credential, error) {
	ns := s.aead.NonceSize()
	b := []byte(sealed)
	if len(b) < 1+ns+s.aead.Overhead() || b[0] != recordVersion {
		return Credential{}, ErrWrongKey
	}
	plain, err := s.aead.Open(nil, b[1:1+ns], b[1+ns:], s.aad(nickname))
	if err != nil {
		return Credential{}, ErrWrongKey
	}
	var r record
	if err := json.Unmarshal(plain, &r); err != nil || r.Nickname != nickname {
		return Credential{}, ErrWrongKey
	}
	return Credential{
		Nickname:        r.Nickname,
		Subdomain:       r.Subdomain,
		Token:           r.Token,
		CreatedAt:       r.CreatedAt,
		LastTestedAt:    r.LastTestedAt,
		LastTestOK:      r.LastTestOK,
		LastTestMessage: r.LastTestMessage,
		MemberID:        r.MemberID,
	}, nil
}

// aad is the additional authenticated data of nickname's record.
func (s *RedisStore) aad(nickname string) []byte {
	return []byte(s.prefix + nickname)
}
