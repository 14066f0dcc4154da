package graph

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/credentials"
	"github.com/workablegw/gateway/graph/model"
	"github.com/workablegw/gateway/redisconn/redistest"
	"github.com/workablegw/gateway/workable/simulator"
)

// Tests of the per-request credential (X-Workable-Credential) and of the
// credential fields, over the real handler with access control on.

// The API keys of the credential tests (GATEWAY_API_KEYS format).
const (
	readerKey = "reader-key-0000000001"
	writerKey = "writer-key-0000000001"
	adminKey  = "admin-key-00000000001"
	testKeys  = readerKey + ":reader," + writerKey + ":writer," + adminKey + ":admin"

	// betaSubdomain and betaToken are the second Workable account's.
	betaSubdomain = "beta-corp"
	betaToken     = "beta-token-0123456789abcd"
)

// credEnv is a gateway with a credential registry in front of two
// simulators: the default credential reads simulator "groove-tech" (env.sim)
// and credentials with subdomain betaSubdomain read simB, whose data
// differ.
type credEnv struct {
	*testEnv
	simB     *simulator.Simulator
	registry *credentials.Registry
	// raw collects every response body, to check no token leaks.
	mu  sync.Mutex
	raw []string
}

// newCredEnv starts the two simulators and a gateway with Credentials,
// AccessRules and a shared in-process cache with the response cache on.
func newCredEnv(t *testing.T, store credentials.Store) *credEnv {
	t.Helper()
	return newCredEnvWithMember(t, store, "")
}

// newCredEnvWithMember is newCredEnv whose default credential has the
// default acting member memberID (WORKABLE_MEMBER_ID).
func newCredEnvWithMember(t *testing.T, store credentials.Store, memberID string) *credEnv {
	t.Helper()
	simB := simulator.New(simulator.WithSubdomain(betaSubdomain), simulator.WithSeed(99),
		simulator.WithToken(betaToken), simulator.WithCandidates(30))
	srvB := httptest.NewServer(simB.Handler())
	t.Cleanup(srvB.Close)
	keys, err := access.ParseKeys(testKeys)
	if err != nil {
		t.Fatal(err)
	}
	if store == nil {
		store = credentials.NewMemoryStore()
	}
	ce := &credEnv{simB: simB}
	ce.testEnv = newTestEnv(t, withSimOptions(simulator.WithCandidates(30)),
		withCache(cache.NewMemory(16<<20), "test:"), withResponseCache(), withMemberID(memberID),
		withCredentialStore(store), withAccount(betaSubdomain, srvB.URL+"/spi/v3/"),
		withHandler(func(c Config) http.Handler {
			c.AccessRules = access.DefaultRules()
			return access.Middleware(keys, NewHandler(c))
		}))
	ce.registry = ce.testEnv.registry
	return ce
}

// do sends a GraphQL request with the API key and, unless "", the
// credential header.
func (ce *credEnv) do(key, credential, q string, v vars) gqlResponse {
	ce.t.Helper()
	body, err := json.Marshal(map[string]any{"query": q, "variables": v})
	if err != nil {
		ce.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, ce.srv.URL+"/query", bytes.NewReader(body))
	if err != nil {
		ce.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if credential != "" {
		req.Header.Set(credentials.Header, credential)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ce.t.Fatalf("POST /query: %v", err)
	}
	defer resp.Body.Close()
	out := ce.decode(resp)
	ce.mu.Lock()
	ce.raw = append(ce.raw, out.Raw)
	ce.mu.Unlock()
	return out
}

// mustDo is do for a request that must succeed; it decodes data into out.
func (ce *credEnv) mustDo(key, credential, q string, v vars, out any) {
	ce.t.Helper()
	resp := ce.do(key, credential, q, v)
	if resp.Status != http.StatusOK || len(resp.Errors) > 0 {
		ce.t.Fatalf("request failed (%d): %s\nquery: %s", resp.Status, resp.Raw, q)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Data, out); err != nil {
			ce.t.Fatalf("decode %s: %v", resp.Data, err)
		}
	}
}

