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
		e = entry{kind: entrySetBase, date: p.DeclaredOn, period: p.Period, dueOn: p.DueOn, lines: make([]lineAmount, len(p.Lines))}
		for i, l := range p.Lines {
			e.lines[i] = lineAmount{LineKey{p.Period, l.Insurance.canonical()}, l.DueFen}
		}
	case AssessmentMade:
		e = entry{kind: entrySetBase, date: p.AssessedOn, period: p.Period, dueOn: p.DueOn, lines: make([]lineAmount, len(p.Lines))}
		for i, l := range p.Lines {
			e.lines[i] = lineAmount{LineKey{p.Period, l.Insurance.canonical()}, l.DueFen}
		}
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

// LineState is one line's balances as of a date.
type LineState struct {
	Period    Period    `json:"period"`
	Insurance Insurance `json:"insurance"`
	DueDate   Date      `json:"due_date"`
	DueFen    Fen       `json:"due_fen"`
	PaidFen   Fen       `json:"paid_fen"`
	WaivedFen Fen       `json:"waived_fen"`
	// OutstandingFen is principal still owed.
	OutstandingFen Fen `json:"outstanding_fen"`
	// LateFeeFen is late fee accrued and neither paid nor waived.
	LateFeeFen        Fen `json:"late_fee_fen"`
	LateFeeAccruedFen Fen `json:"late_fee_accrued_fen"`
	LateFeePaidFen    Fen `json:"late_fee_paid_fen"`
	LateFeeWaivedFen  Fen `json:"late_fee_waived_fen"`
	// RecoveredFen is principal paid on this line after its due date (清欠).
	RecoveredFen Fen `json:"recovered_fen"`
}

// Totals sums a statement.
type Totals struct {
	DueFen                Fen `json:"due_fen"`
	PaidFen               Fen `json:"paid_fen"`
	WaivedFen             Fen `json:"waived_fen"`
	OutstandingFen        Fen `json:"outstanding_fen"`
	LateFeeFen            Fen `json:"late_fee_fen"`
	CreditFen             Fen `json:"credit_fen"`
	ArrearsCurrentYearFen Fen `json:"arrears_current_year_fen"`
	ArrearsPriorYearsFen  Fen `json:"arrears_prior_years_fen"`
	RecoveredFen          Fen `json:"recovered_fen"`
}

// Statement is an employer's balances as of a date.
type Statement struct {
	AsOf   Date        `json:"as_of"`
	Lines  []LineState `json:"lines"`
	Totals Totals      `json:"totals"`
	// Settled sums the lines a year-end compaction took out of Lines (their money is in Totals).
	Settled []Settled `json:"settled,omitempty"`
}

// Line returns the state of one line and whether it exists.
func (s *Statement) Line(k LineKey) (LineState, bool) {
	for _, l := range s.Lines {
		if l.Period == k.Period && l.Insurance == k.Insurance {
			return l, true
		}
	}
	return LineState{}, false
}

type reduction struct {
	date   Date
	amount Fen // negative for a refund of overpaid principal
}

type bookLine struct {
	key                  LineKey
	dueOn                Date
	base, audit, opening Fen
	paid, waived         Fen
	feePaid, feeWaived   Fen
	recovered            Fen
	reductions           []reduction
	// fixed is set on a line a compaction carried with nothing outstanding: its late fee accrued
	// (fee) can no longer change, so its reductions are not kept (see carriedLine).
	fixed bool
	fee   Fen
	// settled remembers the fee of a line its reductions paid off: it accrues nothing after the
	// last of them, so a replay asking for every later date (an auditor's history asks once an
	// event) does not sum the line's days again.
	settled feeMemo
	// quiet is set on a line summed into its book's quiet totals, as counted (see book.totals).
	quiet   bool
	counted quietState
}

// feeMemo is the fee a line accrued through any date from on, while its principal and the
// number of its reductions (reductions are only ever appended; 0: no memo) stay as they were.
type feeMemo struct {
	principal, fee Fen
	reductions     int32
	from           Date
}

// quietState is what a quiet line adds to the totals: it has nothing outstanding.
type quietState struct {
	due, paid, waived, lateFee, recovered Fen
}

