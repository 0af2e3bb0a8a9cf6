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
// and entry date. Events that could not be decoded (no body) are left out.
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
	e := &Employer{}
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

// Replay gives an employer's totals as its events are folded one at a time, each on a date the
// caller chooses (a history's balances after each event, on that event's date): what Statement
// gives on the account folded so far, without replaying the whole account at every event. While
// no applied entry is dated after the date asked, it applies only the entries taken since the
// last call; an entry that would be applied before one already applied (a backdated one) makes
// it replay from the start once. A date before an entry already applied, or an account with a
// payment reversal (which undoes its payment from the payment's date), is answered by Statement.
type Replay struct {
	fees []LateFeeRate
	// taken counts the account's entries seen so far.
	taken int
	// pending holds the entries taken but not yet applied, in application order.
	pending []*entry
	// s has applied, in application order, every taken entry not pending; nil: start again.
	s *sim
	// last is the last entry applied (nil: none).
	last      *entry
	reversals bool
}

// NewReplay starts a replay with the late-fee schedule fees.
func NewReplay(fees []LateFeeRate) *Replay { return &Replay{fees: fees} }

// TotalsOn returns a.Statement(d, fees).Totals. Between calls the account may only grow, by the
// events folded into its employer.
func (r *Replay) TotalsOn(a *Account, d Date) Totals {
	for i := r.taken; i < len(a.entries); i++ {
		e := a.entries[i]
		r.reversals = r.reversals || e.kind == entryReversal
		if r.last != nil && entryOrder(&e, r.last) < 0 {
			r.s = nil
		}
		at, _ := slices.BinarySearchFunc(r.pending, &e, entryOrder)
		r.pending = slices.Insert(r.pending, at, &e)
	}
	r.taken = len(a.entries)
	if r.reversals || (r.s != nil && r.last != nil && r.last.date > d) {
		return a.Statement(d, r.fees).Totals
	}
	if r.s == nil {
		r.s = &sim{lines: map[LineKey]*simLine{}, fees: r.fees}
		r.last = nil
		r.pending = r.pending[:0]
		for i := range a.entries {
			e := a.entries[i]
			r.pending = append(r.pending, &e)
		}
		slices.SortStableFunc(r.pending, entryOrder)
	}
	n := 0
	for n < len(r.pending) && r.pending[n].date <= d {
		r.s.apply(r.pending[n])
		r.last = r.pending[n]
		n++
	}
	r.pending = r.pending[n:]
	return r.s.totals(d)
}

// totals sums the lines as of asOf as Statement does.
func (s *sim) totals(asOf Date) Totals {
	var t Totals
	for _, l := range s.order {
		t.add(l.state(asOf, s.fees), asOf)
	}
	t.CreditFen = s.credit
	return t
}