const (
	addCredential = `mutation($in: AddWorkableCredentialInput!) { addWorkableCredential(input: $in) {
		credential { nickname subdomain tokenHint createdAt isDefault lastTestOk } userErrors { field message code } } }`
	testCredential = `mutation($n: String!) { testWorkableCredential(nickname: $n) {
		ok accountName message testedAt credential { nickname lastTestedAt lastTestOk lastTestMessage } } }`
	removeCredential = `mutation($n: String!) { removeWorkableCredential(nickname: $n) { removed userErrors { field message code } } }`
	listCredentials  = `{ workableCredentials { nickname subdomain tokenHint isDefault lastTestOk lastTestMessage } }`
	candidateNames   = `{ candidates(first: 10) { nodes { id name email } } }`
)

type addOut struct {
	AddWorkableCredential struct {
		Credential *map[string]any
		UserErrors []model.UserError
	}
}

// addBeta adds the credential "beta" for simB through the API.
func (ce *credEnv) addBeta(token string) addOut {
	ce.t.Helper()
	var out addOut
	ce.mustDo(adminKey, "", addCredential, vars{"in": map[string]any{
		"nickname": "beta", "subdomain": " " + strings.ToUpper(betaSubdomain) + " ", "apiToken": token}}, &out)
	return out
}

// TestCredentialCacheIsolation: one credential's cached data is never served
// to another, and removing a credential drops its cache entries.
func TestCredentialCacheIsolation(t *testing.T) {
	t.Parallel()
	ce := newCredEnv(t, nil)
	if out := ce.addBeta(betaToken); len(out.AddWorkableCredential.UserErrors) > 0 {
		t.Fatalf("add beta: %+v", out.AddWorkableCredential.UserErrors)
	}
	type page struct {
		Candidates struct{ Nodes []map[string]any }
	}
	// Warm the cache (records and whole responses) with the default
	// credential.
	var a1, a2, b1, b2 page
	ce.mustDo(readerKey, "", candidateNames, nil, &a1)
	ce.mustDo(readerKey, "default", candidateNames, nil, &a2)
	if diff := cmp.Diff(a1, a2); diff != "" {
		t.Fatalf("default credential, then default by name, differ: %s", diff)
	}
	callsA := ce.sim.TotalRequests()
	if callsA != 1 {
		t.Errorf("simulator A got %d calls for a query then its repeat, want 1 (cached)", callsA)
	}
	// The same request bytes with the other credential must reach simB.
	ce.mustDo(readerKey, "beta", candidateNames, nil, &b1)
	if got := ce.simB.TotalRequests(); got != 1 {
		t.Errorf("simulator B got %d calls, want 1: the other credential's cache must not answer", got)
	}
	if cmp.Equal(a1, b1) || len(b1.Candidates.Nodes) == 0 {
		t.Fatalf("credential beta got the default credential's data: %v", b1)
	}
	for _, n := range b1.Candidates.Nodes {
		for _, m := range a1.Candidates.Nodes {
			if cmp.Equal(n, m) {
				t.Errorf("candidate %v of account A served to credential beta", n["id"])
			}
		}
	}
	// Each is now cached under its own credential.
	ce.mustDo(readerKey, "", candidateNames, nil, &a2)
	ce.mustDo(readerKey, "beta", candidateNames, nil, &b2)
	if !cmp.Equal(a1, a2) || !cmp.Equal(b1, b2) {
		t.Errorf("warm answers differ from cold ones")
	}
	if ce.sim.TotalRequests() != callsA || ce.simB.TotalRequests() != 1 {
		t.Errorf("warm queries called Workable: A %d, B %d", ce.sim.TotalRequests(), ce.simB.TotalRequests())
	}

	// Removing beta drops its cache: re-added with the same token, the
	// same query calls simB again.
	var rm struct{ RemoveWorkableCredential struct{ Removed bool } }
	ce.mustDo(adminKey, "", removeCredential, vars{"n": "beta"}, &rm)
	if !rm.RemoveWorkableCredential.Removed {
		t.Fatalf("remove beta: not removed")
	}
	resp := ce.do(readerKey, "beta", candidateNames, nil)
	if resp.Status != http.StatusBadRequest {
		t.Errorf("removed credential: status %d, want 400", resp.Status)
	}
	resp.requireCode(t, credentials.CodeUnknown)
	ce.addBeta(betaToken)
	ce.mustDo(readerKey, "beta", candidateNames, nil, &b2)
	if got := ce.simB.TotalRequests(); got != 2 {
		t.Errorf("after remove and re-add, simulator B got %d calls in all, want 2 (cache dropped)", got)
	}
	ce.checkNoTokens(t)
}

