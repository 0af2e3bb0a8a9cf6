package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/projections"
)

// TestPrintedDocumentsRefuseDatesAfterToday asks a statement and an arrears list of days after
// the business date (2006-12-31): 400 naming the date, worded as notices word it (no late fee
// projected, no signature on a day to come); today itself prints.
func TestPrintedDocumentsRefuseDatesAfterToday(t *testing.T) {
	e := newReadEnv(t, today)
	id, _ := statementPayer(t, e)
	e.waitViews(t, e.count())
	before := e.count()
	for q, field := range map[string]string{
		"?from=2006-12-01&to=2007-06-30": "to", "?from=2007-01-01&to=2007-01-31": "from", "?from=2007-01-01&to=2006-12-31": "from",
	} {
		r := e.get(t, empPath(id, "statement.pdf")+q, tokClerkA)
		wantError(t, r, http.StatusBadRequest, "invalid", field)
		if !strings.Contains(r.str("detail"), "after today's business date 2006-12-31") {
			t.Errorf("statement%s: %s, want the notices' wording", q, r.Raw)
		}
	}
	r := e.get(t, "/v1/counties/360702/arrears-list.pdf?as_of=2007-06-30", tokAdmin)
	wantError(t, r, http.StatusBadRequest, "invalid", "as_of")
	if !strings.Contains(r.str("detail"), "2007-06-30 is after today's business date 2006-12-31") {
		t.Errorf("arrears list as of 2007-06-30: %s, want the notices' wording", r.Raw)
	}
	e.wantUnchanged(t, before)
	for _, path := range []string{empPath(id, "statement.pdf") + "?from=2006-12-01&to=2006-12-31", "/v1/counties/360702/arrears-list.pdf?as_of=2006-12-31"} {
		if a := e.raw(t, http.MethodGet, path, tokAdmin, ""); a.status != http.StatusOK {
			t.Errorf("GET %s (today): %d %.300s", path, a.status, a.body)
		}
	}
}

// TestReceiptThroughSeqPrintsItBeforeItsVoid reprints a voided payment's receipt through the
// sequence before its void: no void line, the bytes of a read before the void would have
// printed; through the void's sequence (or none) the void line; before the payment 404; a
// through_seq that is not a sequence 400 naming it. Each answer's X-Ledger-Seq is the last event
// it reflects: a reprint through it gives the same bytes.
func TestReceiptThroughSeqPrintsItBeforeItsVoid(t *testing.T) {
	e := newAuthEnv(t)
	id, ids := statementPayer(t, e)
	var h projections.History
	decode(t, e.get(t, empPath(id, "history"), tokAuditor), &h)
	if len(h.Voided) != 1 {
		t.Fatalf("history: %d voids, want 1", len(h.Voided))
	}
	paySeq, voidSeq := h.Voided[0].EventSeq, h.Voided[0].VoidSeq
	path := empPath(id, "events/"+ids["pay-wrong"]+".pdf")
	voidLine := fmt.Sprintf("已由账本序号 %d 的冲正作废", voidSeq)
	get := func(q string) pdfAnswer {
		t.Helper()
		a := e.raw(t, http.MethodGet, path+q, tokClerkA, "")
		if a.status != http.StatusOK {
			t.Fatalf("GET %s%s: %d %.300s", path, q, a.status, a.body)
		}
		seq := a.header.Get("X-Ledger-Seq")
		if n, err := strconv.ParseUint(seq, 10, 64); err != nil || n < paySeq {
			t.Errorf("GET %s%s: X-Ledger-Seq %q, want a sequence from the payment's %d on", path, q, seq, paySeq)
		}
		if again := e.raw(t, http.MethodGet, path+"?through_seq="+seq, tokClerkA, ""); !bytes.Equal(again.body, a.body) {
			t.Errorf("GET %s%s, then through its X-Ledger-Seq %s: different bytes", path, q, seq)
		}
		return a
	}
	now := get("")
	if !strings.Contains(pdfText(t, now.body), voidLine) {
		t.Fatalf("the voided payment's receipt does not say %q", voidLine)
	}
	before := get("?through_seq=" + strconv.FormatUint(voidSeq-1, 10))
	if text := pdfText(t, before.body); strings.Contains(text, "冲正作废") || !strings.Contains(text, "缴费凭证") {
		t.Errorf("the receipt through %d, before its void at %d, prints:\n%s", voidSeq-1, voidSeq, text)
	}
	if again := get("?through_seq=" + strconv.FormatUint(paySeq, 10)); !bytes.Equal(again.body, before.body) {
		t.Errorf("the receipt through %d and through %d (no event of the employer between) differ", paySeq, voidSeq-1)
	}
	if at := get("?through_seq=" + strconv.FormatUint(voidSeq, 10)); !bytes.Equal(at.body, now.body) {
		t.Errorf("the receipt through its void's sequence %d differs from the receipt now", voidSeq)
	}
	cnt := e.count()
	wantError(t, e.get(t, path+"?through_seq="+strconv.FormatUint(paySeq-1, 10), tokClerkA), http.StatusNotFound, "not_found", "through_seq")
	for _, q := range []string{"abc", "0", "-1", "1.5"} {
		wantError(t, e.get(t, path+"?through_seq="+q, tokClerkA), http.StatusBadRequest, "invalid", "through_seq")
	}
	e.wantUnchanged(t, cnt)
}

