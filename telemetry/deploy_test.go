package telemetry

// Docker is not available where the tests run, so the deployment files at
// the repository root are checked as text: compose.yaml parses and has the
// services, dependencies and settings the README promises, and the
// Dockerfile builds the way CI builds.

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"
)

// composeFile is the part of compose.yaml the test reads.
type composeFile struct {
	Services map[string]struct {
		Build       any               `yaml:"build"`
		Image       string            `yaml:"image"`
		Ports       []string          `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		Command []string `yaml:"command"`
		Volumes []string `yaml:"volumes"`
	} `yaml:"services"`
}

func TestComposeFile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("compose.yaml is not valid YAML: %v", err)
	}

	var names []string
	for n := range c.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"gateway", "redis"}, names); diff != "" {
		t.Fatalf("services (-want +got):\n%s", diff)
	}

	gw := c.Services["gateway"]
	if gw.Build != "." {
		t.Errorf("gateway build = %v, want \".\"", gw.Build)
	}
	if diff := cmp.Diff([]string{"8080:8080"}, gw.Ports); diff != "" {
		t.Errorf("gateway ports (-want +got):\n%s", diff)
	}
	if got := gw.DependsOn["redis"].Condition; got != "service_healthy" {
		t.Errorf("gateway depends_on redis condition = %q, want service_healthy", got)
	}
	var env []string
	for k := range gw.Environment {
		env = append(env, k)
	}
	slices.Sort(env)
	wantEnv := []string{
		"CACHE_PREFIX", "CLIENT_RATE_LIMIT", "CORS_ALLOWED_ORIGINS", "CREDENTIALS_KEY", "DRAIN_DELAY",
		"GATEWAY_API_KEYS", "GATEWAY_ENV", "GATEWAY_INTROSPECTION", "GATEWAY_PLAYGROUND", "HOST",
		"LOG_FORMAT", "LOG_LEVEL", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SERVICE_NAME",
		"PORT", "REDIS_URL", "REQUEST_TIMEOUT", "SHUTDOWN_TIMEOUT", "WORKABLE_API_TOKEN", "WORKABLE_BASE_URL", "WORKABLE_SUBDOMAIN",
	}
	if diff := cmp.Diff(wantEnv, env); diff != "" {
		t.Errorf("gateway environment (-want +got):\n%s", diff)
	}
	for _, k := range []string{"WORKABLE_API_TOKEN", "WORKABLE_SUBDOMAIN", "CREDENTIALS_KEY", "GATEWAY_API_KEYS"} {
		if v := gw.Environment[k]; !strings.HasPrefix(v, "${"+k) {
			t.Errorf("%s = %q: must come from the environment, never be written in the file", k, v)
		}
	}
	if diff := cmp.Diff([]string{"CMD", "/gateway", "healthcheck"}, gw.Healthcheck.Test); diff != "" {
		t.Errorf("gateway healthcheck (-want +got):\n%s", diff)
	}
	if got := gw.Environment["REDIS_URL"]; got != "redis://redis:6379/0" {
		t.Errorf("REDIS_URL = %q, want the compose Redis", got)
	}

	rd := c.Services["redis"]
	if !strings.HasPrefix(rd.Image, "redis:7-alpine") {
		t.Errorf("redis image = %q, want redis:7-alpine", rd.Image)
	}
	if diff := cmp.Diff([]string{"CMD", "redis-cli", "ping"}, rd.Healthcheck.Test); diff != "" {
		t.Errorf("redis healthcheck (-want +got):\n%s", diff)
	}
	// Credentials added through the API live in Redis without a TTL, so
	// Redis must persist them.
	if i := slices.Index(rd.Command, "--appendonly"); i < 0 || i+1 >= len(rd.Command) || rd.Command[i+1] != "yes" {
		t.Errorf("redis command %q: want --appendonly yes", rd.Command)
	}
	if len(rd.Volumes) == 0 || !strings.HasSuffix(rd.Volumes[0], ":/data") {
		t.Errorf("redis volumes %q: want a volume on /data", rd.Volumes)
	}
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var instructions []string
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			instructions = append(instructions, line)
		}
	}
	text := strings.Join(instructions, "\n")
	for _, want := range []string{
		"FROM golang:1.26-bookworm AS build",
		"ARG VERSION=",
		`CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/gateway .`,
		"HOST=0.0.0.0",
		"FROM gcr.io/distroless/static-debian12:nonroot",
		"COPY --from=build /out/gateway /gateway",
		"USER nonroot",
		"EXPOSE 8080",
		`ENTRYPOINT ["/gateway"]`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	// distroless has no shell: the check must be the binary's own
	// subcommand, in exec form.
	if !strings.Contains(text, `HEALTHCHECK `) || !strings.Contains(text, `CMD ["/gateway", "healthcheck"]`) {
		t.Error(`Dockerfile lacks HEALTHCHECK … CMD ["/gateway", "healthcheck"]`)
	}

	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(ignore), "\n")
	for _, want := range []string{".git", "e2e", "**/node_modules", "docs"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
	for _, needed := range []string{"playground", "go.mod", "go.sum", "*.go", "graph", "workable"} {
		if slices.Contains(lines, needed) {
			t.Errorf(".dockerignore excludes %q, which the build needs", needed)
		}
	}
}

// TestReplicasComposeFile: compose.replicas.yaml runs three gateway
// replicas, each on its own host port, on one three-master Redis Cluster
// that a one-shot service creates once its nodes answer, with the secrets
// from the environment.
func TestReplicasComposeFile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../compose.replicas.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("compose.replicas.yaml is not valid YAML: %v", err)
	}
	const cluster = "redis+cluster://redis-1:6379,redis-2:6379,redis-3:6379"
	ports := map[string]bool{}
	for _, name := range []string{"gateway-1", "gateway-2", "gateway-3"} {
		gw, ok := c.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		if got := gw.Environment["REDIS_URL"]; got != cluster {
			t.Errorf("%s REDIS_URL = %q, want %q", name, got, cluster)
		}
		if got := gw.DependsOn["redis-cluster"].Condition; got != "service_completed_successfully" {
			t.Errorf("%s depends_on redis-cluster = %q, want service_completed_successfully", name, got)
		}
		for _, k := range []string{"WORKABLE_API_TOKEN", "WORKABLE_SUBDOMAIN", "CREDENTIALS_KEY", "GATEWAY_API_KEYS"} {
			if v := gw.Environment[k]; !strings.HasPrefix(v, "${"+k) {
				t.Errorf("%s %s = %q: must come from the environment", name, k, v)
			}
		}
		if diff := cmp.Diff([]string{"CMD", "/gateway", "healthcheck"}, gw.Healthcheck.Test); diff != "" {
			t.Errorf("%s healthcheck (-want +got):\n%s", name, diff)
		}
		if len(gw.Ports) != 1 || ports[gw.Ports[0]] {
			t.Errorf("%s ports %q: want one of its own", name, gw.Ports)
		}
		ports[strings.Join(gw.Ports, ",")] = true
	}
	for _, name := range []string{"redis-1", "redis-2", "redis-3"} {
		rd := c.Services[name]
		cmdline := strings.Join(rd.Command, " ")
		for _, want := range []string{"--cluster-enabled yes", "--appendonly yes", "--cluster-announce-hostname " + name} {
			if !strings.Contains(cmdline, want) {
				t.Errorf("%s command %q lacks %q", name, cmdline, want)
			}
		}
		if len(rd.Volumes) == 0 || !strings.HasSuffix(rd.Volumes[0], ":/data") {
			t.Errorf("%s volumes %q: want a volume on /data", name, rd.Volumes)
		}
		if got := c.Services["redis-cluster"].DependsOn[name].Condition; got != "service_healthy" {
			t.Errorf("redis-cluster depends_on %s = %q, want service_healthy", name, got)
		}
	}
	if create := strings.Join(c.Services["redis-cluster"].Command, " "); !strings.Contains(create, "--cluster create") ||
		!strings.Contains(create, "--cluster-replicas 0") {
		t.Errorf("redis-cluster command %q: want redis-cli --cluster create … --cluster-replicas 0", create)
	}
}
