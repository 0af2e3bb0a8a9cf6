package domain

import (
	"encoding/binary"
	"errors"
	"slices"
	"sync"
)

// AppendState appends e's write-side state (e folded without its dated history, its account
// not compacted) to b, in a compact binary form that ReadState restores: what a checkpoint of
// the write side keeps, so that a fold can start from it instead of the employer's first event.
// It refuses a state it does not carry whole.
func (e *Employer) AppendState(b []byte) ([]byte, error) {
	if !e.SkipHistory {
		return b, errors.New("employer state: only a state folded without its history is carried")
	}
	if e.Account.carry != nil {
		return b, errors.New("employer state: a compacted account is not carried")
	}
	if e.SkipDecisions {
		return b, errors.New("employer state: a state folded without its receipts and declared periods is not carried")
	}
	w := stateWriter{b}
	w.s(e.ID)
	w.s(e.Name)
	w.s(e.County)
	w.s(e.OrgCode)
	w.s(e.CreditCode)
	w.s(string(e.Kind))
	w.s(e.Ownership)
	w.i(int64(e.RiskClass))
	w.bool(e.InIndustrialPark)
	w.i(int64(e.EnteredOn))
	w.bool(e.Registered)
	w.i(int64(e.RegisteredOn))
	w.s(e.CertificateNo)
	w.bool(e.Deregistered)
	w.i(int64(e.DeregisteredOn))
	w.i(e.Workforce)
	w.u(uint64(len(e.Enrolled)))
	for ins, n := range e.Enrolled {
		w.s(string(ins))
		w.i(n)
	}
	w.u(uint64(len(e.Receipts)))
	for r, reversed := range e.Receipts {
		w.s(r)
		w.bool(reversed)
	}
	w.u(uint64(len(e.Declared)))
	for p, ok := range e.Declared {
		w.i(int64(p))
		w.bool(ok)
	}
	w.u(uint64(len(e.Notices)))
	for _, n := range e.Notices {
		w.i(int64(n.From))
		w.i(int64(n.Until))
	}
	w.u(uint64(len(e.Escalations)))
	for _, x := range e.Escalations {
		w.s(x.Step)
		w.i(int64(x.On))
	}
	w.s(e.LastStep)
	w.i(e.Contracts)
	w.bool(e.Account.Stale)
	w.entries(e.Account.entries)
	w.u(e.Version)
	w.u(e.N)
	w.s(e.Head)
	w.s(e.Industry)
	w.s(e.Sector)
	w.s(e.OwnershipCode)
	w.s(e.Park)
	w.bool(e.Agency)
	w.i(e.Migrants)
	w.u(uint64(len(e.MigrantsEnrolled)))
	for ins, n := range e.MigrantsEnrolled {
		w.s(string(ins))
		w.i(n)
	}
	w.i(e.Retirees)
	w.u(uint64(len(e.Inspected)))
	for _, d := range e.Inspected {
		w.i(int64(d))
	}
	w.i(int64(e.MovedOn))
	w.s(e.HeldBy)
	w.u(uint64(len(e.History.Inactive)))
	for _, s := range e.History.Inactive {
		w.i(int64(s.From))
		w.i(int64(s.Until))
	}
	w.u(uint64(len(e.RiskClasses)))
	for _, c := range e.RiskClasses {
		w.i(int64(c.Class))
		w.i(int64(c.On))
	}
	return w.b, nil
}

// ReadState restores an employer's write-side state from what AppendState wrote.
func ReadState(b []byte) (*Employer, error) {
	r := stateReader{b: b}
	e := &Employer{SkipHistory: true}
	e.ID = r.s()
	e.Name, e.County, e.OrgCode, e.CreditCode = r.s(), r.s(), r.s(), r.s()
	e.Kind, e.Ownership, e.RiskClass, e.InIndustrialPark = EmployerKind(r.s()), r.s(), int(r.i()), r.bool()
	e.EnteredOn = Date(r.i())
	e.Registered, e.RegisteredOn, e.CertificateNo = r.bool(), Date(r.i()), r.s()
	e.Deregistered, e.DeregisteredOn = r.bool(), Date(r.i())
	e.Workforce = r.i()
	n := r.count()
	e.Enrolled = make(map[Insurance]int64, n)
	for range n {
		e.Enrolled[Insurance(r.s())] = r.i()
	}
	n = r.count()
	e.Receipts = make(map[string]bool, n)
	for range n {
		e.Receipts[r.s()] = r.bool()
	}
	n = r.count()
	e.Declared = make(map[Period]bool, n)
	for range n {
		e.Declared[Period(r.i())] = r.bool()
	}
	if n = r.count(); n > 0 {
		e.Notices = make([]DateSpan, n)
	}
	for i := range n {
		e.Notices[i] = DateSpan{From: Date(r.i()), Until: Date(r.i())}
	}
	if n = r.count(); n > 0 {
		e.Escalations = make([]DatedStep, n)
	}
	for i := range n {
		e.Escalations[i] = DatedStep{Step: r.s(), On: Date(r.i())}
	}
	e.LastStep, e.Contracts = r.s(), r.i()
	e.Account.Stale = r.bool()
	e.Account.entries = r.entries()
	e.Version, e.N, e.Head = r.u(), r.u(), r.s()
	e.Industry, e.Sector, e.OwnershipCode, e.Park, e.Agency = r.s(), r.s(), r.s(), r.s(), r.bool()
	e.Migrants = r.i()
	if n = r.count(); n > 0 {
		e.MigrantsEnrolled = make(map[Insurance]int64, n)
	}
	for range n {
		e.MigrantsEnrolled[Insurance(r.s())] = r.i()
	}
	e.Retirees = r.i()
	if n = r.count(); n > 0 {
		e.Inspected = make([]Date, n)
	}
	for i := range e.Inspected {
		e.Inspected[i] = Date(r.i())
	}
	e.MovedOn = Date(r.i())
	e.HeldBy = r.s()
	if n = r.count(); n > 0 {
		e.History.Inactive = make([]DateSpan, n)
	}
	for i := range e.History.Inactive {
		e.History.Inactive[i] = DateSpan{From: Date(r.i()), Until: Date(r.i())}
	}
	if n = r.count(); n > 0 {
		e.RiskClasses = make([]DatedClass, n)
	}
	for i := range e.RiskClasses {
		e.RiskClasses[i] = DatedClass{Class: int(r.i()), On: Date(r.i())}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail()
	}
	if r.err != nil {
		return nil, r.err
	}
	return e, nil
}

