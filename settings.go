package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/gqlhttp"
	"github.com/workablegw/gateway/graph"
	"github.com/workablegw/gateway/guard"
	"github.com/workablegw/gateway/refresher"
	"github.com/workablegw/gateway/upstream"
	"github.com/workablegw/gateway/workable/simulator"
)

// setting is one environment variable of the gateway.
type setting struct {
	name string
	// def is the default, written as it would be set; "" leaves the
	// variable unset.
	def string
	// prod and demo, when not "", replace def under GATEWAY_ENV=production
	// and in demo mode (no Workable account configured). The two never
	// meet: production refuses demo mode.
	prod, demo string
	// shown describes a default that is computed from other settings; it
	// is printed instead of def.
	shown string
	// help says what the setting does, in one sentence or two.
	help string
}

// Defaults that depend on the mode.
const (
	// demoHost is where demo mode listens: this machine only, since
	// everyone who reaches a demo gateway is an admin.
	demoHost = "127.0.0.1"
	// demoOrigins are the browser origins demo mode allows: frontends in
	// development on this machine, whatever their port.
	demoOrigins = "http://localhost:*,http://127.0.0.1:*"
	// shutdownMargin is what SHUTDOWN_TIMEOUT must add to REQUEST_TIMEOUT:
	// the time to write the answer of a request that used its whole
	// deadline.
	shutdownMargin = 5 * time.Second
	// defaultSlowQuery is SLOW_QUERY_THRESHOLD's default.
	defaultSlowQuery = 5 * time.Second
)

