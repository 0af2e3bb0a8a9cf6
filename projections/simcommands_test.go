// Over 500 lines for a reason: the simulation's commands: one generator for every kind of write.

package projections_test

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

func fen(v int64) domain.Number { return domain.Number(fmt.Sprint(v)) }

// command runs one random command, valid or not.
func (s *simulation) command() {
	if len(s.payers) < *simPayers && (len(s.payers) < 5 || s.chance(25)) {
		s.register()
		return
	}
	p := s.payer(false)
	switch r := s.intn(100); {
	case r < 18:
		s.declare(p)
	case r < 36:
		s.pay(p)
	case r < 42:
		s.reverse(p)
	case r < 48:
		s.assess(p)
	case r < 54:
		s.audit(p)
	case r < 62:
		s.waive(p)
	case r < 65:
		s.opening(p)
	case r < 70:
		s.enforce(p)
	case r < 78:
		s.other(p)
	case r < 80:
		s.deregister(p)
	case r < 84:
		s.invalid(p)
	case r < 87:
		s.void(p)
	case r < 90:
		s.refund(p)
	default:
		s.declare(p)
	}
}

func (s *simulation) register() {
	n := len(s.payers)
	p := &simPayer{risk: 1 + s.intn(3), county: domain.DefaultCounties[s.intn(len(domain.DefaultCounties))].Code, entered: s.today,
		declared: map[domain.Period]bool{}, standing: map[string]*mEvent{}, registered: true}
	cmd := &domain.RegisterEmployer{Name: fmt.Sprintf("单位%d", n), County: p.county, RiskClass: domain.Number(fmt.Sprint(p.risk)), Kind: "enterprise"}
	if s.chance(10) {
		p.individual = true
		cmd.Kind = []string{"flexible", "individual_business"}[s.intn(2)]
	} else {
		body := fmt.Sprintf("%08d", 70000+n)
		c, err := domain.OrgCodeCheck(body)
		if err != nil {
			s.fatalf("org code: %v", err)
		}
		p.org = body + "-" + string(c)
		p.id = domain.EmployerIDForOrgCode(p.org)
		cmd.OrgCode = p.org
	}
	if s.chance(15) {
		p.registered = false
		cmd.FoundOn = s.today.String()
	} else {
		cmd.RegisteredOn = s.today.String()
	}
	s.exec(p, eventstore.Request{EmployerID: p.id, Create: true, Command: cmd}, expect{what: "register"}, func(res eventstore.Result) {
		p.id = res.EmployerID
		s.payers = append(s.payers, p)
		s.byID[p.id] = p
	})
	if p.org != "" && s.chance(10) {
		again := *cmd
		again.Name = "重复"
		s.exec(p, eventstore.Request{EmployerID: p.id, Create: true, Command: &again}, expect{kind: domain.KindConflict, what: "register_twice"}, nil)
	}
}

