package domain

import (
	"bytes"
	"encoding/gob"
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
	Allocs  []Allocation
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
	Through Date
	Lines   []lineSnap
	Credit  Fen
	Settled []Settled
	Dropped []Period
}

type lineSnap struct {
	Period                            Period
	Insurance                         Insurance
	DueOn                             Date
	Base, Audit, Opening, Paid        Fen
	Waived, FeePaid, FeeWaived, Recov Fen
	Reductions                        []reductionSnap
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
	a.restore(in)
	return nil
}

// EncodeState writes the account as the next value of enc's stream; DecodeState reads it back.
func (a *Account) EncodeState(enc *gob.Encoder) error { return enc.Encode(a.snap()) }

// DecodeState reads an account EncodeState wrote as the next value of dec's stream.
func (a *Account) DecodeState(dec *gob.Decoder) error {
	var in accountSnap
	if err := dec.Decode(&in); err != nil {
		return err
	}
	a.restore(in)
	return nil
}

func (a Account) snap() accountSnap {
	out := accountSnap{Entries: make([]accountEntry, len(a.entries)), Stale: a.Stale}
	for i, e := range a.entries {
		ae := accountEntry{Kind: uint8(e.kind), Date: e.date, Seq: e.seq, Period: e.period, DueOn: e.dueOn, Amount: e.amount, Receipt: e.receipt, Allocs: e.allocs}
		for _, l := range e.lines {
			ae.Lines = append(ae.Lines, snapLine{l.key.Period, l.key.Insurance, l.amount})
		}
		out.Entries[i] = ae
	}
	if c := a.carry; c != nil {
		cs := &carrySnap{Through: c.through, Credit: c.credit, Settled: c.settled, Dropped: c.dropped}
		for _, l := range c.lines {
			ls := lineSnap{Period: l.key.Period, Insurance: l.key.Insurance, DueOn: l.dueOn, Base: l.base, Audit: l.audit, Opening: l.opening,
				Paid: l.paid, Waived: l.waived, FeePaid: l.feePaid, FeeWaived: l.feeWaived, Recov: l.recovered}
			for _, r := range l.reductions {
				ls.Reductions = append(ls.Reductions, reductionSnap{r.date, r.amount})
			}
			cs.Lines = append(cs.Lines, ls)
		}
		out.Carry = cs
	}
	return out
}

// restore sets the account from its snapshot. Receipts are normalised again and reversals paired
// with their payments again, as record does, so a snapshot written before receipts were
// normalised restores the state a fold of the same events reaches now.
func (a *Account) restore(in accountSnap) {
	a.entries = make([]entry, len(in.Entries))
	a.Stale = in.Stale
	for i, ae := range in.Entries {
		e := entry{kind: entryKind(ae.Kind), date: ae.Date, seq: ae.Seq, period: ae.Period, dueOn: ae.DueOn, amount: ae.Amount, receipt: NormalizeCode(ae.Receipt), allocs: ae.Allocs}
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
		c := &carry{through: cs.Through, credit: cs.Credit, settled: cs.Settled, dropped: cs.Dropped}
		for _, ls := range cs.Lines {
			l := simLine{key: LineKey{ls.Period, ls.Insurance}, dueOn: ls.DueOn, base: ls.Base, audit: ls.Audit, opening: ls.Opening,
				paid: ls.Paid, waived: ls.Waived, feePaid: ls.FeePaid, feeWaived: ls.FeeWaived, recovered: ls.Recov}
			for _, r := range ls.Reductions {
				l.reductions = append(l.reductions, reduction{r.Date, r.Amount})
			}
			c.lines = append(c.lines, l)
		}
		a.carry = c
	}
}