func (l *bookLine) principal() Fen   { return l.base + l.audit + l.opening }
func (l *bookLine) outstanding() Fen { return l.principal() - l.paid - l.waived }

// feeAccrued is the late fee accrued on the line through day t: Σ over days d with
// dueOn < d ≤ t of outstanding(d) × daily_bp(d) / 10000, rounded half up once. A reduction
// dated d counts on day d, so the paid part bears no fee on the day of payment.
func (l *bookLine) feeAccrued(t Date, fees []LateFeeRate) Fen {
	if l.fixed {
		return l.fee
	}
	if t <= l.dueOn {
		return 0
	}
	m := &l.settled
	if m.reductions > 0 && t >= m.from && int(m.reductions) == len(l.reductions) && m.principal == l.principal() {
		return m.fee
	}
	var num int64
	out := l.principal()
	start, i := l.dueOn+1, 0
	for {
		for i < len(l.reductions) && l.reductions[i].date <= start {
			out -= l.reductions[i].amount
			i++
		}
		end := t
		if i < len(l.reductions) && l.reductions[i].date-1 < end {
			end = l.reductions[i].date - 1
		}
		if out > 0 {
			num += int64(out) * bpDays(start, end, fees)
		}
		if end >= t {
			break
		}
		start = end + 1
	}
	fee, _ := MulDivHalfUp(num, 1, 10000)
	if out <= 0 && i == len(l.reductions) && i > 0 && i <= math.MaxInt32 {
		*m = feeMemo{reductions: int32(i), principal: l.principal(), from: l.reductions[i-1].date, fee: Fen(fee)}
	}
	return Fen(fee)
}

// bpDays sums the daily late-fee rate over the days from a to b inclusive.
func bpDays(a, b Date, fees []LateFeeRate) int64 {
	var sum int64
	for i, f := range fees {
		lo := max(a, f.EffectiveFrom)
		hi := b
		if i+1 < len(fees) {
			hi = min(hi, fees[i+1].EffectiveFrom-1)
		}
		if hi >= lo {
			sum += int64(hi-lo+1) * int64(f.DailyBP)
		}
	}
	return sum
}

// book is an account's lines as its entries, applied in order, leave them: the arithmetic of
// balances and late fees that statements, histories and figures all read.
//
// A payment is allocated in this order, the one place it is written (DOMAIN.md, "Payments,
// credit, waivers"): its explicit allocations first, each at most the line's outstanding
// principal; then outstanding principal, oldest period first and, within a period, insurances in
// the order of Insurances (pension, unemployment, medical, work injury, maternity); then accrued
// late fees, oldest line first; what remains is credit, which pays new dues as they are recorded
// (settle).
type book struct {
	lines  map[LineKey]*bookLine
	order  []*bookLine // oldest period first, insurances in allocation order
	credit Fen
	fees   []LateFeeRate
	// Of totals, once tracking: the states of the quiet lines summed, and the lines not quiet.
	tracking bool
	quiet    Totals
	active   []*bookLine
	// slab holds the lines made next, a few at a time: a statement makes dozens.
	slab []bookLine
}

// line returns the line k, made with due date dueOn if new, for an entry to change it.
func (s *book) line(k LineKey, dueOn Date) *bookLine {
	if l, ok := s.lines[k]; ok {
		s.touch(l)
		return l
	}
	if len(s.slab) == cap(s.slab) {
		s.slab = make([]bookLine, 0, 16)
	}
	s.slab = append(s.slab, bookLine{key: k, dueOn: dueOn})
	l := &s.slab[len(s.slab)-1]
	s.lines[k] = l
	i, _ := slices.BinarySearchFunc(s.order, k, func(x *bookLine, k LineKey) int { return x.key.compare(k) })
	s.order = slices.Insert(s.order, i, l)
	if s.tracking {
		s.active = append(s.active, l)
	}
	return l
}

func (s *book) pay(l *bookLine, x Fen, d Date) {
	if x <= 0 {
		return
	}
	s.touch(l)
	l.paid += x
	l.reductions = append(l.reductions, reduction{d, x})
	if d > l.dueOn {
		l.recovered += x
	}
}

