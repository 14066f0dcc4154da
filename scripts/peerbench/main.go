// Command peerbench prepares and checks the workloads of scripts/peerbench.sh:
// it writes the request bodies each system is measured with, warms a system
// by sending each of them, checks every answer (HTTP 200, data, no GraphQL
// error) and compares the data two systems answered.
//
//	peerbench workload -gateway http://127.0.0.1:18380/query -dir DIR
//	peerbench fetch -url URL -bodies FILE [-out FILE] [-warm-gateway] [-pick N]
//	peerbench compare -a FILE -b FILE
//
// The workloads are Q1 and Q3 of the peer benchmark and a varied one: 50
// queries, ten pages (candidate pages reached through cursors, and pages
// filtered by job or stage) times five field selections, sent as one
// document per selection with the page in variables, the way a frontend
// sends them. Each workload is written once per system, because the gateway
// pages with its own opaque cursors and the Tailcall peer with Workable's
// since_id: the two files ask for the same pages.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"time"

	"github.com/workablegw/gateway/scripts/internal/command"
	"github.com/workablegw/gateway/scripts/internal/lines"
)

func main() {
	command.Main("peerbench", func(ctx context.Context, args []string) error { return run(ctx, args, os.Stdout) })
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: peerbench workload|fetch|compare [flags]")
	}
	switch args[0] {
	case "workload":
		return runWorkload(ctx, args[1:])
	case "fetch":
		return runFetch(ctx, args[1:], stdout)
	case "compare":
		return runCompare(args[1:])
	default:
		return fmt.Errorf("unknown command %q (workload, fetch or compare)", args[0])
	}
}

// The measured queries of the peer benchmark, the same for every system.
const (
	q1 = `{ candidates(first: 50) { nodes { id name job { shortcode title } } } }`
	q3 = `{ candidates(first: 50) { nodes { id name job { shortcode state location { city } } } } }`
)

// profiles are the field selections of the varied workload: what different
// screens of a frontend ask for a list of candidates. Two need each
// candidate's job loaded (state, location), the others only what the
// candidate list carries.
var profiles = []struct{ name, nodes string }{
	{"JobTitle", `id name job { shortcode title }`},
	{"JobStateLocation", `id name job { shortcode state location { city } }`},
	{"Contact", `id name email stage createdAt`},
	{"Profile", `id firstName lastName headline disqualified sourced`},
	{"Pipeline", `id name stage job { title state }`},
}

// pageVars are the variables of one page of the varied workload. After is
// the page's cursor in the gateway's form; peerbench replaces it with the
// first candidate's id for the Tailcall peer (Workable's since_id).
type pageVars struct {
	First             int
	After, Job, Stage string
}

// variables are the request's variables, every one of them present: an
// unset one is null, because Tailcall 1.0 refuses a request that leaves out
// a nullable variable ("Variable `after` is not defined").
func (v pageVars) variables() map[string]any {
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return map[string]any{"first": v.First, "after": orNull(v.After), "job": orNull(v.Job), "stage": orNull(v.Stage)}
}

// filteredPages are the varied workload's filtered pages; the other five are
// the first five pages of 50 of the unfiltered list.
var filteredPages = []pageVars{
	{First: 20, Job: "GROOV002"},
	{First: 20, Job: "GROOV005"},
	{First: 30, Stage: "interview"},
	{First: 30, Stage: "applied"},
	{First: 40, Stage: "sourced"},
}

const cursorPages = 5

type request struct {
	Query         string `json:"query"`
	OperationName string `json:"operationName,omitempty"`
	Variables     any    `json:"variables,omitempty"`
}