// settingsTable is the one list of the gateway's settings. loadConfig and
// the observability read their defaults from it (see settingsEnv), `gateway
// --help` prints it, and tests check that the gateway reads no variable
// that is missing here and none that is listed here goes unread, so that
// the three cannot drift apart.
func settingsTable() []setting {
	ttl := cache.DefaultTTLs()
	limits := guard.DefaultQueryLimits()
	return []setting{
		{name: "GATEWAY_ENV", help: "production switches to production defaults and refuses to start without WORKABLE_SUBDOMAIN, WORKABLE_API_TOKEN, GATEWAY_API_KEYS and (with REDIS_URL) CREDENTIALS_KEY; development (or unset) allows demo mode."},
		{name: "HOST", demo: demoHost, help: "Address to listen on; unset listens on every interface (demo mode: 127.0.0.1 only)."},
		{name: "PORT", def: "8080", help: "HTTP port (0 picks a free one)."},
		{name: "WORKABLE_SUBDOMAIN", help: "The account's subdomain, as in https://{subdomain}.workable.com; unset (with WORKABLE_API_TOKEN) is demo mode."},
		{name: "WORKABLE_API_TOKEN", help: "An account API token; never logged or returned."},
		{name: "WORKABLE_MEMBER_ID", demo: simulator.DemoMemberID, help: "The default acting member of the hiring actions (an id of the members query) for the default credential; an action without memberId is refused when unset (demo mode: the simulator's first admin)."},
		{name: "WORKABLE_BASE_URL", shown: "https://{subdomain}.workable.com/spi/v3/", help: "Workable base URL of every credential (a proxy, or the simulator)."},
		{name: "WORKABLE_RATE_LIMIT", shown: "the X-Rate-Limit-Limit Workable announces", help: "Requests per 10 s pinned for every credential (1 to 1000); unset, each credential starts at 10 and adopts the limit Workable announces for its token."},
		{name: "REDIS_URL", help: "Redis for the cache, the shared rate budget, credentials, idempotency keys and persisted queries (redis://, rediss://, redis+sentinel://, redis+cluster://); unset keeps everything in process."},
		{name: "REQUEST_TIMEOUT", def: guard.DefaultDeadline.String(), help: "Deadline of each /query request, waits for Workable's rate budget included."},
		{name: "QUERY_TIMEOUT", help: "Older name of REQUEST_TIMEOUT; REQUEST_TIMEOUT wins."},
		{name: "WORKABLE_CALL_TIMEOUT", def: "10s", help: "Timeout of each single Workable call."},
		{name: "DRAIN_DELAY", def: "0s", prod: "5s", help: "After SIGTERM, how long /readyz answers 503 while /query keeps serving, so that load balancers stop sending traffic before the listener closes."},
		{name: "SHUTDOWN_TIMEOUT", shown: "REQUEST_TIMEOUT + " + shutdownMargin.String(), help: "After the drain delay, how long requests in flight may take to finish; at least REQUEST_TIMEOUT + " + shutdownMargin.String() + "."},
		{name: "GATEWAY_API_KEYS", help: "Client API keys with roles: comma-separated key:role pairs (reader, writer, admin); unset leaves /query open (refused in production)."},
		{name: "CREDENTIALS_KEY", help: "32 random bytes in base64 (openssl rand -base64 32): encrypts the credentials kept in Redis; needed in production with REDIS_URL."},
		{name: "CORS_ALLOWED_ORIGINS", demo: demoOrigins, help: "Comma-separated browser origins allowed to call /query (scheme://host[:port], scheme://host:* for any port, or *)."},
		{name: "GATEWAY_INTROSPECTION", def: "true", prod: "false", help: "GraphQL introspection, field suggestions in errors and GET /schema.graphql."},
		{name: "GATEWAY_PLAYGROUND", def: "true", prod: "false", help: "Serve GraphQL Playground at /."},
		{name: "MAX_BODY_BYTES", def: strconv.FormatInt(guard.DefaultMaxBodyBytes, 10), help: "Request body cap (1024 to 67108864)."},
		{name: "CLIENT_RATE_LIMIT", def: "0", help: "Requests per second per client (per API key, else per address); 0 is off."},
		{name: "CLIENT_RATE_BURST", def: "0", shown: "the rate, rounded up", help: "Burst of the per-client rate limit."},
		{name: "QUERY_MAX_COMPLEXITY", def: strconv.Itoa(graph.DefaultComplexityLimit), help: "Complexity limit (a connection counts its selection once per requested item)."},
		{name: "QUERY_MAX_DEPTH", def: strconv.Itoa(limits.MaxDepth), help: "Maximum field nesting."},
		{name: "QUERY_MAX_ALIASES", def: strconv.Itoa(limits.MaxAliases), help: "Maximum aliases per operation."},
		{name: "QUERY_MAX_ROOT_FIELDS", def: strconv.Itoa(limits.MaxRootFields), help: "Maximum top-level fields."},
		{name: "QUERY_MAX_FIELDS", def: strconv.Itoa(limits.MaxFields), help: "Maximum fields, fragments expanded."},
		{name: "QUERY_MAX_TOKENS", def: strconv.Itoa(limits.MaxTokens), help: "Maximum lexical tokens of a query."},
		{name: "SUBSCRIPTIONS_PER_CLIENT", def: strconv.Itoa(graph.DefaultSubscriptionsPerClient), help: "Live subscriptions one client (API key, or address without keys) may hold on each replica; one more is refused with TOO_MANY_SUBSCRIPTIONS."},
		{name: "SUBSCRIPTION_HEARTBEAT", def: gqlhttp.DefaultHeartbeat.String(), help: "How often a subscription's WebSocket or SSE stream carries a heartbeat (a WebSocket client that misses two is disconnected)."},
		{name: "CACHE_PREFIX", help: "Put before every Redis key, to share one Redis between deployments."},
		{name: "CACHE_MAX_BYTES", def: strconv.FormatInt(cache.DefaultMemoryBytes, 10), help: "Bound of the in-process cache (without REDIS_URL)."},
		{name: "LOCAL_CACHE_BYTES", def: strconv.FormatInt(upstream.DefaultLocalTierBytes, 10), help: "Bound of each replica's tier of decoded records in front of the cache, counted in their encoded size; 0 turns it off."},
		{name: "CACHE_TTL_SCALE", def: "1", help: "Multiplies every fresh time below."},
		{name: "CACHE_TTL_JOB", def: ttl.Job.Fresh.String(), help: "Fresh time of a job."},
		{name: "CACHE_TTL_JOB_LIST", def: ttl.JobList.Fresh.String(), help: "Fresh time of a jobs list page."},
		{name: "CACHE_TTL_CANDIDATE", def: ttl.Candidate.Fresh.String(), help: "Fresh time of a candidate's detail."},
		{name: "CACHE_TTL_CANDIDATE_LIST", def: ttl.CandidateList.Fresh.String(), help: "Fresh time of a candidate list page."},
		{name: "CACHE_TTL_ACTIVITIES", def: ttl.Activities.Fresh.String(), help: "Fresh time of a candidate's activities page."},
		{name: "CACHE_STALE_TTL", def: ttl.Job.Stale.String(), help: "How long past its fresh time an entry is kept for answers while Workable fails."},
		{name: "RESPONSE_CACHE", def: "true", help: "Also cache whole query responses."},
		{name: "GATEWAY_PUBLIC_URL", help: "The gateway's public base URL, which Workable can reach (https://gateway.example.com): registerWorkableWebhooks subscribes <url>/webhooks/workable/<credential>; unset, webhooks cannot be registered."},
		{name: "REFRESH_ENABLED", def: "true", help: "Run the background refresher: per credential, poll what changed in Workable (updated_after), refresh the cache and emit the events of subscriptions."},
		{name: "REFRESH_INTERVAL", def: refresher.DefaultInterval.String(), help: "Time between two rounds of the background refresher."},
		{name: "REFRESH_BUDGET_SHARE", def: strconv.FormatFloat(refresher.DefaultShare, 'g', -1, 64), help: "The largest share of each credential's Workable budget the refresher uses (above 0, at most 1); it calls only when no user request waits for the budget."},
		{name: "LOG_FORMAT", def: "text", prod: "json", help: "json or text."},
		{name: "LOG_LEVEL", def: "info", help: "debug, info, warn or error."},
		{name: "SLOW_QUERY_THRESHOLD", def: defaultSlowQuery.String(), help: "A /query request that takes longer logs a slow-query warning; 0s turns it off."},
		{name: "METRICS_OPERATIONS", help: "Comma-separated operation names that metrics may use as the operation label; any other name counts as other."},
		{name: "OTEL_EXPORTER_OTLP_ENDPOINT", help: "OTLP/HTTP collector base URL; unset turns tracing off."},
		{name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", help: "OTLP/HTTP traces URL, used as is; wins over OTEL_EXPORTER_OTLP_ENDPOINT."},
		{name: "OTEL_EXPORTER_OTLP_PROTOCOL", def: "http/protobuf", help: "OTLP protocol; only http/protobuf is supported."},
		{name: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", def: "http/protobuf", help: "OTLP protocol of traces; only http/protobuf is supported."},
		{name: "OTEL_SERVICE_NAME", def: "workable-graphql-gateway", help: "service.name of the spans."},
		{name: "OTEL_SDK_DISABLED", def: "false", help: "true turns tracing off."},
		{name: "GOGC", shown: strconv.Itoa(defaultGCPercent), help: "The Go runtime's GC percent; unset, the gateway sets " + strconv.Itoa(defaultGCPercent) + " (fewer collections of the requests' short-lived garbage, for a larger heap)."},
		{name: "GOMEMLIMIT", shown: "2 × the in-process caches + 128 MiB, at most 3/4 of the cgroup's memory limit", help: "The Go runtime's soft memory limit (e.g. 512MiB); unset, the gateway sets twice what its in-process caches may hold (LOCAL_CACHE_BYTES, plus CACHE_MAX_BYTES without REDIS_URL) plus 128 MiB, and at most 3/4 of its cgroup's memory.max when there is one."},
	}
}

// settingsEnv returns getenv with the defaults of settingsTable filled in:
// a setting that is unset (or set to "") reads as its default for the mode
// (production when GATEWAY_ENV is production, demo when neither
// WORKABLE_SUBDOMAIN nor WORKABLE_API_TOKEN is set). Variables outside the
// table read as getenv says.
func settingsEnv(getenv func(string) string) func(string) string {
	production := isProduction(getenv)
	demo := strings.TrimSpace(getenv("WORKABLE_SUBDOMAIN")) == "" && strings.TrimSpace(getenv("WORKABLE_API_TOKEN")) == ""
	defaults := make(map[string]string)
	for _, s := range settingsTable() {
		d := s.def
		switch {
		case production && s.prod != "":
			d = s.prod
		case demo && !production && s.demo != "":
			d = s.demo
		}
		defaults[s.name] = d
	}
	return func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return defaults[name]
	}
}

// isProduction reports whether GATEWAY_ENV asks for production.
func isProduction(getenv func(string) string) bool {
	return strings.EqualFold(strings.TrimSpace(getenv("GATEWAY_ENV")), "production")
}

// commandsUsage lists the commands, for --help and for a command line the
// gateway does not understand.
const commandsUsage = `Usage:
  gateway                serve the gateway (configured by the environment: see Settings)
  gateway simulator [-h] serve the built-in Workable simulator alone
  gateway healthcheck    ask the gateway on this machine (127.0.0.1:$PORT/healthz) whether it is alive
  gateway schema         print the GraphQL schema (SDL)
  gateway version        print the version
  gateway --help         print this help (also -h, help)
`

// printUsage writes `gateway --help`: the commands, then every setting with
// its default.
func printUsage(w io.Writer) {
	fmt.Fprint(w, `Workable GraphQL gateway: one GraphQL endpoint for a Workable account.

`+commandsUsage+`
With no Workable account configured the gateway runs in demo mode on the built-in
simulator, listening on 127.0.0.1 only.

Settings (environment variables) and their defaults:
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range settingsTable() {
		fmt.Fprintf(tw, "  %s\t%s\n", s.name, defaultText(s))
		fmt.Fprintf(tw, "  \t  %s\n", s.help)
	}
	tw.Flush()
}

// defaultText describes a setting's default for --help.
func defaultText(s setting) string {
	d := s.def
	switch {
	case s.shown != "":
		d = s.shown
	case d == "":
		d = "(unset)"
	}
	var modes []string
	if s.prod != "" {
		modes = append(modes, "production: "+s.prod)
	}
	if s.demo != "" {
		modes = append(modes, "demo mode: "+s.demo)
	}
	if len(modes) > 0 {
		d += " (" + strings.Join(modes, "; ") + ")"
	}
	return "default " + d
}