func (s *simulation) declare(p *simPayer) {
	d, ok := s.date(p)
	if !ok {
		return
	}
	period := s.period(d)
	what := "declaration"
	if s.chance(40) {
		var done []domain.Period // an amendment of a period already declared
		for q := range p.declared {
			if q.FirstDay() <= d {
				done = append(done, q)
			}
		}
		if len(done) > 0 {
			slices.Sort(done)
			period, what = done[s.intn(len(done))], "amendment"
		}
	}
	cmd := &domain.FileDeclaration{DeclaredOn: d.String(), Period: period.String()}
	e := &mEvent{kind: mSet, date: d, period: period, by: "declaration"}
	for _, ins := range modelIns {
		if !p.carries(ins) || s.chance(35) {
			continue
		}
		heads := 1 + s.intn(40)
		base := int64(heads) * int64(60000+s.intn(300000))
		if s.chance(3) {
			base = 0
		}
		cmd.Lines = append(cmd.Lines, domain.DeclareLine{Insurance: ins, Headcount: fen(int64(heads)), WageBaseFen: fen(base)})
		bp, _ := modelRateBP(ins, p.individual, p.riskOn(period.FirstDay()))
		e.amounts = append(e.amounts, mAmount{mKey{period, insRank(ins)}, halfUp(base, bp, 10000)})
	}
	if len(cmd.Lines) == 0 {
		cmd.Lines = append(cmd.Lines, domain.DeclareLine{Insurance: "pension", Headcount: "1", WageBaseFen: "100000"})
		bp, _ := modelRateBP("pension", p.individual, p.riskOn(period.FirstDay()))
		e.amounts = append(e.amounts, mAmount{mKey{period, 0}, halfUp(100000, bp, 10000)})
	}
	// A month begun before the deregistration is owed still; one begun after it is not, unless a
	// line of it stands (declared before a deregistration dated back).
	if p.gone(period) && !setIn(p.events, period) {
		s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, expect{kind: domain.KindConflict, what: "declaration_deregistered"}, nil)
		return
	}
	exp := expect{what: what}
	ranks := make([]int, len(cmd.Lines))
	for i, l := range cmd.Lines {
		ranks[i] = insRank(l.Insurance)
	}
	if setAfter(p.events, period, d) || openedIn(p.events, period) || dropsDue(p.events, period, ranks) {
		exp.kind = domain.KindConflict // it would replace nothing, add to an opening balance, or drop a due
	}
	s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, exp, func(res eventstore.Result) {
		p.declared[period] = true
		s.record(p, res, e)
	})
}

func (s *simulation) pay(p *simPayer) {
	d, ok := s.date(p)
	if !ok {
		return
	}
	st := modelStatement(p.events, d)
	var owed int64
	for _, l := range st.Lines {
		owed += l.Outstanding + l.FeeOwed
	}
	amount := int64(1 + s.intn(80000))
	switch {
	case owed > 0 && s.chance(40):
		amount = owed // pays everything, fees too
	case owed > 0 && s.chance(30):
		amount = 1 + int64(s.intn(int(min(owed, 1<<30))))
	case s.chance(10):
		amount = owed + 1 + int64(s.intn(50000)) // leaves credit
	}
	p.receipts++
	receipt := fmt.Sprintf("R%d", p.receipts)
	cmd := &domain.RecordPayment{PaidOn: d.String(), AmountFen: fen(amount), ReceiptNo: receipt}
	e := &mEvent{kind: mPay, date: d, amount: amount, receipt: receipt}
	if len(st.Lines) > 0 && s.chance(25) {
		l := st.Lines[s.intn(len(st.Lines))]
		x := 1 + int64(s.intn(int(amount)))
		cmd.Allocations = append(cmd.Allocations, domain.AllocationInput{Insurance: modelIns[l.Key.ins], Period: l.Key.period.String(), AmountFen: fen(x)})
		e.amounts = append(e.amounts, mAmount{l.Key, x})
	}
	exp := expect{what: "payment"}
	trial := *e
	trial.seq = 1 << 62 // applied after every event of its date, as the ledger decides it
	if principalPaidAway(p.events, append(slices.Clip(p.events), &trial), d) {
		exp.kind = domain.KindConflict // it would pay what a principal waiver dated after it waived
	}
	s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, exp, func(res eventstore.Result) {
		p.standing[receipt] = e
		s.record(p, res, e)
	})
	if exp.kind == 0 && s.chance(15) {
		// The same receipt again, in lower case: the same receipt once normalised (a refused
		// payment took none).
		again := &domain.RecordPayment{PaidOn: d.String(), AmountFen: "100", ReceiptNo: strings.ToLower(receipt)}
		s.exec(p, eventstore.Request{EmployerID: p.id, Command: again}, expect{kind: domain.KindConflict, what: "payment"}, nil)
	}
}

