package demo

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/google/uuid"
	"github.com/kuozheng/kuozheng/domain"
)

// drawPlans decides every employer's profile, then the rare events, then scales headcounts and
// contracts to the targets.
func (g *generator) drawPlans() {
	g.plans = make([]*plan, g.n)
	for i := range g.plans {
		p := g.draw(i)
		g.drawAttributes(p)
		g.identify(p)
		g.plans[i] = p
	}
	g.pickRare()
	g.parkInEveryCounty()
	g.scaleHeads()
	g.scaleContracts()
	for _, p := range g.plans {
		p.drawn()
	}
}

// identify gives the payer its identifiers: a unit the next organisation code (and from 2016
// the unified social credit code around it), an individual payer an id of its own.
func (g *generator) identify(p *plan) {
	if p.unit() {
		p.orgCode = orgCode(g.seed, g.units)
		p.id = domain.EmployerIDForOrgCode(p.orgCode)
		g.units++
		if p.enter >= creditCodesFrom {
			p.creditCode = creditCode(p)
		}
	} else {
		p.id = payerID(g.seed, p.idx)
	}
	p.certNo = fmt.Sprintf("赣社险登字%s%06d号", p.county.code, p.idx+1)
}

func (g *generator) draw(i int) *plan {
	src := rand.NewPCG(g.seed, uint64(i))
	r := rand.New(src)
	p := &plan{idx: i, r: r, src: src, enter: FirstYear}
	g.drawProfile(p)
	c := p.county

	// The April survey: a share of units turns out never to have registered.
	p.surveyOn = workday(between(r, day(4, 3), day(4, 28)), day(4, 3), day(4, 28))
	if p.unit() && r.Float64() < 0.12*(0.75+0.6*c.grade) {
		p.found = true
		switch x := r.Float64(); {
		case x < 0.45:
			p.regOn = between(r, day(5, 8), day(5, 31))
		case x < 0.65:
			p.regOn = between(r, day(6, 1), day(6, 30))
		case x < 0.85:
			p.regOn = between(r, day(7, 1), day(11, 25))
		}
		if p.regOn != 0 {
			p.regOn = workday(p.regOn, day(5, 2), day(11, 30))
		}
	} else {
		p.regOn = workday(between(r, day(4, 1), day(4, 20)), day(4, 1), day(4, 20))
		p.surveyOn = max(p.surveyOn, p.regOn)
	}
	if p.unit() && !p.found && r.Float64() < 0.09*(0.7+0.8*c.grade) {
		p.opening = true
		p.repay = r.Float64() < 0.5
	}
	if p.unit() && p.registered() && r.Float64() < 0.04*(0.7+0.6*c.grade) {
		p.audit = true
	}
	if p.underReport && r.Float64() < 0.5 {
		p.audit = true
	}
	p.unregistered = p.found && p.regOn == 0
	return p
}

// drawProfile draws who the payer is: county, kind, sector, ownership, name, size, wage,
// payment habits and the insurances it carries.
func (g *generator) drawProfile(p *plan) {
	r := p.r
	p.county = weighted(r, counties, func(c *county) float64 { return c.weight })
	c := p.county
	kinds := []struct {
		k domain.EmployerKind
		w float64
	}{{domain.KindEnterprise, 0.50}, {domain.KindInstitution, 0.10 * c.inst}, {domain.KindIndividualBusiness, 0.25 * c.indiv}, {domain.KindFlexible, 0.15 * c.indiv}}
	p.kind = weighted(r, kinds, func(k *struct {
		k domain.EmployerKind
		w float64
	}) float64 {
		return k.w
	}).k

	// Payment trouble is concentrated: most payers are steady, a few are chronic, more of them
	// in the counties with poor discipline.
	switch x := r.Float64(); {
	case x < 0.02+0.25*c.grade:
		p.prop = 5
	case x < 0.15+0.3*c.grade:
		p.prop = 1.8
	default:
		p.prop = 0.4
	}
	switch p.kind {
	case domain.KindEnterprise:
		p.sec = weighted(r, sectors, func(s *sector) float64 { return s.weight * tilt(c, s.key) })
		p.risk = p.sec.risk
		p.park = r.Float64() < min(0.95, p.sec.park*c.park)
		p.ownership = ownership(r, p.sec)
		if (p.ownership == "国有" || p.ownership == "集体") && c.grade > 0.4 {
			// Declining state and collective firms carry the heaviest arrears.
			p.prop *= 2
			if r.Float64() < 0.8*c.grade {
				p.prop = 5
			}
		}
		p.name = unitName(r, c, p.kind, p.sec, p.ownership)
		p.size = min(lognormal(r, p.sec.median*c.size, 1.1), 4000)
		p.wage = int(float64(p.sec.wageLo) + float64(p.sec.wageHi-p.sec.wageLo)*math.Pow(r.Float64(), 1.6))
		if r.Float64() < 0.03 {
			p.underReport = true
		}
	case domain.KindInstitution:
		p.risk = 1
		if r.Float64() < 0.1 {
			p.risk = 2
		}
		p.ownership = "国有"
		p.name = unitName(r, c, p.kind, nil, p.ownership)
		p.size = min(lognormal(r, 28*c.size, 0.9), 2500)
		p.wage = 1300 + r.IntN(1000)
		p.prop *= 0.5 // budget-funded: they pay, if sometimes late
	default:
		p.risk = 1
		if r.Float64() < 0.15 {
			p.risk = 2
		}
		p.ownership = "个体"
		if p.kind == domain.KindFlexible {
			p.ownership = "个人"
		}
		p.name = payerName(r, c, p.kind)
		p.size = 1
		p.wage = pick(r, []int{600, 600, 600, 650, 700, 800, 1000})
	}
	if p.unit() {
		// Sector wages are scaled to Ganzhou's 2006 contribution bases: most units declared near
		// the floor of 60% of the ~1,000 yuan average wage, which puts the city's pension
		// collections near the plan's 432 million yuan.
		p.wage = min(max(int(float64(p.wage)*c.wage*wageScale), 600), 1600)
		if p.underReport {
			p.wage = 450 + r.IntN(141)
		}
		if r.Float64() < 0.35 {
			p.raise = 0.03 + 0.07*r.Float64()
		}
	}
	g.drawCarry(p)
}

