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

// GobEncode writes the account's entries, so that views can be snapshotted and restored.
func (a Account) GobEncode() ([]byte, error) {
	out := make([]accountEntry, len(a.entries))
	for i, e := range a.entries {
		ae := accountEntry{Kind: uint8(e.kind), Date: e.date, Seq: e.seq, Period: e.period, DueOn: e.dueOn, Amount: e.amount, Receipt: e.receipt, Allocs: e.allocs}
		for _, l := range e.lines {
			ae.Lines = append(ae.Lines, snapLine{l.key.Period, l.key.Insurance, l.amount})
		}
		out[i] = ae
	}
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(out)
	return buf.Bytes(), err
}

// GobDecode restores what GobEncode wrote. Receipts are normalised again and reversals paired
// with their payments again, as record does, so a snapshot written before receipts were
// normalised restores the state a fold of the same events reaches now.
func (a *Account) GobDecode(b []byte) error {
	var in []accountEntry
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&in); err != nil {
		return err
	}
	a.entries = make([]entry, len(in))
	for i, ae := range in {
		e := entry{kind: entryKind(ae.Kind), date: ae.Date, seq: ae.Seq, period: ae.Period, dueOn: ae.DueOn, amount: ae.Amount, receipt: NormalizeCode(ae.Receipt), allocs: ae.Allocs}
		for _, l := range ae.Lines {
			e.lines = append(e.lines, lineAmount{LineKey{l.Period, l.Insurance}, l.Amount})
		}
		if e.kind == entryReversal {
			e.undoes = standing(a.entries[:i], e.receipt)
		}
		a.entries[i] = e
	}
	return nil
}
