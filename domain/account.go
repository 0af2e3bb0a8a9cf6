package domain

import (
	"cmp"
	"math"
	"slices"
)

// LineKey names a line: one period of one insurance.
type LineKey struct {
	Period    Period
	Insurance Insurance
}

// compare orders lines oldest period first, then insurances in allocation order.
func (k LineKey) compare(o LineKey) int {
	if c := cmp.Compare(k.Period, o.Period); c != 0 {
		return c
	}
	return cmp.Compare(k.Insurance.Rank(), o.Insurance.Rank())
}

type entryKind uint8

const (
	entrySetBase entryKind = iota + 1 // a declaration or assessment: replaces the period's base dues
	entryAudit                        // an audit addition on one line
	entryOpening                      // arrears carried over from before the ledger
	entryPayment
	entryReversal
	entryWaivePrincipal
	entryWaiveFee
	entryRefund // credit paid back (退费)
)

type lineAmount struct {
	key    LineKey
	amount Fen
}

// entry is one money event, reduced to what the arithmetic needs.
type entry struct {
	kind   entryKind
	date   Date
	period Period
	dueOn  Date
	seq    uint64
	// lines are the amounts the event sets, audits, opens or waives per line; of a payment, its
	// explicit allocations.
	lines   []lineAmount
	amount  Fen
	receipt string // of a payment or reversal, as NormalizeCode gives it
	// undoes is, for a reversal, 1 + the index in Account.entries of the payment it undoes, or 0
	// when no payment with its receipt stood when it was recorded.
	undoes int
}

// Account holds an employer's money events; its balances as of any date follow from them. Once
// compacted (Compact), it answers dates after the boundary only.
type Account struct {
	entries []entry
	carry   *carry // never changed once made: copies of the account share it
	// Stale is set when an entry recorded after a compaction needs what it folded away (see
	// stale); the account must then be folded again from its events.
	Stale bool
}

// record adds the money part of an event; other events are ignored.
func (a *Account) record(seq uint64, body Payload) {
	var e entry
	switch p := body.(type) {
	case DeclarationFiled:
		e = entry{kind: entrySetBase, date: p.DeclaredOn, period: p.Period, dueOn: p.DueOn, lines: setLines(p)}
	case AssessmentMade:
		e = entry{kind: entrySetBase, date: p.AssessedOn, period: p.Period, dueOn: p.DueOn, lines: setLines(p)}
	case AuditFindingRecorded:
		if p.DueFen == 0 {
			return
		}
		e = entry{kind: entryAudit, date: p.FoundOn, period: p.Period, dueOn: p.DueOn,
			lines: []lineAmount{{LineKey{p.Period, p.Insurance.canonical()}, p.DueFen}}}
	case OpeningBalanceRecorded:
		for _, l := range p.Lines {
			e := entry{kind: entryOpening, date: p.AsOf, seq: seq, period: l.Period, dueOn: l.DueOn,
				lines: []lineAmount{{LineKey{l.Period, l.Insurance.canonical()}, l.OutstandingFen}}}
			a.Stale = a.Stale || a.stale(&e)
			a.add(e)
		}
		return
	case PaymentReceived:
		e = entry{kind: entryPayment, date: p.PaidOn, amount: p.AmountFen, receipt: NormalizeCode(p.ReceiptNo)}
		if len(p.Allocations) > 0 {
			e.lines = make([]lineAmount, len(p.Allocations))
			for i, x := range p.Allocations {
				e.lines[i] = lineAmount{LineKey{x.Period, x.Insurance.canonical()}, x.AmountFen}
			}
		}
	case PaymentReversed:
		e = entry{kind: entryReversal, date: p.ReversedOn, receipt: NormalizeCode(p.ReceiptNo)}
		e.undoes = standing(a.entries, e.receipt)
	case CreditRefunded:
		e = entry{kind: entryRefund, date: p.RefundedOn, amount: p.AmountFen, receipt: NormalizeCode(p.ReceiptNo)}
	case WaiverGranted:
		k := entryWaiveFee
		if p.Kind == WaiverPrincipal {
			k = entryWaivePrincipal
		}
		e = entry{kind: k, date: p.DecidedOn, amount: p.AmountFen, lines: []lineAmount{{LineKey{p.Period, p.Insurance.canonical()}, p.AmountFen}}}
	default:
		return
	}
	e.seq = seq
	a.Stale = a.Stale || a.stale(&e)
	a.add(e)
}

// withNext returns a copy of the account with body recorded next: it applies after every event
// of its date. The copy shares a's entries but for the one added.
func (a *Account) withNext(body Payload) *Account {
	t := *a
	t.entries = slices.Clip(t.entries)
	t.record(math.MaxUint64, body)
	return &t
}

// Reserve makes room for n more entries at once: an account folded for one answer (a history)
// and dropped after knows how many events are coming, and grows once instead of by quarters.
func (a *Account) Reserve(n int) { a.entries = slices.Grow(a.entries, n) }

