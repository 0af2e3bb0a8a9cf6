package eventstore

import (
	"fmt"
	"os"
	"slices"
)

// sizes is what the archive holds: an estimate of its heap (shelves, tail references, the tail
// log's buffer) and the bytes of its chunk file and tail segments.
func (a *archive) sizes() (heap, files int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.file == nil {
		return 0, 0
	}
	const perShelf = 72 + 16 + 48 // the shelf, its map entry and its id
	for id, s := range a.shelves {
		heap += perShelf + int64(len(id)) + int64(cap(s.tail))*24 + int64(cap(s.recent))*16
	}
	heap += int64(cap(a.wbuf))
	if a.tails.ring == nil {
		heap += int64(cap(a.tails.buf)) // else outside the heap
	}
	files = a.end + int64(len(a.tails.buf))
	for _, seg := range a.tails.segs {
		files += seg.size
	}
	return heap, files
}

// archiveState is the archive as a snapshot keeps it.
type archiveState struct {
	end      int64
	segs     []tailSegmentState
	shelves  []shelfState
	files    []*os.File // to sync before the snapshot is written
	obsolete int        // tail segments retired before: deleted once the snapshot is written
}

// shelfState is a shelf as a snapshot keeps it.
type shelfState struct {
	id string
	shelf
}

// capture returns the archive's state for a snapshot; false when the archive is not in use.
func (a *archive) capture() (archiveState, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.usable() {
		return archiveState{}, false
	}
	if !a.flushChunks() {
		return archiveState{}, false
	}
	segs, files, err := a.tails.state()
	if err != nil {
		a.fail(err)
		return archiveState{}, false
	}
	st := archiveState{end: a.end, segs: segs, files: append(files, a.file), obsolete: len(a.tails.obsolete),
		shelves: make([]shelfState, 0, len(a.shelves))}
	for id, s := range a.shelves {
		sh := *s
		sh.tail, sh.recent = slices.Clone(s.tail), slices.Clone(s.recent)
		st.shelves = append(st.shelves, shelfState{id: id, shelf: sh})
	}
	return st, true
}

// sync makes the files a snapshot names durable, before it is written.
func (st archiveState) sync() error {
	for _, f := range st.files {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("history archive: %w", err)
		}
	}
	return nil
}

// deleteObsolete removes the tail segments retired before st was captured, once a snapshot of
// st is written.
func (a *archive) deleteObsolete(st archiveState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tails.deleteObsolete(st.obsolete)
}

// restore sets the archive to a snapshot's, dropping whatever the files hold beyond it: chunks
// and tail records written after the snapshot, which the follower archives again.
func (a *archive) restore(st archiveState) error {
	info, err := a.file.Stat()
	if err != nil {
		return fmt.Errorf("history archive: %w", err)
	}
	if info.Size() < st.end {
		return fmt.Errorf("history archive: %s holds %d bytes, the snapshot %d", a.file.Name(), info.Size(), st.end)
	}
	if err := a.file.Truncate(st.end); err != nil {
		return fmt.Errorf("history archive: %w", err)
	}
	a.end = st.end
	a.flushed.Store(st.end)
	if err := a.tails.restore(st.segs); err != nil {
		return err
	}
	for _, sh := range st.shelves {
		for _, r := range sh.tail {
			seg := a.tails.segs[r.seg]
			if seg == nil || int64(r.off)+int64(r.n) > seg.size {
				return fmt.Errorf("history archive: employer %s's tail record %d is not in its segment: %w", sh.id, r.seq, errCorrupt)
			}
			seg.live++
		}
		if sh.state.off+int64(sh.state.n) > st.end || sh.stateSeq > sh.seq {
			return fmt.Errorf("history archive: employer %s's checkpoint is not in the file: %w", sh.id, errCorrupt)
		}
		if sh.dir.off+int64(sh.dir.n) > st.end || len(sh.recent) >= dirEvery || (len(sh.recent) > 0 && sh.recent[len(sh.recent)-1] != sh.last) {
			return fmt.Errorf("history archive: employer %s's chunk directory does not match the file: %w", sh.id, errCorrupt)
		}
		s := sh.shelf
		s.tail, s.recent = exact(sh.tail), exact(sh.recent)
		a.shelves[sh.id] = &s
		if len(sh.tail) >= chunkSize {
			a.seal[sh.id] = struct{}{}
		}
	}
	if len(a.seal) > 0 {
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
	return nil
}
