package projections

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/kuozheng/kuozheng/domain"
)

// Flag kinds.
const (
	FlagArrearsWithoutEnforcement = "arrears_without_enforcement"
	FlagWaiverReview              = "waiver_review"
	FlagBaseBelowFloor            = "base_below_floor"
	FlagParkEmployerNotEnrolled   = "park_employer_not_enrolled"
	FlagHighRiskWithoutWorkInjury = "high_risk_without_work_injury"
	FlagWorkInjuryTarget          = "work_injury_target_not_enrolled"
)

// FlagKinds lists the flag kinds in the order reports show them.
var FlagKinds = []string{FlagArrearsWithoutEnforcement, FlagWaiverReview, FlagBaseBelowFloor, FlagParkEmployerNotEnrolled, FlagHighRiskWithoutWorkInjury,
	FlagWorkInjuryTarget}

var flagMeaning = map[string]string{
	FlagArrearsWithoutEnforcement: "arrears past the grace period with no enforcement step since they fell due",
	FlagWaiverReview:              "a principal waiver, or a late-fee waiver over half the fee (随意减免 review)",
	FlagBaseBelowFloor:            "declared base per head under 60% of the average wage",
	FlagParkEmployerNotEnrolled:   "industrial-park employer without pension enrollment",
	FlagHighRiskWithoutWorkInjury: "risk class 3 employer without work-injury enrollment",
	FlagWorkInjuryTarget:          "payer of the plan's work-injury target (coal, mining, construction, furniture, other high-risk, risk class 3) not enrolled in work injury",
}

// flagCountDetail words a count of n flags of kind: one flag an employer for every kind but
// waiver_review, raised once for each waiver it is about.
func flagCountDetail(kind string, n int64) string {
	unit := "employers"
	if kind == FlagWaiverReview {
		unit = "waivers"
	}
	return fmt.Sprintf("%d %s: %s", n, unit, flagMeaning[kind])
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
	// WaivedInAllFen is what the line's late-fee waivers took in all with this one, when others
	// came before it: the amount judged against half the fee accrued.
	WaivedInAllFen domain.Fen `json:"waived_in_all_fen,omitempty"`
	// A base under the floor: the declared base of the line (for all its persons), the
	// persons, and the month's average wage.
	WageBaseFen    domain.Fen `json:"wage_base_fen,omitempty"`
	Headcount      int64      `json:"headcount,omitempty"`
	AverageWageFen domain.Fen `json:"average_wage_fen,omitempty"`
	// A payer of the work-injury target: its named sector (none: risk class 3).
	Sector string `json:"sector,omitempty"`
}

// lateFeeWaivedBy gives each late-fee waiver decided by asOf (by its index in waivers) the late
// fee its line's waivers decided on or before it had taken in all: by date, a day's in the order
// recorded.
func lateFeeWaivedBy(waivers []domain.WaiverGranted, asOf domain.Date) map[int]domain.Fen {
	var order []int
	for i, w := range waivers {
		if w.Kind == domain.WaiverLateFee && w.DecidedOn <= asOf {
			order = append(order, i)
		}
	}
	if len(order) == 0 {
		return nil
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(waivers[a].DecidedOn, waivers[b].DecidedOn) })
	by := make(map[int]domain.Fen, len(order))
	sum := map[domain.LineKey]domain.Fen{}
	for _, i := range order {
		line := domain.LineKey{Period: waivers[i].Period, Insurance: waivers[i].Insurance}
		sum[line] += waivers[i].AmountFen
		by[i] = sum[line]
	}
	return by
}

