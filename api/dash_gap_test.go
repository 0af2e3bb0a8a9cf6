package api_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestRefreshesKeepAGap: a refresh of the page's tables begins at least kz.refreshGapMs after
// the one before began, and the writes within the gap are shown at its end: under a stream of
// writes the page re-read a few hundred kilobytes as fast as the server answered (an outside
// review measured 5.6-25 MB a minute for one page on the demo).
func TestRefreshesKeepAGap(t *testing.T) {
	e, id, ctx := boardOfOne(t, 19601, tokSuper)
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

// TestHiddenBoardReadsNothing: under the employer page (a clerk's desk, open all day) the
// dashboard's tables were read again on every write, unseen; they are read when the dashboard
// is shown again, and the header meanwhile tells the sequence the live stream announced.
func TestHiddenBoardReadsNothing(t *testing.T) {
	e, id, ctx := boardOfOne(t, 19602, tokAdmin)
	poll(t, ctx, 15*time.Second, `document.getElementById('targets-city').dataset.seq !== undefined`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const real = window.fetch;
		window.kzReads = [];
		window.fetch = (url, opts) => { window.kzReads.push(String(url)); return real(url, opts); };
		// The charts' and the corrections' next reads, a window away, are kept to be run by the
		// test once the employer page is shown.
		const later = window.setTimeout;
		window.kzLater = [];
		window.setTimeout = (f, ms, ...args) => ms > 60000 ? window.kzLater.push(f) : later(f, ms, ...args);
		window.kz.throttleMs = 3600000;
	})()`))
	poll(t, ctx, 15*time.Second, `window.kz.chartDraws > 0 && document.getElementById('corrections').dataset.from !== undefined`)
	write := e.mustWrite(t, empPath(id, "surveys"), tokAdmin, `{"as_of":"2006-04-19","workforce":7}`).num("seq")
	poll(t, ctx, 15*time.Second, fmt.Sprintf(`window.kz.seq >= %d && window.kzLater.length === 2`, write))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = '#/employer/%s'`, id)))
	poll(t, ctx, 15*time.Second, `!document.getElementById('view-employer').hidden && !document.getElementById('employer-detail').hidden`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.kzReads = []`))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`Promise.all(window.kzLater.splice(0).map(f => f())).then(() => { window.kzLaterRan = true; })`))
	poll(t, ctx, 15*time.Second, `window.kzLaterRan === true`)

	var last int64
	for i := range 3 {
		last = e.mustWrite(t, empPath(id, "surveys"), tokAdmin, fmt.Sprintf(`{"as_of":"2006-04-2%d","workforce":%d}`, i+1, 9+i)).num("seq")
	}
	e.waitViews(t, uint64(last))
	poll(t, ctx, 15*time.Second, fmt.Sprintf(`window.kz.liveSeq >= %[1]d && document.getElementById('seq').textContent === '%[1]d' && document.getElementById('caught-up').dataset.state === 'ok'`, last))
	for _, u := range eval[[]string](t, ctx, `window.kzReads`) {
		for _, table := range []string{"/v1/counties", "/v1/groups", "/v1/targets", "/v1/flags", "/v1/freezes", "/v1/series", "/v1/corrections"} {
			if strings.Contains(u, table) {
				t.Errorf("under the employer page the dashboard read %s", u)
			}
		}
	}

	// Shown again, it reads what it missed.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`location.hash = '#/'`))
	poll(t, ctx, 15*time.Second, fmt.Sprintf(`window.kz.seq >= %[1]d && Number(document.getElementById('targets-city').dataset.seq) >= %[1]d && document.getElementById('caught-up').dataset.state === 'ok'`, last))
}

// TestRefreshesGoOnWhileWritesDo: a refresh reads again while each read moves the page on; it
// gave up after five reads, and an event announced during the fifth was never shown (with the
// gap, five reads were five seconds of steady writes). Each read's answer is held until the next
// write is announced, so that seven reads in a row each find more to show.
func TestRefreshesGoOnWhileWritesDo(t *testing.T) {
	e, id, ctx := boardOfOne(t, 19603, tokAdmin)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const real = window.fetch;
		window.kzHeld = [];
		window.kzHold = true;
		window.fetch = async (url, opts) => {
			const res = await real(url, opts);
			if (window.kzHold && String(url).includes('/v1/counties')) await new Promise(r => window.kzHeld.push(r));
			return res;
		};
		window.kz.refreshGapMs = 0;
	})()`))
	write := func(i int) int64 {
		seq := e.mustWrite(t, empPath(id, "surveys"), tokAdmin, fmt.Sprintf(`{"as_of":"2006-05-%02d","workforce":%d}`, i+1, 5+i)).num("seq")
		e.waitViews(t, uint64(seq))
		poll(t, ctx, 15*time.Second, fmt.Sprintf(`window.kz.liveSeq >= %d`, seq))
		return seq
	}
	last := write(0)
	poll(t, ctx, 15*time.Second, `window.kzHeld.length === 1`)
	refreshes := eval[int](t, ctx, `window.kz.refreshes`)
	for i := 1; i <= 7; i++ {
		last = write(i) // announced while the read before is held
		run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.kzHeld.shift()()`))
		poll(t, ctx, 15*time.Second, `window.kzHeld.length === 1`)
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`window.kzHold = false; window.kzHeld.splice(0).forEach(r => r())`))
	poll(t, ctx, 15*time.Second, fmt.Sprintf(`window.kz.seq >= %d`, last))
	if n := eval[int](t, ctx, `window.kz.refreshes`) - refreshes; n < 7 {
		t.Errorf("eight writes, each announced during the read before, were shown in %d reads; want each read to go on to the next", n)
	}
}

// boardOfOne registers one employer (organisation code number org, in 360702) on a ledger of
// its own and opens the dashboard with token in Chromium, caught up.
func boardOfOne(t *testing.T, org int, token string) (*env, string, context.Context) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	id := e.register(t, tokAdmin, orgCode(org), "360702")
	e.waitViews(t, e.count()) // the stream's last: the store may not have folded it yet
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	signIn(t, ctx, e.srv.URL+"/", token)
	poll(t, ctx, 15*time.Second, `document.getElementById('caught-up').dataset.state === 'ok'`)
	return e, id, ctx
}
