package api_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestAWaiverIsReviewedByTheFeeItsLineAccruedAsTheLedgerNowStands: a late-fee waiver is over
// half the fee its line accrued by its date as the ledger now folds it (DOMAIN.md: after a void,
// flags are recomputed as if the voided event had not happened), not as the fee stood when it
// was decided. 280,000 fen due 2006-06-15 accrue 560 fen a day: paid on 07-01, 8,400 fen by
// 07-10 (15 days); unpaid, 14,000 (25 days).
func TestAWaiverIsReviewedByTheFeeItsLineAccruedAsTheLedgerNowStands(t *testing.T) {
	e := newReadEnv(t, today)
	reviewed := func(id string, seq int64) bool {
		t.Helper()
		r := e.get(t, fmt.Sprintf("/v1/flags?kind=waiver_review&as_of=2006-07-31&min_seq=%d", seq), tokAuditor)
		if r.Status != 200 {
			t.Fatalf("flags: %s", r)
		}
		return strings.Contains(string(r.Raw), id)
	}
	payer := func(code int) string {
		id := e.register(t, tokAdmin, orgCode(code), "360702")
		e.mustWrite(t, empPath(id, "declarations"), tokAdmin,
			`{"declared_on":"2006-06-01","period":"2006-05","lines":[{"insurance":"pension","headcount":10,"wage_base_fen":1000000}]}`)
		return id
	}
	pay := func(id string) resp {
		return e.mustWrite(t, empPath(id, "payments"), tokClerkA, `{"paid_on":"2006-07-01","amount_fen":280000,"receipt_no":"R-1"}`)
	}
	waive := func(id string, fen int) int64 {
		return e.mustWrite(t, empPath(id, "waivers"), tokAuditor, fmt.Sprintf(
			`{"decided_on":"2006-07-10","kind":"late_fee","authority_doc":"赣劳社字〔2006〕40号","reason":"困难企业","insurance":"pension","period":"2006-05","amount_fen":%d}`, fen)).num("seq")
	}

	voided := payer(8501)
	paid := pay(voided)
	if seq := waive(voided, 5000); !reviewed(voided, seq) {
		t.Fatal("5,000 fen of the 8,400 accrued by 07-10 is not reviewed")
	}
	seq := e.mustWrite(t, empPath(voided, "voids"), tokAdmin, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-07-20","reason":"退票 bounced"}`,
		paid.JSON["event_ids"].([]any)[0])).num("seq")
	if reviewed(voided, seq) {
		t.Error("with the payment voided, 5,000 fen of the 14,000 accrued by 07-10 is still reviewed")
	}

	late := payer(8502)
	if seq := waive(late, 7000); reviewed(late, seq) {
		t.Fatal("7,000 fen of the 14,000 accrued by 07-10 is reviewed")
	}
	if seq := pay(late).num("seq"); !reviewed(late, seq) {
		t.Error("with a payment of 07-01 recorded late, 7,000 fen of the 8,400 accrued by 07-10 is not reviewed")
	}
}
