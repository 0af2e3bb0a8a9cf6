package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// deskPayments is the payments of the employer's history: their receipts and amounts, in order.
func deskPayments(t *testing.T, e *env, id string, minSeq int64) [][2]string {
	t.Helper()
	var h struct {
		Events []struct {
			Type    string `json:"type"`
			Payload struct {
				AmountFen json.Number `json:"amount_fen"`
				ReceiptNo string      `json:"receipt_no"`
			} `json:"payload"`
		} `json:"events"`
	}
	decode(t, e.get(t, fmt.Sprintf("%s?min_seq=%d", empPath(id, "history"), minSeq), tokClerkA), &h)
	var out [][2]string
	for _, ev := range h.Events {
		if ev.Type == "payment.received" {
			out = append(out, [2]string{ev.Payload.ReceiptNo, string(ev.Payload.AmountFen)})
		}
	}
	return out
}

// deskPayer registers a payer of 360702 and opens its page, with the desk's payment form, for
// the clerk of 360702.
func deskPayer(t *testing.T, n int) (*env, context.Context, string) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the desk test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	ctx := startBrowser(t)
	id := e.register(t, tokClerkA, orgCode(n), "360702")
	signIn(t, ctx, e.srv.URL+"/#/employer/"+id, tokClerkA)
	poll(t, ctx, 15*time.Second, `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs') !== null`)
	return e, ctx, id
}

const paymentForm = `document.querySelector('form[data-form="payment"]')`

func submitPayment(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, chromedp.Evaluate[chromedp.Void](paymentForm+`.querySelector('button[type=submit]').click()`))
}