// settle moves principal overpaid after an amendment into credit, then lets credit pay what is
// outstanding, oldest line first.
func (s *book) settle(d Date) {
	for _, l := range s.order {
		if over := -l.outstanding(); over > 0 {
			s.touch(l)
			refund := min(over, l.paid)
			l.paid -= refund
			l.reductions = append(l.reductions, reduction{d, -refund})
			s.credit += refund
		}
	}
	for _, l := range s.order {
		if s.credit <= 0 {
			return
		}
		x := min(s.credit, max(l.outstanding(), 0))
		s.pay(l, x, d)
		s.credit -= x
	}
}

func (s *book) apply(e *entry) {
	switch e.kind {
	case entrySetBase:
		for _, l := range s.order {
			if l.key.Period == e.period {
				s.touch(l)
				l.base = 0
			}
		}
		for _, la := range e.lines {
			s.line(la.key, e.dueOn).base = la.amount
		}
		s.settle(e.date)
	case entryAudit:
		for _, la := range e.lines {
			s.line(la.key, e.dueOn).audit += la.amount
		}
		s.settle(e.date)
	case entryOpening:
		for _, la := range e.lines {
			s.line(la.key, e.dueOn).opening = la.amount
		}
		s.settle(e.date)
	case entryPayment:
		rem := e.amount
		for _, a := range e.lines {
			if l, ok := s.lines[a.key]; ok {
				x := min(a.amount, rem, max(l.outstanding(), 0))
				s.pay(l, x, e.date)
				rem -= x
			}
		}
		for _, l := range s.order {
			x := min(rem, max(l.outstanding(), 0))
			s.pay(l, x, e.date)
			rem -= x
		}
		for _, l := range s.order {
			if rem <= 0 {
				break
			}
			owed := l.feeAccrued(e.date, s.fees) - l.feePaid - l.feeWaived
			x := min(rem, max(owed, 0))
			if x > 0 {
				s.touch(l)
				l.feePaid += x
			}
			rem -= x
		}
		s.credit += rem
	case entryWaivePrincipal:
		if l, ok := s.lines[e.lines[0].key]; ok {
			s.touch(l)
			x := min(e.amount, max(l.outstanding(), 0))
			l.waived += x
			l.reductions = append(l.reductions, reduction{e.date, x})
		}
	case entryWaiveFee:
		if l, ok := s.lines[e.lines[0].key]; ok {
			s.touch(l)
			owed := l.feeAccrued(e.date, s.fees) - l.feePaid - l.feeWaived
			l.feeWaived += min(e.amount, max(owed, 0))
		}
	}
}

// Statement computes the balances as of asOf from the entries dated on or before it, applied in
// business-date order (then recording order), with the late-fee schedule fees. A compacted
// account answers dates after its boundary only (CompactedThrough); its settled lines count in
// the totals and are listed in Settled, not in Lines.
func (a *Account) Statement(asOf Date, fees []LateFeeRate) Statement {
	s := a.bookThrough(asOf, fees)
	st := Statement{AsOf: asOf, Lines: make([]LineState, 0, len(s.order))}
	for _, l := range s.order {
		ls := l.state(asOf, fees)
		st.Lines = append(st.Lines, ls)
		st.Totals.add(ls, asOf)
	}
	st.Totals.CreditFen = s.credit
	for _, x := range a.Settled() {
		st.Totals.DueFen += x.DueFen
		st.Totals.PaidFen += x.PaidFen
		st.Totals.WaivedFen += x.WaivedFen
		st.Totals.RecoveredFen += x.RecoveredFen
	}
	st.Settled = a.Settled()
	return st
}

// bookThrough applies, from the carry, the entries dated on or before asOf that no reversal
// dated on or before it undid.
func (a *Account) bookThrough(asOf Date, fees []LateFeeRate) *book {
	entries := make([]*entry, 0, len(a.entries))
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
	s := a.newBook(fees)
	for _, e := range entries {
		if undone[e] {
			continue
		}
		s.apply(e)
	}
	return s
}

