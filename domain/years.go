package domain

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// YearClosed is the year-end closing (年度结转) of Year after the freeze FreezeID, valid through
// its 31 December, whose digest it repeats. It changes no figure of any date; from it on, an
// event dated in Year is refused (KindYearClosed) until an admin reopens the year.
type YearClosed struct {
	Year     int    `json:"year"`
	FreezeID string `json:"freeze_id"`
	Digest   string `json:"digest"`
}

// YearReopened reopens a closed year, for the reason given, until it is closed again.
type YearReopened struct {
	Year   int    `json:"year"`
	Reason string `json:"reason"`
}

// EventType names the event.
func (YearClosed) EventType() string { return "year.closed" }

// EventType names the event.
func (YearReopened) EventType() string { return "year.reopened" }

// YearStatus is a year's closing as the reference data knows it: closed or not, the freeze it
// was last closed after, and the reason it was last reopened.
type YearStatus struct {
	Year         int    `json:"year"`
	Closed       bool   `json:"closed"`
	FreezeID     string `json:"freeze_id,omitempty"`
	Digest       string `json:"digest,omitempty"`
	ReopenReason string `json:"reopen_reason,omitempty"`
}

// NewYearReopened checks a reopening: the year, and a reason with visible text (normalised).
func NewYearReopened(year int, reason string) (YearReopened, error) {
	c := &checker{}
	r := YearReopened{Year: year, Reason: c.text("reason", reason, true, 500)}
	if c.err == nil && (year < EarliestDate.Year() || year > 9999) {
		c.fail(Invalid("year", "%d is not a year from %d", year, EarliestDate.Year()))
	}
	return r, c.err
}

// Closed reports whether year is closed.
func (r *Reference) Closed(year int) bool {
	st, ok := r.Year(year)
	return ok && st.Closed
}

// Year returns year's closing status, if it was ever closed.
func (r *Reference) Year(year int) (YearStatus, bool) {
	i := sort.Search(len(r.Years), func(i int) bool { return r.Years[i].Year >= year })
	if i < len(r.Years) && r.Years[i].Year == year {
		return r.Years[i], true
	}
	return YearStatus{}, false
}

// applyYear folds a closing or a reopening into the list of years kept sorted by year. It builds
// a new list, so that copies of the reference data taken before share nothing it changes.
func (r *Reference) applyYear(st YearStatus) {
	years := slices.Clone(r.Years)
	i := sort.Search(len(years), func(i int) bool { return years[i].Year >= st.Year })
	if i < len(years) && years[i].Year == st.Year {
		if st.Closed {
			st.ReopenReason = years[i].ReopenReason
		} else {
			st.FreezeID, st.Digest = years[i].FreezeID, years[i].Digest
		}
		years[i] = st
	} else {
		years = slices.Insert(years, i, st)
	}
	r.Years = years
}

// LockedThrough is the last day of the books closed for good: 31 December of the latest year
// Y such that every year from the first closed year through Y is closed (0 when no year is).
// Nothing dated on or before it can be recorded (checkYearOpen), so what it comes to is fixed
// until an admin reopens one of those years.
func (r *Reference) LockedThrough() Date {
	y, ok := r.FirstClosed()
	if !ok {
		return 0
	}
	for r.Closed(y + 1) {
		y++
	}
	d, _ := DateOf(y, time.December, 31)
	return d
}

// FirstClosed is the earliest closed year: the books before it closed with it.
func (r *Reference) FirstClosed() (int, bool) {
	for _, st := range r.Years {
		if st.Closed {
			return st.Year, true
		}
	}
	return 0, false
}

// BooksClosed reports whether nothing dated d may be recorded: its year is closed, or before
// the first closed year.
func (r *Reference) BooksClosed(d Date) bool { return checkYearOpen(r, "", d) != nil }

// checkYearOpen refuses a business date in a closed year, or before the first closed year:
// closing a year closes the books before it too.
func checkYearOpen(ref *Reference, field string, d Date) *Error {
	if ref == nil {
		return nil
	}
	if ref.Closed(d.Year()) {
		return &Error{Kind: KindYearClosed, Field: field,
			Detail: fmt.Sprintf("%s is in %d, a closed year: its figures are final; an admin may reopen the year with a reason", d, d.Year())}
	}
	if first, ok := ref.FirstClosed(); ok && d.Year() < first {
		return &Error{Kind: KindYearClosed, Field: field,
			Detail: fmt.Sprintf("%s is before %d, the first closed year: the books before it are closed with it; an admin may reopen %d with a reason", d, first, first)}
	}
	return nil
}

// StillOpen refuses cmd, checked against reference data in which its date's year was open, when
// ref has closed that year since: a caller that checks a command before the store holds its
// writes for a closing (a printed notice, an import's rows) has the year asked again on the
// reference data the command is decided on.
func StillOpen(cmd Command, ref *Reference) error {
	d := cmd.Date()
	if d == 0 {
		return nil
	}
	if err := checkYearOpen(ref, DateField(cmd), d); err != nil {
		return err
	}
	return nil
}

// DateField is the body's field that cmd's business date (Command.Date) is read from.
func DateField(cmd Command) string {
	switch c := cmd.(type) {
	case *RecordAuditFinding:
		return "found_on"
	case *RegisterEmployer:
		if c.FoundOn != "" {
			return "found_on"
		}
		return "registered_on"
	case *FileDeclaration:
		return "declared_on"
	case *MakeAssessment:
		return "assessed_on"
	case *RecordOpeningBalance, *RecordSurvey:
		return "as_of"
	case *RecordPayment:
		return "paid_on"
	case *ReversePayment:
		return "reversed_on"
	case *GrantWaiver:
		return "decided_on"
	case *CompleteRegistration:
		return "registered_on"
	case *RecordEnrollment:
		return "effective_on"
	case *RecordContracts:
		return "signed_on"
	case *Reinstate:
		return "reinstated_on"
	case *VoidEvent:
		return "voided_on"
	case *RefundCredit:
		return "refunded_on"
	case *IssueNotice:
		return "issued_on"
	case *CorrectOrgCode:
		return "corrected_on"
	}
	return "on" // RecordEnforcement, RecordInspection, ChangeEmployer, Transfer, Deregister
}
