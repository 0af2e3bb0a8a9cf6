package projections

import (
	"context"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/kuozheng/kuozheng/domain"
)

// SeriesLine is one county's (or the city's) monthly figures, one value per month of the series.
type SeriesLine struct {
	Code           string       `json:"code,omitempty"`
	Name           string       `json:"name"`
	Group          int          `json:"group,omitempty"`
	DueFen         []domain.Fen `json:"due_fen"`
	CollectedFen   []domain.Fen `json:"collected_fen"`
	CollectionRate []Ratio      `json:"collection_rate"`
	ArrearsFen     []domain.Fen `json:"arrears_fen"`
}

// Series is the dashboard's charts: for each month, the collection rate of that month's period
// as of the series date, and the arrears at the month's end.
type Series struct {
	Seq      uint64        `json:"seq"`
	AsOf     domain.Date   `json:"as_of"`
	Months   []string      `json:"months"`
	Counties []*SeriesLine `json:"counties"`
	City     *SeriesLine   `json:"city"`
	// Insurance names the insurance of a series of one insurance (ForInsurance); the lines
	// of a series without one sum them all.
	Insurance domain.Insurance `json:"insurance,omitempty"`
	// byInsurance are the series of each insurance, in domain.Insurances order, computed in the
	// same pass as the sums.
	byInsurance []*Series
}

// ForInsurance is the series of the lines of one insurance, or s itself for "".
func (s *Series) ForInsurance(ins domain.Insurance) *Series {
	if ins == "" || ins.Rank() < 0 || ins.Rank() >= len(s.byInsurance) {
		return s
	}
	return s.byInsurance[ins.Rank()]
}

func newLine(n int) *SeriesLine {
	return &SeriesLine{DueFen: make([]domain.Fen, n), CollectedFen: make([]domain.Fen, n), CollectionRate: make([]Ratio, n), ArrearsFen: make([]domain.Fen, n)}
}

// DefaultSeriesMonths are the months a series shows when none are asked for: January to December
// of asOf's year, the months whose periods the year's cumulative figures and targets count.
func DefaultSeriesMonths(asOf domain.Date) (from, to domain.Period) {
	p := asOf.Period()
	from = p - domain.Period(p.Month()-time.January)
	return from, from + 11
}

// seriesMonths are the months of a series: each one's index by its period, and its last day,
// asOf at most (the day its arrears are read on).
type seriesMonths struct {
	asOf    domain.Date
	periods []domain.Period
	index   map[domain.Period]int
	ends    []domain.Date
}

func newSeriesMonths(asOf domain.Date, from, to domain.Period) *seriesMonths {
	m := &seriesMonths{asOf: asOf, index: map[domain.Period]int{}}
	for p := from; p <= to; p = p.Next() {
		m.index[p] = len(m.periods)
		m.periods = append(m.periods, p)
		m.ends = append(m.ends, min(p.LastDay(), asOf))
	}
	return m
}

// seriesAmount is what one line of an employer brings to one month of a series: its due and
// collected when the month is its period, the arrears it holds at the month's end.
type seriesAmount struct {
	code                    string // the county it counts in, as of the series' date
	ins, month              int
	due, collected, arrears domain.Fen
}

// eachAmount calls add for every amount employer e brings to a series of the months m.
func (m *seriesMonths) eachAmount(e *domain.Employer, ref *domain.Reference, add func(seriesAmount)) {
	if !e.EnteredBy(m.asOf) {
		return
	}
	for _, ln := range e.Account.Statement(m.asOf, ref.LateFees).Lines {
		if i, ok := m.index[ln.Period]; ok {
			code := ref.CountyCodeOn(e.CountyOfPeriod(ln.Period), m.asOf)
			add(seriesAmount{code: code, ins: ln.Insurance.Rank(), month: i, due: ln.DueFen, collected: ln.PaidFen})
		}
	}
	for i, list := range e.Account.OverdueAt(m.ends, ref.LateFees) {
		for _, o := range list {
			code := ref.CountyCodeOn(e.CountyOfPeriod(o.Period), m.asOf)
			add(seriesAmount{code: code, ins: o.Insurance.Rank(), month: i, arrears: o.OutstandingFen})
		}
	}
}

