package api_test

import (
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// TestTheTokenIsAskedForOnce: the page's first requests go out without a
// token; one answered 401 only after the clerk gave the token in the prompt another request
// opened is sent again with that token, not made to ask for it a second time (the dashboard's
// table stayed empty behind a prompt asking for the token just typed).
func TestTheTokenIsAskedForOnce(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the token test needs a real browser at %s: %v", chromiumPath, err)
	}
	held, release := make(chan struct{}, 1), make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	e := &env{t: t, l: storetest.Start(t, eventstore.Config{}), today: today}
	e.loadTokens()
	e.runner = startRunner(t, e.l.Store)
	// The first GET /v1/counties without a token is held until the token has been given.
	var first sync.Once
	e.wrap = func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/counties" && r.Header.Get("Authorization") == "" {
				first.Do(func() {
					held <- struct{}{}
					select {
					case <-release:
					case <-r.Context().Done():
					}
				})
			}
			h.ServeHTTP(w, r)
		})
	}
	e.serve()

	ctx := startBrowser(t)
	watchConsole(t, ctx)
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/#/"))
	select {
	case <-held:
	case <-ctx.Done():
		t.Fatalf("the page never asked for the counties: %v", ctx.Err())
	}
	// Another read, answered 401 at once, opens the prompt while the counties' is held (the
	// page's first reads are one request since it reads the groups with the counties).
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`import('/assets/api.js').then(m => m.api('/v1/targets')).catch(() => {})`))
	poll(t, ctx, 15*time.Second, `document.getElementById('token-dialog').open`)
	run(t, ctx, chromedp.SendKeys(chromedp.ID("token-input"), tokAuditor+"\r"))
	poll(t, ctx, 15*time.Second, `sessionStorage.getItem('kuozheng-token') === '`+tokAuditor+`' && !document.getElementById('token-dialog').open`)
	once.Do(func() { close(release) })

	poll(t, ctx, 15*time.Second, `document.querySelectorAll('#counties-body tr[data-county]').length > 0 || document.getElementById('token-dialog').open`)
	if eval[bool](t, ctx, `document.getElementById('token-dialog').open`) {
		t.Fatalf("the prompt asks again for the token just given (%q)", eval[string](t, ctx, `document.getElementById('token-reason').textContent`))
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#counties-body tr[data-county]').length`); n != 19 {
		t.Errorf("the auditor's table shows %d counties, want 19", n)
	}
}
