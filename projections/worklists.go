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
}

// Worklist lists a clerk's work in the given counties (all when counties is nil) as of asOf:
// notices past their deadline with arrears still owed and no later step, audit findings past
// redeclare_by with no new declaration of the period, enrolled employers with no line for the
// last due period (candidates for a 110% assessment), payers of the plan's work-injury target
// not enrolled in work injury (missingWorkInjury), and payers the survey found that are still
// not registered more than 30 days after.
func (l *Ledger) Worklist(counties map[string]bool, asOf domain.Date) []WorkItem {
	items := []WorkItem{}
	due := DefaultPeriod(&l.Ref, asOf)
	dueOn := l.Ref.DueDate(due)
	for _, id := range l.Order {
		e := l.Employers[id]
		county := l.Ref.CountyCodeOn(e.CountyOn(asOf), asOf)
		if !e.ActiveOn(asOf) || (counties != nil && !counties[county]) {
			continue
		}
		item := func(kind string, since domain.Date, format string, args ...any) {
			items = append(items, WorkItem{kind, id, e.Name, county, since, fmt.Sprintf(format, args...)})
		}
		// The step dated last, not the one recorded last: a notice entered late does not undo
		// the inspection that followed it.
		if last, ok := e.LatestStepThrough(asOf); ok {
			// Only a notice past its deadline needs the statement, the costliest part.
			if last.Step == domain.StepNotice && last.Deadline < asOf {
				st := e.Account.Statement(asOf, l.Ref.LateFees)
				if arrears := st.Totals.ArrearsFen(); arrears > 0 {
					item(WorkNoticePastDeadline, last.Deadline, "notice %s set %s as deadline; %s yuan still in arrears: escalate to inspection", last.DocNo, last.Deadline, arrears)
				}
			}
		}
		for _, f := range e.History.Findings {
			if f.FoundOn > asOf || f.RedeclareBy >= asOf || f.Kind == domain.FindingUnregistered {
				continue
			}
			if d, ok := e.History.Declaration(f.Period); ok && d.On >= f.FoundOn && d.On <= asOf {
				continue
			}
			item(WorkFindingPastDeadline, f.RedeclareBy, "%s finding of %s on %s %s: no re-declaration by %s", f.Kind, f.FoundOn, f.Insurance, f.Period, f.RedeclareBy)
		}
		if m, ok := missingWorkInjury(e, asOf); ok {
			item(WorkWorkInjuryTarget, m.since, "%s", m.detail)
		}
		if deadline := e.EnteredOn.AddDays(registrationDays); deadline < asOf && !(e.Registered && e.RegisteredOn <= asOf) {
			item(WorkFoundNotRegistered, deadline, "found by the survey on %s and not registered within %d days (by %s)", e.EnteredOn, registrationDays, deadline)
		}
		if enrolled := e.EnrolledOn(domain.Pension, asOf) + e.EnrolledOn(domain.Medical, asOf); enrolled > 0 {
			if _, ok := e.History.Declaration(due); !ok {
				if _, assessed := e.History.Assessed[due]; !assessed {
					item(WorkAssessmentCandidate, dueOn, "no declaration or assessment for %s, due %s: assess at 110%% of the previous period", due, dueOn)
				}
			}
		}
	}
	return items
}
