package projections

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/s2"
	"github.com/kuozheng/kuozheng/domain"
)

// CodeVersion names the folds' logic and the snapshot's layout; a snapshot written by another
// version is not used, and freeze manifests record it.
const CodeVersion = "views-24" // 24: targets are those of the year in force on the report's date (TargetsOf: domain Reference.TargetsFor); a freeze of an earlier version is ranked on the version of its year recorded last, whatever its date; 23: county targets shared from the city's add up to it (sharedTargets: largest remainders; a freeze of an earlier version is ranked by its own rounding, each share alone); 22: employers keep every declaration of a period, dated (domain History.DeclarationOn): the base-floor flag and the worklist's re-declarations read the one in force on as_of, which one dated after it no longer hides; 21: employers keep since when each period was declared or assessed (domain History.SetSince), which the worklist reads as of a date; 20: the fee a waiver is reviewed against, where a compaction took it, is kept apart from the decision's (domain History.WaiverFees): views-19's snapshots, of builds of the same session, wrote it into the waiver; 19: a late-fee waiver is judged for review against the fee its line accrued by its date as the events now fold (employerFlags; a compaction keeps it: domain Employer.Compact); principal waived on a day lets the fee waived or paid beyond what the line then accrues lapse, as principal paid does (domain book.feeWithin); 18: a late-fee waiver is judged for review by what its line's waivers took in all (employerFlags); 17: a year's closing keeps what later dates read: its periods from October whole (the 110% basis of the first one due after it, whatever due day is set later), the dated facts from that period on, declarations dated after it, and since when a payer has been in each segment (domain History.SegmentsSince); 16: a transfer dated on the payer's entry day moves the lines of periods begun before it too (domain Employer.CountyOfPeriod; compacted lines are summed so); 15: a line a later declaration of its period dropped is no line for 缴费率 (domain LineState.Dropped; carried lines keep it); the mining segment (非煤矿山); 14: contracts count in the county and year they were signed, whatever the payer became since (employerFigures); the park and risk-class flags read the registration facts as of as_of (employerFlags); a freeze is counted by the rules of its version (Query.rules); 13: a principal payment fits its line's late fee (domain book.pay: a fee waived earlier on the day stays within what accrues); 12: accounts' entries in the write side's layout (domain stateWriter.entries); the views keep no receipts or declared periods (domain Employer.SkipDecisions); 11: an account is written in a compact binary form (domain Account.appendState), not by reflection; parts are compressed with S2, not gzip; 10: employers keep the changes of their registration facts, dated (domain History.Entered, Changes); 9: a lowered due gives back what it no longer covers (domain book.settle); 8: carried lines are written as they are held; 7: declarations kept as date and bases, by period; payments keep their allocations as lines; 6: lines carried with nothing outstanding keep their late fee, not their reductions; the snapshot is in parts, decoded in parallel; insurances are written as ranks; 5: accounts follow their employers in the snapshot stream; 4: closed years are compacted; 3: the arrears flag counts arrears no step addressed since they fell due; receipts are normalised

// snapshotHeader is what a snapshot holds before its employers.
type snapshotHeader struct {
	Seq       uint64
	Ref       domain.Reference
	Employers int
	Boundary  domain.Date
	KeepFrom  domain.Period
}

// snapshotChunk is how many employers one part of a snapshot holds: parts are compressed and
// decoded apart, on every core, and one part's encoding is what either side holds at once
// besides the ledger.
const snapshotChunk = 2048

// Snapshot writes the ledger's state, compressed; RestoreLedger reads it back. The snapshot is a
// header, then the employers in the order they entered the ledger, in parts of snapshotChunk,
// each part a length and an S2-compressed gob stream of its own.
func (l *Ledger) Snapshot(w io.Writer) error {
	head, err := encodePart(func(enc *gob.Encoder) error {
		return enc.Encode(snapshotHeader{Seq: l.Seq, Ref: l.Ref, Employers: len(l.Order), Boundary: l.Boundary, KeepFrom: l.KeepFrom})
	})
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if err := writePart(w, head); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	parts := (len(l.Order) + snapshotChunk - 1) / snapshotChunk
	return inOrder(parts, func(i int) ([]byte, error) {
		return encodePart(func(enc *gob.Encoder) error {
			for _, id := range l.Order[i*snapshotChunk : min((i+1)*snapshotChunk, len(l.Order))] {
				if err := encodeEmployer(enc, id, l.Employers.Get(id)); err != nil {
					return fmt.Errorf("snapshot of employer %s: %w", id, err)
				}
			}
			return nil
		})
	}, func(_ int, b []byte) error { return writePart(w, b) })
}

func encodeEmployer(enc *gob.Encoder, id string, e *domain.Employer) error {
	if err := enc.Encode(id); err != nil {
		return err
	}
	// The account follows its employer as a value of the same stream: written within the
	// employer's value, it would describe its format again for every employer.
	shallow := *e
	shallow.Account = domain.Account{}
	if err := enc.Encode(&shallow); err != nil {
		return err
	}
	return e.Account.EncodeState(enc)
}

