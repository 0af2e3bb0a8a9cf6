package eventstore

import (
	"context"
	"fmt"

	"github.com/kuozheng/kuozheng/domain"
)

// Events loads one employer's events in order, by direct gets of the sequences the store's index
// holds for it: no consumer is created, and no block is scanned for the subject.
func (s *Store) Events(ctx context.Context, id string) ([]domain.Event, error) {
	s.mu.RLock()
	seqs := append([]uint64(nil), s.seqs[id]...)
	s.mu.RUnlock()
	out := make([]domain.Event, 0, len(seqs))
	for _, seq := range seqs {
		raw, err := s.stream.GetMsg(ctx, seq)
		if err != nil {
			return nil, fmt.Errorf("load event %d of employer %s: %w", seq, id, err)
		}
		ev, err := domain.Decode(raw.Data)
		if err != nil {
			ev.Type = "undecodable"
		}
		ev.Seq, ev.RecordedAt, ev.Hash = raw.Sequence, raw.Time.UnixNano(), raw.Header.Get(HashHeader)
		ev.EmployerID = id
		out = append(out, ev)
	}
	return out, nil
}

// RawEvent is one stored message of an employer, with its chain check.
type RawEvent struct {
	domain.Event
	Data    []byte
	ChainOK bool
}

// History loads one employer's events with, for each, whether its chain link holds.
func (s *Store) History(ctx context.Context, id string) ([]RawEvent, error) {
	s.mu.RLock()
	seqs := append([]uint64(nil), s.seqs[id]...)
	s.mu.RUnlock()
	out := make([]RawEvent, 0, len(seqs))
	var prev head
	broken := false
	for _, seq := range seqs {
		raw, err := s.stream.GetMsg(ctx, seq)
		if err != nil {
			return nil, fmt.Errorf("load event %d of employer %s: %w", seq, id, err)
		}
		ev, derr := domain.Decode(raw.Data)
		ev.Seq, ev.RecordedAt, ev.Hash = raw.Sequence, raw.Time.UnixNano(), raw.Header.Get(HashHeader)
		ev.EmployerID = id
		if chainReason(prev, ev, raw.Data, derr) != "" {
			broken = true
		}
		prev = head{seq: ev.Seq, n: ev.N, hash: ev.Hash}
		out = append(out, RawEvent{Event: ev, Data: raw.Data, ChainOK: !broken})
	}
	return out, nil
}
