package demo

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
)

type datedStep struct {
	on domain.Date
	Step
}

// action is something that happens to an employer on a date; actions run in date order, then in
// the order they were planned, and may plan further actions.
type action struct {
	on domain.Date
	n  int
	fn func(domain.Date)
}

// lineDue is one line of the period's standing declaration or assessment.
type lineDue struct {
	ins domain.Insurance
	due domain.Fen
}

// sim plays one employer's year. It folds every command it emits into the employer's state
// exactly as the ledger would, so amounts that depend on the state (outstanding principal,
// accrued late fees) are read from it, and a command the ledger would refuse is never emitted.
type sim struct {
	*plan
	g *generator
	// year is the calendar year played; nothing is planned after end, its 31 December.
	year int
	end  domain.Date
	ctx  domain.Context
	e    domain.Employer
	seq  uint64
	// last is the statement last computed, as of lastOn at sequence lastSeq: a payer's day asks
	// for the same statement again and again, and its state changes only with seq.
	last    *domain.Statement
	lastOn  domain.Date
	lastSeq uint64
	agenda  []action
	next    int
	n       int
	now     domain.Date
	out     []datedStep

	receipts   int
	due        map[domain.Period][]lineDue
	declaredOn map[domain.Period]domain.Date
	periods    []domain.Period // periods with a declaration, in the order declared

	// owes: the employer may be in arrears (worth a look at the monthly enforcement check).
	owes    bool
	hadLate bool
	ladder  bool // an enforcement case is open
	done    bool // deregistered: nothing more happens

	first     domain.Period
	extra     [5]int64 // workers added by an audit, declared from extraFrom on
	extraFrom domain.Period
	fixedWage int // the wage declared after an audit corrected under-reporting
}

// newSim plays p's first campaign year, 2006.
func newSim(g *generator, p *plan) *sim {
	p.rewind()
	// The rules decide without the dated history the views keep; skip building it.
	return &sim{plan: p, g: g, year: FirstYear, end: Today, ctx: g.ctx, e: domain.Employer{SkipHistory: true},
		due: map[domain.Period][]lineDue{}, declaredOn: map[domain.Period]domain.Date{}}
}

// run plays the year in which the payer enters the ledger.
func (s *sim) run() {
	if s.found {
		s.at(s.surveyOn, s.enterFound)
	} else {
		s.at(s.regOn, s.enterRegistered)
	}
	s.at(s.surveyOn, s.survey)
	s.play()
}

// play runs the agenda to the year's end, or until the payer leaves.
func (s *sim) play() {
	for s.next < len(s.agenda) && !s.done {
		a := s.agenda[s.next]
		s.next++
		s.now = a.on
		a.fn(a.on)
	}
}

// at plans fn on d; nothing is planned after the year's end or before what is already happening.
func (s *sim) at(d domain.Date, fn func(domain.Date)) {
	if d == 0 || d > s.end {
		return
	}
	d = max(d, s.now)
	s.n++
	pending := s.agenda[s.next:]
	i := s.next + sort.Search(len(pending), func(j int) bool { return pending[j].on > d })
	s.agenda = slices.Insert(s.agenda, i, action{d, s.n, fn})
}

// do checks, decides and applies a command as the ledger would, and records it as a step. A
// command the ledger refuses is dropped, so the steps always replay.
func do[T any, P interface {
	*T
	domain.Command
}](s *sim, cmd P) []domain.Payload {
	cp := *cmd // Check fills unexported fields: keep the emitted command as built
	c := P(&cp)
	if err := c.Check(s.ctx); err != nil {
		return nil
	}
	pl, err := c.Decide(&s.e, s.ctx)
	if err != nil {
		return nil
	}
	for _, p := range pl {
		s.seq++
		s.e.Apply(domain.Event{Envelope: domain.Envelope{EmployerID: s.id, Seq: s.seq, N: s.e.N + 1}, Body: p})
	}
	_, create := any(cmd).(*domain.RegisterEmployer)
	s.out = append(s.out, datedStep{c.Date(), Step{EmployerID: s.id, Create: create, Command: cmd, Payer: s.idx, N: len(s.out)}})
	return pl
}

// statement is the payer's statement as of d. Callers only read it.
func (s *sim) statement(d domain.Date) domain.Statement {
	if s.last == nil || s.lastOn != d || s.lastSeq != s.seq {
		st := s.e.Account.Statement(d, s.ctx.Ref.LateFees)
		s.last, s.lastOn, s.lastSeq = &st, d, s.seq
	}
	return *s.last
}

// arrears is the principal overdue on d.
func (s *sim) arrears(d domain.Date) domain.Fen {
	var sum domain.Fen
	for _, l := range s.statement(d).Lines {
		current, prior := l.Arrears(d)
		sum += current + prior
	}
	return sum
}

func (s *sim) uniform(lo, hi float64) float64 { return lo + (hi-lo)*s.r.Float64() }

// after returns a working day from lo+a to lo+b days, or 0 (nothing happens) when that is
// past the year's end.
func (s *sim) after(lo domain.Date, a, b int) domain.Date {
	if lo.AddDays(a) > s.end {
		return 0
	}
	d := between(s.r, lo.AddDays(a), lo.AddDays(b))
	return workday(d, lo.AddDays(a), min(lo.AddDays(b+2), s.end))
}

