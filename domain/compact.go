// Over 500 lines for a reason: a year-end compaction folds every kind of entry of an account into
// its carry; the kinds are listed together.

package domain

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Year-end compaction: once every year through a boundary is closed, nothing dated on or
// before it can be recorded, so what an account's entries up to it come to is fixed. Compact
// folds them into a carry: the lines still open (with everything their late fee needs), the
// credit, and sums of the settled lines, which leave the working set. Statements for dates
// after the boundary then start from the carry; dates on or before it are no longer answered.

// carry is an account folded through a boundary.
type carry struct {
	through Date
	// lines are the lines open at through, or kept (see Compact), oldest first, packed (see
	// packLines), and nlines their number; reductions holds the reductions of those that are not
	// fixed, line after line.
	lines      []byte
	nlines     int
	reductions []reduction
	credit     Fen
	// settled sums the lines that left: per group, insurance and year bucket.
	settled []Settled
	// dropped lists the periods a line left from, sorted: an amendment, audit or opening of one
	// of them needs the line back (Stale).
	dropped []Period
	// lastFixed is the latest period of a fixed line (0: none): most entries touch later
	// periods, which fixes so answers without reading the lines.
	lastFixed Period
}

// carriedLine is a line a compaction kept. A line with nothing outstanding at the boundary and
// no later entry setting, auditing or opening its period is fixed: no payment can reach it and
// its late fee accrued (fee) can no longer change, so its reductions are dropped; an entry that
// would change its principal needs the account folded again (stale), as for a line that left.
// Most lines a long-lived ledger carries are fixed: principal paid, late fee owed. A carry keeps
// its lines packed (carrypack.go).
type carriedLine struct {
	// Exported for the snapshot's encoding, which writes carried lines as they are.
	Period                             Period
	DueOn                              Date
	Base, Audit, Opening, Paid, Waived Fen
	FeePaid, FeeWaived, Recovered, Fee Fen
	// What a lowered due took back, for a raise after the boundary to restore (book.settle).
	WaiverLapsed, FeeWaiverLapsed, FeeRefunded Fen
	// What was recovered in the boundary's year (bookLine.recInYear), and that year, kept only
	// through a boundary within a year: statements after a year's end are of later years.
	// Settled lines keep none, so a year's recovery on them is the boundary's year's only
	// through a year-end boundary, the only kind a closing makes.
	RecoveredInYear, RecoveredYear Fen
	Reductions                     int32 // how many of carry.reductions are the line's
	Rank                           uint8 // the insurance's Rank
	Fixed                          bool
	Undeclared                     bool // bookLine.undeclared
}

// carried returns l as carried through a boundary, appending its reductions to c's unless fixed.
func (c *carry) carried(l *bookLine, fixed bool, fees []LateFeeRate) carriedLine {
	cl := carriedLine{Period: l.key.Period, DueOn: l.dueOn, Base: l.base, Audit: l.audit, Opening: l.opening,
		Paid: l.paid, Waived: l.waived, FeePaid: l.feePaid, FeeWaived: l.feeWaived, Recovered: l.recovered,
		WaiverLapsed: l.waiverLapsed, FeeWaiverLapsed: l.feeWaiverLapsed, FeeRefunded: l.feeRefunded,
		Rank: uint8(l.key.Insurance.Rank()), Fixed: fixed || l.fixed, Undeclared: l.undeclared}
	if y := c.through.Year(); l.recYear == y && c.through.AddDays(1).Year() == y {
		cl.RecoveredInYear, cl.RecoveredYear = l.recInYear, Fen(y)
	}
	if cl.Fixed {
		cl.Fee = l.feeAccrued(c.through, fees)
		return cl
	}
	cl.Reductions = int32(len(l.reductions))
	c.reductions = append(c.reductions, l.reductions...)
	return cl
}

