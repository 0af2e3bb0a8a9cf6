package domain

import (
	"cmp"
	"maps"
	"math"
	"slices"
)

// Dated values kept so that views can answer "as of" any business date.

// EnrollmentAt is an enrollment headcount from a date.
type EnrollmentAt struct {
	On        Date
	Insurance Insurance
	Headcount int64
}

// CountAt is a count recorded on a date (survey workforce, contracts signed).
type CountAt struct {
	On    Date
	Count int64
}

// CountyAt is the county an employer belongs to from a date.
type CountyAt struct {
	On     Date
	County string
}

// StepAt is an enforcement step on a date.
type StepAt struct {
	On       Date
	Step     string
	Deadline Date
	DocNo    string
}

// History is an employer's dated facts, in the order they were recorded.
type History struct {
	Enrollments []EnrollmentAt
	Surveys     []CountAt
	Contracts   []CountAt
	Counties    []CountyAt
	Steps       []StepAt
	Findings    []AuditFindingRecorded
	Waivers     []WaiverGranted
	// WaiverFees holds, by index in Waivers, the late fee a late-fee waiver's line accrued by its
	// date as the account folded it when a compaction took that date or that line: a compacted
	// account no longer answers them (FeesAccruedBy).
	WaiverFees map[int]Fen
	// Declarations holds each period's declarations, by period, then by date (the order
	// recorded among equal dates): the last of a period is in force (Declaration), the last
	// dated by a day was then (DeclarationOn).
	Declarations []Declared
	Assessed     map[Period]Date
	// SetSince holds, by period, the earliest date of its declarations and assessments: a
	// period is declared or assessed as of any date from it on, whatever replaced it since.
	SetSince map[Period]Date
	// Inactive holds the deregistrations a reinstatement ended: the employer was no payer from
	// From until the day before Until.
	Inactive []DateSpan
	// Entered is the profile the payer entered the ledger with, kept from its first recorded
	// change on (nil before: the profile stands as entered); Changes holds the changes of its
	// registration facts, in the order recorded. ProfileOn reads them. A compaction folds the
	// changes it passes into Entered.
	Entered *Profile
	Changes []EmployerChanged
	// SegmentsSince holds, for each segment the payer was in on the day a compaction folded its
	// changes into Entered, the day it had been in it since (InSegmentSince): the changes that
	// tell it are gone. Nil before a compaction; never changed in place: copies share it.
	SegmentsSince map[Segment]Date
}

// DateSpan is the days from From up to, not including, Until.
type DateSpan struct {
	From, Until Date
}

// Declared is what the views keep of a declaration of a period: its date, and of its lines what
// the base-floor flag reads.
type Declared struct {
	Period Period
	On     Date
	Lines  []DeclaredBase
}

// DeclaredBase is a declared line's insurance, headcount and wage base.
type DeclaredBase struct {
	Insurance   Insurance
	Headcount   int64
	WageBaseFen Fen
}

// Declaration returns the declaration of period p in force, if any: the latest by date, the
// last recorded among equal dates.
func (h *History) Declaration(p Period) (Declared, bool) {
	return h.DeclarationOn(p, maxDate)
}

// DeclarationOn returns the declaration of period p in force on day d, if any: the latest dated
// on or before d, the last recorded among equal dates. One dated after d does not hide it.
func (h *History) DeclarationOn(p Period, d Date) (Declared, bool) {
	after := h.declaredAfter(p, d)
	if after == 0 || h.Declarations[after-1].Period != p {
		return Declared{}, false
	}
	return h.Declarations[after-1], true
}

// declaredAfter is the index of the first declaration after those of periods before p and those
// of p dated on or before d.
func (h *History) declaredAfter(p Period, d Date) int {
	i, _ := slices.BinarySearchFunc(h.Declarations, p, func(x Declared, p Period) int {
		if c := cmp.Compare(x.Period, p); c != 0 {
			return c
		}
		if x.On <= d {
			return -1
		}
		return 1
	})
	return i
}

// maxDate is after every date.
const maxDate = Date(math.MaxInt32)

// declare records a declaration among its period's, after those of its date or before. One put
// before others is put in a copy of the list: copies of the history share it.
func (h *History) declare(p DeclarationFiled) {
	d := Declared{Period: p.Period, On: p.DeclaredOn, Lines: make([]DeclaredBase, len(p.Lines))}
	for i, l := range p.Lines {
		d.Lines[i] = DeclaredBase{l.Insurance.canonical(), l.Headcount, l.WageBaseFen}
	}
	i := h.declaredAfter(p.Period, p.DeclaredOn)
	if i == len(h.Declarations) {
		// The common case, the latest period: copies are clipped, and never see what is
		// appended here.
		h.Declarations = append(h.Declarations, d)
		return
	}
	h.Declarations = slices.Insert(slices.Clip(h.Declarations), i, d)
}

