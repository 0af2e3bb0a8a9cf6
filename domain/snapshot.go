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
func (a *Account) EncodeState(enc *gob.Encoder) error { return enc.Encode(a.snap()) }

// DecodeState reads an account EncodeState wrote as the next value of dec's stream.
func (a *Account) DecodeState(dec *gob.Decoder) error {
	var in accountSnap
	if err := dec.Decode(&in); err != nil {
		return err
	}
	return a.restore(in)
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
	if cs := in.Carry; cs != nil {
		c := &carry{through: cs.Through, credit: cs.Credit, settled: cs.Settled, dropped: cs.Dropped,
			lines: packLines(cs.Lines), nlines: len(cs.Lines), reductions: make([]reduction, len(cs.Reductions))}
		n := 0
		for i, l := range cs.Lines {
			if i > 0 && l.Period < cs.Lines[i-1].Period {
				return fmt.Errorf("carried line %s after %s: lines not oldest first", l.Period, cs.Lines[i-1].Period)
			}
			if int(l.Rank) >= len(Insurances) || l.Reductions < 0 {
				return fmt.Errorf("carried line %s: insurance %d, %d reductions: not a line this build wrote", l.Period, l.Rank, l.Reductions)
			}
			n += int(l.Reductions)
		}
		if n != len(c.reductions) {
			return fmt.Errorf("carried lines have %d reductions, the carry %d", n, len(c.reductions))
		}
		for i, r := range cs.Reductions {
			c.reductions[i] = reduction{r.Date, r.Amount}
		}
		a.carry = c
	}
	return nil
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
