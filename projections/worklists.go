package projections

import (
	"fmt"

	"github.com/kuozheng/kuozheng/domain"
)

// Work item kinds.
const (
	WorkNoticePastDeadline  = "notice_past_deadline"
	WorkFindingPastDeadline = "finding_past_redeclare_by"
	WorkAssessmentCandidate = "no_line_for_due_period"
	WorkWorkInjuryTarget    = FlagWorkInjuryTarget
	WorkFoundNotRegistered  = "found_not_registered"
	WorkClassMischarged     = "declared_at_another_risk_class"
)

// registrationDays is the time a payer has to register (登记: within 30 days).
const registrationDays = 30

// WorkItem is one thing a clerk should do.
type WorkItem struct {
	Kind       string      `json:"kind"`
	EmployerID string      `json:"employer_id"`
	Name       string      `json:"name"`
	County     string      `json:"county"`
	Since      domain.Date `json:"since"`
	Detail     string      `json:"detail"`
	// Facts are what Detail states beyond Since, so that a reader can word the item in its own
	// language (the desk's worklist, in Chinese and English).
	Facts WorkFacts `json:"facts"`
}

// WorkFacts are the facts of a work item; each kind sets those its detail names: a notice's
// DocNo and ArrearsFen; a finding's Finding, FoundOn, Insurance and Period; a period not
// declared its Period and Basis (a due for the period before, to take 110% of); a payer the
// survey found, FoundOn; a period declared at another risk class, Period, Insurance, RiskClass
// (on the period's first day), DueFen (at it) and ChargedFen.
type WorkFacts struct {
	DocNo      string           `json:"doc_no,omitempty"`
	ArrearsFen domain.Fen       `json:"arrears_fen,omitempty"`
	Finding    string           `json:"finding,omitempty"`
	FoundOn    domain.Date      `json:"found_on,omitempty"`
	Insurance  domain.Insurance `json:"insurance,omitempty"`
	Period     domain.Period    `json:"period,omitempty"`
	Basis      bool             `json:"basis,omitempty"`
	RiskClass  int              `json:"risk_class,omitempty"`
	DueFen     domain.Fen       `json:"due_fen,omitempty"`
	ChargedFen domain.Fen       `json:"charged_fen,omitempty"`
}

