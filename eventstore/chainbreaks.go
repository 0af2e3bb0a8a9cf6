package eventstore

import "strings"

// noteBreak keeps b as employer id's first break, unless one is kept already, and logs it; the
// caller holds s.mu.
func (s *Store) noteBreak(id string, b ChainBreak) {
	if _, seen := s.breaks[id]; !seen {
		s.breaks[strings.Clone(id)] = b
		s.log.Error("hash chain broken", "employer", id, "seq", b.Seq, "reason", b.Reason)
	}
}

// ChainBreaks is how many employers the store has found with a broken hash chain or sequence
// link, as far as it has followed the stream: Verify lists them. It is cheap enough for every
// scrape of the metrics.
func (s *Store) ChainBreaks() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.breaks)
}