// seriesOf makes the empty series of the months m: a line for each county on asOf, and the same
// for each insurance; lines finds a county's line and its insurance's by code (nil: none).
func seriesOf(ref *domain.Reference, seq uint64, m *seriesMonths) (s *Series, lines func(code string, ins int) (*SeriesLine, *SeriesLine)) {
	n := len(m.periods)
	s = &Series{Seq: seq, AsOf: m.asOf}
	for _, p := range m.periods {
		s.Months = append(s.Months, p.String())
	}
	byCode := map[string]*SeriesLine{}
	// Each insurance's lines, by county code, beside the sums.
	perIns := make([]map[string]*SeriesLine, len(domain.Insurances))
	for i, ins := range domain.Insurances {
		perIns[i] = map[string]*SeriesLine{}
		s.byInsurance = append(s.byInsurance, &Series{Seq: seq, AsOf: m.asOf, Insurance: ins, Months: s.Months})
	}
	for _, c := range ref.CountiesOn(m.asOf) {
		line := newLine(n)
		line.Code, line.Name, line.Group = c.Code, c.Name, c.Group
		byCode[c.Code] = line
		s.Counties = append(s.Counties, line)
		for i, is := range s.byInsurance {
			x := newLine(n)
			x.Code, x.Name, x.Group = c.Code, c.Name, c.Group
			perIns[i][c.Code] = x
			is.Counties = append(is.Counties, x)
		}
	}
	return s, func(code string, ins int) (*SeriesLine, *SeriesLine) {
		line := byCode[code]
		if line == nil {
			return nil, nil
		}
		return line, perIns[ins][code]
	}
}

// finish sets the rates of the lines summed and sums the city's.
func (s *Series) finish(city string) {
	n := len(s.Months)
	for _, line := range s.Counties {
		line.setRates()
	}
	s.City = SumSeries(city, n, s.Counties)
	for _, is := range s.byInsurance {
		for _, line := range is.Counties {
			line.setRates()
		}
		is.City = SumSeries(city, n, is.Counties)
	}
}

// Series computes the monthly series for the periods from..to as of asOf, with one statement and
// one pass for the arrears per employer.
func (l *Ledger) Series(asOf domain.Date, from, to domain.Period) *Series {
	m := newSeriesMonths(asOf, from, to)
	s, lines := seriesOf(&l.Ref, l.Seq, m)
	for _, e := range l.Employers.Sorted() {
		m.eachAmount(e, &l.Ref, func(a seriesAmount) {
			line, x := lines(a.code, a.ins)
			if line == nil {
				return
			}
			i := a.month
			line.DueFen[i] = line.DueFen[i].Plus(a.due)
			line.CollectedFen[i] = line.CollectedFen[i].Plus(a.collected)
			line.ArrearsFen[i] = line.ArrearsFen[i].Plus(a.arrears)
			x.DueFen[i] = x.DueFen[i].Plus(a.due)
			x.CollectedFen[i] = x.CollectedFen[i].Plus(a.collected)
			x.ArrearsFen[i] = x.ArrearsFen[i].Plus(a.arrears)
		})
	}
	s.finish(l.Ref.City().Name)
	return s
}

// SumSeries adds lines of months months up, month by month, into a line named name.
func SumSeries(name string, months int, lines []*SeriesLine) *SeriesLine {
	sum := newLine(months)
	sum.Name = name
	for _, line := range lines {
		for i := range months {
			sum.DueFen[i] = sum.DueFen[i].Plus(line.DueFen[i])
			sum.CollectedFen[i] = sum.CollectedFen[i].Plus(line.CollectedFen[i])
			sum.ArrearsFen[i] = sum.ArrearsFen[i].Plus(line.ArrearsFen[i])
		}
	}
	sum.setRates()
	return sum
}

func (line *SeriesLine) setRates() {
	for i := range line.DueFen {
		line.CollectionRate[i] = Ratio{int64(line.CollectedFen[i]), int64(line.DueFen[i])}
	}
}

// Series returns the monthly series as the views are now (never older than sequence minSeq, a
// reader's min_seq), from a read-only copy of the views (Current), holding up neither the
// follower nor readers. Its Seq is the sequence it reflects. The runner keeps the sums of the
// last few series asked for (keptSeriesMax), so that the next one of the same months and date
// sums again only the employers changed since: one folds the payers once, and then costs what
// was written.
func (r *Runner) Series(ctx context.Context, asOf domain.Date, from, to domain.Period, minSeq uint64) (*Series, error) {
	if !r.seriesMu.TryLock() {
		defer replaying(ctx)() // the series under way may be replaying closed books
		r.seriesMu.Lock()
	}
	defer r.seriesMu.Unlock()
	now := r.seq.Load()
	if k := r.keptFor(asOf, from, to); k != nil && k.series.Seq == now && now >= minSeq {
		r.keep(k)
		return k.series, nil
	}
	if cur := r.Current(); asOf > cur.Boundary && !cur.CoversSeries(asOf, from) {
		// A series reads each month from its first day: it starts after the closed books, a
		// month later than a single period's figures may (At's words would say the latter).
		return nil, domain.Invalid("from", "%s is in the books closed through %s: a series as of a later date starts from %s; ask as of a date on or before %s",
			from, cur.Boundary, cur.Boundary.AddDays(1).Period(), cur.Boundary)
	}
	l, err := r.At(ctx, Query{AsOf: from.FirstDay(), Period: from}, asOf, "from")
	if err != nil {
		return nil, err
	}
	// A replay of closed books is of their closing's sequence, and holds through every later one.
	past := l.Seq < now
	s := r.sumSeries(l, asOf, from, to, past)
	if s.Seq < now {
		s = s.withSeq(now)
	}
	return s, nil
}

