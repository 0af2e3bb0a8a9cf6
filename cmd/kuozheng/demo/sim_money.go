package demo

import (
	"fmt"
	"math"
	"slices"

	"github.com/kuozheng/kuozheng/domain"
)

// planYear plans the employer's year from d: the declarations of the periods from `from` on
// (December's falls due next year), payments, contracts, audits, enforcement and what ends
// the year early.
func (s *sim) planYear(d domain.Date, from domain.Period) {
	r := s.r
	last := s.period(11)
	end := s.day(12, 29)
	if s.deregOn != 0 {
		last, end = s.deregOn.Period().Prev(), s.deregOn-1
	}
	if s.bankruptOn != 0 {
		last, end = s.bankruptOn.Period().Prev(), s.bankruptOn-1
	}
	for p := from; p <= last; p++ {
		next := p.Next().FirstDay()
		off := r.IntN(15)
		if s.clean {
			off = r.IntN(10)
		} else if r.Float64() < 0.03 {
			off = 15 + r.IntN(12) // declared after the deadline
		}
		s.at(workday(next.AddDays(off), next, next.AddDays(27)), func(x domain.Date) { s.declare(p, x) })
	}
	if s.growOn != 0 {
		s.at(s.growOn, func(x domain.Date) { s.enroll(x, s.final) })
	}
	if s.wiFrom > d {
		s.at(s.wiFrom, s.joinWorkInjury)
	}
	if s.contracts > 0 {
		k := min(int64(1+r.IntN(3)), s.contracts)
		left := s.contracts
		for i := range k {
			c := left
			if i < k-1 {
				c = max(1, int64(float64(left)*s.uniform(0.2, 0.6)))
				c = min(c, left-(k-1-i))
			}
			left -= c
			on := workday(between(r, max(d, s.day(4, 10)), end), d, end)
			s.at(on, func(x domain.Date) { do(s, &domain.RecordContracts{SignedOn: ds(x), Count: num(c)}) })
		}
	}
	// The 2006 campaign audited and enforced from June; later years all year round.
	auditFrom, checkFrom := s.day(6, 1), 6
	if s.year > FirstYear {
		auditFrom, checkFrom = s.day(3, 1), 1
	}
	if s.audit && !s.clean {
		s.at(workday(between(r, auditFrom, s.day(11, 30)), auditFrom, s.day(11, 30)), s.auditFinding)
	}
	if s.unit() && !s.clean {
		for m := checkFrom; m <= 12; m++ {
			s.at(workday(s.day(m, 20), s.day(m, 18), s.day(m, 22)), s.check)
		}
	}
	if s.repay {
		n := 1 + r.IntN(3)
		dates := make([]domain.Date, n)
		for i := range dates {
			dates[i] = workday(between(r, s.day(5, 15), s.day(12, 20)), s.day(5, 15), s.day(12, 22))
		}
		slices.Sort(dates)
		for i, x := range dates {
			s.at(x, func(y domain.Date) { s.repayPrior(y, i == n-1) })
		}
	}
	if !s.clean {
		s.at(workday(between(r, s.day(9, 15), s.day(12, 22)), s.day(9, 15), s.day(12, 22)), s.feeReview)
	}
	s.planInspection(d)
	if s.transferOn != 0 {
		s.at(s.transferOn, s.transfer)
	}
	if s.changeOn != 0 {
		s.at(s.changeOn, s.change)
	}
	if s.bankruptOn != 0 {
		s.at(s.bankruptOn, s.bankrupt)
	}
	switch {
	case s.deregOn != 0 && s.year == FirstYear:
		s.at(s.deregOn, func(x domain.Date) { s.leave(x, pick(r, leaveReasons[s.kind])) })
	case s.deregOn != 0:
		s.at(s.deregOn, s.exit)
	}
}

func (s *sim) headsFor(p domain.Period, k int) int64 {
	h := s.initial[k]
	if s.growOn != 0 && s.growOn <= p.LastDay() {
		h = s.final[k]
	}
	if s.extraFrom != 0 && p >= s.extraFrom {
		h += s.extra[k]
	}
	return h
}

func (s *sim) wageFor(p domain.Period) float64 {
	w := float64(s.wage)
	if s.fixedWage > 0 {
		w = float64(s.fixedWage)
	}
	if s.raise > 0 && p >= s.period(7) {
		w *= 1 + s.raise
	}
	if s.unit() {
		w *= 1 + 0.012*s.r.NormFloat64() // overtime and bonuses move the monthly base a little
	}
	return w
}

