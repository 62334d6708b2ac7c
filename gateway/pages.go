package gateway

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

// The pages for people (the public catalogue, a county board's coverage map,
// an organiser's participants) are plain HTML, CSS and ES modules written by
// hand and embedded in the binary: `make run` needs Go only, and nothing is
// fetched from another origin. They call the same public REST API as any
// REST client; the edge only serves the files. A page is a template on the
// shared layout (web/layout.html), rendered once when the handler is built.
//
//go:embed web/*.html web/assets
var webFiles embed.FS

// PagesCSP is the Content-Security-Policy of every page and asset: scripts,
// styles, images and API calls from this origin only, nothing inline.
const PagesCSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// Pages lists the pages by name (the URL is /pages/<name>).
var Pages = []string{"catalogue", "coverage", "participants"}

// asset is one file as served: its bytes, compressed lazily once per encoding.
type asset struct {
	body  []byte
	ctype string
	etag  string // of the identity representation; encodings append a suffix

	gzipOnce, brOnce sync.Once
	gz, br           []byte
}

func (a *asset) gzip() []byte {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(a.body)
		_ = zw.Close()
		a.gz = buf.Bytes()
	})
	return a.gz
}

func (a *asset) brotli() []byte {
	a.brOnce.Do(func() {
		var buf bytes.Buffer
		bw := brotli.NewWriterLevel(&buf, brotli.BestCompression)
		_, _ = bw.Write(a.body)
		_ = bw.Close()
		a.br = buf.Bytes()
	})
	return a.br
}

func newAsset(name string, body []byte) *asset {
	ctype := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) { // not every system's MIME table knows these
	case ".js", ".mjs":
		ctype = "text/javascript; charset=utf-8"
	case ".json":
		ctype = "application/json"
	case ".css":
		ctype = "text/css; charset=utf-8"
	case ".html":
		ctype = "text/html; charset=utf-8"
	case ".svg":
		ctype = "image/svg+xml"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	sum := sha256.Sum256(body)
	return &asset{body: body, ctype: ctype, etag: base64.RawURLEncoding.EncodeToString(sum[:12])}
}

// renderPage renders web/<name>.html on the layout.
func renderPage(layout *template.Template, name string) ([]byte, error) {
	t, err := layout.Clone()
	if err == nil {
		t, err = t.ParseFS(webFiles, "web/"+name+".html")
	}
	var buf bytes.Buffer
	if err == nil {
		err = t.ExecuteTemplate(&buf, "layout", name)
	}
	return buf.Bytes(), err
}

// pageAssets maps URL paths to the rendered pages and the embedded files.
func pageAssets() (map[string]*asset, error) {
	assets := map[string]*asset{}
	layout, err := template.ParseFS(webFiles, "web/layout.html")
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	for _, p := range Pages {
		b, err := renderPage(layout, p)
		if err != nil {
			return nil, fmt.Errorf("pages: %w", err)
		}
		assets["/pages/"+p] = newAsset(p+".html", b)
	}
	err = fs.WalkDir(webFiles, "web/assets", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := webFiles.ReadFile(name)
		if err != nil {
			return err
		}
		assets["/pages/"+strings.TrimPrefix(name, "web/")] = newAsset(name, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	return assets, nil
}

// PagesHandler serves the pages and their assets under /pages/.
func PagesHandler() (http.Handler, error) {
	assets, err := pageAssets()
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", PagesCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == "/pages" || r.URL.Path == "/pages/" {
			http.Redirect(w, r, "/pages/catalogue", http.StatusFound)
			return
		}
		a, ok := assets[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		body, etag := a.body, a.etag
		switch negotiate(r.Header.Get("Accept-Encoding")) {
		case "br":
			body, etag = a.brotli(), a.etag+"-br"
			h.Set("Content-Encoding", "br")
		case "gzip":
			body, etag = a.gzip(), a.etag+"-gz"
			h.Set("Content-Encoding", "gzip")
		}
		etag = `"` + etag + `"`
		h.Set("Content-Type", a.ctype)
		h.Set("Vary", "Accept-Encoding")
		h.Set("ETag", etag)
		// Revalidate every time: the file names carry no version, and a 304
		// costs a few bytes.
		h.Set("Cache-Control", "no-cache")
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
			h.Del("Content-Encoding")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	}), nil
}

// negotiate picks br, gzip or identity ("") from an Accept-Encoding header.
func negotiate(accept string) string {
	ok := map[string]bool{}
	for _, part := range strings.Split(accept, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if k, v, found := strings.Cut(strings.TrimSpace(p), "="); found && strings.TrimSpace(k) == "q" {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if q > 0 && coding != "" {
			ok[coding] = true
		}
	}
	switch {
	case ok["br"]:
		return "br"
	case ok["gzip"]:
		return "gzip"
	}
	return ""
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// mountPages serves the pages under /pages/.
func mountPages(mux *http.ServeMux) error {
	h, err := PagesHandler()
	if err != nil {
		return err
	}
	mux.Handle("/pages", h)
	mux.Handle("/pages/", h)
	return nil
}
