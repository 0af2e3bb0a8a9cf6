package projections_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
	"github.com/kuozheng/kuozheng/projections"
	"github.com/nats-io/nats.go/jetstream"
)

// The simulation (issue 14, TigerBeetle's habit): thousands of random commands, valid and
// invalid, over many payers and three years, against the real write side and views on a real
// embedded nats-server, with restarts, concurrent writers, freezes and year closings. Every few
// steps the live views must equal a rebuild from sequence 1, every freeze must reproduce its
// digest, and the model (simmodel_test.go) must give every employer's balances and late fees.
// The commands come from the seed alone; a failure prints the seed and how to run it again.
//
//	go test ./projections -run Simulation -sim.steps=200000 -sim.payers=300 -sim.seed=N
var (
	simSteps  = flag.Int("sim.steps", 1200, "simulation: commands to run")
	simSeed   = flag.Uint64("sim.seed", 2006, "simulation: seed (0: one from the clock, printed)")
	simPayers = flag.Int("sim.payers", 60, "simulation: payers to register")
)

var (
	simStart = domain.MustDate("2006-04-18")
	simEnd   = domain.MustDate("2008-12-31")
)

// riskOn is the payer's risk class on d: the change dated last on or before it (of one day, the
// one recorded later), else the class it entered with; before it entered, its class that day. A
// period's rates are its first day's.
func (p *simPayer) riskOn(d domain.Date) int {
	d = max(d, p.entered)
	risk, on := p.risk, domain.Date(0)
	for _, c := range p.riskChanges {
		if c.On <= d && c.On >= on {
			risk, on = c.Class, c.On
		}
	}
	return risk
}

// simPayer is what the simulation knows of one payer: enough to choose commands and to say
// whether each must be accepted or refused, and its money events for the model.
type simPayer struct {
	id, org      string
	individual   bool
	risk         int                 // the class it entered with
	riskChanges  []domain.DatedClass // each change of its class, as recorded
	county       string
	movedOn      domain.Date // the latest transfer's date
	entered      domain.Date
	registered   bool
	deregistered bool
	deregOn      domain.Date // the deregistration's date, when deregistered
	declared     map[domain.Period]bool
	events       []*mEvent
	standing     map[string]*mEvent // receipt → the payment with it that stands
	reversed     []string           // receipts of reversed payments
	notices      []domain.DateSpan  // the notices recorded: date and deadline
	steps        []domain.DatedStep // the steps after notices recorded
	receipts     int
}

// gone reports whether the payer was deregistered, by a deregistration that stands, on
// period's first day: it owes no new dues of it.
func (p *simPayer) gone(period domain.Period) bool {
	return p.deregistered && p.deregOn <= period.FirstDay()
}

func (p *simPayer) carries(ins string) bool {
	return !p.individual || ins == "pension" || ins == "medical"
}

type simulation struct {
	t     *testing.T
	seed  uint64
	rng   *rand.Rand
	step  int
	steps int

	ledger *storetest.Ledger
	runner *projections.Runner
	stop   context.CancelFunc

	today domain.Date
	// closed holds the closed years; lockedThrough is the last day no command may be dated on.
	closed        map[int]bool
	reopened      map[int]bool
	lockedThrough domain.Date

	payers  []*simPayer
	byID    map[string]*simPayer
	freezes []eventstore.FreezeRef
	counts  map[string]int
}

func TestSimulation(t *testing.T) {
	seed := *simSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	steps := *simSteps
	t.Logf("simulation seed %d, %d steps, %d payers (again: go test ./projections -run Simulation -sim.seed=%d -sim.steps=%d -sim.payers=%d)",
		seed, steps, *simPayers, seed, steps, *simPayers)
	s := &simulation{t: t, seed: seed, rng: rand.New(rand.NewPCG(seed, 14)), steps: steps,
		closed: map[int]bool{}, reopened: map[int]bool{}, byID: map[string]*simPayer{}, counts: map[string]int{}}
	// A small cache of folded employers makes the write side fold most of them from stored
	// events; snapshots every few hundred events make restarts resume from them.
	s.ledger = storetest.Start(t, eventstore.Config{Dir: t.TempDir(), EmployerCache: 16, SnapshotEvery: 500})
	s.startRunner()
	t.Cleanup(s.stopRunner)

	checkEvery := max(100, steps/20)
	restartEvery := max(400, steps/5)
	const burstEvery, seriesEvery = 150, 7
	for s.step = 1; s.step <= steps; s.step++ {
		s.today = simStart.AddDays(int(int64(s.step) * int64(simEnd-simStart) / int64(steps)))
		s.yearEnd()
		switch {
		case s.step%restartEvery == 0:
			s.restart()
		case s.step%burstEvery == 0:
			s.burst()
		default:
			s.command()
		}
		if s.step%checkEvery == 0 {
			s.checkAll()
		}
		if s.step%seriesEvery == 0 {
			s.checkSums()
		}
	}
	s.checkAll()
	s.checkFreezes()
	keys := make([]string, 0, len(s.counts))
	for k := range s.counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, s.counts[k])
	}
	t.Logf("outcomes:%s", b.String())
	// The run must have exercised what it claims to: each kind of command accepted, and
	// refused, at least once.
	for _, k := range []string{"ok:declaration", "ok:amendment", "ok:payment", "ok:reversal", "ok:waiver_fee", "ok:waiver_principal",
		"ok:audit", "ok:assessment", "ok:opening", "ok:burst", "refused:year_closed", "refused:payment", "year_closed", "restart", "freeze",
		"series of the payers changed"} {
		if s.counts[k] == 0 && steps >= 1000 {
			t.Errorf("seed %d: no %s in %d steps", seed, k, steps)
		}
	}
}

