// Package playground serves GraphiQL, the in-browser GraphQL IDE, from files
// embedded in the binary, so it works on a machine with no internet access and
// under a strict Content-Security-Policy.
//
// The page, its bootstrap script and every asset it loads are embedded in the
// binary: GraphiQL 3.9.0 (its UMD bundle graphiql.min.js and graphiql.min.css)
// with React and ReactDOM 18.3.1 (their UMD production builds), copied
// unmodified from the npm releases by update-assets.sh, which records the exact
// versions in assets/VERSIONS and their checksums in assets/SHA256SUMS. To
// upgrade, edit the versions in update-assets.sh and run it.
//
// Handler serves both the page and the assets. Assets live under AssetsPath
// (or the path given with WithAssetsPath), in a directory named after a hash
// of their content, so they can be cached for a year; the page itself is never
// cached. A server mounts the handler on the page's path and on the assets'
// path:
//
//	pg := playground.Handler("/query", playground.WithTitle("Workable GraphQL gateway"))
//	mux.Handle("GET /{$}", pg)
//	mux.Handle("GET "+playground.AssetsPath, pg)
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// AssetsPath is the default URL path under which Handler serves the page's
// scripts and style sheets.
const AssetsPath = "/playground/assets/"

var (
	//go:embed page.html
	pageHTML string
	//go:embed assets/graphiql.min.css
	graphiqlCSS []byte
	//go:embed assets/playground.css
	playgroundCSS []byte
	//go:embed assets/react.production.min.js
	reactJS []byte
	//go:embed assets/react-dom.production.min.js
	reactDOMJS []byte
	//go:embed assets/graphiql.min.js
	graphiqlJS []byte
	//go:embed assets/playground.js
	playgroundJS []byte
)

// embedded lists the files the page loads, in the order it loads them.
func embedded() []struct {
	name string
	body []byte
} {
	return []struct {
		name string
		body []byte
	}{
		{"graphiql.min.css", graphiqlCSS},
		{"playground.css", playgroundCSS},
		{"react.production.min.js", reactJS},
		{"react-dom.production.min.js", reactDOMJS},
		{"graphiql.min.js", graphiqlJS},
		{"playground.js", playgroundJS},
	}
}

// Option changes how Handler builds the page.
type Option func(*config)

type config struct {
	title      string
	headers    map[string]string
	query      string
	assetsPath string
}

// WithTitle sets the page title; the default is "GraphiQL".
func WithTitle(title string) Option {
	return func(c *config) { c.title = title }
}

// WithHeaders sets the request headers the editor starts with (shown in its
// Headers tab), for example a credential header the user fills in. A user's
// own edits, kept by GraphiQL in the browser, take precedence.
func WithHeaders(headers map[string]string) Option {
	return func(c *config) {
		c.headers = make(map[string]string, len(headers))
		for k, v := range headers {
			c.headers[k] = v
		}
	}
}

// WithDefaultQuery sets the query shown in the editor on a first visit.
func WithDefaultQuery(query string) Option {
	return func(c *config) { c.query = query }
}

// WithAssetsPath sets the absolute URL path under which the handler serves
// its assets; it must start and end with "/". The server must route that path
// to the handler too.
func WithAssetsPath(path string) Option {
	return func(c *config) { c.assetsPath = path }
}

// Handler returns an http.Handler that serves the GraphiQL page, talking to
// the GraphQL endpoint at endpoint (a path such as "/query" or an absolute
// URL), for every GET or HEAD request outside the assets path, and the page's
// assets under the assets path. It panics if an option is invalid, as
// template.Must does, since options are fixed in code.
func Handler(endpoint string, opts ...Option) http.Handler {
	cfg := config{title: "GraphiQL", assetsPath: AssetsPath}
	for _, opt := range opts {
		opt(&cfg)
	}
	if !strings.HasPrefix(cfg.assetsPath, "/") || !strings.HasSuffix(cfg.assetsPath, "/") {
		panic(fmt.Sprintf("playground: assets path %q must start and end with /", cfg.assetsPath))
	}

	h := &handler{
		assetsPath: cfg.assetsPath,
		assets:     make(map[string]*asset),
		csp:        contentSecurityPolicy(endpoint),
	}
	var data struct {
		Title, Endpoint, Config string
		Styles, Scripts         []string
	}
	for _, f := range embedded() {
		sum := sha256.Sum256(f.body)
		version := hex.EncodeToString(sum[:6])
		rel := version + "/" + f.name
		a := &asset{body: f.body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		if strings.HasSuffix(f.name, ".css") {
			a.contentType = "text/css; charset=utf-8"
			data.Styles = append(data.Styles, cfg.assetsPath+rel)
		} else {
			a.contentType = "text/javascript; charset=utf-8"
			data.Scripts = append(data.Scripts, cfg.assetsPath+rel)
		}
		h.assets[rel] = a
	}
	pageConfig, err := json.Marshal(struct {
		Endpoint string            `json:"endpoint"`
		Headers  map[string]string `json:"headers,omitempty"`
		Query    string            `json:"query,omitempty"`
	}{endpoint, cfg.headers, cfg.query})
	if err != nil {
		panic(fmt.Sprintf("playground: encode the page settings: %v", err))
	}
	data.Title, data.Endpoint, data.Config = cfg.title, endpoint, string(pageConfig)
	var page bytes.Buffer
	if err := template.Must(template.New("page").Parse(pageHTML)).Execute(&page, data); err != nil {
		panic(fmt.Sprintf("playground: render the page: %v", err))
	}
	h.page = page.Bytes()
	return h
}

// contentSecurityPolicy returns the page's policy: everything from the
// gateway itself, no inline or evaluated scripts. GraphiQL sets inline styles
// on its elements (hence 'unsafe-inline' for styles only) and embeds its fonts
// as data: URLs. An endpoint on another origin is allowed for fetches.
func contentSecurityPolicy(endpoint string) string {
	connect := "'self'"
	if u, err := url.Parse(endpoint); err == nil && u.IsAbs() && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"font-src 'self' data:",
		"img-src 'self' data:",
		"connect-src " + connect,
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
}

type handler struct {
	page       []byte
	csp        string
	assetsPath string
	assets     map[string]*asset // by "<content hash>/<file name>"
}

// asset is one embedded file, with its gzip encoding made on first demand.
type asset struct {
	body        []byte
	contentType string
	etag        string

	gzipOnce sync.Once
	gzipped  []byte
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if rel, ok := strings.CutPrefix(r.URL.Path, h.assetsPath); ok {
		h.serveAsset(w, r, rel)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", h.csp)
	w.Header().Set("Referrer-Policy", "no-referrer")
	// The page names assets by content hash, so it must be revalidated to pick
	// up a new release; the assets themselves never change under one name.
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.page))
}

func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, rel string) {
	a, ok := h.assets[rel]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	hdr.Set("Vary", "Accept-Encoding")
	body, etag := a.body, a.etag
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body = a.gzip()
		etag = strings.TrimSuffix(a.etag, `"`) + `-gzip"`
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func (a *asset) gzip() []byte {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
		zw.Write(a.body)                                         // a bytes.Buffer cannot fail
		zw.Close()
		a.gzipped = buf.Bytes()
	})
	return a.gzipped
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip, either
// by name or through "*", and not with q=0.
func acceptsGzip(header string) bool {
	allowed := map[string]bool{}
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		allowed[coding] = strings.TrimRight(q, "0.") != "q="
	}
	if ok, named := allowed["gzip"]; named {
		return ok
	}
	return allowed["*"]
}
