package api_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDeskSameValuesLater: a desk form sent again with the values it recorded, however long
// after (the form found again with the browser's Back, a click minutes later), is answered
// "already recorded", not recorded twice: a reviewer registered the same person twice and
// charged an audit finding twice that way when the form let its key go after a minute. The
// same values go in as a second entry only when the clerk asks for one.
func TestDeskSameValuesLater(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the desk test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	id := e.register(t, tokClerkA, orgCode(8103), "360702")
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	signIn(t, ctx, e.srv.URL+"/#/employer/"+id, tokClerkA)
	poll(t, ctx, 15*time.Second, `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs button[data-form="survey"]') !== null`)

	openForm(t, ctx, "survey")
	fill(t, ctx, "survey", map[string]string{"as_of": "2006-12-01", "workforce": "20"})
	submit := chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="survey"] button[type=submit]').click()`)
	run(t, ctx, submit)
	first := waitWritten(t, ctx, 1)
	before := e.count()

	// Ten minutes on, as far as the form can tell.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => { f.dataset.answeredAt = String(Date.now() - 10 * 60 * 1000); })(document.querySelector('form[data-form="survey"]'))`))
	run(t, ctx, submit)
	if again := waitWritten(t, ctx, 2); again != first || !eval[bool](t, ctx, `window.kz.desk.written[1].duplicate`) {
		t.Fatalf("the same values sent again later were answered seq %d, want the first recording's %d, marked a duplicate", again, first)
	}
	if got := e.count(); got != before {
		t.Fatalf("the same values sent again later appended %d events, want none", got-before)
	}
	poll(t, ctx, 5*time.Second, `document.querySelector('form[data-form="survey"] .form-status button.record-again') !== null`)

	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="survey"] .form-status button.record-again').click()`))
	if second := waitWritten(t, ctx, 3); second <= first || eval[bool](t, ctx, `window.kz.desk.written[2].duplicate`) {
		t.Fatalf("asked for a second entry, the form was answered seq %d, want a new recording after %d", second, first)
	}
	if got := e.count(); got != before+1 {
		t.Fatalf("a second entry asked for appended %d events, want 1", got-before)
	}
}

// TestDeskVoidAfterReload: a form's recording voided, seen after a reload of the page (its draft
// typed into again since the recording), frees the form's key: the same values sent are the
// entry made anew, not answered "already recorded" with the voided one (the form keeps a
// recording's key for as long as it holds the values, so the void must reach it through the
// draft too).
func TestDeskVoidAfterReload(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the desk test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	id := e.register(t, tokClerkA, orgCode(8106), "360702")
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	signIn(t, ctx, e.srv.URL+"/#/employer/"+id, tokClerkA)
	ready := `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs button[data-form="survey"]') !== null`
	poll(t, ctx, 15*time.Second, ready)
	openForm(t, ctx, "survey")
	survey := map[string]string{"as_of": "2006-12-01", "workforce": "20"}
	fill(t, ctx, "survey", survey)
	submit := chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="survey"] button[type=submit]').click()`)
	run(t, ctx, submit)
	first := waitWritten(t, ctx, 1)
	fill(t, ctx, "survey", survey) // typed into again: its draft is kept, with the recording's key

	var h struct {
		Events []struct {
			Seq uint64 `json:"seq"`
			ID  string `json:"id"`
		} `json:"events"`
	}
	decode(t, e.get(t, empPath(id, "history"), tokClerkA), &h)
	eventID := ""
	for _, ev := range h.Events {
		if int64(ev.Seq) == first {
			eventID = ev.ID
		}
	}
	voidSeq := e.mustWrite(t, empPath(id, "voids"), tokClerkA, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-12-20","reason":"录错"}`, eventID)).num("seq")
	run(t, ctx, chromedp.Reload())
	poll(t, ctx, 15*time.Second, ready+fmt.Sprintf(` && document.querySelector('#history tr[data-seq="%d"]') !== null && document.querySelector('#history tr[data-seq="%d"]').classList.contains('voided')`, first, first))
	openForm(t, ctx, "survey")
	before := e.count()
	run(t, ctx, submit)
	again := waitWritten(t, ctx, 1)
	if dup := eval[bool](t, ctx, `window.kz.desk.written[0].duplicate`); dup || again <= voidSeq {
		t.Fatalf("the voided survey sent again after a reload was answered seq %d (duplicate %v), want a new recording after the void's %d", again, dup, voidSeq)
	}
	if got := e.count(); got != before+1 {
		t.Errorf("sending the voided survey again appended %d events, want 1", got-before)
	}
}
