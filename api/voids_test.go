package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
)

// correctionsLedger fills e with the same three payers of 360702 as every ledger of these tests:
// each declares October and November's pension; the first pays October on time and November
// late. withPayment adds a late payment of the second's October line, recorded by clerk a.
// It returns the payers' ids and the extra payment's event id ("" without it).
func correctionsLedger(t *testing.T, e *env, withPayment bool) ([]string, string) {
	t.Helper()
	var ids []string
	for n := range 3 {
		id, _ := e.freezeEmployer(t, 9100+n, "360702", 1_000_000)
		ids = append(ids, id)
	}
	e.pay(t, ids[0], "R-1", pensionDue(1_000_000), "2006-11-10", "2006-10")
	payment := ""
	if withPayment {
		r := e.mustWrite(t, empPath(ids[1], "payments"), tokClerkA, allocated("R-2", pensionDue(1_000_000), "2006-11-20", "2006-10"))
		payment = r.JSON["event_ids"].([]any)[0].(string)
	}
	e.pay(t, ids[0], "R-3", pensionDue(1_000_000), "2006-12-20", "2006-11")
	return ids, payment
}

// TestAVoidedPaymentCountsAsNeverRecorded: after a void of a payment, every read (the employer's
// balances and late fees on any date, the county's figures, the flags) equals that of a ledger
// where the payment was never recorded; a freeze made before the void keeps its digest, and the
// history shows both events, linked.
func TestAVoidedPaymentCountsAsNeverRecorded(t *testing.T) {
	with, without := newFreezeEnv(t, 0), newFreezeEnv(t, 0)
	ids, payment := correctionsLedger(t, with, true)
	idsB, _ := correctionsLedger(t, without, false)
	if strings.Join(ids, ",") != strings.Join(idsB, ",") {
		t.Fatalf("the two ledgers' payers differ: %v and %v", ids, idsB)
	}
	before := with.freeze(t, tokAssessor, "2006-11-30", 0)

	// The clerk who recorded it may not void it, nor may another clerk: money needs four eyes.
	voidBody := fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-12-28","reason":"重复录入 entered twice"}`, payment)
	n := with.count()
	wantError(t, with.post(t, empPath(ids[1], "voids"), tokClerkA, voidBody), http.StatusForbidden, "forbidden", "event_id")
	wantError(t, with.post(t, empPath(ids[1], "voids"), tokSuper, voidBody), http.StatusForbidden, "forbidden", "")
	with.wantUnchanged(t, n)
	v := with.mustWrite(t, empPath(ids[1], "voids"), tokAuditor, voidBody)
	voidSeq := uint64(v.num("seq"))
	wantError(t, with.post(t, empPath(ids[1], "voids"), tokAdmin, voidBody), http.StatusConflict, "conflict", "event_id")
	voidID := v.JSON["event_ids"].([]any)[0].(string)
	wantError(t, with.post(t, empPath(ids[1], "voids"), tokAdmin, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-12-29","reason":"x"}`, voidID)),
		http.StatusConflict, "conflict", "event_id")
	with.waitViews(t, voidSeq)
	without.waitViews(t, without.count())

	same := func(what, path string, drop ...string) {
		t.Helper()
		a, b := with.get(t, path, tokAdmin), without.get(t, path, tokAdmin)
		if a.Status != http.StatusOK || b.Status != http.StatusOK {
			t.Fatalf("%s: %s and %s", path, a, b)
		}
		for _, k := range drop {
			delete(a.JSON, k)
			delete(b.JSON, k)
		}
		if d := jsonDiff("", jsonOf(t, a.JSON), jsonOf(t, b.JSON)); len(d) > 0 {
			t.Errorf("%s (%s) differs from the ledger without the payment: %v", what, path, d)
		}
	}
	for _, asOf := range []string{"2006-11-20", "2006-11-30", "2006-12-31"} {
		for _, id := range ids {
			same("the employer", empPath(id, "")+"?as_of="+asOf, "version")
		}
		same("the county's figures", "/v1/counties/360702?period=2006-11&as_of="+asOf, "seq")
		same("the flags", "/v1/flags?county=360702&period=2006-11&as_of="+asOf, "seq")
	}
	// The payment was late: with it voided, the second payer's October line bears its late fee
	// to the end of the year, as in the ledger without it.
	st := with.get(t, empPath(ids[1], "")+"?as_of=2006-12-31", tokAdmin)
	if paid := st.JSON["totals"].(map[string]any)["paid_fen"].(json.Number).String(); paid != "0" {
		t.Errorf("the second payer's paid total after the void = %s, want 0", paid)
	}

	// The freeze made before the void, made again through the same sequence: the same digest.
	if again := with.freeze(t, tokAssessor, "2006-11-30", before.ThroughSeq); again.Digest != before.Digest {
		t.Errorf("the freeze through %d made again after the void has digest %s, was %s", before.ThroughSeq, again.Digest, before.Digest)
	}

	// The history shows the payment and the void, linked; cut before the void it still counts.
	var h struct {
		Events []struct {
			Seq      uint64          `json:"seq"`
			ID       string          `json:"id"`
			Type     string          `json:"type"`
			Payload  json.RawMessage `json:"payload"`
			Balances struct {
				Paid int64 `json:"paid_fen"`
			} `json:"balances"`
		} `json:"events"`
		Voided []struct {
			EventSeq uint64 `json:"event_seq"`
			VoidSeq  uint64 `json:"void_seq"`
		} `json:"voided"`
		Balances struct {
			Paid int64 `json:"paid_fen"`
		} `json:"balances"`
	}
	decode(t, with.get(t, empPath(ids[1], "history"), tokAuditor), &h)
	var paySeq uint64
	for _, ev := range h.Events {
		if ev.ID == payment {
			paySeq = ev.Seq
		}
	}
	if paySeq == 0 || len(h.Voided) != 1 || h.Voided[0].EventSeq != paySeq || h.Voided[0].VoidSeq != voidSeq {
		t.Errorf("history: payment at %d, links %+v; want the payment linked to the void at %d", paySeq, h.Voided, voidSeq)
	}
	if last := h.Events[len(h.Events)-1]; last.Type != "event.voided" || !strings.Contains(string(last.Payload), payment) || last.Balances.Paid != 0 || h.Balances.Paid != 0 {
		t.Errorf("the void's row: %s %s, paid after it %d, at the end %d; want the void naming the payment and nothing paid", last.Type, last.Payload, last.Balances.Paid, h.Balances.Paid)
	}
	h.Voided = nil
	decode(t, with.get(t, empPath(ids[1], "history")+fmt.Sprintf("?through_seq=%d", voidSeq-1), tokAuditor), &h)
	if want := pensionDue(1_000_000); h.Balances.Paid != want || len(h.Voided) != 0 {
		t.Errorf("history through %d: paid %d, links %+v; want %d paid and no link", voidSeq-1, h.Balances.Paid, h.Voided, want)
	}

	// The voided payment's receipt is free again, on the write side as folded after a restart.
	with.restart()
	with.mustWrite(t, empPath(ids[1], "payments"), tokClerkA, allocated("R-2", 1, "2006-12-30", "2006-10"))
}

// jsonOf re-decodes a decoded answer as plain JSON values, for jsonDiff.
func jsonOf(t *testing.T, v map[string]any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRefundsThroughTheAPI: a refund pays back credit and no more; its receipt is its own; a
// reversal of the payment whose money it paid out is refused, naming it.
func TestRefundsThroughTheAPI(t *testing.T) {
	e := newFreezeEnv(t, 0)
	id, due := e.freezeEmployer(t, 9200, "360702", 1_000_000)
	e.mustWrite(t, empPath(id, "payments"), tokClerkA, paymentBody("P-1", 2*due+5000, "2006-11-10")) // 5,000 fen over
	n := e.count()
	refund := func(amount int64, receipt, on string) resp {
		return e.post(t, empPath(id, "refunds"), tokClerkA, fmt.Sprintf(`{"refunded_on":%q,"amount_fen":%d,"receipt_no":%q}`, on, amount, receipt))
	}
	wantError(t, refund(5001, "T-1", "2006-12-01"), http.StatusConflict, "conflict", "amount_fen")
	wantError(t, refund(-1, "T-1", "2006-12-01"), http.StatusBadRequest, "invalid", "amount_fen")
	wantError(t, refund(1, "T-1", "2006-04-31"), http.StatusBadRequest, "invalid", "refunded_on")
	wantError(t, e.post(t, empPath(id, "refunds"), tokAuditor, `{"refunded_on":"2006-12-01","amount_fen":1,"receipt_no":"T-1"}`), http.StatusForbidden, "forbidden", "")
	e.wantUnchanged(t, n)
	if r := refund(5000, "T-1", "2006-12-01"); r.Status != http.StatusCreated {
		t.Fatalf("a refund of the whole credit: %s", r)
	}
	wantError(t, refund(1, "t-1", "2006-12-02"), http.StatusConflict, "conflict", "receipt_no")
	st := e.get(t, empPath(id, "")+"?as_of=2006-12-31", tokClerkA)
	if credit := st.JSON["totals"].(map[string]any)["credit_fen"].(json.Number).String(); credit != "0" {
		t.Errorf("credit after the refund = %s fen, want 0", credit)
	}
	n = e.count()
	r := e.post(t, empPath(id, "payment-reversals"), tokClerkA, `{"reversed_on":"2006-12-05","receipt_no":"P-1","reason":"退票"}`)
	wantError(t, r, http.StatusConflict, "conflict", "receipt_no")
	if !strings.Contains(r.str("detail"), "T-1") {
		t.Errorf("the refusal does not name the refund: %s", r)
	}
	e.wantUnchanged(t, n)
}

// TestAVoidOnADamagedSubjectAnswersAsAnyWrite: a void is decided on the events the state was
// folded from, undecodable ones counted; a damaged message last on the employer's subject must
// not keep the void re-reading them for ever: it answers as any other write there does, at once
// (not after losing races to the message for its whole budget), naming the damage, recording
// nothing.
func TestAVoidOnADamagedSubjectAnswersAsAnyWrite(t *testing.T) {
	e := newAuthEnv(t)
	id := e.register(t, tokClerkA, orgCode(9400), "360702")
	survey := e.mustWrite(t, empPath(id, "surveys"), tokClerkA, `{"as_of":"2006-05-01","workforce":4}`).JSON["event_ids"].([]any)[0].(string)
	if _, err := e.l.Embedded.Conn.Request(eventstore.EmployerPrefix+id, []byte("not json"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := e.l.Store.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := e.count()
	w := e.post(t, empPath(id, "surveys"), tokClerkA, `{"as_of":"2006-05-03","workforce":5}`)
	v := e.post(t, empPath(id, "voids"), tokClerkA, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-05-02","reason":"录错"}`, survey))
	if v.Status != w.Status || v.str("error") != w.str("error") {
		t.Errorf("on a damaged subject a survey answers %s, a void %s: want the same", w, v)
	}
	if w.Status != http.StatusServiceUnavailable || !strings.Contains(w.str("detail"), "cannot be read") || !strings.Contains(w.str("detail"), fmt.Sprint("sequence ", n)) {
		t.Errorf("a write on a subject ending with an undecodable message: %s; want 503 naming its sequence %d", w, n)
	}
	e.wantUnchanged(t, n)
}

// A retry of a payment's Idempotency-Key answers its first result at any later time; once the
// payment is voided, the answer names the void too, or the client would take it for recorded
// and counting. A retry of a payment not voided names none.
func TestARetryOfAVoidedPaymentSaysItWasVoided(t *testing.T) {
	e := newFreezeEnv(t, 0)
	ids, _ := correctionsLedger(t, e, false)
	body := allocated("R-K", pensionDue(1_000_000), "2006-11-20", "2006-10")
	pay := func() resp {
		t.Helper()
		return e.do(t, req{Path: empPath(ids[1], "payments"), Token: tokClerkA, Body: []byte(body), Header: map[string]string{"Idempotency-Key": "pay-R-K"}})
	}
	first := pay()
	if first.Status != http.StatusCreated {
		t.Fatalf("the payment: %s", first)
	}
	payment := first.JSON["event_ids"].([]any)[0].(string)
	if again := pay(); again.Status != http.StatusOK || again.JSON["duplicate"] != true || again.JSON["voided_since"] != nil {
		t.Fatalf("a retry before any void: %s; want the first result, duplicate, no voided_since", again)
	}
	v := e.mustWrite(t, empPath(ids[1], "voids"), tokAuditor, fmt.Sprintf(`{"event_id":%q,"voided_on":"2006-12-28","reason":"收据作废 receipt cancelled"}`, payment))
	again := pay()
	voids, _ := again.JSON["voided_since"].([]any)
	if again.Status != http.StatusOK || again.JSON["duplicate"] != true || len(voids) != 1 {
		t.Fatalf("a retry after the void: %s; want the first result, duplicate, and the void named", again)
	}
	got := voids[0].(map[string]any)
	if got["event_id"] != payment || got["void_seq"].(json.Number).String() != v.JSON["seq"].(json.Number).String() || got["voided_on"] != "2006-12-28" {
		t.Errorf("the void named on the retry: %v; want event %s voided by seq %v on 2006-12-28", got, payment, v.JSON["seq"])
	}
}
