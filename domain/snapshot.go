package domain

import (
	"bytes"
	"encoding/gob"
	"fmt"
)

// accountEntry mirrors entry with exported fields, for snapshots.
type accountEntry struct {
	Kind    uint8
	Date    Date
	Seq     uint64
	Period  Period
	DueOn   Date
	Lines   []snapLine
	Amount  Fen
	Receipt string
}

type snapLine struct {
	Period    Period
	Insurance Insurance
	Amount    Fen
}

// accountSnap is what GobEncode writes of an account.
type accountSnap struct {
	Entries []accountEntry
	Carry   *carrySnap
	Stale   bool
}

// carrySnap mirrors carry with exported fields.
type carrySnap struct {
	Through    Date
	Lines      []carriedLine
	Reductions []reductionSnap
	Credit     Fen
	Settled    []Settled
	Dropped    []Period
}

type reductionSnap struct {
	Date   Date
	Amount Fen
}

// GobEncode writes the account for a snapshot on its own; EncodeState writes it within a stream
// (a snapshot of many accounts), where the format's description is written once, not per account.
func (a Account) GobEncode() ([]byte, error) {
	if a.entries == nil && a.carry == nil && !a.Stale {
		return []byte{}, nil // an account left out of its employer's value (EncodeState)
	}
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(a.snap())
	return buf.Bytes(), err
}

// GobDecode restores what GobEncode wrote.
func (a *Account) GobDecode(b []byte) error {
	if len(b) == 0 {
		*a = Account{}
		return nil
	}
	var in accountSnap
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&in); err != nil {
		return err
	}
	return a.restore(in)
}

// EncodeState writes the account as the next value of enc's stream; DecodeState reads it back.
// The value is the account in a compact binary form (appendState), one byte string: decoded by
// reflection, an account's entries and lines were most of what a views snapshot cost to read,
// and garbage in small pieces among the state kept.
func (a *Account) EncodeState(enc *gob.Encoder) error { return enc.Encode(a.appendState(nil)) }

// DecodeState reads an account EncodeState wrote as the next value of dec's stream.
func (a *Account) DecodeState(dec *gob.Decoder) error {
	var b []byte
	if err := dec.Decode(&b); err != nil {
		return err
	}
	return a.readState(b)
}

// appendState appends the account to b: its entries as they are (stateWriter.entries), then
// its carry, if any, with its lines unpacked.
func (a *Account) appendState(b []byte) []byte {
	w := stateWriter{b}
	w.bool(a.Stale)
	w.entries(a.entries)
	c := a.carry
	w.bool(c != nil)
	if c == nil {
		return w.b
	}
	w.i(int64(c.through))
	w.i(int64(c.credit))
	lines := unpackLines(c.lines, c.nlines)
	w.u(uint64(len(lines)))
	for i := range lines {
		l := &lines[i]
		w.i(int64(l.Period))
		w.i(int64(l.DueOn))
		for _, x := range l.amounts() {
			w.i(int64(*x))
		}
		w.i(int64(l.Reductions))
		w.u(uint64(l.Rank))
		w.bool(l.Fixed)
		w.bool(l.Undeclared)
	}
	w.u(uint64(len(c.reductions)))
	for _, r := range c.reductions {
		w.i(int64(r.date))
		w.i(int64(r.amount))
	}
	w.u(uint64(len(c.settled)))
	for _, x := range c.settled {
		w.s(x.Group)
		w.insurance(x.Insurance)
		w.i(int64(x.Year))
		for _, f := range []Fen{x.DueFen, x.PaidFen, x.WaivedFen, x.LateFeePaidFen, x.LateFeeWaivedFen, x.RecoveredFen} {
			w.i(int64(f))
		}
	}
	w.u(uint64(len(c.dropped)))
	for _, p := range c.dropped {
		w.i(int64(p))
	}
	return w.b
}

