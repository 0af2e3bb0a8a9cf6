package api_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chinaDay is the date in China at t, the day the ledger counts a recording on.
func chinaDay(t time.Time) string {
	return t.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
}

// employerAnswer is the part of GET /v1/employers/{id} the corrections test reads.
type employerAnswer struct {
	Version uint64 `json:"version"`
	Totals  struct {
		PaidFen   int64 `json:"paid_fen"`
		CreditFen int64 `json:"credit_fen"`
	} `json:"totals"`
}

// historyAnswer is the part of GET /v1/employers/{id}/history the corrections test reads.
type historyAnswer struct {
	Events []struct {
		Seq   uint64 `json:"seq"`
		ID    string `json:"id"`
		Type  string `json:"type"`
		Actor string `json:"actor"`
	} `json:"events"`
	Voided []struct {
		EventSeq uint64 `json:"event_seq"`
		VoidSeq  uint64 `json:"void_seq"`
	} `json:"voided"`
}

// correctionRow is a row of GET /v1/corrections as the panel keeps it in data-value attributes
// (a null rate as "").
type correctionRow struct {
	County    string `json:"county"`
	Actor     string `json:"actor"`
	Recorded  string `json:"recorded"`
	Voided    string `json:"voided"`
	VoidsMade string `json:"voids_made"`
	RateBP    string `json:"rate_bp"`
	Flagged   string `json:"flagged"`
}

// correctionRows reads GET /v1/corrections and returns its rows with their numbers as text.
func correctionRows(t *testing.T, e *env, from, to, token string) []correctionRow {
	t.Helper()
	var raw correctionsAnswer
	decode(t, e.get(t, "/v1/corrections?from="+from+"&to="+to, token), &raw)
	var out []correctionRow
	for _, r := range raw.Rows {
		rate := ""
		if r.RateBP != nil {
			rate = strconv.Itoa(*r.RateBP)
		}
		out = append(out, correctionRow{r.County, r.Actor, strconv.Itoa(r.Recorded), strconv.Itoa(r.Voided), strconv.Itoa(r.VoidsMade), rate, strconv.FormatBool(r.Flagged)})
	}
	return out
}

// panelRowsJS reads the corrections panel's rows from their data attributes.
const panelRowsJS = `Array.from(document.querySelectorAll('#corrections tbody tr[data-actor]')).map(tr => Object.assign(
	{county: tr.dataset.county, actor: tr.dataset.actor},
	Object.fromEntries(Array.from(tr.querySelectorAll('td[data-value]')).map(td => [td.dataset.field, td.dataset.value]))))`