// employerFlags raises the accountability flags of API.md on one employer as of q.AsOf, its
// registration facts those of profile, as of q.AsOf (a change dated later does not count yet).
func employerFlags(id string, e *domain.Employer, profile *domain.Profile, ref *domain.Reference, q Query, st domain.Statement) []Flag {
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
	// A line's late fee waived in parts is judged by what its waivers took in all by each one's
	// date (in the order of their dates, whatever the order they were recorded in): two waivers
	// of 49% each are over half the fee as one of 98% is.
	waivedBy := lateFeeWaivedBy(e.History.Waivers, q.AsOf)
	var accruedNow map[int]domain.Fen
	if q.follows(rulesAccruedAsNow) {
		accruedNow = e.FeesAccruedBy(q.AsOf, ref.LateFees)
	}
	for i, w := range e.History.Waivers {
		if w.DecidedOn > q.AsOf {
			continue
		}
		facts := &FlagFacts{Waiver: w.Kind, Insurance: w.Insurance, Period: w.Period, AuthorityDoc: w.AuthorityDoc}
		if w.Kind == domain.WaiverPrincipal {
			facts.Basis = w.Basis
			flags = append(flags, Flag{Kind: FlagWaiverReview, EmployerID: id, Detail: fmt.Sprintf("principal waiver of %s yuan on %s %s (%s, %s) on %s", w.AmountFen, w.Insurance, w.Period, w.Basis, w.AuthorityDoc, w.DecidedOn),
				AmountFen: w.AmountFen, Since: w.DecidedOn, Facts: facts})
			continue
		}
		all := waivedBy[i]
		if !q.follows(rulesWaivedInAll) {
			all = w.AmountFen
		}
		// The fee the line accrued by the waiver's date as its events now fold (a void or a
		// payment recorded since moves it), not as it stood when the waiver was decided; a line
		// no longer held (its events voided before voids that left a waiver less to waive were
		// refused) keeps what the decision saw.
		accrued := w.AccruedFeeFen
		if fee, ok := accruedNow[i]; ok {
			accrued = fee
		}
		if accrued <= 0 || 2*all <= accrued {
			continue
		}
		facts.AccruedFeeFen = accrued
		if all != w.AmountFen {
			facts.WaivedInAllFen = all
		}
		detail := fmt.Sprintf("late-fee waiver of %s yuan is over half the %s yuan accrued on %s %s (%s) on %s", w.AmountFen, accrued, w.Insurance, w.Period, w.AuthorityDoc, w.DecidedOn)
		if all != w.AmountFen {
			detail = fmt.Sprintf("late-fee waiver of %s yuan makes %s yuan waived in all, over half the %s yuan accrued on %s %s (%s) on %s", w.AmountFen, all, accrued, w.Insurance, w.Period, w.AuthorityDoc, w.DecidedOn)
		}
		flags = append(flags, Flag{Kind: FlagWaiverReview, EmployerID: id, Detail: detail, AmountFen: w.AmountFen, Since: w.DecidedOn, Facts: facts})
	}
	d, ok := e.History.DeclarationOn(q.Period, q.AsOf)
	if !q.follows(rulesDeclarationOn) {
		// By the rules before: the latest declaration, if dated by as_of (hid the one before).
		d, ok = e.History.Declaration(q.Period)
		ok = ok && d.On <= q.AsOf
	}
	if ok {
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
	park, risk := profile.InIndustrialPark, profile.RiskClass
	if !q.follows(rulesWhereSigned) {
		park, risk = e.InIndustrialPark, e.RiskClass
	}
	if active && park && e.EnrolledOn(domain.Pension, q.AsOf) == 0 {
		flags = append(flags, Flag{Kind: FlagParkEmployerNotEnrolled, EmployerID: id, Detail: "industrial-park employer with no pension enrollment"})
	}
	if active && !e.Kind.Individual() && risk == 3 && e.EnrolledOn(domain.WorkInjury, q.AsOf) == 0 {
		flags = append(flags, Flag{Kind: FlagHighRiskWithoutWorkInjury, EmployerID: id, Detail: "risk class 3 employer with no work-injury enrollment"})
	}
	if m, ok := missingWorkInjury(e, q.AsOf); ok {
		flags = append(flags, Flag{Kind: FlagWorkInjuryTarget, EmployerID: id, Detail: m.detail, Since: m.since, Facts: &FlagFacts{Sector: m.sector}})
	}
	return flags
}

// sectorNames are the plan's names of its sectors.
var sectorNames = map[string]string{domain.SectorCoal: "煤矿", domain.SectorMining: "非煤矿山", domain.SectorConstruction: "建筑施工",
	domain.SectorFurniture: "家具制造", domain.SectorHighRisk: "其他高风险"}

// workInjuryGap is a payer of the plan's work-injury target not enrolled in work injury.
type workInjuryGap struct {
	sector string      // its named sector ("": risk class 3)
	since  domain.Date // since when it has been a registered payer of the target
	detail string
}

// missingWorkInjury checks the plan's work-injury rule (一(一): every coal, construction,
// furniture and high-risk payer enrolled in work injury this year) on one payer as of d: a payer
// of the high_risk segment by its registration facts of d (a named sector, or risk class 3),
// active and registered on d, of a kind that carries work injury, with no work-injury headcount
// on d. The gap dates from the later of its registration and the day it last entered the
// segment.
func missingWorkInjury(e *domain.Employer, d domain.Date) (workInjuryGap, bool) {
	if !e.ActiveOn(d) || !e.Registered || e.RegisteredOn > d || !e.Kind.Carries(domain.WorkInjury) || e.EnrolledOn(domain.WorkInjury, d) > 0 {
		return workInjuryGap{}, false
	}
	p := e.ProfileOn(d)
	if !p.In(domain.SegmentHighRisk) {
		return workInjuryGap{}, false
	}
	g := workInjuryGap{sector: p.Sector, since: max(e.RegisteredOn, e.InSegmentSince(domain.SegmentHighRisk, d))}
	what := "risk class 3"
	if p.Sector != "" {
		what = fmt.Sprintf("sector %s (%s)", p.Sector, sectorNames[p.Sector])
	}
	g.detail = fmt.Sprintf("%s, registered %s: no work-injury enrollment, which the plan requires of every coal, construction, furniture and high-risk payer", what, e.RegisteredOn)
	return g, true
}
