package domain

import (
	"cmp"
	"slices"
)

// EmployerOn folds the events of one employer (in any order) that are dated on or before d into
// the employer as it stood on d. They are applied in business-date order, then recording order,
// the order the lines' arithmetic uses, so every dated fact (name, county, registration,
// workforce, enrollment, enforcement step) is the latest dated by d, whenever it was recorded.
// Before the employer entered the ledger it has only the identity it entered with: its profile
// and entry date. Events that could not be decoded (no body) are left out, and so are the events
// a void among them names, whatever the void's date: a void counts from its sequence on.
func EmployerOn(events []Event, d Date) *Employer {
	on := make([]Event, 0, len(events))
	for _, ev := range events {
		if ev.Body != nil && ev.OccurredOn <= d {
			on = append(on, ev)
		}
	}
	slices.SortStableFunc(on, func(a, b Event) int {
		return cmp.Or(cmp.Compare(a.OccurredOn, b.OccurredOn), cmp.Compare(a.Seq, b.Seq))
	})
	e := &Employer{voided: voidedIn(events)}
	defer e.correctCode(events)
	for _, ev := range on {
		e.Apply(ev)
	}
	if len(on) > 0 {
		return e
	}
	for _, ev := range events {
		switch p := ev.Body.(type) {
		case EmployerRegistered:
			e.ID, e.Profile, e.EnteredOn = ev.EmployerID, p.Profile, p.RegisteredOn
			return e
		case EmployerFound:
			e.ID, e.Profile, e.EnteredOn = ev.EmployerID, p.Profile, p.FoundOn
			return e
		}
	}
	return e
}

// correctCode gives e the codes of the correction recorded last among events, whatever its date
// and d: a correction says what the code always was, so on every date the payer has the code
// the ledger holds for it now (and no other payer's, which a date order could give it).
func (e *Employer) correctCode(events []Event) {
	var last *Event
	for i := range events {
		if _, ok := events[i].Body.(OrgCodeCorrected); ok && !e.voided[events[i].Seq] && (last == nil || events[i].Seq > last.Seq) {
			last = &events[i]
		}
	}
	if last != nil {
		c := last.Body.(OrgCodeCorrected)
		e.OrgCode, e.CreditCode = c.OrgCode, c.CreditCode
	}
}

// Replay gives an employer's totals as its events are folded one at a time, each on a date the
// caller chooses (a history's balances after each event, on that event's date): what Statement
// gives on the account folded so far, without replaying the whole account at every event. While
// no applied entry is dated after the date asked, it applies only the entries taken since the
// last call. It replays from the start once when an entry would be applied before one already
// applied (a backdated one), or when a payment reversal comes into effect (it undoes its payment
// from the payment's date). A date before an entry already applied is answered by Statement.
type Replay struct {
	fees []LateFeeRate
	// taken counts the account's entries seen so far.
	taken int
	// pending holds the entries taken but not yet applied, in application order.
	pending []taken
	// s has applied, in application order, every taken entry not pending, but the payments in
	// undone; again: start again (s nil: with a book from statementBooks).
	s     *book
	again bool
	// last is the last entry applied (nil: none).
	last *entry
	// undone holds the indexes in the account's entries of the payments undone by a reversal
	// applied in s.
	undone map[int]bool
}

// taken is an entry and its index in the account's entries.
type taken struct {
	e *entry
	i int
}

func takenOrder(x taken, y *entry) int { return entryOrder(x.e, y) }

// NewReplay starts a replay with the late-fee schedule fees.
func NewReplay(fees []LateFeeRate) *Replay { return &Replay{fees: fees, again: true} }

// TotalsOn returns a.Statement(d, fees).Totals. Between calls the account may only grow, by the
// events folded into its employer.
func (r *Replay) TotalsOn(a *Account, d Date) Totals {
	for i := r.taken; i < len(a.entries); i++ {
		// An entry is never changed once added: the one in the array the account has now is
		// the same as in any array it grows into.
		e := &a.entries[i]
		if r.last != nil && entryOrder(e, r.last) < 0 {
			r.again = true
		}
		at, _ := slices.BinarySearchFunc(r.pending, e, takenOrder)
		r.pending = slices.Insert(r.pending, at, taken{e, i})
	}
	r.taken = len(a.entries)
	if !r.again && r.last != nil && r.last.date > d {
		return a.Statement(d, r.fees).Totals
	}
	for !r.applyThrough(a, d) {
		r.again = true
	}
	return r.s.totals(d)
}