func (h *History) record(body Payload) {
	switch p := body.(type) {
	case EmployerRegistered:
		h.Counties = append(h.Counties, CountyAt{p.RegisteredOn, p.County})
	case EmployerFound:
		h.Counties = append(h.Counties, CountyAt{p.FoundOn, p.County})
	case EmployerTransferred:
		h.Counties = append(h.Counties, CountyAt{p.On, p.To})
	case SurveyCounted:
		h.Surveys = append(h.Surveys, CountAt{p.AsOf, p.Workforce})
	case EnrollmentRecorded:
		h.Enrollments = append(h.Enrollments, EnrollmentAt{p.EffectiveOn, p.Insurance.canonical(), p.Headcount})
	case AuditFindingRecorded:
		p.Insurance = p.Insurance.canonical()
		h.Findings = append(h.Findings, p)
		if p.Kind == FindingMissedWorkers {
			h.Enrollments = append(h.Enrollments, EnrollmentAt{p.FoundOn, p.Insurance, h.enrolledOn(p.Insurance, p.FoundOn) + p.ExtraHeadcount})
		}
	case EmployerChanged:
		h.Changes = append(h.Changes, p)
	case OrgCodeCorrected:
		if h.Entered != nil { // the code was wrong from the start: so it is in every dated profile
			entered := *h.Entered
			entered.OrgCode, entered.CreditCode = p.OrgCode, p.CreditCode
			h.Entered = &entered
		}
	case ContractsSigned:
		h.Contracts = append(h.Contracts, CountAt{p.SignedOn, p.Count})
	case EnforcementStepRecorded:
		h.Steps = append(h.Steps, StepAt{p.On, p.Step, p.Deadline, p.DocNo})
	case WaiverGranted:
		p.Insurance = p.Insurance.canonical()
		h.Waivers = append(h.Waivers, p)
	case DeclarationFiled:
		h.declare(p)
		h.setOn(p.Period, p.DeclaredOn)
	case AssessmentMade:
		if h.Assessed == nil {
			h.Assessed = map[Period]Date{}
		}
		h.Assessed[p.Period] = p.AssessedOn
		h.setOn(p.Period, p.AssessedOn)
	}
}

// setOn notes that period p was declared or assessed on d (SetSince).
func (h *History) setOn(p Period, d Date) {
	if on, ok := h.SetSince[p]; !ok || d < on {
		if h.SetSince == nil {
			h.SetSince = map[Period]Date{}
		}
		h.SetSince[p] = d
	}
}

// SetBy reports whether period p was declared or assessed on or before d.
func (h *History) SetBy(p Period, d Date) bool {
	on, ok := h.SetSince[p]
	return ok && on <= d
}

func (h *History) clone() History {
	c := *h
	c.Enrollments = slices.Clip(h.Enrollments)
	c.Surveys = slices.Clip(h.Surveys)
	c.Contracts = slices.Clip(h.Contracts)
	c.Counties = slices.Clip(h.Counties)
	c.Steps = slices.Clip(h.Steps)
	c.Findings = slices.Clip(h.Findings)
	c.Waivers = slices.Clip(h.Waivers)
	c.WaiverFees = maps.Clone(h.WaiverFees)
	c.Declarations = slices.Clip(h.Declarations)
	c.Changes = slices.Clip(h.Changes) // Entered is never changed in place: copies share it
	c.Inactive = slices.Clip(h.Inactive)
	c.Assessed = maps.Clone(h.Assessed)
	c.SetSince = maps.Clone(h.SetSince)
	return c
}

// latest returns the value of the entry with the greatest date on or before d (the last
// recorded among equal dates).
func latest[T any](list []T, on func(T) Date, d Date) (T, bool) {
	var best T
	var bestOn Date
	found := false
	for _, x := range list {
		if o := on(x); o <= d && (!found || o >= bestOn) {
			best, bestOn, found = x, o, true
		}
	}
	return best, found
}

func (h *History) enrolledOn(ins Insurance, d Date) int64 {
	var n int64
	var at Date
	found := false
	for _, x := range h.Enrollments {
		if x.Insurance == ins && x.On <= d && (!found || x.On >= at) {
			n, at, found = x.Headcount, x.On, true
		}
	}
	return n
}

// EnrolledOn is the insured headcount of an insurance on d (the latest enrollment on or before d).
func (e *Employer) EnrolledOn(ins Insurance, d Date) int64 { return e.History.enrolledOn(ins, d) }

