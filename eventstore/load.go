package eventstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/kuozheng/kuozheng/domain"
	"github.com/nats-io/nats.go/jetstream"
)

// RawEvent is one stored message of an employer, with its chain check.
type RawEvent struct {
	domain.Event
	Data    []byte
	ChainOK bool
}

// History loads one employer's events in order with, for each, whether its chain link holds.
// They come from the archive the follower keeps; events the follower has not archived yet (this
// store's newest appends), and every event when there is no archive, by a read of the employer's
// subject, with no consumer.
func (s *Store) History(ctx context.Context, id string) ([]RawEvent, error) {
	var out []RawEvent
	err := s.EachEvent(ctx, id, func(r RawEvent) error {
		r.Data = bytes.Clone(r.Data)
		out = append(out, r)
		return nil
	})
	return out, err
}

// Fold folds an employer's events read by History, those through sequence through, as the store
// folds its employers (without their dated history); nil when they do not make
// an employer. Events that could not be decoded are skipped, as the store's fold skips them.
func Fold(id string, raws []RawEvent, through uint64) *domain.Employer {
	return FoldOnto(&domain.Employer{ID: id, SkipHistory: true}, raws, through)
}

// FoldOnto is Fold onto e, a new employer that says whether to keep the dated facts.
func FoldOnto(e *domain.Employer, raws []RawEvent, through uint64) *domain.Employer {
	n := len(raws)
	for n > 0 && raws[n-1].Seq > through {
		n--
	}
	e.Fold(events(raws[:n], e.ID))
	if !e.Exists() {
		return nil
	}
	return e
}

// events returns the events of raws, those that could be decoded, as employer id's.
func events(raws []RawEvent, id string) []domain.Event {
	out := make([]domain.Event, 0, len(raws))
	for _, r := range raws {
		if r.Body != nil {
			ev := r.Event
			ev.EmployerID = id
			out = append(out, ev)
		}
	}
	return out
}

// employerEvents reads and decodes an employer's events after sequence after through the last
// one folded into the store's state when it is called, in order, without checking their chain;
// it takes no lock. Events beyond that one are left out even when the archive holds them: a
// fold of the employer must not get ahead of the state, which folds them when they come.
func (s *Store) employerEvents(ctx context.Context, id string, after uint64) ([]RawEvent, error) {
	through := s.foldedThrough(id)
	if through <= after {
		return nil, nil
	}
	arch, ok, err := s.archive.read(id, after)
	if err != nil && !s.archiveDamaged(id, err) {
		return nil, fmt.Errorf("employer %s: %w", id, err)
	}
	if !ok || err != nil {
		arch = archived{} // no archive: every event is read from the stream
	}
	out := make([]RawEvent, 0, len(arch.recs)+1)
	for _, r := range arch.recs {
		if r.seq <= through {
			ev, err := s.archivedEvent(ctx, id, r)
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
	}
	err = s.streamRecords(ctx, id, max(arch.through, after)+1, through, func(r record) error {
		out = append(out, rawEvent(id, r))
		return nil
	})
	return out, err
}

// foldedThrough is the sequence of the last event of an employer folded into the store's state.
func (s *Store) foldedThrough(id string) uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.foldHead(s.sub.Employer + id).seq
}

// EventCount is how many events employer id has in the ledger as this store has folded it (0
// for an employer it has never seen).
func (s *Store) EventCount(id string) uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.foldHead(s.sub.Employer + id).n
}

// streamRecords calls fn with an employer's records from sequence from through through, read
// from the stream by subject.
func (s *Store) streamRecords(ctx context.Context, id string, from, through uint64, fn func(record) error) error {
	subject := s.sub.Employer + id
	for next := from; next <= through; {
		raw, err := s.getFolded(ctx, next, subject)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return fmt.Errorf("employer %s: event %d is not in the stream", id, through)
		}
		if err != nil {
			return fmt.Errorf("load events of employer %s from %d: %w", id, next, err)
		}
		if raw.Sequence > through {
			return fmt.Errorf("employer %s: event %d is not in the stream", id, through)
		}
		if err := fn(record{seq: raw.Sequence, ts: raw.Time.UnixNano(), hash: raw.Header.Get(HashHeader), data: raw.Data}); err != nil {
			return err
		}
		next = raw.Sequence + 1
	}
	return nil
}

// getRecord reads the message at seq from the stream.
func (s *Store) getRecord(ctx context.Context, seq uint64) (record, error) {
	raw, err := s.getMsg(ctx, seq, "")
	if err != nil {
		return record{}, err
	}
	return record{seq: raw.Sequence, ts: raw.Time.UnixNano(), hash: raw.Header.Get(HashHeader), data: raw.Data}, nil
}

// archivedEvent is rawEvent of a record read from the history archive, checked against its
// hash: a record whose bytes no longer match it (the archive's tail log keeps no checksum of its
// own) is read from the stream instead, and the archive's damage counted.
func (s *Store) archivedEvent(ctx context.Context, id string, r record) (RawEvent, error) {
	ev := rawEvent(id, r)
	if hashMatches(ev.Event, r.data) {
		return ev, nil
	}
	stored, err := s.getRecord(ctx, r.seq)
	if err != nil {
		return ev, fmt.Errorf("employer %s: event %d: %w", id, r.seq, err)
	}
	if stored.hash == r.hash && bytes.Equal(stored.data, r.data) {
		return ev, nil // the stream's is the same: a break of the chain, which its check reports
	}
	s.archiveDamaged(id, fmt.Errorf("history archive: record %d differs from the stream's: %w", r.seq, errCorrupt))
	return rawEvent(id, stored), nil
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

// ArchiveSize is what the history archive holds now: an estimate of its heap (a few references an
// employer) and the bytes of its files (compressed chunks and open tails).
func (s *Store) ArchiveSize() (heap, files int64) { return s.archive.sizes() }