// showCorrections picks the corrections panel's period and waits until the page has drawn it.
func showCorrections(t *testing.T, ctx context.Context, from, to string) {
	t.Helper()
	loads := eval[int](t, ctx, `window.kz.corrections.loads`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { document.getElementById('corrections-from').value = %q;
		document.getElementById('corrections-to').value = %q; document.getElementById('corrections-form').requestSubmit(); })()`, from, to)))
	poll(t, ctx, 15*time.Second, fmt.Sprintf(`window.kz.corrections.loads > %d && document.getElementById('corrections').dataset.from === %q`, loads, from))
}

// signIn opens path in the browser tab ctx and answers the token prompt with token.
func signIn(t *testing.T, ctx context.Context, url, token string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(url))
	poll(t, ctx, 15*time.Second, `document.getElementById('token-dialog').open`)
	run(t, ctx, chromedp.SendKeys(chromedp.ID("token-input"), token+"\r"))
}

// TestDeskCorrectionsInChromium: in a real browser, a clerk pays through the desk and may not
// void the payment (the server's 403 is shown beside the event); an auditor who did not record
// it voids it from the history, after which the payment row is struck through, the void links
// to it and the paid total is back where it was; a refund above the credit is refused beside
// its amount and one within it, submitted twice, is recorded once; the corrections panel shows
// the void, with the clerk's counts, to an auditor and a supervisor, flags a clerk whose voids
// spike, and is hidden, without an error, from a clerk.
func TestDeskCorrectionsInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the desk test needs a real browser at %s: %v", chromiumPath, err)
	}
	startDay := chinaDay(time.Now())
	e := newReadEnv(t, today)
	ctx := startBrowser(t)
	id := e.register(t, tokClerkA, orgCode(8101), "360702")
	// A due of 280,000 fen (28% of a wage base of 1,000,000 for pension), for payments to pay.
	declSeq := e.mustWrite(t, empPath(id, "declarations"), tokClerkA, `{"declared_on":"2006-12-05","period":"2006-11","lines":[{"insurance":"pension","headcount":10,"wage_base_fen":1000000}]}`).num("seq")
	employer := func(minSeq int64) employerAnswer {
		var a employerAnswer
		decode(t, e.get(t, fmt.Sprintf("%s?min_seq=%d", empPath(id, ""), minSeq), tokClerkA), &a)
		return a
	}
	totalJS := func(field string) string {
		return `document.querySelector('#employer-totals [data-field="` + field + `"]').dataset.value`
	}

	// The clerk's page: the desk's menu has the refund form and no void form.
	signIn(t, ctx, e.srv.URL+"/#/employer/"+id, tokClerkA)
	poll(t, ctx, 15*time.Second, `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs') !== null`)
	tabs := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#desk-employer .desk-tabs button:not([hidden])')).map(b => b.dataset.form)`)
	if want := []string{"survey", "enrollment", "declaration", "assessment", "payment", "reversal", "refund", "deregistration", "reinstatement", "transfer", "orgcode", "opening"}; !slices.Equal(tabs, want) {
		t.Errorf("a clerk's desk offers %v, want %v", tabs, want)
	}
	paidBefore := eval[string](t, ctx, totalJS("paid_fen"))
	if got := strconv.FormatInt(employer(0).Totals.PaidFen, 10); got != paidBefore {
		t.Fatalf("the page shows paid %s fen, the API %s", paidBefore, got)
	}

	// A payment through the desk.
	openForm(t, ctx, "payment")
	fill(t, ctx, "payment", map[string]string{"paid_on": "2006-12-10", "amount_fen": "50000", "receipt_no": "V-1"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="payment"] button[type=submit]').click()`))
	paySeq := waitWritten(t, ctx, 1)
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.getElementById('employer-detail').dataset.version === '%d'`, paySeq))
	before, _ := strconv.ParseInt(paidBefore, 10, 64)
	if got := eval[string](t, ctx, totalJS("paid_fen")); got != strconv.FormatInt(before+50000, 10) {
		t.Fatalf("after the payment the page shows paid %s fen, want %d", got, before+50000)
	}
	var hist historyAnswer
	decode(t, e.get(t, fmt.Sprintf("%s?min_seq=%d", empPath(id, "history"), paySeq), tokClerkA), &hist)
	payID := ""
	for _, ev := range hist.Events {
		if ev.Seq == uint64(paySeq) && ev.Type == "payment.received" {
			payID = ev.ID
		}
	}
	if payID == "" {
		t.Fatalf("the history has no payment at seq %d: %+v", paySeq, hist.Events)
	}

	// A money event is voided by an auditor or an admin who did not record it (four eyes): the
	// payment's row offers the clerk no void (a clerk's review: the button led to a form the
	// server then refused), and the server refuses one sent all the same.
	payRow := fmt.Sprintf(`#history tr[data-seq="%d"]`, paySeq)
	declRow := fmt.Sprintf(`#history tr[data-seq="%d"]`, declSeq)
	poll(t, ctx, 10*time.Second, `document.querySelector('`+declRow+` button.void') !== null`)
	if eval[bool](t, ctx, `document.querySelector('`+payRow+` button.void') !== null`) {
		t.Errorf("the clerk's page offers a void of the payment, which only an auditor or an admin may void")
	}
	count := e.count()
	wantError(t, e.post(t, empPath(id, "voids"), tokClerkA, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-12-20","reason":"x"}`, payID)), http.StatusForbidden, "forbidden", "event_id")
	e.wantUnchanged(t, count)

	// The clerk opens the void form from the declaration's row, with the keyboard: the event is
	// preset and shown, the focus is on the first field to fill, and a note says what a void of
	// a declaration does that a correction may not mean: the period undeclared, what was paid
	// credit, and that filing the period again corrects it.
	declID := eval[string](t, ctx, `document.querySelector('`+declRow+` button.void').dataset.event`)
	run(t, ctx, chromedp.SendKeys(declRow+` button.void`, "\r"))
	poll(t, ctx, 5*time.Second, `document.querySelector('#desk-employer form[data-form="void"]') !== null`)
	if got := eval[string](t, ctx, `(c => c.readOnly + ' ' + c.value)(document.querySelector('form[data-form="void"] [data-path="event_id"]'))`); got != "true "+declID {
		t.Errorf("the void form's event_id: %q, want read-only %s", got, declID)
	}
	shown := eval[string](t, ctx, `document.querySelector('form[data-form="void"] [data-shown-for="event_id"]').textContent`)
	for _, want := range []string{"申报", "2006-12-05", "#" + strconv.FormatInt(declSeq, 10)} {
		if !strings.Contains(shown, want) {
			t.Errorf("the void form shows the event as %q, without %q", shown, want)
		}
	}
	if got := eval[string](t, ctx, `document.activeElement.dataset.path || ''`); got != "voided_on" {
		t.Errorf("the void form opened with the focus on %q, want voided_on", got)
	}
	if text := eval[string](t, ctx, `document.querySelector('form[data-form="void"]').textContent`); strings.Contains(text, "null") || strings.Contains(text, "undefined") {
		t.Errorf("the void form of a declaration reads %q", text)
	}
	if got := eval[int](t, ctx, `document.querySelectorAll('#desk-employer .desk-tabs button[aria-pressed="true"]').length`); got != 0 {
		t.Errorf("%d menu buttons are pressed while the void form is shown, want 0", got)
	}
	note := eval[string](t, ctx, `(n => n ? n.textContent : '')(document.querySelector('form[data-form="void"] .form-note'))`)
	for _, want := range []string{"未申报", "余额", "重新申报", "file the period again", "late fees"} {
		if !strings.Contains(note, want) {
			t.Errorf("the declaration's void form notes %q, without %q", note, want)
		}
	}

	// An auditor, who did not record the payment, voids it from the history in a tab of their own.
	aud, cancelAud := chromedp.NewContext(ctx)
	defer cancelAud()
	signIn(t, aud, e.srv.URL+"/#/employer/"+id, tokAuditor)
	poll(t, aud, 15*time.Second, `document.querySelector('`+payRow+` button.void') !== null && document.querySelector('#desk-employer form') !== null`)
	if got := eval[[]string](t, aud, `Array.from(document.querySelectorAll('#desk-employer .desk-tabs button')).map(b => b.dataset.form)`); slices.Contains(got, "void") {
		t.Errorf("the auditor's desk menu %v offers the void form blank", got)
	}
	run(t, aud, chromedp.SendKeys(payRow+` button.void`, "\r"))
	poll(t, aud, 5*time.Second, `document.querySelector('#desk-employer form[data-form="void"]') !== null`)
	fill(t, aud, "void", map[string]string{"voided_on": "2006-12-20", "reason": "录入错误 entered in error"})
	run(t, aud, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="void"] button[type=submit]').click()`))
	voidSeq := waitWritten(t, aud, 1)
	poll(t, aud, 10*time.Second, fmt.Sprintf(`document.getElementById('employer-detail').dataset.version === '%d'`, voidSeq))

	// The payment's row is struck through and names its void, which links back to it; neither
	// has a void button; an event not voided still has one.
	voidRow := fmt.Sprintf(`#history tr[data-seq="%d"]`, voidSeq)
	if got := eval[string](t, aud, `(tr => tr.className + '|' + getComputedStyle(tr.cells[0]).textDecorationLine + '|' + tr.querySelector('td.correction').textContent)(document.querySelector('`+payRow+`'))`); got != fmt.Sprintf("voided|line-through|已冲正 voided by #%d", voidSeq) {
		t.Errorf("the voided payment's row: %q, want struck through and naming void #%d", got, voidSeq)
	}
	if got := eval[string](t, aud, `(tr => tr.dataset.type + '|' + tr.querySelector('td.correction').textContent)(document.querySelector('`+voidRow+`'))`); got != fmt.Sprintf("event.voided|冲正 #%d", paySeq) {
		t.Errorf("the void's row: %q, want event.voided linking to #%d", got, paySeq)
	}
	if got := eval[int](t, aud, `document.querySelectorAll('`+payRow+` button.void, `+voidRow+` button.void').length`); got != 0 {
		t.Errorf("%d void buttons on the voided payment and its void, want none", got)
	}
	if !eval[bool](t, aud, fmt.Sprintf(`document.querySelector('#history tr[data-seq="%d"] button.void') !== null`, declSeq)) {
		t.Errorf("the declaration, neither a void nor voided, has no void button")
	}
	// The registration is never voided (deregister instead): no button invites the attempt.
	if eval[bool](t, aud, `document.querySelector('#history tr[data-type="employer.registered"] button.void') !== null`) {
		t.Errorf("the registration, which the ledger never voids, offers a void button")
	}
	run(t, aud, chromedp.SendKeys(voidRow+` td.correction a`, "\r"))
	poll(t, aud, 5*time.Second, fmt.Sprintf(`document.activeElement && document.activeElement.id === 'ev-%d'`, paySeq))
	shot(t, aud, "kuozheng-void.png")

	// The paid total is back to what it was before the payment, on the page and in the API.
	if got := eval[string](t, aud, totalJS("paid_fen")); got != paidBefore {
		t.Errorf("after the void the page shows paid %s fen, want %s as before the payment", got, paidBefore)
	}
	if got := employer(voidSeq).Totals.PaidFen; strconv.FormatInt(got, 10) != paidBefore {
		t.Errorf("after the void the API answers paid %d fen, want %s", got, paidBefore)
	}
	decode(t, e.get(t, fmt.Sprintf("%s?min_seq=%d", empPath(id, "history"), voidSeq), tokClerkA), &hist)
	if len(hist.Voided) != 1 || hist.Voided[0].EventSeq != uint64(paySeq) || hist.Voided[0].VoidSeq != uint64(voidSeq) {
		t.Errorf("the history's voided list %+v, want the payment %d voided by %d", hist.Voided, paySeq, voidSeq)
	}

	// Refunds, on the clerk's page: above the credit refused beside the amount; within it,
	// submitted twice at once, recorded once.
	// 310,000 fen paid: the due, and 30,000 fen of credit.
	v2 := e.mustWrite(t, empPath(id, "payments"), tokClerkA, paymentBody("V-2", 310000, "2006-12-11"))
	if got := employer(v2.num("seq")).Totals.CreditFen; got != 30000 {
		t.Fatalf("after paying 310,000 fen of a due of 280,000 the employer holds %d fen of credit, want 30000", got)
	}
	// The clerk's page shows that payment before the refund is begun (a form begun before it
	// would be refused as begun on a payer changed since: TestDeskStaleForm).
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.getElementById('employer-detail').dataset.version === '%d'`, v2.num("seq")))
	openForm(t, ctx, "refund")
	fill(t, ctx, "refund", map[string]string{"refunded_on": "2006-12-15", "amount_fen": "40000", "receipt_no": "T-1"})
	count = e.count()
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="refund"] button[type=submit]').click()`))
	poll(t, ctx, 10*time.Second, `document.querySelector('form[data-form="refund"]').dataset.errorStatus === '409'`)
	if got := eval[string](t, ctx, `document.querySelector('form[data-form="refund"]').dataset.errorField + '|' + document.activeElement.dataset.path`); got != "amount_fen|amount_fen" {
		t.Errorf("the refund above the credit: error field and focus %q, want amount_fen", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('form[data-form="refund"] [data-error-for="amount_fen"]').textContent`); !strings.Contains(got, "30000 fen（300.00 元）") {
		t.Errorf("beside the amount the clerk reads %q, want the server's word on the credit of 30000 fen, in 元 too", got)
	}
	e.wantUnchanged(t, count)
	fill(t, ctx, "refund", map[string]string{"amount_fen": "20000"})
	submits := eval[int](t, ctx, `window.kz.desk.submits`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => { const b = f.querySelector('button[type=submit]'); b.click(); b.click(); f.requestSubmit(); })(document.querySelector('form[data-form="refund"]'))`))
	refundSeq := waitWritten(t, ctx, 2)
	poll(t, ctx, 10*time.Second, `document.querySelector('form[data-form="refund"]').dataset.busy === 'false'`)
	if got := eval[int](t, ctx, `window.kz.desk.submits`); got != submits+1 {
		t.Errorf("a refund submitted three times at once sent %d submissions, want 1", got-submits)
	}
	if got := e.count(); got != count+1 {
		t.Errorf("a refund submitted three times at once appended %d messages, want 1", got-count)
	}
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.getElementById('employer-detail').dataset.version === '%d'`, refundSeq))
	if got, api := eval[string](t, ctx, totalJS("credit_fen")), employer(refundSeq).Totals.CreditFen; got != "10000" || api != 10000 {
		t.Errorf("after the refund the page shows credit %s fen and the API %d, want 10000", got, api)
	}
	if got := eval[int](t, ctx, `document.querySelectorAll('#history tr[data-type="credit.refunded"]').length`); got != 1 {
		t.Errorf("the history shows %d refunds, want 1", got)
	}

	// Another clerk voids three surveys of their own: a rate the server flags.
	other := e.register(t, tokClerkB, orgCode(8102), "360721")
	for _, on := range []string{"2006-05-01", "2006-06-01", "2006-07-01"} {
		r := e.mustWrite(t, empPath(other, "surveys"), tokClerkB, fmt.Sprintf(`{"as_of":%q,"workforce":10}`, on))
		ids, _ := r.JSON["event_ids"].([]any)
		if len(ids) != 1 {
			t.Fatalf("a survey answered event ids %v", r.JSON["event_ids"])
		}
		e.mustWrite(t, empPath(other, "voids"), tokClerkB, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-12-20","reason":"重复 duplicate"}`, ids[0]))
	}

	// The corrections panel, for the auditor: this month through today by default; over the
	// test's days it lists the void with the clerk's counts, as GET /v1/corrections does.
	dayBefore := chinaDay(time.Now())
	run(t, aud, chromedp.Navigate(e.srv.URL+"/#/"))
	run(t, aud, chromedp.Reload())
	poll(t, aud, 15*time.Second, `window.kz.corrections && window.kz.corrections.loads >= 1`)
	dayAfter := chinaDay(time.Now())
	from, to := eval[string](t, aud, `document.getElementById('corrections-from').value`), eval[string](t, aud, `document.getElementById('corrections-to').value`)
	if (to != dayBefore && to != dayAfter) || len(to) != 10 || from != to[:8]+"01" {
		t.Errorf("the corrections panel's period is %s to %s, want the first of the month to today (%s)", from, to, dayAfter)
	}
	if eval[bool](t, aud, `document.getElementById('panel-corrections').hidden`) {
		t.Fatalf("the corrections panel is hidden from an auditor")
	}
	// A period longer than a year is the server's to refuse: shown beside the picker, no error box.
	loads := eval[int](t, aud, `window.kz.corrections.loads`)
	run(t, aud, chromedp.Evaluate[chromedp.Void](`(() => { document.getElementById('corrections-from').value = '2000-01-01';
		document.getElementById('corrections-form').requestSubmit(); })()`))
	poll(t, aud, 15*time.Second, fmt.Sprintf(`window.kz.corrections.loads > %d`, loads))
	if got := eval[string](t, aud, `document.getElementById('corrections-error').textContent + '|' + document.getElementById('corrections-to').getAttribute('aria-invalid') + '|' + document.getElementById('error').hidden`); !strings.HasPrefix(got, "to: ") || !strings.HasSuffix(got, "|true|true") {
		t.Errorf("a period of years: %q, want the server's refusal of \"to\" beside the picker and no error box", got)
	}
	now := chinaDay(time.Now())
	showCorrections(t, aud, startDay, now)
	if got := eval[string](t, aud, `document.getElementById('corrections-error').textContent`); got != "" {
		t.Errorf("after a period the server reads, the panel still shows the error %q", got)
	}
	want := correctionRows(t, e, startDay, now, tokAuditor)
	clerkRow := correctionRow{"360702", "clerk:a", "5", "1", "0", "2000", "false"}
	if !slices.Contains(want, clerkRow) || !slices.Contains(want, correctionRow{"360702", "auditor:aud", "0", "0", "1", "", "false"}) ||
		!slices.Contains(want, correctionRow{"360721", "clerk:b", "4", "3", "3", "7500", "true"}) {
		t.Fatalf("GET /v1/corrections rows %+v: want the clerk's void of 360702 and clerk b's three, flagged", want)
	}
	if got := eval[[]correctionRow](t, aud, panelRowsJS); !slices.Equal(got, want) {
		t.Errorf("the auditor's corrections panel shows\n%+v\nwant, as the API answers,\n%+v", got, want)
	}
	if got := eval[string](t, aud, `(tr => tr ? tr.dataset.actor + '|' + tr.dataset.eventActor + '|' + tr.dataset.eventSeq : '')(document.querySelector('#corrections-voids tr[data-seq="`+strconv.FormatInt(voidSeq, 10)+`"]'))`); got != fmt.Sprintf("auditor:aud|clerk:a|%d", paySeq) {
		t.Errorf("the panel lists the payment's void as %q, want auditor:aud voiding clerk:a's #%d", got, paySeq)
	}
	if got := eval[int](t, aud, `document.querySelectorAll('#corrections-voids tbody tr[data-seq]').length`); got != 4 {
		t.Errorf("the panel lists %d voids, want 4", got)
	}
	// The flagged row stands out; the others do not.
	if got := eval[string](t, aud, `Array.from(document.querySelectorAll('#corrections tbody tr[data-actor]')).map(tr => tr.dataset.actor + ':' + tr.classList.contains('flagged') + ':' + (getComputedStyle(tr.cells[0]).backgroundColor !== getComputedStyle(document.querySelector('#corrections tbody tr[data-actor="clerk:a"]').cells[0]).backgroundColor)).join(' ')`); got != "auditor:aud:false:false clerk:a:false:false clerk:b:true:true" {
		t.Errorf("the panel's rows, flagged and highlighted: %q", got)
	}

	// The supervisor of group 1 (360702 and 360721 in it) sees the same rows.
	sup, cancelSup := chromedp.NewContext(ctx)
	defer cancelSup()
	signIn(t, sup, e.srv.URL+"/", tokSuper)
	poll(t, sup, 15*time.Second, `window.kz.corrections && window.kz.corrections.loads >= 1`)
	showCorrections(t, sup, startDay, now)
	if got := eval[[]correctionRow](t, sup, panelRowsJS); !slices.Contains(got, clerkRow) || !slices.Equal(got, correctionRows(t, e, startDay, now, tokSuper)) {
		t.Errorf("the supervisor's corrections panel shows %+v, want the clerk's row %+v as the API answers", got, clerkRow)
	}

	// The clerk's dashboard: the panel is hidden, and the 403 is no error.
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/#/"))
	run(t, ctx, chromedp.Reload())
	poll(t, ctx, 15*time.Second, `window.kz.corrections && window.kz.corrections.forbidden === true`)
	if got := eval[string](t, ctx, `document.getElementById('panel-corrections').hidden + '|' + document.getElementById('error').hidden + '|' + document.getElementById('error').textContent`); got != "true|true|" {
		t.Errorf("the clerk's dashboard: corrections panel hidden, error box hidden, error text: %q, want true|true|", got)
	}
	shot(t, aud, "kuozheng-corrections.png")
}
