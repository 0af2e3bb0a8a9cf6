package api_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDeskListsFollowWrites: a clerk finds a payer in
// arrears, opens it, records a payment through the desk and goes back to the results: the row
// shows the arrears as GET /v1/employers now gives them, and the worklist, left while the payer
// was open, is read again; a write by another while the results are shown moves the row too. A
// deregistered payer's search row and page say since when it is; the page's skip button takes the
// focus past its history to the desk.
func TestDeskListsFollowWrites(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the desk test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	org := orgCode(8701)
	id := e.register(t, tokAdmin, org, "360702")
	e.mustWrite(t, empPath(id, "declarations"), tokAdmin,
		`{"declared_on":"2006-11-05","period":"2006-10","lines":[{"insurance":"pension","headcount":10,"wage_base_fen":1000000}]}`)
	gone := e.register(t, tokAdmin, orgCode(8702), "360702")
	e.mustWrite(t, empPath(gone, "deregistration"), tokAdmin, `{"on":"2006-11-20","reason":"停业"}`)

	ctx := startBrowser(t)
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/#/employer?q="+org))
	poll(t, ctx, 15*time.Second, `document.getElementById('token-dialog').open`)
	run(t, ctx, chromedp.SendKeys(chromedp.ID("token-input"), tokClerkA+"\r"))
	rowJS := fmt.Sprintf(`(document.querySelector('#employer-results tr[data-employer="%s"] td.num') || {dataset: {}}).dataset.value`, id)
	poll(t, ctx, 15*time.Second, rowJS+` === '280000' && window.kz.worklist && window.kz.worklist.loads > 0`)
	loads := eval[int](t, ctx, `window.kz.worklist.loads`)

	run(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector('#employer-results tr[data-employer="%s"] a').click()`, id)))
	poll(t, ctx, 15*time.Second, `document.querySelector('#desk-employer .desk-tabs') !== null && document.getElementById('employer-detail').dataset.version`)
	openForm(t, ctx, "payment")
	fill(t, ctx, "payment", map[string]string{"paid_on": "2006-12-10", "amount_fen": "100000", "receipt_no": "R-1"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="payment"] button[type=submit]').click()`))
	seq := waitWritten(t, ctx, 1)
	// The payment's views event comes while the payer is shown: the lists, hidden, miss it.
	poll(t, ctx, 15*time.Second, fmt.Sprintf(`window.kz.liveSeq >= %d`, seq))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('employer-back').click()`))
	poll(t, ctx, 15*time.Second, rowJS+` === '180000'`)
	poll(t, ctx, 15*time.Second, fmt.Sprintf(`window.kz.worklist.loads > %d`, loads))

	// Another's payment while the results are shown: the row moves, its link keeps the focus.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector('#employer-results tr[data-employer="%s"] a').focus()`, id)))
	e.mustWrite(t, empPath(id, "payments"), tokAdmin, `{"paid_on":"2006-12-20","amount_fen":80000,"receipt_no":"R-2"}`)
	poll(t, ctx, 15*time.Second, rowJS+` === '100000'`)
	if got := eval[string](t, ctx, `(document.activeElement.closest('tr') || {dataset: {}}).dataset.employer || document.activeElement.tagName`); got != id {
		t.Errorf("after the list was read again the focus is on %s, want the link of %s", got, id)
	}

	// The search row of a deregistered payer says so, with the date GET /v1/employers gives.
	if r := e.get(t, "/v1/employers?q="+orgCode(8702), tokClerkA); !strings.Contains(string(r.Raw), `"deregistered_on":"2006-11-20"`) {
		t.Errorf("the search row of a deregistered payer: %s, want deregistered_on 2006-11-20", r)
	}
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/#/employer?q="+orgCode(8702)))
	poll(t, ctx, 15*time.Second, fmt.Sprintf(`(document.querySelector('#employer-results tr[data-employer="%s"] td:nth-child(5)') || {}).textContent === '注销 deregistered 2006-11-20'`, gone))
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/#/employer/"+gone))
	poll(t, ctx, 15*time.Second, `(document.querySelector('#employer-facts [data-field="deregistered_on"]') || {dataset: {}}).dataset.value === '2006-11-20'`)

	// A keyboard user skips the page's links to the desk.
	poll(t, ctx, 15*time.Second, `!document.getElementById('employer-skip').hidden && !document.getElementById('desk-employer').hidden`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('employer-skip').click()`))
	if !eval[bool](t, ctx, `document.getElementById('desk-employer').contains(document.activeElement)`) {
		t.Errorf("skip to the desk left the focus on %s", eval[string](t, ctx, `document.activeElement.outerHTML.slice(0, 120)`))
	}
}
