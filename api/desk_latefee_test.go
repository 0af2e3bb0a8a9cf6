package api_test

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// TestDeskLateFeePaid: an employer's lines on the page show the late fee each paid and had
// waived, as the API reads them, beside the fee still owed: a reviewer could not trace a
// payment's sum on the page (paid and credit fell short of it by the fee it paid) nor see a
// late-fee waiver at all (the page's 减免 was the principal's).
func TestDeskLateFeePaid(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the desk test needs a real browser at %s: %v", chromiumPath, err)
	}
	e := newReadEnv(t, today)
	id := e.register(t, tokAdmin, orgCode(8104), "360702")
	e.mustWrite(t, empPath(id, "declarations"), tokAdmin,
		`{"declared_on":"2006-06-01","period":"2006-05","lines":[{"insurance":"pension","headcount":10,"wage_base_fen":1000000}]}`)
	e.mustWrite(t, empPath(id, "payments"), tokClerkA, `{"paid_on":"2006-07-01","amount_fen":285000,"receipt_no":"R-1"}`)
	e.mustWrite(t, empPath(id, "waivers"), tokAuditor,
		`{"decided_on":"2006-07-10","kind":"late_fee","authority_doc":"赣劳社字〔2006〕40号","reason":"困难企业","insurance":"pension","period":"2006-05","amount_fen":2000}`)
	var st struct {
		Lines []struct {
			Owed   int64 `json:"late_fee_fen"`
			Paid   int64 `json:"late_fee_paid_fen"`
			Waived int64 `json:"late_fee_waived_fen"`
		} `json:"lines"`
	}
	decode(t, e.get(t, empPath(id, ""), tokAuditor), &st)
	if len(st.Lines) != 1 || st.Lines[0].Paid == 0 || st.Lines[0].Waived != 2000 {
		t.Fatalf("the API's lines %+v; want one line with a late fee paid and 2000 fen of it waived", st.Lines)
	}
	ctx := startBrowser(t)
	watchConsole(t, ctx)
	signIn(t, ctx, e.srv.URL+"/#/employer/"+id, tokAuditor)
	poll(t, ctx, 15*time.Second, `document.querySelectorAll('#employer-lines tbody tr').length === 1`)
	cell := func(field string) string {
		return eval[string](t, ctx, fmt.Sprintf(`document.querySelector('#employer-lines tbody td[data-field=%q]').dataset.value`, field))
	}
	if paid, waived := cell("late_fee_paid_fen"), cell("late_fee_waived_fen"); paid != fmt.Sprint(st.Lines[0].Paid) || waived != fmt.Sprint(st.Lines[0].Waived) {
		t.Errorf("the page's line shows late fee paid %s and waived %s fen; the API %d and %d", paid, waived, st.Lines[0].Paid, st.Lines[0].Waived)
	}
	if got, want := eval[string](t, ctx, `document.querySelector('#employer-lines tbody td[data-field="late_fee_paid_fen"]').textContent`), fmt.Sprintf("%d.%02d", st.Lines[0].Paid/100, st.Lines[0].Paid%100); got != want {
		t.Errorf("the late fee paid reads %q, want %q yuan", got, want)
	}
}
