package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDeskStaleForm: a declaration begun in the desk while another tab (or clerk) declares the
// same period is not recorded over it unsaid: the desk sends the version it was begun at as
// If-Match, the server refuses it (412, nothing appended), the form says so and the page reads
// the payer again; submitted again, it is recorded. The clerk's own payment from another form of
// the page does not make a form begun before it stale. (An outside review: the second tab's
// declaration silently replaced the first's.)
func TestDeskStaleForm(t *testing.T) {
	e, ctx, id := deskPayer(t, 8311)
	watchConsole(t, ctx)
	declaration := `document.querySelector('form[data-form="declaration"]')`
	openForm(t, ctx, "declaration")
	fill(t, ctx, "declaration", map[string]string{"declared_on": "2006-08-10", "period": "2006-07",
		"lines[0].insurance": "pension", "lines[0].headcount": "12", "lines[0].wage_base_fen": "2000000"})

	// The clerk's own payment, from the payment form, while the declaration waits: the
	// declaration is then recorded as it is, not refused as stale.
	openForm(t, ctx, "payment")
	fill(t, ctx, "payment", map[string]string{"paid_on": "2006-08-11", "amount_fen": "100", "receipt_no": "ST-1"})
	submitPayment(t, ctx)
	paid := waitWritten(t, ctx, 1)
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.getElementById('employer-detail').dataset.version === '%d'`, paid))
	openForm(t, ctx, "declaration")
	run(t, ctx, chromedp.Evaluate[chromedp.Void](declaration+`.querySelector('button[type=submit]').click()`))
	declared := waitWritten(t, ctx, 2)
	if status := eval[string](t, ctx, declaration+`.dataset.errorStatus`); status != "" || declared <= paid {
		t.Fatalf("the declaration begun before the clerk's own payment: error status %q, seq %d; want it recorded after %d", status, declared, paid)
	}
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.getElementById('employer-detail').dataset.version === '%d'`, declared))

	// A payment begun now, then another tab declares the period again: the payment is refused.
	openForm(t, ctx, "payment")
	fill(t, ctx, "payment", map[string]string{"paid_on": "2006-08-12", "amount_fen": "200", "receipt_no": "ST-2"})
	other := e.mustWrite(t, empPath(id, "declarations"), tokClerkA,
		`{"declared_on":"2006-08-10","period":"2006-07","lines":[{"insurance":"pension","headcount":10,"wage_base_fen":1234567}]}`)
	seq := other.num("seq")
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.getElementById('employer-detail').dataset.version === '%d'`, seq))
	before := e.count()
	submitPayment(t, ctx)
	// The refusal is shown before the page reads the payer again; the form takes a submission
	// once that is done (a click while it is busy is ignored, as a double click is).
	poll(t, ctx, 15*time.Second, paymentForm+`.dataset.errorStatus === '412' && `+paymentForm+`.dataset.busy === 'false'`)
	if got := eval[string](t, ctx, paymentForm+`.querySelector('.form-error').textContent`); !strings.Contains(got, "payer changed while this form was filled") {
		t.Errorf("the stale payment's form says %q, want that the payer changed meanwhile", got)
	}
	e.wantUnchanged(t, before)
	submitPayment(t, ctx)
	again := waitWritten(t, ctx, 3)
	if again <= int64(seq) || e.count() != before+1 {
		t.Errorf("submitted again after the refusal: seq %d, %d events appended; want it recorded once, after %d", again, e.count()-before, seq)
	}
}

// TestPageOfAPayerMovedAway: a clerk's page showing a payer that another tab or clerk transfers
// out of the clerk's counties says so once the live stream tells of the write, rather than go on
// showing it as it was beside "caught up" (its check of the payer's version was refused, and
// taken for no change), with a desk whose every submission the server refuses.
func TestPageOfAPayerMovedAway(t *testing.T) {
	e, ctx, id := deskPayer(t, 8312)
	watchConsole(t, ctx)
	e.mustWrite(t, empPath(id, "transfer"), tokClerkA, `{"on":"2006-12-20","county":"360782"}`)
	poll(t, ctx, 15*time.Second, `(m => !m.hidden && m.textContent.includes('no longer in a county you may read'))(document.getElementById('employer-error'))`)
	if eval[bool](t, ctx, `!document.getElementById('desk-employer').hidden`) {
		t.Errorf("the desk of a payer moved out of the clerk's counties is still offered")
	}
}
