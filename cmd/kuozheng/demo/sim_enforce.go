package demo

import (
	"fmt"
	"math"
	"slices"

	"github.com/kuozheng/kuozheng/domain"
)

// assess makes the 110% assessment of a missed period; later the employer often declares it
// after all (settlement), sometimes pays the assessment, sometimes nothing.
func (s *sim) assess(p domain.Period, d domain.Date) {
	if s.e.Declared[p] || !s.e.Declared[p.Prev()] {
		return
	}
	pl := do(s, &domain.MakeAssessment{AssessedOn: ds(d), Period: ps(p), Reason: domain.AssessNoDeclaration})
	if pl == nil {
		return
	}
	ev := pl[0].(domain.AssessmentMade)
	lines := make([]lineDue, len(ev.Lines))
	for i, l := range ev.Lines {
		lines[i] = lineDue{l.Insurance, l.DueFen}
	}
	s.due[p] = lines
	switch x := s.r.Float64(); {
	case x < 0.55:
		s.at(s.after(d, 5, 40), func(y domain.Date) {
			if s.file(p, y) && s.r.Float64() < 0.8 {
				s.at(s.after(y, 0, 15), func(z domain.Date) { s.payPeriod(p, z, 1, false) })
			}
		})
	case x < 0.8:
		s.at(s.after(d, 5, 40), func(y domain.Date) { s.payPeriod(p, y, 1, false) })
	}
}

// backPeriods declares earlier months at once (补缴) and usually pays them soon after.
func (s *sim) backPeriods(d domain.Date, from, to domain.Period) {
	var filed []domain.Period
	for p := from; p <= to; p++ {
		if !s.e.Declared[p] && s.file(p, d) {
			filed = append(filed, p)
		}
	}
	if len(filed) == 0 {
		return
	}
	s.owes = true
	if s.r.Float64() < 0.75 {
		fees := s.r.Float64() < 0.5
		s.at(s.after(d, 0, 20), func(x domain.Date) {
			s.payLines(x, 1, fees, func(l domain.LineState) bool { return slices.Contains(filed, l.Period) })
		})
	}
}

// auditFinding records under-reported wages or missed workers on a declared period; the
// employer usually pays the difference by the re-declaration deadline.
func (s *sim) auditFinding(d domain.Date) {
	r := s.r
	var cands []domain.Period
	if s.year > FirstYear {
		// An audit looks back two years: a finding on a period of a closed year is dated now.
		for _, l := range s.statement(d).Lines {
			if p := l.Period; p.Year() >= s.year-2 && p < s.period(1) && (len(cands) == 0 || cands[len(cands)-1] != p) {
				cands = append(cands, p)
			}
		}
	}
	for _, p := range s.periods {
		if s.declaredOn[p] < d && p < d.Period() {
			cands = append(cands, p)
		}
	}
	if len(cands) == 0 {
		return
	}
	p := pick(r, cands)
	var ks []int
	for k := range 5 {
		if s.carriesIn(k, p) {
			ks = append(ks, k)
		}
	}
	k := ks[0]
	if r.Float64() > 0.7 {
		k = pick(r, ks)
	}
	heads := s.headsFor(p, k)
	cmd := &domain.RecordAuditFinding{FoundOn: ds(d), Period: ps(p), Insurance: string(domain.Insurances[k]),
		RedeclareBy: ds(min(d.AddDays(30), s.end))}
	var extra int64
	switch {
	case s.underReport:
		s.fixedWage = 850 + r.IntN(200)
		cmd.Kind = domain.FindingUnderReportedBase
		cmd.ExtraWageBaseFen = num(heads * int64(s.fixedWage-s.wage) * 100)
	case r.Float64() < 0.65:
		cmd.Kind = domain.FindingUnderReportedBase
		cmd.ExtraWageBaseFen = num(int64(float64(heads)*float64(s.wage)*s.uniform(0.1, 0.35)) * 100)
	default:
		extra = max(1, int64(math.Round(float64(heads)*s.uniform(0.05, 0.2))))
		cmd.Kind = domain.FindingMissedWorkers
		cmd.ExtraHeadcount = num(extra)
		cmd.ExtraWageBaseFen = num(extra * int64(s.wage) * 100)
	}
	pl := s.recordFinding(d, cmd)
	if pl == nil {
		return
	}
	if extra > 0 {
		s.extra[k] += extra
		s.extraFrom = d.Period()
	}
	s.owes = true
	ev := pl[0].(domain.AuditFindingRecorded)
	alloc := []domain.AllocationInput{{Insurance: string(ev.Insurance), Period: ps(p), AmountFen: fen(ev.DueFen)}}
	switch x := r.Float64(); {
	case x < 0.65:
		s.at(between(r, d.AddDays(3), ev.RedeclareBy), func(y domain.Date) { s.pay(y, ev.DueFen, alloc, true) })
	case x < 0.8:
		s.at(s.after(ev.RedeclareBy, 5, 60), func(y domain.Date) { s.pay(y, ev.DueFen, alloc, true) })
	}
}

func (s *sim) docNo(kind string) string { return docNo(s.county, kind, s.year, 1+s.r.IntN(300)) }

func (s *sim) step(step string, d domain.Date, doc string, deadline domain.Date) bool {
	cmd := &domain.RecordEnforcement{Step: step, On: ds(d), DocNo: doc}
	if deadline != 0 {
		cmd.Deadline = ds(deadline)
	}
	if do(s, cmd) == nil {
		// The ladder refuses a case the arrears were cleared in since its notice (DOMAIN.md):
		// it is over, and a later month's look may open another.
		s.ladder = false
		return false
	}
	return true
}

