package projections

import (
	"fmt"

	"github.com/kuozheng/kuozheng/domain"
)

// Flag kinds.
const (
	FlagArrearsWithoutEnforcement = "arrears_without_enforcement"
	FlagWaiverReview              = "waiver_review"
	FlagBaseBelowFloor            = "base_below_floor"
	FlagParkEmployerNotEnrolled   = "park_employer_not_enrolled"
	FlagHighRiskWithoutWorkInjury = "high_risk_without_work_injury"
)

// FlagKinds lists the flag kinds in the order reports show them.
var FlagKinds = []string{FlagArrearsWithoutEnforcement, FlagWaiverReview, FlagBaseBelowFloor, FlagParkEmployerNotEnrolled, FlagHighRiskWithoutWorkInjury}

var flagMeaning = map[string]string{
	FlagArrearsWithoutEnforcement: "arrears past the grace period with no enforcement step since they fell due",
	FlagWaiverReview:              "a principal waiver, or a late-fee waiver over half the fee (随意减免 review)",
	FlagBaseBelowFloor:            "declared base per head under 60% of the average wage",
	FlagParkEmployerNotEnrolled:   "industrial-park employer without pension enrollment",
	FlagHighRiskWithoutWorkInjury: "risk class 3 employer without work-injury enrollment",
}

// FlagFacts are the facts an employer's flag states beyond its amount and date, so that a
// reader can word the flag in its own language (the dashboard's and the exports' bilingual
// details); each kind sets the fields its detail names.
type FlagFacts struct {
	// GraceDays is the grace period past which arrears need a step; LastStep the day of the
	// latest step, before the arrears fell due (zero: none was ever taken).
	GraceDays int         `json:"grace_days,omitempty"`
	LastStep  domain.Date `json:"last_step,omitempty"`
	// Waiver is the kind of a waiver under review (principal or late_fee), with its line,
	// basis, authority and, for a late-fee waiver, the fee accrued when it was decided.
	Waiver        string           `json:"waiver,omitempty"`
	Insurance     domain.Insurance `json:"insurance,omitempty"`
	Period        domain.Period    `json:"period,omitempty"`
	Basis         string           `json:"basis,omitempty"`
	AuthorityDoc  string           `json:"authority_doc,omitempty"`
	AccruedFeeFen domain.Fen       `json:"accrued_fee_fen,omitempty"`
	// A base under the floor: the declared base of the line (for all its persons), the
	// persons, and the month's average wage.
	WageBaseFen    domain.Fen `json:"wage_base_fen,omitempty"`
	Headcount      int64      `json:"headcount,omitempty"`
	AverageWageFen domain.Fen `json:"average_wage_fen,omitempty"`
}

// employerFlags raises the accountability flags of API.md on one employer as of q.AsOf.
func employerFlags(id string, e *domain.Employer, ref *domain.Reference, q Query, st domain.Statement) []Flag {
	var flags []Flag
	grace := ref.SettingsOn(q.AsOf).EnforcementGraceDays
	// A step taken on day S addresses the arrears of S: the lines due before S. Lines that fell
	// due on or after the latest step have had none since they fell due, whatever came before.
	var lastStep domain.Date
	if s, ok := e.LatestStepThrough(q.AsOf); ok {
		lastStep = s.On
	}
	var owed domain.Fen
	var oldest domain.Date
	for _, l := range st.Lines {
		if l.OutstandingFen > 0 && l.DueDate.AddDays(grace) < q.AsOf && l.DueDate >= lastStep {
			owed += l.OutstandingFen
			if oldest == 0 || l.DueDate < oldest {
				oldest = l.DueDate
			}
		}
	}
	if owed > 0 {
		since := "no enforcement step"
		if lastStep != 0 {
			since = fmt.Sprintf("no enforcement step since they fell due (the latest was on %s)", lastStep)
		}
		flags = append(flags, Flag{Kind: FlagArrearsWithoutEnforcement, EmployerID: id, Detail: fmt.Sprintf("%s yuan in arrears more than %d days past due (since %s) with %s", owed, grace, oldest, since),
			AmountFen: owed, Since: oldest, Facts: &FlagFacts{GraceDays: grace, LastStep: lastStep}})
	}
	for _, w := range e.History.Waivers {
		if w.DecidedOn > q.AsOf {
			continue
		}
		facts := &FlagFacts{Waiver: w.Kind, Insurance: w.Insurance, Period: w.Period, AuthorityDoc: w.AuthorityDoc}
		switch {
		case w.Kind == domain.WaiverPrincipal:
			facts.Basis = w.Basis
			flags = append(flags, Flag{Kind: FlagWaiverReview, EmployerID: id, Detail: fmt.Sprintf("principal waiver of %s yuan on %s %s (%s, %s) on %s", w.AmountFen, w.Insurance, w.Period, w.Basis, w.AuthorityDoc, w.DecidedOn),
				AmountFen: w.AmountFen, Since: w.DecidedOn, Facts: facts})
		case w.AccruedFeeFen > 0 && 2*w.AmountFen > w.AccruedFeeFen:
			facts.AccruedFeeFen = w.AccruedFeeFen
			flags = append(flags, Flag{Kind: FlagWaiverReview, EmployerID: id, Detail: fmt.Sprintf("late-fee waiver of %s yuan is over half the %s yuan accrued on %s %s (%s) on %s", w.AmountFen, w.AccruedFeeFen, w.Insurance, w.Period, w.AuthorityDoc, w.DecidedOn),
				AmountFen: w.AmountFen, Since: w.DecidedOn, Facts: facts})
		}
	}
	if d, ok := e.History.Declaration(q.Period); ok && d.On <= q.AsOf {
		if wage, ok := ref.AverageWageOn(q.Period.FirstDay()); ok {
			for _, l := range d.Lines {
				// base per head < 60% of the average wage, compared without division.
				if l.Headcount > 0 && int64(l.WageBaseFen)*10 < int64(wage)*6*l.Headcount {
					flags = append(flags, Flag{Kind: FlagBaseBelowFloor, EmployerID: id, Detail: fmt.Sprintf("%s %s declares %s yuan for %d persons, under 60%% of the average wage %s", q.Period, l.Insurance, l.WageBaseFen, l.Headcount, wage),
						Since: d.On, Facts: &FlagFacts{Period: q.Period, Insurance: l.Insurance, WageBaseFen: l.WageBaseFen, Headcount: l.Headcount, AverageWageFen: wage}})
					break
				}
			}
		}
	}
	active := e.ActiveOn(q.AsOf)
	if active && e.InIndustrialPark && e.EnrolledOn(domain.Pension, q.AsOf) == 0 {
		flags = append(flags, Flag{Kind: FlagParkEmployerNotEnrolled, EmployerID: id, Detail: "industrial-park employer with no pension enrollment"})
	}
	if active && !e.Kind.Individual() && e.RiskClass == 3 && e.EnrolledOn(domain.WorkInjury, q.AsOf) == 0 {
		flags = append(flags, Flag{Kind: FlagHighRiskWithoutWorkInjury, EmployerID: id, Detail: "risk class 3 employer with no work-injury enrollment"})
	}
	return flags
}
