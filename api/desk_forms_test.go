package api_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/kuozheng/kuozheng/domain"
)

// TestDeskRegistersAndAssessesInChromium: the worklist's found, not registered
// payer is registered from the desk (补办登记), and a period it did not declare is assessed at
// 110% of the one before (核定), without the clerk leaving the page for the API; a form half
// filled keeps its values while the clerk looks at another.
func TestDeskRegistersAndAssessesInChromium(t *testing.T) {
	e := newReadEnv(t, today)
	ctx := startBrowser(t)
	found := e.mustWrite(t, "/v1/employers", tokClerkA, fmt.Sprintf(`{"name":"摸底 发现厂","county":"360702","org_code":%q,"kind":"enterprise","risk_class":1,"found_on":"2006-05-02"}`, orgCode(8301)))
	id := found.str("employer_id")
	signIn(t, ctx, e.srv.URL+"/#/employer/"+id, tokClerkA)
	poll(t, ctx, 15*time.Second, `document.getElementById('employer-detail').dataset.version && document.querySelector('#desk-employer .desk-tabs') !== null`)

	// A form half filled is as the clerk left it after a look at another.
	openForm(t, ctx, "payment")
	fill(t, ctx, "payment", map[string]string{"amount_fen": "4200", "receipt_no": "R-HALF"})
	openForm(t, ctx, "survey")
	openForm(t, ctx, "payment")
	if got := eval[[]string](t, ctx, `['amount_fen', 'receipt_no'].map(k => document.querySelector('form[data-form="payment"] [data-path="' + k + '"]').value)`); got[0] != "4200" || got[1] != "R-HALF" {
		t.Errorf("the payment form after a look at the survey's holds %q, want what was typed", got)
	}

	openForm(t, ctx, "registration")
	fill(t, ctx, "registration", map[string]string{"registered_on": "2006-06-01", "certificate_no": "赣社登360702-8301"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="registration"] button[type=submit]').click()`))
	waitWritten(t, ctx, 1)
	var emp struct {
		Registered    bool               `json:"registered"`
		RegisteredOn  domain.Date        `json:"registered_on"`
		CertificateNo string             `json:"certificate_no"`
		Lines         []domain.LineState `json:"lines"`
	}
	decode(t, e.get(t, empPath(id, ""), tokClerkA), &emp)
	if !emp.Registered || emp.RegisteredOn != domain.MustDate("2006-06-01") || emp.CertificateNo != "赣社登360702-8301" {
		t.Fatalf("after the desk's 补办登记: registered %v on %s, certificate %q", emp.Registered, emp.RegisteredOn, emp.CertificateNo)
	}

	openForm(t, ctx, "declaration")
	fill(t, ctx, "declaration", map[string]string{"declared_on": "2006-11-05", "period": "2006-10",
		"lines[0].insurance": "pension", "lines[0].headcount": "10", "lines[0].wage_base_fen": "1000000"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="declaration"] button[type=submit]').click()`))
	waitWritten(t, ctx, 2)
	openForm(t, ctx, "assessment")
	fill(t, ctx, "assessment", map[string]string{"assessed_on": "2006-12-20", "period": "2006-11", "reason": "no_declaration"})
	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('form[data-form="assessment"] button[type=submit]').click()`))
	seq := waitWritten(t, ctx, 3)
	decode(t, e.get(t, fmt.Sprintf("%s?min_seq=%d", empPath(id, ""), seq), tokClerkA), &emp)
	due := map[string]domain.Fen{}
	for _, l := range emp.Lines {
		due[l.Period.String()] += l.DueFen
	}
	if due["2006-10"] == 0 || due["2006-11"] != due["2006-10"]*110/100 {
		t.Fatalf("the assessment of 2006-11 made %d fen due; 2006-10 was %d, and 110%% of it is %d", due["2006-11"], due["2006-10"], due["2006-10"]*110/100)
	}
}