// TestUnknownCredential: an unknown nickname is refused before anything
// reaches Workable, with code UNKNOWN_CREDENTIAL; a hostile header is not
// echoed.
func TestUnknownCredential(t *testing.T) {
	t.Parallel()
	ce := newCredEnv(t, nil)
	for _, tc := range []struct{ name, header, wantIn, wantNotIn string }{
		{"unknown nickname", "nope", `"nope"`, ""},
		{"invalid nickname", "<script>alert(1)</script>", "not a valid", "script"},
		{"huge header", strings.Repeat("x", 5000), "not a valid", "xxxxxxxx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := ce.do(writerKey, tc.header, createMutation, vars{"in": map[string]any{
				"jobShortcode": "X", "firstName": "A", "lastName": "B", "email": "a@example.com"}})
			if resp.Status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.Status)
			}
			e := resp.requireCode(t, credentials.CodeUnknown)
			if !strings.Contains(e.Message, tc.wantIn) || (tc.wantNotIn != "" && strings.Contains(e.Message, tc.wantNotIn)) {
				t.Errorf("message %q: want it to contain %q and not %q", e.Message, tc.wantIn, tc.wantNotIn)
			}
		})
	}
	if n := ce.sim.TotalRequests() + ce.simB.TotalRequests(); n != 0 {
		t.Errorf("%d Workable calls for unknown credentials, want 0", n)
	}
}

