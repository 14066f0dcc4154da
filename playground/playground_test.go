package playground

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newServer mounts h the way server.go does: the page at the root only, the
// assets under their path.
func newServer(t *testing.T, h http.Handler, assetsPath string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", h)
	mux.Handle("GET "+assetsPath, h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// get fetches url with the given request headers. It sets Accept-Encoding
// itself so that net/http's transport never decompresses behind our back.
func get(t *testing.T, url string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("new request for %s: %v", url, err)
	}
	req.Header.Set("Accept-Encoding", "identity")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return response{resp.StatusCode, resp.Header, body}
}

var (
	refPattern    = regexp.MustCompile(`(?:src|href)="([^"]*)"`)
	configPattern = regexp.MustCompile(`data-config="([^"]*)"`)
	scriptPattern = regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`)
)

// references returns the src and href attributes of page, skipping the
// data: favicon.
func references(page []byte) []string {
	var refs []string
	for _, m := range refPattern.FindAllSubmatch(page, -1) {
		if ref := html.UnescapeString(string(m[1])); !strings.HasPrefix(ref, "data:") {
			refs = append(refs, ref)
		}
	}
	return refs
}

func TestPageAndEveryAssetAreServed(t *testing.T) {
	srv := newServer(t, Handler("/query"), AssetsPath)

	page := get(t, srv.URL+"/", nil)
	if page.status != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", page.status)
	}
	if got, want := page.header.Get("Content-Type"), "text/html; charset=utf-8"; got != want {
		t.Errorf("GET / Content-Type = %q, want %q", got, want)
	}
	if got := page.header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("GET / Cache-Control = %q, want no-cache", got)
	}

	refs := references(page.body)
	wantTypes := map[string]string{
		"graphiql.min.css":            "text/css; charset=utf-8",
		"playground.css":              "text/css; charset=utf-8",
		"react.production.min.js":     "text/javascript; charset=utf-8",
		"react-dom.production.min.js": "text/javascript; charset=utf-8",
		"graphiql.min.js":             "text/javascript; charset=utf-8",
		"playground.js":               "text/javascript; charset=utf-8",
	}
	seen := map[string]bool{}
	for _, ref := range refs {
		name := ref[strings.LastIndex(ref, "/")+1:]
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			if !strings.HasPrefix(ref, AssetsPath) {
				t.Errorf("page references %q, want a path under %s", ref, AssetsPath)
			}
			plain := get(t, srv.URL+ref, nil)
			if plain.status != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200", ref, plain.status)
			}
			if got, want := plain.header.Get("Content-Type"), wantTypes[name]; got != want {
				t.Errorf("GET %s Content-Type = %q, want %q", ref, got, want)
			}
			if got, want := plain.header.Get("Cache-Control"), "public, max-age=31536000, immutable"; got != want {
				t.Errorf("GET %s Cache-Control = %q, want %q", ref, got, want)
			}
			if plain.header.Get("Content-Encoding") != "" || len(plain.body) == 0 {
				t.Errorf("GET %s without gzip: Content-Encoding %q, %d bytes; want a plain, non-empty body",
					ref, plain.header.Get("Content-Encoding"), len(plain.body))
			}

			gz := get(t, srv.URL+ref, map[string]string{"Accept-Encoding": "gzip, deflate, br"})
			if gz.status != http.StatusOK || gz.header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("GET %s with gzip = %d, Content-Encoding %q; want 200 gzip",
					ref, gz.status, gz.header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(gz.body))
			if err != nil {
				t.Fatalf("GET %s: gzip body: %v", ref, err)
			}
			unzipped, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("GET %s: gunzip: %v", ref, err)
			}
			if !bytes.Equal(unzipped, plain.body) {
				t.Errorf("GET %s: gunzipped body (%d bytes) differs from the plain one (%d bytes)",
					ref, len(unzipped), len(plain.body))
			}
			if len(gz.body) >= len(plain.body) && len(plain.body) > 1024 {
				t.Errorf("GET %s: gzip body is %d bytes, plain %d: not compressed", ref, len(gz.body), len(plain.body))
			}
			if gz.header.Get("ETag") == plain.header.Get("ETag") {
				t.Errorf("GET %s: gzip and plain bodies share ETag %s", ref, gz.header.Get("ETag"))
			}

			again := get(t, srv.URL+ref, map[string]string{"If-None-Match": plain.header.Get("ETag")})
			if again.status != http.StatusNotModified {
				t.Errorf("GET %s with If-None-Match = %d, want 304", ref, again.status)
			}
		})
	}
	var missing []string
	for name := range wantTypes {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 || len(refs) != len(wantTypes) {
		t.Errorf("page references %q; missing %q", refs, missing)
	}
}

func TestPageLoadsNothingFromOutsideTheGateway(t *testing.T) {
	srv := newServer(t, Handler("/query"), AssetsPath)
	page := get(t, srv.URL+"/", nil)

	if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9]`).Find(page.body); m != nil {
		t.Errorf("page contains the URL %q; want only paths on the gateway:\n%s", m, page.body)
	}
	for _, m := range scriptPattern.FindAllSubmatch(page.body, -1) {
		if !strings.Contains(string(m[1]), "src=") || strings.TrimSpace(string(m[2])) != "" {
			t.Errorf("page has an inline script %q; every script must be a file", m[0])
		}
	}
	if regexp.MustCompile(`\son[a-z]+=`).Match(page.body) {
		t.Errorf("page has an inline event handler:\n%s", page.body)
	}
	// Style sheets and the bootstrap script may not pull anything in from
	// elsewhere either (GraphiQL's fonts are data: URLs).
	external := regexp.MustCompile(`url\(\s*['"]?(https?:)?//|@import`)
	for _, ref := range references(page.body) {
		if !strings.HasSuffix(ref, ".css") && !strings.HasSuffix(ref, "/playground.js") {
			continue
		}
		body := get(t, srv.URL+ref, nil).body
		if m := external.Find(body); m != nil {
			t.Errorf("%s loads from outside the gateway: %q", ref, m)
		}
		if strings.HasSuffix(ref, ".js") && regexp.MustCompile(`https?://`).Match(body) {
			t.Errorf("%s names an external URL", ref)
		}
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	for _, tc := range []struct {
		name, endpoint string
		want           []string
	}{
		{
			name:     "same origin",
			endpoint: "/query",
			want: []string{
				"default-src 'self'",
				"script-src 'self'",
				"style-src 'self' 'unsafe-inline'",
				"font-src 'self' data:",
				"img-src 'self' data:",
				"connect-src 'self'",
				"object-src 'none'",
				"base-uri 'none'",
				"form-action 'self'",
				"frame-ancestors 'none'",
			},
		},
		{
			name:     "endpoint on another origin",
			endpoint: "https://api.example.com/graphql",
			want: []string{
				"default-src 'self'",
				"script-src 'self'",
				"style-src 'self' 'unsafe-inline'",
				"font-src 'self' data:",
				"img-src 'self' data:",
				"connect-src 'self' https://api.example.com",
				"object-src 'none'",
				"base-uri 'none'",
				"form-action 'self'",
				"frame-ancestors 'none'",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, Handler(tc.endpoint), AssetsPath)
			page := get(t, srv.URL+"/", nil)
			csp := page.header.Get("Content-Security-Policy")
			if diff := cmp.Diff(tc.want, strings.Split(csp, "; ")); diff != "" {
				t.Errorf("Content-Security-Policy (-want +got):\n%s", diff)
			}
			for _, tok := range []string{"unsafe-eval", "*"} {
				if strings.Contains(csp, tok) {
					t.Errorf("Content-Security-Policy %q contains %q", csp, tok)
				}
			}
			if got := page.header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
		})
	}
}

