// Package projections folds the ledger's events into the views supervisors, clerks and the
// assessment team read: counties, groups, targets, worklists, monthly reports. The folds are
// pure; the Runner feeds them from the stream and keeps snapshots.
package projections

import (
	"github.com/kuozheng/kuozheng/domain"
)

// Ledger is the state every view is computed from: the reference data and every employer's
// folded events, as of the last sequence applied. Its Apply is the one fold shared by live
// serving, rebuilds, history replay and freezes.
type Ledger struct {
	Seq       uint64
	Ref       domain.Reference
	Employers *EmployerMap
	// Order lists employer ids in the order they entered the ledger.
	Order []string
	// Boundary is the date every employer is compacted through (0: none), KeepFrom the first
	// period kept whole (see Covers).
	Boundary domain.Date
	KeepFrom domain.Period
	// Source, if set, lets the ledger compact closed years and fold employers again; without it
	// the ledger never compacts.
	Source EventSource
	// Keep, if set, is a query the ledger must stay able to answer: it compacts no further.
	Keep *Query
	err  error
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{Employers: NewEmployerMap()}
}

// Apply folds one event. Events must come in stream order; one already applied is ignored.
func (l *Ledger) Apply(ev domain.Event) {
	if ev.Seq != 0 && ev.Seq <= l.Seq {
		return
	}
	if ev.Seq != 0 {
		l.Seq = ev.Seq
	}
	if ev.Body == nil {
		return
	}
	if ev.EmployerID == "" {
		l.Ref.Apply(ev.Body)
		switch ev.Body.(type) {
		case domain.YearClosed, domain.YearReopened:
			l.recompact()
		}
		return
	}
	if _, ok := ev.Body.(domain.OrgCodeClaimed); ok {
		return // a claim of an organisation code: its subject holds no employer
	}
	e := l.Employers.Get(ev.EmployerID)
	if e == nil {
		e = &domain.Employer{SkipDecisions: true}
		l.Employers.Set(ev.EmployerID, e)
		l.Order = append(l.Order, ev.EmployerID)
	}
	e.Apply(ev)
	if e.Account.Stale || e.Refold || e.Account.TakesBackCarried(l.Ref.LateFees) {
		l.refold(ev.EmployerID, ev.Seq)
	}
}

// DefaultPeriod is the latest period whose contributions fell due on or before asOf.
func DefaultPeriod(ref *domain.Reference, asOf domain.Date) domain.Period {
	p := asOf.Period()
	for ref.DueDate(p) > asOf {
		p = p.Prev()
	}
	return p
}
