// Over 500 lines for a reason: an employer's account book: lines, payments allocated, late fees
// accrued, reductions, all folded together.

package domain

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
)

type reduction struct {
	date   Date
	amount Fen // negative for principal given back or a waiver lapsed when a due was lowered
}

type bookLine struct {
	key                  LineKey
	dueOn                Date
	base, audit, opening Fen
	paid, waived         Fen
	feePaid, feeWaived   Fen
	recovered            Fen
	// recInYear is the principal recovered in year recYear, the year of the line's latest
	// recovery, less what was given back in that year (清欠率 counts a year's recovery).
	recInYear Fen
	recYear   int
	// What a lowered due took back and a raised one restores (see settle): principal waived and
	// late fee waived that lapsed, late fee paid that went back to credit.
	waiverLapsed, feeWaiverLapsed, feeRefunded Fen
	// feeBase is the principal the late fee was last fitted to (settle): only a changed
	// principal changes what was accrued before.
	feeBase    Fen
	reductions []reduction
	// fixed is set on a line a compaction carried with nothing outstanding: its late fee accrued
	// (fee) can no longer change, so its reductions are not kept (see carriedLine).
	fixed bool
	// undeclared is set on a line of a period whose standing declaration or assessment does not
	// list it: a later one replaced the one that did (LineState.Dropped). Beside fixed, it takes
	// no room of its own.
	undeclared bool
	fee        Fen
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

func (l *bookLine) principal() Fen { return l.base + l.audit + l.opening }

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
	// num is a sum of products that passes int64 long before its division (a large principal
	// over centuries of as_of): it is kept in 128 bits.
	var numHi, numLo uint64
	out, i := l.accruing(t, func(start, end Date, out Fen) {
		hi, lo := bits.Mul64(uint64(out), uint64(bpDays(start, end, fees)))
		var carry uint64
		numLo, carry = bits.Add64(numLo, lo, 0)
		numHi += hi + carry
	})
	// A line's fee fits int64 by far (principal and rates are bounded, and days end in 9999);
	// were it not to, it would count as the most a fee can be, never as a wrapped or zero one.
	fee, ok := divHalfUp(numHi, numLo, 10000)
	if !ok {
		fee = math.MaxInt64
	}
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
	// tookBack is the date of the last refund that found too little credit (0: none).
	tookBack Date
	// shorts are the refunds that found too little credit, in the order applied, and how much.
	shorts []refundShort
	// unwaived are the waivers that found less to waive than their amount, in the order applied.
	unwaived []waiverShort
	fees     []LateFeeRate
	// Of totals, once tracking: the states of the quiet lines summed, and the lines not quiet.
	tracking bool
	quiet    Totals
	active   []*bookLine
	// slab holds the lines made next, a few at a time: a statement makes dozens. slabs are the
	// slabs made so far and used the slabs of them in use, which a book reused (statementBooks)
	// fills again rather than making anew.
	slab  []bookLine
	slabs [][]bookLine
	used  int
	// block holds the lines taken from the carry; applying the entries dated through asOf that
	// apply (Account.applied), in order.
	block    []bookLine
	applying []*entry
	// carried and carriedLines are a compaction's lists of the lines it keeps, made once for
	// every account a year's closing compacts (Account.Compact).
	carried      []*bookLine
	carriedLines []carriedLine
	// reds holds the first reductions of lines (reduce), a few a line.
	reds []reduction
}

// lineReductions is how many reductions a line is given room for in the book's array at its
// first: most lines are paid once or twice.
const lineReductions = 4

// reduce appends r to l's reductions, the first few in s.reds: a statement pays hundreds of
// lines, and a slice of each line's own was most of what it allocated.
func (s *book) reduce(l *bookLine, r reduction) {
	if cap(l.reductions) == 0 {
		if len(s.reds)+lineReductions > cap(s.reds) {
			// A new array; lines given room in the one before keep theirs until the book is reset.
			s.reds = make([]reduction, 0, max(256, 2*cap(s.reds)))
		}
		n := len(s.reds)
		s.reds = s.reds[:n+lineReductions]
		l.reductions = s.reds[n : n : n+lineReductions]
	}
	l.reductions = append(l.reductions, r)
}

