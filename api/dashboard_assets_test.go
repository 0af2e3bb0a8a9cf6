package api_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api"
	"github.com/kuozheng/kuozheng/domain"
)

// moduleImport finds a module's static imports, the page's module script, and a module loaded
// on first use (import('./x.js')).
var moduleImport = regexp.MustCompile(`(?m)^import [^;]*? from '\./([a-z]+\.js)';$|<script type="module" src="/assets/([a-z]+\.js)">|\bimport\('\./([a-z]+\.js)'\)`)

// TestDashboardFilesAreServedAsModules: every file of the dashboard and every module the page
// imports, from the page's script down, is part of the page (a module nothing imports is dead)
// and answers 200 with its media type (a browser refuses a
// module served as anything but JavaScript), the CSP, no-cache and an ETag that an unchanged
// file answers with 304.
func TestDashboardFilesAreServedAsModules(t *testing.T) {
	srv := httptest.NewServer(api.New(api.Config{Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
	defer srv.Close()
	entries, err := os.ReadDir("dashboard")
	if err != nil {
		t.Fatal(err)
	}
	queue := []string{"/", "/assets/labels.js"}
	for _, e := range entries {
		queue = append(queue, "/assets/"+e.Name())
	}
	media := map[string]string{"": "text/html", ".html": "text/html", ".css": "text/css", ".js": "text/javascript"}
	seen := map[string]bool{}
	imported := map[string]bool{} // the modules some file imports, and the page's script
	etags := map[string]string{}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		res, err := srv.Client().Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		h := res.Header
		if ct := h.Get("Content-Type"); res.StatusCode != http.StatusOK || !strings.HasPrefix(ct, media[path.Ext(p)]) {
			t.Errorf("GET %s: %d %q, want 200 %s", p, res.StatusCode, ct, media[path.Ext(p)])
			continue
		}
		// Nothing from elsewhere: scripts, styles, fonts and requests from the server itself only.
		if path.Ext(p) != ".js" && regexp.MustCompile(`(src|href)="(https?:)?//`).Match(body) {
			t.Errorf("GET %s links a file of another origin", p)
		}
		if csp := h.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self';") || strings.Contains(csp, "http") || strings.Contains(csp, "unsafe-eval") || h.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: CSP %q, Cache-Control %q: want default-src 'self', no other origin, no eval, and no-cache", p, csp, h.Get("Cache-Control"))
		}
		// The page is index.html under two paths; other files have ETags of their own.
		file := strings.Replace(path.Base(p), "/", "index.html", 1)
		etag := h.Get("ETag")
		if other, ok := etags[etag]; (ok && other != file) || etag == "" {
			t.Errorf("GET %s: ETag %q, empty or the same as %s's", p, etag, other)
		}
		etags[etag] = file
		req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
		req.Header.Set("If-None-Match", etag)
		again, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		again.Body.Close()
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match its ETag: %d, want 304", p, again.StatusCode)
		}
		for _, m := range moduleImport.FindAllSubmatch(body, -1) {
			imp := "/assets/" + string(m[1]) + string(m[2]) + string(m[3])
			imported[imp] = true
			queue = append(queue, imp)
		}
	}
	// The page names its icon inline: a browser would otherwise ask for /favicon.ico, a 404
	// on every visit.
	page, err := srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !regexp.MustCompile(`<link rel="icon" href="data:image/svg\+xml,`).Match(html) {
		t.Errorf("the page names no icon of its own")
	}
	for p := range seen {
		if strings.HasSuffix(p, ".js") && !imported[p] {
			t.Errorf("%s is neither the page's module script nor imported by a module", p)
		}
	}
	res, err := srv.Client().Get(srv.URL + "/assets/no-such.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /assets/no-such.js: %d, want 404", res.StatusCode)
	}
}

// TestDashboardFilesAreGzippedForClientsThatAcceptIt: every file answers gzipped to a client
// that accepts gzip, the same bytes once unzipped, and as they are to one that does not (or
// refuses gzip with q=0); the page's files come to well under half their size.
func TestDashboardFilesAreGzippedForClientsThatAcceptIt(t *testing.T) {
	srv := httptest.NewServer(api.New(api.Config{Today: func() domain.Date { return domain.MustDate("2006-12-31") }}))
	defer srv.Close()
	entries, err := os.ReadDir("dashboard")
	if err != nil {
		t.Fatal(err)
	}
	get := func(p, accept string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
		req.Header.Set("Accept-Encoding", accept) // set by hand: the client then unzips nothing
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, body
	}
	var plain, zipped int
	for _, e := range append(entries, nil) {
		p := "/assets/labels.js"
		if e != nil {
			p = "/assets/" + e.Name()
		}
		res, identity := get(p, "identity")
		if res.Header.Get("Content-Encoding") != "" {
			t.Errorf("GET %s accepting identity: Content-Encoding %q", p, res.Header.Get("Content-Encoding"))
		}
		if res, _ := get(p, "gzip;q=0, identity"); res.Header.Get("Content-Encoding") != "" {
			t.Errorf("GET %s refusing gzip: Content-Encoding %q", p, res.Header.Get("Content-Encoding"))
		}
		res, gz := get(p, "br, gzip;q=0.8")
		if res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("GET %s accepting gzip: Content-Encoding %q, Vary %q", p, res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(unzipped, identity) {
			t.Errorf("GET %s: the gzipped answer unzips to %d bytes (%v), not the %d served plain", p, len(unzipped), err, len(identity))
		}
		plain += len(identity)
		zipped += len(gz)
	}
	t.Logf("the dashboard's files: %d bytes, %d gzipped", plain, zipped)
	if zipped*2 > plain {
		t.Errorf("the dashboard's files gzip to %d of %d bytes: want under half", zipped, plain)
	}
}
