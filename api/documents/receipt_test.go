package documents

import (
	"testing"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// A receipt notes the reversal that undid its payment: the first of its receipt after it
// (however the receipt is spelt), unless voided since; a payment recorded again under the
// reversed receipt is another payment, whose receipt notes only a reversal of its own.
func TestAReceiptNotesTheReversalThatUndidItsPayment(t *testing.T) {
	ev := func(seq uint64, on string, body domain.Payload) eventstore.RawEvent {
		return eventstore.RawEvent{Event: domain.Event{Envelope: domain.Envelope{Seq: seq, OccurredOn: domain.MustDate(on)}, Body: body}}
	}
	pay := func(seq uint64, no string) eventstore.RawEvent {
		return ev(seq, "2006-08-15", domain.PaymentReceived{PaidOn: domain.MustDate("2006-08-15"), AmountFen: 7000, ReceiptNo: no})
	}
	reverse := func(seq uint64, no string) eventstore.RawEvent {
		return ev(seq, "2006-08-18", domain.PaymentReversed{ReversedOn: domain.MustDate("2006-08-18"), ReceiptNo: no, Reason: "空头支票"})
	}
	void := func(seq, target uint64) eventstore.RawEvent {
		return ev(seq, "2006-08-20", domain.EventVoided{TargetSeq: target, Reason: "录入错误"})
	}
	for _, c := range []struct {
		name string
		raw  []eventstore.RawEvent
		at   int
		want uint64
	}{
		{"reversed", []eventstore.RawEvent{pay(1, "SJ-3"), reverse(2, "SJ-3")}, 0, 2},
		{"reversed under its receipt spelt in lower case", []eventstore.RawEvent{pay(1, "SJ-3"), reverse(2, "sj-3")}, 0, 2},
		{"another receipt reversed", []eventstore.RawEvent{pay(1, "SJ-3"), reverse(2, "SJ-4")}, 0, 0},
		{"its reversal voided", []eventstore.RawEvent{pay(1, "SJ-3"), reverse(2, "SJ-3"), void(3, 2)}, 0, 0},
		{"the payment recorded anew under the reversed receipt", []eventstore.RawEvent{pay(1, "SJ-3"), reverse(2, "SJ-3"), pay(3, "SJ-3")}, 2, 0},
		{"the payment anew reversed in its turn", []eventstore.RawEvent{pay(1, "SJ-3"), reverse(2, "SJ-3"), pay(3, "SJ-3"), reverse(4, "SJ-3")}, 2, 4},
	} {
		d, ok := EventDocumentOf(c.raw, c.at, &domain.Reference{})
		if !ok || d.ReversedBy != c.want {
			t.Errorf("%s: the receipt notes the reversal at %d (%v), want %d", c.name, d.ReversedBy, ok, c.want)
		}
	}
}