// Release gives back what the replay holds for the next (a history answered, its replay is
// done); the replay must not be used after.
func (r *Replay) Release() {
	if r.s != nil {
		r.s.reset()
		statementBooks.Put(r.s)
		r.s = nil
	}
}

// applyThrough applies the pending entries dated on or before d, starting again from the first
// entry when s is nil: then every reversal dated on or before d undoes its payment from the
// start. It returns false, having stopped, at a reversal of a payment already applied.
func (r *Replay) applyThrough(a *Account, d Date) bool {
	if r.again {
		if r.s == nil {
			r.s = statementBooks.Get().(*book)
		} else {
			r.s.reset()
		}
		r.s.fees, r.again = r.fees, false
		if r.s.lines == nil {
			r.s.lines = map[LineKey]*bookLine{}
		}
		r.last = nil
		r.undone = map[int]bool{}
		r.pending = r.pending[:0]
		for i := range a.entries {
			e := &a.entries[i]
			r.pending = append(r.pending, taken{e, i})
			if e.kind == entryReversal && e.undoes > 0 && e.date <= d {
				r.undone[e.undoes-1] = true
			}
		}
		slices.SortStableFunc(r.pending, func(x, y taken) int { return entryOrder(x.e, y.e) })
	}
	n := 0
	for n < len(r.pending) && r.pending[n].e.date <= d {
		t := r.pending[n]
		switch {
		case t.e.kind == entryReversal:
			if t.e.undoes > 0 && !r.undone[t.e.undoes-1] {
				r.pending = r.pending[n:]
				return false
			}
		case !r.undone[t.i]:
			r.s.apply(t.e)
		}
		r.last = t.e
		n++
	}
	r.pending = r.pending[n:]
	return true
}

// totals sums the lines as of asOf as Statement does. It is asked after each event of a replay,
// with asOf never before an entry applied: a line whose state no such date changes (still) is
// summed once, into quiet, until an entry changes it (touch). Ten years of a payer are hundreds
// of lines, nearly all of them paid off.
func (s *book) totals(asOf Date) Totals {
	if !s.tracking {
		s.tracking, s.active = true, slices.Clone(s.order)
	}
	t := s.quiet
	active := s.active[:0]
	for _, l := range s.active {
		ls := l.state(asOf, s.fees)
		if l.still(asOf) {
			l.quiet, l.counted = true, quietState{ls.DueFen, ls.PaidFen, ls.WaivedFen, ls.LateFeeFen, ls.RecoveredFen}
			s.quiet.add(ls, asOf)
			t.add(ls, asOf)
			continue
		}
		t.add(ls, asOf)
		active = append(active, l)
	}
	clear(s.active[len(active):])
	s.active = active
	t.CreditFen = s.credit
	return t
}

// still reports whether the line's state is the same at every date from d on while no entry
// changes it: nothing outstanding, past its due date, its late fee accrued for good.
func (l *bookLine) still(d Date) bool {
	if l.outstanding() > 0 || d <= l.dueOn {
		return false
	}
	m := &l.settled
	return l.fixed || m.reductions > 0 && int(m.reductions) == len(l.reductions) && m.principal == l.principal()
}

// touch is called before an entry changes line l: a quiet line leaves the quiet sum.
func (s *book) touch(l *bookLine) {
	if !l.quiet {
		return
	}
	l.quiet = false
	s.quiet.remove(l.counted)
	s.active = append(s.active, l)
}

// remove takes a quiet line's state out of the totals.
func (t *Totals) remove(q quietState) {
	t.DueFen -= q.due
	t.PaidFen -= q.paid
	t.WaivedFen -= q.waived
	t.LateFeeFen -= q.lateFee
	t.RecoveredFen -= q.recovered
}
