package telemetry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/redisconn/redistest"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestAPQRoundTripOnRedis runs the Apollo APQ protocol through gqlgen's
// extension with the Redis store: hash only → PersistedQueryNotFound, hash
// and query → answer (and stored), hash only → answer, also from a second
// replica sharing the Redis.
func TestAPQRoundTripOnRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	apq := extension.AutomaticPersistedQuery{Cache: NewAPQCache(srv.Client, srv.Prefix+"apq:", time.Hour)}
	replicaA := toyServer(t, newToySchema(), nil, apq)
	replicaB := toyServer(t, newToySchema(),
		nil, extension.AutomaticPersistedQuery{Cache: NewAPQCache(srv.NewClient(t), srv.Prefix+"apq:", time.Hour)})

	const query = `query Version { version }`
	hash := sha256Hex(query)
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}

	steps := []struct {
		name     string
		replica  string
		req      gqlRequest
		wantData string
		wantErr  string
	}{
		{"hash only: not found", "A", gqlRequest{Extensions: ext}, "", "PersistedQueryNotFound"},
		{"hash and query", "A", gqlRequest{Query: query, Extensions: ext}, `{"version":"1.0"}`, ""},
		{"hash only: found", "A", gqlRequest{Extensions: ext}, `{"version":"1.0"}`, ""},
		{"hash only on another replica", "B", gqlRequest{Extensions: ext}, `{"version":"1.0"}`, ""},
		{"hash of another query", "A", gqlRequest{Query: `{ version }`, Extensions: ext}, "", "provided APQ hash does not match query"},
	}
	for _, st := range steps {
		ts := replicaA
		if st.replica == "B" {
			ts = replicaB
		}
		_, resp := post(t, ts, st.req, nil)
		var gotErr string
		if len(resp.Errors) > 0 {
			gotErr = resp.Errors[0].Message
		}
		gotData := string(resp.Data)
		if gotData == "null" {
			gotData = ""
		}
		if gotData != st.wantData || gotErr != st.wantErr {
			t.Fatalf("%s: data %s, error %q; want data %s, error %q", st.name, gotData, gotErr, st.wantData, st.wantErr)
		}
	}

	ctx := context.Background()
	got, err := srv.Client.Get(ctx, srv.Prefix+"apq:"+hash).Result()
	if err != nil || got != query {
		t.Errorf("Redis %sapq:<hash> = %q, %v; want the query", srv.Prefix, got, err)
	}
	ttl, err := srv.Client.TTL(ctx, srv.Prefix+"apq:"+hash).Result()
	if err != nil || ttl <= 0 || ttl > time.Hour {
		t.Errorf("TTL = %v, %v; want within (0, 1h]", ttl, err)
	}
}

func TestAPQCacheLimits(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	c := NewAPQCache(srv.Client, srv.Prefix, 0) // default TTL
	ctx := context.Background()

	big := "{ version }" + strings.Repeat(" ", MaxAPQQueryBytes)
	small := "{ version }"
	tests := []struct {
		name  string
		hash  string
		query string
		want  bool
	}{
		{"stored", sha256Hex(small), small, true},
		{"too big: not stored", sha256Hex(big), big, false},
		{"not a SHA-256: not stored", "deadbeef", small, false},
		{"upper-case hex is not what gqlgen sends", strings.ToUpper(sha256Hex(small + " ")), small + " ", false},
		{"glob characters", strings.Repeat("*", 64), small, false},
		{"empty query", sha256Hex(""), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.Add(ctx, tt.hash, tt.query)
			got, ok := c.Get(ctx, tt.hash)
			if ok != tt.want || (ok && got != tt.query) {
				t.Errorf("Get = %q, %v; want found %v", got, ok, tt.want)
			}
		})
	}

	// A value over the cap that reached Redis some other way is not served.
	h := sha256Hex("other")
	if err := srv.Client.Set(ctx, srv.Prefix+h, big, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(ctx, h); ok {
		t.Error("Get served a value over MaxAPQQueryBytes")
	}
	ttl, err := srv.Client.TTL(ctx, srv.Prefix+sha256Hex(small)).Result()
	if err != nil || ttl <= time.Hour || ttl > DefaultAPQTTL {
		t.Errorf("default TTL = %v, %v; want about %v", ttl, err, DefaultAPQTTL)
	}
}

func TestAPQCacheRedisDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Mini(t) // stopped below, so always the embedded one
	c := NewAPQCache(srv.Client, srv.Prefix, time.Hour)
	ctx := context.Background()
	q := "{ version }"
	c.Add(ctx, sha256Hex(q), q)
	srv.Mini.Close()

	// Every call is a miss, without error or panic, and the protocol still
	// answers a request that carries the query.
	if _, ok := c.Get(ctx, sha256Hex(q)); ok {
		t.Error("Get with Redis down: want a miss")
	}
	c.Add(ctx, sha256Hex(q), q)

	ts := toyServer(t, newToySchema(), nil, extension.AutomaticPersistedQuery{Cache: c})
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha256Hex(q)}}
	_, resp := post(t, ts, gqlRequest{Query: q, Extensions: ext}, nil)
	if diff := cmp.Diff(`{"version":"1.0"}`, string(resp.Data)); diff != "" || len(resp.Errors) > 0 {
		t.Errorf("request with the query while Redis is down: data %s, errors %v", resp.Data, resp.Errors)
	}
}
