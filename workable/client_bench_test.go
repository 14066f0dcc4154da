package workable

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// openLimiter admits every call at once and remembers nothing.
type openLimiter struct{}

func (openLimiter) Wait(ctx context.Context, _ Priority) error { return ctx.Err() }
func (openLimiter) Observe(Rate)                               {}

// fixedTransport answers every request with body, in process.
type fixedTransport struct{ body string }

func (t fixedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json"}, "X-Rate-Limit-Limit": {"10"}},
		Body:       io.NopCloser(strings.NewReader(t.body)),
		Request:    r,
	}, nil
}

// BenchmarkEndpoint measures what the client adds to a Workable call (the
// request's URL, query and body, the attempt, decoding and the error
// context) on an in-process transport with an open limiter: the cost of a
// cache miss other than the network and Workable itself.
func BenchmarkEndpoint(b *testing.B) {
	const candidate = `{"candidate":{"id":"3f2a1b","name":"Ada Lovelace","email":"ada@example.com","stage":"Interview"}}`
	const jobs = `{"jobs":[{"id":"61884e2","shortcode":"GROOV005","title":"Backend engineer","state":"published"}],` +
		`"paging":{"next":"http://workable.test/spi/v3/jobs?limit=1&since_id=61884e3"}}`
	newClient := func(b *testing.B, body string) *Client {
		c, err := NewClient("groove-tech", testToken, WithBaseURL("http://workable.test/spi/v3/"),
			WithHTTPClient(&http.Client{Transport: fixedTransport{body}}), WithRateLimiter(openLimiter{}))
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	b.Run("candidates.get", func(b *testing.B) {
		c := newClient(b, candidate)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := c.Candidates.Get(ctx, "3f2a1b"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jobs.list", func(b *testing.B) {
		c := newClient(b, jobs)
		opts := &JobListOptions{State: "published", ListOptions: ListOptions{Limit: 1}}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := c.Jobs.List(ctx, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("candidates.update", func(b *testing.B) {
		c := newClient(b, candidate)
		patch := CandidatePatch{Headline: Some("Engineer"), Tags: Some([]string{"go"})}
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := c.Candidates.Update(ctx, "3f2a1b", patch); err != nil {
				b.Fatal(err)
			}
		}
	})
}