// runWorkload walks the gateway's candidate pages for their cursors and
// writes, for each workload and system, the request bodies one per line:
// DIR/{q1,q3,varied}.{gateway,tailcall}.
func runWorkload(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("workload", flag.ContinueOnError)
	gateway := fs.String("gateway", "", "the gateway's /query URL (its cursors are read from it)")
	dir := fs.String("dir", "", "directory to write the request bodies to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *gateway == "" || *dir == "" {
		return errors.New("workload: -gateway and -dir are required")
	}
	type page struct {
		vars    pageVars
		sinceID string // the page's first candidate, for the peer
	}
	var pages []page
	after := ""
	for range cursorPages {
		ids, end, more, err := candidatePage(ctx, *gateway, after)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return fmt.Errorf("workload: the gateway's candidate page after %q is empty", after)
		}
		p := page{vars: pageVars{First: 50, After: after}}
		if after != "" {
			p.sinceID = ids[0]
		}
		pages = append(pages, p)
		if !more {
			return fmt.Errorf("workload: the simulator has fewer than %d pages of 50 candidates", cursorPages)
		}
		after = end
	}
	for _, v := range filteredPages {
		pages = append(pages, page{vars: v})
	}

	var gw, tc [][]byte
	for _, pr := range profiles {
		doc := fmt.Sprintf(`query %s($first: Int, $after: String, $job: String, $stage: String) { candidates(first: $first, after: $after, jobShortcode: $job, stage: $stage) { nodes { %s } } }`,
			pr.name, pr.nodes)
		for _, p := range pages {
			b, err := json.Marshal(request{Query: doc, OperationName: pr.name, Variables: p.vars.variables()})
			if err != nil {
				return err
			}
			gw = append(gw, b)
			tv := p.vars
			tv.After = p.sinceID
			if b, err = json.Marshal(request{Query: doc, OperationName: pr.name, Variables: tv.variables()}); err != nil {
				return err
			}
			tc = append(tc, b)
		}
	}
	files := map[string][][]byte{"varied.gateway": gw, "varied.tailcall": tc}
	for name, q := range map[string]string{"q1": q1, "q3": q3} {
		b, err := json.Marshal(request{Query: q})
		if err != nil {
			return err
		}
		files[name+".gateway"] = [][]byte{b}
		files[name+".tailcall"] = [][]byte{b}
	}
	for name, bodies := range files {
		if err := lines.Write(filepath.Join(*dir, name), bodies); err != nil {
			return err
		}
	}
	return nil
}

