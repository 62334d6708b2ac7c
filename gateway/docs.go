package gateway

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// /docs is the human-readable reference of the REST API: /openapi.json
// rendered by Redoc (npm package redoc 2.5.2, its standalone bundle; MIT,
// third_party/redoc/redoc.LICENSE). Every file is compiled into the binary,
// so the page needs no other origin at run time. Our page is in docs/; the
// bundle, third-party code kept as it is published, in third_party/redoc/:
// `make docs-assets` copies it from clients/typescript/node_modules, and the
// client test checks that the copy is the installed version. Both folders
// are served under /docs/.
//
//go:embed docs/index.html docs/docs.js
//go:embed third_party/redoc/redoc.standalone.js third_party/redoc/redoc.standalone.js.LICENSE.txt third_party/redoc/redoc.LICENSE
var docsFiles embed.FS

// docsDirs are the folders of docsFiles.
var docsDirs = []string{"docs", "third_party/redoc"}

// DocsCSP is the Content-Security-Policy of /docs and its files: the edge's
// own policy plus what Redoc needs, inline styles (styled-components writes
// <style> elements) and data: images in those styles. Scripts stay
// same-origin only: the page is set up by docs/docs.js, not inline code.
const DocsCSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// mountDocs adds GET /docs and GET /docs/{file}.
func mountDocs(mux *http.ServeMux) {
	files := map[string]*asset{} // compressed once when first asked for, as the pages are
	for _, dir := range docsDirs {
		entries, err := docsFiles.ReadDir(dir)
		if err != nil {
			panic(err) // the directory is embedded
		}
		for _, e := range entries {
			body, err := docsFiles.ReadFile(dir + "/" + e.Name())
			if err != nil {
				panic(err)
			}
			ctype := mime.TypeByExtension(path.Ext(e.Name()))
			switch {
			case strings.HasSuffix(e.Name(), ".LICENSE"), strings.HasSuffix(e.Name(), ".txt"):
				ctype = "text/plain; charset=utf-8"
			case strings.HasSuffix(e.Name(), ".js"):
				ctype = "text/javascript; charset=utf-8"
			}
			sum := sha256.Sum256(body)
			files[e.Name()] = &asset{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		}
	}
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		serveDocsFile(w, r, files["index.html"])
	})
	mux.HandleFunc("GET /docs/{file}", func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.PathValue("file")]
		if !ok || r.PathValue("file") == "index.html" {
			http.NotFound(w, r)
			return
		}
		serveDocsFile(w, r, f)
	})
}

func serveDocsFile(w http.ResponseWriter, r *http.Request, f *asset) {
	h := w.Header()
	h.Set("Content-Security-Policy", DocsCSP)
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Vary", "Accept-Encoding")
	etag := f.etag
	body := f.body
	if acceptsGzip(r) {
		etag = strings.TrimSuffix(etag, `"`) + `-gzip"`
		body = f.gzip()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	if etagMatches(r.Header.Values("If-None-Match"), etag) {
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// acceptsGzip reports whether the client takes a gzip-compressed body.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimSpace(params), "q="), 64)
			return params == "" || (err == nil && q > 0)
		}
	}
	return false
}
