package api_test

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/kuozheng/kuozheng/api/documents"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/projections"
)

// statementPayer records a small payer of 360702: declarations before and in July–August 2006, a
// late payment with an allocation, a waiver by the auditor, an overpayment refunded, a reversed
// payment and a voided one. It returns the employer and the event ids by name.
func statementPayer(t *testing.T, e *env) (string, map[string]string) {
	t.Helper()
	id := e.register(t, tokClerkA, orgCode(77000001), "360702")
	ids := map[string]string{}
	write := func(name, sub, token, body string) {
		t.Helper()
		ids[name] = e.mustWrite(t, empPath(id, sub), token, body).JSON["event_ids"].([]any)[0].(string)
	}
	decl := `{"declared_on":"%s","period":"%s","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":300000},{"insurance":"medical","headcount":3,"wage_base_fen":300000}]}`
	write("decl-04", "declarations", tokClerkA, fmt.Sprintf(decl, "2006-05-10", "2006-04"))
	write("decl-05", "declarations", tokClerkA, fmt.Sprintf(decl, "2006-06-10", "2006-05"))
	write("decl-06", "declarations", tokClerkA, fmt.Sprintf(decl, "2006-07-10", "2006-06"))
	write("pay-late", "payments", tokClerkA, `{"paid_on":"2006-07-20","amount_fen":50000,"receipt_no":"SJ-001","allocations":[{"insurance":"medical","period":"2006-04","amount_fen":30000}]}`)
	write("waiver", "waivers", tokAuditor, `{"decided_on":"2006-07-25","kind":"late_fee","authority_doc":"赣市劳社字〔2006〕8号","reason":"困难企业","insurance":"pension","period":"2006-04","amount_fen":1234}`)
	write("pay-over", "payments", tokClerkA, paymentBody("SJ-002", 10_000_000, "2006-08-01"))
	write("refund", "refunds", tokClerkA, `{"refunded_on":"2006-08-10","amount_fen":100000,"receipt_no":"TF-001"}`)
	write("pay-bounced", "payments", tokClerkA, paymentBody("SJ-003", 7000, "2006-08-15"))
	write("reversal", "payment-reversals", tokClerkA, `{"reversed_on":"2006-08-18","receipt_no":"SJ-003","reason":"空头支票"}`)
	write("pay-wrong", "payments", tokClerkA, paymentBody("SJ-004", 500, "2006-08-16"))
	write("void", "voids", tokAuditor, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-08-20","reason":"重复录入"}`, ids["pay-wrong"]))
	return id, ids
}

// balanceRow is how a statement prints a row of balances.
func balanceRow(first, on string, b projections.Balances) string {
	return strings.Join([]string{first, on, documents.Yuan(b.DueFen), documents.Yuan(b.PaidFen), documents.Yuan(b.WaivedFen),
		documents.Yuan(b.OutstandingFen), documents.Yuan(b.LateFeeFen), documents.Yuan(b.CreditFen)}, " ")
}

// totalsOf reads GET /v1/employers/{id}?as_of=on's totals as balances.
func totalsOf(t *testing.T, e *env, id, on string) projections.Balances {
	t.Helper()
	var st struct {
		Totals domain.Totals `json:"totals"`
	}
	decode(t, e.get(t, empPath(id, "")+"?as_of="+on, tokAuditor), &st)
	x := st.Totals
	return projections.Balances{DueFen: x.DueFen, PaidFen: x.PaidFen, WaivedFen: x.WaivedFen, OutstandingFen: x.OutstandingFen, LateFeeFen: x.LateFeeFen, CreditFen: x.CreditFen}
}

// TestStatementPrintsEachDaysBalancesAsTheEmployerReadGivesThem prints a payer's statement for
// July–August 2006 and checks its text against the API: the opening balance against the employer
// read as of 2006-06-30 and the history as of then, each event dated in the range with its amount
// and the employer read's balances as of its day (a payment recorded after a reversal dated later
// included: in date order no row contradicts the next), the closing balance against the employer
// and the history as of 2006-08-31, in figures and capitals; the same request gives the same
// bytes; through_seq prints the ledger as it stood; scope and dates are checked.
// wantFilename checks that a document is shown in the browser and saved under name.
func wantFilename(t testing.TB, a pdfAnswer, name string) {
	t.Helper()
	disposition, params, err := mime.ParseMediaType(a.header.Get("Content-Disposition"))
	if err != nil || disposition != "inline" || params["filename"] != name {
		t.Errorf("Content-Disposition %q (%v): want inline with the file name %q", a.header.Get("Content-Disposition"), err, name)
	}
}

func TestStatementPrintsEachDaysBalancesAsTheEmployerReadGivesThem(t *testing.T) {
	e := newAuthEnv(t)
	id, ids := statementPayer(t, e)
	path := empPath(id, "statement.pdf") + "?from=2006-07-01&to=2006-08-31"
	a := e.raw(t, http.MethodGet, path, tokClerkA, "")
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("GET %s: %d %s %.300s", path, a.status, a.header.Get("Content-Type"), a.body)
	}
	wantFilename(t, a, "statement-"+id+"-2006-07-01-2006-08-31.pdf")
	text := pdfText(t, a.body)

	var h projections.History
	decode(t, e.get(t, empPath(id, "history")+"?as_of=2006-08-31", tokAuditor), &h)
	var before projections.History
	decode(t, e.get(t, empPath(id, "history")+"?as_of=2006-06-30", tokAuditor), &before)
	if seq := a.header.Get("X-Ledger-Seq"); seq != strconv.FormatUint(h.Version, 10) {
		t.Errorf("X-Ledger-Seq %s, want the employer's version %d", seq, h.Version)
	}
	opening, closing := totalsOf(t, e, id, "2006-06-30"), totalsOf(t, e, id, "2006-08-31")
	if opening != before.Balances || closing != h.Balances {
		t.Fatalf("the employer read (%+v, %+v) and its history (%+v, %+v) disagree", opening, closing, before.Balances, h.Balances)
	}
	if opening.OutstandingFen == 0 || closing.CreditFen == 0 {
		t.Fatalf("the payer should open with arrears and close with credit: %+v %+v", opening, closing)
	}
	want := []string{"社会保险费对账单", "2006年7月1日 至 2006年8月31日", "章贡区",
		balanceRow("期初", "2006-06-30", opening), balanceRow("期末", "2006-08-31", closing),
		"已缴本金：人民币 " + documents.Yuan(closing.PaidFen) + " 元（大写：" + domain.ChineseCapitals(closing.PaidFen) + "）",
		"溢缴余额：人民币 " + documents.Yuan(closing.CreditFen) + " 元（大写：" + domain.ChineseCapitals(closing.CreditFen) + "）",
		"收据号 SJ-001，金额 500.00 元，指定冲抵：2006-04 医疗保险 300.00 元",
		"减免 滞纳金 2006-04 养老保险 12.34 元",
		"收据号 TF-001，退还溢缴 1,000.00 元",
		"收据号 SJ-003 的缴费", "70.00 元冲回（空头支票）",
		"重复录入"}
	inRange := 0
	for _, ev := range h.Events {
		if ev.OccurredOn < domain.MustDate("2006-07-01") {
			continue
		}
		inRange++
		want = append(want, balanceRow(strconv.FormatUint(ev.Seq, 10), ev.OccurredOn.String(), totalsOf(t, e, id, ev.OccurredOn.String())),
			fmt.Sprintf("第 %d 号 %s", ev.Seq, ev.OccurredOn))
		if ev.ID == ids["pay-wrong"] {
			want = append(want, fmt.Sprintf("已由第 %d 号冲正", h.Voided[0].VoidSeq))
		}
		if ev.ID == ids["void"] {
			want = append(want, fmt.Sprintf("冲正 第 %d 号 缴费（2006-08-16）：重复录入", h.Voided[0].EventSeq))
		}
	}
	if inRange != 9 || len(h.Voided) != 1 {
		t.Fatalf("history as of 2006-08-31: %d events in range, %d voids; want 9 and 1", inRange, len(h.Voided))
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("the statement does not print %q:\n%s", w, text)
		}
	}
	// Business-date order: the void's target (2006-08-16) before the reversal (2006-08-18).
	if i, j := strings.Index(text, "2006-08-16 缴费"), strings.Index(text, "2006-08-18 退票"); i < 0 || j < 0 || i > j {
		t.Errorf("the events are not in business-date order (%d, %d):\n%s", i, j, text)
	}

	// The same sequence, the same bytes; later writes do not change a statement through_seq.
	if b := e.raw(t, http.MethodGet, path, tokAuditor, ""); !bytes.Equal(a.body, b.body) {
		t.Errorf("the same statement read twice differs (%s, %s)", sha(a.body), sha(b.body))
	}
	e.mustWrite(t, empPath(id, "payments"), tokClerkA, paymentBody("SJ-005", 100, "2006-08-30"))
	if b := e.raw(t, http.MethodGet, path+"&through_seq="+strconv.FormatUint(h.Version, 10), tokClerkA, ""); !bytes.Equal(a.body, b.body) {
		t.Errorf("through_seq %d after a later payment prints other bytes", h.Version)
	}
	if b := e.raw(t, http.MethodGet, path, tokClerkA, ""); bytes.Equal(a.body, b.body) || !strings.Contains(pdfText(t, b.body), "SJ-005") {
		t.Errorf("a statement after a later payment does not print it")
	}

	// Readers of the employer only; dates checked.
	before2 := e.count()
	if g := e.raw(t, http.MethodGet, path, tokClerkB, ""); g.status != http.StatusForbidden {
		t.Errorf("a clerk of 360721 reading a statement of 360702: %d, want 403", g.status)
	}
	if g := e.raw(t, http.MethodGet, empPath("E-NONE", "statement.pdf")+"?from=2006-07-01&to=2006-08-31", tokAdmin, ""); g.status != http.StatusNotFound {
		t.Errorf("an unknown employer's statement: %d, want 404", g.status)
	}
	for q, field := range map[string]string{
		"?from=2006-04-31&to=2006-08-31": "from", "?from=2006-07-01&to=2006-09-31": "to", "?to=2006-08-31": "from",
		"?from=2006-07-01": "to", "?from=2006-08-01&to=2006-07-31": "to", "?from=2006-07-01&to=2006-08-31&through_seq=x": "through_seq",
	} {
		wantError(t, e.get(t, empPath(id, "statement.pdf")+q, tokClerkA), http.StatusBadRequest, "invalid", field)
	}
	e.wantUnchanged(t, before2)
}