// TestCredentialAPI covers the credential fields: add (INVALID,
// ALREADY_EXISTS), list, test (ok, token rejected, NOT_FOUND), remove
// (NOT_FOUND, default refused), the admin role, and that no response
// holds a token.
func TestCredentialAPI(t *testing.T) {
	t.Parallel()
	ce := newCredEnv(t, nil)

	t.Run("add validates every field", func(t *testing.T) {
		var out addOut
		ce.mustDo(adminKey, "", addCredential, vars{"in": map[string]any{
			"nickname": "no spaces!", "subdomain": "-bad-", "apiToken": "has space " + betaToken}}, &out)
		got := out.AddWorkableCredential.UserErrors
		want := []string{"input.nickname", "input.subdomain", "input.apiToken"}
		if len(got) != len(want) {
			t.Fatalf("userErrors = %+v, want one per field %v", got, want)
		}
		for i, ue := range got {
			if strings.Join(ue.Field, ".") != want[i] || ue.Code != UserErrorInvalid {
				t.Errorf("userError %d = %+v, want INVALID on %s", i, ue, want[i])
			}
		}
		if out.AddWorkableCredential.Credential != nil {
			t.Errorf("credential returned for an invalid input")
		}
	})
	t.Run("add, then the same nickname again", func(t *testing.T) {
		out := ce.addBeta(betaToken)
		c := out.AddWorkableCredential.Credential
		if c == nil || len(out.AddWorkableCredential.UserErrors) != 0 {
			t.Fatalf("add beta = %+v", out)
		}
		if (*c)["subdomain"] != betaSubdomain || (*c)["tokenHint"] != "…abcd" || (*c)["isDefault"] != false {
			t.Errorf("added credential = %v, want subdomain %s (normalised), tokenHint …abcd", *c, betaSubdomain)
		}
		again := ce.addBeta("another-token-000000000")
		ues := again.AddWorkableCredential.UserErrors
		if len(ues) != 1 || ues[0].Code != UserErrorAlreadyExists || strings.Join(ues[0].Field, ".") != "input.nickname" {
			t.Errorf("second add = %+v, want ALREADY_EXISTS on input.nickname", ues)
		}
	})
	t.Run("the nickname default is reserved", func(t *testing.T) {
		var out addOut
		ce.mustDo(adminKey, "", addCredential, vars{"in": map[string]any{
			"nickname": "default", "subdomain": "acme", "apiToken": betaToken}}, &out)
		if ues := out.AddWorkableCredential.UserErrors; len(ues) != 1 || ues[0].Code != UserErrorAlreadyExists {
			t.Errorf("add default = %+v, want ALREADY_EXISTS", ues)
		}
	})
	t.Run("list", func(t *testing.T) {
		var out struct{ WorkableCredentials []map[string]any }
		ce.mustDo(adminKey, "", listCredentials, nil, &out)
		var names []any
		for _, c := range out.WorkableCredentials {
			names = append(names, c["nickname"])
		}
		if diff := cmp.Diff([]any{"default", "beta"}, names); diff != "" {
			t.Errorf("nicknames (-want +got):\n%s", diff)
		}
		if out.WorkableCredentials[0]["isDefault"] != true {
			t.Errorf("default credential not flagged: %v", out.WorkableCredentials[0])
		}
	})
	t.Run("test", func(t *testing.T) {
		type testOut struct {
			TestWorkableCredential struct {
				OK          bool `json:"ok"`
				AccountName *string
				Message     string
				TestedAt    string
				Credential  map[string]any
			}
		}
		var ok testOut
		ce.mustDo(adminKey, "", testCredential, vars{"n": "beta"}, &ok)
		r := ok.TestWorkableCredential
		if !r.OK || r.AccountName == nil || *r.AccountName == "" || r.TestedAt == "" ||
			r.Credential["lastTestOk"] != true || r.Credential["lastTestedAt"] == nil {
			t.Errorf("test beta = %+v, want ok with the account name and the result saved", r)
		}
		// A credential whose token the account rejects.
		var add addOut
		ce.mustDo(adminKey, "", addCredential, vars{"in": map[string]any{
			"nickname": "beta_wrong", "subdomain": betaSubdomain, "apiToken": "wrong-token-0000000000"}}, &add)
		var bad testOut
		ce.mustDo(adminKey, "", testCredential, vars{"n": "beta_wrong"}, &bad)
		if bad.TestWorkableCredential.OK || bad.TestWorkableCredential.Message != credentials.MsgTokenRejected {
			t.Errorf("test with a wrong token = %+v, want not ok, %q", bad.TestWorkableCredential, credentials.MsgTokenRejected)
		}
		ce.do(adminKey, "", testCredential, vars{"n": "nobody"}).requireCode(t, CodeNotFound)
	})
	t.Run("remove", func(t *testing.T) {
		for _, tc := range []struct{ nickname, code string }{
			{"nobody", UserErrorNotFound},
			{"default", UserErrorDefaultCredential},
		} {
			var out struct {
				RemoveWorkableCredential struct {
					Removed    bool
					UserErrors []model.UserError
				}
			}
			ce.mustDo(adminKey, "", removeCredential, vars{"n": tc.nickname}, &out)
			ues := out.RemoveWorkableCredential.UserErrors
			if out.RemoveWorkableCredential.Removed || len(ues) != 1 || ues[0].Code != tc.code {
				t.Errorf("remove %q = %+v, want userError %s", tc.nickname, out, tc.code)
			}
		}
	})
	t.Run("only admins manage credentials", func(t *testing.T) {
		before := ce.sim.TotalRequests() + ce.simB.TotalRequests()
		for _, key := range []string{readerKey, writerKey} {
			for _, q := range []string{listCredentials, `mutation { testWorkableCredential(nickname: "beta") { ok } }`,
				`mutation { removeWorkableCredential(nickname: "beta") { removed } }`} {
				ce.do(key, "", q, nil).requireCode(t, access.CodeForbidden)
			}
		}
		if after := ce.sim.TotalRequests() + ce.simB.TotalRequests(); after != before {
			t.Errorf("refused requests made %d Workable calls", after-before)
		}
		if _, err := ce.registry.Get(t.Context(), "beta"); err != nil {
			t.Errorf("beta is gone after refused removals: %v", err)
		}
	})
	ce.checkNoTokens(t)
}