func (s *simulation) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("seed %d, step %d (today %s): %s\nagain: go test ./projections -run Simulation -sim.seed=%d -sim.steps=%d -sim.payers=%d",
		s.seed, s.step, s.today, fmt.Sprintf(format, args...), s.seed, s.steps, *simPayers)
}

func (s *simulation) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 60*time.Second)
}

func (s *simulation) store() *eventstore.Store { return s.ledger.Store }

func (s *simulation) lastSeq() uint64 {
	ctx, cancel := s.ctx()
	defer cancel()
	n, err := s.store().LastSeq(ctx)
	if err != nil {
		s.fatalf("last sequence: %v", err)
	}
	return n
}

// fences is how many fences the stream holds.
func (s *simulation) fences() uint64 {
	ctx, cancel := s.ctx()
	defer cancel()
	subject := eventstore.SubjectsOf("").Fence()
	stream, err := s.store().JetStream().Stream(ctx, s.store().Stream())
	if err != nil {
		s.fatalf("the stream: %v", err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		s.fatalf("the stream's fences: %v", err)
	}
	return info.State.Subjects[subject]
}

func (s *simulation) startRunner() {
	ctx, cancel := context.WithCancel(context.Background())
	s.runner = projections.NewRunner(s.store(), projections.RunnerConfig{SnapshotEvery: 300, SnapshotIdle: time.Hour})
	if err := s.runner.Start(ctx); err != nil {
		cancel()
		s.fatalf("start the views: %v", err)
	}
	s.stop = cancel
}

func (s *simulation) stopRunner() {
	if s.stop != nil {
		s.stop()
		s.runner.Wait()
		s.stop = nil
	}
}

// restart closes the views, the store and the server, and opens them again on the same folders.
func (s *simulation) restart() {
	s.stopRunner()
	s.ledger.Restart(s.t)
	s.startRunner()
	s.counts["restart"]++
	s.checkAll()
	s.checkFreezes()
}

// ---- choosing dates, payers, periods

func (s *simulation) intn(n int) int {
	if n <= 0 {
		return 0
	}
	return s.rng.IntN(n)
}

func (s *simulation) chance(percent int) bool { return s.rng.IntN(100) < percent }

// date picks a business date for p: today, or backdated up to 150 days, never before p
// entered the ledger nor in closed books; false when no date is open.
func (s *simulation) date(p *simPayer) (domain.Date, bool) {
	lo := max(p.entered, s.lockedThrough+1, s.today.AddDays(-150))
	if lo > s.today {
		return 0, false
	}
	if s.chance(40) {
		return s.today, true
	}
	return lo.AddDays(s.intn(int(s.today-lo) + 1)), true
}

// period picks a period that has begun by d, from 2006-01 (back-payments before registration
// are allowed).
func (s *simulation) period(d domain.Date) domain.Period {
	first := domain.MustPeriod("2006-01")
	n := 0
	for p := first; p < d.Period(); p = p.Next() {
		n++
	}
	// Mostly recent periods, sometimes any.
	k := n - s.intn(min(n, 3)+1)
	if s.chance(30) {
		k = s.intn(n + 1)
	}
	p := first
	for range k {
		p = p.Next()
	}
	return p
}

func (s *simulation) insurance(p *simPayer) string {
	if p.individual {
		return []string{"pension", "medical"}[s.intn(2)]
	}
	return modelIns[s.intn(len(modelIns))]
}

func (s *simulation) payer(active bool) *simPayer {
	var list []*simPayer
	for _, p := range s.payers {
		if !active || !p.deregistered {
			list = append(list, p)
		}
	}
	if len(list) == 0 {
		return nil
	}
	return list[s.intn(len(list))]
}

// ---- executing

// expect says how a command must end: accepted (kind 0), or refused with an error of kind.
type expect struct {
	kind domain.Kind
	what string // the counter it adds to
}

// exec runs one command. An accepted command's result goes to ok; a refused one must be refused
// with a *domain.Error of the kind expected and leave the stream as it was.
func (s *simulation) exec(p *simPayer, req eventstore.Request, exp expect, ok func(res eventstore.Result)) {
	s.t.Helper()
	req.Today = s.today
	if req.Actor == "" {
		req.Actor = "sim"
	}
	before := s.lastSeq()
	ctx, cancel := s.ctx()
	res, err := s.store().Execute(ctx, req)
	cancel()
	if exp.kind == 0 {
		if err != nil {
			s.fatalf("%s %T %+v: refused: %v", exp.what, req.Command, req.Command, err)
		}
		s.counts["ok:"+exp.what]++
		ok(res)
		if p == nil {
			p = s.byID[res.EmployerID]
		}
		s.checkPayerInvariants(p, req.Command.Date())
		return
	}
	var de *domain.Error
	if !errors.As(err, &de) || de.Kind != exp.kind {
		s.fatalf("%s %T %+v: got %v (%T), want a refusal of kind %s", exp.what, req.Command, req.Command, err, err, exp.kind)
	}
	if after := s.lastSeq(); after != before {
		s.fatalf("%s refused (%v) but the stream grew from %d to %d", exp.what, err, before, after)
	}
	s.counts["refused:"+exp.what]++
	s.counts["refused:"+exp.kind.String()]++
}

func (s *simulation) record(p *simPayer, res eventstore.Result, e *mEvent) {
	e.seq = res.Seq
	if len(res.EventIDs) == 1 {
		e.id = res.EventIDs[0]
	}
	p.events = append(p.events, e)
}

// ---- concurrent writers

// ---- years and freezes

// freeze makes a freeze valid through d, from the live views when they are at the sequence
// frozen (as the API does), and keeps its manifest to check its digest later.
func (s *simulation) freeze(d domain.Date) eventstore.FreezeRef {
	ctx, cancel := s.ctx()
	defer cancel()
	ref, _, err := projections.Freeze(ctx, s.store(), projections.FreezeRequest{ValidThrough: d, Today: s.today,
		Views: func(through uint64) (*projections.Ledger, error) {
			if cur := s.runner.Current(); cur.Seq == through {
				return cur, nil
			}
			if s.runner.Seq() <= through {
				return s.runner.Copy()
			}
			return nil, nil
		},
		FreezeOrder: eventstore.FreezeOrder{Actor: "sim"}})
	if err != nil {
		s.fatalf("freeze valid through %s: %v", d, err)
	}
	s.freezes = append(s.freezes, ref)
	s.counts["freeze"]++
	return ref
}

// yearEnd closes a year after its year-end freeze once February has come, reopens 2007 in
// June 2008 (backdated 2007 events follow) and closes it again in July.
func (s *simulation) yearEnd() {
	y := s.today.Year() - 1
	feb, _ := domain.DateOf(s.today.Year(), time.February, 1)
	switch {
	case y >= 2006 && s.today >= feb && !s.closed[y] && !s.reopened[y]:
		s.closeYear(y)
	case y == 2007 && s.today >= domain.MustDate("2008-06-01") && s.closed[2007] && !s.reopened[2007]:
		ev, err := domain.NewYearReopened(2007, "稽核发现少报，补录2007年数据")
		if err != nil {
			s.fatalf("reopen: %v", err)
		}
		s.ref(ev, expect{what: "year_reopened"})
		s.reopened[2007], s.closed[2007] = true, false
		s.locked()
	case y == 2007 && s.today >= domain.MustDate("2008-07-01") && s.reopened[2007] && !s.closed[2007]:
		s.closeYear(2007)
	}
	if s.step%250 == 0 {
		s.freeze(simStart.AddDays(s.intn(int(s.today-simStart) + 1)))
	}
}

func (s *simulation) closeYear(y int) {
	end, _ := domain.DateOf(y, time.December, 31)
	f := s.freeze(end)
	s.ref(domain.YearClosed{Year: y, FreezeID: f.ID, Digest: f.Digest}, expect{what: "year_closed"})
	s.closed[y] = true
	s.locked()
	s.ref(domain.YearClosed{Year: y, FreezeID: f.ID, Digest: f.Digest}, expect{kind: domain.KindConflict, what: "year_closed"})
}

// locked recomputes the last day of the closed books: every year from the first closed one
// through it closed.
func (s *simulation) locked() {
	s.lockedThrough = 0
	for y := 2006; s.closed[y]; y++ {
		s.lockedThrough, _ = domain.DateOf(y, time.December, 31)
	}
}

func (s *simulation) ref(p domain.Payload, exp expect) {
	before := s.lastSeq()
	ctx, cancel := s.ctx()
	_, err := s.store().ExecuteRef(ctx, eventstore.RefRequest{Payload: p, On: s.today, Actor: "sim"})
	cancel()
	var de *domain.Error
	switch {
	case exp.kind == 0 && err != nil:
		s.fatalf("%T %+v refused: %v", p, p, err)
	case exp.kind == 0:
		s.counts[exp.what]++
	case !errors.As(err, &de) || de.Kind != exp.kind:
		s.fatalf("%T %+v: got %v, want a refusal of kind %s", p, p, err, exp.kind)
	case s.lastSeq() != before:
		s.fatalf("%T refused but the stream grew", p)
	}
}

// ---- checks
