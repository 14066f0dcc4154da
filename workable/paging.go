package workable

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
)

// page decodes a list body: the items under key, and paging.next, which
// Workable sends only when more results remain (API.md §2 "Paging").
type page[T any] struct {
	key   string
	items []T
	next  string
}

func (p *page[T]) UnmarshalJSON(b []byte) error {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(b, &env); err != nil {
		return err
	}
	raw, ok := env[p.key]
	if !ok {
		return fmt.Errorf("response has no %q key", p.key)
	}
	if err := json.Unmarshal(raw, &p.items); err != nil {
		return fmt.Errorf("decode %q: %w", p.key, err)
	}
	if raw, ok := env["paging"]; ok {
		var pg struct {
			Next string `json:"next"`
		}
		if err := json.Unmarshal(raw, &pg); err != nil {
			return fmt.Errorf("decode paging: %w", err)
		}
		p.next = pg.Next
	}
	return nil
}

// list fetches one page of a list endpoint whose items are under key.
func list[T any](ctx context.Context, c *Client, route string, u *url.URL, key string) ([]T, *Response, error) {
	p := &page[T]{key: key}
	resp, err := c.send(ctx, http.MethodGet, route, u, nil, p)
	if err != nil {
		return nil, resp, err
	}
	resp.pageKey, resp.pageRoute = key, route
	resp.NextURL = p.next
	if p.next != "" {
		if nu, err := url.Parse(p.next); err == nil {
			resp.NextSinceID = nu.Query().Get("since_id")
		}
	}
	return p.items, resp, nil
}

// array fetches a list that is not paged: a bare JSON array (how a live
// account answers /departments and /disqualification_reasons, API.md §10)
// or an object holding the array under key (how /stages answers, API.md §9).
func array[T any](ctx context.Context, c *Client, route string, u *url.URL, key string) ([]T, *Response, error) {
	body, resp, err := getBody(ctx, c, route, u)
	if err != nil {
		return nil, resp, err
	}
	if len(body) > 0 && body[0] == '{' {
		var env map[string]json.RawMessage
		if err := json.Unmarshal(body, &env); err != nil {
			return nil, resp, c.decodeError(route, err)
		}
		inner, ok := env[key]
		if !ok {
			return nil, resp, &requestError{route: route, msg: fmt.Sprintf("response has no %q key", key), unavailable: true}
		}
		body = inner
	}
	var items []T
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, resp, c.decodeError(route, err)
	}
	return items, resp, nil
}

// getBody sends GET u and returns its body, trimmed of white space.
func getBody(ctx context.Context, c *Client, route string, u *url.URL) ([]byte, *Response, error) {
	raw, resp, err := get[json.RawMessage](ctx, c, route, u)
	if err != nil {
		return nil, resp, err
	}
	return bytes.TrimSpace(*raw), resp, nil
}

// decodeError is the error of a response body that does not decode: the
// answer is unusable, as if Workable had not given one.
func (c *Client) decodeError(route string, err error) error {
	return &requestError{route: route, msg: "decode response body: " + redact(err.Error(), c.token), err: err, unavailable: true}
}

// listOrArray fetches a list whose shape the reference does not settle: a
// bare JSON array, or an object holding the array under key with an
// optional paging.next (which the Response then carries, for NextPage and
// Walk).
func listOrArray[T any](ctx context.Context, c *Client, route string, u *url.URL, key string) ([]T, *Response, error) {
	body, resp, err := getBody(ctx, c, route, u)
	if err != nil {
		return nil, resp, err
	}
	if len(body) > 0 && body[0] == '{' {
		p := &page[T]{key: key}
		if err := json.Unmarshal(body, p); err != nil {
			return nil, resp, c.decodeError(route, err)
		}
		resp.pageKey, resp.pageRoute, resp.NextURL = key, route, p.next
		if p.next != "" {
			if nu, err := url.Parse(p.next); err == nil {
				resp.NextSinceID = nu.Query().Get("since_id")
			}
		}
		return p.items, resp, nil
	}
	var items []T
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, resp, c.decodeError(route, err)
	}
	return items, resp, nil
}

