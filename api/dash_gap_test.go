package api_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestRefreshesKeepTheirGapInChromium: a refresh of the page's tables begins at least
// kz.refreshGapMs after the one before began, and the writes within the gap are shown at its
// end: under a stream of writes the page re-read a few hundred kilobytes as fast as the server
// answered (an outside review measured 5.6-25 MB a minute for one page on the demo).
func TestRefreshesKeepTheirGapInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	id := e.register(t, tokAdmin, orgCode(19601), "360702")
	e.waitViews(t, e.l.Store.Applied())
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	signIn(t, ctx, e.srv.URL+"/", tokSuper)
	poll(t, ctx, 15*time.Second, `document.getElementById('caught-up').dataset.state === 'ok'`)
	if got := eval[int](t, ctx, `window.kz.refreshGapMs`); got != 1000 {
		t.Errorf("the gap between refreshes is %d ms, want 1000", got)
	}

	// A write's refresh, then a gap of an hour from when it began: the next writes wait.
	first := e.mustWrite(t, empPath(id, "surveys"), tokAdmin, `{"as_of":"2006-04-20","workforce":8}`).num("seq")
	e.waitViews(t, uint64(first))
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`window.kz.seq >= %d`, first))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.kz.refreshGapMs = 3600000`))
	refreshes := eval[int](t, ctx, `window.kz.refreshes`)
	var last int64
	for i := range 3 {
		last = e.mustWrite(t, empPath(id, "surveys"), tokAdmin, fmt.Sprintf(`{"as_of":"2006-04-2%d","workforce":%d}`, i+1, 9+i)).num("seq")
	}
	e.waitViews(t, uint64(last))
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`window.kz.liveSeq >= %d && window.kz.refreshHeld`, last))
	if seq, n := eval[int](t, ctx, `window.kz.seq`), eval[int](t, ctx, `window.kz.refreshes`); int64(seq) >= last || n != refreshes {
		t.Errorf("within the gap the page shows sequence %d after %d refreshes; want the first write's %d after %d", seq, n, first, refreshes)
	}

	// The gap ends: one refresh shows the three writes.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.kz.refreshGapMs = 0`))
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`window.kz.seq >= %d && !window.kz.refreshHeld`, last))
	if n := eval[int](t, ctx, `window.kz.refreshes`); n != refreshes+1 {
		t.Errorf("the three writes within the gap took %d refreshes, want 1", n-refreshes)
	}
}