func (s *simulation) reverse(p *simPayer) {
	var receipts []string
	for r, e := range p.standing {
		if e.date > s.lockedThrough {
			receipts = append(receipts, r)
		}
	}
	slices.Sort(receipts)
	if len(receipts) == 0 {
		return
	}
	r := receipts[s.intn(len(receipts))]
	pay := p.standing[r]
	lo := max(pay.date, s.lockedThrough+1)
	if lo > s.today {
		return
	}
	d := lo.AddDays(s.intn(int(min(s.today-lo, 60)) + 1))
	cmd := &domain.ReversePayment{ReversedOn: d.String(), ReceiptNo: r, Reason: "退票"}
	rev := &mEvent{kind: mReverse, date: d, receipt: r, undoes: pay}
	if refundedAway(p.events, append(slices.Clip(p.events), rev), d) {
		// A refund paid out this payment's money: the reversal is refused, naming it.
		s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, expect{kind: domain.KindConflict, what: "reversal_refunded"}, nil)
		return
	}
	s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, expect{what: "reversal"}, func(res eventstore.Result) {
		delete(p.standing, r)
		p.reversed = append(p.reversed, r)
		s.record(p, res, rev)
	})
	switch {
	case s.chance(30):
		again := &domain.ReversePayment{ReversedOn: d.String(), ReceiptNo: r, Reason: "again"}
		s.exec(p, eventstore.Request{EmployerID: p.id, Command: again}, expect{kind: domain.KindConflict, what: "reversal"}, nil)
	case s.chance(20):
		unknown := &domain.ReversePayment{ReversedOn: d.String(), ReceiptNo: "NONE-" + r, Reason: "unknown"}
		s.exec(p, eventstore.Request{EmployerID: p.id, Command: unknown}, expect{kind: domain.KindConflict, what: "reversal"}, nil)
	case s.chance(20) && pay.date > s.lockedThrough+1 && pay.date > p.entered:
		// A payment recorded anew with the reversed receipt may not be reversed before its date.
		p.receipts++
		anew := &mEvent{kind: mPay, date: pay.date, amount: 777, receipt: r}
		s.exec(p, eventstore.Request{EmployerID: p.id, Command: &domain.RecordPayment{PaidOn: pay.date.String(), AmountFen: "777", ReceiptNo: r}},
			expect{what: "payment_anew"}, func(res eventstore.Result) {
				p.standing[r] = anew
				s.record(p, res, anew)
			})
		early := &domain.ReversePayment{ReversedOn: pay.date.AddDays(-1).String(), ReceiptNo: r, Reason: "early"}
		s.exec(p, eventstore.Request{EmployerID: p.id, Command: early}, expect{kind: domain.KindConflict, what: "reversal"}, nil)
	}
}

func (s *simulation) assess(p *simPayer) {
	d, ok := s.date(p)
	if !ok {
		return
	}
	period := s.period(d)
	cmd := &domain.MakeAssessment{AssessedOn: d.String(), Period: period.String(), Reason: domain.AssessNoDeclaration}
	e := &mEvent{kind: mSet, date: d, period: period, by: domain.AssessNoDeclaration}
	exp := expect{what: "assessment"}
	if s.chance(25) {
		cmd.Reason, e.by = domain.AssessAudit, domain.AssessAudit
		ins := s.insurance(p)
		due := int64(s.intn(400000))
		cmd.Lines = []domain.AssessLine{{Insurance: ins, DueFen: fen(due)}}
		e.amounts = append(e.amounts, mAmount{mKey{period, insRank(ins)}, due})
	} else {
		// 110% of the previous period's due, per insurance, whatever its source.
		st := modelStatement(p.events, d)
		for _, l := range st.Lines {
			if l.Key.period == period.Prev() && l.Due > 0 {
				e.amounts = append(e.amounts, mAmount{mKey{period, l.Key.ins}, halfUp(l.Due, 110, 100)})
			}
		}
		// Nor is a period missing its declaration before its due date has passed.
		if p.declared[period] || len(e.amounts) == 0 || d <= modelDueDate(period) {
			exp = expect{kind: domain.KindConflict, what: "assessment"}
		}
	}
	ranks := make([]int, len(e.amounts))
	for i, a := range e.amounts {
		ranks[i] = a.key.ins
	}
	if setAfter(p.events, period, d) || openedIn(p.events, period) || dropsDue(p.events, period, ranks) {
		// It would replace nothing, add to an opening balance, or drop a due.
		exp = expect{kind: domain.KindConflict, what: "assessment"}
	}
	if p.gone(period) && !setIn(p.events, period) {
		exp = expect{kind: domain.KindConflict, what: "assessment_deregistered"}
	}
	s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, exp, func(res eventstore.Result) { s.record(p, res, e) })
}

