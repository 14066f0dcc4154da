package main

import (
	"context"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/workablegw/gateway/access"
	"github.com/workablegw/gateway/telemetry"
)

// recordingEnv returns getenv over env that also records every name read.
func recordingEnv(env map[string]string) (getenv func(string) string, read func() []string) {
	var (
		mu    sync.Mutex
		names = map[string]bool{}
	)
	getenv = func(k string) string {
		mu.Lock()
		names[k] = true
		mu.Unlock()
		return env[k]
	}
	read = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Sorted(maps.Keys(names))
	}
	return getenv, read
}

// TestSettingsTableIsWhatTheGatewayReads: every variable the configuration
// and the observability read is in settingsTable (which --help prints), and
// every variable in the table is read, so the table cannot drift from the
// code.
func TestSettingsTableIsWhatTheGatewayReads(t *testing.T) {
	t.Parallel()
	var table []string
	for _, s := range settingsTable() {
		table = append(table, s.name)
	}
	slices.Sort(table)
	if len(slices.Compact(slices.Clone(table))) != len(table) {
		t.Fatalf("settingsTable lists a name twice: %v", table)
	}
	union := map[string]bool{}
	for _, env := range []map[string]string{
		{},
		{"GATEWAY_ENV": "production", "WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "tok", "GATEWAY_API_KEYS": "k3y-for-dashboards:reader"},
		// Tracing on reads the service name too; nothing is exported.
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"},
	} {
		getenv, read := recordingEnv(env)
		if _, err := loadConfig(getenv); err != nil {
			t.Fatalf("loadConfig(%v): %v", env, err)
		}
		obsEnv := settingsEnv(getenv)
		telemetry.NewLogger(io.Discard, obsEnv)
		_, shutdown, err := telemetry.SetupTracing(context.Background(), obsEnv, "test")
		if err != nil {
			t.Fatalf("SetupTracing: %v", err)
		}
		shutdown(context.Background())
		for _, name := range read() {
			union[name] = true
		}
	}
	if diff := cmp.Diff(table, slices.Sorted(maps.Keys(union))); diff != "" {
		t.Errorf("the variables read differ from settingsTable (-table +read):\n%s", diff)
	}
}

// TestSettingsDefaultsAreTheEffectiveOnes: setting a variable to the
// default --help shows for it changes nothing, in each mode, so the help
// cannot show a default the gateway does not use.
func TestSettingsDefaultsAreTheEffectiveOnes(t *testing.T) {
	t.Parallel()
	keysEqual := cmp.Comparer(func(a, b access.Keys) bool { return a.String() == b.String() })
	modes := []struct {
		name string
		env  map[string]string
		pick func(setting) string
	}{
		{"demo", map[string]string{}, func(s setting) string { return cmpOr(s.demo, s.def) }},
		{"account", map[string]string{"WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "tok"}, func(s setting) string { return s.def }},
		{"production", map[string]string{"GATEWAY_ENV": "production", "WORKABLE_SUBDOMAIN": "acme", "WORKABLE_API_TOKEN": "tok",
			"GATEWAY_API_KEYS": "k3y-for-dashboards:reader"}, func(s setting) string { return cmpOr(s.prod, s.def) }},
	}
	for _, m := range modes {
		want, err := loadConfig(func(k string) string { return m.env[k] })
		if err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		for _, s := range settingsTable() {
			def := m.pick(s)
			if def == "" || m.env[s.name] != "" {
				continue
			}
			t.Run(m.name+"/"+s.name, func(t *testing.T) {
				env := maps.Clone(m.env)
				env[s.name] = def
				got, err := loadConfig(func(k string) string { return env[k] })
				if err != nil {
					t.Fatalf("%s=%s: %v", s.name, def, err)
				}
				if diff := cmp.Diff(want, got, keysEqual); diff != "" {
					t.Errorf("%s=%s (its default) changed the configuration (-unset +set):\n%s", s.name, def, diff)
				}
			})
		}
	}
}

// cmpOr returns a unless it is "", else b.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestHelpListsEverySetting: --help, -h and help print the commands and
// every setting with its default and exit 0.
func TestHelpListsEverySetting(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"--help", "-h", "help"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			if err := run(context.Background(), []string{arg}, func(string) string { return "" }, &out, io.Discard); err != nil {
				t.Fatalf("run %s: %v", arg, err)
			}
			help := out.String()
			for _, cmd := range []string{"gateway simulator", "gateway healthcheck", "gateway schema", "gateway version"} {
				if !strings.Contains(help, cmd) {
					t.Errorf("--help does not mention %q", cmd)
				}
			}
			for _, s := range settingsTable() {
				i := strings.Index(help, "  "+s.name+" ")
				if i < 0 {
					t.Errorf("--help does not list %s", s.name)
					continue
				}
				line, _, _ := strings.Cut(help[i:], "\n")
				if want := defaultText(s); !strings.Contains(line, want) {
					t.Errorf("--help line %q lacks %q", line, want)
				}
			}
			if !strings.Contains(help, "SHUTDOWN_TIMEOUT") || !strings.Contains(help, "default REQUEST_TIMEOUT + 5s") {
				t.Errorf("--help does not explain SHUTDOWN_TIMEOUT's default:\n%s", help)
			}
		})
	}
}

// TestReadmeDocumentsEverySetting: the README's settings section names
// every setting.
func TestReadmeDocumentsEverySetting(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Settings\n")
	if !ok {
		t.Fatal("README.md has no Settings section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	for _, s := range settingsTable() {
		if !strings.Contains(section, "`"+s.name+"`") {
			t.Errorf("README.md's Settings section does not document %s", s.name)
		}
	}
}
