package eventstore

import (
	"context"
	"errors"
	"time"
)

// HoldWrites runs fn while this store decides and appends no command and no reference data but
// fn's own: Execute, ExecuteBulk and ExecuteRef wait, those under way having ended first, and
// the store has caught up with the stream. A decision fn takes on the ledger's state (a year's
// closing, checked against its freeze) then holds for its append through held: no write of this
// store lands between, and none is decided on a state that lacks fn's append once it is stored.
// Writes through other replicas are not held. fn must append only through held. A write waiting
// for the hold to end keeps its context's deadline (answered not recorded); the hold waits for
// the writes under way, within ctx. If fn's append goes unanswered and the store cannot read the
// stream within a publish timeout, the writes held go on, those into ended years fenced until
// the store has read it (Store.fenced).
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
			// The writes held go on, but one decided on a state that lacks fn's append (a
			// year's closing) could land after it: until the store has caught up, writes into
			// ended years are fenced on the years' head as other replicas' are.
			s.unsettled.Add(1)
			s.settling.Go(s.settle)
			return errors.Join(err, cerr)
		}
	}
	return err
}

// settle catches up with the stream, again and again until it can or the store closes, for a
// hold whose append went unanswered; then that hold no longer makes the sole writer fence.
func (s *Store) settle() {
	s.log.Warn("event store: a hold's own append went unanswered and the store could not read the stream since; writes into ended years are fenced until it has")
	for {
		ctx, cancel := context.WithTimeout(s.runCtx, s.cfg.Timeout)
		err := s.CatchUp(ctx)
		cancel()
		if err == nil {
			s.unsettled.Add(-1)
			s.log.Info("event store: caught up with the stream after a hold's unanswered append")
			return
		}
		select {
		case <-s.runCtx.Done():
			return
		case <-time.After(settleRetry):
		}
	}
}

// UnsettledHolds is the number of holds whose own append went unanswered and whose store has not
// read the stream since: while it is not 0, writes into ended years are fenced.
func (s *Store) UnsettledHolds() int { return int(s.unsettled.Load()) }

// settleRetry is the pause between settle's attempts to catch up.
const settleRetry = time.Second

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