// TestReceiptsAndNotesPrintTheirEvents prints the documents of statementPayer's events: a
// payment's receipt (amount in figures and capitals, receipt number, allocations, sequence and
// hash as the history records them), the notes of a reversal, a refund and a void (naming the
// payment it voids), a voided payment's receipt saying so, and 404 for other events and unknown
// ones; the same request gives the same bytes; a clerk of another county gets 403.
func TestReceiptsAndNotesPrintTheirEvents(t *testing.T) {
	e := newAuthEnv(t)
	id, ids := statementPayer(t, e)
	var h projections.History
	decode(t, e.get(t, empPath(id, "history"), tokAuditor), &h)
	byID := map[string]projections.HistoryEvent{}
	for _, ev := range h.Events {
		byID[ev.ID] = ev
	}
	doc := func(name string) (string, pdfAnswer) {
		t.Helper()
		a := e.raw(t, http.MethodGet, empPath(id, "events/"+ids[name]+".pdf"), tokClerkA, "")
		if a.status != http.StatusOK || a.header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("GET the document of %s: %d %.300s", name, a.status, a.body)
		}
		wantFilename(t, a, ids[name]+".pdf")
		ev := byID[ids[name]]
		// The last event read: the employer's last (a void of the event after it prints too).
		if last := h.Events[len(h.Events)-1].Seq; a.header.Get("X-Ledger-Seq") != strconv.FormatUint(last, 10) {
			t.Errorf("%s: X-Ledger-Seq %s, want the employer's last event's %d", name, a.header.Get("X-Ledger-Seq"), last)
		}
		text := pdfText(t, a.body)
		for _, w := range []string{fmt.Sprintf("账本序号：%d", ev.Seq), "业务编号：" + ev.ID, "哈希：" + ev.Hash, "单位 77000001-5", "章贡区（360702）"} {
			if !strings.Contains(text, w) {
				t.Errorf("the document of %s does not print %q:\n%s", name, w, text)
			}
		}
		return text, a
	}
	wants := func(name, text string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("the document of %s does not print %q:\n%s", name, w, text)
			}
		}
	}
	receipt, first := doc("pay-late")
	wants("pay-late", receipt, "缴费凭证", "收据号：SJ-001", "日期：2006年7月20日",
		"金额：人民币 500.00 元（大写："+domain.ChineseCapitals(50000)+"）", "指定冲抵：2006-04 医疗保险 300.00 元（超出该项欠费的部分按一般顺序冲抵）")
	if strings.Contains(receipt, "冲正") {
		t.Errorf("a receipt of a payment never voided mentions a void:\n%s", receipt)
	}
	if _, again := doc("pay-late"); !bytes.Equal(first.body, again.body) {
		t.Error("the same receipt read twice differs")
	}
	text, _ := doc("reversal")
	wants("reversal", text, "退票通知", "收据号：SJ-003", "更正事项：收据号 SJ-003 的缴费（2006-08-15，第 "+strconv.FormatUint(byID[ids["pay-bounced"]].Seq, 10)+" 号）",
		"金额：人民币 70.00 元（大写：柒拾元整）", "原因：空头支票")
	text, _ = doc("pay-bounced")
	reversal := byID[ids["reversal"]]
	wants("pay-bounced", text, "缴费凭证", "收据号：SJ-003", fmt.Sprintf("退票（账本序号 %d 的退票通知）", reversal.Seq))
	if strings.Contains(receipt, "退票") {
		t.Errorf("a receipt of a payment never reversed mentions a reversal:\n%s", receipt)
	}
	text, _ = doc("refund")
	wants("refund", text, "退费通知", "收据号：TF-001", "金额：人民币 1,000.00 元（大写：壹仟元整）")
	text, _ = doc("void")
	voided := byID[ids["pay-wrong"]]
	wants("void", text, "冲正通知", fmt.Sprintf("更正事项：第 %d 号 缴费（2006-08-16，业务编号 %s）", voided.Seq, voided.ID),
		"收据号 SJ-004，金额 5.00 元", "金额：人民币 5.00 元（大写：伍元整）", "原因：重复录入", "日期：2006年8月20日")
	text, _ = doc("pay-wrong")
	wants("pay-wrong", text, fmt.Sprintf("已由账本序号 %d 的冲正作废", byID[ids["void"]].Seq))

	before := e.count()
	wantError(t, e.get(t, empPath(id, "events/"+ids["decl-04"]+".pdf"), tokClerkA), http.StatusNotFound, "not_found", "event_id")
	if r := e.get(t, empPath(id, "events/"+ids["decl-04"]+".pdf"), tokClerkA); !strings.Contains(r.str("detail"), "no printable document for declaration.filed") {
		t.Errorf("a declaration's document: %s", r)
	}
	wantError(t, e.get(t, empPath(id, "events/no-such-event.pdf"), tokClerkA), http.StatusNotFound, "not_found", "event_id")
	if g := e.raw(t, http.MethodGet, empPath(id, "events/"+ids["pay-late"]+".pdf"), tokClerkB, ""); g.status != http.StatusForbidden {
		t.Errorf("a clerk of 360721 reading a receipt of 360702: %d, want 403", g.status)
	}
	e.wantUnchanged(t, before)
}