// EnrollmentsOn is the insured headcount on d of every insurance enrolled on or before d: the
// latest enrollment of each, with the workers audit findings found missing added.
func (e *Employer) EnrollmentsOn(d Date) map[Insurance]int64 {
	out := map[Insurance]int64{}
	for _, x := range e.History.Enrollments {
		if x.On <= d {
			out[x.Insurance] = e.History.enrolledOn(x.Insurance, d)
		}
	}
	return out
}

// WorkforceOn is the survey's count of persons who should be insured, as known on d.
func (e *Employer) WorkforceOn(d Date) int64 {
	s, _ := latest(e.History.Surveys, func(c CountAt) Date { return c.On }, d)
	return s.Count
}

// CountyOn is the employer's county on d (its first county before it entered the ledger).
func (e *Employer) CountyOn(d Date) string {
	if c, ok := latest(e.History.Counties, func(c CountyAt) Date { return c.On }, d); ok {
		return c.County
	}
	if len(e.History.Counties) > 0 {
		return e.History.Counties[0].County
	}
	return e.County
}

// CountyOfPeriod is the county a line of period p counts in: the employer's county on p's first
// day and, for a period begun before the employer entered the ledger, its county at the end of
// its entry day: a transfer dated on that day corrects a registration in the wrong county, for
// every line (a clerk cannot date a transfer before the entry).
func (e *Employer) CountyOfPeriod(p Period) string {
	d := p.FirstDay()
	if len(e.History.Counties) > 0 {
		d = max(d, e.History.Counties[0].On)
	}
	return e.CountyOn(d)
}

// ProfileOn is the payer's registration facts as known on d: the profile it entered with,
// changed by every change dated on or before d, in date order (then the order recorded),
// whenever each was recorded; its County is the county on d (CountyOn). Without the history
// (the write side's state) it is the profile as it stands.
func (e *Employer) ProfileOn(d Date) Profile {
	p := e.Profile
	if h := &e.History; h.Entered != nil {
		p = profileThrough(*h.Entered, h.Changes, d)
	}
	p.County = e.CountyOn(d)
	return p
}

// InSegmentSince is the day from which a payer in segment seg on d has been in it without a
// break, by its registration facts: the date of the last change that put it in, or the day it
// entered the ledger.
func (e *Employer) InSegmentSince(seg Segment, d Date) Date {
	h := &e.History
	since := e.EnteredOn
	if s, ok := h.SegmentsSince[seg]; ok {
		since = s
	}
	var dates []Date
	for _, c := range h.Changes {
		if c.On > e.EnteredOn && c.On <= d {
			dates = append(dates, c.On)
		}
	}
	slices.Sort(dates)
	// After a compaction this is the profile on its boundary, in seg when SegmentsSince says so.
	first := e.ProfileOn(e.EnteredOn)
	was := first.In(seg)
	for _, x := range slices.Compact(dates) {
		p := e.ProfileOn(x)
		in := p.In(seg)
		if in && !was {
			since = x
		}
		was = in
	}
	return since
}

// profileThrough is p changed by the changes dated on or before d, in date order, then in
// the order of the list.
func profileThrough(p Profile, changes []EmployerChanged, d Date) Profile {
	byDate := func(a, b EmployerChanged) int { return cmp.Compare(a.On, b.On) }
	if !slices.IsSortedFunc(changes, byDate) { // a change recorded after a later-dated one
		changes = slices.Clone(changes)
		slices.SortStableFunc(changes, byDate)
	}
	for _, c := range changes {
		if c.On > d {
			break
		}
		p.apply(c)
	}
	return p
}

// LatestStepThrough is the enforcement step dated last on or before d (of two on one day, the one
// recorded later), whatever order the steps were recorded in; false when there is none.
func (e *Employer) LatestStepThrough(d Date) (StepAt, bool) {
	var latest StepAt
	found := false
	for _, s := range e.History.Steps {
		if s.On <= d && (!found || s.On >= latest.On) {
			latest, found = s, true
		}
	}
	return latest, found
}

// EnteredBy reports whether the employer had entered the ledger by d.
func (e *Employer) EnteredBy(d Date) bool { return e.Exists() && e.EnteredOn <= d }

// ActiveOn reports whether the employer is a payer on d: entered by then, not deregistered on or
// before it, nor then within a deregistration a reinstatement ended.
func (e *Employer) ActiveOn(d Date) bool {
	if !e.EnteredBy(d) || (e.Deregistered && e.DeregisteredOn <= d) {
		return false
	}
	_, away := e.awayOn(d)
	return !away
}

// awayOn returns the deregistration a reinstatement ended that d falls within, if any.
func (e *Employer) awayOn(d Date) (DateSpan, bool) {
	for _, s := range e.History.Inactive {
		if s.From <= d && d < s.Until {
			return s, true
		}
	}
	return DateSpan{}, false
}