// bookLine returns the line to simulate from, its reductions those at reductions (clipped: a
// simulation appends to a copy).
func (cl *carriedLine) bookLine(reductions []reduction) bookLine {
	return bookLine{key: LineKey{cl.Period, Insurances[cl.Rank]}, dueOn: cl.DueOn, base: cl.Base, audit: cl.Audit, opening: cl.Opening,
		paid: cl.Paid, waived: cl.Waived, feePaid: cl.FeePaid, feeWaived: cl.FeeWaived, recovered: cl.Recovered,
		waiverLapsed: cl.WaiverLapsed, feeWaiverLapsed: cl.FeeWaiverLapsed, feeRefunded: cl.FeeRefunded,
		reductions: reductions, fixed: cl.Fixed, fee: cl.Fee, feeBase: cl.Base + cl.Audit + cl.Opening,
		recInYear: cl.RecoveredInYear, recYear: int(cl.RecoveredYear), undeclared: cl.Undeclared}
}

// Settled sums lines that left the working set at a year-end compaction: fully paid, waived
// or credited, with no late fee owed, and touched by nothing recorded later. Year is the year
// of their periods when it is the latest compacted year, 0 for all earlier ones.
type Settled struct {
	Group     string    `json:"group"`
	Insurance Insurance `json:"insurance"`
	Year      int       `json:"year"`
	DueFen    Fen       `json:"due_fen"`
	PaidFen   Fen       `json:"paid_fen"`
	WaivedFen Fen       `json:"waived_fen"`
	// LateFeePaidFen and LateFeeWaivedFen settle the late fee that accrued on them.
	LateFeePaidFen   Fen `json:"late_fee_paid_fen"`
	LateFeeWaivedFen Fen `json:"late_fee_waived_fen"`
	RecoveredFen     Fen `json:"recovered_fen"`
}

func (s *Settled) add(l *bookLine, fees []LateFeeRate, through Date) {
	st := l.state(through, fees)
	s.DueFen += st.DueFen
	s.PaidFen += st.PaidFen
	s.WaivedFen += st.WaivedFen
	s.LateFeePaidFen += st.LateFeePaidFen
	s.LateFeeWaivedFen += st.LateFeeWaivedFen
	s.RecoveredFen += st.RecoveredFen
}

func (s *Settled) merge(o Settled) {
	s.DueFen += o.DueFen
	s.PaidFen += o.PaidFen
	s.WaivedFen += o.WaivedFen
	s.LateFeePaidFen += o.LateFeePaidFen
	s.LateFeeWaivedFen += o.LateFeeWaivedFen
	s.RecoveredFen += o.RecoveredFen
}

// CompactedThrough is the boundary the account was compacted through (0: never): its
// statements answer dates after it only.
func (a *Account) CompactedThrough() Date {
	if a.carry == nil {
		return 0
	}
	return a.carry.through
}

