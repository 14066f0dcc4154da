package credentials

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Store keeps the credentials added at run time. Stores do not validate
// subdomains or tokens (the Registry does) but refuse malformed nicknames.
// Every method is safe for concurrent use.
type Store interface {
	// Add stores c; ErrAlreadyExists when its nickname is taken.
	Add(ctx context.Context, c Credential) error
	// Get returns the credential with nickname; ErrNotFound when none.
	Get(ctx context.Context, nickname string) (Credential, error)
	// List returns every credential, sorted by nickname. A store that
	// cannot read some records returns the others together with an
	// *UnreadableError (see RedisStore.List).
	List(ctx context.Context) ([]Credential, error)
	// Remove deletes the credential with nickname; ErrNotFound when none.
	Remove(ctx context.Context, nickname string) error
	// RecordTest saves the result of a test of the credential with
	// nickname; ErrNotFound when none.
	RecordTest(ctx context.Context, nickname string, ok bool, message string, at time.Time) error
}

// MemoryStore is a Store in process memory, for a gateway without Redis:
// its credentials are lost on restart and not shared between replicas.
type MemoryStore struct {
	mu    sync.Mutex
	creds map[string]Credential
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{creds: make(map[string]Credential)}
}

// Add stores c; ErrAlreadyExists when its nickname is taken.
func (s *MemoryStore) Add(_ context.Context, c Credential) error {
	if err := ValidateNickname(c.Nickname); err != nil {
		return fmt.Errorf("add credential: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.creds[c.Nickname]; ok {
		return fmt.Errorf("add credential %q: %w", c.Nickname, ErrAlreadyExists)
	}
	s.creds[c.Nickname] = c.clone()
	return nil
}

// Get returns the credential with nickname; ErrNotFound when none.
func (s *MemoryStore) Get(_ context.Context, nickname string) (Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creds[nickname]
	if !ok {
		return Credential{}, notFound("get", nickname)
	}
	return c.clone(), nil
}

// List returns every credential, sorted by nickname.
func (s *MemoryStore) List(_ context.Context) ([]Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Credential, 0, len(s.creds))
	for _, c := range s.creds {
		out = append(out, c.clone())
	}
	sortByNickname(out)
	return out, nil
}

// Remove deletes the credential with nickname; ErrNotFound when none.
func (s *MemoryStore) Remove(_ context.Context, nickname string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.creds[nickname]; !ok {
		return notFound("remove", nickname)
	}
	delete(s.creds, nickname)
	return nil
}

// RecordTest saves the result of a test; ErrNotFound when there is no
// credential with nickname.
func (s *MemoryStore) RecordTest(_ context.Context, nickname string, ok bool, message string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, found := s.creds[nickname]
	if !found {
		return notFound("record test of", nickname)
	}
	s.creds[nickname] = c.withTest(ok, message, at)
	return nil
}

func sortByNickname(cs []Credential) {
	slices.SortFunc(cs, func(a, b Credential) int { return cmp.Compare(a.Nickname, b.Nickname) })
}

// notFound returns ErrNotFound for an operation on nickname.
func notFound(op, nickname string) error {
	return fmt.Errorf("%s %w", op, credErr(nickname, ErrNotFound))
}

// credErr wraps err with the nickname it is about; a malformed nickname
// (which may come straight from a request header) is not repeated.
func credErr(nickname string, err error) error {
	if ValidateNickname(nickname) != nil {
		return fmt.Errorf("credential: %w", err)
	}
	return fmt.Errorf("credential %q: %w", nickname, err)
}