// nextPage fetches prev.NextURL verbatim (it carries the original filters),
// provided it is on the base URL's scheme and host: the token must never be
// sent to another host.
func nextPage[T any](ctx context.Context, c *Client, prev *Response) ([]T, *Response, error) {
	u, err := url.Parse(prev.NextURL)
	if err != nil {
		return nil, nil, fmt.Errorf("workable: %s: parse next page URL: %w", prev.pageRoute, err)
	}
	if !u.IsAbs() || !c.sameOrigin(u) {
		return nil, nil, fmt.Errorf("workable: %s: next page on %q: %w", prev.pageRoute, u.Host, ErrForeignNextURL)
	}
	return list[T](ctx, c, c.routeOf(u, prev.pageRoute), u, prev.pageKey)
}

// routeOf names the route of a next page URL for request events and
// metrics: a live GET /candidates?shortcode=X pages through
// /jobs/X/candidates (API.md §10), so the next page's route is not always
// the first page's. Paths outside the base URL keep fallback.
func (c *Client) routeOf(u *url.URL, fallback string) string {
	rest, ok := strings.CutPrefix(u.Path, c.baseURL.Path)
	if !ok || rest == "" {
		return fallback
	}
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	for i := 1; i < len(segs); i++ {
		switch segs[i-1] {
		case "jobs":
			segs[i] = "{shortcode}"
		case "candidates":
			segs[i] = "{id}"
		}
	}
	return "GET /" + strings.Join(segs, "/")
}

// NextPage fetches the page after prev, a Response of a list method (or of
// NextPage): prev.NextURL exactly as Workable gave it — it may name another
// path than the first page's, as a live GET /candidates?shortcode= pages
// through /jobs/:shortcode/candidates (API.md §10) — provided it is on the
// base URL's scheme and host, else an error wrapping ErrForeignNextURL. T
// is the list's item type. It is an error to call it when prev.NextURL is
// empty.
func NextPage[T any](ctx context.Context, c *Client, prev *Response) ([]T, *Response, error) {
	if prev == nil || prev.NextURL == "" {
		return nil, nil, errors.New("workable: next page: the previous page was the last")
	}
	if prev.pageKey == "" {
		return nil, nil, errors.New("workable: next page: the previous page does not come from a list method")
	}
	return nextPage[T](ctx, c, prev)
}

// Walk iterates over every item of a list, page after page. first fetches the
// first page, typically a closure over a List method:
//
//	for job, err := range workable.Walk(ctx, c, func(ctx context.Context) ([]*workable.Job, *workable.Response, error) {
//		return c.Jobs.List(ctx, &workable.JobListOptions{State: "published", ListOptions: workable.ListOptions{Limit: 100}})
//	}, 10) {
//		if err != nil { … }
//	}
//
// Walk then follows each Response.NextURL (with the same route and item key)
// until a page has none. It fetches at most maxPages pages (values below 1
// mean 1); when more remain it yields a final error wrapping ErrPageLimit.
// A NextURL on another scheme or host stops the walk with an error wrapping
// ErrForeignNextURL. Any error is yielded once, with the zero T, and ends the
// walk. Every page costs one request against the rate limit.
func Walk[T any](ctx context.Context, c *Client, first func(ctx context.Context) ([]T, *Response, error), maxPages int) iter.Seq2[T, error] {
	maxPages = max(maxPages, 1)
	return func(yield func(T, error) bool) {
		var zero T
		items, resp, err := first(ctx)
		for pages := 1; ; pages++ {
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if resp == nil || resp.NextURL == "" {
				return
			}
			if resp.pageKey == "" {
				yield(zero, fmt.Errorf("workable: walk: first page does not come from a list method"))
				return
			}
			if pages >= maxPages {
				yield(zero, fmt.Errorf("workable: %s: stopped after %d pages: %w", resp.pageRoute, pages, ErrPageLimit))
				return
			}
			items, resp, err = nextPage[T](ctx, c, resp)
		}
	}
}