// TestDeskWholeNumbersInChromium: a whole number is sent as the clerk typed it, digit for digit,
// or not at all. "100.00", "5e1", "1,000", "1.5" or twenty 9s in a payment's amount are refused
// beside the field, in words that lead in Chinese and name the field, and nothing is sent or
// recorded (Number() made 100, 50, 1e20 of them); so is "1e2" for a survey's workforce;
// "12345" records exactly 12,345 fen.
func TestDeskWholeNumbersInChromium(t *testing.T) {
	e, ctx, id := deskPayer(t, 8301)

	openForm(t, ctx, "payment")
	fill(t, ctx, "payment", map[string]string{"paid_on": "2006-12-10", "receipt_no": "W-1"})
	before := e.count()
	submits := eval[int](t, ctx, `window.kz.desk.submits`)
	slot := paymentForm + `.querySelector('[data-error-for="amount_fen"]')`
	for _, bad := range []string{"100.00", "5e1", "1,000", "1.5", " 99999999999999999999 ", "+5"} {
		run(t, ctx, chromedp.Evaluate[chromedp.Void](slot+`.textContent = ''`))
		fill(t, ctx, "payment", map[string]string{"amount_fen": bad})
		submitPayment(t, ctx)
		poll(t, ctx, 10*time.Second, paymentForm+`.dataset.busy === 'false'`)
		if got := e.count(); got != before {
			t.Errorf("amount %q: the ledger holds %d messages more, want none (Number() sent it as another number)", bad, got-before)
			before = got
		}
		got := eval[[]string](t, ctx, `[`+slot+`.textContent, document.activeElement.dataset.path || '', `+paymentForm+`.querySelector('[data-path="amount_fen"]').getAttribute('aria-invalid') || '']`)
		if !strings.HasPrefix(got[0], "输入有误：金额（分） amount (fen)") || !strings.Contains(got[0], "整数") || !strings.Contains(got[0], "whole number") {
			t.Errorf("amount %q: the error beside the field reads %q, want it led by 输入有误：金额（分） amount (fen) and to ask for a whole number", bad, got[0])
		}
		if got[1] != "amount_fen" || got[2] != "true" {
			t.Errorf("amount %q: focus on %q, aria-invalid %q; want the amount focused and marked", bad, got[1], got[2])
		}
	}
	if got := eval[int](t, ctx, `window.kz.desk.submits`); got != submits {
		t.Errorf("amounts that are not whole numbers in digits sent %d requests, want none", got-submits)
	}
	e.wantUnchanged(t, before)
	if got := deskPayments(t, e, id, 0); len(got) != 0 {
		t.Errorf("payments recorded from refused amounts: %v", got)
	}

	// The survey's workforce "1e2" (Number() made it 100): refused beside it, nothing sent.
	openForm(t, ctx, "survey")
	fill(t, ctx, "survey", map[string]string{"as_of": "2006-04-10", "workforce": "1e2"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="survey"] button[type=submit]').click()`))
	poll(t, ctx, 10*time.Second, `document.querySelector('form[data-form="survey"]').dataset.busy === 'false'`)
	e.wantUnchanged(t, before)
	if got := eval[string](t, ctx, `document.querySelector('form[data-form="survey"] [data-error-for="workforce"]').textContent`); !strings.HasPrefix(got, "输入有误：") || !strings.Contains(got, "workforce") {
		t.Errorf("workforce 1e2: the error beside the field reads %q, want it led by 输入有误： and naming the workforce", got)
	}
	if got := eval[int](t, ctx, `window.kz.desk.submits`); got != submits {
		t.Errorf("a workforce of 1e2 was sent")
	}

	// 12345 fen, typed as such: recorded as 12345.
	openForm(t, ctx, "payment")
	fill(t, ctx, "payment", map[string]string{"paid_on": "2006-12-10", "receipt_no": "W-1", "amount_fen": "12345"})
	submitPayment(t, ctx)
	seq := waitWritten(t, ctx, 1)
	if got := deskPayments(t, e, id, seq); len(got) != 1 || got[0] != [2]string{"W-1", "12345"} {
		t.Errorf("the payment of 12345 fen typed is recorded as %v, want [[W-1 12345]]", got)
	}
	if got := e.count(); got != before+1 {
		t.Errorf("a payment appended %d messages, want 1", got-before)
	}

	// 18 digits, beyond what a JS number holds exactly, go out digit for digit (leading zeros
	// dropped); the server refuses the amount, and nothing is recorded.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { const real = window.fetch; window.sentBodies = [];
		window.fetch = (url, o) => { if (o && o.method === 'POST') window.sentBodies.push(o.body); return real(url, o); }; })()`))
	fill(t, ctx, "payment", map[string]string{"receipt_no": "W-2", "amount_fen": "00123456789012345678"})
	before = e.count()
	submitPayment(t, ctx)
	poll(t, ctx, 10*time.Second, `window.sentBodies.length === 1 && `+paymentForm+`.dataset.busy === 'false'`)
	if got := eval[string](t, ctx, `window.sentBodies[0]`); !strings.Contains(got, `"amount_fen":123456789012345678,`) {
		t.Errorf("an amount of 18 digits was sent as %s, want amount_fen 123456789012345678 digit for digit", got)
	}
	if got := eval[string](t, ctx, slot+`.textContent`); !strings.HasPrefix(got, "输入有误：") {
		t.Errorf("the server's refusal of 18 digits of fen reads %q beside the amount", got)
	}
	e.wantUnchanged(t, before)
}

// TestDeskEditAfterLostAnswerInChromium: the answer to a payment is lost (the server recorded
// it), the clerk edits the receipt and submits: the server refuses the same key with other
// values (422 idempotency_mismatch), and the desk keeps the key and says, in Chinese and then
// in English, that the earlier submission may already be recorded, offering to reload the
// employer's history; submitting again records nothing. Only the explicit "submit as a new
// entry" records the edited payment, under a key of its own.
func TestDeskEditAfterLostAnswerInChromium(t *testing.T) {
	e, ctx, id := deskPayer(t, 8302)

	openForm(t, ctx, "payment")
	fill(t, ctx, "payment", map[string]string{"paid_on": "2006-12-10", "amount_fen": "50000", "receipt_no": "L-1"})
	// The first POST reaches the server, and its answer never reaches the page.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { const real = window.fetch; let lost = false;
		window.fetch = async (url, o) => { const r = await real(url, o); if (o && o.method === 'POST' && !lost) { lost = true; throw new TypeError('network lost'); } return r; }; })()`))
	before := e.count()
	submitPayment(t, ctx)
	poll(t, ctx, 10*time.Second, paymentForm+`.dataset.busy === 'false' && `+paymentForm+`.dataset.key && `+paymentForm+`.querySelector('.form-status').textContent.includes('网络错误')`)
	firstKey := eval[string](t, ctx, paymentForm+`.dataset.key`)
	if got := e.count(); got != before+1 {
		t.Fatalf("the submission whose answer was lost appended %d messages, want 1", got-before)
	}

	// The clerk edits the receipt and submits, twice: refused by the key, nothing recorded.
	fill(t, ctx, "payment", map[string]string{"receipt_no": "L-2"})
	for i := 0; i < 2; i++ {
		submits := eval[int](t, ctx, `window.kz.desk.submits`)
		submitPayment(t, ctx)
		poll(t, ctx, 10*time.Second, fmt.Sprintf(`window.kz.desk.submits > %d && %s.dataset.busy === 'false'`, submits, paymentForm))
		if got := e.count(); got != before+1 {
			t.Errorf("submission %d of the edited payment appended %d messages, want none (the first is recorded)", i+1, got-before-1)
		}
		if got := eval[string](t, ctx, paymentForm+`.dataset.key || ''`); got != firstKey {
			t.Errorf("after submission %d of the edited payment the form's key is %q, want the first submission's %q kept", i+1, got, firstKey)
		}
		if !eval[bool](t, ctx, paymentForm+`.dataset.unsure === 'true' && !`+paymentForm+`.querySelector('.form-unsure').hidden`) {
			t.Errorf("after submission %d of the edited payment the form does not warn that the first may be recorded", i+1)
		}
	}
	if got := eval[int](t, ctx, `window.kz.desk.written.length`); got != 0 {
		t.Errorf("the page counts %d payments written, want none", got)
	}
	msg := eval[string](t, ctx, paymentForm+`.querySelector('.form-unsure').textContent`)
	zh, en := strings.Index(msg, "可能已经记录"), strings.Index(msg, "may already have been recorded")
	if zh < 0 || en < 0 || zh > en || !strings.Contains(msg, "事件历史") {
		t.Errorf("the form says %q, want it to say (in Chinese, then English) that the earlier submission may already be recorded and to check the history", msg)
	}
	if got := deskPayments(t, e, id, 0); len(got) != 1 || got[0] != [2]string{"L-1", "50000"} {
		t.Errorf("the payments recorded are %v, want the first alone, [[L-1 50000]]", got)
	}

	// A reload of the page keeps the edited values, the first key and the warning.
	run(t, ctx, chromedp.Reload())
	poll(t, ctx, 15*time.Second, `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs') !== null`)
	openForm(t, ctx, "payment")
	if got := eval[string](t, ctx, `[`+paymentForm+`.querySelector('[data-path="receipt_no"]').value, `+paymentForm+`.dataset.key, `+paymentForm+`.dataset.unsure, String(`+paymentForm+`.querySelector('.form-unsure').hidden)].join('|')`); got != "L-2|"+firstKey+"|true|false" {
		t.Errorf("after a reload the form holds receipt|key|unsure|hidden %q, want L-2|%s|true|false", got, firstKey)
	}

	// Reload the history: the first payment is there to see.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](paymentForm+`.querySelector('.form-unsure .reload-history').click()`))
	poll(t, ctx, 10*time.Second, `document.querySelector('#history tbody').textContent.includes('L-1')`)

	// Submitted as a new entry: recorded, under a new key.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](paymentForm+`.querySelector('.form-unsure .new-entry').click()`))
	seq := waitWritten(t, ctx, 1)
	if !eval[bool](t, ctx, fmt.Sprintf(`window.kz.desk.written[0].duplicate === false && window.kz.desk.written[0].key !== %s`, strconv.Quote(firstKey))) {
		t.Errorf("the new entry was not sent as a submission of its own: %s", eval[string](t, ctx, `JSON.stringify(window.kz.desk.written)`))
	}
	if got := deskPayments(t, e, id, seq); len(got) != 2 || got[1] != [2]string{"L-2", "50000"} {
		t.Errorf("after the new entry the payments are %v, want L-1 and L-2", got)
	}
	if !eval[bool](t, ctx, paymentForm+`.querySelector('.form-unsure').hidden`) {
		t.Errorf("the warning is still shown after the new entry was recorded")
	}
}

