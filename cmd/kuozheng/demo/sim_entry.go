package demo

import (
	"fmt"
	"math"
	"strings"

	"github.com/kuozheng/kuozheng/domain"
)

func (s *sim) register(d domain.Date, found bool) bool {
	// A county's new code (南康市 became 南康区 in 2013) is the one registrations use from its date.
	cmd := &domain.RegisterEmployer{Name: s.name, County: s.ctx.Ref.CountyCodeOn(s.county.code, d), OrgCode: s.orgCode, CreditCode: s.creditCode, Kind: string(s.kind),
		Ownership: s.ownership, RiskClass: num(int64(s.risk))}
	if s.park {
		in := true
		cmd.InIndustrialPark = &in
	}
	s.attributes(cmd)
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
			s.recordFinding(x, &domain.RecordAuditFinding{FoundOn: ds(x), Kind: domain.FindingUnregistered, Period: ps(x.Period()),
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

// survey records the April survey's count, migrant workers among it.
func (s *sim) survey(d domain.Date) {
	cmd := &domain.RecordSurvey{AsOf: ds(d), Workforce: num(s.workforce)}
	if m := int64(math.Round(float64(s.workforce) * s.migrants)); m > 0 {
		cmd.Migrants = num(min(m, s.workforce))
	}
	do(s, cmd)
}

// enroll records the headcount of every insurance the payer carries on d.
func (s *sim) enroll(d domain.Date, heads [5]int64) {
	for k := range domain.Insurances {
		if s.carriesOn(k, d) {
			s.enrollIn(d, k, heads[k])
		}
	}
}

// enrollIn records the headcount of insurance k, its migrant workers and, for medical
// insurance, the retirees beside it.
func (s *sim) enrollIn(d domain.Date, k int, h int64) {
	ins := domain.Insurances[k]
	cmd := &domain.RecordEnrollment{Insurance: string(ins), Headcount: num(h), EffectiveOn: ds(d)}
	if m := s.migrantsOf(k, h); m > 0 {
		cmd.Migrants = num(m)
	}
	if ins == domain.Medical {
		if n := s.retireesBeside(h); n > 0 {
			cmd.Retirees = num(n)
		}
	}
	do(s, cmd)
}

// joinWorkInjury enrolls in work injury a high-risk payer the campaign pushed into it.
func (s *sim) joinWorkInjury(d domain.Date) {
	if !s.e.Registered || s.e.Deregistered {
		return
	}
	h := s.initial[workInjury]
	if s.growOn != 0 && s.growOn <= d {
		h = s.final[workInjury]
	}
	s.enrollIn(d, workInjury, h)
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
	// Into the zone is into its park; a park employer moves into the park of its new county.
	if park := parkOf(to, s.sec); park != s.e.Park && (to == "360771" || s.e.InIndustrialPark) {
		cmd := &domain.ChangeEmployer{On: ds(d)}
		cmd.Park = &park
		do(s, cmd)
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
		own, code := "股份制", "160" // 股份有限（公司）
		cmd := &domain.ChangeEmployer{On: ds(d), Name: &name, Ownership: &own}
		cmd.OwnershipCode = &code
		do(s, cmd)
		return
	}
	risk := s.e.RiskClass + 1
	if risk > 3 {
		risk = 2
	}
	rc := num(int64(risk))
	do(s, &domain.ChangeEmployer{On: ds(d), RiskClass: &rc})
}