// Compact folds the entries dated on or before through into the account's carry. A line
// leaves when, as of through, nothing of it is outstanding or owed in late fee, its period is
// before keepFrom, and no entry dated after through amends, audits or opens its period; its
// money is summed under group(period) and its insurance. Compact refuses (false, nothing
// changed) when a reversal dated after through undoes a payment dated on or before it: that
// payment must stay an entry, since it counts until the reversal's date. It returns the
// receipts of the payments folded.
func (a *Account) Compact(through Date, keepFrom Period, fees []LateFeeRate, group func(Period) string) ([]string, bool) {
	if a.carry != nil && through <= a.carry.through {
		return nil, true
	}
	if a.takesBackAfter(through, fees) {
		return nil, false
	}
	touched := map[Period]bool{}
	for _, e := range a.entries {
		if e.date <= through {
			continue
		}
		if e.kind == entryReversal && e.undoes > 0 && a.entries[e.undoes-1].date <= through {
			return nil, false
		}
		for _, p := range e.touches() {
			touched[p] = true
		}
	}
	s := statementBooks.Get().(*book) // nothing the carry keeps points into it
	defer func() {
		s.reset()
		statementBooks.Put(s)
	}()
	a.fillThrough(s, through, fees)
	c := &carry{through: through, credit: s.credit}
	carried := s.carried[:0]
	if a.carry != nil {
		for _, old := range a.carry.settled {
			old.Year = 0
			c.addSettled(old)
		}
		c.dropped = a.carry.dropped
	}
	lastYear := through.Year()
	var left []Period // the periods of the lines that leave
	for _, l := range s.order {
		owed := l.feeAccrued(through, fees) - l.feePaid - l.feeWaived
		if l.outstanding() != 0 || owed != 0 || l.key.Period >= keepFrom || touched[l.key.Period] {
			carried = append(carried, l)
			continue
		}
		var sum Settled
		sum.add(l, fees, through)
		sum.Group, sum.Insurance = group(l.key.Period), l.key.Insurance
		if l.key.Period.Year() == lastYear {
			sum.Year = lastYear
		}
		c.addSettled(sum)
		left = append(left, l.key.Period)
	}
	if len(left) > 0 {
		// A new list, sorted once: the one before may be shared with a copy of the account.
		d := append(slices.Clip(c.dropped), left...)
		slices.Sort(d)
		c.dropped = slices.Clip(slices.Compact(d))
	}
	// The lines are packed (setLines) and their reductions kept in one array of their size.
	fixed := func(l *bookLine) bool { return l.fixed || l.outstanding() == 0 && !touched[l.key.Period] }
	n := 0
	for _, l := range carried {
		if !fixed(l) {
			n += len(l.reductions)
		}
	}
	if n > 0 {
		c.reductions = make([]reduction, 0, n)
	}
	lines := slices.Grow(s.carriedLines[:0], len(carried))[:len(carried)]
	for i, l := range carried {
		lines[i] = c.carried(l, fixed(l), fees)
	}
	c.setLines(lines)
	s.carried, s.carriedLines = carried, lines
	slices.SortFunc(c.settled, func(x, y Settled) int {
		return cmp.Or(cmp.Compare(x.Group, y.Group), cmp.Compare(x.Insurance.Rank(), y.Insurance.Rank()), cmp.Compare(x.Year, y.Year))
	})
	var receipts []string
	n = 0
	for i := range a.entries {
		if a.entries[i].date > through {
			n++
		}
	}
	// An array of their own size: the entries before the boundary were most of them.
	kept := make([]entry, 0, n)
	index := make([]int, len(a.entries)) // old index + 1 → new index + 1
	for i, e := range a.entries {
		if e.date <= through {
			if e.kind == entryPayment {
				receipts = append(receipts, e.receipt)
			}
			continue
		}
		kept = append(kept, e)
		index[i] = len(kept)
	}
	for i := range kept {
		if kept[i].undoes > 0 {
			kept[i].undoes = index[kept[i].undoes-1]
		}
	}
	a.entries, a.carry = kept, c
	return receipts, true
}

// addSettled adds sum to the bucket of its group, insurance and year.
func (c *carry) addSettled(sum Settled) {
	for i := range c.settled {
		if b := &c.settled[i]; b.Group == sum.Group && b.Insurance == sum.Insurance && b.Year == sum.Year {
			b.merge(sum)
			return
		}
	}
	c.settled = append(c.settled, sum)
}

// touches lists the periods whose lines an entry sets, audits or opens.
func (e *entry) touches() []Period {
	switch e.kind {
	case entrySetBase:
		return []Period{e.period}
	case entryAudit, entryOpening:
		out := make([]Period, 0, len(e.lines))
		for _, l := range e.lines {
			out = append(out, l.key.Period)
		}
		return out
	}
	return nil
}

// takesBackAfter reports whether a refund dated after through finds too little credit and takes
// back money paid on lines (book.refund): newest lines first, settled ones among them, which a
// carry through `through` no longer holds. Such an account is not compacted through `through`.
func (a *Account) takesBackAfter(through Date, fees []LateFeeRate) bool {
	last, refunds := a.refundsAfter(through)
	return refunds && a.bookThrough(last, fees).tookBack > through
}

