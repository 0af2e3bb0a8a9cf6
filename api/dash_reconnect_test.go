package api_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// TestANetworkErrorClearsOnReconnect: while the server cannot be reached, a read that fails
// says so in words (not the browser's "Failed to fetch"); once the live stream is back, the
// error goes: on a quiet ledger nothing else would clear it (a supervisor saw it stay for
// minutes beside "caught up" after a restart).
func TestANetworkErrorClearsOnReconnect(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the reconnect test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := &env{t: t, l: storetest.Start(t, eventstore.Config{}), today: today}
	e.loadTokens()
	e.runner = startRunner(t, e.l.Store)
	// down drops every connection, as a server stopped would; going down ends the live streams.
	var down atomic.Bool
	var mu sync.Mutex
	var streams []context.CancelFunc
	var asked []string // the queries the page's live streams were opened with
	e.wrap = func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
					c.Close()
				}
				return
			}
			if r.URL.Path == "/v1/live" {
				ctx, cancel := context.WithCancel(r.Context())
				mu.Lock()
				streams = append(streams, cancel)
				asked = append(asked, r.URL.RawQuery)
				mu.Unlock()
				r = r.WithContext(ctx)
			}
			h.ServeHTTP(w, r)
		})
	}
	e.serve()

	ctx := startBrowser(t)
	watchConsole(t, ctx)
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/#/"))
	poll(t, ctx, 15*time.Second, `document.getElementById('token-dialog').open`)
	run(t, ctx, chromedp.SendKeys(chromedp.ID("token-input"), tokSuper+"\r"))
	poll(t, ctx, 15*time.Second, `document.getElementById('conn').dataset.state === 'on' && document.getElementById('caught-up').dataset.state === 'ok'`)
	// The page re-reads what it shows: its stream carries no figures, most of an event's bytes.
	mu.Lock()
	if len(asked) == 0 || slices.ContainsFunc(asked, func(q string) bool { return q != "figures=none" }) {
		t.Errorf("the page opened its live streams with the queries %q, want figures=none", asked)
	}
	mu.Unlock()

	down.Store(true)
	mu.Lock()
	for _, cancel := range streams {
		cancel()
	}
	mu.Unlock()
	poll(t, ctx, 15*time.Second, `document.getElementById('conn').dataset.state !== 'on'`)
	// The state is told in words in a live region: a screen reader hears the page go offline.
	if got := eval[[]string](t, ctx, `(s => [s.getAttribute('role'), s.textContent])(document.getElementById('conn-text'))`); got[0] != "status" || !strings.Contains(got[1], "offline") && !strings.Contains(got[1], "connecting") {
		t.Errorf("the connection state is %q in an element of role %q; want offline or connecting, role status", got[1], got[0])
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`import('/assets/api.js').then(m => m.api('/v1/counties')).catch(e => import('/assets/header.js').then(h => h.showError(e)))`))
	poll(t, ctx, 15*time.Second, `!document.getElementById('error').hidden`)
	if got := eval[string](t, ctx, `document.getElementById('error').textContent`); !strings.Contains(got, "无法连接服务器") || !strings.Contains(got, "could not be reached") {
		t.Errorf("a read the server could not answer says %q, want it in words", got)
	}

	refreshes := eval[int](t, ctx, `window.kz.refreshes`)
	down.Store(false)
	poll(t, ctx, 30*time.Second, `document.getElementById('conn').dataset.state === 'on' && document.getElementById('error').hidden`)
	// What failed meanwhile is read again, though the quiet ledger announces no new sequence.
	poll(t, ctx, 15*time.Second, fmt.Sprintf(`window.kz.refreshes > %d`, refreshes))
}
