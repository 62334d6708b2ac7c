package gateway

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// /docs serves the reference page and every file it loads from the binary,
// under a policy that allows no inline or foreign scripts.
func TestDocsPage(t *testing.T) {
	h := bareGateway(t)
	page := fetch(t, h, "/docs")
	if page.Code != http.StatusOK || !strings.HasPrefix(page.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("/docs: %d %s", page.Code, page.Header().Get("Content-Type"))
	}
	csp := page.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "script-src") || strings.Contains(csp, "http") {
		t.Errorf("/docs CSP %q: scripts must stay same-origin only", csp)
	}
	html := page.Body.String()
	if strings.Contains(html, "<script>") || regexp.MustCompile(`<script[^>]*>[^<]+</script>`).MatchString(html) {
		t.Errorf("/docs has an inline script:\n%s", html)
	}
	if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(html) {
		t.Errorf("/docs loads from another origin:\n%s", html)
	}
	srcs := regexp.MustCompile(`<script src="([^"]+)"`).FindAllStringSubmatch(html, -1)
	if len(srcs) != 2 {
		t.Fatalf("/docs loads %d scripts, want Redoc and its setup: %s", len(srcs), html)
	}
	for _, m := range srcs {
		rec := fetch(t, h, m[1])
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/javascript") || rec.Body.Len() == 0 {
			t.Errorf("%s: %d %s, %d bytes", m[1], rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
		}
	}
	setup := fetch(t, h, "/docs/docs.js").Body.String()
	if !strings.Contains(setup, `Redoc.init(`) || !strings.Contains(setup, `"/openapi.json"`) {
		t.Errorf("docs.js does not render /openapi.json:\n%s", setup)
	}
	bundle := fetch(t, h, "/docs/redoc.standalone.js")
	if bundle.Body.Len() < 500_000 || !strings.Contains(bundle.Body.String(), "Redoc") {
		t.Errorf("redoc.standalone.js: %d bytes", bundle.Body.Len())
	}
	if rec := fetch(t, h, "/docs/nothing.js"); rec.Code != http.StatusNotFound {
		t.Errorf("/docs/nothing.js: %d", rec.Code)
	}
}

func TestDocsCompressionAndCaching(t *testing.T) {
	h := bareGateway(t)
	plain := fetch(t, h, "/docs/redoc.standalone.js")
	zipped := fetch(t, h, "/docs/redoc.standalone.js", "Accept-Encoding", "br;q=1, gzip;q=0.8")
	if zipped.Header().Get("Content-Encoding") != "gzip" || zipped.Body.Len() >= plain.Body.Len()/2 {
		t.Fatalf("gzip: encoding %q, %d bytes of %d", zipped.Header().Get("Content-Encoding"), zipped.Body.Len(), plain.Body.Len())
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, plain.Body.Bytes()) {
		t.Fatalf("the gzipped bundle differs from the plain one (%v)", err)
	}
	if rec := fetch(t, h, "/docs/redoc.standalone.js", "Accept-Encoding", "gzip;q=0"); rec.Header().Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 still got %q", rec.Header().Get("Content-Encoding"))
	}
	etag := plain.Header().Get("ETag")
	if etag == "" || etag == zipped.Header().Get("ETag") {
		t.Errorf("ETags: plain %q, gzip %q", etag, zipped.Header().Get("ETag"))
	}
	if rec := fetch(t, h, "/docs/redoc.standalone.js", "If-None-Match", etag); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", rec.Code)
	}
}
