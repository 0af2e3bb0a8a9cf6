package eventstore

import (
	"slices"
	"time"

	"github.com/kuozheng/kuozheng/domain"
)

// YearRecord is a year's closing (年度结转) as the ledger recorded it: its status, and who last
// closed and reopened it, on which business date and at which stream sequence.
type YearRecord struct {
	domain.YearStatus
	ClosedBy    string      `json:"closed_by,omitempty"`
	ClosedOn    domain.Date `json:"closed_on,omitempty"`
	ClosedAt    time.Time   `json:"closed_at,omitzero"`
	ClosedSeq   uint64      `json:"closed_seq,omitempty"`
	ReopenedBy  string      `json:"reopened_by,omitempty"`
	ReopenedOn  domain.Date `json:"reopened_on,omitempty"`
	ReopenedAt  time.Time   `json:"reopened_at,omitzero"`
	ReopenedSeq uint64      `json:"reopened_seq,omitempty"`
	// ClosedWith is, for a year before the first closed one, that year: closing a year closes
	// the books before it too. Years leaves it 0; ClosedWith sets it and Closed.
	ClosedWith int `json:"closed_with,omitempty"`
}

// Years lists every year from the earliest business date of the ledger's events through
// through (a business date, usually today), and any later year with a closing, oldest first,
// each with its own closings (a year before the first closed one is closed with it: ClosedWith).
func (s *Store) Years(through domain.Date) []YearRecord {
	s.mu.RLock()
	defer s.mu.RUnlock()
	byYear := map[int]YearRecord{}
	if s.earliest != 0 {
		for y := s.earliest.Year(); y <= through.Year(); y++ {
			byYear[y] = YearRecord{YearStatus: domain.YearStatus{Year: y}}
		}
	}
	for y, r := range s.years {
		byYear[y] = r
	}
	out := make([]YearRecord, 0, len(byYear))
	for _, r := range byYear {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b YearRecord) int { return a.Year - b.Year })
	return out
}

// foldYear records a closing or a reopening with who made it and when. The caller holds s.mu,
// after the reference data has applied the event.
func (s *Store) foldYear(ev domain.Event) {
	var year int
	switch e := ev.Body.(type) {
	case domain.YearClosed:
		year = e.Year
	case domain.YearReopened:
		year = e.Year
	default:
		return
	}
	r := s.years[year]
	r.YearStatus, _ = s.ref.Year(year)
	if r.Closed {
		r.ClosedBy, r.ClosedOn, r.ClosedAt, r.ClosedSeq = ev.Actor, ev.OccurredOn, recordedAt(ev.RecordedAt), ev.Seq
	} else {
		r.ReopenedBy, r.ReopenedOn, r.ReopenedAt, r.ReopenedSeq = ev.Actor, ev.OccurredOn, recordedAt(ev.RecordedAt), ev.Seq
	}
	s.years[year] = r
}

// stampYear gives the closing or reopening this store folded at seq when it appended it the
// stream's time of it, which the acknowledgement does not carry. The caller holds s.mu.
func (s *Store) stampYear(seq uint64, recorded int64) {
	for y, r := range s.years {
		switch seq {
		case r.ClosedSeq:
			r.ClosedAt = recordedAt(recorded)
		case r.ReopenedSeq:
			r.ReopenedAt = recordedAt(recorded)
		default:
			continue
		}
		s.years[y] = r
	}
}

// recordedAt is a stream time in UTC; zero when it is not known yet.
func recordedAt(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// ClosedWith returns years with each year before the first closed one closed with it: closing a
// year closes the books before it too, so such a year is closed without a closing of its own.
func ClosedWith(years []YearRecord) []YearRecord {
	first := 0
	for _, r := range years {
		if r.Closed && r.ClosedSeq != 0 {
			first = r.Year
			break
		}
	}
	out := slices.Clone(years)
	for i := range out {
		if out[i].Year < first {
			out[i].Closed, out[i].ClosedWith = true, first
		}
	}
	return out
}
