package domain

import (
	"cmp"
	"slices"
)

// LineState is one line's balances as of a date.
type LineState struct {
	Period    Period    `json:"period"`
	Insurance Insurance `json:"insurance"`
	DueDate   Date      `json:"due_date"`
	// Dropped is set on a line that stands on nothing: the declaration or assessment standing
	// for its period does not list it (a later one replaced the one that did), and it has no
	// audit addition or opening balance: what was paid on it went back to credit, and for 缴费率
	// the period has no line of that insurance. Beside DueDate, it takes no room of its own.
	Dropped   bool `json:"-"`
	DueFen    Fen  `json:"due_fen"`
	PaidFen   Fen  `json:"paid_fen"`
	WaivedFen Fen  `json:"waived_fen"`
	// OutstandingFen is principal still owed.
	OutstandingFen Fen `json:"outstanding_fen"`
	// LateFeeFen is late fee accrued and neither paid nor waived.
	LateFeeFen        Fen `json:"late_fee_fen"`
	LateFeeAccruedFen Fen `json:"late_fee_accrued_fen"`
	LateFeePaidFen    Fen `json:"late_fee_paid_fen"`
	LateFeeWaivedFen  Fen `json:"late_fee_waived_fen"`
	// RecoveredFen is principal paid on this line after its due date (清欠); RecoveredInYearFen
	// the part of it paid in the year of the statement's date (less what went back to credit or
	// out in a refund in that year), which 清欠率 counts. Views read it; a statement's answers
	// leave it out.
	RecoveredFen       Fen `json:"recovered_fen"`
	RecoveredInYearFen Fen `json:"-"`
}

// Totals sums a statement.
type Totals struct {
	DueFen                Fen `json:"due_fen"`
	PaidFen               Fen `json:"paid_fen"`
	WaivedFen             Fen `json:"waived_fen"`
	OutstandingFen        Fen `json:"outstanding_fen"`
	LateFeeFen            Fen `json:"late_fee_fen"`
	CreditFen             Fen `json:"credit_fen"`
	ArrearsCurrentYearFen Fen `json:"arrears_current_year_fen"`
	ArrearsPriorYearsFen  Fen `json:"arrears_prior_years_fen"`
	RecoveredFen          Fen `json:"recovered_fen"`
}

// Statement is an employer's balances as of a date.
type Statement struct {
	AsOf   Date        `json:"as_of"`
	Lines  []LineState `json:"lines"`
	Totals Totals      `json:"totals"`
	// Settled sums the lines a year-end compaction took out of Lines (their money is in Totals).
	Settled []Settled `json:"settled,omitempty"`
}

// Line returns the state of one line and whether it exists.
func (s *Statement) Line(k LineKey) (LineState, bool) {
	for _, l := range s.Lines {
		if l.Period == k.Period && l.Insurance == k.Insurance {
			return l, true
		}
	}
	return LineState{}, false
}

// Accrual asks the late fee a line has accrued by a date after the account's compaction
// boundary (the LateFeeAccruedFen of the line in the statement of that date); AccruedEach
// answers it in FeeFen, and Held says whether the account holds the line on that date.
type Accrual struct {
	Line   LineKey
	On     Date
	FeeFen Fen
	Held   bool
}

// AccruedEach answers each of qs, folding the account once for all of them
// (a payer's late-fee waivers are judged each by its own date): the entries are applied in date
// order up to each date asked, from the start again only when a payment reversal comes into
// effect.
func (a *Account) AccruedEach(qs []Accrual, fees []LateFeeRate) {
	if len(qs) == 0 {
		return
	}
	order := make([]int, len(qs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(qs[x].On, qs[y].On) })
	last := qs[order[len(order)-1]].On
	var pending, reversals []*entry
	for i := range a.entries {
		e := &a.entries[i]
		switch {
		case e.date > last:
		case e.kind != entryReversal:
			pending = append(pending, e)
		case e.undoes > 0:
			reversals = append(reversals, e)
		}
	}
	slices.SortStableFunc(pending, entryOrder)
	s := statementBooks.Get().(*book)
	defer func() {
		s.reset()
		statementBooks.Put(s)
	}()
	a.fillBook(s, fees)
	var undone map[*entry]bool // payments undone by a reversal dated on or before the date asked
	next := 0
	for _, i := range order {
		d := qs[i].On
		again := false
		for _, r := range reversals {
			if p := &a.entries[r.undoes-1]; r.date <= d && !undone[p] {
				if undone == nil {
					undone = map[*entry]bool{}
				}
				undone[p], again = true, true
			}
		}
		if again {
			s.reset()
			a.fillBook(s, fees)
			next = 0
		}
		for ; next < len(pending) && pending[next].date <= d; next++ {
			if !undone[pending[next]] {
				s.apply(pending[next])
			}
		}
		qs[i].FeeFen, qs[i].Held = 0, false
		if l, ok := s.lines[qs[i].Line]; ok {
			qs[i].FeeFen, qs[i].Held = l.feeAccrued(d, fees), true
		}
	}
}

// Statement computes the balances as of asOf from the entries dated on or before it, applied in
// business-date order (then recording order), with the late-fee schedule fees. A compacted
// account answers dates after its boundary only (CompactedThrough); its settled lines count in
// the totals and are listed in Settled, not in Lines.
func (a *Account) Statement(asOf Date, fees []LateFeeRate) Statement {
	return a.StatementInto(nil, asOf, fees)
}

