package gateway

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	activityv1 "github.com/tia-platform/tia/proto/gen/tia/activity/v1"
	"github.com/tia-platform/tia/services/platform/auth"
	"github.com/tia-platform/tia/services/platform/refdata"
)

// pageLanguages are the interface languages: Swedish, English, Arabic, Dari,
// Tigrinya, Somali.
var pageLanguages = []string{"sv", "en", "ar", "prs", "ti", "so"}

func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	b, err := webFiles.ReadFile("web/assets/messages/" + lang + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	return m
}

var placeholder = regexp.MustCompile(`\{\w+\}`)

func placeholders(s string) []string {
	p := placeholder.FindAllString(s, -1)
	sort.Strings(p)
	return p
}

// TestPageMessagesComplete fails when a key of the English catalogue is
// missing (or empty) in another language, when a translation drops or adds a
// placeholder, or when a "translation" is the English text copied.
func TestPageMessagesComplete(t *testing.T) {
	en := catalogue(t, "en")
	for _, lang := range pageLanguages {
		if lang == "en" {
			continue
		}
		m := catalogue(t, lang)
		for key, english := range en {
			got, ok := m[key]
			switch {
			case !ok || strings.TrimSpace(got) == "":
				t.Errorf("%s.json: key %q is missing", lang, key)
			case !slices.Equal(placeholders(got), placeholders(english)):
				t.Errorf("%s.json %q: placeholders %v, English has %v", lang, key, placeholders(got), placeholders(english))
			case got == english && strings.Trim(placeholder.ReplaceAllString(english, ""), " –") != "":
				t.Errorf("%s.json %q is the English text %q", lang, key, english)
			}
		}
		for key := range m {
			if _, ok := en[key]; !ok {
				t.Errorf("%s.json: key %q is not in en.json", lang, key)
			}
		}
	}
}

// TestPageMessagesUsed fails when a page or script asks for a key that the
// English catalogue lacks, including the keys built from the API's enums and
// the token's roles.
func TestPageMessagesUsed(t *testing.T) {
	en := catalogue(t, "en")
	used := map[string]bool{}
	attr := regexp.MustCompile(`data-i18n="([\w.]+)"|'data-i18n': '([\w.]+)'|\bt\('([\w.]+)'|row\('([\w.]+)'`)
	for name, a := range mustAssets(t) {
		if !strings.HasSuffix(name, ".js") && !strings.HasPrefix(a.ctype, "text/html") {
			continue
		}
		for _, m := range attr.FindAllStringSubmatch(string(a.body), -1) {
			for _, g := range m[1:] {
				if g != "" && !strings.HasSuffix(g, ".") {
					used[g] = true
				}
			}
		}
	}
	for _, v := range activityv1.Focus_name {
		used["focus."+v] = v != "FOCUS_UNSPECIFIED"
	}
	for _, v := range activityv1.ActivityStatus_name {
		used["status."+v] = true
	}
	for _, v := range activityv1.Participation_name {
		used["participation."+v] = true
	}
	for _, r := range []auth.Role{auth.RoleMigrationsverket, auth.RoleCountyBoard, auth.RoleFolkbildningsradet, auth.RoleOrganiser, auth.RoleAsylumSeeker} {
		used["role."+string(r)] = true
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys in the pages: the scan is broken", len(used))
	}
	for key, want := range used {
		if _, ok := en[key]; want && !ok {
			t.Errorf("key %q is used but missing in en.json", key)
		}
	}
}

