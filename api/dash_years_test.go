package api_test

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// TestYearsInChromium: the year closings under the freezes. The assessment team's page lists
// 2006 open with a button to close it once the business date has left 2006 (none for 2007, not
// ended), and closes it from there after its December freeze; an admin's page, and only an
// admin's, offers the reopening, refuses it without a reason or with an invisible one beside
// the field (nothing recorded) and reopens it with one, which the list shows; the assessor's
// page follows without a reload and closes it again (a new request, not the first's retry).
func TestYearsInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the years panel's test needs a real browser at %s: %v", chromiumPath, err)
	}
	l := storetest.Start(t, eventstore.Config{})
	loadDemoLedger(t, l.Store, 30)
	e := serveAssessed(t, l, domain.MustDate("2007-01-20"))
	f := e.freeze(t, tokAssessor, "2006-12-31", 0)
	e.waitViews(t, f.Seq)

	ctx := startBrowser(t)
	watchConsole(t, ctx)
	assessorSignIn(t, ctx, e.srv.URL+"/", tokAssessor)
	row := func(year string) string { return `document.querySelector('#years tbody tr[data-year="` + year + `"]')` }
	poll(t, ctx, 10*time.Second, `window.kz.years.loads > 0 && `+row("2006")+` !== null`)
	if got := eval[string](t, ctx, row("2006")+`.dataset.closed`); got != "false" {
		t.Errorf("2006 is listed closed=%s before any closing", got)
	}
	if !eval[bool](t, ctx, row("2006")+`.querySelector('button[data-close]') !== null`) {
		t.Errorf("an assessor's page offers no closing of 2006, which has ended")
	}
	if !eval[bool](t, ctx, row("2007")+` !== null`) {
		t.Errorf("2007, the business date's year, is not listed")
	} else if eval[bool](t, ctx, row("2007")+`.querySelector('button') !== null`) {
		t.Errorf("an assessor's page offers to close 2007, which has not ended")
	}
	if !eval[bool](t, ctx, `document.getElementById('year-reopen-form').hidden`) {
		t.Errorf("an assessor's page offers the reopening (admins only)")
	}

	closeFromPage := func(answers int) {
		t.Helper()
		run(t, ctx, chromedp.Evaluate[chromedp.Void](row("2006")+`.querySelector('button[data-close]').click()`))
		poll(t, ctx, 30*time.Second, `window.kz.years.answers.length === `+strconv.Itoa(answers)+` && !window.kz.years.running`)
		if got := eval[string](t, ctx, `JSON.stringify(window.kz.years.answers.at(-1)) + ' ' + document.getElementById('years-error').textContent`); !strings.HasPrefix(got, `{"path":"/v1/years/2006/close","status":201,"duplicate":false}`) {
			t.Fatalf("closing 2006 from the page: %s; want it recorded, not answered as a retry", got)
		}
		poll(t, ctx, 10*time.Second, row("2006")+`.dataset.closed === 'true'`)
	}
	closeFromPage(1)
	first := e.yearOf(t, 2006)
	if !first.Closed || first.FreezeID != f.ID {
		t.Errorf("after the page's closing 2006 is %+v, want closed after freeze %s", first, f.ID)
	}
	if got := eval[string](t, ctx, row("2006")+`.textContent`); !strings.Contains(got, "已结转 closed") || !strings.Contains(got, "2007-01-20") {
		t.Errorf("the closed year's row says %q, want closed and the business date it was closed on", got)
	}
	if eval[bool](t, ctx, row("2006")+`.querySelector('button[data-close]') !== null`) {
		t.Errorf("a closed year still offers to close it")
	}
	if !eval[bool](t, ctx, `document.getElementById('year-reopen-form').hidden`) {
		t.Errorf("an assessor's page offers to reopen the year it closed (admins only)")
	}

	admin, cancel := chromedp.NewContext(ctx)
	defer cancel()
	watchConsole(t, admin)
	assessorSignIn(t, admin, e.srv.URL+"/", tokAdmin)
	poll(t, admin, 10*time.Second, `window.kz.years.loads > 0 && !document.getElementById('year-reopen-form').hidden && document.getElementById('year-reopen-year').value === '2006'`)
	before := e.count()
	reopen := func(reason string) {
		t.Helper()
		run(t, admin, chromedp.Evaluate[chromedp.Void](`(i => { i.value = `+strconv.Quote(reason)+`; i.dispatchEvent(new Event('input', {bubbles: true})); document.getElementById('year-reopen').click(); })(document.getElementById('year-reopen-reason'))`))
	}
	// Without a reason: the page's own check; with one of no visible character: the server's.
	// Either is said beside the field, which is marked and focused, and nothing is recorded.
	for i, reason := range []string{"", "\u200b"} {
		reopen(reason)
		poll(t, admin, 10*time.Second, `document.getElementById('year-reopen-error').dataset.field === 'reason' && !window.kz.years.running && window.kz.years.answers.length === `+strconv.Itoa(i))
		if !eval[bool](t, admin, `document.getElementById('year-reopen-reason').getAttribute('aria-invalid') === 'true' && document.activeElement.id === 'year-reopen-reason'`) {
			t.Errorf("a reopening with reason %q: the field is not marked invalid and focused", reason)
		}
		e.wantUnchanged(t, before)
	}
	reopen("补录一笔缴费")
	poll(t, admin, 30*time.Second, `window.kz.years.answers.length === 2 && !window.kz.years.running && `+row("2006")+`.dataset.closed === 'false'`)
	if got := eval[string](t, admin, `document.getElementById('year-reopen-reason').value`); got != "" {
		t.Errorf("the reason %q stays in the form after the reopening", got)
	}
	if rec := e.yearOf(t, 2006); rec.Closed || rec.ReopenReason != "补录一笔缴费" {
		t.Errorf("after the page's reopening 2006 is %+v, want open with its reason", rec)
	}
	if got := eval[string](t, admin, row("2006")+`.textContent`); !strings.Contains(got, "补录一笔缴费") {
		t.Errorf("the reopened year's row says %q, without the reason", got)
	}
	// The assessor's page, open all along, follows through /v1/live, and closes the year again
	// within the minute a recorded closing keeps its key: a new closing, not the first's retry.
	poll(t, ctx, 10*time.Second, row("2006")+`.dataset.closed === 'false' && `+row("2006")+`.querySelector('button[data-close]') !== null`)
	closeFromPage(2)
	if again := e.yearOf(t, 2006); !again.Closed || again.ClosedSeq <= first.ClosedSeq {
		t.Errorf("closed again from the page, 2006 is %+v, want closed at a sequence after %d", again, first.ClosedSeq)
	}
}