// StatementInto is Statement with its Lines appended to lines[:0]: a caller making statements of
// many accounts one after the other reuses one array.
func (a *Account) StatementInto(lines []LineState, asOf Date, fees []LateFeeRate) Statement {
	s := statementBooks.Get().(*book)
	defer func() {
		s.reset()
		statementBooks.Put(s)
	}()
	return a.statementOf(a.fillThrough(s, asOf, fees), asOf, fees, lines)
}

// statementOf reads the statement as of asOf from s, the account's book through asOf.
func (a *Account) statementOf(s *book, asOf Date, fees []LateFeeRate, lines []LineState) Statement {
	st := Statement{AsOf: asOf, Lines: slices.Grow(lines[:0], len(s.order))}
	if st.Lines == nil {
		st.Lines = []LineState{} // an account with no lines answers "lines": [], not null
	}
	for _, l := range s.order {
		ls := l.state(asOf, fees)
		st.Lines = append(st.Lines, ls)
		st.Totals.add(ls, asOf)
	}
	st.Totals.CreditFen = s.credit
	for _, x := range a.Settled() {
		st.Totals.DueFen = st.Totals.DueFen.Plus(x.DueFen)
		st.Totals.PaidFen = st.Totals.PaidFen.Plus(x.PaidFen)
		st.Totals.WaivedFen = st.Totals.WaivedFen.Plus(x.WaivedFen)
		st.Totals.RecoveredFen = st.Totals.RecoveredFen.Plus(x.RecoveredFen)
	}
	st.Settled = a.Settled()
	return st
}

// add counts a line as of asOf into the totals.
func (t *Totals) add(ls LineState, asOf Date) {
	t.DueFen = t.DueFen.Plus(ls.DueFen)
	t.PaidFen = t.PaidFen.Plus(ls.PaidFen)
	t.WaivedFen = t.WaivedFen.Plus(ls.WaivedFen)
	t.OutstandingFen = t.OutstandingFen.Plus(ls.OutstandingFen)
	t.LateFeeFen = t.LateFeeFen.Plus(ls.LateFeeFen)
	t.RecoveredFen = t.RecoveredFen.Plus(ls.RecoveredFen)
	current, prior := ls.Arrears(asOf)
	t.ArrearsCurrentYearFen = t.ArrearsCurrentYearFen.Plus(current)
	t.ArrearsPriorYearsFen = t.ArrearsPriorYearsFen.Plus(prior)
}

// overdue reports whether a line due on dueOn with outstanding principal is in arrears on d: it
// is once its due date has passed.
func overdue(dueOn Date, outstanding Fen, d Date) bool { return dueOn < d && outstanding > 0 }

// Arrears is the line's principal in arrears on asOf (outstanding past its due date), as the
// current year's when its period is of asOf's year, else as prior years'.
func (ls LineState) Arrears(asOf Date) (currentYear, priorYears Fen) {
	switch {
	case !overdue(ls.DueDate, ls.OutstandingFen, asOf):
		return 0, 0
	case ls.Period.Year() == asOf.Year():
		return ls.OutstandingFen, 0
	default:
		return 0, ls.OutstandingFen
	}
}

// ArrearsFen is the principal in arrears, the current year's and prior years' together.
func (t Totals) ArrearsFen() Fen { return t.ArrearsCurrentYearFen.Plus(t.ArrearsPriorYearsFen) }

// OverdueLine is a line's outstanding principal past its due date at some date.
type OverdueLine struct {
	Period         Period
	Insurance      Insurance
	OutstandingFen Fen
}

// OverdueAt gives, for each date in at (ascending), the outstanding principal of every line due
// before that date, counting the events dated on or before it: the arrears at each date, from one
// pass over the entries (an account with reversals is replayed once per date, since a reversal
// undoes its payment only from its own date on).
func (a *Account) OverdueAt(at []Date, fees []LateFeeRate) [][]OverdueLine {
	out := make([][]OverdueLine, len(at))
	hasReversal := false
	for i := range a.entries {
		hasReversal = hasReversal || a.entries[i].kind == entryReversal
	}
	listAt := func(s *book, d Date) []OverdueLine {
		var list []OverdueLine
		for _, l := range s.order {
			if overdue(l.dueOn, l.outstanding(), d) {
				list = append(list, OverdueLine{l.key.Period, l.key.Insurance, l.outstanding()})
			}
		}
		return list
	}
	if hasReversal {
		for i, d := range at {
			st := a.Statement(d, fees)
			for _, l := range st.Lines {
				if overdue(l.DueDate, l.OutstandingFen, d) {
					out[i] = append(out[i], OverdueLine{l.Period, l.Insurance, l.OutstandingFen})
				}
			}
		}
		return out
	}
	entries := make([]*entry, 0, len(a.entries))
	for i := range a.entries {
		entries = append(entries, &a.entries[i])
	}
	slices.SortStableFunc(entries, entryOrder)
	s := a.newBook(fees)
	ci := 0
	for _, e := range entries {
		for ci < len(at) && e.date > at[ci] {
			out[ci] = listAt(s, at[ci])
			ci++
		}
		if ci == len(at) {
			break
		}
		s.apply(e)
	}
	for ; ci < len(at); ci++ {
		out[ci] = listAt(s, at[ci])
	}
	return out
}