// A dormant payer's statement counts a change of reference data recorded after its last event:
// a late-fee rate from 2006-07-01 changes what its unpaid April owes by August, as the employer
// read says. Its sequence is then the change's, and through the payer's last event it prints as
// it did before the change; its history through a sequence counts the rates known then too.
func TestAStatementCountsALateFeeRateRecordedAfterThePayersLastEvent(t *testing.T) {
	e := newAuthEnv(t)
	id := e.register(t, tokClerkA, orgCode(77000002), "360702")
	decl := e.mustWrite(t, empPath(id, "declarations"), tokClerkA, `{"declared_on":"2006-05-10","period":"2006-04","lines":[{"insurance":"pension","headcount":3,"wage_base_fen":300000}]}`)
	path := empPath(id, "statement.pdf") + "?from=2006-07-01&to=2006-08-31"
	// Each read asks for the write before it (min_seq): this replica's follower may not have
	// reached it yet.
	old := e.raw(t, http.MethodGet, path+"&min_seq="+strconv.FormatInt(decl.num("seq"), 10), tokClerkA, "")
	if old.status != http.StatusOK || old.header.Get("X-Ledger-Seq") != strconv.FormatInt(decl.num("seq"), 10) {
		t.Fatalf("the statement before the change: %d, X-Ledger-Seq %s; want 200 at the declaration's %d", old.status, old.header.Get("X-Ledger-Seq"), decl.num("seq"))
	}
	before := totalsOf(t, e, id, "2006-08-31")
	rate := e.mustWrite(t, "/v1/reference/late-fee-rates", tokAdmin, `{"effective_from":"2006-07-01","daily_bp":5}`)
	after := totalsOf(t, e, id, "2006-08-31")
	if after.LateFeeFen >= before.LateFeeFen {
		t.Fatalf("the late fee by 2006-08-31 is %d after a lower rate from 2006-07-01, %d before", after.LateFeeFen, before.LateFeeFen)
	}
	a := e.raw(t, http.MethodGet, path+"&min_seq="+strconv.FormatInt(rate.num("seq"), 10), tokClerkA, "")
	if a.status != http.StatusOK || a.header.Get("X-Ledger-Seq") != strconv.FormatInt(rate.num("seq"), 10) {
		t.Fatalf("the statement after the change: %d, X-Ledger-Seq %s; want 200 at the change's %d", a.status, a.header.Get("X-Ledger-Seq"), rate.num("seq"))
	}
	if text := pdfText(t, a.body); !strings.Contains(text, documents.Yuan(after.LateFeeFen)) || strings.Contains(text, documents.Yuan(before.LateFeeFen)) {
		t.Errorf("the statement prints the late fee at the old rate (%s), not the employer read's %s:\n%s", documents.Yuan(before.LateFeeFen), documents.Yuan(after.LateFeeFen), text)
	}
	through := e.raw(t, http.MethodGet, path+"&through_seq="+strconv.FormatInt(decl.num("seq"), 10), tokClerkA, "")
	if !bytes.Equal(through.body, old.body) {
		t.Errorf("through the declaration's sequence the statement is not the one printed before the change")
	}
	again := e.raw(t, http.MethodGet, path+"&through_seq="+a.header.Get("X-Ledger-Seq"), tokClerkA, "")
	if !bytes.Equal(again.body, a.body) {
		t.Errorf("through its own X-Ledger-Seq the statement prints other bytes")
	}
	// The history through a sequence counts the rates known then, as the statement does.
	for seq, want := range map[int64]domain.Fen{decl.num("seq"): before.LateFeeFen, rate.num("seq"): after.LateFeeFen, 0: after.LateFeeFen} {
		q := empPath(id, "history") + "?as_of=2006-08-31"
		if seq != 0 {
			q += "&through_seq=" + strconv.FormatInt(seq, 10)
		}
		var h projections.History
		decode(t, e.get(t, q, tokAuditor), &h)
		if h.Balances.LateFeeFen != want {
			t.Errorf("GET %s: late fee %d, want %d", q, h.Balances.LateFeeFen, want)
		}
	}
}
