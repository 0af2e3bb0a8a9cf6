package eventstore

import (
	"cmp"
	"context"
	"slices"
	"strings"
)

// ChainBreak records where an employer's hash chain or sequence links first fail.
type ChainBreak struct {
	Seq    uint64 `json:"seq"`
	Reason string `json:"reason"`
}

// ChainBreak reports the first break in an employer's chain, if any.
func (s *Store) ChainBreak(id string) (ChainBreak, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.breaks[id]
	return b, ok
}

// Integrity is what verification found.
type Integrity struct {
	LastSeq   uint64       `json:"last_seq"`
	Messages  uint64       `json:"messages"`
	Deleted   int          `json:"deleted"`
	Lost      int          `json:"lost"`
	Employers int          `json:"employers"`
	Breaks    []BreakEntry `json:"breaks"`
	OK        bool         `json:"ok"`
}

// BreakEntry names an employer whose chain is broken.
type BreakEntry struct {
	EmployerID string `json:"employer_id"`
	ChainBreak
}

// Verify checks every employer's hash chain and sequence links as folded so far, and the stream's
// deleted and lost counters (zero in a ledger that never forgets).
func (s *Store) Verify(ctx context.Context) (Integrity, error) {
	if err := s.CatchUp(ctx); err != nil {
		return Integrity{}, err
	}
	info, err := s.stream.Info(ctx)
	if err != nil {
		return Integrity{}, err
	}
	in := Integrity{LastSeq: info.State.LastSeq, Messages: info.State.Msgs, Deleted: info.State.NumDeleted, Breaks: []BreakEntry{}}
	if info.State.Lost != nil {
		in.Lost = len(info.State.Lost.Msgs)
	}
	s.mu.RLock()
	for subject := range s.heads {
		if id, ok := strings.CutPrefix(subject, s.sub.Employer); ok && !s.recoded[id] {
			in.Employers++ // a claim of an organisation code is no employer
		}
	}
	for id, b := range s.breaks {
		in.Breaks = append(in.Breaks, BreakEntry{EmployerID: id, ChainBreak: b})
	}
	s.mu.RUnlock()
	slices.SortFunc(in.Breaks, func(a, b BreakEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	in.OK = len(in.Breaks) == 0 && in.Deleted == 0 && in.Lost == 0
	return in, nil
}
