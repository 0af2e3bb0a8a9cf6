package api_test

import (
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
		if h.Get("Content-Security-Policy") == "" || h.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: CSP %q, Cache-Control %q: want a CSP and no-cache", p, h.Get("Content-Security-Policy"), h.Get("Cache-Control"))
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
