package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/redisconn"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable"
	"github.com/workablegw/gateway/workable/simulator"
)

// noToken fails if the response or the logs contain the token.
func noToken(t *testing.T, env *testEnv, resp gqlResponse, token string) {
	t.Helper()
	if strings.Contains(resp.Raw, token) {
		t.Errorf("response contains the Workable token: %s", resp.Raw)
	}
	if env.logs.contains(token) {
		t.Errorf("logs contain the Workable token: %s", env.logs.String())
	}
}

func TestWorkableAuthFailed(t *testing.T) {
	t.Parallel()
	const badToken = "secret-token-that-must-not-leak"
	tests := []struct {
		name string
		opts []envOption
	}{
		{"401 unknown token", []envOption{withToken(badToken)}},
		{"403 forbidden token", []envOption{withToken(badToken), withSimOptions(simulator.WithForbiddenToken(badToken))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, tt.opts...)
			for _, q := range []string{
				`{ jobs { nodes { id } } }`,
				`{ candidate(id: "ce4da98") { name } }`,
				`{ candidates(first: 2) { nodes { id } } }`,
				`{ stages { slug } }`,
			} {
				resp := env.query(q, nil)
				resp.requireCode(t, CodeWorkableAuthFailed)
				noToken(t, env, resp, badToken)
			}
		})
	}
}

func TestUpstreamUnavailable(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	env.sim.InjectFault("GET /candidates/{id}", simulator.Fault{Status: http.StatusServiceUnavailable})
	env.sim.InjectFault("GET /jobs", simulator.Fault{Status: http.StatusBadGateway})

	resp := env.query(`{ jobs { nodes { id } } }`, nil)
	e := resp.requireCode(t, CodeUpstreamUnavailable)
	if e.Message != "Workable is unavailable; retry later" {
		t.Errorf("message = %q", e.Message)
	}
	noToken(t, env, resp, simulator.DemoToken)

	// A failing detail field is null with an error at its path; the list
	// fields of the same candidate still arrive.
	resp = env.query(`{ candidates(first: 1) { nodes { id summary } } }`, nil)
	e = resp.requireCode(t, CodeUpstreamUnavailable)
	if diff := cmp.Diff([]any{"candidates", "nodes", float64(0), "summary"}, e.Path); diff != "" {
		t.Errorf("error path mismatch (-want +got):\n%s", diff)
	}
	id := env.sim.Candidates()[0].ID
	if diff := cmp.Diff(`{"candidates":{"nodes":[{"id":"`+id+`","summary":null}]}}`, string(resp.Data)); diff != "" {
		t.Errorf("data mismatch (-want +got):\n%s", diff)
	}

	// A transient failure is not remembered: once Workable is back the
	// same gateway answers.
	env.sim.ClearFaults()
	env.mustQuery(`{ jobs { nodes { id } } candidates(first: 1) { nodes { summary } } }`, nil, nil)
}

func TestUpstreamTimeout(t *testing.T) {
	t.Parallel()
	// The request's deadline passes while Workable hangs.
	env := newTestEnv(t, withRequestTimeout(100*time.Millisecond))
	env.sim.InjectFault("GET /jobs", simulator.Fault{Delay: time.Hour})
	env.sim.InjectFault("GET /jobs/{shortcode}", simulator.Fault{Delay: time.Hour})
	resp := env.query(`{ job(shortcode: "GROOV002") { title description } }`, nil)
	resp.requireCode(t, CodeUpstreamUnavailable)
}

func TestRateLimited(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []envOption
	}{
		// Workable answers 429 and the client may not wait it out.
		{"429 without retries", []envOption{withClientOptions(workable.WithRateLimitRetries(0))}},
		// Workable answers 429 and waiting for its reset (the simulator's
		// 10 s window) would outlast the request's deadline. The deadline is
		// generous enough that a loaded machine still reaches Workable in time.
		{"429 with a tight deadline", []envOption{withRequestTimeout(3 * time.Second),
			withClientOptions(workable.WithRateLimitRetries(3))}},
		// The gateway's own limiter has no slot before the deadline.
		{"budget exhausted", []envOption{withRequestTimeout(5 * time.Second),
			withClientOptions(workable.WithRateLimiter(workable.NewWindowLimiter(1, time.Hour, workable.WithFixedLimit())))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, tt.opts...)
			if tt.name == "budget exhausted" {
				env.mustQuery(`{ stages { slug } }`, nil, nil) // spends the only slot
			} else {
				env.sim.InjectFault("GET /candidates", simulator.Fault{Status: http.StatusTooManyRequests})
			}
			resp := env.query(`{ candidates { nodes { id } } }`, nil)
			resp.requireCode(t, CodeRateLimited)
			noToken(t, env, resp, simulator.DemoToken)
		})
	}
}

