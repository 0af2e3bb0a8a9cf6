package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kuozheng/kuozheng/domain"
)

// growth is the yearly growth of the payers in the ledger (net of those who leave): 20,000
// payers in 2006 become about 34,000 in 2015.
const growth = 1.06

// creditCodesFrom is the year from which new units register with a unified social credit code
// (GB 32100-2015, issued from October 2015).
const creditCodesFrom = 2016

// Campaign plays the demo ledger year after year from 2006: the 2006 campaign exactly as
// Generate plays it, then each later year for the payers still in the ledger and for those who
// enter during it (registrations through the year, about 6% more payers a year, net of those
// who deregister or go bankrupt). Between years it keeps only each payer's plan, a few hundred
// bytes; a payer's state in the ledger is asked of the caller at the start of each later year,
// so memory follows the payers played at once, not the ledger's history. The same Config
// always gives the same steps for every year, whichever years were played in the same run.
type Campaign struct {
	g    *generator
	year int
	ctx  domain.Context
	// played holds, by payer, what its play of the year did (the last play, if played again).
	played []YearStats
}

// YearStats counts what the payers played in a year did.
type YearStats struct {
	// Played is the payers whose year was played; Entered those who entered the ledger.
	Played, Entered int
	// Registered counts registrations (of entrants and of payers found unregistered earlier);
	// Left counts deregistrations, bankruptcies included.
	Registered, Left int
	// Active is the payers registered and not deregistered at the year's end.
	Active int
	// Steps counts the steps of the year.
	Steps int
}

// State gives a payer's state in the ledger at the start of the year being played: a copy the
// campaign may change, folded from the payer's events of the years before (nil when the
// payer has none).
type State func(employerID string) (*domain.Employer, error)

// NewCampaign draws the 2006 payers and begins 2006.
func NewCampaign(cfg Config) *Campaign {
	g := drawnGenerator(cfg)
	return &Campaign{g: g, year: FirstYear, ctx: g.ctx}
}

// Year is the year being played.
func (c *Campaign) Year() int { return c.year }

// Today is the business date while the year is played, its 31 December: every step of the
// year is dated in it, on or before Today.
func (c *Campaign) Today() domain.Date { return c.ctx.Today }

// Payers is how many payers are planned through the year being played: Steps takes ranges of
// 0 to Payers().
func (c *Campaign) Payers() int { return len(c.g.plans) }

// Reference lists the reference data to write before the year's activity (YearReference).
func (c *Campaign) Reference() []RefEvent { return YearReference(c.year) }

// Stats counts what the payers played in the year so far did.
func (c *Campaign) Stats() YearStats {
	var t YearStats
	for _, s := range c.played {
		t.Played += s.Played
		t.Entered += s.Entered
		t.Registered += s.Registered
		t.Left += s.Left
		t.Active += s.Active
		t.Steps += s.Steps
	}
	return t
}

// ClosingDay is the day the assessment team closes year y (年度结转): its first working day
// from 10 January of the next year. The year-end freeze is valid through 31 December of y.
func ClosingDay(y int) domain.Date {
	return workday(dateIn(y+1, 1, 10), dateIn(y+1, 1, 10), dateIn(y+1, 1, 14))
}

// Next begins the following year: the years before it count as closed, every payer's plan
// moves on a year (a payer planned to leave in the year played is gone), and the year's
// entrants are drawn. Plans move on by their own random streams, never by what the steps
// did, so a year's plans are the same whether or not the years before it were played.
func (c *Campaign) Next() error {
	y := c.year + 1
	if y > MaxYear {
		return fmt.Errorf("demo: a campaign runs from %d to %d at most", FirstYear, MaxYear)
	}
	c.year = y
	c.ctx = domain.Context{Ref: referenceFor(y), Today: yearEnd(y)}
	alive, leaving := 0, 0
	for _, p := range c.g.plans {
		c.g.evolve(p, y)
		if !p.gone {
			alive++
			if p.deregOn != 0 || p.bankruptOn != 0 {
				leaving++
			}
		}
	}
	target := int(math.Round(float64(c.g.n) * math.Pow(growth, float64(y-FirstYear))))
	for range max(0, target-(alive-leaving)) {
		c.g.plans = append(c.g.plans, c.g.entrant(len(c.g.plans), y, c.ctx.Ref))
	}
	c.played = nil
	return nil
}

