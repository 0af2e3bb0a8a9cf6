package demo

import (
	"github.com/kuozheng/kuozheng/domain"
)

// Field work (三(三)、(四)): inspections are recorded whether or not they find anything. Those that
// find something stand beside the audit finding they found, on the same day; the others are
// planned here, drawn from the payer's field stream (s.field), so that the payer's own draws,
// and with them its money, are those of a ledger without them.

// crossGroups numbers the supervision groups' cross-inspection teams.
var crossGroups = []string{"一", "二", "三", "四", "五", "六"}

// team is who inspects the payer on d: in the 2006 campaign the city's inspectors cross-inspect
// the parks (分组交叉对全市工业园区开展社会保险稽核), each group's team the counties of the next
// group; otherwise the county's own labour inspectorate.
func (s *sim) team() string {
	name := s.county.name
	c, ok := s.ctx.Ref.County(s.e.County)
	if ok {
		name = c.Name
	}
	if ok && s.year == FirstYear && s.e.InIndustrialPark && c.Group > 0 {
		return "市扩面征缴交叉检查第" + crossGroups[c.Group%len(crossGroups)] + "组"
	}
	return name + "劳动保障监察大队"
}

// recordFinding records an audit finding and, before it on the same day, the inspection that found it;
// neither when the finding would be refused.
func (s *sim) recordFinding(d domain.Date, f *domain.RecordAuditFinding) []domain.Payload {
	cp := *f
	if cp.Check(s.ctx) != nil {
		return nil
	}
	if _, err := cp.Decide(&s.e, s.ctx); err != nil {
		return nil
	}
	scope, note := domain.ScopeWageBase, "少报缴费基数，责令限期补报"
	switch f.Kind {
	case domain.FindingMissedWorkers:
		scope, note = domain.ScopeRegistration, "漏报参保人数，责令限期补报"
	case domain.FindingUnregistered:
		scope, note = domain.ScopeRegistration, "未办理社会保险登记，责令限期登记"
	}
	do(s, &domain.RecordInspection{On: ds(d), Team: s.team(), Scope: scope, Result: domain.InspectionFindings, Note: note})
	return do(s, f)
}

// planInspection plans the year's inspection of a registered unit that no audit finding awaits:
// in 2006 most park employers, in the campaign's common weeks of July to September; a fifth of
// the high-risk payers (work-injury enrollment is the plan's check of them); a few others.
// Later years inspect all year round, fewer of them.
func (s *sim) planInspection(d domain.Date) {
	if !s.unit() || s.clean || s.audit {
		return
	}
	f := s.field
	lo, hi := s.day(6, 1), s.day(11, 30)
	chance := 0.04
	switch {
	case s.e.InIndustrialPark && s.year == FirstYear:
		lo, hi, chance = s.day(7, 3), s.day(9, 29), 0.8
	case s.e.InIndustrialPark:
		chance = 0.35
	case s.named != "" || s.e.RiskClass == 3:
		chance = 0.2
	}
	if s.year > FirstYear {
		lo, chance = s.day(3, 1), chance*0.7
	}
	lo = max(lo, d.AddDays(7))
	if f.Float64() >= chance || lo > hi {
		return
	}
	s.at(workday(between(f, lo, hi), lo, hi), s.inspectClean)
}

// inspectClean records an inspection that found nothing: of registration and enrollment, the
// wage base, or payment (only of a payer with nothing overdue), or all of these.
func (s *sim) inspectClean(d domain.Date) {
	if !s.e.Registered || s.e.Deregistered {
		return
	}
	f := s.field
	scope := domain.ScopeRegistration
	switch x := f.Float64(); {
	case s.underReport: // an inspection of its wage base would have found something
	case x < 0.3 && s.arrears(d) == 0:
		scope = domain.ScopeFull
	case x < 0.5 && s.arrears(d) == 0:
		scope = domain.ScopePayment
	case x < 0.75:
		scope = domain.ScopeWageBase
	}
	do(s, &domain.RecordInspection{On: ds(d), Team: s.team(), Scope: scope, Result: domain.InspectionClean})
}
