package eventstore

import (
	"context"
	"errors"
)

// HoldWrites runs fn while this store decides and appends no command and no reference data but
// fn's own: Execute, ExecuteBulk and ExecuteRef wait, those under way having ended first, and
// the store has caught up with the stream. A decision fn takes on the ledger's state (a year's
// closing, checked against its freeze) then holds for its append through held: no write of this
// store lands between, and none is decided on a state that lacks fn's append once it is stored.
// Writes through other replicas are not held. fn must append only through held. A write waiting
// for the hold to end keeps its context's deadline (answered not recorded); the hold waits for
// the writes under way, within ctx.
func (s *Store) HoldWrites(ctx context.Context, fn func(held Held) error) error {
	if err := s.writing.Acquire(ctx, holdWeight); err != nil {
		return err
	}
	defer s.writing.Release(holdWeight)
	if err := s.CatchUp(ctx); err != nil {
		return err
	}
	err := fn(Held{s})
	if errors.Is(err, ErrOutcomeUnknown) {
		// fn's append went unacknowledged and may be stored: the writes held are decided once
		// the store has read the stream as it is, within a publish timeout of ctx's end.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
		defer cancel()
		if cerr := s.CatchUp(cctx); cerr != nil {
			return errors.Join(err, cerr)
		}
	}
	return err
}

// holdWeight is the whole of Store.writing: more than the writes under way at once can be.
const holdWeight = 1 << 30

// Held is the store while HoldWrites holds its writes, for the holder's own append.
type Held struct{ s *Store }

// ExecuteRef is Store.ExecuteRef, which would wait for the hold. Once sent, the write waits for
// its outcome also after ctx ends (within the publish timeout): the writes held resume after it.
func (h Held) ExecuteRef(ctx context.Context, req RefRequest) (Result, error) {
	req.settles = true
	return h.s.executeRefKeyed(ctx, req)
}