// TestDeskDraftAfterReloadInChromium: a reload of the page loses nothing the clerk typed. A
// payment whose answer was lost, sent again after a reload with the values the desk kept, is
// answered "already recorded" under the key it first went with (not recorded twice); a
// declaration of two lines half typed comes back with both lines; a recorded form's draft is
// gone, so the next reload shows it empty.
func TestDeskDraftAfterReloadInChromium(t *testing.T) {
	e, ctx, id := deskPayer(t, 8303)
	reloaded := func() {
		t.Helper()
		run(t, ctx, chromedp.Reload())
		poll(t, ctx, 15*time.Second, `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs') !== null`)
	}
	declaration := `document.querySelector('form[data-form="declaration"]')`

	openForm(t, ctx, "declaration")
	fill(t, ctx, "declaration", map[string]string{"declared_on": "2006-12-05", "period": "2006-11",
		"lines[0].insurance": "pension", "lines[0].headcount": "12", "lines[0].wage_base_fen": "9600000"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](declaration+`.querySelector('.add-line').click()`))
	fill(t, ctx, "declaration", map[string]string{"lines[1].insurance": "medical", "lines[1].headcount": "12", "lines[1].wage_base_fen": "9600000"})

	openForm(t, ctx, "payment")
	fill(t, ctx, "payment", map[string]string{"paid_on": "2006-12-10", "amount_fen": "50000", "receipt_no": "D-1"})
	// The POST reaches the server and its answer never comes: the clerk reloads the stuck page.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { const real = window.fetch;
		window.fetch = async (url, o) => { const r = await real(url, o); if (o && o.method === 'POST') await new Promise(() => {}); return r; }; })()`))
	before := e.count()
	submitPayment(t, ctx)
	waitFor(t, 10*time.Second, "the payment to reach the ledger", func() bool { return e.count() == before+1 })
	firstKey := eval[string](t, ctx, paymentForm+`.dataset.key`)
	if firstKey == "" || eval[string](t, ctx, paymentForm+`.dataset.busy`) != "true" {
		t.Fatalf("the payment in flight has key %q and busy %q, want a key and busy", firstKey, eval[string](t, ctx, paymentForm+`.dataset.busy`))
	}

	reloaded()
	// The desk opens on a form a draft waits in (the menu's first of them), not on the menu's first.
	if got := eval[string](t, ctx, `document.getElementById('desk-employer').dataset.form`); got != "declaration" {
		t.Errorf("after a reload the desk shows the %q form, want the declaration its draft waits in", got)
	}
	openForm(t, ctx, "payment")
	got := eval[[]string](t, ctx, `['paid_on', 'amount_fen', 'receipt_no'].map(p => `+paymentForm+`.querySelector('[data-path="' + p + '"]').value).concat([`+paymentForm+`.dataset.key || ''])`)
	if want := []string{"2006-12-10", "50000", "D-1", firstKey}; !slices.Equal(got, want) {
		t.Fatalf("after a reload the payment form holds %q, want %q (values and the lost answer's key)", got, want)
	}
	if got := eval[string](t, ctx, paymentForm+`.querySelector('.form-status').textContent`); !strings.HasPrefix(got, "已恢复") {
		t.Errorf("the restored payment form says %q, want it to say (已恢复…) that what was typed is back", got)
	}
	submitPayment(t, ctx)
	waitWritten(t, ctx, 1)
	if !eval[bool](t, ctx, `window.kz.desk.written[0].duplicate === true && window.kz.desk.written[0].key === `+strconv.Quote(firstKey)) {
		t.Errorf("the payment sent again after the reload was answered %s, want a duplicate under the first key", eval[string](t, ctx, `JSON.stringify(window.kz.desk.written)`))
	}
	if got := e.count(); got != before+1 {
		t.Errorf("the payment sent again after the reload appended %d messages more, want none", got-before-1)
	}
	if got := deskPayments(t, e, id, 0); len(got) != 1 || got[0] != [2]string{"D-1", "50000"} {
		t.Errorf("the payments recorded are %v, want D-1 once", got)
	}

	openForm(t, ctx, "declaration")
	got = eval[[]string](t, ctx, `Array.from(`+declaration+`.querySelectorAll('[data-path]')).filter(c => c.matches('input, select')).map(c => c.dataset.path + '=' + c.value)`)
	want := []string{"declared_on=2006-12-05", "period=2006-11",
		"lines[0].insurance=pension", "lines[0].headcount=12", "lines[0].wage_base_fen=9600000",
		"lines[1].insurance=medical", "lines[1].headcount=12", "lines[1].wage_base_fen=9600000"}
	if !slices.Equal(got, want) {
		t.Fatalf("after a reload the declaration holds %q, want %q", got, want)
	}
	if got := eval[string](t, ctx, declaration+`.querySelector('[data-path="lines[0].wage_base_fen"]').closest('.field').querySelector('.yuan').textContent`); !strings.Contains(got, "96,000.00") {
		t.Errorf("a restored wage base shows %q beside it, want its yuan (96,000.00)", got)
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](declaration+`.querySelector('button[type=submit]').click()`))
	waitWritten(t, ctx, 2)
	if got := e.count(); got != before+2 {
		t.Errorf("the restored declaration appended %d messages, want 1", got-before-1)
	}

	reloaded()
	openForm(t, ctx, "declaration")
	if got := eval[string](t, ctx, declaration+`.querySelector('[data-path="declared_on"]').value + '|' + `+declaration+`.querySelectorAll('.line-row').length`); got != "|1" {
		t.Errorf("after the declaration was recorded and the page reloaded, the form holds declared_on|rows %q, want it empty with one row", got)
	}

	// Clearing the token (another clerk takes the desk) drops the tab's drafts.
	drafts := `Object.keys(sessionStorage).filter(k => k.startsWith('kz-draft:')).length`
	fill(t, ctx, "declaration", map[string]string{"declared_on": "2006-12-06"})
	if n := eval[int](t, ctx, drafts); n == 0 {
		t.Fatal("a half-typed declaration kept no draft")
	}
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById('token-clear').click()`))
	if n := eval[int](t, ctx, drafts); n != 0 {
		t.Errorf("after the token was cleared the tab keeps %d drafts, want none", n)
	}
}

