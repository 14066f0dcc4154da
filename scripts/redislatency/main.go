// Command redislatency measures how long the gateway's own Redis
// operations take on the Redis at -redis (a REDIS_URL), through the
// gateway's own code and client: the rate limiter's admission script
// (ratebudget.Limiter.Wait), a batch's getMany (the 20 records of a page and
// their 20 generation tokens in one pipelined read, cache.RedisStore.GetMany)
// and a generation read (one token). Each operation runs in its own workers
// for -duration, each worker pausing -interval between calls, with the
// timeouts set far above any answer (10 s) so that slow answers are measured
// rather than cut. It prints one Markdown table row per operation:
//
//	| label | operation | calls | p50 ms | p99 ms | p99.9 ms | max ms |
//
// scripts/redislatency.sh runs it while the Redis and the gateway are
// loaded; the README's "Redis timeouts" paragraph gives its figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/workablegw/gateway/cache"
	"github.com/workablegw/gateway/ratebudget"
	"github.com/workablegw/gateway/redisconn"
	"github.com/workablegw/gateway/scripts/internal/command"
	"github.com/workablegw/gateway/workable"
)

func main() { command.Main("redislatency", run) }

// measureTimeout bounds each call: far above any answer, so that a slow one
// is measured, not cut short.
const measureTimeout = 10 * time.Second

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("redislatency", flag.ContinueOnError)
	url := fs.String("redis", os.Getenv("REDIS_URL"), "the Redis to measure (a REDIS_URL)")
	duration := fs.Duration("duration", 20*time.Second, "how long each operation is measured")
	workers := fs.Int("workers", 2, "concurrent callers per operation")
	interval := fs.Duration("interval", 2*time.Millisecond, "pause of each worker between two calls")
	label := fs.String("label", "idle", "the first column of the rows: what loads the machine meanwhile")
	header := fs.Bool("header", false, "print the table's header first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		return fmt.Errorf("need -redis or REDIS_URL")
	}
	client, err := redisconn.NewClient(*url)
	if err != nil {
		return err
	}
	defer client.Close()
	prefix := "redislatency:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	defer func() {
		_ = cache.NewRedis(client).DeletePrefix(context.WithoutCancel(ctx), prefix)
	}()

	store := cache.NewRedis(client, cache.WithTimeout(measureTimeout))
	// A page: 20 records and their generation tokens, as a batch reads them.
	var page []string
	var items []cache.Item
	for i := range 20 {
		rec, gen := fmt.Sprintf("%scand:%d", prefix, i), fmt.Sprintf("%sgen:cand:%d", prefix, i)
		page = append(page, rec, gen)
		items = append(items,
			cache.Item{Key: rec, Value: make([]byte, 1200), FreshFor: time.Hour},
			cache.Item{Key: gen, Value: []byte("0123456789abcdef"), FreshFor: time.Hour})
	}
	if err := store.SetMany(ctx, items); err != nil {
		return fmt.Errorf("store the page: %w", err)
	}
	// Up to 1000 admissions a second: every call of the probe is admitted
	// at once, one run of the admission script each.
	limiter := ratebudget.NewLimiter(client, prefix+"rate", workable.MaxAdoptedLimit, time.Second,
		ratebudget.WithFixedLimit(), ratebudget.WithTimeout(measureTimeout))

	ops := []struct {
		name string
		call func(context.Context) error
	}{
		{"limiter admission script", func(ctx context.Context) error { return limiter.Wait(ctx, workable.PriorityRead) }},
		{"getMany (20 records + 20 generations)", func(ctx context.Context) error { _, err := store.GetMany(ctx, page); return err }},
		{"generation read (1 key)", func(ctx context.Context) error { _, err := store.GetMany(ctx, page[1:2]); return err }},
	}
	if *header {
		fmt.Println("| load | operation | calls | p50 ms | p99 ms | p99.9 ms | max ms |")
		fmt.Println("|---|---|---:|---:|---:|---:|---:|")
	}
	results := make([][]time.Duration, len(ops))
	errs := make([]error, len(ops))
	mctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, op := range ops {
		for range *workers {
			wg.Go(func() {
				var mine []time.Duration
				for mctx.Err() == nil {
					start := time.Now()
					err := op.call(mctx)
					took := time.Since(start)
					if err != nil {
						if mctx.Err() == nil {
							mu.Lock()
							errs[i] = fmt.Errorf("%s: %w", op.name, err)
							mu.Unlock()
						}
						break
					}
					mine = append(mine, took)
					select {
					case <-mctx.Done():
					case <-time.After(*interval):
					}
				}
				mu.Lock()
				results[i] = append(results[i], mine...)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	for i, op := range ops {
		if errs[i] != nil {
			return errs[i]
		}
		d := results[i]
		slices.Sort(d)
		if len(d) == 0 {
			return fmt.Errorf("%s: no call completed", op.name)
		}
		fmt.Printf("| %s | %s | %d | %s | %s | %s | %s |\n", *label, op.name, len(d),
			ms(quantile(d, 0.5)), ms(quantile(d, 0.99)), ms(quantile(d, 0.999)), ms(d[len(d)-1]))
	}
	return nil
}

// quantile returns the q-quantile of sorted d (nearest rank).
func quantile(d []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(d))+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64)
}
