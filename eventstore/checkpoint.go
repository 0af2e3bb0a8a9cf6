package eventstore

import (
	"errors"
	"fmt"

	"github.com/kuozheng/kuozheng/domain"
)

// A checkpoint is an employer's write-side state (domain.Employer folded without its history) at
// one sequence, kept in the archive's file. Folding an employer out of the write side's cache
// starts from its newest checkpoint and reads only the events after it, so the fold costs what
// the employer did since, not its whole history: over ten years of monthly declarations and
// payments that is the difference between a few hundred events and a few dozen.
//
// A fold writes a checkpoint once it has applied checkpointAfter events past the one it started
// from. Checkpoints are derived data: one that cannot be read, or that an earlier build wrote,
// is passed over and the employer folded from its first event.
const (
	checkpointAfter = 24
	// checkpointVersion names the rules the state was folded by and its encoding: raise it
	// whenever domain.Employer.Apply, the meaning of Employer's fields or AppendState changes,
	// so that states folded by the old rules are not used.
	checkpointVersion = 9 // 9: the risk classes by date; 8: the deregistrations a reinstatement ended; 7: the employer an organisation code's slot was claimed for; 6: the date of the latest transfer; 2: a lowered due gives back what it no longer covers (domain book.settle); 3: payer attributes, migrants, retirees, inspections; 4: notices with their deadlines; 5: the steps after notices, the latest step by date
)

var errCheckpointVersion = errors.New("written by another build")

// encodeCheckpoint encodes a folded employer for saveState.
func encodeCheckpoint(e *domain.Employer) ([]byte, error) {
	return e.AppendState([]byte{checkpointVersion})
}

// decodeCheckpoint decodes what encodeCheckpoint wrote.
func decodeCheckpoint(b []byte) (*domain.Employer, error) {
	if len(b) == 0 || b[0] != checkpointVersion {
		return nil, errCheckpointVersion
	}
	return domain.ReadState(b[1:])
}

// checkpoint returns an employer's newest checkpoint and the sequence it is folded through; nil
// when there is none that this build can use.
func (s *Store) checkpoint(id string) (*domain.Employer, uint64) {
	seq, data, err := s.archive.loadState(id)
	if err != nil || data == nil {
		if err != nil {
			s.passOver(id, err)
		}
		return nil, 0
	}
	e, err := decodeCheckpoint(data)
	if err != nil {
		if !errors.Is(err, errCheckpointVersion) {
			s.passOver(id, err)
		}
		return nil, 0
	}
	if e.ID != id || e.Version != seq {
		s.passOver(id, fmt.Errorf("it holds employer %s at sequence %d, not %s at %d", e.ID, e.Version, id, seq))
		return nil, 0
	}
	return e, seq
}

// passOver logs the first checkpoint that could not be used (the employer is then folded from
// its first event, which is correct, only slower); a damaged file would otherwise log it on
// every fold.
func (s *Store) passOver(id string, err error) {
	s.badCheckpoint.Do(func() {
		s.log.Warn("a checkpoint could not be used; such employers are folded from their first event (logged once)", "employer", id, "err", err)
	})
}

// saveCheckpoint keeps e, folded through its Version, as the employer's newest checkpoint.
func (s *Store) saveCheckpoint(e *domain.Employer) {
	data, err := encodeCheckpoint(e)
	if err != nil {
		s.log.Warn("a checkpoint could not be encoded", "employer", e.ID, "err", err)
		return
	}
	s.archive.saveState(e.ID, e.Version, data)
}