// openedIn reports whether an opening balance among events carries a line of period: the ledger
// refuses to declare or assess it.
func openedIn(events []*mEvent, period domain.Period) bool {
	return slices.ContainsFunc(events, func(e *mEvent) bool {
		return e.kind == mOpening && slices.ContainsFunc(e.amounts, func(a mAmount) bool { return a.key.period == period })
	})
}

// dropsDue reports whether the declaration or assessment of period that stands among events (the
// latest by date, the last recorded among equal dates) has a due above zero of an insurance whose
// rank is not among ranks: one that left it out would drop it, and the ledger refuses it.
func dropsDue(events []*mEvent, period domain.Period, ranks []int) bool {
	var st *mEvent
	for _, e := range events {
		if e.kind == mSet && e.period == period && (st == nil || e.date >= st.date) {
			st = e
		}
	}
	return st != nil && slices.ContainsFunc(st.amounts, func(a mAmount) bool { return a.amount > 0 && !slices.Contains(ranks, a.key.ins) })
}

// setIn reports whether a declaration or assessment of period is among events.
func setIn(events []*mEvent, period domain.Period) bool {
	return slices.ContainsFunc(events, func(e *mEvent) bool { return e.kind == mSet && e.period == period })
}

// setAfter reports whether a declaration or assessment of period dated after d stands among
// events: one dated d would replace nothing, and the ledger refuses it.
func setAfter(events []*mEvent, period domain.Period, d domain.Date) bool {
	return slices.ContainsFunc(events, func(e *mEvent) bool { return e.kind == mSet && e.period == period && e.date > d })
}

func (s *simulation) audit(p *simPayer) {
	d, ok := s.date(p)
	if !ok {
		return
	}
	period := s.period(d)
	ins := s.insurance(p)
	extra := int64(1 + s.intn(900000))
	cmd := &domain.RecordAuditFinding{FoundOn: d.String(), Kind: domain.FindingUnderReportedBase, Period: period.String(), Insurance: ins,
		ExtraWageBaseFen: fen(extra), RedeclareBy: d.AddDays(30).String()}
	if s.chance(30) {
		cmd.Kind, cmd.ExtraHeadcount = domain.FindingMissedWorkers, fen(int64(1+s.intn(9)))
	}
	if s.chance(5) {
		cmd.RedeclareBy = ""
		s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, expect{kind: domain.KindInvalid, what: "audit"}, nil)
		return
	}
	bp, _ := modelRateBP(ins, p.individual, p.riskOn(period.FirstDay()))
	e := &mEvent{kind: mAudit, date: d}
	if due := halfUp(extra, bp, 10000); due > 0 {
		e.amounts = []mAmount{{mKey{period, insRank(ins)}, due}} // a finding of no due makes no line
	}
	exp := expect{what: "audit"}
	if p.gone(period) && !p.declared[period] && !setIn(p.events, period) {
		exp = expect{kind: domain.KindConflict, what: "audit_deregistered"} // dues found of a month not owed
	}
	s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, exp, func(res eventstore.Result) { s.record(p, res, e) })
}

func (s *simulation) opening(p *simPayer) {
	d, ok := s.date(p)
	if !ok {
		return
	}
	period := domain.MustPeriod(fmt.Sprintf("2005-%02d", 1+s.intn(12)))
	if s.chance(30) {
		period = domain.MustPeriod(fmt.Sprintf("2006-%02d", 1+s.intn(3)))
	}
	ins := s.insurance(p)
	amount := int64(1 + s.intn(500000))
	cmd := &domain.RecordOpeningBalance{AsOf: d.String(), Lines: []domain.OpeningInput{{Period: period.String(), Insurance: ins, OutstandingFen: fen(amount)}}}
	e := &mEvent{kind: mOpening, date: d, amounts: []mAmount{{mKey{period, insRank(ins)}, amount}}}
	exp := expect{what: "opening"}
	if period.FirstDay() >= p.entered || setIn(p.events, period) {
		exp.kind = domain.KindConflict // a period the ledger holds is not carried over
	}
	s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, exp, func(res eventstore.Result) { s.record(p, res, e) })
}