func mustAssets(t *testing.T) map[string]*asset {
	t.Helper()
	a, err := pageAssets()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func getPage(t *testing.T, h http.Handler, target string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestPagesServed(t *testing.T) {
	h, err := PagesHandler()
	if err != nil {
		t.Fatal(err)
	}
	assets := mustAssets(t)
	ref := regexp.MustCompile(`(?:src|href)="(/pages/[^"]+)"`)
	imports := regexp.MustCompile(`from '\./([\w-]+\.js)'`)
	for _, page := range Pages {
		resp := getPage(t, h, "/pages/"+page)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("%s: HTTP %d %s", page, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("%s: CSP %q", page, csp)
		}
		if bytes.Contains(body, []byte("<script>")) || bytes.Contains(body, []byte("style=")) || bytes.Contains(body, []byte("<style")) {
			t.Errorf("%s has an inline script or style, which the CSP forbids", page)
		}
		// Every file the page names, and every module those import, is served.
		for _, m := range ref.FindAllStringSubmatch(string(body), -1) {
			if _, ok := assets[m[1]]; !ok {
				t.Errorf("%s loads %s, which is not served", page, m[1])
			}
		}
	}
	for name, a := range assets {
		if path.Ext(name) != ".js" {
			continue
		}
		for _, m := range imports.FindAllStringSubmatch(string(a.body), -1) {
			if _, ok := assets[path.Dir(name)+"/"+m[1]]; !ok {
				t.Errorf("%s imports %s, which is not served", name, m[1])
			}
		}
	}

	types := map[string]string{
		"/pages/assets/js/catalogue.js":        "text/javascript; charset=utf-8",
		"/pages/assets/pages.css":              "text/css; charset=utf-8",
		"/pages/assets/messages/ar.json":       "application/json",
		"/pages/assets/icon.svg":               "image/svg+xml",
		"/pages/assets/sweden.json":            "application/json",
		"/pages/assets/js/participants.js":     "text/javascript; charset=utf-8",
		"/pages/assets/messages/../../catalog": "",
	}
	for target, want := range types {
		resp := getPage(t, h, target)
		if want == "" {
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: HTTP %d, want 404", target, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != want || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: HTTP %d %q, want %q", target, resp.StatusCode, resp.Header.Get("Content-Type"), want)
		}
	}

	// Compression: br preferred, gzip next; each decodes to the file; each has
	// its own ETag, and If-None-Match answers 304 without a body.
	plain := getPage(t, h, "/pages/assets/js/coverage.js")
	want, _ := io.ReadAll(plain.Body)
	decoders := map[string]func(io.Reader) (io.Reader, error){
		"br":   func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil },
		"gzip": func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
	}
	etags := map[string]bool{plain.Header.Get("ETag"): true}
	for accept, enc := range map[string]string{"gzip, deflate, br, zstd": "br", "gzip;q=1, br;q=0": "gzip", "identity": ""} {
		resp := getPage(t, h, "/pages/assets/js/coverage.js", "Accept-Encoding", accept)
		if got := resp.Header.Get("Content-Encoding"); got != enc || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("Accept-Encoding %q: Content-Encoding %q, want %q", accept, got, enc)
		}
		if enc == "" {
			continue
		}
		r, err := decoders[enc](resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s body does not decode to the file (%v)", enc, err)
		}
		if int(resp.ContentLength) >= len(want) {
			t.Errorf("%s: %d bytes, the file has %d", enc, resp.ContentLength, len(want))
		}
		etag := resp.Header.Get("ETag")
		if etags[etag] || !strings.HasPrefix(etag, `"`) {
			t.Errorf("%s: ETag %q is not its own", enc, etag)
		}
		etags[etag] = true
		again := getPage(t, h, "/pages/assets/js/coverage.js", "Accept-Encoding", accept, "If-None-Match", etag)
		if b, _ := io.ReadAll(again.Body); again.StatusCode != http.StatusNotModified || len(b) != 0 {
			t.Errorf("%s revalidation: HTTP %d with %d bytes", enc, again.StatusCode, len(b))
		}
	}
	if resp := getPage(t, h, "/pages/"); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/pages/catalogue" {
		t.Errorf("/pages/: HTTP %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req := httptest.NewRequest("POST", "/pages/catalogue", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: HTTP %d", rec.Code)
	}
}

// TestSwedenOutline: the outline shipped for the map (from the npm package
// world-atlas) is Sweden's: nearly every kommun seat lies inside it, and all
// within its bounds.
func TestSwedenOutline(t *testing.T) {
	var o struct {
		Source string
		Rings  [][][2]float64
	}
	if err := json.Unmarshal(mustAssets(t)["/pages/assets/sweden.json"].body, &o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(o.Source, "world-atlas") || len(o.Rings) == 0 {
		t.Fatalf("outline: source %q, %d rings", o.Source, len(o.Rings))
	}
	inside := func(lon, lat float64) bool {
		in := false
		for _, ring := range o.Rings {
			for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
				a, b := ring[i], ring[j]
				if (a[1] > lat) != (b[1] > lat) && lon < (b[0]-a[0])*(lat-a[1])/(b[1]-a[1])+a[0] {
					in = !in
				}
			}
		}
		return in
	}
	var out []string
	for _, k := range refdata.Kommuner() {
		if k.Lon < 10.5 || k.Lon > 24.5 || k.Lat < 55 || k.Lat > 69.5 {
			t.Errorf("%s (%s) lies outside Sweden's bounds", k.Name, k.Code)
		}
		if !inside(k.Lon, k.Lat) {
			out = append(out, k.Name)
		}
	}
	// Seats on small islands and at the coast fall outside a 1:50m outline.
	if len(out) > len(refdata.Kommuner())/20 {
		t.Errorf("%d seats lie outside the outline: %v", len(out), out)
	}
}