// Worklist lists a clerk's work in the given counties (all when counties is nil) as of asOf:
// notices past their deadline with arrears still owed and no later step, audit findings past
// redeclare_by with no new declaration of the period, employers that owe the last due period
// with no line for it (candidates for a 110% assessment; owes), payers of the plan's work-injury target
// not enrolled in work injury (missingWorkInjury), payers the survey found that are still
// not registered more than 30 days after, and periods declared at another risk class than the
// payer had on their first day (domain Employer.ClassMischarges).
func (l *Ledger) Worklist(counties map[string]bool, asOf domain.Date) []WorkItem {
	items := []WorkItem{}
	due := DefaultPeriod(&l.Ref, asOf)
	dueOn := l.Ref.DueDate(due)
	// The first period of the open books: a closing folds the lines before it, whose charge the
	// views then no longer hold apart (compacted or not, the worklist says the same).
	var openFrom domain.Period
	if b := l.Ref.LockedThrough(); b != 0 {
		openFrom = b.AddDays(1).Period()
	}
	for _, id := range l.Order {
		e := l.Employers.Get(id)
		county := l.Ref.CountyCodeOn(e.CountyOn(asOf), asOf)
		if !e.EnteredBy(asOf) || (counties != nil && !counties[county]) {
			continue
		}
		// A payer deregistered since has the work of what it still owes: the months it was a
		// payer on the first day of, findings and notices of them; the plan's targets and the
		// registration check are a payer's only (missingWorkInjury is).
		payer := e.ActiveOn(asOf)
		item := func(kind string, since domain.Date, facts WorkFacts, format string, args ...any) {
			items = append(items, WorkItem{kind, id, e.Name, county, since, fmt.Sprintf(format, args...), facts})
		}
		// The step dated last, not the one recorded last: a notice entered late does not undo
		// the inspection that followed it.
		if last, ok := e.LatestStepThrough(asOf); ok {
			// Only a notice past its deadline needs the statement, the costliest part.
			if last.Step == domain.StepNotice && last.Deadline < asOf {
				st := e.Account.Statement(asOf, l.Ref.LateFees)
				if arrears := st.Totals.ArrearsFen(); arrears > 0 {
					item(WorkNoticePastDeadline, last.Deadline, WorkFacts{DocNo: last.DocNo, ArrearsFen: arrears},
						"notice %s set %s as deadline; %s yuan still in arrears: escalate to inspection", last.DocNo, last.Deadline, arrears)
				}
			}
		}
		for _, f := range e.History.Findings {
			if f.FoundOn > asOf || f.RedeclareBy >= asOf || f.Kind == domain.FindingUnregistered {
				continue
			}
			if d, ok := e.History.DeclarationOn(f.Period, asOf); ok && d.On >= f.FoundOn {
				continue
			}
			item(WorkFindingPastDeadline, f.RedeclareBy, WorkFacts{Finding: f.Kind, FoundOn: f.FoundOn, Insurance: f.Insurance, Period: f.Period},
				"%s finding of %s on %s %s: no re-declaration by %s", f.Kind, f.FoundOn, f.Insurance, f.Period, f.RedeclareBy)
		}
		for _, m := range e.ClassMischarges(&l.Ref, asOf, openFrom) {
			item(WorkClassMischarged, m.Period.FirstDay(), WorkFacts{Period: m.Period, Insurance: domain.WorkInjury, RiskClass: m.Class, DueFen: m.DueFen, ChargedFen: m.ChargedFen},
				"work injury of %s charged %s yuan, but risk class %d on %s owes %s yuan on the wage base declared: file the declaration of %s again",
				m.Period, m.ChargedFen, m.Class, m.Period.FirstDay(), m.DueFen, m.Period)
		}
		if m, ok := missingWorkInjury(e, asOf); ok {
			item(WorkWorkInjuryTarget, m.since, WorkFacts{}, "%s", m.detail)
		}
		if deadline := e.EnteredOn.AddDays(registrationDays); payer && deadline < asOf && !(e.Registered && e.RegisteredOn <= asOf) {
			item(WorkFoundNotRegistered, deadline, WorkFacts{FoundOn: e.EnteredOn},
				"found by the survey on %s and not registered within %d days (by %s)", e.EnteredOn, registrationDays, deadline)
		}
		switch {
		// On its due date the payer may still declare it: not missing yet, nor assessable.
		case dueOn >= asOf:
		// Declared or assessed by asOf: one dated later leaves the period without a line then.
		case e.History.SetBy(due, asOf) || !owes(e, due):
		case dueBefore(e, due, asOf, l.Ref.LateFees):
			item(WorkAssessmentCandidate, dueOn, WorkFacts{Period: due, Basis: true},
				"no declaration or assessment for %s, due %s: assess at 110%% of the previous period", due, dueOn)
		default:
			item(WorkAssessmentCandidate, dueOn, WorkFacts{Period: due},
				"no declaration or assessment for %s, due %s, and no due for %s to take 110%% of: ask for the declaration, or assess its lines", due, dueOn, due.Prev())
		}
	}
	return items
}

// owes reports whether e owes contributions for period p: enrolled in pension or medical at its
// end, entered by then, and a payer on its first day or entered during it. A month begun while
// deregistered is not owed: dues stop with the month after a deregistration and start again
// with the month after a reinstatement, as the write side decides them (domain owesDuesOf); a
// payer deregistered within a month still owes it.
func owes(e *domain.Employer, p domain.Period) bool {
	first, last := p.FirstDay(), p.LastDay()
	if e.EnrolledOn(domain.Pension, last)+e.EnrolledOn(domain.Medical, last) == 0 || !e.EnteredBy(last) {
		return false
	}
	return e.ActiveOn(first) || e.EnteredOn > first
}

// dueBefore reports whether e has a due for the period before p, as of asOf: what an
// assessment of p for no declaration takes 110% of (domain.MakeAssessment). A year's closing
// keeps that period's lines whole (Ledger.keepFrom).
func dueBefore(e *domain.Employer, p domain.Period, asOf domain.Date, fees []domain.LateFeeRate) bool {
	st := e.Account.Statement(asOf, fees)
	for _, ins := range domain.Insurances {
		if l, ok := st.Line(domain.LineKey{Period: p.Prev(), Insurance: ins}); ok && l.DueFen > 0 {
			return true
		}
	}
	return false
}