func (s *simulation) waive(p *simPayer) {
	d, ok := s.date(p)
	if !ok {
		return
	}
	st := modelStatement(p.events, d)
	if len(st.Lines) == 0 {
		return
	}
	l := st.Lines[s.intn(len(st.Lines))]
	cmd := &domain.GrantWaiver{DecidedOn: d.String(), Kind: domain.WaiverLateFee, AuthorityDoc: "赣劳社字〔2006〕12号", Reason: "困难企业",
		Insurance: modelIns[l.Key.ins], Period: l.Key.period.String()}
	owed, kind, what := l.FeeOwed, mWaiveFee, "waiver_fee"
	if s.chance(40) {
		cmd.Kind, cmd.Basis = domain.WaiverPrincipal, []string{"bankruptcy", "court_ruling"}[s.intn(2)]
		owed, kind, what = l.Outstanding, mWaivePrincipal, "waiver_principal"
	}
	amount := int64(1 + s.intn(int(min(max(owed, 1), 1<<30))))
	cmd.AmountFen = fen(amount)
	switch {
	case s.chance(8):
		cmd.AuthorityDoc = " "
		s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, expect{kind: domain.KindInvalid, what: what}, nil)
	case cmd.Kind == domain.WaiverPrincipal && s.chance(8):
		cmd.Basis = ""
		s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, expect{kind: domain.KindInvalid, what: what}, nil)
	case amount > owed:
		s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, expect{kind: domain.KindConflict, what: what}, nil)
	default:
		e := &mEvent{kind: kind, date: d, amount: amount, amounts: []mAmount{{l.Key, amount}}}
		exp := expect{what: what}
		// Recorded last, it applies after the events of its date: its seq is the next one.
		trial := *e
		trial.seq = 1 << 62
		if waivedAway(p.events, append(slices.Clip(p.events), &trial), d) {
			exp.kind = domain.KindConflict // it takes from a waiver dated after it
		}
		s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, exp, func(res eventstore.Result) { s.record(p, res, e) })
	}
}

func (s *simulation) enforce(p *simPayer) {
	d, ok := s.date(p)
	if !ok {
		return
	}
	step := domain.EnforcementSteps[s.intn(len(domain.EnforcementSteps))]
	if n := len(p.steps); n > 0 && s.intn(2) == 0 {
		// Half the time the rung above the last one taken, so that cases climb the ladder.
		step = domain.EnforcementSteps[min(slices.Index(domain.EnforcementSteps, p.steps[n-1].Step)+1, len(domain.EnforcementSteps)-1)]
	}
	cmd := &domain.RecordEnforcement{Step: step, On: d.String(), DocNo: fmt.Sprintf("限改[%d]%d号", d.Year(), s.step)}
	exp := expect{what: "enforcement"}
	owes := modelArrears(p.events, d) > 0
	if step == domain.StepNotice {
		cmd.Deadline = d.AddDays(15).String()
		if !owes || takesIntoCase(p, domain.DateSpan{From: d, Until: d.AddDays(15)}) {
			exp.kind = domain.KindConflict // nothing to order paid, or steps after it it would break
		}
	} else if !escalates(p, step, d, owes) {
		exp.kind = domain.KindConflict
	}
	s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, exp, func(eventstore.Result) {
		if step == domain.StepNotice {
			p.notices = append(p.notices, domain.DateSpan{From: d, Until: d.AddDays(15)})
		} else {
			p.steps = append(p.steps, domain.DatedStep{Step: step, On: d})
		}
	})
}