// RestoreLedger reads a ledger written by Snapshot.
func RestoreLedger(r io.Reader) (*Ledger, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("restore snapshot: %w", err)
	}
	return RestoreLedgerBytes(data)
}

// RestoreLedgerBytes is RestoreLedger from the snapshot's bytes, whose parts it decodes in place.
func RestoreLedgerBytes(data []byte) (*Ledger, error) {
	head, data, err := cutPart(data)
	if err != nil {
		return nil, fmt.Errorf("restore snapshot: %w", err)
	}
	var h snapshotHeader
	if err := decodePart(head, func(dec *gob.Decoder) error { return dec.Decode(&h) }); err != nil {
		return nil, fmt.Errorf("restore snapshot: %w", err)
	}
	l := &Ledger{Seq: h.Seq, Ref: h.Ref, Employers: NewEmployerMap(), Order: make([]string, 0, h.Employers),
		Boundary: h.Boundary, KeepFrom: h.KeepFrom}
	parts := (h.Employers + snapshotChunk - 1) / snapshotChunk
	encoded := make([][]byte, parts)
	for i := range encoded {
		if encoded[i], data, err = cutPart(data); err != nil {
			return nil, fmt.Errorf("restore snapshot: part %d of %d: %w", i+1, parts, err)
		}
	}
	type employer struct {
		id string
		e  *domain.Employer
	}
	err = inOrder(parts, func(i int) ([]employer, error) {
		n := min(snapshotChunk, h.Employers-i*snapshotChunk)
		out := make([]employer, n)
		err := decodePart(encoded[i], func(dec *gob.Decoder) error {
			for j := range out {
				out[j].e = &domain.Employer{}
				if err := dec.Decode(&out[j].id); err != nil {
					return fmt.Errorf("employer %d: %w", i*snapshotChunk+j+1, err)
				}
				if err := dec.Decode(out[j].e); err != nil {
					return fmt.Errorf("employer %s: %w", out[j].id, err)
				}
				if err := out[j].e.Account.DecodeState(dec); err != nil {
					return fmt.Errorf("employer %s: %w", out[j].id, err)
				}
			}
			return nil
		})
		encoded[i] = nil
		return out, err
	}, func(_ int, part []employer) error {
		for _, x := range part {
			l.Employers.Set(x.id, x.e)
			l.Order = append(l.Order, x.id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("restore snapshot: %w", err)
	}
	return l, nil
}

// A part is compressed with S2 (a stream, with its checksums): a tenth of gzip's time to read
// back, which a restart waits for.
func encodePart(write func(*gob.Encoder) error) ([]byte, error) {
	var buf bytes.Buffer
	zw := s2.NewWriter(&buf, s2.WriterConcurrency(1))
	if err := write(gob.NewEncoder(zw)); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodePart(b []byte, read func(*gob.Decoder) error) error {
	zr := s2.NewReader(bytes.NewReader(b))
	if err := read(gob.NewDecoder(zr)); err != nil {
		return err
	}
	// Read to the end, so that the part's checksums are verified.
	_, err := io.Copy(io.Discard, zr)
	return err
}

func writePart(w io.Writer, b []byte) error {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// cutPart returns the part data starts with and what follows it.
func cutPart(data []byte) (part, rest []byte, err error) {
	if len(data) < 4 {
		return nil, nil, io.ErrUnexpectedEOF
	}
	size := binary.BigEndian.Uint32(data)
	if uint64(size) > uint64(len(data)-4) {
		return nil, nil, fmt.Errorf("a part of %d bytes where %d remain: damaged or cut short", size, len(data)-4)
	}
	return data[4 : 4+size], data[4+size:], nil
}

// inOrder runs work(0) … work(n-1) on every core and hands each result to done in index order,
// at most a few results ahead of done; it stops at the first error.
func inOrder[T any](n int, work func(int) (T, error), done func(int, T) error) error {
	workers := max(1, runtime.GOMAXPROCS(0))
	type result struct {
		v   T
		err error
	}
	slots := make([]chan result, n)
	for i := range slots {
		slots[i] = make(chan result, 1)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := make(chan struct{})
	defer close(stop) // before the wait: it releases workers waiting for room
	// A worker takes the next index once there is room: at most 2·workers results wait for done.
	ahead := make(chan struct{}, 2*workers)
	for range workers {
		wg.Go(func() {
			for {
				select {
				case ahead <- struct{}{}:
				case <-stop:
					return
				}
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				v, err := work(i)
				slots[i] <- result{v, err}
			}
		})
	}
	for i := range n {
		r := <-slots[i]
		<-ahead
		if r.err != nil {
			return r.err
		}
		if err := done(i, r.v); err != nil {
			return err
		}
	}
	return nil
}

// SnapshotBytes is Snapshot into memory.
func (l *Ledger) SnapshotBytes() ([]byte, error) {
	var buf bytes.Buffer
	err := l.Snapshot(&buf)
	return buf.Bytes(), err
}