// withSeq is a copy of s, and of its series of each insurance, saying it reflects seq: the
// kept one's readers may hold s.
func (s *Series) withSeq(seq uint64) *Series {
	c := *s
	c.Seq = seq
	c.byInsurance = make([]*Series, len(s.byInsurance))
	for i, is := range s.byInsurance {
		x := *is
		x.Seq = seq
		c.byInsurance[i] = &x
	}
	return &c
}

// keptSeries is a series the runner summed, with what it summed it from. A later copy of
// the views holds a new pointer for every employer changed since (copy on write: Current), so
// the next series subtracts what each such employer brought before and adds what it brings now.
// The views it holds keep the former state of those employers: it is dropped once nobody has
// asked for a series for RunnerConfig.SeriesIdle.
//
// A series of views of closed books, or one whose amounts Ledger.Series must sum (sumSeries), is
// kept whole, without the views: it answers again for the same views' sequence only.
type keptSeries struct {
	months *seriesMonths
	seq    uint64                       // the sequence of the views it was summed from
	past   bool                         // they are of closed books (At)
	base   *Ledger                      // the views, or nil: kept whole
	sums   map[seriesKey][]seriesAmount // by county and insurance, month by month
	series *Series
	asked  time.Time
	idle   *time.Timer
}

type seriesKey struct {
	code string
	ins  int
}

func newKeptSeries(asOf domain.Date, from, to domain.Period, ref domain.Reference) *keptSeries {
	return &keptSeries{months: newSeriesMonths(asOf, from, to), base: &Ledger{Ref: ref}, sums: map[seriesKey][]seriesAmount{}}
}

func (k *keptSeries) fits(asOf domain.Date, from, to domain.Period) bool {
	p := k.months.periods
	return k.months.asOf == asOf && len(p) > 0 && p[0] == from && p[len(p)-1] == to
}

// sumSeries is l's series of the months from..to as of asOf: the kept one if it is of the same
// views, kept whole; or summed again from the kept one's sums when it has the same months and
// date, the same reference data, and less than half of the employers changed since. Views of
// closed books (past) are not kept: another replay may need their memory (At).
func (r *Runner) sumSeries(l *Ledger, asOf domain.Date, from, to domain.Period, past bool) *Series {
	k := r.keptFor(asOf, from, to)
	if k != nil && k.seq == l.Seq && k.past == past && k.base == nil {
		r.keep(k)
		return k.series
	}
	whole := func() *Series {
		s := l.Series(asOf, from, to)
		r.keep(&keptSeries{months: newSeriesMonths(asOf, from, to), seq: l.Seq, past: past, series: s})
		return s
	}
	if past {
		return whole()
	}
	if k == nil || k.base == nil || !reflect.DeepEqual(k.base.Ref, l.Ref) || !r.foldChanged(k, l, l.Employers.Len()/2) {
		k = newKeptSeries(asOf, from, to, l.Ref)
		if !r.foldChanged(k, l, l.Employers.Len()) {
			return whole() // a negative amount, or sums past what int64 holds: the views' own
		}
	}
	s, ok := k.build(&l.Ref, l.Seq)
	if !ok {
		return whole()
	}
	k.base, k.seq, k.series = l, l.Seq, s
	r.keep(k)
	return s
}

// foldChanged brings k's sums from its views to l's: each employer changed since (at most
// limit of them) takes back what it brought and adds what it brings now. It reports false,
// leaving k's sums unusable, when more changed, when an employer of its views is gone, or
// when an amount is negative or a sum would pass int64: the sums are then those of
// Ledger.Series only when summed in its order, saturated.
func (r *Runner) foldChanged(k *keptSeries, l *Ledger, limit int) bool {
	var changed []string
	kept := 0 // the employers of k's views that l still holds
	shared := l.Employers.differing(k.base.Employers, func(id string, e, old *domain.Employer) {
		switch {
		case old == nil:
			changed = append(changed, id)
		case old != e:
			kept++
			changed = append(changed, id)
		default:
			kept++
		}
	})
	if kept += shared; len(changed) > limit || kept != k.base.Employers.Len() {
		return false
	}
	for _, id := range changed {
		if old := k.base.Employers.Get(id); old != nil && !k.add(old, &k.base.Ref, true) {
			return false
		}
		if !k.add(l.Employers.Get(id), &l.Ref, false) {
			return false
		}
	}
	r.seriesFolded.Add(uint64(len(changed)))
	return true
}