// takesIntoCase reports whether notice n is dated the day of a notice recorded (one a day), or,
// dated before steps recorded, would take into its case (its steps dated after it, up to the
// next notice's day) one within its deadline, or a court's result with no application to court
// on or before it.
func takesIntoCase(p *simPayer, n domain.DateSpan) bool {
	if slices.ContainsFunc(p.notices, func(m domain.DateSpan) bool { return m.From == n.From }) {
		return true
	}
	var next domain.Date
	for _, m := range p.notices {
		if m.From > n.From && (next == 0 || m.From < next) {
			next = m.From
		}
	}
	var steps []domain.DatedStep
	for _, x := range p.steps {
		if x.On > n.From && (next == 0 || x.On <= next) {
			steps = append(steps, x)
		}
	}
	for _, x := range steps {
		if x.On <= n.Until || x.Step == domain.StepCourtResult &&
			!slices.ContainsFunc(steps, func(a domain.DatedStep) bool { return a.Step == domain.StepCourtApplication && a.On <= x.On }) {
			return true
		}
	}
	return false
}

// escalates is whether the ladder takes step on d (DOMAIN.md): after the deadline of the latest
// notice dated on or before it (the last recorded among equal dates), in that notice's case
// (its steps dated after it, up to the next notice's day) never below a step dated on or before
// d nor above one dated after; a court's result needs the application and nothing else closing
// the case first; any other step needs principal overdue on d, and on every day of a money
// event from the notice on.
func escalates(p *simPayer, step string, d domain.Date, owes bool) bool {
	var by domain.DateSpan
	for _, n := range p.notices {
		if n.From <= d && n.From >= by.From {
			by = n
		}
	}
	if by.From == 0 || d <= by.Until {
		return false
	}
	var next domain.Date
	for _, n := range p.notices {
		if n.From > by.From && (next == 0 || n.From < next) {
			next = n.From
		}
	}
	rank := func(s string) int { return slices.Index(domain.EnforcementSteps, s) }
	top := domain.StepNotice
	for _, x := range p.steps {
		switch {
		case x.On <= by.From || (next != 0 && x.On > next):
		case x.On <= d:
			if rank(x.Step) > rank(top) {
				top = x.Step
			}
		case rank(x.Step) < rank(step):
			return false // a lower step dated after it
		}
	}
	switch {
	case top == domain.StepCourtResult || rank(step) < rank(top):
		return false
	case step == domain.StepCourtResult:
		return top == domain.StepCourtApplication
	}
	for _, e := range p.events {
		if e.date >= by.From && e.date < d && modelArrears(p.events, e.date) == 0 {
			return false // the arrears were cleared: the case is closed
		}
	}
	return owes
}

// modelArrears is the principal overdue on d: what a notice orders paid.
func modelArrears(events []*mEvent, d domain.Date) int64 {
	var sum int64
	for _, l := range modelStatement(events, d).Lines {
		if modelDueDate(l.Key.period) < d {
			sum += l.Outstanding
		}
	}
	return sum
}

// other runs the commands that move no money: enrollments, surveys, contracts, changes of risk
// class (which change later dues), transfers, registrations of payers found unregistered.
func (s *simulation) other(p *simPayer) {
	d, ok := s.date(p)
	if !ok {
		return
	}
	req := eventstore.Request{EmployerID: p.id}
	exp := expect{what: "other"}
	var done func(eventstore.Result)
	switch s.intn(6) {
	case 0:
		req.Command = &domain.RecordEnrollment{Insurance: s.insurance(p), Headcount: fen(int64(s.intn(60))), EffectiveOn: d.String()}
	case 1:
		req.Command = &domain.RecordSurvey{AsOf: d.String(), Workforce: fen(int64(s.intn(80)))}
	case 2:
		req.Command = &domain.RecordContracts{SignedOn: d.String(), Count: fen(int64(1 + s.intn(20)))}
	case 3:
		risk := 1 + s.intn(3)
		req.Command = &domain.ChangeEmployer{On: d.String(), RiskClass: ptr(fen(int64(risk)))}
		done = func(eventstore.Result) { p.riskChanges = append(p.riskChanges, domain.DatedClass{Class: risk, On: d}) }
	case 4:
		to := domain.DefaultCounties[s.intn(len(domain.DefaultCounties))].Code
		req.Command = &domain.Transfer{On: d.String(), County: to}
		if to == p.county || d < p.movedOn {
			exp.kind = domain.KindConflict
		}
		done = func(eventstore.Result) { p.county, p.movedOn = to, d }
	case 5:
		req.Command = &domain.CompleteRegistration{RegisteredOn: d.String(), CertificateNo: fmt.Sprintf("赣社%d", s.step)}
		if p.registered {
			exp.kind = domain.KindConflict
		}
		done = func(eventstore.Result) { p.registered = true }
	}
	if _, ok := req.Command.(*domain.RecordEnrollment); ok && p.deregistered && p.deregOn <= d {
		exp.kind = domain.KindConflict
	}
	switch req.Command.(type) {
	case *domain.ChangeEmployer, *domain.Transfer, *domain.CompleteRegistration:
		if p.deregistered {
			exp.kind = domain.KindConflict
		}
	}
	if done == nil {
		done = func(eventstore.Result) {}
	}
	s.exec(p, req, exp, done)
}