// TakesBackCarried reports whether the account is compacted and a refund after its boundary
// finds too little credit (takesBackAfter): the money it takes back may be on lines the carry no
// longer holds, so the account must be folded again from its events (and is then not compacted
// through that boundary). Only accounts with refunds after their boundary cost more than a scan
// of their entries.
func (a *Account) TakesBackCarried(fees []LateFeeRate) bool {
	return a.carry != nil && a.takesBackAfter(a.carry.through, fees)
}

// stale reports whether an entry recorded after a compaction needs what the compaction folded
// away: it sets, audits or opens a period a settled line left from, or reverses a payment that
// is no longer an entry. The account's statements are then wrong until it is folded again from
// its events. (A refund left short of credit is found by TakesBackCarried, which needs the
// late-fee schedule.)
func (a *Account) stale(e *entry) bool {
	if a.carry == nil {
		return false
	}
	if e.kind == entryReversal {
		return e.undoes == 0
	}
	for _, p := range e.touches() {
		if _, found := slices.BinarySearch(a.carry.dropped, p); found || a.carry.fixes(p) {
			return true
		}
	}
	return false
}

// setLines packs lines, oldest first, as the carry's.
func (c *carry) setLines(lines []carriedLine) {
	c.lines, c.nlines, c.lastFixed = packLines(lines), len(lines), 0
	for i := range lines {
		if lines[i].Fixed {
			c.lastFixed = lines[i].Period
		}
	}
}

// fixes reports whether a line of period p is carried fixed.
func (c *carry) fixes(p Period) bool {
	if p > c.lastFixed {
		return false
	}
	r := packedLines{b: c.lines}
	for l, ok := r.next(); ok && l.Period <= p; l, ok = r.next() {
		if l.Period == p && l.Fixed {
			return true
		}
	}
	return false
}

// Settled lists the sums of the lines that left at compactions, sorted by group, insurance
// and year.
func (a *Account) Settled() []Settled {
	if a.carry == nil {
		return nil
	}
	return a.carry.settled
}

// newBook starts a simulation from the carry, if any, copying what applying entries changes.
func (a *Account) newBook(fees []LateFeeRate) *book { return a.fillBook(new(book), fees) }

// fillBook starts the simulation in s, a new book or one reset, keeping the memory it holds.
func (a *Account) fillBook(s *book, fees []LateFeeRate) *book {
	s.fees = fees
	if s.lines == nil {
		s.lines = map[LineKey]*bookLine{}
	}
	if a.carry == nil {
		return s
	}
	c := a.carry
	s.credit = c.credit
	s.block = slices.Grow(s.block[:0], c.nlines)[:c.nlines]
	s.order = slices.Grow(s.order[:0], c.nlines)[:c.nlines]
	r := c.reductions
	lines := packedLines{b: c.lines}
	for i := range s.block {
		l, _ := lines.next()
		n := l.Reductions
		s.block[i] = l.bookLine(r[:n:n])
		r = r[n:]
		s.lines[s.block[i].key] = &s.block[i]
		s.order[i] = &s.block[i]
	}
	return s
}

// statementBooks are books statements and compactions used, kept for the next: a live report or
// a freeze makes a statement of every payer, a year's closing compacts every payer, and making
// each book anew was half of what they allocated.
var statementBooks = sync.Pool{New: func() any { return new(book) }}

// reset empties s for fillBook, keeping its memory; nothing may still point into it.
func (s *book) reset() {
	clear(s.lines)
	clear(s.block)
	for _, slab := range s.slabs[:s.used] {
		clear(slab[:cap(slab)])
	}
	clear(s.active)
	clear(s.applying)
	clear(s.carried) // carriedLines point nowhere
	*s = book{lines: s.lines, order: s.order[:0], block: s.block[:0], slabs: s.slabs, active: s.active[:0], applying: s.applying[:0],
		carried: s.carried[:0], carriedLines: s.carriedLines[:0], reds: s.reds[:0]}
}