func (s *sim) lines(p domain.Period) []domain.DeclareLine {
	w := s.wageFor(p)
	var out []domain.DeclareLine
	for k, ins := range domain.Insurances {
		if !s.carriesIn(k, p) {
			continue
		}
		h := s.headsFor(p, k)
		base := max(int64(math.Round(float64(h)*w)), 1) * 100
		out = append(out, domain.DeclareLine{Insurance: string(ins), Headcount: num(h), WageBaseFen: num(base)})
	}
	return out
}

func (s *sim) file(p domain.Period, d domain.Date) bool {
	pl := do(s, &domain.FileDeclaration{DeclaredOn: ds(d), Period: ps(p), Lines: s.lines(p)})
	if pl == nil {
		return false
	}
	ev := pl[0].(domain.DeclarationFiled)
	lines := make([]lineDue, len(ev.Lines))
	for i, l := range ev.Lines {
		lines[i] = lineDue{l.Insurance, l.DueFen}
	}
	s.due[p] = lines
	if _, ok := s.declaredOn[p]; !ok {
		s.periods = append(s.periods, p)
	}
	s.declaredOn[p] = d
	return true
}

func (s *sim) declare(p domain.Period, d domain.Date) {
	if s.e.Declared[p] {
		return
	}
	due := s.ctx.Ref.DueDate(p)
	// A missed declaration is assessed at 110% of the previous month after the deadline.
	if !s.clean && p > s.first && s.e.Declared[p.Prev()] && s.r.Float64() < 0.006*s.prop*(0.6+s.county.grade) {
		s.owes = true
		s.at(s.after(due, 3, 14), func(x domain.Date) { s.assess(p, x) })
		return
	}
	if s.file(p, d) {
		s.planPayment(p, d, due)
	}
}

// planPayment decides how the period's due is paid: on time, late, in part, or not at all, with
// chances set by the county's discipline and the employer's own habits.
func (s *sim) planPayment(p domain.Period, d, due domain.Date) {
	r, c := s.r, s.county
	late := (0.03 + 0.10*c.grade) * s.prop
	partial := (0.01 + 0.07*c.grade) * s.prop
	miss := (0.003 + 0.05*c.grade) * s.prop
	onTime := func() domain.Date { return workday(between(r, d, max(due, d)), d, max(due, d)) }
	x := r.Float64()
	switch {
	case s.clean:
		s.at(onTime(), func(y domain.Date) { s.payPeriod(p, y, 1, false) })
	case (s.bankruptOn != 0 && p >= s.bankruptOn.Period()-4) || x < miss:
		s.owes = true
		if s.bankruptOn == 0 && r.Float64() < (0.45-0.4*c.grade)/math.Sqrt(s.prop) {
			s.at(s.after(due, 25, 150), func(y domain.Date) { s.catchUp(p, y) })
		}
	case x < miss+partial:
		s.owes = true
		f := s.uniform(0.2, 0.85)
		s.at(onTime(), func(y domain.Date) { s.payPeriod(p, y, f, false) })
		if r.Float64() < (0.6-0.5*c.grade)/math.Sqrt(s.prop) {
			s.at(s.after(due, 20, 120), func(y domain.Date) { s.catchUp(p, y) })
		}
	case x < miss+partial+late || d > due:
		s.hadLate = true
		days := 1 + min(int(r.ExpFloat64()*18), 119)
		fees := r.Float64() < 0.3
		s.at(workday(max(due.AddDays(days), d), d, s.end), func(y domain.Date) { s.payPeriod(p, y, 1, fees) })
	default:
		s.at(onTime(), func(y domain.Date) { s.payPeriod(p, y, 1, false) })
	}
}

