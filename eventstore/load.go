package eventstore

import (
	"context"
	"fmt"

	"github.com/kuozheng/kuozheng/domain"
	"golang.org/x/sync/errgroup"
)

// RawEvent is one stored message of an employer, with its chain check.
type RawEvent struct {
	domain.Event
	Data    []byte
	ChainOK bool
}

// History loads one employer's events in order with, for each, whether its chain link holds.
// They come from the archive the follower keeps; events not (yet) archived are read by
// direct gets of the sequences the store's index holds, several at once, with no consumer.
func (s *Store) History(ctx context.Context, id string) ([]RawEvent, error) {
	s.mu.RLock()
	seqs := append([]uint64(nil), s.seqs[id]...)
	s.mu.RUnlock()
	out, err := s.readEvents(ctx, id, seqs)
	if err != nil {
		return nil, err
	}
	var prev head
	broken := false
	for i := range out {
		var derr error
		if out[i].Body == nil {
			derr = errCorrupt
		}
		if chainReason(prev, out[i].Event, out[i].Data, derr) != "" {
			broken = true
		}
		prev = head{seq: out[i].Seq, n: out[i].N, hash: out[i].Hash}
		out[i].ChainOK = !broken
	}
	return out, nil
}

// readEvents reads and decodes the events of an employer at the given sequences, without
// checking their chain; it takes no lock.
func (s *Store) readEvents(ctx context.Context, id string, seqs []uint64) ([]RawEvent, error) {
	recs, err := s.archive.records(id)
	if err != nil {
		return nil, fmt.Errorf("employer %s: %w", id, err)
	}
	bySeq := make(map[uint64]record, len(recs))
	for _, r := range recs {
		bySeq[r.seq] = r
	}
	out := make([]RawEvent, len(seqs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, seq := range seqs {
		if r, ok := bySeq[seq]; ok {
			out[i] = rawEvent(id, r)
			continue
		}
		g.Go(func() error {
			raw, err := s.stream.GetMsg(gctx, seq)
			if err != nil {
				return fmt.Errorf("load event %d of employer %s: %w", seq, id, err)
			}
			out[i] = rawEvent(id, record{seq: raw.Sequence, ts: raw.Time.UnixNano(), hash: raw.Header.Get(HashHeader), data: raw.Data})
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func rawEvent(id string, r record) RawEvent {
	ev, derr := domain.Decode(r.data)
	if derr != nil {
		ev.Type = "undecodable"
		ev.Body = nil
	}
	ev.Seq, ev.RecordedAt, ev.Hash, ev.EmployerID = r.seq, r.ts, r.hash, id
	return RawEvent{Event: ev, Data: r.data}
}

// ArchiveSize is what the history archive holds now: bytes on the heap and in its file.
func (s *Store) ArchiveSize() (heap, file int64) { return s.archive.bytes() }