// state is the line as of asOf.
func (l *bookLine) state(asOf Date, fees []LateFeeRate) LineState {
	accrued := l.feeAccrued(asOf, fees)
	return LineState{
		Period: l.key.Period, Insurance: l.key.Insurance, DueDate: l.dueOn,
		DueFen: l.principal(), PaidFen: l.paid, WaivedFen: l.waived, OutstandingFen: max(l.outstanding(), 0),
		LateFeeAccruedFen: accrued, LateFeePaidFen: l.feePaid, LateFeeWaivedFen: l.feeWaived,
		LateFeeFen:   max(accrued-l.feePaid-l.feeWaived, 0),
		RecoveredFen: l.recovered,
	}
}

// add counts a line as of asOf into the totals.
func (t *Totals) add(ls LineState, asOf Date) {
	t.DueFen += ls.DueFen
	t.PaidFen += ls.PaidFen
	t.WaivedFen += ls.WaivedFen
	t.OutstandingFen += ls.OutstandingFen
	t.LateFeeFen += ls.LateFeeFen
	t.RecoveredFen += ls.RecoveredFen
	current, prior := ls.Arrears(asOf)
	t.ArrearsCurrentYearFen += current
	t.ArrearsPriorYearsFen += prior
}

// Overdue reports whether a line due on dueOn with outstanding principal is in arrears on d: it
// is once its due date has passed.
func Overdue(dueOn Date, outstanding Fen, d Date) bool { return dueOn < d && outstanding > 0 }

// Arrears is the line's principal in arrears on asOf (outstanding past its due date), as the
// current year's when its period is of asOf's year, else as prior years'.
func (ls LineState) Arrears(asOf Date) (currentYear, priorYears Fen) {
	switch {
	case !Overdue(ls.DueDate, ls.OutstandingFen, asOf):
		return 0, 0
	case ls.Period.Year() == asOf.Year():
		return ls.OutstandingFen, 0
	default:
		return 0, ls.OutstandingFen
	}
}

// ArrearsFen is the principal in arrears, the current year's and prior years' together.
func (t Totals) ArrearsFen() Fen { return t.ArrearsCurrentYearFen + t.ArrearsPriorYearsFen }

// OverdueLine is a line's outstanding principal past its due date at some date.
type OverdueLine struct {
	Period         Period
	Insurance      Insurance
	OutstandingFen Fen
}

// OverdueAt gives, for each date in at (ascending), the outstanding principal of every line due
// before that date, counting the events dated on or before it: the arrears at each date, from one
// pass over the entries (an account with reversals is replayed once per date, since a reversal
// undoes its payment only from its own date on).
func (a *Account) OverdueAt(at []Date, fees []LateFeeRate) [][]OverdueLine {
	out := make([][]OverdueLine, len(at))
	hasReversal := false
	for i := range a.entries {
		hasReversal = hasReversal || a.entries[i].kind == entryReversal
	}
	overdue := func(s *book, d Date) []OverdueLine {
		var list []OverdueLine
		for _, l := range s.order {
			if Overdue(l.dueOn, l.outstanding(), d) {
				list = append(list, OverdueLine{l.key.Period, l.key.Insurance, l.outstanding()})
			}
		}
		return list
	}
	if hasReversal {
		for i, d := range at {
			st := a.Statement(d, fees)
			for _, l := range st.Lines {
				if Overdue(l.DueDate, l.OutstandingFen, d) {
					out[i] = append(out[i], OverdueLine{l.Period, l.Insurance, l.OutstandingFen})
				}
			}
		}
		return out
	}
	entries := make([]*entry, 0, len(a.entries))
	for i := range a.entries {
		entries = append(entries, &a.entries[i])
	}
	slices.SortStableFunc(entries, entryOrder)
	s := a.newBook(fees)
	ci := 0
	for _, e := range entries {
		for ci < len(at) && e.date > at[ci] {
			out[ci] = overdue(s, at[ci])
			ci++
		}
		if ci == len(at) {
			break
		}
		s.apply(e)
	}
	for ; ci < len(at); ci++ {
		out[ci] = overdue(s, at[ci])
	}
	return out
}

// entryOrder is the order in which money events are applied: by date, then as recorded.
// Statement and OverdueAt must agree on it.
func entryOrder(x, y *entry) int {
	if c := cmp.Compare(x.date, y.date); c != 0 {
		return c
	}
	return cmp.Compare(x.seq, y.seq)
}
