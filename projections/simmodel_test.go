package projections_test

import (
	"slices"

	"github.com/kuozheng/kuozheng/domain"
)

// The simulation's model of the ledger's arithmetic, written from DOMAIN.md apart from the
// domain package and deliberately simple: it keeps each employer's money events as given,
// replays them from scratch for every statement, and sums late fees day by day. It uses
// domain's Date and Period as a calendar only; every amount is its own int64 fen.

// modelIns are the insurances in allocation order (DOMAIN.md: pension, unemployment, medical,
// work_injury, maternity).
var modelIns = []string{"pension", "unemployment", "medical", "work_injury", "maternity"}

func insRank(name string) int { return slices.Index(modelIns, name) }

// modelRateBP is the combined rate (employer + employee, basis points) of DOMAIN.md's 2006
// table; individual payers carry pension at 20% and medical at 8% only.
func modelRateBP(ins string, individual bool, risk int) (int64, bool) {
	if individual {
		switch ins {
		case "pension":
			return 2000, true
		case "medical":
			return 800, true
		}
		return 0, false
	}
	switch ins {
	case "pension":
		return 2000 + 800, true
	case "unemployment":
		return 200 + 100, true
	case "medical":
		return 600 + 200, true
	case "work_injury":
		return []int64{50, 100, 200}[risk-1], true
	case "maternity":
		return 70, true
	}
	return 0, false
}

// halfUp is x × num / den rounded half up, for x, num ≥ 0 small enough not to overflow.
func halfUp(x, num, den int64) int64 { return (x*num + den/2) / den }

// modelDueDate: contributions for a period are due on the 15th of the following month.
func modelDueDate(p domain.Period) domain.Date { return p.Next().FirstDay().AddDays(14) }

var lawOf2011 = domain.MustDate("2011-07-01")

// modelDailyBP is the late-fee rate of day d: 2‰ a day, 0.5‰ from 2011-07-01.
func modelDailyBP(d domain.Date) int64 {
	if d < lawOf2011 {
		return 20
	}
	return 5
}

type mKind int

const (
	mSet     mKind = iota + 1 // a declaration or assessment: the period's dues, replacing earlier ones
	mAudit                    // an audit addition to one line
	mOpening                  // an opening balance of lines
	mPay
	mReverse
	mWaivePrincipal
	mWaiveFee
	mRefund // credit paid back; short of credit, it takes back principal, then fee, paid
)

type mKey struct {
	period domain.Period
	ins    int
}

func (k mKey) String() string { return k.period.String() + " " + modelIns[k.ins] }

func (k mKey) less(o mKey) bool {
	return k.period < o.period || (k.period == o.period && k.ins < o.ins)
}

type mAmount struct {
	key    mKey
	amount int64
}

// mEvent is one money event of an employer as the simulation recorded it.
type mEvent struct {
	kind    mKind
	date    domain.Date
	seq     uint64
	id      string        // the event's id, for a void
	period  domain.Period // of mSet
	by      string        // of mSet: "declaration", or the assessment's reason
	amounts []mAmount     // dues set, audited, opened or waived; a payment's allocations
	amount  int64         // of a payment or waiver
	receipt string
	undoes  *mEvent // of a reversal: the payment it undoes
}

// mLine is one line during a replay.
type mLine struct {
	key                  mKey
	due                  domain.Date
	base, audit, opening int64
	paid, waived         int64
	feePaid, feeWaived   int64
	// What a lowered due took back and a raised one gives again: waivers lapsed, fee paid back.
	waiverLapsed, feeWaiverLapsed, feeRefunded int64
	feeBase                                    int64 // the principal the fee was last fitted to
	// moves lower (payments, waivers) or raise (principal paid moved back to credit) what is
	// outstanding, from their date on; they are appended in date order.
	moves []mAmountOn
}

type mAmountOn struct {
	date   domain.Date
	amount int64
}

func (l *mLine) principal() int64   { return l.base + l.audit + l.opening }
func (l *mLine) outstanding() int64 { return l.principal() - l.paid - l.waived }

// fee is the late fee accrued through day t: the sum over the days after the due date of what
// was outstanding that day (moves dated that day counted) at that day's rate, rounded half up
// once. Day by day, on purpose: the ledger sums intervals.
func (l *mLine) fee(t domain.Date) int64 {
	var num int64
	out, i := l.principal(), 0
	for d := l.due + 1; d <= t; d++ {
		for i < len(l.moves) && l.moves[i].date <= d {
			out -= l.moves[i].amount
			i++
		}
		if out > 0 {
			num += out * modelDailyBP(d)
		}
	}
	return halfUp(num, 1, 10000)
}

// mLineState is a line's balances as the model sees them.
type mLineState struct {
	Key                                     mKey
	Due, Paid, Waived, Outstanding          int64
	FeeAccrued, FeePaid, FeeWaived, FeeOwed int64
}

