package demo

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/kuozheng/kuozheng/domain"
)

type datedStep struct {
	on domain.Date
	Step
}

// action is something that happens to an employer on a date; actions run in date order, then in
// the order they were planned, and may plan further actions.
type action struct {
	on domain.Date
	n  int
	fn func(domain.Date)
}

// lineDue is one line of the period's standing declaration or assessment.
type lineDue struct {
	ins domain.Insurance
	due domain.Fen
}

// sim plays one employer's year. It folds every command it emits into the employer's state
// exactly as the ledger would, so amounts that depend on the state (outstanding principal,
// accrued late fees) are read from it, and a command the ledger would refuse is never emitted.
type sim struct {
	*plan
	g *generator
	// field is the stream of the year's field work (sim_field.go), apart from the payer's own.
	field *rand.Rand
	// year is the calendar year played; nothing is planned after end, its 31 December.
	year int
	end  domain.Date
	ctx  domain.Context
	e    domain.Employer
	// compacted is e compacted through the last year's end (nil: none, the first year played):
	// the statements the year asks for, all dated in it, are read from it while it can answer
	// them. Read from e, a statement applies every entry of the payer's years in the ledger.
	compacted *domain.Employer
	seq       uint64
	// last is the statement last computed, as of lastOn at sequence lastSeq: a payer's day asks
	// for the same statement again and again, and its state changes only with seq.
	last    *domain.Statement
	lastOn  domain.Date
	lastSeq uint64
	agenda  []action
	next    int
	n       int
	now     domain.Date
	out     []datedStep

	receipts   int
	due        map[domain.Period][]lineDue
	declaredOn map[domain.Period]domain.Date
	periods    []domain.Period // periods with a declaration, in the order declared

	// owes: the employer may be in arrears (worth a look at the monthly enforcement check).
	owes    bool
	hadLate bool
	ladder  bool // an enforcement case is open
	done    bool // deregistered: nothing more happens

	first     domain.Period
	extra     [5]int64 // workers added by an audit, declared from extraFrom on
	extraFrom domain.Period
	fixedWage int // the wage declared after an audit corrected under-reporting
}

// newSim plays p's first campaign year, 2006.
func newSim(g *generator, p *plan) *sim {
	p.rewind()
	// The rules decide without the dated history the views keep; skip building it.
	return &sim{plan: p, g: g, field: g.fieldStream(p.idx, FirstYear), year: FirstYear, end: Today, ctx: g.ctx, e: domain.Employer{SkipHistory: true},
		due: map[domain.Period][]lineDue{}, declaredOn: map[domain.Period]domain.Date{}}
}

// run plays the year in which the payer enters the ledger.
func (s *sim) run() {
	if s.found {
		s.at(s.surveyOn, s.enterFound)
	} else {
		s.at(s.regOn, s.enterRegistered)
	}
	s.at(s.surveyOn, s.survey)
	s.play()
}

// play runs the agenda to the year's end, or until the payer leaves.
func (s *sim) play() {
	for s.next < len(s.agenda) && !s.done {
		a := s.agenda[s.next]
		s.next++
		s.now = a.on
		a.fn(a.on)
	}
}

// at plans fn on d; nothing is planned after the year's end or before what is already happening.
func (s *sim) at(d domain.Date, fn func(domain.Date)) {
	if d == 0 || d > s.end {
		return
	}
	d = max(d, s.now)
	s.n++
	pending := s.agenda[s.next:]
	i := s.next + sort.Search(len(pending), func(j int) bool { return pending[j].on > d })
	s.agenda = slices.Insert(s.agenda, i, action{d, s.n, fn})
}

// do checks, decides and applies a command as the ledger would, and records it as a step. A
// command the ledger refuses is dropped, so the steps always replay.
func do[T any, P interface {
	*T
	domain.Command
}](s *sim, cmd P) []domain.Payload {
	cp := *cmd // Check fills unexported fields: keep the emitted command as built
	c := P(&cp)
	if err := c.Check(s.ctx); err != nil {
		return nil
	}
	pl, err := c.Decide(&s.e, s.ctx)
	if err != nil {
		return nil
	}
	for _, p := range pl {
		s.seq++
		ev := domain.Event{Envelope: domain.Envelope{EmployerID: s.id, Seq: s.seq, N: s.e.N + 1}, Body: p}
		s.e.Apply(ev)
		if s.compacted != nil {
			s.compacted.Apply(ev)
		}
	}
	_, create := any(cmd).(*domain.RegisterEmployer)
	s.out = append(s.out, datedStep{c.Date(), Step{EmployerID: s.id, Create: create, Command: cmd, Payer: s.idx, N: len(s.out)}})
	return pl
}

