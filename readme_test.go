package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// readmeExamples returns the request bodies of the README's Examples
// section: each graphql block as a query, and the JSON body of each curl
// command.
func readmeExamples(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatalf("read README.md: %v", err)
	}
	text := string(raw)
	start := strings.Index(text, "\n## Examples\n")
	if start < 0 {
		t.Fatal("README.md has no Examples section")
	}
	section := text[start+1:]
	if end := strings.Index(section[len("## Examples"):], "\n## "); end >= 0 {
		section = section[:len("## Examples")+end]
	}

	var bodies []string
	for _, m := range regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(section, -1) {
		body, _ := json.Marshal(map[string]string{"query": m[1]})
		bodies = append(bodies, string(body))
	}
	for _, m := range regexp.MustCompile(`(?s)curl [^`+"`"+`]*?-d '([^']*)'`).FindAllStringSubmatch(section, -1) {
		bodies = append(bodies, m[1])
	}
	return bodies
}

func TestReadmeExamplesRunAgainstDemoMode(t *testing.T) {
	bodies := readmeExamples(t)
	if len(bodies) < 7 {
		t.Fatalf("found %d examples in the README, want at least 7 (6 graphql blocks and a curl command)", len(bodies))
	}
	base, stop := startRun(t, nil, map[string]string{"PORT": "0"}, `Playground: (http://localhost:\d+)/`)
	defer stop()

	for i, body := range bodies {
		resp, err := http.Post(base+"/query", "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatalf("example %d: %v", i+1, err)
		}
		var out struct {
			Data   map[string]json.RawMessage
			Errors []json.RawMessage
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("example %d: decode response: %v", i+1, err)
		}
		if resp.StatusCode != http.StatusOK || len(out.Errors) > 0 || len(out.Data) == 0 {
			t.Errorf("example %d (%s) = %d, errors %s, want data and no errors", i+1, body, resp.StatusCode, out.Errors)
			continue
		}
		for field, v := range out.Data {
			if bytes.Contains(v, []byte(`"userErrors":[{`)) {
				t.Errorf("example %d: %s answered userErrors: %s", i+1, field, v)
			}
			if string(v) == "null" {
				t.Errorf("example %d: %s is null", i+1, field)
			}
		}
	}
}
