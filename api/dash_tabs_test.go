package api_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// hideJS makes the page read as not shown (another tab in front, a window minimised) and says so
// as the browser does; showJS undoes it. Headless Chromium shows every tab.
const (
	hideJS = `(() => { Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
		Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
		document.dispatchEvent(new Event('visibilitychange')); })()`
	showJS = `(() => { delete document.hidden; delete document.visibilityState;
		document.dispatchEvent(new Event('visibilitychange')); })()`
)

// TestPagesNotShownLetTheirStreamGo: over plain HTTP a browser opens at most six connections to
// a server, and each page of the dashboard kept one for its live stream, so with six pages open
// a seventh never loaded and every request of the six waited. A page not shown lets its stream
// go: with six pages of a clerk open and hidden, a seventh loads and records an entry from the
// desk; one of the six shown again connects again and catches up with that entry.
func TestPagesNotShownLetTheirStreamGo(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the tabs test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	id := e.register(t, tokClerkA, orgCode(8501), "360702")
	browser := startBrowser(t)
	var tabs []context.Context
	for i := range 6 {
		tab := browser
		if i > 0 {
			var cancel context.CancelFunc
			tab, cancel = chromedp.NewContext(browser)
			t.Cleanup(cancel)
		}
		signIn(t, tab, e.srv.URL+"/#/", tokClerkA)
		poll(t, tab, 15*time.Second, `document.getElementById('conn').dataset.state === 'on'`)
		run(t, tab, chromedp.Evaluate[chromedp.Void](hideJS))
		poll(t, tab, 10*time.Second, `document.getElementById('conn').dataset.state === 'paused'`)
		tabs = append(tabs, tab)
	}

	// Without the six streams let go, the seventh page never loads: fail in a minute and a half,
	// not at the browser session's end.
	seventh, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	seventh, cancelWait := context.WithTimeout(seventh, 90*time.Second)
	t.Cleanup(cancelWait)
	signIn(t, seventh, e.srv.URL+"/#/employer/"+id, tokClerkA)
	poll(t, seventh, 15*time.Second, `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs button[data-form="survey"]') !== null`)
	openForm(t, seventh, "survey")
	fill(t, seventh, "survey", map[string]string{"as_of": "2006-12-01", "workforce": "20"})
	run(t, seventh, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="survey"] button[type=submit]').click()`))
	seq := waitWritten(t, seventh, 1)

	run(t, tabs[0], chromedp.Evaluate[chromedp.Void](showJS))
	poll(t, tabs[0], 15*time.Second, fmt.Sprintf(`document.getElementById('conn').dataset.state === 'on' && window.kz.seq >= %d`, seq))
}