// statement is the payer's statement as of d. Callers only read it.
func (s *sim) statement(d domain.Date) domain.Statement {
	if s.last == nil || s.lastOn != d || s.lastSeq != s.seq {
		a := &s.e.Account
		if c := s.compacted; c != nil && !c.Account.Stale && d > c.Account.CompactedThrough() {
			a = &c.Account
		}
		st := a.Statement(d, s.ctx.Ref.LateFees)
		s.last, s.lastOn, s.lastSeq = &st, d, s.seq
	}
	return *s.last
}

// compact makes compacted from e, resumed at the start of a year after the first: through the
// last year's end, keeping whole the periods of the two years before this one, which an audit
// looks back to (auditFinding reads their lines).
func (s *sim) compact() {
	if !compactAccounts {
		return
	}
	through, _ := domain.DateOf(s.year-1, time.December, 31)
	keepFrom, _ := domain.PeriodOf(s.year-2, time.January)
	c := s.e.Clone()
	if c.Compact(through, keepFrom, s.ctx.Ref.LateFees) {
		s.compacted = c
	}
}

// compactAccounts is whether a resumed payer's statements are read from its account compacted
// (sim.compact); a test turns it off to see the same years played from the whole account.
var compactAccounts = true

// arrears is the principal overdue on d.
func (s *sim) arrears(d domain.Date) domain.Fen {
	var sum domain.Fen
	for _, l := range s.statement(d).Lines {
		current, prior := l.Arrears(d)
		sum += current + prior
	}
	return sum
}

func (s *sim) uniform(lo, hi float64) float64 { return lo + (hi-lo)*s.r.Float64() }

// after returns a working day from lo+a to lo+b days, or 0 (nothing happens) when that is
// past the year's end.
func (s *sim) after(lo domain.Date, a, b int) domain.Date {
	if lo.AddDays(a) > s.end {
		return 0
	}
	d := between(s.r, lo.AddDays(a), lo.AddDays(b))
	return workday(d, lo.AddDays(a), min(lo.AddDays(b+2), s.end))
}

func num(v int64) domain.Number { return domain.Number(strconv.FormatInt(v, 10)) }

func fen(v domain.Fen) domain.Number { return num(int64(v)) }

var (
	jan1 = domain.MustDate("2006-01-01")
	// dateTexts and periodTexts cover the years a campaign may run, and the periods before them
	// that opening balances name.
	dateTexts = func() []string {
		t := make([]string, int(yearEnd(MaxYear)-jan1)+1)
		for i := range t {
			t[i] = jan1.AddDays(i).String()
		}
		return t
	}()
	firstPeriod = domain.MustPeriod("2003-01")
	periodTexts = func() []string {
		t := make([]string, int(yearEnd(MaxYear).Period()-firstPeriod)+1)
		for i := range t {
			t[i] = (firstPeriod + domain.Period(i)).String()
		}
		return t
	}()
)

// ds formats a date, from a table for the campaign years (most of the output is dates).
func ds(d domain.Date) string {
	if i := int(d - jan1); i >= 0 && i < len(dateTexts) {
		return dateTexts[i]
	}
	return d.String()
}

func ps(p domain.Period) string {
	if i := int(p - firstPeriod); i >= 0 && i < len(periodTexts) {
		return periodTexts[i]
	}
	return p.String()
}

func period(y, m int) domain.Period { return day(1, 1).Period() + domain.Period((y-2006)*12+m-1) }

// day is a date of the year played.
func (s *sim) day(m, d int) domain.Date { return dateIn(s.year, m, d) }

// period is a month of the year played.
func (s *sim) period(m int) domain.Period { return period(s.year, m) }

// ---- entering the ledger ----

// ---- declarations and payments ----

// ---- audits, enforcement, waivers ----
