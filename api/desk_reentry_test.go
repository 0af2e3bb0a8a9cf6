package api_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAVoidedEntryMadeAgainIsRecorded: a clerk records a survey from the desk, voids it from the
// history (entered in error), and sends the same form again at once, as the README says a voided
// event is made again: the survey is recorded anew, not answered "already recorded" with the
// voided one (the form kept the key of its recording for a minute, against double clicks).
func TestAVoidedEntryMadeAgainIsRecorded(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the desk test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	id := e.register(t, tokClerkA, orgCode(8102), "360702")
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	signIn(t, ctx, e.srv.URL+"/#/employer/"+id, tokClerkA)
	poll(t, ctx, 15*time.Second, `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs button[data-form="survey"]') !== null`)

	openForm(t, ctx, "survey")
	survey := map[string]string{"as_of": "2006-12-01", "workforce": "20"}
	fill(t, ctx, "survey", survey)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="survey"] button[type=submit]').click()`))
	first := waitWritten(t, ctx, 1)
	row := fmt.Sprintf(`#history tr[data-seq="%d"]`, first)
	poll(t, ctx, 10*time.Second, `document.querySelector('`+row+` button.void') !== null`)

	run(t, ctx, chromedp.SendKeys(row+` button.void`, "\r"))
	poll(t, ctx, 5*time.Second, `document.querySelector('#desk-employer form[data-form="void"]') !== null`)
	fill(t, ctx, "void", map[string]string{"voided_on": "2006-12-20", "reason": "录入错误 entered in error"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="void"] button[type=submit]').click()`))
	voidSeq := waitWritten(t, ctx, 2)
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.getElementById('employer-detail').dataset.version === '%d' && document.querySelector('%s').classList.contains('voided')`, voidSeq, row))

	openForm(t, ctx, "survey")
	// The history showing the form's recording voided while a submission's key is pending (its
	// answer lost, or the request under way) drops the recording and keeps that key: the retry
	// must not be recorded twice. Read again later, it drops nothing more.
	form := `document.querySelector('form[data-form="survey"]')`
	if got := eval[string](t, ctx, fmt.Sprintf(`(f => { f.dataset.key = 'k-pending'; f.dataset.lastSeq = '%d'; f.dataset.answered = 'k-first';
		document.dispatchEvent(new CustomEvent('kz-history'));
		const got = [f.dataset.key, f.dataset.lastSeq || 'none', f.dataset.answered || 'none'].join(' '); delete f.dataset.key; return got; })(%s)`, first, form)); got != "k-pending none none" {
		t.Errorf("the history showing the form's recording voided left its pending key, last recording and answered key as %q, want k-pending none none", got)
	}

	before := e.count()
	fill(t, ctx, "survey", survey)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="survey"] button[type=submit]').click()`))
	again := waitWritten(t, ctx, 3)
	if dup := eval[bool](t, ctx, `window.kz.desk.written[2].duplicate`); dup || again <= voidSeq {
		t.Fatalf("the survey sent again after its void was answered seq %d (duplicate %v), want a new recording after the void's %d", again, dup, voidSeq)
	}
	if got := e.count(); got != before+1 {
		t.Errorf("sending the voided survey again appended %d events, want 1", got-before)
	}
}
