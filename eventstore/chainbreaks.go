package eventstore

// ChainBreaks is how many employers the store has found with a broken hash chain or sequence
// link, as far as it has followed the stream: Verify lists them. It is cheap enough for every
// scrape of the metrics.
func (s *Store) ChainBreaks() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.breaks)
}
