package eventstore

// MemoryParts names the write side's structures that hold state per event or per payer (the
// idempotency index's memtables and run fences, the history archive's shelves, chain heads,
// folded-employer LRU), in the order a benchmark drops them. Subject strings are freed with the
// heads.
var MemoryParts = []string{"keys", "archive-heap", "heads", "lru"}

// ReleaseForMeasure drops one of the store's structures (named as in MemoryParts) so that a
// benchmark can measure the live heap it held. The store must not be used afterwards.
func (s *Store) ReleaseForMeasure(part string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch part {
	case "keys":
		s.keys.mu.Lock()
		s.keys.mem, s.keys.frozen = nil, nil
		for _, r := range s.keys.runs {
			r.fences, r.sums = nil, nil
		}
		s.keys.mu.Unlock()
	case "heads":
		s.heads = nil
	case "archive-heap":
		s.archive.mu.Lock()
		s.archive.shelves, s.archive.seal = nil, nil
		s.archive.packed, s.archive.tails.buf = nil, nil
		s.archive.mu.Unlock()
	case "lru":
		s.cache = newEmployerCache(s.cfg.EmployerCache)
	default:
		panic("unknown part " + part)
	}
}

// ArchiveSizes is the archive's own accounting: its heap (estimated) and its files' size.
func (s *Store) ArchiveSizes() (heap, files int64) { return s.archive.sizes() }

// CachedEmployers is how many employers the write side's LRU holds.
func (s *Store) CachedEmployers() int {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	return s.cache.order.Len()
}
