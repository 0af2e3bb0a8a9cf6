package eventstore

import "context"

// HoldWrites runs fn while this store decides and appends no command and no reference data but
// fn's own: Execute, ExecuteBulk and ExecuteRef wait, those under way having ended first, and
// the store has caught up with the stream. A decision fn takes on the ledger's state (a year's
// closing, checked against its freeze) then holds for its append through held: no write of this
// store lands between. Writes through other replicas are not held. fn must append only through
// held.
func (s *Store) HoldWrites(ctx context.Context, fn func(held Held) error) error {
	s.writing.Lock()
	defer s.writing.Unlock()
	if err := s.CatchUp(ctx); err != nil {
		return err
	}
	return fn(Held{s})
}

// Held is the store while HoldWrites holds its writes, for the holder's own append.
type Held struct{ s *Store }

// ExecuteRef is Store.ExecuteRef, which would wait for the hold.
func (h Held) ExecuteRef(ctx context.Context, req RefRequest) (Result, error) {
	return h.s.executeRefKeyed(ctx, req)
}