// mStatement is an employer's balances as of a date.
type mStatement struct {
	Lines  []mLineState
	Credit int64
	// Shorts are the refunds that found too little credit at their dates, and how much; Unfound
	// how much of that they found no principal or late fee paid to take back from.
	Shorts, Unfound map[*mEvent]int64
	// Unwaived are the waivers that found less to waive than their amounts, and how much less;
	// Lapsed, of each line, the principal and late fee waived that lapsed after.
	Unwaived map[*mEvent]int64
	Lapsed   map[mKey][2]int64
	// After is the credit after each event, in the order they were applied.
	After []mCreditAt
}

// mCreditAt is the credit after an event dated on.
type mCreditAt struct {
	on     domain.Date
	credit int64
}

// leastCreditFrom is the least credit held from d on: after the events dated on or before d,
// and after each later one, in the order applied (a refund's decision: CreditFrom).
func (st mStatement) leastCreditFrom(d domain.Date) int64 {
	var least int64
	i := 0
	for i < len(st.After) && st.After[i].on <= d {
		i++
	}
	if i > 0 {
		least = st.After[i-1].credit
	}
	for _, a := range st.After[i:] {
		least = min(least, a.credit)
	}
	return max(least, 0)
}

// statement replays the events dated on or before asOf, in date order then as recorded,
// leaving out payments a reversal dated on or before asOf undid (a bounced payment never
// paid anything).
func modelStatement(events []*mEvent, asOf domain.Date) mStatement {
	return modelReplay(events, asOf, asOf)
}