// Steps plays the year of the payers lo to hi-1 (in parallel: each payer has its own random
// stream) and returns their steps, each payer's in order, payers in index order. state gives
// the state of a payer who entered in an earlier year; 2006 needs none. Playing payers again
// from the same states gives the same steps.
func (c *Campaign) Steps(lo, hi int, state State) ([]Step, error) {
	lo, hi = max(lo, 0), min(hi, len(c.g.plans))
	if lo >= hi {
		return nil, nil
	}
	if len(c.played) < len(c.g.plans) {
		c.played = append(c.played, make([]YearStats, len(c.g.plans)-len(c.played))...)
	}
	outs := make([][]datedStep, hi-lo)
	results := make([]outcome, hi-lo)
	errs := make([]error, hi-lo)
	var next atomic.Int64
	next.Store(int64(lo))
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= hi {
					return
				}
				outs[i-lo], results[i-lo], errs[i-lo] = c.play(c.g.plans[i], state)
			}
		})
	}
	wg.Wait()
	var steps []Step
	for i := range outs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		st := YearStats{Steps: len(outs[i])}
		for _, s := range outs[i] {
			steps = append(steps, s.Step)
			switch cmd := s.Command.(type) {
			case *domain.RegisterEmployer:
				st.Entered++
				if cmd.RegisteredOn != "" {
					st.Registered++
				}
			case *domain.CompleteRegistration:
				st.Registered++
			case *domain.Deregister:
				st.Left++
			}
		}
		if results[i].played {
			st.Played = 1
		}
		if results[i].active {
			st.Active = 1
		}
		c.played[lo+i] = st
	}
	return steps, nil
}

// outcome is how a payer's year ended: played at all, and registered and in the ledger at its end.
type outcome struct{ played, active bool }

// play plays one payer's year.
func (c *Campaign) play(p *plan, state State) ([]datedStep, outcome, error) {
	var s *sim
	switch {
	case c.year == FirstYear:
		s = newSim(c.g, p)
		s.run()
	case p.gone || p.enter > c.year:
		return nil, outcome{}, nil
	case p.enter == c.year:
		s = c.newSim(p)
		s.run()
	default:
		e, err := state(p.id)
		if err != nil {
			return nil, outcome{}, fmt.Errorf("the state of payer %d (%s) at the start of %d: %w", p.idx, p.id, c.year, err)
		}
		if e == nil || e.Deregistered {
			return nil, outcome{}, nil
		}
		s = c.newSim(p)
		s.e, s.seq = *e, e.Version
		s.compact()
		s.resume()
		s.play()
	}
	return s.out, outcome{played: true, active: s.e.Registered && !s.e.Deregistered}, nil
}

// newSim plays p's year after 2006.
func (c *Campaign) newSim(p *plan) *sim {
	p.rewind()
	return &sim{plan: p, g: c.g, field: c.g.fieldStream(p.idx, c.year), year: c.year, end: c.ctx.Today, ctx: c.ctx, now: dateIn(c.year, 1, 1),
		e: domain.Employer{SkipHistory: true}, due: map[domain.Period][]lineDue{}, declaredOn: map[domain.Period]domain.Date{}}
}

// yearStream is the payer's random stream for year y (after 2006, whose streams draw keeps):
// the payer's index and the year, so that no two streams of a ledger coincide.
func (g *generator) yearStream(i, y int) (*rand.Rand, *rand.PCG) {
	src := rand.NewPCG(g.seed, uint64(y)<<40|uint64(i))
	return rand.New(src), src
}

