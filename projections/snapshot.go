package projections

import (
	"bytes"
	"compress/gzip"
	"encoding/gob"
	"fmt"
	"io"

	"github.com/kuozheng/kuozheng/domain"
)

// CodeVersion names the folds' logic; a snapshot written by another version is not used, and
// freeze manifests record it.
const CodeVersion = "views-1"

// Snapshot writes the ledger's state, compressed; Restore reads it back.
func (l *Ledger) Snapshot(w io.Writer) error {
	zw := gzip.NewWriter(w)
	if err := gob.NewEncoder(zw).Encode(l); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return zw.Close()
}

// RestoreLedger reads a ledger written by Snapshot.
func RestoreLedger(r io.Reader) (*Ledger, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("restore snapshot: %w", err)
	}
	l := NewLedger()
	if err := gob.NewDecoder(zr).Decode(l); err != nil {
		return nil, fmt.Errorf("restore snapshot: %w", err)
	}
	if l.Employers == nil {
		l.Employers = map[string]*domain.Employer{}
	}
	return l, nil
}

// SnapshotBytes is Snapshot into memory.
func (l *Ledger) SnapshotBytes() ([]byte, error) {
	var buf bytes.Buffer
	err := l.Snapshot(&buf)
	return buf.Bytes(), err
}
