package domain

import "encoding/binary"

// Carried lines are kept packed: a long-lived ledger carries millions of them (most fixed:
// principal paid, late fee owed), and a line's amounts are mostly zero or small. Packed, a
// fixed line takes about 18 bytes instead of the 88 of a carriedLine.
//
// A line is: a header uvarint (the insurance's rank in bits 0-2, fixed in bit 3, from bit 4 one
// bit for each of the fourteen amounts that is not zero, then undeclared), the period as a uvarint step from the line
// before (lines are sorted oldest first), the due date as a zigzag varint from the period's first
// day, each amount present as a zigzag varint, and, unless fixed, the count of its reductions.

const packedAmounts = 14

// undeclaredBit marks an undeclared line in a packed line's header, after the amounts' bits.
const undeclaredBit = 1 << (4 + packedAmounts)

// amounts lists a line's amounts in their packed order; those added later come last, so that
// lines packed before them read the same (their bits are 0).
func (cl *carriedLine) amounts() [packedAmounts]*Fen {
	return [packedAmounts]*Fen{&cl.Base, &cl.Audit, &cl.Opening, &cl.Paid, &cl.Waived, &cl.FeePaid, &cl.FeeWaived, &cl.Recovered, &cl.Fee,
		&cl.WaiverLapsed, &cl.FeeWaiverLapsed, &cl.FeeRefunded, &cl.RecoveredInYear, &cl.RecoveredYear}
}

// packLines packs lines, sorted oldest period first.
func packLines(lines []carriedLine) []byte {
	var b []byte
	var prev Period
	for i := range lines {
		cl := &lines[i]
		header := uint64(cl.Rank)
		if cl.Fixed {
			header |= 1 << 3
		}
		if cl.Undeclared {
			header |= undeclaredBit
		}
		amounts := cl.amounts()
		for j, x := range amounts {
			if *x != 0 {
				header |= 1 << (4 + j)
			}
		}
		b = binary.AppendUvarint(b, header)
		b = binary.AppendUvarint(b, uint64(cl.Period-prev))
		b = binary.AppendVarint(b, int64(cl.DueOn-cl.Period.FirstDay()))
		for _, x := range amounts {
			if *x != 0 {
				b = binary.AppendVarint(b, int64(*x))
			}
		}
		if !cl.Fixed {
			b = binary.AppendUvarint(b, uint64(cl.Reductions))
		}
		prev = cl.Period
	}
	return append([]byte(nil), b...)
}

// packedLines reads lines packLines packed, one at a time.
type packedLines struct {
	b    []byte
	prev Period
}

// next returns the next line, false after the last.
func (r *packedLines) next() (carriedLine, bool) {
	var cl carriedLine
	if len(r.b) == 0 {
		return cl, false
	}
	header := r.uvarint()
	cl.Rank, cl.Fixed, cl.Undeclared = uint8(header&7), header&(1<<3) != 0, header&undeclaredBit != 0
	cl.Period = r.prev + Period(r.uvarint())
	cl.DueOn = cl.Period.FirstDay() + Date(r.varint())
	for j, x := range cl.amounts() {
		if header&(1<<(4+j)) != 0 {
			*x = Fen(r.varint())
		}
	}
	if !cl.Fixed {
		cl.Reductions = int32(r.uvarint())
	}
	r.prev = cl.Period
	return cl, true
}

// The bytes are packLines' own, never read from outside: a malformed varint cannot occur.
func (r *packedLines) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	r.b = r.b[n:]
	return v
}

func (r *packedLines) varint() int64 {
	v, n := binary.Varint(r.b)
	r.b = r.b[n:]
	return v
}

// unpackLines returns the lines packLines packed.
func unpackLines(b []byte, n int) []carriedLine {
	out := make([]carriedLine, 0, n)
	r := packedLines{b: b}
	for cl, ok := r.next(); ok; cl, ok = r.next() {
		out = append(out, cl)
	}
	return out
}