func ptr[T any](v T) *T { return &v }

func (s *simulation) deregister(p *simPayer) {
	d, ok := s.date(p)
	if !ok {
		return
	}
	exp := expect{what: "deregistration"}
	if p.deregistered {
		exp.kind = domain.KindConflict
	} else {
		if modelArrears(p.events, d) > 0 {
			exp.kind = domain.KindConflict // arrears remain
		}
		for _, l := range modelStatement(p.events, d).Lines {
			if l.FeeOwed > 0 {
				exp.kind = domain.KindConflict // late fees remain
			}
		}
	}
	cmd := &domain.Deregister{On: d.String(), Reason: "注销"}
	s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, exp, func(eventstore.Result) { p.deregistered, p.deregOn = true, d })
}

// void voids one of the payer's money events that nothing stands on: a payment that stands, a
// waiver, an audit finding, an opening balance, a refund. The model forgets the event: from the void on,
// the ledger must count as if it had never been recorded. A second void of it is refused.
func (s *simulation) void(p *simPayer) {
	var cands []*mEvent
	for i, e := range p.events {
		switch {
		case e.id == "" || e.date <= s.lockedThrough || assessedOn(p.events, i):
		case e.kind == mPay && p.standing[e.receipt] == e, e.kind == mWaiveFee, e.kind == mWaivePrincipal, e.kind == mAudit, e.kind == mOpening, e.kind == mRefund:
			cands = append(cands, e)
		}
	}
	if len(cands) == 0 {
		return
	}
	e := cands[s.intn(len(cands))]
	d := e.date.AddDays(s.intn(int(min(s.today-e.date, 60)) + 1))
	req := eventstore.Request{EmployerID: p.id, Command: &domain.VoidEvent{EventID: e.id, VoidedOn: d.String(), Reason: "冲正"},
		Actor: "admin:checker"} // money events need a second person: the simulation records as "sim"
	without := slices.DeleteFunc(slices.Clone(p.events), func(x *mEvent) bool { return x == e })
	if refundedAway(p.events, without, d) {
		// A refund paid out money this event brought in: the void is refused, naming it.
		s.exec(p, req, expect{kind: domain.KindConflict, what: "void_refunded"}, nil)
		return
	}
	if waivedAway(p.events, without, d) {
		// A waiver waives what this event set or left owed: the void is refused, naming it.
		s.exec(p, req, expect{kind: domain.KindConflict, what: "void_waived"}, nil)
		return
	}
	s.exec(p, req, expect{what: "void"}, func(eventstore.Result) {
		p.events = slices.DeleteFunc(p.events, func(x *mEvent) bool { return x == e })
		if e.kind == mPay {
			delete(p.standing, e.receipt)
		}
	})
	if s.chance(30) {
		again := eventstore.Request{EmployerID: p.id, Command: &domain.VoidEvent{EventID: e.id, VoidedOn: d.String(), Reason: "again"}, Actor: "admin:checker"}
		s.exec(p, again, expect{kind: domain.KindConflict, what: "void"}, nil)
	}
}