func num(v int64) domain.Number { return domain.Number(strconv.FormatInt(v, 10)) }

func fen(v domain.Fen) domain.Number { return num(int64(v)) }

var (
	jan1 = domain.MustDate("2006-01-01")
	// dateTexts and periodTexts cover the years a campaign may run, and the periods before them
	// that opening balances name.
	dateTexts = func() []string {
		t := make([]string, int(yearEnd(MaxYear)-jan1)+1)
		for i := range t {
			t[i] = jan1.AddDays(i).String()
		}
		return t
	}()
	firstPeriod = domain.MustPeriod("2003-01")
	periodTexts = func() []string {
		t := make([]string, int(yearEnd(MaxYear).Period()-firstPeriod)+1)
		for i := range t {
			t[i] = (firstPeriod + domain.Period(i)).String()
		}
		return t
	}()
)

// ds formats a date, from a table for the campaign years (most of the output is dates).
func ds(d domain.Date) string {
	if i := int(d - jan1); i >= 0 && i < len(dateTexts) {
		return dateTexts[i]
	}
	return d.String()
}

func ps(p domain.Period) string {
	if i := int(p - firstPeriod); i >= 0 && i < len(periodTexts) {
		return periodTexts[i]
	}
	return p.String()
}

func period(y, m int) domain.Period { return day(1, 1).Period() + domain.Period((y-2006)*12+m-1) }

// day is a date of the year played.
func (s *sim) day(m, d int) domain.Date { return dateIn(s.year, m, d) }

// period is a month of the year played.
func (s *sim) period(m int) domain.Period { return period(s.year, m) }

// ---- entering the ledger ----

func (s *sim) register(d domain.Date, found bool) bool {
	// A county's new code (南康市 became 南康区 in 2013) is the one registrations use from its date.
	cmd := &domain.RegisterEmployer{Name: s.name, County: s.ctx.Ref.CountyCodeOn(s.county.code, d), OrgCode: s.orgCode, CreditCode: s.creditCode, Kind: string(s.kind),
		Ownership: s.ownership, RiskClass: num(int64(s.risk)), InIndustrialPark: s.park}
	if found {
		cmd.FoundOn = ds(d)
	} else {
		cmd.RegisteredOn, cmd.CertificateNo = ds(d), s.certNo
	}
	return do(s, cmd) != nil
}

func (s *sim) enterRegistered(d domain.Date) {
	if !s.register(d, false) {
		s.done = true
		return
	}
	if s.opening {
		s.openingBalance(d)
	}
	s.enroll(d, s.initial)
	s.afterRegistration(d)
	if s.backDeclare {
		s.at(s.after(max(d, s.day(5, 1)), 7, 120), func(x domain.Date) {
			s.backPeriods(x, s.period(1), s.period(3))
		})
	}
}

func (s *sim) enterFound(d domain.Date) {
	if !s.register(d, true) {
		s.done = true
		return
	}
	if s.regOn != 0 {
		s.at(s.regOn, s.completeRegistration)
	} else if s.r.Float64() < 0.6 {
		// The inspectorate records the unregistered employer during the audit months.
		s.at(workday(between(s.r, s.day(6, 5), s.day(8, 31)), s.day(6, 5), s.day(8, 31)), func(x domain.Date) {
			do(s, &domain.RecordAuditFinding{FoundOn: ds(x), Kind: domain.FindingUnregistered, Period: ps(x.Period()),
				Insurance: string(domain.Pension), RedeclareBy: ds(min(x.AddDays(30), s.end))})
		})
	}
}

func (s *sim) completeRegistration(d domain.Date) {
	if do(s, &domain.CompleteRegistration{RegisteredOn: ds(d), CertificateNo: s.certNo}) == nil {
		return
	}
	s.enroll(d, s.initial)
	s.afterRegistration(d)
	// Many late registrants back-pay the months since they were found (补缴), a year at most.
	if from := max(s.e.EnteredOn.Period(), s.first-12); s.first > from && s.r.Float64() < 0.45 {
		s.at(s.after(d, 3, 20), func(x domain.Date) { s.backPeriods(x, from, s.first.Prev()) })
	}
}

func (s *sim) survey(d domain.Date) {
	do(s, &domain.RecordSurvey{AsOf: ds(d), Workforce: num(s.workforce)})
}

func (s *sim) enroll(d domain.Date, heads [5]int64) {
	for k, ins := range domain.Insurances {
		if s.carry[k] {
			do(s, &domain.RecordEnrollment{Insurance: string(ins), Headcount: num(heads[k]), EffectiveOn: ds(d)})
		}
	}
}