func TestInternalOnPanic(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withHandler(func(cfg Config) http.Handler {
		srv := newServer(cfg)
		srv.AroundFields(func(ctx context.Context, next graphql.Resolver) (any, error) {
			if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Field.Name == "account" {
				panic("boom: secret internals")
			}
			return next(ctx)
		})
		return cfg.Credentials.Middleware(cfg.Logger, gqlhttp.AnsweredInParts, withRequest(srv))
	}))
	resp := env.query(`{ account { name } stages { slug } }`, nil)
	e := resp.requireCode(t, CodeInternal)
	if e.Message != "internal error" || strings.Contains(resp.Raw, "boom") {
		t.Errorf("panic details leaked: %s", resp.Raw)
	}
	if !env.logs.contains("boom: secret internals") {
		t.Errorf("the panic was not logged: %s", env.logs.String())
	}
}

func TestGraphQLErrorCodes(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	tests := []struct {
		name, query, code string
	}{
		{"parse", `{ jobs(`, "GRAPHQL_PARSE_FAILED"},
		{"validation", `{ nope }`, "GRAPHQL_VALIDATION_FAILED"},
		{"wrong argument type", `{ jobs(first: "ten") { nodes { id } } }`, "GRAPHQL_VALIDATION_FAILED"},
		{"unknown enum", `{ jobs(state: OPEN) { nodes { id } } }`, "GRAPHQL_VALIDATION_FAILED"},
		// Three nested connections of 100: a million activities behind
		// 10,000 Workable calls (complexity about 2,000,000).
		{"complexity", `{ jobs(first: 100) { nodes { candidates(first: 100) { nodes { id name email
			activities(first: 100) { nodes { id action } } } } } } }`, "COMPLEXITY_LIMIT_EXCEEDED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env.query(tt.query, nil).requireCode(t, tt.code)
		})
	}
}

func TestComplexityAllowsFullPages(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t)
	env.mustQuery(`{ candidates(first: 100) { edges { cursor node { `+candidateListFields+` job { shortcode title } } }
		pageInfo { hasNextPage endCursor } } }`, nil, nil)
	env.mustQuery(`{ jobs(first: 10) { nodes { shortcode title candidates(first: 20) { nodes { id name email stage } } } } }`, nil, nil)
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		code string
	}{
		{badInput("x"), CodeBadUserInput},
		{fmt.Errorf("get: %w", workable.ErrUnauthorized), CodeWorkableAuthFailed},
		{fmt.Errorf("get: %w", workable.ErrRateLimited), CodeRateLimited},
		{fmt.Errorf("get: %w", workable.ErrUnavailable), CodeUpstreamUnavailable},
		{fmt.Errorf("idempotency: take key: %w: %w", redisconn.ErrUnavailable, errors.New("dial tcp: connection refused")), CodeStoreUnavailable},
		{fmt.Errorf("get: %w", context.DeadlineExceeded), CodeUpstreamUnavailable},
		{fmt.Errorf("get: %w", workable.ErrNotFound), CodeNotFound},
		{errJobGone, CodeNotFound},
		{fmt.Errorf("page: %w", upstream.ErrNotHexIDs), CodeBadUserInput},
		{fmt.Errorf("page: %w", upstream.ErrBackwardPagingLimit), CodeBackwardPagingLimit},
		{fmt.Errorf("list: %w", workable.ErrValidation), CodeBadUserInput},
		{errors.New("something else"), CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			if code, _ := classify(tt.err); code != tt.code {
				t.Errorf("classify(%v) = %s, want %s", tt.err, code, tt.code)
			}
		})
	}
}