// TestCredentialsWithoutEncryptionKey: with Redis and no CREDENTIALS_KEY,
// adding a credential is refused with a message saying what to do, and the
// default credential still serves.
func TestCredentialsWithoutEncryptionKey(t *testing.T) {
	t.Parallel()
	rdb, prefix := redistest.Redis(t)
	store, err := credentials.NewRedisStore(rdb, prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	ce := newCredEnv(t, store)
	out := ce.addBeta(betaToken)
	ues := out.AddWorkableCredential.UserErrors
	if len(ues) != 1 || ues[0].Code != UserErrorEncryptionKeyMissing || !strings.Contains(ues[0].Message, "CREDENTIALS_KEY") {
		t.Errorf("add without a key = %+v, want ENCRYPTION_KEY_MISSING naming CREDENTIALS_KEY", ues)
	}
	ce.mustDo(readerKey, "", candidateNames, nil, nil)
	ce.checkNoTokens(t)
}

// TestCredentialFieldsCheckTheAdminRoleThemselves: the credential
// resolvers check the admin role again (the second lock), so rules that
// forget a credential field still keep non-admins out; with access control
// off, they serve everyone.
func TestCredentialFieldsCheckTheAdminRoleThemselves(t *testing.T) {
	t.Parallel()
	keys, err := access.ParseKeys(testKeys)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		// rules are the handler's AccessRules; nil switches access off.
		rules    map[string]access.Role
		key      string
		wantCode string
	}{
		{"rules without the field, reader", map[string]access.Role{"Query.candidate": access.RoleWriter}, readerKey, access.CodeForbidden},
		{"rules without the field, writer", map[string]access.Role{"Query.candidate": access.RoleWriter}, writerKey, access.CodeForbidden},
		{"rules without the field, admin", map[string]access.Role{"Query.candidate": access.RoleWriter}, adminKey, ""},
		{"access control off", nil, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ce := &credEnv{}
			ce.testEnv = newTestEnv(t, withHandler(func(c Config) http.Handler {
				c.AccessRules = tt.rules
				if tt.rules == nil {
					return NewHandler(c)
				}
				return access.Middleware(keys, NewHandler(c))
			}))
			resp := ce.do(tt.key, "", listCredentials, nil)
			if tt.wantCode != "" {
				resp.requireCode(t, tt.wantCode)
				return
			}
			if len(resp.Errors) > 0 || !strings.Contains(string(resp.Data), `"nickname":"default"`) {
				t.Errorf("workableCredentials = %s, want the default credential", resp.Raw)
			}
		})
	}
}

// checkNoTokens fails if any response the env received holds a token.
func (ce *credEnv) checkNoTokens(t *testing.T) {
	t.Helper()
	ce.mu.Lock()
	defer ce.mu.Unlock()
	for _, raw := range ce.raw {
		for _, tok := range []string{simulator.DemoToken, betaToken, "wrong-token-0000000000", "another-token-000000000"} {
			if strings.Contains(raw, tok) {
				t.Errorf("a response holds a Workable token: %s", raw)
			}
		}
	}
	if logs := ce.logs.String(); strings.Contains(logs, betaToken) || strings.Contains(logs, simulator.DemoToken) {
		t.Errorf("the log holds a Workable token")
	}
}