// assessedOn reports whether an assessment for no declaration of the period after a line of
// the audit finding or opening balance events[i] stands on it (the ledger refuses its void: the
// assessment first): recorded after it, dated on or after it, and not replaced since by a
// declaration of its period dated on or after it.
func assessedOn(events []*mEvent, i int) bool {
	e := events[i]
	if e.kind != mAudit && e.kind != mOpening {
		return false
	}
	for j, a := range events[i+1:] {
		if a.kind != mSet || a.by != domain.AssessNoDeclaration || a.date < e.date ||
			!slices.ContainsFunc(e.amounts, func(x mAmount) bool { return x.key.period == a.period.Prev() }) {
			continue
		}
		if !slices.ContainsFunc(events[i+1+j+1:], func(d *mEvent) bool {
			return d.kind == mSet && d.by == "declaration" && d.period == a.period && d.date >= a.date
		}) {
			return true
		}
	}
	return false
}

// lastDate is the latest date of the payer's money events, and at least d.
func lastDate(p *simPayer, d domain.Date) domain.Date {
	for _, e := range p.events {
		d = max(d, e.date)
	}
	return d
}

// refundedAway reports whether, with the events after (those before with one reversed or
// voided), a refund finds less credit at its date than with the events before, or less paid to
// take back what it does not find, as the decisions see it: as of the last event, every
// reversal undoing its payment. It would take the money it paid out back from dues paid, or
// overdraw.
func refundedAway(before, after []*mEvent, d domain.Date) bool {
	last := d
	for _, e := range after {
		last = max(last, e.date)
	}
	was, now := modelReplay(before, last, last), modelReplay(after, last, last)
	for r, short := range now.Shorts {
		if short > was.Shorts[r] || now.Unfound[r] > was.Unfound[r] {
			return true
		}
	}
	return false
}

// waivedAway reports whether, with the events after (those before with a waiver added, or one
// voided), a waiver finds less to waive than with the events before, or more of what waivers
// took lapses, as of the last event.
func waivedAway(before, after []*mEvent, d domain.Date) bool {
	last := lastDate(&simPayer{events: after}, d)
	was, now := modelReplay(before, last, last), modelReplay(after, last, last)
	for w, short := range now.Unwaived {
		if short > was.Unwaived[w] {
			return true
		}
	}
	for k, lapsed := range now.Lapsed {
		if lapsed[0] > was.Lapsed[k][0] || lapsed[1] > was.Lapsed[k][1] {
			return true
		}
	}
	return false
}

// principalPaidAway reports whether, with a payment added (after), a principal waiver finds less
// to waive than before, as of the last event.
func principalPaidAway(before, after []*mEvent, d domain.Date) bool {
	last := lastDate(&simPayer{events: after}, d)
	was, now := modelReplay(before, last, last), modelReplay(after, last, last)
	for w, short := range now.Unwaived {
		if w.kind == mWaivePrincipal && short > was.Unwaived[w] {
			return true
		}
	}
	return false
}

// refund pays back credit: at most the least credit held from its date on, after each later
// event in the order applied, as of the last event (every reversal undoing its payment), else
// refused.
func (s *simulation) refund(p *simPayer) {
	d, ok := s.date(p)
	if !ok {
		return
	}
	least := modelReplay(p.events, lastDate(p, d), lastDate(p, d)).leastCreditFrom(d)
	amount := least + 1 + int64(s.intn(5000))
	exp := expect{kind: domain.KindConflict, what: "refund"}
	if least > 0 && s.chance(70) {
		amount, exp = 1+int64(s.intn(int(min(least, 1<<30)))), expect{what: "refund"}
	}
	p.receipts++
	receipt := fmt.Sprintf("T%d", p.receipts)
	cmd := &domain.RefundCredit{RefundedOn: d.String(), AmountFen: fen(amount), ReceiptNo: receipt}
	s.exec(p, eventstore.Request{EmployerID: p.id, Command: cmd}, exp, func(res eventstore.Result) {
		s.record(p, res, &mEvent{kind: mRefund, date: d, amount: amount, receipt: receipt})
	})
}