// evolve moves a payer's plan on to year y: a payer planned to leave in y-1 is gone; the
// others' headcounts and wages move, their habits drift a little, and what happens to them in y
// is drawn (survey, registration of one found unregistered, audit, transfer, change, contracts,
// deregistration or bankruptcy).
func (g *generator) evolve(p *plan, y int) {
	if p.gone {
		return
	}
	if p.deregOn != 0 || p.bankruptOn != 0 {
		p.gone, p.r, p.src = true, nil, nil
		return
	}
	r, src := g.yearStream(p.idx, y)
	c := p.county
	audited := p.audit
	*p = plan{idx: p.idx, r: r, src: src, id: p.id, county: c, kind: p.kind, sec: p.sec, name: p.name, ownership: p.ownership,
		risk: p.risk, park: p.park, orgCode: p.orgCode, creditCode: p.creditCode, certNo: p.certNo, enter: p.enter,
		unregistered: p.unregistered, size: p.size, carry: p.carry, ratio: p.ratio, final: p.final, initial: p.final,
		wage: p.wage, underReport: p.underReport, prop: p.prop,
		industry: p.industry, named: p.named, ownCode: p.ownCode, parkName: p.parkName, agency: p.agency, migrants: p.migrants, retirees: p.retirees}
	defer p.drawn()

	// Units grow a little on the whole, some a lot and some shrink; a quarter take on staff
	// during the year.
	if p.unit() {
		f := lognormal(r, 1.025, 0.07)
		for k := range 5 {
			if p.carry[k] {
				p.initial[k] = max(1, int64(math.Round(float64(p.final[k])*f)))
				p.final[k] = p.initial[k]
			}
		}
		if r.Float64() < 0.25 {
			p.growOn = workday(between(r, dateIn(y, 3, 1), dateIn(y, 11, 30)), dateIn(y, 3, 1), dateIn(y, 11, 30))
			f := 1.03 + 0.12*r.Float64()
			for k := range 5 {
				if p.carry[k] {
					p.final[k] = max(p.initial[k], int64(math.Round(float64(p.initial[k])*f)))
				}
			}
		}
	}

	// Wages follow the city's average wage; the contribution base is floored at 60% of it,
	// except by those who under-report until an audit corrects them.
	avg := float64(averageWage(y)) / 100
	w := float64(p.wage) * float64(averageWage(y)) / float64(averageWage(y-1)) * lognormal(r, 1, 0.03)
	if p.underReport && audited {
		p.underReport = false
		w = avg * (0.85 + 0.2*r.Float64())
	}
	if !p.underReport {
		w = max(w, 0.6*avg)
	}
	p.wage = int(math.Round(w))
	if p.unit() && r.Float64() < 0.35 {
		p.raise = 0.03 + 0.07*r.Float64()
	}

	// Habits drift: now and then a steady payer falls into difficulty, or a chronic one recovers.
	switch x := r.Float64(); {
	case x < 0.02:
		p.prop = 5
	case x < 0.08 && p.prop >= 1.8:
		p.prop = max(0.4, p.prop/2.5)
	}

	p.surveyOn = workday(between(r, dateIn(y, 4, 3), dateIn(y, 4, 28)), dateIn(y, 4, 3), dateIn(y, 4, 28))
	p.workforce = workforce(r, p)
	if p.unregistered && r.Float64() < 0.5 {
		p.regOn = workday(between(r, dateIn(y, 3, 1), dateIn(y, 11, 25)), dateIn(y, 3, 1), dateIn(y, 11, 25))
		p.unregistered = false
	}
	if p.unregistered {
		return
	}
	if p.unit() {
		p.audit = r.Float64() < 0.045*(0.7+0.6*c.grade) || (p.underReport && r.Float64() < 0.5)
		if c.code != "360771" && r.Float64() < 0.002 {
			p.transferOn = workday(between(r, dateIn(y, 3, 1), dateIn(y, 10, 31)), dateIn(y, 3, 1), dateIn(y, 10, 31))
		}
		if r.Float64() < 0.006 {
			p.changeOn = workday(between(r, dateIn(y, 3, 1), dateIn(y, 11, 30)), dateIn(y, 3, 1), dateIn(y, 11, 30))
		}
		p.contracts = int64(math.Round(float64(top(p)) * (0.05 + 0.25*r.Float64())))
	}
	if p.regOn != 0 {
		return // registers this year: it does not also leave
	}
	m := 2 + r.IntN(11)
	exit := workday(between(r, dateIn(y, m, 16), dateIn(y, m, 28)), dateIn(y, m, 16), dateIn(y, m, 28))
	switch x := r.Float64(); {
	case p.kind == domain.KindEnterprise && p.prop >= 5 && x < 0.015:
		p.bankruptOn = exit
	case p.unit() && x >= 0.975:
		p.deregOn = exit
	case !p.unit() && x >= 0.95:
		p.deregOn = exit
	}
}

// top is the payer's largest headcount at the year's end.
func top(p *plan) int64 {
	var t int64
	for _, h := range p.final {
		t = max(t, h)
	}
	return max(t, 1)
}

// workforce is what the year's survey counts: the persons who should be insured, at least the
// insured, more where the county enrolls worse.
func workforce(r *rand.Rand, p *plan) int64 {
	if !p.unit() {
		return 1
	}
	return int64(math.Ceil(float64(top(p)) * surveyCover(r, p)))
}

// surveyCover draws how many persons a unit's survey counts for each one insured at the most:
// more where the county enrolls worse.
func surveyCover(r *rand.Rand, p *plan) float64 {
	cover := 1.05 + 0.2*r.Float64()
	switch x := r.Float64(); {
	case x < 0.08+0.1*p.county.grade:
		cover = 1.25 + 0.35*r.Float64()
	case x > 0.92:
		cover = 1 + 0.05*r.Float64()
	}
	return cover
}