// add appends e to the entries, growing them by a quarter rather than append's doubling: a start
// folds a year into tens of thousands of accounts, and the doubling's slack was 40 MiB of them
// on the ten-year ledger.
func (a *Account) add(e entry) {
	if len(a.entries) == cap(a.entries) {
		grown := make([]entry, len(a.entries), len(a.entries)+len(a.entries)/4+4)
		copy(grown, a.entries)
		a.entries = grown
	}
	a.entries = append(a.entries, e)
}

// standing returns 1 + the index in entries (in recording order) of the payment with receipt
// (normalised) that stands at their end, or 0 when none does. Each reversal undid the last payment
// with its receipt recorded before it that no earlier reversal had undone (so a receipt recorded
// anew after a reversal is the new payment's, and its own reversal undoes only it), and the
// standing payment is the last one left undone. The receipt rule allows one standing payment per
// receipt; events stored before receipts were normalised may hold more, and are paired the same
// way, last first.
func standing(entries []entry, receipt string) int {
	reversals := 0
	for i := len(entries) - 1; i >= 0; i-- {
		e := &entries[i]
		if e.receipt != receipt {
			continue
		}
		switch {
		case e.kind == entryReversal:
			reversals++
		case e.kind == entryPayment && reversals > 0:
			reversals--
		case e.kind == entryPayment:
			return i + 1
		}
	}
	return 0
}

// payment returns the payment with receipt (normalised) that stands, if one does.
func (a *Account) payment(receipt string) (entry, bool) {
	if i := standing(a.entries, receipt); i > 0 {
		return a.entries[i-1], true
	}
	return entry{}, false
}

// baseSetOn is the date and stream sequence of the declaration or assessment of period p that
// stands (the latest by date, then the last recorded: one dated earlier, recorded later,
// replaces nothing), and whether there is one among the entries (a compacted account's settled
// periods are not).
func (a *Account) baseSetOn(p Period) (Date, uint64, bool) {
	if en := a.standingBase(p); en != nil {
		return en.date, en.seq, true
	}
	return 0, 0, false
}

// standingBase is the declaration or assessment of period p that stands: the latest by date,
// the last recorded among equal dates (nil: none).
func (a *Account) standingBase(p Period) *entry { return a.baseOn(p, maxDate) }

// baseOn is the declaration or assessment of period p that stood on day d (nil: none).
func (a *Account) baseOn(p Period, d Date) *entry {
	var st *entry
	for i := range a.entries {
		if en := &a.entries[i]; en.kind == entrySetBase && en.period == p && en.date <= d && (st == nil || en.date >= st.date) {
			st = en
		}
	}
	return st
}

// openedOn is the stream sequence of an opening balance with a line of period p, and whether
// there is one among the entries.
func (a *Account) openedOn(p Period) (uint64, bool) {
	for i := range a.entries {
		if en := &a.entries[i]; en.kind == entryOpening && slices.ContainsFunc(en.lines, func(l lineAmount) bool { return l.key.Period == p }) {
			return en.seq, true
		}
	}
	return 0, false
}

// bookThrough applies, from the carry, the entries applied(asOf) lists.
func (a *Account) bookThrough(asOf Date, fees []LateFeeRate) *book {
	return a.fillThrough(new(book), asOf, fees)
}

// fillThrough is bookThrough into s, a new book or one reset.
func (a *Account) fillThrough(s *book, asOf Date, fees []LateFeeRate) *book {
	a.fillBook(s, fees)
	s.applying = a.appliedInto(s.applying[:0], asOf)
	for _, e := range s.applying {
		s.apply(e)
	}
	return s
}

// applied returns the entries dated on or before asOf that no reversal dated on or before it
// undid, in the order they apply (entryOrder); reversals are left out.
func (a *Account) applied(asOf Date) []*entry {
	return a.appliedInto(make([]*entry, 0, len(a.entries)), asOf)
}

// appliedInto is applied appending to entries.
func (a *Account) appliedInto(entries []*entry, asOf Date) []*entry {
	var undone map[*entry]bool // payments undone by a reversal dated on or before asOf
	for i := range a.entries {
		e := &a.entries[i]
		if e.date > asOf {
			continue
		}
		if e.kind == entryReversal {
			if e.undoes > 0 {
				if undone == nil {
					undone = map[*entry]bool{}
				}
				undone[&a.entries[e.undoes-1]] = true
			}
			continue
		}
		entries = append(entries, e)
	}
	slices.SortStableFunc(entries, entryOrder)
	if undone != nil {
		entries = slices.DeleteFunc(entries, func(e *entry) bool { return undone[e] })
	}
	return entries
}

// entryOrder is the order in which money events are applied: by date, then as recorded.
// Statement and OverdueAt must agree on it.
func entryOrder(x, y *entry) int {
	if c := cmp.Compare(x.date, y.date); c != 0 {
		return c
	}
	return cmp.Compare(x.seq, y.seq)
}