// TestRemoveCredentialKeepsSharedCache: a credential with the same
// subdomain and token as another shares its cache namespace, so removing it
// must not drop the other's cache entries; removing the last credential of a
// namespace still does.
func TestRemoveCredentialKeepsSharedCache(t *testing.T) {
	t.Parallel()
	ce := newCredEnv(t, nil)
	addTwin := func(nickname string) {
		t.Helper()
		var out addOut
		ce.mustDo(adminKey, "", addCredential, vars{"in": map[string]any{
			"nickname": nickname, "subdomain": simulator.DemoSubdomain, "apiToken": simulator.DemoToken}}, &out)
		if len(out.AddWorkableCredential.UserErrors) > 0 {
			t.Fatalf("add %s: %+v", nickname, out.AddWorkableCredential.UserErrors)
		}
	}
	remove := func(nickname string) {
		t.Helper()
		var rm struct{ RemoveWorkableCredential struct{ Removed bool } }
		ce.mustDo(adminKey, "", removeCredential, vars{"n": nickname}, &rm)
		if !rm.RemoveWorkableCredential.Removed {
			t.Fatalf("remove %s: not removed", nickname)
		}
	}
	addTwin("twin1")
	addTwin("twin2")
	ce.mustDo(readerKey, "", candidateNames, nil, nil)
	if got := ce.sim.TotalRequests(); got != 1 {
		t.Fatalf("warming the cache made %d Workable calls, want 1", got)
	}

	// Removing twin1 keeps the entries of twin2 and of the default
	// credential (same namespace).
	remove("twin1")
	for _, nickname := range []string{"", "twin2"} {
		ce.mustDo(readerKey, nickname, candidateNames, nil, nil)
	}
	if got := ce.sim.TotalRequests(); got != 1 {
		t.Errorf("after removing a credential sharing the namespace, %d Workable calls in all, want 1 (cache kept)", got)
	}
	// So does removing twin2: the default credential still uses them.
	remove("twin2")
	ce.mustDo(readerKey, "", candidateNames, nil, nil)
	if got := ce.sim.TotalRequests(); got != 1 {
		t.Errorf("after removing the last twin, %d Workable calls in all, want 1 (the default's cache kept)", got)
	}
	if !ce.logs.contains("kept the cache entries of a removed credential") {
		t.Errorf("no log line says the shared cache was kept:\n%s", ce.logs.String())
	}

	// A credential alone in its namespace still has its entries dropped.
	ce.addBeta(betaToken)
	ce.mustDo(readerKey, "beta", candidateNames, nil, nil)
	remove("beta")
	ce.addBeta(betaToken)
	ce.mustDo(readerKey, "beta", candidateNames, nil, nil)
	if got := ce.simB.TotalRequests(); got != 2 {
		t.Errorf("beta removed and re-added: simulator B got %d calls, want 2 (cache dropped)", got)
	}
	ce.checkNoTokens(t)
}

// TestCredentialEmptyNickname: the empty nickname names no credential in
// testWorkableCredential and removeWorkableCredential (NOT_FOUND), although
// a request without X-Workable-Credential uses the default one.
func TestCredentialEmptyNickname(t *testing.T) {
	t.Parallel()
	ce := newCredEnv(t, nil)
	ce.do(adminKey, "", testCredential, vars{"n": ""}).requireCode(t, CodeNotFound)
	var out struct {
		RemoveWorkableCredential struct {
			Removed    bool
			UserErrors []model.UserError
		}
	}
	ce.mustDo(adminKey, "", removeCredential, vars{"n": ""}, &out)
	ues := out.RemoveWorkableCredential.UserErrors
	if out.RemoveWorkableCredential.Removed || len(ues) != 1 || ues[0].Code != UserErrorNotFound ||
		strings.Join(ues[0].Field, ".") != "nickname" {
		t.Errorf("remove \"\" = %+v, want userError NOT_FOUND on nickname", out)
	}
	if n := ce.sim.TotalRequests(); n != 0 {
		t.Errorf("%d Workable calls, want 0 (the default credential must not be tested)", n)
	}
	var list struct{ WorkableCredentials []map[string]any }
	ce.mustDo(adminKey, "", listCredentials, nil, &list)
	if len(list.WorkableCredentials) != 1 || list.WorkableCredentials[0]["lastTestOk"] != nil {
		t.Errorf("credentials = %v, want the untested default only", list.WorkableCredentials)
	}
}

