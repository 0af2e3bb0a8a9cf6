package eventstore

import (
	"path/filepath"
	"sync"
	"time"
)

// MemoryParts names the write side's structures that hold state per event or per payer (the
// idempotency index's memtables and run fences, the history archive's shelves and open tails,
// chain heads, folded-employer LRU), in the order a benchmark drops them. Subject strings are
// freed with the heads.
// ChunkSize is how many of an employer's records the archive compresses together.
const ChunkSize = chunkSize

var MemoryParts = []string{"keys", "archive-heap", "heads", "lru"}

// ReleaseForMeasure drops one of the store's structures (named as in MemoryParts) so that a
// benchmark can measure the live heap it held. The store must not be used afterwards.
func (s *Store) ReleaseForMeasure(part string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch part {
	case "keys":
		s.keys.mu.Lock()
		s.keys.mem, s.keys.frozen, s.keys.filter = nil, nil, nil
		for _, r := range s.keys.runs {
			r.fences, r.sums = nil, nil
		}
		s.keys.mu.Unlock()
	case "heads":
		s.heads, s.ahead = nil, nil
	case "archive-heap":
		s.archive.mu.Lock()
		s.archive.shelves, s.archive.seal = nil, nil
		s.archive.tails.buf, s.archive.wbuf = nil, nil
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

// Folded counts the messages the follower applied since Open.
func (s *Store) Folded() uint64 { return s.folded.Load() }

// KeyCounts is how many idempotency keys the index holds in memory and in runs, and its runs.
func (s *Store) KeyCounts() (mem, runs uint64, files int) {
	mem, runs = s.keys.keys()
	s.keys.mu.RLock()
	defer s.keys.mu.RUnlock()
	return mem, runs, len(s.keys.runs)
}

// SetKeyMemtable sets how many keys the index's memtable holds before it is written as a run.
func (s *Store) SetKeyMemtable(n int) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	s.keys.memMax = n
}

// SnapshotNow has the keeper write a snapshot of the state now and waits until it is written;
// it returns the snapshot's sequence.
// SealNow seals, on the caller's goroutine, every tail that holds a chunk's worth and every tail
// with records in a mostly dead tail segment, as the sealer does over its next rounds:
// a test that counts files so does not depend on how far the sealer got.
func (s *Store) SealNow() {
	s.archive.sealWaiting()
	for s.archive.compactTails() {
	}
}

func (s *Store) SnapshotNow() uint64 {
	for !s.snapBusy.CompareAndSwap(false, true) {
		time.Sleep(time.Millisecond)
	}
	s.applyMu.Lock()
	snap := s.capture()
	s.applyMu.Unlock()
	s.snapReq <- snap
	for s.snapBusy.Load() {
		time.Sleep(time.Millisecond)
	}
	return snap.seq
}

// Crash stops the store as a killed process would leave it: no snapshot at close, so the folder
// holds the last snapshot taken and whatever was written after it.
func (s *Store) Crash() {
	s.crashed = true
	s.Close()
}

// SetSnapshotIdle sets how long the follower must be idle before a snapshot, for stores opened
// from now on; it returns a func restoring the default.
func SetSnapshotIdle(d time.Duration) func() {
	old := snapshotIdle
	snapshotIdle = d
	return func() { snapshotIdle = old }
}

// SnapshotSeq is the sequence of the last snapshot written (or restored).
func (s *Store) SnapshotSeq() uint64 { return s.snapSaved.Load() }

// SetTailSegmentSize sets the size at which the archive's tail log starts a new segment.
func (s *Store) SetTailSegmentSize(n int64) {
	s.archive.mu.Lock()
	defer s.archive.mu.Unlock()
	s.archive.tails.segSize = n
}

// CheckpointSeq is the sequence the employer's newest checkpoint is folded through; 0 when it
// has none.
func (s *Store) CheckpointSeq(id string) uint64 {
	s.archive.mu.Lock()
	defer s.archive.mu.Unlock()
	if sh := s.archive.shelves[id]; sh != nil {
		return sh.stateSeq
	}
	return 0
}

// DamageCheckpoint flips a byte of the employer's newest checkpoint in the archive's file.
func (s *Store) DamageCheckpoint(id string) error {
	s.archive.mu.Lock()
	defer s.archive.mu.Unlock()
	ref := s.archive.shelves[id].state
	b := make([]byte, 1)
	off := ref.off + int64(ref.n) - 1
	if _, err := s.archive.file.ReadAt(b, off); err != nil {
		return err
	}
	b[0] ^= 0xff
	_, err := s.archive.file.WriteAt(b, off)
	return err
}

// HoldFollower makes the store's follower wait before it folds the next message on subject, as
// it waits for an append of its own in flight there; the returned func lets it go on.
func (s *Store) HoldFollower(subject string) func() { return sync.OnceFunc(s.markPending(subject)) }

// LoseAnswers has the store treat the next n acknowledgements of its appends as lost on the way
// back, and send an unanswered append again after attempt, as it does on a cluster.
func (s *Store) LoseAnswers(n int, attempt time.Duration) {
	s.com.attempt, s.com.resolve = attempt, s.leaderGet
	s.com.lose.Store(int32(n))
}

// CachedEmployerIDs returns the ids of the employers whose folded state the write side caches.
func (s *Store) CachedEmployerIDs() map[string]bool {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	ids := map[string]bool{}
	for id := range s.cache.items {
		ids[id] = true
	}
	return ids
}

// NoteUndecodableInSnapshot rewrites the store snapshot in dir as a build that could not decode
// employer id's event at seq would have written it: with a break there.
func NoteUndecodableInSnapshot(dir, id string, seq uint64) error {
	snap, err := readSnapshot(filepath.Join(dir, snapshotFile))
	if err != nil {
		return err
	}
	snap.breaks[id] = ChainBreak{Seq: seq, Reason: undecodable + `unknown event type "employer.registered"`}
	return writeFileAtomic(dir, snapshotFile, snap.encode())
}