// Compact takes what is dated on or before through out of the employer's working state: the
// account's settled lines (Account.Compact, summed under the county each counts in:
// settledGroup) and the dated facts no date from keepFrom's first day on needs (reads of a
// period read them on its days). It returns false, changing nothing, when the account cannot be
// compacted. Reads of a compacted employer must be for dates after through and periods from
// keepFrom on.
func (e *Employer) Compact(through Date, keepFrom Period, fees []LateFeeRate) bool {
	waived := e.waiverFees(fees)
	receipts, ok := e.Account.Compact(through, keepFrom, fees, e.settledGroup)
	if !ok {
		return false
	}
	e.keepWaiverFees(waived, through, fees)
	for _, r := range receipts {
		if _, stands := e.Account.payment(r); !stands {
			delete(e.Receipts, r)
		}
	}
	for p := range e.Declared {
		if p < keepFrom {
			delete(e.Declared, p)
		}
	}
	cut := min(through, keepFrom.FirstDay().AddDays(-1))
	if e.History.Entered != nil {
		// The changes that tell since when the payer has been in a segment are folded away.
		since := map[Segment]Date{}
		on := e.ProfileOn(cut)
		for _, seg := range Segments {
			if on.In(seg) {
				since[seg] = e.InSegmentSince(seg, cut)
			}
		}
		e.History.SegmentsSince = since
	}
	e.History.compact(cut, through, keepFrom)
	return true
}

// waiverFees are the late fees the lines of the history's late-fee waivers not yet kept
// accrued by their dates as the account now folds them, by index in Waivers (accruedBy).
func (e *Employer) waiverFees(fees []LateFeeRate) map[int]Fen {
	return e.accruedBy(func(i int, _ WaiverGranted) bool { _, kept := e.History.WaiverFees[i]; return !kept }, fees)
}

// keepWaiverFees keeps, of fees (waiverFees before a compaction through through), those of the
// waivers whose date or line the compaction took: the compacted account no longer answers them.
func (e *Employer) keepWaiverFees(fees map[int]Fen, through Date, rates []LateFeeRate) {
	held := e.accruedBy(func(i int, w WaiverGranted) bool { _, in := fees[i]; return in && w.DecidedOn > through }, rates)
	var kept map[int]Fen
	for i, fee := range fees {
		if _, ok := held[i]; ok {
			continue
		}
		if kept == nil {
			kept = maps.Clone(e.History.WaiverFees) // copies of the employer share the map
			if kept == nil {
				kept = map[int]Fen{}
			}
		}
		kept[i] = fee
	}
	if kept != nil {
		e.History.WaiverFees = kept
	}
}

// FeesAccruedBy gives each late-fee waiver decided on or before asOf, by its index in Waivers,
// the late fee its line accrued by the waiver's date as the employer's events now fold (a void
// or a payment recorded since moves it), where the ledger holds it: the fee kept when a
// compaction took its date or its line, else the account's.
func (e *Employer) FeesAccruedBy(asOf Date, fees []LateFeeRate) map[int]Fen {
	out := e.accruedBy(func(i int, w WaiverGranted) bool {
		_, kept := e.History.WaiverFees[i]
		return !kept && w.DecidedOn <= asOf
	}, fees)
	for i, fee := range e.History.WaiverFees {
		if e.History.Waivers[i].DecidedOn <= asOf {
			if out == nil {
				out = map[int]Fen{}
			}
			out[i] = fee
		}
	}
	return out
}

// accruedBy are the late fees the lines of the history's late-fee waivers that pick chooses and
// the account answers (dated after its compaction boundary) accrued by the waivers' dates as the
// account now folds them, by index in Waivers; a waiver whose line the account does not hold on
// its date has none. One fold answers all of them.
func (e *Employer) accruedBy(pick func(i int, w WaiverGranted) bool, fees []LateFeeRate) map[int]Fen {
	var qs []Accrual
	var at []int
	for i, w := range e.History.Waivers {
		if w.Kind == WaiverLateFee && w.DecidedOn > e.Account.CompactedThrough() && pick(i, w) {
			qs = append(qs, Accrual{Line: LineKey{w.Period, w.Insurance}, On: w.DecidedOn})
			at = append(at, i)
		}
	}
	e.Account.AccruedEach(qs, fees)
	var out map[int]Fen
	for j, q := range qs {
		if q.Held {
			if out == nil {
				out = map[int]Fen{}
			}
			out[at[j]] = q.FeeFen
		}
	}
	return out
}

