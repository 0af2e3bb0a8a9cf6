package eventstore

import (
	"errors"

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
	checkpointVersion = 1
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
			s.log.Warn("a checkpoint could not be read; the employer is folded from its first event", "employer", id, "err", err)
		}
		return nil, 0
	}
	e, err := decodeCheckpoint(data)
	if err != nil {
		if !errors.Is(err, errCheckpointVersion) {
			s.log.Warn("a checkpoint could not be decoded; the employer is folded from its first event", "employer", id, "err", err)
		}
		return nil, 0
	}
	if e.ID != id || e.Version != seq {
		s.log.Warn("a checkpoint is another employer's or another sequence's; the employer is folded from its first event", "employer", id, "seq", seq)
		return nil, 0
	}
	return e, seq
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