func tilt(c *county, key string) float64 {
	if t, ok := c.tilt[key]; ok {
		return t
	}
	return 1
}

func ownership(r *rand.Rand, s *sector) string {
	x := r.Float64()
	if x < s.state {
		return "国有"
	}
	x = (x - s.state) / (1 - s.state)
	switch {
	case x < 0.06:
		return "集体"
	case x < 0.16:
		return "股份制"
	case x < 0.21:
		return "外资"
	case x < 0.25:
		return "港澳台"
	}
	return "私营"
}

// drawCarry decides which insurances the payer carries and its headcount of each relative to
// its size. Institutions are mostly outside the enterprise pension scheme in 2006 but carry
// medical insurance, retirees included.
func (g *generator) drawCarry(p *plan) {
	r := p.r
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }
	set := func(k int, chance, lo, hi float64) {
		if r.Float64() < chance {
			p.carry[k], p.ratio[k] = true, u(lo, hi)
		}
	}
	switch p.kind {
	case domain.KindEnterprise:
		set(0, 0.97, 1, 1)
		set(1, 0.85, 0.85, 1)
		set(2, 0.88, 0.95, 1.15)
		set(3, []float64{0, 0.5, 0.75, 0.93}[p.risk], 0.85, 1)
		mat := 0.36
		if p.ownership == "国有" || p.ownership == "外资" || p.ownership == "港澳台" {
			mat = 0.7
		}
		set(4, mat, 0.6, 0.95)
		if !p.carry[0] && !p.carry[2] {
			p.carry[0], p.ratio[0] = true, 1
		}
	case domain.KindInstitution:
		set(0, 0.3, 1, 1)
		set(1, 0.92, 0.85, 1)
		set(2, 1, 1.05, 1.3)
		set(3, 0.12, 0.9, 1)
		set(4, 0.55, 0.7, 1)
	case domain.KindIndividualBusiness, domain.KindFlexible:
		p.carry[0], p.ratio[0] = true, 1
		med := 0.7
		if p.kind == domain.KindFlexible {
			med = 0.5
		}
		set(2, med, 1, 1)
	}
}

// pickRare chooses, with exact counts, the events too rare to leave to chance per employer, so
// that even a small ledger shows each of them.
func (g *generator) pickRare() {
	r := rand.New(rand.NewPCG(g.seed, math.MaxUint64))
	count := func(share float64) int { return max(1, int(math.Round(share*float64(g.n)))) }
	choose := func(n int, ok func(*plan) bool, do func(*plan)) {
		var pool []*plan
		for _, p := range g.plans {
			if ok(p) {
				pool = append(pool, p)
			}
		}
		r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		for _, p := range pool[:min(n, len(pool))] {
			do(p)
		}
	}
	plain := func(p *plan) bool {
		return p.registered() && !p.found && p.deregOn == 0 && p.bankruptOn == 0 && p.transferOn == 0
	}
	// Bankruptcies come from chronic payers or employers already in arrears.
	choose(count(0.0015), func(p *plan) bool {
		return plain(p) && p.kind == domain.KindEnterprise && (p.opening || p.prop >= 5)
	}, func(p *plan) {
		p.bankruptOn = workday(between(p.r, day(9, 1), day(12, 20)), day(9, 1), day(12, 22))
		p.prop, p.repay = 5, false
	})
	choose(count(0.004), func(p *plan) bool {
		return plain(p) && !p.opening && !p.audit && !p.underReport && p.prop < 1
	}, func(p *plan) {
		m := 8 + p.r.IntN(5)
		p.deregOn = workday(between(p.r, day(m, 16), day(m, 28)), day(m, 16), day(m, 28))
		p.clean = true
	})
	choose(count(0.002), func(p *plan) bool {
		return plain(p) && p.unit() && p.county.code != "360771"
	}, func(p *plan) {
		p.transferOn = workday(between(p.r, day(6, 1), day(10, 31)), day(6, 1), day(10, 31))
	})
	choose(count(0.01*0.6), func(p *plan) bool {
		return plain(p) && p.unit()
	}, func(p *plan) {
		p.changeOn = workday(between(p.r, day(5, 15), day(11, 30)), day(5, 15), day(11, 30))
	})
	choose(count(0.03*0.6), func(p *plan) bool {
		return plain(p) && p.unit() && !p.clean
	}, func(p *plan) { p.backDeclare = true })
}

