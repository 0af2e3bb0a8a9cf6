package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/kuozheng/kuozheng/eventstore"
)

// Year-end compaction of the views. Once the books are closed through a date
// (Reference.LockedThrough), the views fold every employer's state through it
// (domain.Employer.Compact): settled lines and facts no later date needs leave memory, so the
// views grow with open work, not with the years behind them. A compacted ledger answers queries
// after the boundary only (Covers); the Runner answers the others from views replayed from the
// stream that keep the dates asked (Keep).

// EventSource reads an employer's events through a sequence, in order: the views fold an
// employer again from them when an event needs what compaction folded away (an amendment or
// audit of a settled line's period, the reversal of a payment folded into the carry), or when
// a reopened year moves the boundary back.
type EventSource interface {
	EmployerEvents(id string, through uint64) ([]domain.Event, error)
}

// StoreSource reads employers' events from the event store.
type StoreSource struct {
	Store *eventstore.Store
	// Timeout bounds one employer's read (default 30 s).
	Timeout time.Duration
}

// EmployerEvents returns the employer's decodable events through sequence `through`.
func (s StoreSource) EmployerEvents(id string, through uint64) ([]domain.Event, error) {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// The views may be ahead of the store's own index: wait for it to hold `through`.
	if err := s.Store.WaitApplied(ctx, through); err != nil {
		return nil, err
	}
	raws, err := s.Store.History(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Event, 0, len(raws))
	for _, r := range raws {
		if r.Seq > through {
			break
		}
		if r.Body != nil {
			out = append(out, r.Event)
		}
	}
	return out, nil
}

// Covers reports whether the ledger can answer q: a compacted ledger answers dates after its
// boundary and periods from the first one it kept whole.
func (l *Ledger) Covers(q Query) bool {
	return l.Boundary == 0 || (q.AsOf > l.Boundary && q.Period >= l.KeepFrom)
}

// CoversSeries reports whether the ledger can answer a series as of asOf from month from on.
func (l *Ledger) CoversSeries(asOf domain.Date, from domain.Period) bool {
	return l.Boundary == 0 || (asOf > l.Boundary && from.FirstDay() > l.Boundary)
}

// Err is the first error folding an employer again met; the ledger is wrong from then on.
func (l *Ledger) Err() error { return l.err }

// keepFrom is the first period a compaction through b, a year's last day, keeps whole: the one
// before the period last due the day after b (the earliest any default query after b asks
// for), since a worklist of that period asks whether the period before it had a due to take
// 110% of (dueBefore). Settings dated after b may yet move due days, so it does not read them:
// with a due day of at most the 28th, the period last due the day after b is b's month or the
// one before.
func (l *Ledger) keepFrom(b domain.Date) domain.Period {
	return b.Period().Prev().Prev()
}

// target is the boundary the ledger should be compacted through: the books' locked date, moved
// back a year at a time while it would not cover Keep; 0 for none. Without a source it stays.
func (l *Ledger) target() domain.Date {
	if l.Source == nil {
		return l.Boundary // neither compacts further nor folds anything again
	}
	b := l.Ref.LockedThrough()
	for b != 0 && l.Keep != nil {
		probe := Ledger{Boundary: b, KeepFrom: l.keepFrom(b)}
		if probe.Covers(*l.Keep) {
			break
		}
		prev, _ := domain.DateOf(b.Year()-1, time.December, 31)
		if !l.Ref.Closed(prev.Year()) {
			return 0
		}
		b = prev
	}
	return b
}

// recompact moves the boundary to the target after the reference data changed: forward, every
// employer is compacted (each a new copy, so that read-only copies of the ledger keep theirs);
// back, every employer compacted beyond it is folded again from its events.
func (l *Ledger) recompact() {
	b := l.target()
	if b == l.Boundary {
		return
	}
	l.Boundary = b
	l.KeepFrom = 0
	if b != 0 {
		l.KeepFrom = l.keepFrom(b)
	}
	for _, id := range l.Order {
		e := l.Employers.Get(id)
		switch through := e.Account.CompactedThrough(); {
		case through > b:
			l.refold(id, l.Seq)
		case b != 0 && through < b:
			c := e.Clone()
			if c.Compact(b, l.KeepFrom, l.Ref.LateFees) {
				l.Employers.Set(id, c)
			}
		}
	}
}

// refold folds an employer again from its events through seq, compacted through the boundary.
func (l *Ledger) refold(id string, seq uint64) {
	if l.err != nil {
		return
	}
	if l.Source == nil {
		l.err = fmt.Errorf("employer %s needs folding again from its events, and the views have no source", id)
		return
	}
	evs, err := l.Source.EmployerEvents(id, seq)
	if err != nil {
		l.err = fmt.Errorf("fold employer %s again through %d: %w", id, seq, err)
		return
	}
	e := &domain.Employer{SkipDecisions: true}
	for i := range evs {
		evs[i].EmployerID = id
	}
	e.Fold(evs)
	if l.Boundary != 0 {
		e.Compact(l.Boundary, l.KeepFrom, l.Ref.LateFees)
	}
	l.Employers.Set(id, e)
}