// modelReplay is modelStatement with the reversals dated on or before undoThrough undoing their
// payments (a refund's decision looks at the account as of its last event: every reversal then
// undoes its payment from the start).
func modelReplay(events []*mEvent, asOf, undoThrough domain.Date) mStatement {
	undone := map[*mEvent]bool{}
	var evs []*mEvent
	for _, e := range events {
		if e.kind == mReverse && e.date <= undoThrough {
			undone[e.undoes] = true
			continue
		}
		if e.date > asOf || e.kind == mReverse {
			continue
		}
		evs = append(evs, e)
	}
	slices.SortStableFunc(evs, func(a, b *mEvent) int {
		if a.date != b.date {
			return int(a.date - b.date)
		}
		return int(int64(a.seq) - int64(b.seq))
	})
	lines := map[mKey]*mLine{}
	var order []*mLine // oldest period first, insurances in allocation order
	var credit int64
	shorts, unfound, unwaived := map[*mEvent]int64{}, map[*mEvent]int64{}, map[*mEvent]int64{}
	get := func(k mKey, due domain.Date) *mLine {
		if l := lines[k]; l != nil {
			return l
		}
		l := &mLine{key: k, due: due}
		lines[k] = l
		i := 0
		for i < len(order) && order[i].key.less(k) {
			i++
		}
		order = slices.Insert(order, i, l)
		return l
	}
	// pay pays x of l's principal on d; it then accrues less of d's late fee, and what was
	// waived or paid of the fee beyond that lapses, the waiver first, then goes back to credit.
	// feeWithin: principal paid or waived on d accrues less of d's fee; what was paid or waived
	// of it beyond lapses, the waiver first, then goes back to credit.
	feeWithin := func(l *mLine, d domain.Date) {
		if over := l.feePaid + l.feeWaived - l.fee(d); d > l.due && over > 0 {
			lapse := min(over, l.feeWaived)
			l.feeWaived -= lapse
			l.feeWaiverLapsed += lapse
			l.feePaid -= over - lapse
			l.feeRefunded += over - lapse
			credit += over - lapse
		}
	}
	pay := func(l *mLine, x int64, d domain.Date) {
		if x > 0 {
			l.paid += x
			l.moves = append(l.moves, mAmountOn{d, x})
			feeWithin(l, d)
		}
	}
	// payFromCredit pays principal from credit, oldest line first, again while a pass paid
	// something: what a payment gives back of d's fee pays the lines in turn.
	payFromCredit := func(d domain.Date) {
		for paid := true; paid && credit > 0; {
			paid = false
			for _, l := range order {
				if x := min(credit, max(l.outstanding(), 0)); x > 0 {
					pay(l, x, d)
					credit -= x
					paid = true
				}
			}
		}
	}
	// newDues: a due lowered below what covers it gives money back first (principal paid above
	// it and late fee paid above what it now accrues go to credit), then lets waivers lapse; a
	// due raised again restores the lapsed waivers and, after credit has paid principal, pays
	// the fee given back from what credit is left. Credit pays new dues as they arise,
	// principal only; the fee is fitted again until nothing more is given back.
	newDues := func(d domain.Date) {
		var changed []*mLine
		for _, l := range order {
			switch out := l.outstanding(); {
			case out < 0:
				back := min(-out, l.paid)
				l.paid -= back
				credit += back
				l.waived -= -out - back
				l.waiverLapsed += -out - back
				l.moves = append(l.moves, mAmountOn{d, out})
			case out > 0 && l.waiverLapsed > 0:
				x := min(out, l.waiverLapsed)
				l.waived += x
				l.waiverLapsed -= x
				l.moves = append(l.moves, mAmountOn{d, x})
			}
			if l.principal() != l.feeBase {
				l.feeBase = l.principal()
				if l.feePaid+l.feeWaived+l.feeWaiverLapsed+l.feeRefunded > 0 {
					changed = append(changed, l)
				}
			}
		}
		for {
			payFromCredit(d)
			gaveBack := false
			for _, l := range changed {
				owed := l.fee(d) - l.feePaid - l.feeWaived
				if owed < 0 {
					back := min(-owed, l.feePaid)
					l.feePaid -= back
					l.feeRefunded += back
					credit += back
					l.feeWaived -= -owed - back
					l.feeWaiverLapsed += -owed - back
					gaveBack = gaveBack || back > 0
				} else if owed > 0 {
					x := min(owed, l.feeWaiverLapsed)
					l.feeWaived += x
					l.feeWaiverLapsed -= x
					y := min(owed-x, l.feeRefunded, credit)
					l.feePaid += y
					l.feeRefunded -= y
					credit -= y
				}
			}
			if !gaveBack {
				return
			}
		}
	}
	var after []mCreditAt
	for _, e := range evs {
		if undone[e] {
			continue
		}
		switch e.kind {
		case mSet:
			for _, l := range order {
				if l.key.period == e.period {
					l.base = 0
				}
			}
			for _, a := range e.amounts {
				get(a.key, modelDueDate(a.key.period)).base = a.amount
			}
			newDues(e.date)
		case mAudit:
			for _, a := range e.amounts {
				get(a.key, modelDueDate(a.key.period)).audit += a.amount
			}
			newDues(e.date)
		case mOpening:
			for _, a := range e.amounts {
				get(a.key, modelDueDate(a.key.period)).opening = a.amount // a second opening balance of a line replaces the first
			}
			newDues(e.date)
		case mPay:
			rem := e.amount
			for _, a := range e.amounts {
				if l := lines[a.key]; l != nil {
					x := min(a.amount, rem, max(l.outstanding(), 0))
					pay(l, x, e.date)
					rem -= x
				}
			}
			for _, l := range order {
				x := min(rem, max(l.outstanding(), 0))
				pay(l, x, e.date)
				rem -= x
			}
			for _, l := range order {
				if rem == 0 {
					break
				}
				x := min(rem, max(l.fee(e.date)-l.feePaid-l.feeWaived, 0))
				l.feePaid += x
				rem -= x
			}
			credit += rem
		case mWaivePrincipal:
			var x int64
			if l := lines[e.amounts[0].key]; l != nil {
				x = min(e.amount, max(l.outstanding(), 0))
				l.waived += x
				l.moves = append(l.moves, mAmountOn{e.date, x})
				if x > 0 {
					feeWithin(l, e.date)
				}
			}
			if x < e.amount {
				unwaived[e] = e.amount - x
			}
		case mWaiveFee:
			var x int64
			if l := lines[e.amounts[0].key]; l != nil {
				x = min(e.amount, max(l.fee(e.date)-l.feePaid-l.feeWaived, 0))
				l.feeWaived += x
			}
			if x < e.amount {
				unwaived[e] = e.amount - x
			}
		case mRefund:
			x := min(e.amount, max(credit, 0))
			credit -= x
			short := e.amount - x
			if short > 0 {
				shorts[e] = short
			}
			for i := len(order) - 1; i >= 0 && short > 0; i-- {
				if y := min(short, order[i].paid); y > 0 {
					order[i].paid -= y
					order[i].moves = append(order[i].moves, mAmountOn{e.date, -y})
					short -= y
				}
			}
			for i := len(order) - 1; i >= 0 && short > 0; i-- {
				y := min(short, order[i].feePaid)
				order[i].feePaid -= y
				short -= y
			}
			if short > 0 {
				unfound[e] = short
			}
		}
		after = append(after, mCreditAt{e.date, credit})
	}
	st := mStatement{Credit: credit, Shorts: shorts, Unfound: unfound, Unwaived: unwaived, Lapsed: map[mKey][2]int64{}, After: after}
	for _, l := range order {
		st.Lapsed[l.key] = [2]int64{l.waiverLapsed, l.feeWaiverLapsed}
		acc := l.fee(asOf)
		st.Lines = append(st.Lines, mLineState{Key: l.key, Due: l.principal(), Paid: l.paid, Waived: l.waived,
			Outstanding: max(l.outstanding(), 0), FeeAccrued: acc, FeePaid: l.feePaid, FeeWaived: l.feeWaived,
			FeeOwed: max(acc-l.feePaid-l.feeWaived, 0)})
	}
	return st
}