// TestDeskFullWidthInChromium: a Chinese input method in full-width mode types ２００６－１２－１０
// and １２３４５; the desk reads dates, months and whole numbers in half width, so the payment is
// recorded as 12345 fen on 2006-12-10 (the server refused full-width digits, in English), the
// amount's hint shows 123.45 元 as it is typed, a declaration's period typed so offers its
// standing lines, a transfer goes to the county code typed so, and the employer page's
// statement is printed for dates typed so.
func TestDeskFullWidthInChromium(t *testing.T) {
	e, ctx, id := deskPayer(t, 8302)
	openForm(t, ctx, "payment")
	fill(t, ctx, "payment", map[string]string{"paid_on": "２００６－１２－１０", "receipt_no": "FW-1", "amount_fen": "１２３４５"})
	if got := eval[string](t, ctx, paymentForm+`.querySelector('small.yuan').textContent`); got != "= 123.45 元" {
		t.Errorf("the hint beside １２３４５ fen reads %q, want = 123.45 元", got)
	}
	// Digits beyond a float's exact integers are shown as typed, not rounded.
	for typed, want := range map[string]string{"12345678901234567": "= 123,456,789,012,345.67 元", "007": "= 0.07 元"} {
		fill(t, ctx, "payment", map[string]string{"amount_fen": typed})
		if got := eval[string](t, ctx, paymentForm+`.querySelector('small.yuan').textContent`); got != want {
			t.Errorf("the hint beside %s fen reads %q, want %s", typed, got, want)
		}
	}
	fill(t, ctx, "payment", map[string]string{"amount_fen": "１２３４５"})
	before := e.count()
	submitPayment(t, ctx)
	seq := waitWritten(t, ctx, 1)
	if got := deskPayments(t, e, id, seq); len(got) != 1 || got[0] != [2]string{"FW-1", "12345"} {
		t.Errorf("the payment typed in full width is recorded as %v, want [[FW-1 12345]]", got)
	}
	if got := e.count(); got != before+1 {
		t.Errorf("the payment appended %d messages, want 1", got-before)
	}
	var h struct {
		Events []struct {
			Type       string      `json:"type"`
			OccurredOn string      `json:"occurred_on"`
			Payload    interface{} `json:"payload"`
		} `json:"events"`
	}
	decode(t, e.get(t, fmt.Sprintf("%s?min_seq=%d", empPath(id, "history"), seq), tokClerkA), &h)
	if last := h.Events[len(h.Events)-1]; last.Type != "payment.received" || last.OccurredOn != "2006-12-10" {
		t.Errorf("the last event is %s on %s, want the payment on 2006-12-10", last.Type, last.OccurredOn)
	}

	e.mustWrite(t, empPath(id, "declarations"), tokClerkA, `{"declared_on":"2006-12-05","period":"2006-11","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":300000}]}`)
	poll(t, ctx, 15*time.Second, fmt.Sprintf(`Number(document.getElementById('employer-detail').dataset.version) > %d`, seq))
	openForm(t, ctx, "declaration")
	fill(t, ctx, "declaration", map[string]string{"period": "２００６－１１"})
	poll(t, ctx, 10*time.Second, `(b => b !== null && !b.hidden)(document.querySelector('form[data-form="declaration"] button.load-lines'))`)

	// The employer page's statement, its dates typed in full width.
	n := eval[int](t, ctx, `window.kz.documentsOffered`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => { f.elements.from.value = '２００６－０１－０１'; f.elements.to.value = '２００６－１２－３１'; f.requestSubmit(); })(document.getElementById('employer-statement'))`))
	if d, _ := offered(t, ctx, n); d.Name != "statement-"+id+"-2006-01-01-2006-12-31.pdf" {
		t.Errorf("the statement asked in full width is offered as %q", d.Name)
	}

	// A transfer to a county code typed in full width.
	openForm(t, ctx, "transfer")
	fill(t, ctx, "transfer", map[string]string{"on": "２００６－１２－２０", "county": "３６０７２１"})
	before = e.count()
	submitTransfer(t, ctx, e)
	waitWritten(t, ctx, 2)
	if got := e.count(); got != before+1 {
		t.Errorf("the transfer to ３６０７２１ appended %d messages, want 1", got-before)
	}
}
