package eventstore

import "context"

// HoldWrites runs fn while this store decides and appends no command: Execute and ExecuteBulk
// wait, those under way having ended first, and the store has caught up with the stream. A
// decision fn takes on the ledger's state (a year's closing, checked against its freeze) then
// holds for fn's own append: no write of this store lands between. Writes through other
// replicas are not held. fn must not call Execute or ExecuteBulk.
func (s *Store) HoldWrites(ctx context.Context, fn func() error) error {
	s.writing.Lock()
	defer s.writing.Unlock()
	if err := s.CatchUp(ctx); err != nil {
		return err
	}
	return fn()
}
