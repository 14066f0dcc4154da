package hiring

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/workablegw/gateway/idempotency"
	"github.com/workablegw/gateway/workable"
)

// TestOnce: a key runs its write once and repeats get the stored outcome;
// another input under the key is ErrKeyReused; a write whose outcome is
// unknown keeps the key, and its repeats get ErrEarlierOutcomeUnknown
// without a second write; without a key every call writes.
func TestOnce(t *testing.T) {
	t.Parallel()
	unknown := fmt.Errorf("post: %w", workable.ErrOutcomeUnknown)
	tests := []struct {
		name      string
		key       string
		first     error // what the first write answers
		input2    string
		wantErr   error // of the second call
		wantSends int
	}{
		{"repeat", "k1", nil, "a", nil, 1},
		{"other input", "k2", nil, "b", idempotency.ErrKeyReused, 1},
		{"unknown outcome", "k3", unknown, "a", ErrEarlierOutcomeUnknown, 1},
		{"no key", "", nil, "a", nil, 2},
	}
	ws := Writes{Store: idempotency.NewMemoryStore(), TTL: idempotency.DefaultTTL}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sends := 0
			send := func(context.Context) (Outcome, error) {
				sends++
				if sends == 1 && tt.first != nil {
					return Outcome{}, tt.first
				}
				return Outcome{CommentID: fmt.Sprint("c", sends)}, nil
			}
			call := func(input string) (Outcome, bool, error) {
				return Once(context.Background(), ws, "ns", Write{Op: "comment", Key: tt.key, Input: input}, send)
			}
			first, replayed, err := call("a")
			if !errors.Is(err, tt.first) || replayed {
				t.Fatalf("first call: replayed %v, error %v, want %v", replayed, err, tt.first)
			}
			second, replayed, err := call(tt.input2)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("second call: error %v, want %v", err, tt.wantErr)
			}
			if sends != tt.wantSends {
				t.Errorf("%d writes, want %d", sends, tt.wantSends)
			}
			if tt.wantErr == nil && tt.key != "" && (!replayed || second.CommentID != first.CommentID) {
				t.Errorf("repeat = %+v (replayed %v), want the first outcome %+v replayed", second, replayed, first)
			}
		})
	}
}