// check is the monthly look at arrears: principal more than 60 days overdue may open an
// enforcement case, more often in counties that enforce.
func (s *sim) check(d domain.Date) {
	if !s.owes || s.ladder {
		return
	}
	// After 2006 the county's chance is drawn first: the statement, which replays the payer's
	// years, is then read only when a notice may follow.
	if s.year > FirstYear && s.r.Float64() >= 0.5*s.county.vigor {
		return
	}
	var over domain.Fen
	for _, l := range s.statement(d).Lines {
		if l.OutstandingFen > 0 && l.DueDate.AddDays(60) < d {
			over += l.OutstandingFen
		}
	}
	if over < 50000 || (s.year == FirstYear && s.r.Float64() >= 0.5*s.county.vigor) {
		return
	}
	deadline := min(d.AddDays(15+s.r.IntN(16)), s.end)
	if !s.step(domain.StepNotice, d, s.docNo("劳监令"), deadline) {
		return
	}
	s.ladder = true
	resp := (0.6 - 0.45*s.county.grade) / math.Sqrt(s.prop)
	switch x := s.r.Float64(); {
	case x < resp:
		fees := s.r.Float64() < 0.3
		s.at(s.after(d, 2, deadline.DaysSince(d)), func(y domain.Date) { s.payArrears(y, 1, fees) })
	case x < resp+0.15:
		s.at(s.after(d, 2, deadline.DaysSince(d)), func(y domain.Date) { s.payArrears(y, 0.5, false) })
	}
	s.at(s.after(deadline, 1, 10), s.inspect)
}

// payArrears pays a share of the current year's overdue principal; prior-year arrears are
// sometimes paid down a little with it, under a separate receipt.
func (s *sim) payArrears(d domain.Date, frac float64, fees bool) {
	s.payLines(d, frac, fees, func(l domain.LineState) bool { current, _ := l.Arrears(d); return current > 0 })
	if s.r.Float64() < 0.3 {
		s.payLines(d, s.uniform(0.1, 0.5), false, func(l domain.LineState) bool { return l.Period.Year() < d.Year() })
	}
}

// stillOwing closes the case when the arrears are cleared.
func (s *sim) stillOwing(d domain.Date) bool {
	if s.arrears(d) == 0 {
		s.ladder = false
		return false
	}
	return true
}

func (s *sim) inspect(d domain.Date) {
	if !s.stillOwing(d) || !s.step(domain.StepInspection, d, s.docNo("劳社稽字"), 0) {
		return
	}
	s.at(s.after(d, 15, 40), s.escalate)
}

func (s *sim) escalate(d domain.Date) {
	if !s.stillOwing(d) {
		return
	}
	switch x := s.r.Float64(); {
	case x < 0.35:
		if s.step(domain.StepMediaExposure, d, s.docNo("劳社曝字"), 0) {
			s.at(s.after(d, 10, 30), s.force)
		}
	case x < 0.7:
		s.force(d)
	case x < 0.7+0.15*(1-s.county.grade):
		s.at(s.after(d, 10, 50), func(y domain.Date) { s.payArrears(y, 1, false) })
	}
}

func (s *sim) force(d domain.Date) {
	if !s.stillOwing(d) || !s.step(domain.StepForcedCollection, d, s.docNo("劳监征字"), 0) {
		return
	}
	if s.r.Float64() < 0.75*s.county.vigor {
		f := s.uniform(0.5, 1)
		s.at(s.after(d, 1, 15), func(y domain.Date) { s.payArrears(y, f, false) })
	}
	s.at(s.after(d, 20, 45), s.court)
}

func (s *sim) court(d domain.Date) {
	if !s.stillOwing(d) || s.r.Float64() >= 0.6 || !s.step(domain.StepCourtApplication, d, s.docNo("劳社执申字"), 0) {
		return
	}
	s.at(s.after(d, 30, 75), func(y domain.Date) {
		doc := fmt.Sprintf("（%d）%s执字第%d号", s.year, s.county.abbr, 1+s.r.IntN(200))
		if s.step(domain.StepCourtResult, y, doc, 0) && s.r.Float64() < 0.5 {
			s.at(s.after(y, 1, 10), func(z domain.Date) { s.payArrears(z, 1, s.r.Float64() < 0.5) })
		}
	})
}

func (s *sim) authority() string {
	if s.r.IntN(3) == 0 {
		return fmt.Sprintf("赣市劳社字〔%d〕%d号", s.year, 10+s.r.IntN(190))
	}
	return s.docNo("劳社字")
}

func (s *sim) waive(d domain.Date, kind, doc, reason, basis string, l domain.LineState, amount domain.Fen) {
	do(s, &domain.GrantWaiver{DecidedOn: ds(d), Kind: kind, AuthorityDoc: doc, Reason: reason, Basis: basis,
		Insurance: string(l.Insurance), Period: ps(l.Period), AmountFen: fen(amount)})
}

// feeReview: now and then a late payer obtains a decision waiving part of a late fee.
func (s *sim) feeReview(d domain.Date) {
	chance := 0.12
	if s.year > FirstYear {
		chance = 0.05 // the campaign's leniency is over
	}
	if !(s.hadLate || s.owes) || s.r.Float64() >= chance {
		return
	}
	var best domain.LineState
	for _, l := range s.statement(d).Lines {
		if l.OutstandingFen == 0 && l.LateFeeFen > best.LateFeeFen {
			best = l
		}
	}
	if best.LateFeeFen < 100 {
		return
	}
	amount := max(1, domain.Fen(math.Round(float64(best.LateFeeFen)*s.uniform(0.3, 1))))
	s.waive(d, domain.WaiverLateFee, s.authority(), pick(s.r, lateFeeReasons), "", best, amount)
}