// readState sets the account from what appendState wrote: entries as this build recorded them
// (receipts normalised, reversals paired), so taken as they are.
func (a *Account) readState(b []byte) error {
	r := stateReader{b: b}
	a.Stale = r.bool()
	a.entries, a.carry = r.entries(), nil
	if r.bool() {
		cs := &carrySnap{Through: Date(r.i()), Credit: Fen(r.i())}
		if n := r.count(); n > 0 {
			cs.Lines = make([]carriedLine, n)
		}
		for i := range cs.Lines {
			l := &cs.Lines[i]
			l.Period, l.DueOn = Period(r.i()), Date(r.i())
			for _, x := range l.amounts() {
				*x = Fen(r.i())
			}
			l.Reductions, l.Rank, l.Fixed = int32(r.i()), uint8(min(r.u(), 255)), r.bool()
			l.Undeclared = r.bool()
		}
		if n := r.count(); n > 0 {
			cs.Reductions = make([]reductionSnap, n)
		}
		for i := range cs.Reductions {
			cs.Reductions[i] = reductionSnap{Date(r.i()), Fen(r.i())}
		}
		if n := r.count(); n > 0 {
			cs.Settled = make([]Settled, n)
		}
		for i := range cs.Settled {
			x := &cs.Settled[i]
			x.Group, x.Insurance, x.Year = r.s(), r.insurance(), int(r.i())
			for _, f := range []*Fen{&x.DueFen, &x.PaidFen, &x.WaivedFen, &x.LateFeePaidFen, &x.LateFeeWaivedFen, &x.RecoveredFen} {
				*f = Fen(r.i())
			}
		}
		if n := r.count(); n > 0 {
			cs.Dropped = make([]Period, n)
		}
		for i := range cs.Dropped {
			cs.Dropped[i] = Period(r.i())
		}
		if r.err == nil {
			c, err := newCarry(cs)
			if err != nil {
				return err
			}
			a.carry = c
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail()
	}
	if r.err != nil {
		a.entries, a.carry = nil, nil
		return fmt.Errorf("account state: %w", r.err)
	}
	return nil
}

func (a Account) snap() accountSnap {
	out := accountSnap{Entries: make([]accountEntry, len(a.entries)), Stale: a.Stale}
	for i, e := range a.entries {
		ae := accountEntry{Kind: uint8(e.kind), Date: e.date, Seq: e.seq, Period: e.period, DueOn: e.dueOn, Amount: e.amount, Receipt: e.receipt}
		for _, l := range e.lines {
			ae.Lines = append(ae.Lines, snapLine{l.key.Period, l.key.Insurance, l.amount})
		}
		out.Entries[i] = ae
	}
	if c := a.carry; c != nil {
		cs := &carrySnap{Through: c.through, Credit: c.credit, Settled: c.settled, Dropped: c.dropped,
			Lines: unpackLines(c.lines, c.nlines), Reductions: make([]reductionSnap, len(c.reductions))}
		for i, r := range c.reductions {
			cs.Reductions[i] = reductionSnap{r.date, r.amount}
		}
		out.Carry = cs
	}
	return out
}

// restore sets the account from its snapshot. Receipts are normalised again and reversals paired
// with their payments again, as record does, so a snapshot written before receipts were
// normalised restores the state a fold of the same events reaches now.
func (a *Account) restore(in accountSnap) error {
	a.entries = make([]entry, len(in.Entries))
	a.Stale = in.Stale
	for i, ae := range in.Entries {
		e := entry{kind: entryKind(ae.Kind), date: ae.Date, seq: ae.Seq, period: ae.Period, dueOn: ae.DueOn, amount: ae.Amount, receipt: NormalizeCode(ae.Receipt)}
		if len(ae.Lines) > 0 {
			e.lines = make([]lineAmount, 0, len(ae.Lines))
		}
		for _, l := range ae.Lines {
			e.lines = append(e.lines, lineAmount{LineKey{l.Period, l.Insurance}, l.Amount})
		}
		if e.kind == entryReversal {
			e.undoes = standing(a.entries[:i], e.receipt)
		}
		a.entries[i] = e
	}
	a.carry = nil
	if in.Carry != nil {
		c, err := newCarry(in.Carry)
		if err != nil {
			return err
		}
		a.carry = c
	}
	return nil
}

// newCarry makes the carry cs mirrors, refusing one this build did not write.
func newCarry(cs *carrySnap) (*carry, error) {
	c := &carry{through: cs.Through, credit: cs.Credit, settled: cs.Settled, dropped: cs.Dropped}
	c.setLines(cs.Lines)
	if len(cs.Reductions) > 0 {
		c.reductions = make([]reduction, len(cs.Reductions))
	}
	n := 0
	for i, l := range cs.Lines {
		if i > 0 && l.Period < cs.Lines[i-1].Period {
			return nil, fmt.Errorf("carried line %s after %s: lines not oldest first", l.Period, cs.Lines[i-1].Period)
		}
		if int(l.Rank) >= len(Insurances) || l.Reductions < 0 {
			return nil, fmt.Errorf("carried line %s: insurance %d, %d reductions: not a line this build wrote", l.Period, l.Rank, l.Reductions)
		}
		n += int(l.Reductions)
	}
	if n != len(c.reductions) {
		return nil, fmt.Errorf("carried lines have %d reductions, the carry %d", n, len(c.reductions))
	}
	for i, r := range cs.Reductions {
		c.reductions[i] = reduction{r.Date, r.Amount}
	}
	return c, nil
}

// insuranceGob holds the encodings of the five insurances: their ranks.
var insuranceGob = [][]byte{{0}, {1}, {2}, {3}, {4}}

// GobEncode writes an insurance for a snapshot as its rank, or as its name when it is none of the
// five. A snapshot holds millions of insurances: decoded as names, each would be a string of its
// own for as long as the state lives.
func (i Insurance) GobEncode() ([]byte, error) {
	if r := i.Rank(); r >= 0 {
		return insuranceGob[r], nil
	}
	return append([]byte{0xff}, i...), nil
}

// GobDecode reads what GobEncode wrote.
func (i *Insurance) GobDecode(b []byte) error {
	switch {
	case len(b) == 1 && int(b[0]) < len(Insurances):
		*i = Insurances[b[0]]
	case len(b) > 0 && b[0] == 0xff:
		*i = Insurance(b[1:])
	default:
		return fmt.Errorf("insurance: unknown encoding %x", b)
	}
	return nil
}