// add adds what employer e brings to the sums, or takes it back.
func (k *keptSeries) add(e *domain.Employer, ref *domain.Reference, takeBack bool) bool {
	ok := true
	n := len(k.months.periods)
	k.months.eachAmount(e, ref, func(a seriesAmount) {
		key := seriesKey{a.code, a.ins}
		cells := k.sums[key]
		if cells == nil {
			cells = make([]seriesAmount, n)
			k.sums[key] = cells
		}
		c := &cells[a.month]
		ok = ok && addExact(&c.due, a.due, takeBack) && addExact(&c.collected, a.collected, takeBack) && addExact(&c.arrears, a.arrears, takeBack)
	})
	return ok
}

// addExact adds b, not negative, to *a (or takes it away), reporting false instead of
// passing what int64 holds.
func addExact(a *domain.Fen, b domain.Fen, takeBack bool) bool {
	if b < 0 {
		return false
	}
	if takeBack {
		*a -= b
		return true
	}
	if *a > math.MaxInt64-b {
		return false
	}
	*a += b
	return true
}

// build makes the series of k's sums: each county's lines (the sum of its insurances') and the
// city's. It reports false when a county's sum would pass int64.
func (k *keptSeries) build(ref *domain.Reference, seq uint64) (*Series, bool) {
	s, lines := seriesOf(ref, seq, k.months)
	for key, cells := range k.sums {
		line, x := lines(key.code, key.ins)
		if line == nil {
			continue
		}
		for i, c := range cells {
			x.DueFen[i], x.CollectedFen[i], x.ArrearsFen[i] = c.due, c.collected, c.arrears
			if !addExact(&line.DueFen[i], c.due, false) || !addExact(&line.CollectedFen[i], c.collected, false) || !addExact(&line.ArrearsFen[i], c.arrears, false) {
				return nil, false
			}
		}
	}
	s.finish(ref.City().Name)
	return s, true
}

// keptSeriesMax bounds the series kept at once: enough for the dashboards' charts and a
// year or two looked at beside them, each of which would otherwise sum every payer again
// whenever another was asked for in between.
const keptSeriesMax = 4

// keptFor returns the kept series of the months from..to as of asOf, or nil. The caller holds
// seriesMu.
func (r *Runner) keptFor(asOf domain.Date, from, to domain.Period) *keptSeries {
	for _, k := range r.kept {
		if k.fits(asOf, from, to) {
			return k
		}
	}
	return nil
}

// keep keeps k as the series last asked for, in place of one of the same months and date, to
// be dropped once nobody has asked for it for SeriesIdle; beyond keptSeriesMax, the one asked
// for longest ago goes. The caller holds seriesMu.
func (r *Runner) keep(k *keptSeries) {
	p := k.months.periods
	r.kept = slices.DeleteFunc(r.kept, func(o *keptSeries) bool {
		if !o.fits(k.months.asOf, p[0], p[len(p)-1]) {
			return false
		}
		if o != k {
			o.idle.Stop()
		}
		return true // k itself goes first again, below
	})
	r.kept = slices.Insert(r.kept, 0, k)
	if len(r.kept) > keptSeriesMax {
		r.kept[keptSeriesMax].idle.Stop() // one at most: one was added
		r.kept = r.kept[:keptSeriesMax]
	}
	k.asked = time.Now()
	if k.idle == nil {
		k.idle = time.AfterFunc(r.cfg.SeriesIdle, func() { r.dropIdle(k) })
	}
}

// forgetSeries drops every kept series. The caller holds seriesMu.
func (r *Runner) forgetSeries() {
	for _, k := range r.kept {
		k.idle.Stop()
	}
	r.kept = nil
}

// dropIdle drops k if nobody has asked for it since SeriesIdle, or looks again then.
func (r *Runner) dropIdle(k *keptSeries) {
	r.seriesMu.Lock()
	defer r.seriesMu.Unlock()
	if !slices.Contains(r.kept, k) {
		return
	}
	if left := r.cfg.SeriesIdle - time.Since(k.asked); left > 0 {
		k.idle.Reset(left)
		return
	}
	r.kept = slices.DeleteFunc(r.kept, func(o *keptSeries) bool { return o == k })
}
