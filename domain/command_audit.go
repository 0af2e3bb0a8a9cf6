package domain

import (
	"cmp"
	"slices"
)

// Audit finding kinds.
const (
	FindingUnderReportedBase = "under_reported_base"
	FindingMissedWorkers     = "missed_workers"
	FindingUnregistered      = "unregistered"
)

// RecordAuditFinding records what an audit found.
type RecordAuditFinding struct {
	FoundOn          string `json:"found_on"`
	Kind             string `json:"kind"`
	Period           string `json:"period"`
	Insurance        string `json:"insurance"`
	ExtraWageBaseFen Number `json:"extra_wage_base_fen"`
	ExtraHeadcount   Number `json:"extra_headcount"`
	RedeclareBy      string `json:"redeclare_by"`
	ev               AuditFindingRecorded
}

// Check validates the fields.
func (r *RecordAuditFinding) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	ev := AuditFindingRecorded{}
	ev.FoundOn = c.date("found_on", r.FoundOn, true)
	ev.Kind = c.oneOf("kind", r.Kind, FindingUnderReportedBase, FindingMissedWorkers, FindingUnregistered)
	ev.Period = c.period("period", r.Period)
	ev.Insurance = c.insurance("insurance", r.Insurance)
	// A figure the kind does not take is refused, not dropped: the auditor meant it to count.
	switch ev.Kind {
	case FindingUnderReportedBase:
		ev.ExtraWageBaseFen = c.fen("extra_wage_base_fen", r.ExtraWageBaseFen, true, true)
		if r.ExtraHeadcount != "" {
			c.fail(Invalid("extra_headcount", "is for a missed_workers finding: an under_reported_base finding adds wage base only"))
		}
	case FindingMissedWorkers:
		ev.ExtraHeadcount = c.integer("extra_headcount", r.ExtraHeadcount, true, 1, MaxCount, "persons")
		ev.ExtraWageBaseFen = c.fen("extra_wage_base_fen", r.ExtraWageBaseFen, true, true)
	case FindingUnregistered:
		for _, f := range []struct {
			name string
			v    Number
		}{{"extra_wage_base_fen", r.ExtraWageBaseFen}, {"extra_headcount", r.ExtraHeadcount}} {
			if f.v != "" {
				c.fail(Invalid(f.name, "an unregistered finding adds no dues: record what the employer owes as under_reported_base or missed_workers findings"))
			}
		}
	}
	if r.RedeclareBy == "" {
		c.fail(Invalid("redeclare_by", "is required (YYYY-MM-DD)"))
	} else if d, err := ParseDate(r.RedeclareBy); err != nil {
		c.fail(Invalid("redeclare_by", "%v", err))
	} else {
		ev.RedeclareBy = d
	}
	if c.err == nil && ev.RedeclareBy < ev.FoundOn {
		c.fail(Invalid("redeclare_by", "%s is before the finding date %s", ev.RedeclareBy, ev.FoundOn))
	}
	if c.err == nil && ev.Period.FirstDay() > ev.FoundOn {
		c.fail(Invalid("period", "%s has not begun on %s", ev.Period, ev.FoundOn))
	}
	if c.err == nil {
		ev.DueOn = ctx.Ref.DueDate(ev.Period)
	}
	r.ev = ev
	return c.err
}

// Date is the finding date.
func (r *RecordAuditFinding) Date() Date { return r.ev.FoundOn }

// Decide computes the extra due at the rates in force on the period's first day.
func (r *RecordAuditFinding) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "found_on", r.ev.FoundOn); err != nil {
		return nil, err
	}
	if err := carries(e, "insurance", r.ev.Insurance); err != nil {
		return nil, err
	}
	ev := r.ev
	if ev.ExtraWageBaseFen > 0 {
		// Dues found are dues: none of a month begun while the payer was deregistered, unless a
		// line stands there (declared or assessed before a deregistration dated back), which it
		// corrects.
		if err := owesDuesOf(e, ev.Period, e.Declared[ev.Period] || e.Account.standingBase(ev.Period) != nil); err != nil {
			return nil, err
		}
		bp, ok := ctx.Ref.Rate(ev.Insurance, e.Kind.Payer(), e.RiskClassOn(ev.Period.FirstDay()), ev.Period.FirstDay())
		if !ok {
			return nil, Conflict("insurance", "no %s rate for %s payers is in force on %s", ev.Insurance, e.Kind.Payer(), ev.Period.FirstDay())
		}
		due, err := ApplyRate(ev.ExtraWageBaseFen, bp)
		if err != nil {
			return nil, Invalid("extra_wage_base_fen", "%v", err)
		}
		ev.RateBP, ev.DueFen = bp, due
	}
	return []Payload{ev}, nil
}

// RecordEnforcement records a step of the enforcement ladder.
type RecordEnforcement struct {
	Step     string `json:"step"`
	On       string `json:"on"`
	DocNo    string `json:"doc_no"`
	Deadline string `json:"deadline"`
	ev       EnforcementStepRecorded
}