// targets are the year-end insured the plan asks for, per insurance in domain.Insurances order.
func targets() [5]float64 {
	t := domain.DefaultTargets.City
	return [5]float64{
		float64(t[domain.TargetPensionInsured]),
		0.98 * float64(t[domain.TargetUnemploymentInsured]),
		float64(t[domain.TargetMedicalInsured]),
		float64(t[domain.TargetWorkInjuryInsured]),
		float64(t[domain.TargetMaternityInsured]),
	}
}

// scaleHeads turns relative sizes into headcounts so that the year-end insured of each insurance
// lands on the plan's target (scaled to the number of payers), then sets the survey workforce.
func (g *generator) scaleHeads() {
	tg := targets()
	var raw, fixed [5]float64
	for _, p := range g.plans {
		if !p.enrolledAtEnd() {
			continue
		}
		for k := range 5 {
			if !p.carry[k] {
				continue
			}
			if p.unit() {
				raw[k] += p.size * p.ratio[k]
			} else {
				fixed[k]++
			}
		}
	}
	f := &g.heads
	for k := range 5 {
		if raw[k] > 0 {
			f[k] = max(tg[k]*g.scale-fixed[k], 0) / raw[k]
		}
	}
	for _, p := range g.plans {
		r := p.r
		var top int64
		for k := range 5 {
			if !p.carry[k] {
				continue
			}
			h := int64(1)
			if p.unit() {
				h = max(1, int64(math.Round(p.size*p.ratio[k]*f[k])))
			}
			p.final[k], p.initial[k] = h, h
			top = max(top, h)
		}
		if top == 0 || !p.registered() {
			top = max(1, int64(math.Round(p.size*f[0])))
		}
		// Some grow during the year: a second enrollment raises the headcount.
		if p.unit() && p.registered() && r.Float64() < 0.3 {
			on := workday(between(r, day(6, 1), day(11, 30)), day(6, 1), day(11, 30))
			if on > p.regOn.AddDays(20) && (p.deregOn == 0 || on < p.deregOn) && (p.bankruptOn == 0 || on < p.bankruptOn) {
				p.growOn = on
				shrink := 0.85 + 0.12*r.Float64()
				for k := range 5 {
					if p.carry[k] {
						p.initial[k] = max(1, int64(math.Round(float64(p.final[k])*shrink)))
					}
				}
			}
		}
		cover := surveyCover(r, p) // drawn for every payer, so the draws after it stay as they were
		if !p.unit() {
			cover = 1
		}
		p.workforce = int64(math.Ceil(float64(top) * cover))
	}
}

// scaleContracts shares the plan's newly signed labour contracts among registered units by size.
func (g *generator) scaleContracts() {
	total := float64(domain.DefaultTargets.City[domain.TargetContractsSigned]) * g.scale
	w := make([]float64, len(g.plans))
	var sum float64
	for i, p := range g.plans {
		if p.unit() && p.registered() {
			var top int64
			for _, h := range p.final {
				top = max(top, h)
			}
			w[i] = float64(top) * (0.5 + p.r.Float64())
			sum += w[i]
		}
	}
	if sum == 0 {
		return
	}
	for i, p := range g.plans {
		p.contracts = int64(math.Round(total * w[i] / sum))
	}
}

// orgCode builds a valid GB 11714 organisation code: 8 digits from a permutation of the unit
// counter (7919 is prime to 10^7), so codes look scattered yet never repeat within a ledger.
func orgCode(seed uint64, n int) string {
	return domain.NumberedOrgCode(int(70000000 + (uint64(n)*7919+seed%10000000)%10000000))
}

// payerNamespace is the UUID namespace of the demo's individual payers.
var payerNamespace = uuid.UUID{0x6b, 0x75, 0x6f, 0x7a, 0x68, 0x65, 0x6e, 0x67, 0x2d, 0x64, 0x65, 0x6d, 0x6f, 0x2d, 0x69, 0x64}

// payerID is a UUIDv5 id derived from the seed and the payer's index: individual payers
// have no organisation code to derive one from, and a random id would break reproducibility.
func payerID(seed uint64, i int) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seed)
	binary.BigEndian.PutUint64(b[8:], uint64(i))
	return uuid.NewSHA1(payerNamespace, b[:]).String()
}