// compact drops the facts dated on or before cut that no later date reads: of each
// insurance's enrollments, the surveys and the enforcement steps, all but the latest; contracts
// (counted within a year); declarations and assessments of periods before keepFrom, except the
// declarations of periods with audit findings (a finding waits for one) and those dated after
// through (a finding may come for their period); the changes of the
// registration facts, folded into the profile entered with (Employer.Compact keeps since when the
// payer has been in each segment it is in: SegmentsSince). Counties, findings and waivers stay:
// later reads use all of them.
func (h *History) compact(cut, through Date, keepFrom Period) {
	h.Enrollments = keepLatest(h.Enrollments, cut, func(x EnrollmentAt) (Date, Insurance) { return x.On, x.Insurance })
	h.Surveys = keepLatest(h.Surveys, cut, func(x CountAt) (Date, int) { return x.On, 0 })
	h.Steps = keepLatest(h.Steps, cut, func(x StepAt) (Date, int) { return x.On, 0 })
	h.Contracts = slices.DeleteFunc(slices.Clone(h.Contracts), func(x CountAt) bool { return x.On <= cut })
	if h.Entered != nil {
		entered := profileThrough(*h.Entered, h.Changes, cut)
		h.Entered = &entered
		h.Changes = slices.Clip(slices.DeleteFunc(slices.Clone(h.Changes), func(x EmployerChanged) bool { return x.On <= cut }))
	}
	h.Inactive = slices.Clip(slices.DeleteFunc(slices.Clone(h.Inactive), func(x DateSpan) bool { return x.Until <= cut }))
	found := map[Period]bool{}
	for _, f := range h.Findings {
		found[f.Period] = true
	}
	h.Declarations = slices.Clip(slices.DeleteFunc(slices.Clone(h.Declarations), func(d Declared) bool {
		return d.Period < keepFrom && d.On <= through && !found[d.Period]
	}))
	for p, on := range h.Assessed {
		if p < keepFrom && on <= through {
			delete(h.Assessed, p)
		}
	}
	for p := range h.SetSince {
		if p < keepFrom {
			delete(h.SetSince, p)
		}
	}
}

// keepLatest keeps, of the facts dated on or before through, the latest of each key (the last
// recorded among equal dates), and every later fact, in their order.
func keepLatest[T any, K comparable](list []T, through Date, at func(T) (Date, K)) []T {
	latest := map[K]int{}
	for i, x := range list {
		on, k := at(x)
		if on > through {
			continue
		}
		if j, ok := latest[k]; ok {
			if best, _ := at(list[j]); on < best {
				continue
			}
		}
		latest[k] = i
	}
	out := make([]T, 0, len(list))
	for i, x := range list {
		on, k := at(x)
		if j, ok := latest[k]; on > through || (ok && j == i) {
			out = append(out, x)
		}
	}
	return slices.Clip(out)
}

// settledGroup is what the settled lines of period p are summed under: the county they count
// in, or, when a transfer on the entry day moved them (CountyOfPeriod), the county registered
// in and the corrected one, so that a freeze made by the rules before is still counted by them
// (SettledCounty).
func (e *Employer) settledGroup(p Period) string {
	registered, corrected := e.CountyOn(p.FirstDay()), e.CountyOfPeriod(p)
	if registered == corrected {
		return corrected
	}
	return registered + "|" + corrected
}

// SettledCounty is the county the settled lines summed under group count in: by the rules that
// count a line of a period begun before the entry in the county corrected on the entry day
// (entryCounty), or by those before them.
func SettledCounty(group string, entryCounty bool) string {
	registered, corrected, ok := strings.Cut(group, "|")
	switch {
	case !ok:
		return group
	case entryCounty:
		return corrected
	default:
		return registered
	}
}