// candidatePage reads one page of 50 candidate ids from the gateway.
func candidatePage(ctx context.Context, url, after string) (ids []string, endCursor string, more bool, err error) {
	vars := map[string]any{}
	if after != "" {
		vars["after"] = after
	}
	body, err := json.Marshal(request{
		Query:     `query Walk($after: String) { candidates(first: 50, after: $after) { pageInfo { endCursor hasNextPage } nodes { id } } }`,
		Variables: vars,
	})
	if err != nil {
		return nil, "", false, err
	}
	raw, err := post(ctx, url, body)
	if err != nil {
		return nil, "", false, fmt.Errorf("read the candidate page after %q: %w", after, err)
	}
	var resp struct {
		Data struct {
			Candidates struct {
				PageInfo struct {
					EndCursor   string `json:"endCursor"`
					HasNextPage bool   `json:"hasNextPage"`
				} `json:"pageInfo"`
				Nodes []struct {
					ID string `json:"id"`
				} `json:"nodes"`
			} `json:"candidates"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, "", false, fmt.Errorf("decode the candidate page after %q: %w", after, err)
	}
	c := resp.Data.Candidates
	for _, n := range c.Nodes {
		ids = append(ids, n.ID)
	}
	return ids, c.PageInfo.EndCursor, c.PageInfo.HasNextPage, nil
}

// runFetch sends each request body of a file (or only the -pick'th, counted
// modulo their number) and checks each answer; -out writes the answers, one
// per line. -warm-gateway repeats a request until the gateway's cost
// extension says it made no Workable call, i.e. it is served from cache
// (with -response-cache: until the response cache answers it).
func runFetch(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fetch", flag.ContinueOnError)
	url := fs.String("url", "", "GraphQL endpoint")
	bodiesFile := fs.String("bodies", "", "file of request bodies, one per line")
	out := fs.String("out", "", "file to write the answers to, one per line")
	warm := fs.Bool("warm-gateway", false, "repeat each request until the gateway makes no Workable call for it")
	wantResponseCache := fs.Bool("response-cache", false, "with -warm-gateway: repeat until the gateway's response cache answers")
	pick := fs.Int("pick", -1, "send only this request (modulo their number)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bodies, err := lines.Read(*bodiesFile)
	if err != nil {
		return err
	}
	if *pick >= 0 {
		bodies = bodies[*pick%len(bodies):][:1]
	}
	answers := make([][]byte, 0, len(bodies))
	for i, body := range bodies {
		var raw []byte
		for attempt := 1; ; attempt++ {
			raw, err = post(ctx, *url, body)
			if err != nil {
				return fmt.Errorf("%s: request %d (%s): %w", *url, i+1, body, err)
			}
			if !*warm {
				break
			}
			calls, cached, err := gatewayCost(raw)
			if err != nil {
				return fmt.Errorf("%s: request %d: %w", *url, i+1, err)
			}
			if calls == 0 && (cached || !*wantResponseCache) {
				break
			}
			if attempt == 10 {
				return fmt.Errorf("%s: request %d is not served from cache after %d attempts (%d Workable calls, response cache %t)",
					*url, i+1, attempt, calls, cached)
			}
		}
		answers = append(answers, bytes.TrimSpace(raw))
	}
	if *out != "" {
		return lines.Write(*out, answers)
	}
	_, err = fmt.Fprintf(stdout, "%d answers checked\n", len(answers))
	return err
}

// post sends one GraphQL request and checks the answer: HTTP 200, JSON with
// a non-null data member and no errors.
func post(ctx context.Context, url string, body []byte) ([]byte, error) {
	// Warming the gateway may wait for Workable's rate budget.
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %.500s", resp.StatusCode, raw)
	}
	var envelope struct {
		Data   json.RawMessage `json:"data"`
		Errors json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(raw, &envelope); err != nil {
		return nil, fmt.Errorf("the answer is not JSON (%w): %.500s", err, raw)
	}
	if len(envelope.Errors) > 0 && string(envelope.Errors) != "null" {
		return nil, fmt.Errorf("GraphQL errors: %.1000s", envelope.Errors)
	}
	if len(envelope.Data) == 0 || string(envelope.Data) == "null" {
		return nil, fmt.Errorf("no data: %.500s", raw)
	}
	return raw, nil
}

// gatewayCost reads extensions.cost.workableCalls and
// extensions.responseCache of a gateway answer.
func gatewayCost(raw []byte) (calls int, responseCache bool, err error) {
	var resp struct {
		Extensions struct {
			Cost *struct {
				WorkableCalls int `json:"workableCalls"`
			} `json:"cost"`
			ResponseCache bool `json:"responseCache"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return 0, false, err
	}
	if resp.Extensions.Cost == nil {
		return 0, false, errors.New("the answer has no extensions.cost: is this the gateway?")
	}
	return resp.Extensions.Cost.WorkableCalls, resp.Extensions.ResponseCache, nil
}

// runCompare compares the data member of two files of answers, line by
// line, and names the first difference.
func runCompare(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	aFile := fs.String("a", "", "file of answers")
	bFile := fs.String("b", "", "file of answers to compare with")
	if err := fs.Parse(args); err != nil {
		return err
	}
	as, err := lines.Read(*aFile)
	if err != nil {
		return err
	}
	bs, err := lines.Read(*bFile)
	if err != nil {
		return err
	}
	if len(as) != len(bs) {
		return fmt.Errorf("%s has %d answers, %s %d", *aFile, len(as), *bFile, len(bs))
	}
	for i := range as {
		var a, b struct {
			Data any `json:"data"`
		}
		if err := json.Unmarshal(as[i], &a); err != nil {
			return fmt.Errorf("%s, answer %d: %w", *aFile, i+1, err)
		}
		if err := json.Unmarshal(bs[i], &b); err != nil {
			return fmt.Errorf("%s, answer %d: %w", *bFile, i+1, err)
		}
		if d := firstDifference("data", a.Data, b.Data); d != "" {
			return fmt.Errorf("answer %d differs between %s and %s: %s", i+1, *aFile, *bFile, d)
		}
	}
	return nil
}

// firstDifference describes where two decoded JSON values first differ, or
// returns "" when they are equal.
func firstDifference(path string, a, b any) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: %v vs %v", path, a, b)
		}
		keys := make([]string, 0, len(av)+len(bv))
		for k := range av {
			keys = append(keys, k)
		}
		for k := range bv {
			if _, ok := av[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if d := firstDifference(path+"."+k, av[k], bv[k]); d != "" {
				return d
			}
		}
		return ""
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return fmt.Sprintf("%s: a list of %d vs %v", path, len(av), describe(b))
		}
		for i := range av {
			if d := firstDifference(fmt.Sprintf("%s[%d]", path, i), av[i], bv[i]); d != "" {
				return d
			}
		}
		return ""
	default:
		if !reflect.DeepEqual(a, b) {
			return fmt.Sprintf("%s: %v vs %v", path, a, b)
		}
		return ""
	}
}

func describe(v any) string {
	if l, ok := v.([]any); ok {
		return fmt.Sprintf("a list of %d", len(l))
	}
	return fmt.Sprint(v)
}