// Check validates the fields; a notice needs a deadline, within MaxNoticeDays of its date, and
// another step's deadline is within MaxStepDays of its.
func (r *RecordEnforcement) Check(ctx Context) error {
	c := &checker{ctx: ctx}
	r.ev.Step = c.oneOf("step", r.Step, EnforcementSteps...)
	r.ev.On = c.date("on", r.On, true)
	r.ev.DocNo = c.code("doc_no", r.DocNo, true, 100)
	if r.Deadline != "" {
		d, err := ParseDate(r.Deadline)
		if err != nil {
			c.fail(Invalid("deadline", "%v", err))
		} else if d < r.ev.On {
			c.fail(Invalid("deadline", "%s is before the step's date %s", d, r.ev.On))
		} else if r.ev.Step == StepNotice && d == r.ev.On {
			c.fail(Invalid("deadline", "%s is not after the notice's date %s, as a printed notice's may not be", d, r.ev.On))
		} else if r.ev.Step == StepNotice && r.ev.On != 0 && d > r.ev.On.AddDays(MaxNoticeDays) {
			c.fail(Invalid("deadline", "%s is more than %d days after the step's date %s", d, MaxNoticeDays, r.ev.On))
		} else if r.ev.On != 0 && d > r.ev.On.AddDays(MaxStepDays) {
			c.fail(Invalid("deadline", "%s is more than %d days after the step's date %s: a mistyped year?", d, MaxStepDays, r.ev.On))
		}
		r.ev.Deadline = d
	} else if r.ev.Step == StepNotice {
		c.fail(Invalid("deadline", "is required for a notice (限期改正 sets a deadline)"))
	}
	return c.err
}

// Date is the step's date.
func (r *RecordEnforcement) Date() Date { return r.ev.On }

// Decide follows DOMAIN.md's ladder. A notice needs principal overdue on its date, as an
// issued one does. A later step needs a notice dated on or before it (the case it escalates)
// and comes after that notice's deadline, so an employer that pays within it is not escalated;
// it climbs the case's ladder in order, never below a step taken before it nor above one taken
// after it; and a case is closed by a court's result, which needs the court application, and by
// the arrears being cleared: no step but the court's result is taken once they were cleared at
// the end of a day since the notice, or on a day with no principal overdue.
func (r *RecordEnforcement) Decide(e *Employer, ctx Context) ([]Payload, error) {
	if err := notBefore(e, "on", r.ev.On); err != nil {
		return nil, err
	}
	if r.ev.Step == StepNotice {
		if err := owesOn(e, ctx, "on", r.ev.On, "nothing to order paid"); err != nil {
			return nil, err
		}
		if err := e.takesIntoCase("on", DateSpan{From: r.ev.On, Until: r.ev.Deadline}); err != nil {
			return nil, err
		}
		return []Payload{r.ev}, nil
	}
	if len(e.Notices) == 0 {
		return nil, Conflict("step", "%s needs a notice to correct (限期改正) first; none is recorded", r.ev.Step)
	}
	n, ok := e.noticeBy(r.ev.On)
	if !ok {
		first := slices.MinFunc(e.Notices, func(a, b DateSpan) int { return cmp.Compare(a.From, b.From) })
		return nil, Conflict("on", "%s is before the first notice, of %s", r.ev.On, first.From)
	}
	if r.ev.On <= n.Until {
		return nil, Conflict("on", "%s is not after the deadline %s of the notice of %s: escalation (%s) follows the deadline", r.ev.On, n.Until, n.From, r.ev.Step)
	}
	rank := stepRank(r.ev.Step)
	top := DatedStep{Step: StepNotice, On: n.From}
	for _, x := range e.caseOf(n) {
		switch {
		case x.On <= r.ev.On:
			if stepRank(x.Step) >= stepRank(top.Step) {
				top = x
			}
		case stepRank(x.Step) < rank:
			return nil, Conflict("on", "the case of the notice of %s took the lower step %s on %s, after %s: the ladder is climbed in order", n.From, x.Step, x.On, r.ev.On)
		}
	}
	switch {
	case top.Step == StepCourtResult:
		return nil, Conflict("step", "the case of the notice of %s closed with the court's result of %s: a new notice (限期改正) opens another", n.From, top.On)
	case rank < stepRank(top.Step):
		return nil, Conflict("step", "the case of the notice of %s reached %s on %s: the ladder does not go back to %s", n.From, top.Step, top.On, r.ev.Step)
	case r.ev.Step == StepCourtResult && top.Step != StepCourtApplication:
		return nil, Conflict("step", "a court's result needs the application to court (申请法院强制执行) first; the case of the notice of %s has none by %s", n.From, r.ev.On)
	case r.ev.Step != StepCourtResult:
		if day, ok := e.clearedIn(n.From, r.ev.On, ctx.Ref.LateFees); ok {
			return nil, Conflict("on", "the arrears were cleared on %s, which closed the case of the notice of %s: a new notice (限期改正) opens another", day, n.From)
		}
		if err := owesOn(e, ctx, "on", r.ev.On, "the case is closed, nothing to escalate"); err != nil {
			return nil, err
		}
	}
	return []Payload{r.ev}, nil
}