// entrant draws payer i, who enters the ledger in year y: registered on a working day of the
// year, or (a few units) found unregistered by an inspection and registered later, if at all.
// Its wage is of y, its headcounts sized as 2006's payers', and a unit from 2016 on registers
// with a unified social credit code; a payer of a county whose code changed registers under
// the new code and name.
func (g *generator) entrant(i, y int, ref *domain.Reference) *plan {
	r, src := g.yearStream(i, y)
	p := &plan{idx: i, r: r, src: src, enter: y}
	g.drawProfile(p)
	c := p.county
	p.wage = int(math.Round(float64(p.wage) * wageIndex(y)))
	for k := range 5 {
		if p.carry[k] {
			h := int64(1)
			if p.unit() {
				h = max(1, int64(math.Round(p.size*p.ratio[k]*g.heads[k])))
			}
			p.initial[k], p.final[k] = h, h
		}
	}
	on := workday(between(r, dateIn(y, 1, 5), dateIn(y, 12, 20)), dateIn(y, 1, 5), dateIn(y, 12, 22))
	p.regOn = on
	april := workday(between(r, dateIn(y, 4, 3), dateIn(y, 4, 28)), dateIn(y, 4, 3), dateIn(y, 4, 28))
	p.surveyOn = max(april, on)
	if p.unit() && r.Float64() < 0.08*(0.75+0.6*c.grade) {
		p.found, p.surveyOn, p.regOn = true, on, 0
		if later := on.AddDays(20 + r.IntN(120)); r.Float64() < 0.65 && later <= dateIn(y, 12, 20) {
			p.regOn = workday(later, on.AddDays(20), dateIn(y, 12, 22))
		}
		p.unregistered = p.regOn == 0
	}
	p.workforce = workforce(r, p)
	if p.unit() {
		p.contracts = int64(math.Round(float64(top(p)) * (0.3 + 0.6*r.Float64())))
	}
	g.drawAttributes(p)
	if code := ref.CountyCodeOn(c.code, on); code != c.code {
		if now, ok := ref.County(code); ok {
			p.name = strings.Replace(p.name, c.name, now.Name, 1)
		}
	}
	g.identify(p)
	p.drawn()
	return p
}

// creditCode builds a unit's unified social credit code around its organisation code: the
// registering authority (91 the market regulator for an enterprise, 12 the staffing office for
// an institution), the county, the organisation code, the check character.
func creditCode(p *plan) string {
	kind := "91"
	if p.kind == domain.KindInstitution {
		kind = "12"
	}
	body := kind + p.county.code + strings.Replace(p.orgCode, "-", "", 1)
	check, err := domain.CreditCodeCheck(body)
	if err != nil {
		panic(err) // digits and the organisation code's check character: cannot happen
	}
	return body + string(check)
}

// resume plans the year of a payer already in the ledger, whose state s.e holds: the survey, a
// registration still due, January's new headcounts, the declarations from last December's on,
// the repayment of arrears carried over, and the rest of the year's business (planYear).
func (s *sim) resume() {
	jan := s.now
	s.at(s.surveyOn, s.survey)
	if !s.e.Registered {
		if s.regOn != 0 {
			s.at(s.regOn, s.completeRegistration)
		}
		return
	}
	s.first = s.e.RegisteredOn.Period()
	if s.unit() && slices.ContainsFunc(domain.Insurances, func(ins domain.Insurance) bool {
		k := ins.Rank()
		return s.carry[k] && s.e.Enrolled[ins] != s.initial[k]
	}) {
		s.at(workday(s.day(1, 5), jan, s.day(1, 9)), func(x domain.Date) { s.enroll(x, s.initial) })
	}
	t := s.statement(jan).Totals
	s.owes = t.ArrearsPriorYearsFen > 0
	s.planYear(jan, max(s.first, s.period(1).Prev()))
	if t.ArrearsPriorYearsFen > 0 {
		s.planRecovery()
	}
}

// planRecovery plans the repayment of arrears carried over from earlier years (清欠), in one to
// three instalments, more likely in counties that enforce and from payers of better habits;
// the last instalment clears them and now and then their late fees with them.
func (s *sim) planRecovery() {
	r := s.r
	if r.Float64() >= (0.3+0.45*s.county.vigor)/math.Sqrt(s.prop) {
		return
	}
	n := 1 + r.IntN(3)
	dates := make([]domain.Date, n)
	for i := range dates {
		dates[i] = workday(between(r, s.day(3, 1), s.day(12, 20)), s.day(3, 1), s.day(12, 22))
	}
	slices.Sort(dates)
	prior := func(l domain.LineState) bool { return l.Period.Year() < s.year }
	for i, x := range dates {
		switch {
		case i == n-1 && r.Float64() < 0.25:
			s.at(x, func(y domain.Date) { s.payLines(y, 1, true, prior) })
		default:
			s.at(x, func(y domain.Date) { s.repayPrior(y, i == n-1) })
		}
	}
}
