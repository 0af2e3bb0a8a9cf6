package api_test

import (
	"context"
	"encoding/json"
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

// fill sets the desk form's controls named by their API paths and tells the page they changed.
func fill(t *testing.T, ctx context.Context, form string, values map[string]string) {
	t.Helper()
	b, _ := json.Marshal(values)
	js := fmt.Sprintf(`(() => { const f = document.querySelector('[data-form="%s"] form, form[data-form="%s"]');
		for (const [k, v] of Object.entries(%s)) {
			const c = f.querySelector('[data-path="' + k + '"]');
			if (!c) throw new Error('no control ' + k);
			if (c.type === 'checkbox') c.checked = v === 'true'; else c.value = v;
			c.dispatchEvent(new Event('input', {bubbles: true})); c.dispatchEvent(new Event('change', {bubbles: true}));
		}
		return true; })()`, form, form, b)
	if !eval[bool](t, ctx, js) {
		t.Fatalf("fill %s", form)
	}
}

// openForm picks a form of the employer's desk from its menu.
func openForm(t *testing.T, ctx context.Context, form string) {
	t.Helper()
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('#desk-employer .desk-tabs button[data-form="`+form+`"]').click()`))
	poll(t, ctx, 5*time.Second, `document.querySelector('#desk-employer form[data-form="`+form+`"]') !== null`)
}

// submitted waits until the form has been answered n times in all (kz.desk.written counts the
// writes, duplicates included) and returns the last answer's sequence.
func waitWritten(t *testing.T, ctx context.Context, n int) int64 {
	t.Helper()
	poll(t, ctx, 15*time.Second, fmt.Sprintf(`window.kz.desk.written.length >= %d`, n))
	return eval[int64](t, ctx, `window.kz.desk.written[window.kz.desk.written.length - 1].seq`)
}

// TestDeskInChromium: a clerk registers a payer, declares two lines and pays through the desk's
// forms in a real browser; a dashboard open in another tab shows the county's figures change; a
// double submission and a retry after a lost answer append once; a 409 shows beside its field;
// the clerk of another county neither finds nor reads the payer.
func TestDeskInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the desk test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	ctx := startBrowser(t)

	// A dashboard open in a tab of its own, for the supervisor of group 1 (360702 is in it).
	dash, cancelDash := chromedp.NewContext(ctx)
	defer cancelDash()
	run(t, dash, chromedp.Navigate(e.srv.URL+"/"))
	poll(t, dash, 15*time.Second, `document.getElementById('token-dialog').open`)
	run(t, dash, chromedp.SendKeys(chromedp.ID("token-input"), tokSuper+"\r"))
	poll(t, dash, 15*time.Second, `document.querySelector('#counties-body tr[data-county="360702"]') !== null && document.getElementById('conn').dataset.state === 'on'`)
	cellJS := `document.querySelector('#counties-body tr[data-county="360702"] [data-field="period_collected_fen"]').dataset.value`
	collectedBefore := eval[string](t, dash, cellJS)

	// The clerk's desk: a token asked for, the registration form shown.
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/#/employer"))
	poll(t, ctx, 15*time.Second, `document.getElementById('token-dialog').open`)
	run(t, ctx, chromedp.SendKeys(chromedp.ID("token-input"), tokClerkA+"\r"))
	poll(t, ctx, 15*time.Second, `document.querySelector('#desk-register form[data-form="register"]') !== null`)
	if got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#desk-register [data-path="county"] option')).map(o => o.value).filter(v => v)`); !slices.Equal(got, []string{"360702"}) {
		t.Errorf("the clerk of 360702 may register payers in %v, want [360702]", got)
	}
	org := orgCode(8001)
	fill(t, ctx, "register", map[string]string{"name": "桌面 测试厂", "kind": "enterprise", "org_code": org, "risk_class": "1", "registered_on": "2006-04-03"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="register"] button[type=submit]').click()`))
	waitWritten(t, ctx, 1)
	poll(t, ctx, 15*time.Second, `/^#\/employer\/[^?]+/.test(location.hash) && document.querySelector('#desk-employer .desk-tabs') !== null && document.getElementById('employer-detail').dataset.version`)
	id := eval[string](t, ctx, `document.getElementById('employer-detail').dataset.employer`)
	if r := e.get(t, empPath(id, ""), tokClerkA); r.Status != http.StatusOK || r.str("org_code") != org {
		t.Fatalf("the payer registered through the form: %s", r)
	}
	// The clerk's forms only: no audit finding, waiver or enforcement step; and no 补办登记 of
	// a payer registered (a clerk's review: it was the form first shown, refused 409 when used).
	tabs := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('#desk-employer .desk-tabs button:not([hidden])')).map(b => b.dataset.form)`)
	if want := []string{"survey", "enrollment", "declaration", "assessment", "payment", "reversal", "refund", "deregistration", "reinstatement", "transfer", "orgcode", "opening"}; !slices.Equal(tabs, want) {
		t.Errorf("a clerk's desk offers %v, want %v", tabs, want)
	}

	// A declaration of two lines: 28% of 1,000,000 for pension and 8% for medical.
	openForm(t, ctx, "declaration")
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="declaration"] .add-line').click()`))
	fill(t, ctx, "declaration", map[string]string{"declared_on": "2006-12-05", "period": "2006-11",
		"lines[0].insurance": "pension", "lines[0].headcount": "10", "lines[0].wage_base_fen": "1000000",
		"lines[1].insurance": "medical", "lines[1].headcount": "10", "lines[1].wage_base_fen": "x1000"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="declaration"] button[type=submit]').click()`))
	// A value that is not a whole number is refused beside its line's field, which gets the
	// focus; the page refuses it without sending it.
	poll(t, ctx, 10*time.Second, `document.querySelector('form[data-form="declaration"] [data-error-for="lines[1].wage_base_fen"]').textContent !== ''`)
	if got := eval[string](t, ctx, `document.activeElement.dataset.path || ''`); got != "lines[1].wage_base_fen" {
		t.Errorf("after the refusal the focus is on %q, want lines[1].wage_base_fen", got)
	}
	// The refusal leads with its kind in Chinese.
	if got := eval[string](t, ctx, `document.querySelector('form[data-form="declaration"] [data-error-for="lines[1].wage_base_fen"]').textContent`); !strings.HasPrefix(got, "输入有误：") || !strings.HasSuffix(got, "[invalid]") {
		t.Errorf("the refusal beside lines[1].wage_base_fen reads %q, want 输入有误：<the server's detail> [invalid]", got)
	}
	fill(t, ctx, "declaration", map[string]string{"lines[1].wage_base_fen": "1000000"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="declaration"] button[type=submit]').click()`))
	waitWritten(t, ctx, 2)
	poll(t, ctx, 10*time.Second, `document.querySelectorAll('#employer-lines tbody tr').length === 2`)

	// A payment submitted twice at once, Enter pressed in its receipt field: one event.
	openForm(t, ctx, "payment")
	fill(t, ctx, "payment", map[string]string{"paid_on": "2006-12-10", "amount_fen": "360000"})
	before := e.count()
	version := eval[string](t, ctx, `document.getElementById('employer-detail').dataset.version`)
	run(t, ctx, chromedp.SendKeys(`form[data-form="payment"] [data-path="receipt_no"]`, "R-1"))
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => { const b = f.querySelector('button[type=submit]'); b.click(); b.click(); f.requestSubmit(); })(document.querySelector('form[data-form="payment"]'))`))
	paySeq := waitWritten(t, ctx, 3)
	poll(t, ctx, 10*time.Second, `document.querySelector('form[data-form="payment"]').dataset.busy === 'false'`)
	if got := eval[int](t, ctx, `window.kz.desk.submits`); got != 3 {
		t.Errorf("%d submissions sent (registration, declaration, payments), want 3: the second and third click went out", got)
	}
	if got := e.count(); got != before+1 {
		t.Errorf("a payment submitted twice appended %d messages, want 1", got-before)
	}
	poll(t, ctx, 10*time.Second, fmt.Sprintf(`document.getElementById('employer-detail').dataset.version === '%d'`, paySeq))
	if v, _ := strconv.ParseInt(version, 10, 64); v >= paySeq {
		t.Errorf("the employer's version %s did not move to the payment's %d", version, paySeq)
	}
	if got := eval[string](t, ctx, `document.querySelector('#employer-totals [data-field="paid_fen"]').dataset.value`); got != "360000" {
		t.Errorf("after the payment the page shows paid %s fen, want 360000", got)
	}

	// A second click after the answer came, the same values (a double click the server answered
	// in between): sent with the same key, answered as already recorded, nothing appended.
	before = e.count()
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="payment"] button[type=submit]').click()`))
	waitWritten(t, ctx, 4)
	if !eval[bool](t, ctx, `window.kz.desk.written[3].duplicate === true && window.kz.desk.written[3].key === window.kz.desk.written[2].key`) {
		t.Errorf("a second click on the answered payment was not sent as the same submission: %s", eval[string](t, ctx, `JSON.stringify(window.kz.desk.written)`))
	}
	if !strings.Contains(eval[string](t, ctx, `document.querySelector('form[data-form="payment"] .form-status').textContent`), "already recorded") {
		t.Errorf("the second click's status does not say it was already recorded")
	}
	e.wantUnchanged(t, before)

	// The county's figures move on the open dashboard, without a reload.
	var after dashCounties
	decode(t, e.get(t, fmt.Sprintf("/v1/counties?min_seq=%d", paySeq), tokSuper), &after)
	want := ""
	for _, c := range after.Counties {
		if c.Code == "360702" {
			want = string(c.Insurances["pension"]["period_collected_fen"])
		}
	}
	if want == collectedBefore {
		t.Fatalf("the payment did not change 360702's pension period_collected_fen (%s)", want)
	}
	poll(t, dash, 15*time.Second, cellJS+` === '`+want+`'`)

	// The same receipt on another payment: 409, shown beside the receipt field, nothing appended.
	fill(t, ctx, "payment", map[string]string{"amount_fen": "1"})
	before = e.count()
	run(t, ctx, chromedp.SendKeys(`form[data-form="payment"] [data-path="receipt_no"]`, "\r"))
	poll(t, ctx, 10*time.Second, `document.querySelector('form[data-form="payment"]').dataset.errorStatus === '409' && document.querySelector('form[data-form="payment"] [data-error-for="receipt_no"]').textContent !== ''`)
	if got := eval[string](t, ctx, `document.activeElement.dataset.path || ''`); got != "receipt_no" {
		t.Errorf("after the 409 the focus is on %q, want receipt_no", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('form[data-form="payment"] [data-error-for="receipt_no"]').textContent`); !strings.HasPrefix(got, "与账本现状冲突：") {
		t.Errorf("the 409 beside receipt_no reads %q, want it led by 与账本现状冲突：", got)
	}
	e.wantUnchanged(t, before)

	// A retry after a lost answer: the first answer never reaches the page, the second
	// submission sends the same key and learns it was recorded once.
	fill(t, ctx, "payment", map[string]string{"receipt_no": "R-2", "amount_fen": "100"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => { const real = window.fetch; let lost = false;
		window.fetch = async (url, o) => { const r = await real(url, o); if (o && o.method === 'POST' && !lost) { lost = true; throw new TypeError('network lost'); } return r; }; })()`))
	before = e.count()
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="payment"] button[type=submit]').click()`))
	poll(t, ctx, 10*time.Second, `document.querySelector('form[data-form="payment"]').dataset.busy === 'false' && document.querySelector('form[data-form="payment"]').dataset.key`)
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="payment"] button[type=submit]').click()`))
	waitWritten(t, ctx, 5)
	if !eval[bool](t, ctx, `window.kz.desk.written[4].duplicate === true && window.kz.desk.written[4].key !== window.kz.desk.written[3].key`) {
		t.Errorf("the retry was not answered as a duplicate of its first submission: %s", eval[string](t, ctx, `JSON.stringify(window.kz.desk.written)`))
	}
	if got := e.count(); got != before+1 {
		t.Errorf("a submission retried after a lost answer appended %d messages, want 1", got-before)
	}
	// The refusals before it are gone from the form, its error status too (pages and scripts read it).
	if got := eval[string](t, ctx, `document.querySelector('form[data-form="payment"]').dataset.errorStatus || ''`); got != "" {
		t.Errorf("a recorded submission's form still says error status %q", got)
	}

	// The clerk of another county: the search finds nothing, the payer's page is refused.
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem('kuozheng-token', '`+tokClerkB+`')`))
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/#/employer?q="+org))
	run(t, ctx, chromedp.Reload())
	poll(t, ctx, 15*time.Second, `window.kz.searches >= 1 && document.getElementById('employer-results').dataset.total !== undefined`)
	if got := eval[string](t, ctx, `document.getElementById('employer-results').dataset.total`); got != "0" {
		t.Errorf("the clerk of 360721 finds %s employers for %s, want 0", got, org)
	}
	run(t, ctx, chromedp.Navigate(e.srv.URL+"/#/employer/"+id))
	poll(t, ctx, 15*time.Second, `!document.getElementById('employer-error').hidden && document.getElementById('employer-error').textContent.startsWith('无权')`)
	if got := eval[string](t, ctx, `document.getElementById('employer-name').textContent`); got != "单位 Employer "+id {
		t.Errorf("the refused employer's heading reads %q, want it to name the employer asked for, not the refusal", got)
	}
	if !eval[bool](t, ctx, `document.getElementById('desk-employer').hidden`) {
		t.Errorf("the clerk of 360721 is shown forms for a payer of 360702")
	}
	wantError(t, e.get(t, empPath(id, ""), tokClerkB), http.StatusForbidden, "forbidden", "")
	wantError(t, e.post(t, empPath(id, "payments"), tokClerkB, paymentBody("B-1", 100, "2006-12-11")), http.StatusForbidden, "forbidden", "")
	shot(t, ctx, "kuozheng-desk.png")

	// On a phone the clerk's access line wraps: its token button stays on the screen.
	run(t, ctx, chromedp.EmulateViewport(390, 844))
	poll(t, ctx, 5*time.Second, `window.innerWidth === 390 && document.getElementById('scope').textContent.includes('visible')`)
	// The panels a clerk may not read are named, not counted.
	if scope := eval[string](t, ctx, `document.getElementById('scope').textContent`); !strings.Contains(scope, "not shown: 冲正") {
		t.Errorf("the clerk's access line reads %q, want it to name the corrections panel it may not read", scope)
	}
	if got := eval[[]float64](t, ctx, `[document.getElementById('token-change').getBoundingClientRect().right, document.documentElement.scrollWidth, window.innerWidth]`); got[0] > got[2] || got[1] > got[2]+1 {
		t.Errorf("at 390 px the token button ends at %v px and the page is %v px wide, on a screen of %v", got[0], got[1], got[2])
	}
}