func TestUnknownAssetsAreNotFound(t *testing.T) {
	srv := newServer(t, Handler("/query"), AssetsPath)
	var version string
	for _, ref := range references(get(t, srv.URL+"/", nil).body) {
		if strings.HasSuffix(ref, "/graphiql.min.js") {
			version = strings.Split(strings.TrimPrefix(ref, AssetsPath), "/")[0]
		}
	}
	if version == "" {
		t.Fatal("page does not reference graphiql.min.js")
	}
	for _, path := range []string{
		AssetsPath,
		AssetsPath + "nope.js",
		AssetsPath + "graphiql.min.js",               // no version
		AssetsPath + "000000000000/graphiql.min.js",  // stale version
		AssetsPath + version + "/nope.js",            // unknown file
		AssetsPath + version + "/../graphiql.min.js", // cleaned by the mux
		AssetsPath + version + "/VERSIONS",           // in assets/ but not embedded
		AssetsPath + version + "/graphiql.min.js/x",
	} {
		t.Run(path, func(t *testing.T) {
			resp := get(t, srv.URL+path, nil)
			if resp.status != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404", path, resp.status)
			}
		})
	}
}

func TestMethodsOtherThanGetAreRefused(t *testing.T) {
	h := Handler("/query")
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		t.Run(method, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, "/", nil))
			if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("%s / = %d, Allow %q; want 405, GET, HEAD", method, rec.Code, rec.Header().Get("Allow"))
			}
		})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD / = %d with %d bytes, want 200 with no body", rec.Code, rec.Body.Len())
	}
}

