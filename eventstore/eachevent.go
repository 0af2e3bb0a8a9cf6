package eventstore

import (
	"context"
	"fmt"
	"sync"
)

// EachEvent calls fn with one employer's events in order, as History returns them; an event's
// Data is valid only during the call. A reader that needs each event once (an auditor's history
// answer) so holds one of the archive's chunks at a time, decompressed into a reused buffer,
// instead of the whole history: on a served ledger the garbage a request leaves is what the
// collector charges it for. An error of fn stops the reading and is returned.
func (s *Store) EachEvent(ctx context.Context, id string, fn func(RawEvent) error) error {
	through := s.foldedThrough(id)
	if through == 0 {
		return nil
	}
	var chain chainCheck
	var fnErr error // returned as it is, not as the archive's
	var delivered uint64
	fromArchive := true
	each := func(r record) error {
		if r.seq > through {
			return nil
		}
		var ev RawEvent
		if fromArchive {
			var err error
			if ev, err = s.archivedEvent(ctx, id, r); err != nil {
				return err
			}
		} else {
			ev = rawEvent(id, r)
		}
		delivered = r.seq
		fnErr = fn(chain.next(ev))
		return fnErr
	}
	archived, err := s.eachArchived(id, each)
	fromArchive = false
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil && !s.archiveDamaged(id, err):
		return fmt.Errorf("employer %s: %w", id, err)
	case err != nil:
		archived = delivered // the rest from the stream, of which the archive is a copy
	}
	return s.streamRecords(ctx, id, archived+1, through, each)
}

// eachArchived calls each with the employer's archived records, in order, and returns the
// sequence the archive holds them through (0: the archive serves no histories).
func (s *Store) eachArchived(id string, each func(record) error) (uint64, error) {
	ph := packedHistories.Get().(*packedHistory)
	defer packedHistories.Put(ph)
	ok, err := s.archive.readPacked(id, ph)
	if err != nil || !ok {
		return 0, err
	}
	for i := len(ph.spans) - 1; i >= 0; i-- {
		if ph.raw, err = unpack(ph.raw, ph.packed[ph.spans[i][0]:ph.spans[i][1]]); err != nil {
			return 0, fmt.Errorf("history archive: %w", err)
		}
		if err := eachRecord(ph.raw, each); err != nil {
			return 0, err
		}
	}
	if err := eachRecord(ph.tail, each); err != nil {
		return 0, err
	}
	return ph.through, nil
}

var packedHistories = sync.Pool{New: func() any { return new(packedHistory) }}

// eachRecord calls fn with each record encoded in b; their data are slices of b.
func eachRecord(b []byte, fn func(record) error) error {
	for len(b) > 0 {
		r, rest, err := nextRecord(b)
		if err != nil {
			return fmt.Errorf("history archive: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
		b = rest
	}
	return nil
}

// chainCheck checks an employer's events, in order, against the chain they make: once a link
// fails, every later event is marked broken too.
type chainCheck struct {
	prev   head
	broken bool
}

func (c *chainCheck) next(ev RawEvent) RawEvent {
	var derr error
	if ev.Body == nil {
		derr = errCorrupt
	}
	if chainReason(c.prev, ev.Event, hashMatches(ev.Event, ev.Data), derr) != "" {
		c.broken = true
	}
	c.prev = head{seq: ev.Seq, n: ev.N, hash: ev.Hash}
	ev.ChainOK = !c.broken
	return ev
}
