package api_test

import (
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// The business date is the only wall-clock reading the ledger decides by (README, "The clock
// jumps backwards"): when the machine's clock is set back across midnight, it steps back a day.
func TestWhenTheBusinessDateStepsBackTheDayLeftIsRefusedAsFutureAndNothingIsLost(t *testing.T) {
	var day atomic.Int64
	set := func(d string) { day.Store(int64(domain.MustDate(d))) }
	set("2006-06-02")
	e := &env{t: t, l: storetest.Start(t, eventstore.Config{}), clock: func() domain.Date { return domain.Date(day.Load()) }}
	e.serve()

	a := e.register(t, "", orgA, "360702")
	path := empPath(a, "payments")
	key := func(k string) map[string]string { return map[string]string{"Idempotency-Key": k} }
	pay := func(k, receipt, on string) resp {
		return e.do(t, req{Path: path, Body: []byte(paymentBody(receipt, 100, on)), Header: key(k)})
	}
	first := pay("pay-1", "R-1", "2006-06-02")
	if first.Status != 201 {
		t.Fatalf("a payment dated today: %s, want 201", first)
	}

	set("2006-06-01")
	before := e.count()
	t.Run("a write dated the day just left is refused as future and nothing is appended", func(t *testing.T) {
		wantError(t, pay("pay-2", "R-2", "2006-06-02"), 400, "invalid", "paid_on")
		e.wantUnchanged(t, before)
	})
	t.Run("a retry of a write recorded on the day just left answers its first result", func(t *testing.T) {
		r := pay("pay-1", "R-1", "2006-06-02")
		if r.Status != 200 || r.JSON["duplicate"] != true || r.num("seq") != first.num("seq") {
			t.Fatalf("retry after the clock stepped back: %s, want 200 duplicate of %s", r, first)
		}
		e.wantUnchanged(t, before)
	})
	t.Run("a write dated the new today is recorded", func(t *testing.T) {
		if r := pay("pay-3", "R-3", "2006-06-01"); r.Status != 201 {
			t.Fatalf("%s, want 201", r)
		}
	})

	set("2006-06-02")
	t.Run("the refused write is recorded once the clock reaches its day again", func(t *testing.T) {
		if r := pay("pay-2", "R-2", "2006-06-02"); r.Status != 201 || r.JSON["duplicate"] != nil {
			t.Fatalf("%s, want 201: its refusal recorded nothing under its key", r)
		}
	})

	t.Run("the employer's history holds each payment once, in order, its chain unbroken", func(t *testing.T) {
		h := e.get(t, empPath(a, "history"), "")
		if h.Status != 200 || h.JSON["chain_ok"] != true {
			t.Fatalf("history: %s, want 200 with chain_ok", h)
		}
		var receipts []string
		var last int64
		for _, ev := range h.JSON["events"].([]any) {
			ev := ev.(map[string]any)
			seq, _ := ev["seq"].(json.Number).Int64()
			if seq <= last {
				t.Errorf("history out of order: seq %d after %d", seq, last)
			}
			last = seq
			if ev["type"] == "payment.received" {
				receipts = append(receipts, ev["payload"].(map[string]any)["receipt_no"].(string))
			}
		}
		if got, want := receipts, []string{"R-1", "R-3", "R-2"}; !slices.Equal(got, want) {
			t.Errorf("payments in the history %v, want %v", got, want)
		}
	})
}
