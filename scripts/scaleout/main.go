// Command scaleout runs the checks of scripts/scaleout.sh against gateway
// replicas that share one Redis Cluster, in front of a Workable simulator that
// enforces its rate limit, and prints a Markdown table of the results:
//
//	scaleout -replicas URL,URL,URL -redis-ports P,P,P -subdomain S -token T
//
//	burst      30 distinct cold candidates, asked at once, spread over the
//	           replicas: no Workable 429, no error, every answer arrives
//	coherence  a write (updateCandidate) through the first replica is seen
//	           at once by the others, which had the old value cached
//	pause      the burst again (30 other candidates) while the Redis master
//	           that holds the rate budget's keys (found with CLUSTER KEYSLOT
//	           and the cluster's slot map) is paused (CLIENT PAUSE, 12 s by
//	           default: longer than a window, so that the replicas count on
//	           their shares), again 2 s after each pause ends: no 429
//	coalescing one cold candidate asked on every replica at once costs one
//	           Workable call
//
// Workable 429s are counted from the replicas' own metric
// (workable_gateway_workable_calls_total with status="429"): every answer the
// simulator gives goes through one of them. It exits 1, naming the checks
// that failed, when one fails.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/scripts/internal/command"
)

func main() { command.Main("scaleout", run) }

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("scaleout", flag.ContinueOnError)
	replicas := fs.String("replicas", "", "comma-separated base URLs of the gateway replicas (http://127.0.0.1:PORT)")
	redisPorts := fs.String("redis-ports", "", "comma-separated loopback ports of the Redis Cluster masters")
	burst := fs.Int("burst", 30, "distinct cold candidates per burst")
	pauseMillis := fs.Int("pause", 12000, "CLIENT PAUSE length in milliseconds")
	subdomain := fs.String("subdomain", "", "the Workable subdomain the replicas use (names the rate budget's keys)")
	token := fs.String("token", "", "the Workable token the replicas use (names the rate budget's keys)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c := checker{
		http:       &http.Client{Timeout: 2 * time.Minute},
		replicas:   splitList(*replicas),
		redisPorts: splitList(*redisPorts),
		burst:      *burst,
		pause:      time.Duration(*pauseMillis) * time.Millisecond,
	}
	if len(c.replicas) < 2 || len(c.redisPorts) == 0 || *subdomain == "" || *token == "" {
		return errors.New("need -replicas (at least 2), -redis-ports, -subdomain and -token")
	}
	// The replicas' limiter keeps its keys under one hash tag (see
	// ratebudget.NewLimiter): they all live on the master of its slot.
	c.budgetKey = "{" + cache.Namespace(*subdomain, *token) + "rate}:log"
	rows, err := c.run(ctx)
	printTable(os.Stdout, rows)
	if err != nil {
		return fmt.Errorf("FAILED: %w", err)
	}
	var failed []string
	for _, r := range rows {
		if !r.ok {
			fmt.Fprintf(os.Stderr, "scaleout: FAILED: %s: %s\n", r.check, r.figures)
			failed = append(failed, r.check)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("FAILED: %d of %d checks: %s", len(failed), len(rows), strings.Join(failed, "; "))
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// row is one line of the result table.
type row struct {
	check   string
	ok      bool
	figures string
}

func printTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| check | result | figures |")
	fmt.Fprintln(w, "|---|---|---|")
	for _, r := range rows {
		res := "pass"
		if !r.ok {
			res = "**FAIL**"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", r.check, res, r.figures)
	}
}

type checker struct {
	http       *http.Client
	replicas   []string
	redisPorts []string
	burst      int
	pause      time.Duration
	budgetKey  string
	// budgetMaster is the port of the master holding budgetKey, found by
	// run.
	budgetMaster string
}

func (c checker) run(ctx context.Context) ([]row, error) {
	master, slot, err := c.masterOf(ctx, c.budgetKey)
	if err != nil {
		return nil, err
	}
	c.budgetMaster = master
	ids, err := c.candidateIDs(ctx, 2*c.burst+1)
	if err != nil {
		return nil, err
	}
	var rows []row
	// Each burst starts on an idle budget, so that its figures do not
	// depend on what came before it.
	if err := c.waitBudgetIdle(ctx); err != nil {
		return rows, err
	}
	burst, err := c.runBurst(ctx, "burst", ids[:c.burst], nil)
	if err != nil {
		return rows, err
	}
	rows = append(rows, burst)
	coherence, err := c.coherence(ctx, ids[0])
	if err != nil {
		return rows, err
	}
	rows = append(rows, coherence)
	if err := c.waitBudgetIdle(ctx); err != nil {
		return rows, err
	}
	pause, err := c.runBurst(ctx, fmt.Sprintf("pause (`CLIENT PAUSE %d` on the budget's master, slot %d)", c.pause.Milliseconds(), slot),
		ids[c.burst:2*c.burst], c.pauseBudgetMaster)
	if err != nil {
		return rows, err
	}
	rows = append(rows, pause)
	if err := c.waitBudgetIdle(ctx); err != nil {
		return rows, err
	}
	coalescing, err := c.coalesce(ctx, ids[2*c.burst])
	if err != nil {
		return rows, err
	}
	return append(rows, coalescing), nil
}

// gqlResponse is the part of a GraphQL answer the checks read.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
	Extensions struct {
		Cost struct {
			WorkableCalls int `json:"workableCalls"`
		} `json:"cost"`
	} `json:"extensions"`
}

// errorCodes lists the answer's error codes (or messages without a code).
func (r gqlResponse) errorCodes() []string {
	var out []string
	for _, e := range r.Errors {
		if e.Extensions.Code != "" {
			out = append(out, e.Extensions.Code)
		} else {
			out = append(out, e.Message)
		}
	}
	return out
}

// query posts a GraphQL request to the replica at base.
func (c checker) query(ctx context.Context, base, query string, vars map[string]any) (gqlResponse, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return gqlResponse{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/query", bytes.NewReader(body))
	if err != nil {
		return gqlResponse{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return gqlResponse{}, fmt.Errorf("query %s: %w", base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return gqlResponse{}, fmt.Errorf("read the answer of %s: %w", base, err)
	}
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return gqlResponse{}, fmt.Errorf("decode the answer of %s (HTTP %d): %w", base, resp.StatusCode, err)
	}
	return out, nil
}

// candidateIDs lists the first n candidates through the first replica (one
// or two list calls to Workable; a list does not fill the candidates'
// details, so their detail stays cold).
func (c checker) candidateIDs(ctx context.Context, n int) ([]string, error) {
	var ids []string
	after := ""
	for len(ids) < n {
		vars := map[string]any{"first": min(100, n-len(ids))}
		if after != "" {
			vars["after"] = after
		}
		resp, err := c.query(ctx, c.replicas[0],
			`query($first: Int, $after: String) { candidates(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }`, vars)
		if err != nil {
			return nil, fmt.Errorf("list candidates: %w", err)
		}
		if len(resp.Errors) > 0 {
			return nil, fmt.Errorf("list candidates: %v", resp.errorCodes())
		}
		var page struct {
			Candidates struct {
				Nodes    []struct{ ID string }
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		if err := json.Unmarshal(resp.Data, &page); err != nil {
			return nil, fmt.Errorf("decode the candidates: %w", err)
		}
		for _, n := range page.Candidates.Nodes {
			ids = append(ids, n.ID)
		}
		if !page.Candidates.PageInfo.HasNextPage {
			break
		}
		after = page.Candidates.PageInfo.EndCursor
	}
	if len(ids) < n {
		return nil, fmt.Errorf("the simulator has %d candidates, the checks need %d", len(ids), n)
	}
	return ids[:n], nil
}

// waitBudgetIdle waits until nothing counts against the shared rate budget
// (workableBudget.resetsAt is null), for two windows at most.
func (c checker) waitBudgetIdle(ctx context.Context) error {
	deadline := time.Now().Add(25 * time.Second)
	for {
		resp, err := c.query(ctx, c.replicas[0], `{ workableBudget { resetsAt queued } }`, nil)
		if err != nil {
			return fmt.Errorf("read the rate budget: %w", err)
		}
		var d struct {
			WorkableBudget struct {
				ResetsAt *string
				Queued   int
			}
		}
		if err := json.Unmarshal(resp.Data, &d); err != nil {
			return fmt.Errorf("decode the rate budget: %w", err)
		}
		if d.WorkableBudget.ResetsAt == nil && d.WorkableBudget.Queued == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the rate budget did not become idle within 25 s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// workable429s sums the Workable 429 answers every replica has counted.
func (c checker) workable429s(ctx context.Context) (int, error) {
	return c.workableCalls(ctx, `status="429"`)
}

// workableCalls sums the Workable calls every replica has counted
// (workable_gateway_workable_calls_total) whose labels contain label.
func (c checker) workableCalls(ctx context.Context, label string) (int, error) {
	total := 0
	for _, base := range c.replicas {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
		if err != nil {
			return 0, err
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return 0, fmt.Errorf("read the metrics of %s: %w", base, err)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "workable_gateway_workable_calls_total{") || !strings.Contains(line, label) {
				continue
			}
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				resp.Body.Close()
				return 0, fmt.Errorf("metrics of %s: %q: %w", base, line, err)
			}
			total += int(v)
		}
		err = sc.Err()
		resp.Body.Close()
		if err != nil {
			return 0, fmt.Errorf("read the metrics of %s: %w", base, err)
		}
	}
	return total, nil
}

// coalesce asks for one cold candidate on every replica at once: the
// deployment should call Workable once for it.
func (c checker) coalesce(ctx context.Context, id string) (row, error) {
	const route = `route="GET /candidates/{id}"`
	before, err := c.workableCalls(ctx, route)
	if err != nil {
		return row{}, err
	}
	var wg sync.WaitGroup
	codes := make([][]string, len(c.replicas))
	errs := make([]error, len(c.replicas))
	for i, base := range c.replicas {
		wg.Go(func() {
			resp, err := c.query(ctx, base, `query($id: ID!) { candidate(id: $id) { id summary } }`, map[string]any{"id": id})
			codes[i], errs[i] = resp.errorCodes(), err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return row{}, err
	}
	after, err := c.workableCalls(ctx, route)
	if err != nil {
		return row{}, err
	}
	failed := 0
	for _, cs := range codes {
		failed += len(cs)
	}
	calls := after - before
	return row{
		check:   "coalescing",
		ok:      calls == 1 && failed == 0,
		figures: fmt.Sprintf("the same cold candidate on %d replicas at once: Workable called %d× (GET /candidates/{id}), %d errors", len(c.replicas), calls, failed),
	}, nil
}

// runBurst asks for each id's detail at once, id i on replica i mod N, with
// during (when set) running alongside until the last answer arrives.
func (c checker) runBurst(ctx context.Context, name string, ids []string, during func(context.Context) (string, error)) (row, error) {
	before, err := c.workable429s(ctx)
	if err != nil {
		return row{}, err
	}
	type result struct {
		took  time.Duration
		calls int
		codes []string
		err   error
	}
	results := make([]result, len(ids))
	duringCtx, stopDuring := context.WithCancel(ctx)
	type outcome struct {
		note string
		err  error
	}
	duringNote := make(chan outcome, 1)
	if during != nil {
		go func() {
			note, err := during(duringCtx)
			duringNote <- outcome{note, err}
		}()
	} else {
		duringNote <- outcome{}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			resp, err := c.query(ctx, c.replicas[i%len(c.replicas)],
				`query($id: ID!) { candidate(id: $id) { id name headline summary } }`, map[string]any{"id": id})
			results[i] = result{took: time.Since(start), calls: resp.Extensions.Cost.WorkableCalls, codes: resp.errorCodes(), err: err}
		})
	}
	wg.Wait()
	stopDuring()
	dn := <-duringNote
	if dn.err != nil {
		return row{}, fmt.Errorf("%s: %w", name, dn.err)
	}
	note := dn.note
	after, err := c.workable429s(ctx)
	if err != nil {
		return row{}, err
	}
	var last time.Duration
	calls, failed := 0, 0
	codes := map[string]int{}
	for _, r := range results {
		last = max(last, r.took)
		calls += r.calls
		if r.err != nil {
			failed++
			codes["transport"]++
		}
		for _, code := range r.codes {
			failed++
			codes[code]++
		}
	}
	n429 := after - before
	figures := fmt.Sprintf("%d queries over %d replicas: %d Workable calls, %d×429, %d errors%s, last answer after %.1f s",
		len(ids), len(c.replicas), calls, n429, failed, formatCodes(codes), last.Seconds())
	if note != "" {
		figures += "; " + note
	}
	ok := n429 == 0 && failed == 0
	if during != nil {
		// While the budget's master is paused for longer than a window,
		// each replica sends only its share: a query whose turn cannot
		// come before its deadline is refused with RATE_LIMITED (and when
		// to come back), which is the gateway keeping the budget; any
		// other error, or a 429 from Workable, fails the check.
		ok = n429 == 0 && failed == codes["RATE_LIMITED"]
	}
	return row{check: name, ok: ok, figures: figures}, nil
}

func formatCodes(codes map[string]int) string {
	if len(codes) == 0 {
		return ""
	}
	var parts []string
	for code, n := range codes {
		parts = append(parts, fmt.Sprintf("%s×%d", code, n))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// masterOf returns the port of the master that holds key, and key's slot:
// CLUSTER KEYSLOT, then the master serving that slot in the cluster's slot
// map (CLUSTER SLOTS, as the cluster client reads it).
func (c checker) masterOf(ctx context.Context, key string) (port string, slot int64, err error) {
	addrs := make([]string, len(c.redisPorts))
	for i, p := range c.redisPorts {
		addrs[i] = "127.0.0.1:" + p
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer rdb.Close()
	if slot, err = rdb.ClusterKeySlot(ctx, key).Result(); err != nil {
		return "", 0, fmt.Errorf("CLUSTER KEYSLOT %s: %w", key, err)
	}
	master, err := rdb.MasterForKey(ctx, key)
	if err != nil {
		return "", 0, fmt.Errorf("the master of slot %d: %w", slot, err)
	}
	_, port, found := strings.Cut(master.Options().Addr, ":")
	if !found {
		return "", 0, fmt.Errorf("the master of slot %d has no port: %q", slot, master.Options().Addr)
	}
	return port, slot, nil
}

// pauseBudgetMaster pauses the master holding the rate budget (CLIENT
// PAUSE) right away, and again 2 s after each pause ends, until ctx ends,
// and says how often it did. A pause that fails is a failure of the check.
func (c checker) pauseBudgetMaster(ctx context.Context) (string, error) {
	rounds := 0
	for {
		cmd := exec.CommandContext(ctx, "redis-cli", "-p", c.budgetMaster, "CLIENT", "PAUSE", strconv.FormatInt(c.pause.Milliseconds(), 10))
		if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "OK" {
			if ctx.Err() != nil {
				break
			}
			return "", fmt.Errorf("CLIENT PAUSE on port %s: %v %s", c.budgetMaster, err, out)
		}
		rounds++
		select {
		case <-ctx.Done():
		case <-time.After(c.pause + 2*time.Second):
			continue
		}
		break
	}
	// The checks after this one need the master: end its pause.
	if out, err := exec.Command("redis-cli", "-p", c.budgetMaster, "CLIENT", "UNPAUSE").CombinedOutput(); err != nil {
		return "", fmt.Errorf("CLIENT UNPAUSE on port %s: %v %s", c.budgetMaster, err, out)
	}
	return fmt.Sprintf("%d pauses of %.1f s of the master on port %s", rounds, c.pause.Seconds(), c.budgetMaster), nil
}

// coherence reads id's headline on every replica (so that each holds it),
// changes it through the first one, then reads it at once on the others.
func (c checker) coherence(ctx context.Context, id string) (row, error) {
	const read = `query($id: ID!) { candidate(id: $id) { headline } }`
	// headline reads id's headline on base, and how many Workable calls
	// the answer cost.
	headline := func(base string) (string, int, error) {
		resp, err := c.query(ctx, base, read, map[string]any{"id": id})
		if err != nil {
			return "", 0, err
		}
		if len(resp.Errors) > 0 {
			return "", 0, fmt.Errorf("read candidate %s on %s: %v", id, base, resp.errorCodes())
		}
		var d struct{ Candidate struct{ Headline *string } }
		if err := json.Unmarshal(resp.Data, &d); err != nil {
			return "", 0, fmt.Errorf("decode candidate %s: %w", id, err)
		}
		if d.Candidate.Headline == nil {
			return "", resp.Extensions.Cost.WorkableCalls, nil
		}
		return *d.Candidate.Headline, resp.Extensions.Cost.WorkableCalls, nil
	}
	// Every replica reads it twice, so that the second answer comes from
	// its caches: the check is then that the write reaches them.
	for i, base := range c.replicas {
		var calls int
		for range 2 {
			var err error
			if _, calls, err = headline(base); err != nil {
				return row{}, err
			}
		}
		if calls != 0 {
			return row{check: "coherence", figures: fmt.Sprintf("replica %d still called Workable on its second read", i+1)}, nil
		}
	}
	want := fmt.Sprintf("scaleout check %d", time.Now().UnixNano())
	resp, err := c.query(ctx, c.replicas[0],
		`mutation($id: ID!, $h: String) { updateCandidate(input: {id: $id, headline: $h}) { candidate { headline } userErrors { message } } }`,
		map[string]any{"id": id, "h": want})
	if err != nil {
		return row{}, err
	}
	if len(resp.Errors) > 0 || bytes.Contains(resp.Data, []byte(`"message"`)) {
		return row{check: "coherence", figures: fmt.Sprintf("updateCandidate on replica 1 failed: %v %s", resp.errorCodes(), resp.Data)}, nil
	}
	ok := true
	var seen []string
	for i, base := range c.replicas[1:] {
		start := time.Now()
		got, calls, err := headline(base)
		if err != nil {
			return row{}, err
		}
		took := time.Since(start)
		if got != want {
			ok = false
			seen = append(seen, fmt.Sprintf("replica %d: old value %q", i+2, got))
		} else {
			seen = append(seen, fmt.Sprintf("replica %d: new value in %.1f ms (%d Workable calls)", i+2, float64(took.Microseconds())/1000, calls))
		}
	}
	return row{check: "coherence", ok: ok, figures: "updateCandidate on replica 1, read at once where it was cached: " + strings.Join(seen, ", ")}, nil
}