// TestUndecryptableCredential: a stored record that the configured
// CREDENTIALS_KEY cannot decrypt is left out of workableCredentials (with
// an error next to the data, and a warning in the log), and choosing or
// testing it is refused with CREDENTIAL_UNREADABLE, not a "retry later".
// It can still be removed.
func TestUndecryptableCredential(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	rdb, prefix := redistest.Redis(t)
	oldStore, err := credentials.NewRedisStore(rdb, prefix, newCredentialsKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := oldStore.Add(ctx, credentials.Credential{Nickname: "broken", Subdomain: betaSubdomain,
		Token: betaToken, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	store, err := credentials.NewRedisStore(rdb, prefix, newCredentialsKey(t))
	if err != nil {
		t.Fatal(err)
	}
	ce := newCredEnv(t, store)
	ce.addBeta(betaToken)

	resp := ce.do(adminKey, "", listCredentials, nil)
	var list struct{ WorkableCredentials []map[string]any }
	if err := json.Unmarshal(resp.Data, &list); err != nil {
		t.Fatalf("decode %s: %v", resp.Raw, err)
	}
	var names []any
	for _, c := range list.WorkableCredentials {
		names = append(names, c["nickname"])
	}
	if diff := cmp.Diff([]any{"default", "beta"}, names); diff != "" {
		t.Errorf("listed nicknames (-want +got):\n%s", diff)
	}
	e := resp.requireCode(t, credentials.CodeUnreadable)
	if !strings.Contains(e.Message, `"broken"`) || !strings.Contains(e.Message, "CREDENTIALS_KEY") {
		t.Errorf("list error %q should name the record and CREDENTIALS_KEY", e.Message)
	}
	if !ce.logs.contains("cannot be decrypted") || !ce.logs.contains("broken") {
		t.Errorf("no warning about the unreadable record in the log:\n%s", ce.logs.String())
	}

	resp = ce.do(readerKey, "broken", candidateNames, nil)
	if resp.Status != http.StatusInternalServerError {
		t.Errorf("request with the unreadable credential: status %d, want 500", resp.Status)
	}
	e = resp.requireCode(t, credentials.CodeUnreadable)
	if strings.Contains(e.Message, "retry later") || !strings.Contains(e.Message, "CREDENTIALS_KEY") {
		t.Errorf("message %q: want it to point at CREDENTIALS_KEY, not to retry", e.Message)
	}
	ce.do(adminKey, "", testCredential, vars{"n": "broken"}).requireCode(t, credentials.CodeUnreadable)
	// A WebSocket's connection_init naming it is refused the same way, not
	// with CREDENTIAL_STORE_UNAVAILABLE's "retry later".
	initFn := websocketInit(nil, ce.registry, ce.hcfg.Logger)
	if _, err := initFn(ctx, map[string]any{credentials.Header: "broken"}); err == nil ||
		!strings.HasPrefix(err.Error(), credentials.CodeUnreadable+": ") || strings.Contains(err.Error(), "retry later") {
		t.Errorf("connection_init with the unreadable credential: %v, want a %s refusal", err, credentials.CodeUnreadable)
	}
	if n := ce.simB.TotalRequests(); n != 0 {
		t.Errorf("%d Workable calls with the unreadable credential, want 0", n)
	}

	var rm struct{ RemoveWorkableCredential struct{ Removed bool } }
	ce.mustDo(adminKey, "", removeCredential, vars{"n": "broken"}, &rm)
	if !rm.RemoveWorkableCredential.Removed {
		t.Errorf("the unreadable credential was not removed")
	}
	ce.mustDo(adminKey, "", listCredentials, nil, nil)
	ce.checkNoTokens(t)
}

// newCredentialsKey returns a random CREDENTIALS_KEY.
func newCredentialsKey(t *testing.T) []byte {
	t.Helper()
	key := make([]byte, credentials.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return key
}