// line returns the line k, made with due date dueOn if new, for an entry to change it.
func (s *book) line(k LineKey, dueOn Date) *bookLine {
	if l, ok := s.lines[k]; ok {
		s.touch(l)
		return l
	}
	if len(s.slab) == cap(s.slab) {
		if s.used == len(s.slabs) {
			s.slabs = append(s.slabs, make([]bookLine, 0, 16))
		}
		s.slab = s.slabs[s.used][:0]
		s.used++
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
	s.reduce(l, reduction{d, x})
	if d > l.dueOn {
		l.recovered += x
		if y := d.Year(); y != l.recYear {
			l.recYear, l.recInYear = y, 0
		}
		l.recInYear += x
		s.feeWithin(l, d)
	}
}

// feeWithin fits l's late fee paid and waived to what it accrues once principal is paid or
// waived on d: it then accrues less of d's late fee, so what was waived or paid of the fee before
// (a waiver of the whole fee decided on d, then the principal paid) beyond what it now accrues
// lapses, the waiver first (a decision gives no money), then goes back to credit.
func (s *book) feeWithin(l *bookLine, d Date) {
	if f := l.feePaid + l.feeWaived; f > 0 && d > l.dueOn {
		if over := f - l.feeAccrued(d, s.fees); over > 0 {
			lapse := min(over, l.feeWaived)
			l.feeWaived -= lapse
			l.feeWaiverLapsed += lapse
			back := over - lapse
			l.feePaid -= back
			l.feeRefunded += back
			s.credit += back
		}
	}
}

// unrecover takes back, on d, up to x of the principal recovered on l, as money paid on it goes
// back to credit or out in a refund: the latest payments first, so d's year's recovery first.
func (l *bookLine) unrecover(x Fen, d Date) {
	x = min(x, l.recovered)
	l.recovered -= x
	if d.Year() == l.recYear {
		l.recInYear -= min(x, l.recInYear)
	}
}

// settle fits, on day d, what was paid and waived on each line to its due as it now stands,
// then lets credit pay what is outstanding, oldest line first.
//
// A due lowered (an amendment, a replaced opening balance) below what covers it gives back
// money first and then lets waivers lapse: principal paid above the new due goes to credit and
// stops counting as recovered (the latest payments first: they are the late ones), the rest of a
// principal waiver lapses; late fee paid above what the new due accrues goes to credit, the rest
// of a fee waiver lapses. A due raised again restores what lapsed, a waiver being a decision that
// still stands, and pays back from credit the late fee given back; the principal given back is
// paid again from credit as any new due is.
func (s *book) settle(d Date) {
	var refit []*bookLine // lines whose principal changed, with late fee paid or waived
	for _, l := range s.order {
		if over := -l.outstanding(); over > 0 {
			s.touch(l)
			refund := min(over, l.paid)
			l.paid -= refund
			l.unrecover(refund, d)
			s.credit += refund
			l.waived -= over - refund
			l.waiverLapsed += over - refund
			s.reduce(l, reduction{d, -over})
		} else if l.waiverLapsed > 0 && over < 0 {
			s.touch(l)
			x := min(-over, l.waiverLapsed)
			l.waived += x
			l.waiverLapsed -= x
			s.reduce(l, reduction{d, x})
		}
		if p := l.principal(); p != l.feeBase {
			l.feeBase = p
			if l.feePaid+l.feeWaived+l.feeWaiverLapsed+l.feeRefunded > 0 {
				refit = append(refit, l)
			}
		}
	}
	// Credit pays principal first; the late fee is fitted after, to day d as those payments
	// leave it, and what a fee gives back pays principal in turn. A payment on d only lowers
	// d's fee, by a five-hundredth of it at most, so each round gives back less and this ends.
	for {
		s.payFromCredit(d)
		gave := false
		for _, l := range refit {
			gave = s.fitFee(l, d) || gave
		}
		if !gave {
			return
		}
	}
}

// payFromCredit lets credit pay outstanding principal on d, oldest line first, until no credit
// is left or no principal is outstanding: a line paid on d accrues less of d's late fee, and
// what was paid of it beyond that comes back to credit (book.pay), to pay the lines again.
func (s *book) payFromCredit(d Date) {
	for s.credit > 0 {
		paid := false
		for _, l := range s.order {
			if s.credit <= 0 {
				return
			}
			if x := min(s.credit, max(l.outstanding(), 0)); x > 0 {
				s.pay(l, x, d)
				s.credit -= x
				paid = true
			}
		}
		if !paid {
			return
		}
	}
}

// fitFee fits what was paid and waived of l's late fee to what it has accrued by d, after its
// principal changed (see settle), and reports whether it gave money back to credit.
func (s *book) fitFee(l *bookLine, d Date) bool {
	owed := l.feeAccrued(d, s.fees) - l.feePaid - l.feeWaived
	switch {
	case owed < 0:
		s.touch(l)
		refund := min(-owed, l.feePaid)
		l.feePaid -= refund
		l.feeRefunded += refund
		s.credit += refund
		l.feeWaived += owed + refund
		l.feeWaiverLapsed -= owed + refund
		return refund > 0
	case owed > 0 && l.feeWaiverLapsed+l.feeRefunded > 0:
		s.touch(l)
		x := min(owed, l.feeWaiverLapsed)
		l.feeWaived += x
		l.feeWaiverLapsed -= x
		y := min(owed-x, l.feeRefunded, s.credit)
		l.feePaid += y
		l.feeRefunded -= y
		s.credit -= y
	}
	return false
}

func (s *book) apply(e *entry) {
	switch e.kind {
	case entrySetBase:
		for _, l := range s.order {
			if l.key.Period == e.period {
				s.touch(l)
				l.base, l.undeclared = 0, true
			}
		}
		for _, la := range e.lines {
			l := s.line(la.key, e.dueOn)
			l.base, l.undeclared = la.amount, false
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
		var x Fen
		if l, ok := s.lines[e.lines[0].key]; ok {
			s.touch(l)
			x = min(e.amount, max(l.outstanding(), 0))
			l.waived += x
			s.reduce(l, reduction{e.date, x})
			if x > 0 {
				s.feeWithin(l, e.date)
			}
		}
		s.waived(e, x)
	case entryWaiveFee:
		var x Fen
		if l, ok := s.lines[e.lines[0].key]; ok {
			s.touch(l)
			owed := l.feeAccrued(e.date, s.fees) - l.feePaid - l.feeWaived
			x = min(e.amount, max(owed, 0))
			l.feeWaived += x
		}
		s.waived(e, x)
	case entryRefund:
		s.refund(e)
	}
}

// refund pays e's amount out of credit. A refund is decided against the credit at its date, but
// an event recorded after it and dated before it (a due that a payment or credit paid instead of
// leaving credit) can leave less there: the refund then takes the rest back, on its date, from
// principal paid and then late fee paid, newest line first, since the money it paid out is no
// longer there to pay them. A payment reversed or voided after its money was refunded would leave
// a refund short in the same way, or take back more than was paid, which the decisions refuse
// (refundedAway); what a refund cannot find even so is left unaccounted (refundShort.unfound).
func (s *book) refund(e *entry) {
	x := min(e.amount, max(s.credit, 0))
	s.credit -= x
	short := e.amount - x
	if short <= 0 {
		return
	}
	s.tookBack = max(s.tookBack, e.date)
	found := refundShort{refund: e, short: short}
	for i := len(s.order) - 1; i >= 0 && short > 0; i-- {
		l := s.order[i]
		y := min(short, l.paid)
		if y <= 0 {
			continue
		}
		s.touch(l)
		l.paid -= y
		l.unrecover(y, e.date)
		s.reduce(l, reduction{e.date, -y})
		short -= y
	}
	for i := len(s.order) - 1; i >= 0 && short > 0; i-- {
		l := s.order[i]
		if y := min(short, l.feePaid); y > 0 {
			s.touch(l)
			l.feePaid -= y
			short -= y
		}
	}
	found.unfound = short
	s.shorts = append(s.shorts, found)
}

// waived notes that waiver e took x of its amount.
func (s *book) waived(e *entry, x Fen) {
	if x < e.amount {
		s.unwaived = append(s.unwaived, waiverShort{e, e.lines[0].key, e.amount - x})
	}
}

// waiverShort is a waiver of line that found short fen less to waive than its amount; waiver
// is nil for one a year's compaction carries (a lapse found on its line).
type waiverShort struct {
	waiver *entry
	line   LineKey
	short  Fen
}

// String names the waiver for a refusal.
func (w waiverShort) String() string {
	if w.waiver == nil {
		return fmt.Sprintf("a waiver of the %s %s line in a closed year", w.line.Insurance, w.line.Period)
	}
	return fmt.Sprintf("the waiver of %d fen dated %s (sequence %d)", w.waiver.amount, w.waiver.date, w.waiver.seq)
}

// refundShort is a refund that found too little credit at its date, how much too little, and
// how much of that it found neither in principal nor in late fee paid to take back.
type refundShort struct {
	refund  *entry
	short   Fen
	unfound Fen
}

// state is the line as of asOf.
func (l *bookLine) state(asOf Date, fees []LateFeeRate) LineState {
	accrued := l.feeAccrued(asOf, fees)
	return LineState{
		Period: l.key.Period, Insurance: l.key.Insurance, DueDate: l.dueOn,
		DueFen: l.principal(), PaidFen: l.paid, WaivedFen: l.waived, OutstandingFen: max(l.outstanding(), 0),
		LateFeeAccruedFen: accrued, LateFeePaidFen: l.feePaid, LateFeeWaivedFen: l.feeWaived,
		LateFeeFen:         max(accrued-l.feePaid-l.feeWaived, 0),
		RecoveredFen:       l.recovered,
		RecoveredInYearFen: l.recoveredIn(asOf.Year()),
		Dropped:            l.undeclared && l.audit == 0 && l.opening == 0,
	}
}

// recoveredIn is the principal recovered on the line in year y, the year of a date no entry
// applied is after.
func (l *bookLine) recoveredIn(y int) Fen {
	if y == l.recYear {
		return l.recInYear
	}
	return 0
}