// owesOn refuses a date (of field) on which the employer has no principal overdue, saying why
// that matters.
func owesOn(e *Employer, ctx Context, field string, d Date, why string) error {
	if e.Account.Statement(d, ctx.Ref.LateFees).Totals.ArrearsFen() == 0 {
		return Conflict(field, "the employer has no principal overdue on %s: %s", d, why)
	}
	return nil
}

// clearedIn returns the first day from from up to, not including, to at whose end the employer
// had no principal overdue: its arrears were cleared then, which closes a case. Arrears fall
// only on the days of money events, and not on those of late-fee waivers, refunds and
// reversals, which take no principal away (an amended declaration or opening balance may
// lower one), so only those days are looked at; days a compaction no longer answers are passed
// over.
func (e *Employer) clearedIn(from, to Date, fees []LateFeeRate) (Date, bool) {
	if c := e.Account.CompactedThrough(); c != 0 && from <= c {
		from = c.AddDays(1)
	}
	var days []Date
	for _, en := range e.Account.entries {
		switch en.kind {
		case entryWaiveFee, entryRefund, entryReversal:
		default:
			if en.date >= from && en.date < to {
				days = append(days, en.date)
			}
		}
	}
	if len(days) == 0 {
		return 0, false
	}
	slices.Sort(days)
	days = slices.Compact(days)
	for i, overdue := range e.Account.OverdueAt(days, fees) {
		if len(overdue) == 0 {
			return days[i], true
		}
	}
	return 0, false
}

// stepRank is the step's place on the ladder (EnforcementSteps).
func stepRank(step string) int { return slices.Index(EnforcementSteps, step) }

// caseOf is the steps after notices taken in notice n's case: dated after it and on or before
// the next notice's date (a step comes after its notice's deadline, so one dated on a notice's
// day is of the case before it).
func (e *Employer) caseOf(n DateSpan) []DatedStep {
	return caseIn(e.Notices, e.Escalations, n)
}

// caseIn is caseOf among notices and escalations.
func caseIn(notices []DateSpan, escalations []DatedStep, n DateSpan) []DatedStep {
	var next Date
	for _, m := range notices {
		if m.From > n.From && (next == 0 || m.From < next) {
			next = m.From
		}
	}
	var out []DatedStep
	for _, x := range escalations {
		if x.On > n.From && (next == 0 || x.On <= next) {
			out = append(out, x)
		}
	}
	return out
}

// CheckNoticeCase refuses, as IssueNotice does, a notice dated issuedOn with deadline that would
// take steps recorded after it into its case against the ladder.
func (e *Employer) CheckNoticeCase(issuedOn, deadline Date) error {
	return e.takesIntoCase("issued_on", DateSpan{From: issuedOn, Until: deadline})
}

// takesIntoCase refuses a notice n (on field) dated the day of one recorded, or dated before
// steps already recorded that it would take into its case against the ladder, as though it had
// been recorded first: each must come after its deadline, and a court's result after the
// application to court.
func (e *Employer) takesIntoCase(field string, n DateSpan) error {
	// One notice a day: a second is a form sent twice, or a correction of the first, which is
	// voided first.
	if slices.ContainsFunc(e.Notices, func(m DateSpan) bool { return m.From == n.From }) {
		return Conflict(field, "a notice to correct dated %s is recorded already: one a day (void it to issue another)", n.From)
	}
	steps := caseIn(append(slices.Clip(e.Notices), n), e.Escalations, n)
	for _, x := range steps {
		if x.On <= n.Until {
			return Conflict("deadline", "%s would have the %s of %s, recorded already, within this notice's deadline: escalation follows the deadline", n.Until, x.Step, x.On)
		}
	}
	for _, x := range steps {
		if x.Step == StepCourtResult && !slices.ContainsFunc(steps, func(a DatedStep) bool { return a.Step == StepCourtApplication && a.On <= x.On }) {
			return Conflict(field, "%s would take the court's result of %s into this notice's case, which has no application to court before it", n.From, x.On)
		}
	}
	return nil
}

// lastStepOn is the date of the latest step recorded, or 0.
func (e *Employer) lastStepOn() Date {
	var d Date
	for _, n := range e.Notices {
		d = max(d, n.From)
	}
	for _, x := range e.Escalations {
		d = max(d, x.On)
	}
	return d
}

// noticeBy is the latest notice dated on or before d (the last recorded among equal dates).
func (e *Employer) noticeBy(d Date) (DateSpan, bool) {
	var latest DateSpan
	found := false
	for _, n := range e.Notices {
		if n.From <= d && (!found || n.From >= latest.From) {
			latest, found = n, true
		}
	}
	return latest, found
}
