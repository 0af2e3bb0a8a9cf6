package projections

import (
	"bytes"
	"compress/gzip"
	"encoding/gob"
	"fmt"
	"io"

	"github.com/kuozheng/kuozheng/domain"
)

// CodeVersion names the folds' logic and the snapshot's layout; a snapshot written by another
// version is not used, and freeze manifests record it.
const CodeVersion = "views-5" // 5: accounts follow their employers in the snapshot stream; 4: closed years are compacted; 3: the arrears flag counts arrears no step addressed since they fell due; receipts are normalised

// snapshotHeader is what a snapshot holds before its employers.
type snapshotHeader struct {
	Seq       uint64
	Ref       domain.Reference
	Employers int
	Boundary  domain.Date
	KeepFrom  domain.Period
}

// Snapshot writes the ledger's state, compressed; RestoreLedger reads it back. Employers are
// written one gob value each, in the order they entered the ledger, so that neither side ever
// holds the whole encoding in memory.
func (l *Ledger) Snapshot(w io.Writer) error {
	zw := gzip.NewWriter(w)
	enc := gob.NewEncoder(zw)
	if err := enc.Encode(snapshotHeader{Seq: l.Seq, Ref: l.Ref, Employers: len(l.Order), Boundary: l.Boundary, KeepFrom: l.KeepFrom}); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	for _, id := range l.Order {
		if err := enc.Encode(id); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		// The account follows its employer as a value of the same stream: written within the
		// employer's value, it would describe its format again for every employer.
		e := l.Employers[id]
		shallow := *e
		shallow.Account = domain.Account{}
		if err := enc.Encode(&shallow); err != nil {
			return fmt.Errorf("snapshot of employer %s: %w", id, err)
		}
		if err := e.Account.EncodeState(enc); err != nil {
			return fmt.Errorf("snapshot of employer %s: %w", id, err)
		}
	}
	return zw.Close()
}

// RestoreLedger reads a ledger written by Snapshot.
func RestoreLedger(r io.Reader) (*Ledger, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("restore snapshot: %w", err)
	}
	dec := gob.NewDecoder(zr)
	var h snapshotHeader
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("restore snapshot: %w", err)
	}
	l := &Ledger{Seq: h.Seq, Ref: h.Ref, Employers: make(map[string]*domain.Employer, h.Employers), Order: make([]string, 0, h.Employers),
		Boundary: h.Boundary, KeepFrom: h.KeepFrom}
	for range h.Employers {
		var id string
		if err := dec.Decode(&id); err != nil {
			return nil, fmt.Errorf("restore snapshot: employer %d: %w", len(l.Order)+1, err)
		}
		e := &domain.Employer{}
		if err := dec.Decode(e); err != nil {
			return nil, fmt.Errorf("restore snapshot: employer %s: %w", id, err)
		}
		if err := e.Account.DecodeState(dec); err != nil {
			return nil, fmt.Errorf("restore snapshot: employer %s: %w", id, err)
		}
		l.Employers[id] = e
		l.Order = append(l.Order, id)
	}
	return l, nil
}

// SnapshotBytes is Snapshot into memory.
func (l *Ledger) SnapshotBytes() ([]byte, error) {
	var buf bytes.Buffer
	err := l.Snapshot(&buf)
	return buf.Bytes(), err
}