// TestClosableInChromium: the page offers to close only what the server would close, the
// business date in 2009. With no year closed, every ended year (closing one closes the books
// before it); with 2006 closed, 2007 alone (the closed books stay one run of years); with 2006
// and 2007 closed and reopened, 2007 first, 2006 alone (closing a later year would close the
// books over 2006, reopened and unchecked); then each next year in turn; never 2009.
func TestClosableInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the years panel's test needs a real browser at %s: %v", chromiumPath, err)
	}
	l := storetest.Start(t, eventstore.Config{})
	loadDemoLedger(t, l.Store, 30)
	e := serveAssessed(t, l, domain.MustDate("2009-01-20"))
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	assessorSignIn(t, ctx, e.srv.URL+"/", tokAssessor)
	row := func(year string) string { return `document.querySelector('#years tbody tr[data-year="` + year + `"]')` }
	offered := `[...document.querySelectorAll('#years button[data-close]')].map(b => b.dataset.close).join(',')`
	poll(t, ctx, 10*time.Second, `window.kz.years.loads > 0 && `+row("2009")+` !== null`)
	for _, step := range []struct{ do, year, want string }{
		{"", "", "2008,2007,2006"},
		{"close", "2006", "2007"},
		{"close", "2007", "2008"},
		{"reopen", "2007", "2007"},
		{"reopen", "2006", "2006"},
		{"close", "2006", "2007"},
		{"close", "2007", "2008"},
		{"close", "2008", ""},
	} {
		switch step.do {
		case "close":
			e.waitViews(t, e.freeze(t, tokAssessor, step.year+"-12-31", 0).Seq)
			if r := e.closeYear(t, tokAssessor, step.year, `{}`); r.Status != http.StatusCreated {
				t.Fatalf("closing %s: %s", step.year, r)
			}
			poll(t, ctx, 10*time.Second, row(step.year)+`.dataset.closed === 'true'`)
		case "reopen":
			e.mustWrite(t, "/v1/years/"+step.year+"/reopen", tokAdmin, `{"reason":"补录"}`)
			poll(t, ctx, 10*time.Second, row(step.year)+`.dataset.closed === 'false'`)
		}
		if got := eval[string](t, ctx, offered); got != step.want {
			t.Errorf("after %s %s the page offers to close %q, want %q", step.do, step.year, got, step.want)
		}
	}
}
