package projections

import (
	"context"
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

// Series computes the monthly series for the periods from..to as of asOf, with one statement and
// one pass for the arrears per employer.
func (l *Ledger) Series(asOf domain.Date, from, to domain.Period) *Series {
	var months []domain.Period
	for p := from; p <= to; p = p.Next() {
		months = append(months, p)
	}
	n := len(months)
	s := &Series{Seq: l.Seq, AsOf: asOf, City: newLine(n)}
	s.City.Name = l.Ref.City().Name
	byCode := map[string]*SeriesLine{}
	// Each insurance's lines, by county code, beside the sums.
	perIns := make([]map[string]*SeriesLine, len(domain.Insurances))
	for i, ins := range domain.Insurances {
		perIns[i] = map[string]*SeriesLine{}
		s.byInsurance = append(s.byInsurance, &Series{Seq: l.Seq, AsOf: asOf, Insurance: ins})
	}
	for _, c := range l.Ref.CountiesOn(asOf) {
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
	ends := make([]domain.Date, n)
	for i, p := range months {
		s.Months = append(s.Months, p.String())
		ends[i] = min(p.LastDay(), asOf)
	}
	index := map[domain.Period]int{}
	for i, p := range months {
		index[p] = i
	}
	for _, id := range sortedIDs(l.Employers) {
		e := l.Employers[id]
		if !e.EnteredBy(asOf) {
			continue
		}
		for _, ln := range e.Account.Statement(asOf, l.Ref.LateFees).Lines {
			i, ok := index[ln.Period]
			if !ok {
				continue
			}
			code := l.Ref.CountyCodeOn(e.CountyOfPeriod(ln.Period), asOf)
			if line := byCode[code]; line != nil {
				line.DueFen[i] = line.DueFen[i].Plus(ln.DueFen)
				line.CollectedFen[i] = line.CollectedFen[i].Plus(ln.PaidFen)
				x := perIns[ln.Insurance.Rank()][code]
				x.DueFen[i] = x.DueFen[i].Plus(ln.DueFen)
				x.CollectedFen[i] = x.CollectedFen[i].Plus(ln.PaidFen)
			}
		}
		for i, list := range e.Account.OverdueAt(ends, l.Ref.LateFees) {
			for _, o := range list {
				code := l.Ref.CountyCodeOn(e.CountyOfPeriod(o.Period), asOf)
				if line := byCode[code]; line != nil {
					line.ArrearsFen[i] = line.ArrearsFen[i].Plus(o.OutstandingFen)
					x := perIns[o.Insurance.Rank()][code]
					x.ArrearsFen[i] = x.ArrearsFen[i].Plus(o.OutstandingFen)
				}
			}
		}
	}
	for _, line := range s.Counties {
		line.setRates()
	}
	s.City = SumSeries(s.City.Name, n, s.Counties)
	for _, is := range s.byInsurance {
		is.Months = s.Months
		for _, line := range is.Counties {
			line.setRates()
		}
		is.City = SumSeries(s.City.Name, n, is.Counties)
	}
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

// Series returns the monthly series, recomputed at most every 30 seconds while events arrive
// (never older than sequence minSeq, a reader's min_seq), from a read-only copy of the views
// (Current), holding up neither the follower nor readers. Its Seq is the sequence it reflects.
func (r *Runner) Series(ctx context.Context, asOf domain.Date, from, to domain.Period, minSeq uint64) (*Series, error) {
	if !r.seriesMu.TryLock() {
		defer replaying(ctx)() // the series under way may be replaying closed books
		r.seriesMu.Lock()
	}
	defer r.seriesMu.Unlock()
	c := r.series
	now := r.seq.Load()
	fresh := c != nil && c.AsOf == asOf && len(c.Months) > 0 && c.Months[0] == from.String() && c.Months[len(c.Months)-1] == to.String() &&
		c.Seq >= minSeq && (c.Seq == now || time.Since(r.seriesAt) < r.cfg.SeriesReuse)
	if fresh {
		return c, nil
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
	s := l.Series(asOf, from, to)
	// A replay of closed books is of their closing's sequence, and holds through every later one.
	s.Seq = max(s.Seq, now)
	r.series, r.seriesAt = s, time.Now()
	return s, nil
}
