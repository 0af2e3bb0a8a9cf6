package documents

import (
	"fmt"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// EventDocument is what the document of one event prints: a payment's receipt (缴费凭证), or the
// note of a reversal (退票通知), a void (冲正通知) or a refund (退费通知).
type EventDocument struct {
	// Title is the document's name (缴费凭证, 退票通知, 冲正通知, 退费通知).
	Title string
	Seq   uint64
	ID    string
	Hash  string
	On    domain.Date
	// The payer as it stood on On.
	Payer     Payer
	ReceiptNo string
	// AmountFen is the money the event moved, or that the event it corrects moved (0: none).
	AmountFen   domain.Fen
	Allocations []domain.Allocation
	// Corrects names the event a note corrects; Reason is why.
	Corrects, Reason string
	// VoidedBy is the sequence of a later void of the event (0: none).
	VoidedBy uint64
	// ReversedBy is the sequence of a later reversal of a payment (退票) that stands (0: none),
	// ReversedOn its date: a receipt printed after its payment bounced says so.
	ReversedBy uint64
	ReversedOn domain.Date
}

// EventDocumentOf composes the document of raw[i], an event of an employer's events raw (stream
// order), with the reference data ref; ok is false for an event type that prints none. A later
// void of the event is noted on it.
func EventDocumentOf(raw []eventstore.RawEvent, i int, ref *domain.Reference) (EventDocument, bool) {
	ev := raw[i]
	d := EventDocument{Seq: ev.Seq, ID: ev.ID, Hash: ev.Hash, On: ev.OccurredOn}
	switch b := ev.Body.(type) {
	case domain.PaymentReceived:
		d.Title, d.ReceiptNo, d.AmountFen, d.Allocations = "缴费凭证", b.ReceiptNo, b.AmountFen, b.Allocations
	case domain.PaymentReversed:
		amount, paid := paymentOf(raw, b.ReceiptNo, ev.Seq)
		d.Title, d.ReceiptNo, d.AmountFen, d.Reason = "退票通知", b.ReceiptNo, amount, b.Reason
		d.Corrects = fmt.Sprintf("收据号 %s 的缴费（%s）", b.ReceiptNo, paid)
	case domain.CreditRefunded:
		d.Title, d.ReceiptNo, d.AmountFen = "退费通知", b.ReceiptNo, b.AmountFen
		d.Corrects, d.Reason = "溢缴余额", "退还溢缴的社会保险费"
	case domain.EventVoided:
		d.Title, d.Reason = "冲正通知", b.Reason
		d.Corrects = fmt.Sprintf("第 %d 号 %s（%s，业务编号 %s）", b.TargetSeq, EventName(b.TargetType), b.TargetOn, b.TargetID)
		for j := range raw[:i] {
			if raw[j].Seq == b.TargetSeq {
				what, amount := describe(raw[j].Event, raw, ref)
				d.Corrects += "：" + what
				d.AmountFen = amount
			}
		}
	default:
		return EventDocument{}, false
	}
	for _, later := range raw[i+1:] {
		if v, ok := later.Body.(domain.EventVoided); ok && v.TargetSeq == ev.Seq {
			d.VoidedBy = later.Seq
		}
	}
	if p, ok := ev.Body.(domain.PaymentReceived); ok {
		if r, ok := reversalOf(raw[i+1:], p.ReceiptNo); ok {
			d.ReversedBy, d.ReversedOn = r.Seq, r.OccurredOn
		}
	}
	events := make([]domain.Event, 0, i+1)
	for _, e := range raw[:i+1] {
		events = append(events, e.Event)
	}
	d.Payer = payerOn(events, d.On, ref)
	return d, true
}

// reversalOf is the reversal among later (the events after a payment of receipt no, in stream
// order) that undid that payment: the first of its receipt, not voided, before the receipt is
// recorded anew (a payment recorded again under a reversed receipt is another payment).
func reversalOf(later []eventstore.RawEvent, no string) (eventstore.RawEvent, bool) {
	no = domain.NormalizeCode(no)
	voided := map[uint64]bool{}
	for _, ev := range later {
		if v, ok := ev.Body.(domain.EventVoided); ok {
			voided[v.TargetSeq] = true
		}
	}
	for _, ev := range later {
		if voided[ev.Seq] {
			continue
		}
		switch b := ev.Body.(type) {
		case domain.PaymentReversed:
			if domain.NormalizeCode(b.ReceiptNo) == no {
				return ev, true
			}
		case domain.PaymentReceived:
			if domain.NormalizeCode(b.ReceiptNo) == no {
				return eventstore.RawEvent{}, false
			}
		}
	}
	return eventstore.RawEvent{}, false
}

// Render prints the document: the same event gives the same bytes.
func (e *EventDocument) Render() ([]byte, error) { return e.RenderAs(Printings[0]) }

// RenderAs prints the document the way p says.
func (e *EventDocument) RenderAs(p Printing) ([]byte, error) {
	return print(p, layout{on: e.On, title: e.Title + " " + e.ID, footer: fmt.Sprintf("%s 账本序号 %d", e.Title, e.Seq)}, func(d *doc) {
		d.addPage()
		d.font(20)
		d.cell(textWidth, 12, e.Title, "", 1, "C")
		d.font(11)
		para := func(s string) { d.paragraph(s) }
		para(e.Payer.title(p) + "：" + e.Payer.Name)
		para(e.Payer.code())
		para("所在县（市、区）：" + e.Payer.CountyName + "（" + e.Payer.CountyCode + "）")
		d.ln(2)
		if e.ReceiptNo != "" {
			para("收据号：" + e.ReceiptNo)
		}
		para("日期：" + ChineseDate(e.On))
		if e.Corrects != "" {
			para("更正事项：" + e.Corrects)
		}
		para("金额：人民币 " + Yuan(e.AmountFen) + " 元（大写：" + domain.ChineseCapitals(e.AmountFen) + "）")
		if len(e.Allocations) > 0 {
			// The payer's designation, as the desk's form names it; the ledger applies what
			// exceeds a line's outstanding by the general order (DOMAIN), so the receipt says so.
			para("指定冲抵：" + allocations(e.Allocations) + "（超出该项欠费的部分按一般顺序冲抵）")
		}
		if e.Reason != "" {
			para("原因：" + e.Reason)
		}
		if e.VoidedBy != 0 {
			para(fmt.Sprintf("本%s所载业务已由账本序号 %d 的冲正作废。", e.Title, e.VoidedBy))
		}
		if e.ReversedBy != 0 {
			para(fmt.Sprintf("本%s所载缴费已于%s退票（账本序号 %d 的退票通知），不再作为缴费凭证。", e.Title, ChineseDate(e.ReversedOn), e.ReversedBy))
		}
		seq, hash := fmt.Sprintf("账本序号：%d　业务编号：%s", e.Seq, e.ID), "哈希："+e.Hash
		if d.keepsTogether() {
			// The signature goes on one page with the sequence and hash it closes, not alone.
			d.font(9)
			d.keep(2 + float64(len(d.wrap(seq, textWidth))+len(d.wrap(hash, textWidth)))*paragraphLine + signHeight)
		}
		d.ln(2)
		d.font(9)
		para(seq)
		para(hash)
		d.footerSign(e.Payer, e.On)
	})
}