// openingBalance enters arrears carried over from 2003–2005 (历年欠费): a run of unpaid months
// of pension, sometimes medical too.
func (s *sim) openingBalance(d domain.Date) {
	r := s.r
	months := 3 + r.IntN(22)
	end := period(2005, 12) - domain.Period(r.IntN(13))
	start := max(end-domain.Period(months)+1, period(2003, 1))
	months = int(end-start) + 1
	heads := max(s.final[0], s.final[2], 1)
	yuan := float64(heads) * float64(s.wage) * 0.28 * float64(months) * s.uniform(0.3, 1)
	total := domain.Fen(math.Round(min(max(yuan, 1000), 500000))) * 100
	share := 1.0
	medical := r.Float64() < 0.4
	if medical {
		share = 0.78 // pension 28% against medical 8% of the same base
	}
	pension := domain.Fen(math.Round(float64(total) * share))
	var lines []domain.OpeningInput
	add := func(ins domain.Insurance, sum domain.Fen) {
		each := sum / domain.Fen(months)
		for p := start; p <= end; p++ {
			x := each
			if p == end {
				x = sum - each*domain.Fen(months-1)
			}
			if x > 0 {
				lines = append(lines, domain.OpeningInput{Period: ps(p), Insurance: string(ins), OutstandingFen: fen(x)})
			}
		}
	}
	add(domain.Pension, pension)
	if medical {
		add(domain.Medical, total-pension)
	}
	if do(s, &domain.RecordOpeningBalance{AsOf: ds(d), Lines: lines}) != nil {
		s.owes = true
	}
}

// afterRegistration plans the employer's year from its registration on.
func (s *sim) afterRegistration(d domain.Date) {
	s.first = d.Period()
	s.planYear(d, s.first)
}

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

// ---- declarations and payments ----

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
		if !s.carry[k] {
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

// ---- audits, enforcement, waivers ----

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
		if s.carry[k] {
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
	pl := do(s, cmd)
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
	return do(s, cmd) != nil
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

// bankrupt writes off what the bankrupt employer owes, by the court's ruling, and deregisters it.
func (s *sim) bankrupt(d domain.Date) {
	doc := fmt.Sprintf("（%d）赣中民破字第%d号", s.year, 1+s.r.IntN(40))
	for _, l := range s.statement(d).Lines {
		if l.OutstandingFen > 0 {
			s.waive(d, domain.WaiverPrincipal, doc, "企业依法宣告破产，破产财产不足清偿，依法核销欠费", "bankruptcy", l, l.OutstandingFen)
		}
	}
	for _, l := range s.statement(d).Lines {
		if l.LateFeeFen > 0 {
			s.waive(d, domain.WaiverLateFee, doc, "企业破产终结，滞纳金依法核销", "", l, l.LateFeeFen)
		}
	}
	s.leave(d, "企业依法宣告破产，破产程序终结")
}

// exit settles what the payer owes, principal and late fees, and deregisters it: an office
// deregisters a payer once its arrears are paid.
func (s *sim) exit(d domain.Date) {
	var sum domain.Fen
	var allocs []domain.AllocationInput
	for _, l := range s.statement(d).Lines {
		if l.OutstandingFen > 0 {
			allocs = append(allocs, domain.AllocationInput{Insurance: string(l.Insurance), Period: ps(l.Period), AmountFen: fen(l.OutstandingFen)})
		}
		sum += l.OutstandingFen + l.LateFeeFen
	}
	s.pay(d, sum, allocs, false)
	s.leave(d, pick(s.r, leaveReasons[s.kind]))
}

// leave ends the employer's headcounts and deregisters it, if nothing is owed.
func (s *sim) leave(d domain.Date, reason string) {
	t := s.statement(d).Totals
	if t.ArrearsFen() > 0 || t.LateFeeFen > 0 {
		return
	}
	s.enroll(d, [5]int64{})
	if do(s, &domain.Deregister{On: ds(d), Reason: reason}) != nil {
		s.done = true
	}
}

// transfer moves the employer, most often from the city area into the development zone's park.
func (s *sim) transfer(d domain.Date) {
	to := "360702"
	switch s.county.code {
	case "360702", "360721", "360782", "360724":
		to = "360771"
		if s.county.code == "360702" && s.r.Float64() < 0.3 {
			to = "360721"
		}
	}
	if do(s, &domain.Transfer{On: ds(d), County: s.ctx.Ref.CountyCodeOn(to, d)}) == nil {
		return
	}
	if to == "360771" && !s.e.InIndustrialPark {
		yes := true
		do(s, &domain.ChangeEmployer{On: ds(d), InIndustrialPark: &yes})
	}
}

// change records a restructuring (改制) of a state or collective firm, or a new risk class.
func (s *sim) change(d domain.Date) {
	if s.e.Kind == domain.KindEnterprise && (s.e.Ownership == "国有" || s.e.Ownership == "集体") {
		name := s.e.Name
		for _, suf := range []string{"总公司", "有限公司", "公司", "厂"} {
			if strings.HasSuffix(name, suf) {
				name = strings.TrimSuffix(name, suf)
				break
			}
		}
		name += "股份有限公司"
		own := "股份制"
		do(s, &domain.ChangeEmployer{On: ds(d), Name: &name, Ownership: &own})
		return
	}
	risk := s.e.RiskClass + 1
	if risk > 3 {
		risk = 2
	}
	rc := num(int64(risk))
	do(s, &domain.ChangeEmployer{On: ds(d), RiskClass: &rc})
}