func TestOptions(t *testing.T) {
	type pageConfig struct {
		Endpoint string            `json:"endpoint"`
		Headers  map[string]string `json:"headers"`
		Query    string            `json:"query"`
	}
	for _, tc := range []struct {
		name       string
		endpoint   string
		opts       []Option
		assetsPath string
		wantTitle  string
		want       pageConfig
	}{
		{
			name:       "defaults",
			endpoint:   "/query",
			assetsPath: AssetsPath,
			wantTitle:  "GraphiQL",
			want:       pageConfig{Endpoint: "/query"},
		},
		{
			name:     "every option",
			endpoint: "/api/graphql",
			opts: []Option{
				WithTitle(`Workable <GraphQL> "gateway"`),
				WithHeaders(map[string]string{"X-Workable-Credential": `"quoted" & <tagged>`}),
				WithDefaultQuery("{ jobs(first: 3) { nodes { shortcode } } }"),
				WithAssetsPath("/static/gql/"),
			},
			assetsPath: "/static/gql/",
			wantTitle:  `Workable <GraphQL> "gateway"`,
			want: pageConfig{
				Endpoint: "/api/graphql",
				Headers:  map[string]string{"X-Workable-Credential": `"quoted" & <tagged>`},
				Query:    "{ jobs(first: 3) { nodes { shortcode } } }",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, Handler(tc.endpoint, tc.opts...), tc.assetsPath)
			page := get(t, srv.URL+"/", nil)

			m := configPattern.FindSubmatch(page.body)
			if m == nil {
				t.Fatalf("page has no data-config attribute:\n%s", page.body)
			}
			var got pageConfig
			if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &got); err != nil {
				t.Fatalf("data-config %q: %v", m[1], err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("page settings (-want +got):\n%s", diff)
			}
			title := regexp.MustCompile(`<title>(.*)</title>`).FindSubmatch(page.body)
			if title == nil || html.UnescapeString(string(title[1])) != tc.wantTitle {
				t.Errorf("page title = %q, want %q", title, tc.wantTitle)
			}
			for _, ref := range references(page.body) {
				if !strings.HasPrefix(ref, tc.assetsPath) {
					t.Errorf("page references %q outside %s", ref, tc.assetsPath)
				} else if resp := get(t, srv.URL+ref, nil); resp.status != http.StatusOK {
					t.Errorf("GET %s = %d, want 200", ref, resp.status)
				}
			}
		})
	}
}

func TestWithHeadersCopiesTheMap(t *testing.T) {
	headers := map[string]string{"X-A": "1"}
	h := Handler("/query", WithHeaders(headers))
	headers["X-A"] = "changed"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if !strings.Contains(html.UnescapeString(rec.Body.String()), `"X-A":"1"`) {
		t.Errorf("page does not keep the headers given at construction:\n%s", rec.Body)
	}
}

func TestInvalidAssetsPathPanics(t *testing.T) {
	for _, path := range []string{"", "assets/", "/assets"} {
		t.Run(path, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Handler with assets path %q did not panic", path)
				}
			}()
			Handler("/query", WithAssetsPath(path))
		})
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"", false},
		{"identity", false},
		{"gzip", true},
		{"GZIP", true},
		{"deflate, gzip;q=0.5, br", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"*", true},
		{"gzip;q=0, *", false},
		{"*;q=0", false},
		{"br, *;q=0.1", true},
	} {
		t.Run(tc.header, func(t *testing.T) {
			if got := acceptsGzip(tc.header); got != tc.want {
				t.Errorf("acceptsGzip(%q) = %v, want %v", tc.header, got, tc.want)
			}
		})
	}
}
