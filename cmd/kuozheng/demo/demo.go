// Package demo generates a realistic, reproducible ledger of the 2006 Ganzhou social-insurance
// campaign: the April survey, registrations (with the payers' industry, sector, park and
// economic type), enrollments (migrant workers, retirees), monthly declarations and payments,
// arrears and their recovery, audits and inspections, enforcement, waivers, contracts, transfers
// and deregistrations, for 19 counties that differ in size and discipline (Generate); and, year by
// year, the years after it (Campaign), with each year's reference data (YearReference). It only
// builds commands; executing them is the caller's business.
package demo

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/kuozheng/kuozheng/domain"
)

// Config chooses the ledger to generate.
type Config struct {
	// Employers is the number of payers (default 20000, the size at which the totals match the
	// plan's city-wide targets; totals scale linearly with it; at most 10 million).
	Employers int
	// Seed selects the ledger (default 2006); the same Config always gives the same steps.
	Seed uint64
}

// Step is one command for one employer, in the order it must be executed.
type Step struct {
	// Payer is the payer's index in the ledger (0 to Employers-1 for the 2006 payers, then the
	// later entrants), and N the step's number among the payer's steps of its year, from 0:
	// with the year they name the step for ever, whatever else is generated.
	Payer, N int
	// EmployerID is the employer's id: derived from the organisation code for a unit, a fixed
	// UUID-like id for an individual payer.
	EmployerID string
	// Create is true for the step that enters the employer in the ledger (its RegisterEmployer).
	Create bool
	// Command passes Check and Decide when the steps are executed in order with Today as the
	// business date and the default reference data.
	Command domain.Command
}

// Today is the demo ledger's business date: every step is dated on or before it.
var Today = domain.MustDate("2006-12-31")

// FirstYear is the year every demo ledger starts with: the 2006 campaign of the plan.
const FirstYear = 2006

// MaxYear is the last year a Campaign plays.
const MaxYear = 2020

// scaleBase is the number of payers at which the plan's city-wide targets are met.
const scaleBase = 20000

// maxEmployers bounds Config.Employers: organisation codes are drawn from 10^7 numbers.
const maxEmployers = 10_000_000

// wageScale brings sector wages (urban levels) to the bases Ganzhou's payers declared in 2006.
const wageScale = 0.62

// Generate returns the steps of the demo ledger, ordered by business date (an employer's own
// steps keep their order). The same Config always gives the same steps, byte for byte; every
// amount is whole fen and every date lies between the employer's entry and Today.
func Generate(cfg Config) []Step {
	return drawnGenerator(cfg).simulate()
}

// drawnGenerator is a generator for cfg (defaults filled in) with the 2006 payers drawn.
func drawnGenerator(cfg Config) *generator {
	if cfg.Employers <= 0 {
		cfg.Employers = scaleBase
	}
	cfg.Employers = min(cfg.Employers, maxEmployers)
	if cfg.Seed == 0 {
		cfg.Seed = 2006
	}
	g := newGenerator(cfg)
	g.drawPlans()
	return g
}

type generator struct {
	n    int
	seed uint64
	// ctx is what 2006's steps are checked against: the default reference data, and Today.
	ctx   domain.Context
	plans []*plan
	// scale multiplies everything the targets fix (insured, contracts).
	scale float64
	// heads turns a unit's relative size into its headcount of each insurance (scaleHeads).
	heads [5]float64
	// units counts the units given an organisation code so far.
	units int
}

func newGenerator(cfg Config) *generator {
	ref := &domain.Reference{}
	for _, p := range domain.DefaultReferenceEvents() {
		ref.Apply(p)
	}
	return &generator{n: cfg.Employers, seed: cfg.Seed, ctx: domain.Context{Ref: ref, Today: Today},
		scale: float64(cfg.Employers) / scaleBase}
}

// plan is what is decided about an employer before its year is played out.
type plan struct {
	idx int
	// r is the payer's random stream, drawing from src; start is src's state once the plan is
	// drawn, from which every play of the year starts (rewind), so that playing a payer's year
	// again gives the same steps.
	r     *rand.Rand
	src   *rand.PCG
	start rand.PCG

	id        string
	county    *county
	kind      domain.EmployerKind
	sec       *sector
	name      string
	ownership string
	risk      int
	park      bool
	orgCode   string
	// creditCode is the unified social credit code of a unit registered from 2016.
	creditCode string
	certNo     string
	// enter is the year the payer enters the ledger; gone is true once the year it was planned
	// to leave in has been played, after which it is not played again.
	enter int
	gone  bool

	found bool        // found unregistered by the April survey
	regOn domain.Date // registration date; 0 for one found that never registers
	// unregistered is true for a payer found unregistered that has not been planned to register.
	unregistered bool
	surveyOn     domain.Date

	size    float64 // relative size before scaling
	carry   [5]bool
	ratio   [5]float64
	final   [5]int64 // year-end enrolled headcount per insurance
	initial [5]int64
	growOn  domain.Date

	workforce   int64
	wage        int     // yuan per head and month
	raise       float64 // wage rise from July, 0 for none
	underReport bool    // declares wages under the floor until audited
	prop        float64 // multiplies the chance of late, partial and missing payments
	contracts   int64

	opening     bool // carries prior-year arrears
	repay       bool // repays part of them during the campaign (清欠)
	backDeclare bool // back-declares 2006-01..03 (补缴)
	audit       bool
	clean       bool // a steady payer chosen to deregister: never late, never audited
	deregOn     domain.Date
	bankruptOn  domain.Date
	transferOn  domain.Date
	changeOn    domain.Date

	// The attributes (drawAttributes): GB/T 4754 section, the plan's named sector, GB/T 12402
	// code, the park's name, a labour agency; the share of migrant workers in the workforce and
	// of retirees beside the medical headcount; the day a payer without work injury joins it
	// during 2006 (0: it carries work injury from the start, if at all).
	industry, named, ownCode, parkName string
	agency                             bool
	migrants, retirees                 float64
	wiFrom                             domain.Date
}

func (p *plan) unit() bool { return !p.kind.Individual() }

// drawn marks the plan drawn: its year is played from the stream's state now.
func (p *plan) drawn() { p.start = *p.src }

// rewind sets the stream back to where the year's play starts.
func (p *plan) rewind() { *p.src = p.start }

// registered reports whether the employer holds a registration at the year's end.
func (p *plan) registered() bool { return p.regOn != 0 }

// enrolledAtEnd reports whether the employer's enrollments count at the year's end.
func (p *plan) enrolledAtEnd() bool { return p.registered() && p.deregOn == 0 && p.bankruptOn == 0 }

// simulate plays every employer's year, in parallel (each employer has its own random stream,
// so the result does not depend on scheduling), then merges the steps by date.
func (g *generator) simulate() []Step {
	out := make([][]datedStep, g.n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= g.n {
					return
				}
				s := newSim(g, g.plans[i])
				s.run()
				out[i] = s.out
			}
		}()
	}
	wg.Wait()

	// A counting sort by date keeps each employer's steps in order, since they are dated in
	// non-decreasing order, and interleaves employers by index on the same day.
	first := day(1, 1)
	days := int(Today-first) + 1
	counts := make([]int, days+1)
	for _, steps := range out {
		for _, s := range steps {
			counts[int(s.on-first)+1]++
		}
	}
	for d := 1; d <= days; d++ {
		counts[d] += counts[d-1]
	}
	steps := make([]Step, counts[days])
	for _, ss := range out {
		for _, s := range ss {
			i := int(s.on - first)
			steps[counts[i]] = s.Step
			counts[i]++
		}
	}
	return steps
}