// payPeriod pays a share of the period's standing due, allocated to its lines (so that it does
// not go to older arrears first), and with fees the late fee accrued on them.
func (s *sim) payPeriod(p domain.Period, d domain.Date, frac float64, fees bool) {
	lines := s.due[p]
	var total domain.Fen
	for _, l := range lines {
		total += l.due
	}
	amount := total
	if frac < 1 {
		amount = max(1, domain.Fen(math.Round(float64(total)*frac)))
	}
	var allocs []domain.AllocationInput
	left := amount
	for _, l := range lines {
		x := min(left, l.due)
		if x > 0 {
			allocs = append(allocs, domain.AllocationInput{Insurance: string(l.ins), Period: ps(p), AmountFen: fen(x)})
			left -= x
		}
	}
	if fees {
		for _, l := range s.statement(d).Lines {
			if l.Period == p {
				amount += l.LateFeeFen
			}
		}
	}
	s.pay(d, amount, allocs, true)
}

// catchUp pays what is still outstanding on the period.
func (s *sim) catchUp(p domain.Period, d domain.Date) {
	s.payLines(d, 1, false, func(l domain.LineState) bool { return l.Period == p })
}

// payLines pays a share of the outstanding principal of the lines that match, oldest first, and
// with fees (only when nothing else is outstanding, so the extra cannot land elsewhere) their
// late fees.
func (s *sim) payLines(d domain.Date, frac float64, fees bool, match func(domain.LineState) bool) domain.Fen {
	st := s.statement(d)
	var sum, fee domain.Fen
	other := false
	for _, l := range st.Lines {
		if l.OutstandingFen > 0 && match(l) {
			sum += l.OutstandingFen
			fee += l.LateFeeFen
		} else if l.OutstandingFen > 0 {
			other = true
		}
	}
	if sum == 0 {
		return 0
	}
	amount := sum
	if frac < 1 {
		amount = max(1, domain.Fen(math.Round(float64(sum)*frac)))
	}
	var allocs []domain.AllocationInput
	left := amount
	for _, l := range st.Lines {
		if l.OutstandingFen > 0 && match(l) && left > 0 {
			x := min(left, l.OutstandingFen)
			allocs = append(allocs, domain.AllocationInput{Insurance: string(l.Insurance), Period: ps(l.Period), AmountFen: fen(x)})
			left -= x
		}
	}
	if fees && frac >= 1 && !other {
		amount += fee
	}
	s.hadLate = true
	s.pay(d, amount, allocs, true)
	return amount
}

// pay records a payment under a new receipt number; now and then the bank bounces it, the
// payment is reversed and paid again a few days later.
func (s *sim) pay(d domain.Date, amount domain.Fen, allocs []domain.AllocationInput, mayBounce bool) {
	if amount <= 0 {
		return
	}
	s.receipts++
	y, m, dd := d.YMD()
	no := fmt.Sprintf("SK%04d%02d%02d-%03d", y, int(m), dd, s.receipts)
	if do(s, &domain.RecordPayment{PaidOn: ds(d), AmountFen: fen(amount), ReceiptNo: no, Allocations: allocs}) == nil {
		return
	}
	if mayBounce && !s.clean && s.r.Float64() < 0.004 {
		s.at(s.after(d, 1, 6), func(x domain.Date) {
			if do(s, &domain.ReversePayment{ReversedOn: ds(x), ReceiptNo: no, Reason: pick(s.r, bounceReasons)}) == nil {
				return
			}
			s.owes, s.hadLate = true, true
			s.at(s.after(x, 1, 10), func(z domain.Date) { s.pay(z, amount, allocs, false) })
		})
	}
}

// repayPrior pays part of the prior-year arrears (清欠); after the last instalment the late
// fees on the cleared years are often waived by decision.
func (s *sim) repayPrior(d domain.Date, last bool) {
	f := s.uniform(0.2, 0.6)
	if last && s.r.Float64() < 0.4 {
		f = 1
	}
	prior := func(l domain.LineState) bool { return l.Period.Year() < s.year }
	// The 2006 campaign waived generously to bring old arrears in; later years less so.
	share, lines := 0.6, 12
	if s.year > FirstYear {
		share, lines = 0.3, 4
	}
	if s.payLines(d, f, false, prior) == 0 || !last || s.r.Float64() >= share {
		return
	}
	s.at(s.after(d, 3, 25), func(x domain.Date) {
		doc, n := s.authority(), 0
		for _, l := range s.statement(x).Lines {
			if prior(l) && l.OutstandingFen == 0 && l.LateFeeFen > 0 && n < lines {
				s.waive(x, domain.WaiverLateFee, doc, "补缴历年欠费本金，按规定减免滞纳金", "", l, l.LateFeeFen)
				n++
			}
		}
	})
}