type stateWriter struct{ b []byte }

// entries writes an account's entries as they are: the write side's checkpoints and the views'
// snapshots alike.
func (w *stateWriter) entries(entries []entry) {
	w.u(uint64(len(entries)))
	for i := range entries {
		en := &entries[i]
		w.u(uint64(en.kind))
		w.i(int64(en.date))
		w.i(int64(en.period))
		w.i(int64(en.dueOn))
		w.u(en.seq)
		w.u(uint64(len(en.lines)))
		for _, l := range en.lines {
			w.i(int64(l.key.Period))
			w.s(string(l.key.Insurance))
			w.i(int64(l.amount))
		}
		w.i(int64(en.amount))
		w.s(en.receipt)
		w.i(int64(en.undoes))
	}
}

// entries reads what stateWriter.entries wrote (nil for none). The entries' lines share one
// array, made once they are all read: a restored ledger holds millions of them, and the
// collector's work follows the number of objects.
func (r *stateReader) entries() []entry {
	n := r.count()
	if n == 0 {
		return nil
	}
	entries := make([]entry, n)
	sc := stateScratches.Get().(*stateScratch)
	defer stateScratches.Put(sc)
	lines, ends := sc.lines[:0], sc.ends[:0]
	for i := range entries {
		en := &entries[i]
		en.kind, en.date, en.period, en.dueOn, en.seq = entryKind(r.u()), Date(r.i()), Period(r.i()), Date(r.i()), r.u()
		for range r.count() {
			lines = append(lines, lineAmount{LineKey{Period(r.i()), r.insuranceName()}, Fen(r.i())})
		}
		ends = append(ends, len(lines))
		en.amount, en.receipt, en.undoes = Fen(r.i()), r.s(), int(r.i())
		if en.undoes < 0 || en.undoes > i {
			r.fail()
		}
	}
	if len(lines) > 0 {
		all := slices.Clone(lines)
		start := 0
		for i, end := range ends {
			if end > start {
				entries[i].lines = all[start:end:end]
			}
			start = end
		}
	}
	clear(lines)
	sc.lines, sc.ends = lines, ends
	return entries
}

// stateScratch holds what stateReader.entries reads lines into before they are laid out.
type stateScratch struct {
	lines []lineAmount
	ends  []int
}

var stateScratches = sync.Pool{New: func() any { return new(stateScratch) }}

func (w *stateWriter) u(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *stateWriter) i(v int64)  { w.b = binary.AppendVarint(w.b, v) }
func (w *stateWriter) s(v string) { w.u(uint64(len(v))); w.b = append(w.b, v...) }

// insuranceName reads an insurance written by name: one of the five as Insurances holds it,
// not a string of its own.
func (r *stateReader) insuranceName() Insurance {
	n := r.count()
	b := r.b[:n]
	r.b = r.b[n:]
	for _, ins := range Insurances {
		if string(b) == string(ins) {
			return ins
		}
	}
	return Insurance(b)
}

// insurance writes one of the five insurances as its rank, any other as 5 and its name.
func (w *stateWriter) insurance(v Insurance) {
	if r := v.Rank(); r >= 0 {
		w.u(uint64(r))
		return
	}
	w.u(uint64(len(Insurances)))
	w.s(string(v))
}

func (w *stateWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

// stateReader reads what stateWriter wrote; its first error sticks and its reads then give zero.
type stateReader struct {
	b   []byte
	err error
}

var errStateFormat = errors.New("employer state: malformed")

func (r *stateReader) fail() {
	if r.err == nil {
		r.err = errStateFormat
	}
	r.b = nil
}

func (r *stateReader) u() uint64 { return readVarint(r, binary.Uvarint) }

func (r *stateReader) i() int64 { return readVarint(r, binary.Varint) }

// readVarint reads one varint with read (binary.Uvarint or binary.Varint).
func readVarint[T uint64 | int64](r *stateReader, read func([]byte) (T, int)) T {
	v, n := read(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length, refusing one longer than the bytes left could hold.
func (r *stateReader) count() int {
	n := r.u()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *stateReader) s() string {
	n := r.count()
	v := string(r.b[:n])
	r.b = r.b[n:]
	return v
}

// insurance reads what stateWriter.insurance wrote: one of the five as Insurances holds it.
func (r *stateReader) insurance() Insurance {
	switch k := r.u(); {
	case k < uint64(len(Insurances)):
		return Insurances[k]
	case k == uint64(len(Insurances)):
		return Insurance(r.s())
	default:
		r.fail()
		return ""
	}
}

func (r *stateReader) bool() bool {
	if len(r.b) == 0 || r.b[0] > 1 {
		r.fail()
		return false
	}
	v := r.b[0] == 1
	r.b = r.b[1:]
	return v
}