// TestArrearsListPrintsItsSequence prints a county's arrears list: it names the sequence it was
// read at (X-Ledger-Seq), and a payment recorded later, dated before as_of, changes the list of
// the same date and the sequence printed; through_seq is refused, naming it (the list is not
// replayed at a sequence).
func TestArrearsListPrintsItsSequence(t *testing.T) {
	e := newReadEnv(t, today)
	id := e.register(t, tokClerkA, orgCode(77000101), "360702")
	e.mustWrite(t, empPath(id, "declarations"), tokClerkA,
		`{"declared_on":"2006-10-10","period":"2006-09","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":300000}]}`)
	e.waitViews(t, e.count())
	const path = "/v1/counties/360702/arrears-list.pdf?as_of=2006-12-31"
	read := func() (string, string) {
		t.Helper()
		a := e.raw(t, http.MethodGet, path, tokAdmin, "")
		if a.status != http.StatusOK {
			t.Fatalf("GET %s: %d %.300s", path, a.status, a.body)
		}
		return pdfText(t, a.body), a.header.Get("X-Ledger-Seq")
	}
	first, seq := read()
	if w := "账本序列 S=" + seq + "（此后记录的事项可能改变同一日期的名单）"; !strings.Contains(first, w) || !strings.Contains(first, "下列 1 户单位") {
		t.Errorf("the list read at %s does not print %q and its employer:\n%s", seq, w, first)
	}
	e.mustWrite(t, empPath(id, "payments"), tokClerkA, paymentBody("SJ-101", 10_000_000, "2006-11-01"))
	e.waitViews(t, e.count())
	later, seq2 := read()
	if seq2 == seq || !strings.Contains(later, "账本序列 S="+seq2) || !strings.Contains(later, "下列 0 户单位") {
		t.Errorf("the list after a payment (read at %s, before at %s):\n%s", seq2, seq, later)
	}

	before := e.count()
	for _, q := range []string{"&through_seq=" + seq, "&through_seq=abc"} {
		r := e.get(t, path+q, tokAdmin)
		wantError(t, r, http.StatusBadRequest, "invalid", "through_seq")
		if !strings.Contains(r.str("detail"), "not a parameter of GET /v1/counties/{code}/arrears-list.pdf") {
			t.Errorf("arrears list%s: %s", q, r.Raw)
		}
	}
	e.wantUnchanged(t, before)
}

// TestMonthlyReportRefusesThroughSeq asks the monthly report through a sequence: 400 naming
// through_seq and pointing to a freeze, whatever the format (the live figures are the views'
// as they stand, and the PDF no longer promises a reprint at their sequence).
func TestMonthlyReportRefusesThroughSeq(t *testing.T) {
	e := newReadEnv(t, today)
	e.register(t, tokClerkA, orgCode(77000102), "360702")
	e.waitViews(t, e.count())
	before := e.count()
	for _, q := range []string{"?through_seq=1", "?through_seq=1&format=pdf", "?through_seq=1&format=csv", "?through_seq=abc&format=pdf"} {
		r := e.get(t, "/v1/reports/monthly/2006-11"+q, tokAdmin)
		wantError(t, r, http.StatusBadRequest, "invalid", "through_seq")
		if !strings.Contains(r.str("detail"), "freeze={id}") {
			t.Errorf("monthly report%s: %s, want it to point to a freeze", q, r.Raw)
		}
	}
	e.wantUnchanged(t, before)
}
