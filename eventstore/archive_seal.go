package eventstore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
)

// writeChunk appends a chunk of compressed records linked to s's newest chunk, and makes it
// s's newest; the caller holds a.mu. On a write error the archive stops being used.
func (a *archive) writeChunk(s *shelf, packed []byte) bool {
	ref, ok := a.writeBlob(s.last, packed)
	if !ok {
		return false
	}
	s.last = ref
	s.recent = append(append(make([]chunkRef, 0, len(s.recent)+1), s.recent...), ref)
	if len(s.recent) == dirEvery {
		list, link := a.directory(s)
		if dir, ok := a.writeBlob(link, list); ok {
			s.dir, s.recent = dir, nil
		}
	}
	return true
}

// directory is the list of chunks s's next directory holds and the directory it links to: its
// recent chunks after every chunk its newest directory lists, and that one's link, while they
// come to at most dirMax chunks (so that a history reads one directory, not one every dirEvery
// chunks); else its recent chunks alone, linked to the newest directory. The caller holds a.mu.
func (a *archive) directory(s *shelf) ([]byte, chunkRef) {
	recent := appendChunkRefs(nil, s.recent)
	if s.dir.n == 0 || int(s.dir.n)-chunkHeader+len(recent) > dirMax*12 {
		return recent, s.dir
	}
	// Read from the file, written out first if need be: the lock is held.
	if s.dir.off+int64(s.dir.n) > a.flushed.Load() && !a.flushChunks() {
		return recent, s.dir
	}
	listed, link, err := a.appendPacked(nil, s.dir)
	if err != nil || len(listed)%12 != 0 {
		return recent, s.dir // read as before, down the links, and reported corrupt if it is
	}
	return append(listed, recent...), link
}

// appendChunkRefs appends refs as a directory holds them: 12 bytes each.
func appendChunkRefs(b []byte, refs []chunkRef) []byte {
	for _, r := range refs {
		b = binary.LittleEndian.AppendUint64(b, uint64(r.off))
		b = binary.LittleEndian.AppendUint32(b, r.n)
	}
	return b
}

// writeBlob appends compressed bytes behind a header linking to prev and returns where they
// are; the caller holds a.mu. On a write error the archive stops being used.
func (a *archive) writeBlob(prev chunkRef, packed []byte) (chunkRef, bool) {
	start := len(a.wbuf)
	buf := slices.Grow(a.wbuf, chunkHeader+len(packed))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(prev.off))
	buf = binary.LittleEndian.AppendUint32(buf, prev.n)
	buf = append(buf, 0, 0, 0, 0)
	buf = append(buf, packed...)
	blob := buf[start:]
	crc := crc32.Update(crc32.Checksum(blob[:12], crc32c), crc32c, blob[chunkHeader:])
	binary.LittleEndian.PutUint32(blob[12:16], crc)
	a.wbuf = buf
	ref := chunkRef{off: a.end, n: uint32(len(blob))}
	a.end += int64(len(blob))
	if len(a.wbuf) >= chunkBufferSize && !a.flushChunks() {
		return chunkRef{}, false
	}
	return ref, true
}

// flushChunks writes the chunks buffered; the caller holds a.mu. On a write error the archive
// stops being used.
func (a *archive) flushChunks() bool {
	if len(a.wbuf) == 0 {
		return true
	}
	at := a.flushed.Load()
	if _, err := a.file.WriteAt(a.wbuf, at); err != nil {
		a.fail(err)
		return false
	}
	a.flushed.Store(at + int64(len(a.wbuf)))
	a.wbuf = a.wbuf[:0]
	return true
}

// readAt reads len(b) bytes of the chunk file at off: from the file if they are written, else
// from the write buffer. The caller does not hold a.mu, unless they are written.
func (a *archive) readAt(b []byte, off int64) error {
	end := off + int64(len(b))
	if end > a.flushed.Load() {
		a.mu.Lock()
		if flushed := a.flushed.Load(); end > flushed {
			var err error
			if off < flushed || end > a.end {
				err = fmt.Errorf("history archive: %d bytes at %d: %w", len(b), off, errCorrupt)
			} else {
				copy(b, a.wbuf[off-flushed:])
			}
			a.mu.Unlock()
			return err
		}
		a.mu.Unlock()
	}
	if _, err := a.file.ReadAt(b, off); err != nil {
		return fmt.Errorf("history archive: %w", err)
	}
	return nil
}

// appendPacked reads and checks what writeBlob wrote at c, and appends its compressed bytes to
// b; it returns the link it holds.
func (a *archive) appendPacked(b []byte, c chunkRef) ([]byte, chunkRef, error) {
	if c.n < chunkHeader {
		return b, chunkRef{}, fmt.Errorf("history archive: chunk at %d: %w", c.off, errCorrupt)
	}
	start := len(b)
	b = slices.Grow(b, int(c.n))[:start+int(c.n)]
	buf := b[start:]
	if err := a.readAt(buf, c.off); err != nil {
		return b[:start], chunkRef{}, err
	}
	prev, err := checkBlob(buf, c)
	if err != nil {
		return b[:start], chunkRef{}, err
	}
	return append(b[:start], buf[chunkHeader:]...), prev, nil
}

// sealWaiting writes the chunks of the shelves whose tails hold a chunk's worth, until none
// waits, and compacts a tail segment after each round. The sealer runs it beside the follower,
// which so neither compresses nor rewrites.
func (a *archive) sealWaiting() {
	a.sealMu.Lock()
	defer a.sealMu.Unlock()
	for {
		a.compactTails()
		a.mu.Lock()
		work := a.seal
		a.seal, a.sealSpare = a.sealSpare, nil
		if a.seal == nil {
			a.seal = map[string]struct{}{}
		}
		a.mu.Unlock()
		if len(work) == 0 {
			a.sealSpare = work
			return
		}
		for id := range work {
			a.sealRaw, a.sealPacked = a.sealShelf(id, a.sealRaw, a.sealPacked)
		}
		clear(work)
		a.sealSpare = work
	}
}

// sealShelf writes an employer's chunks while its tail holds a chunk's worth. The records are
// compressed without the lock; only a seal takes records off a tail, and the follower adds after
// them, so unless a seal by the follower came first they are still the oldest once compressed.
// raw and packed are buffers to reuse; it returns them, grown.
func (a *archive) sealShelf(id string, raw, packed []byte) ([]byte, []byte) {
	for {
		a.mu.Lock()
		s := a.shelves[id]
		if s == nil || !a.usable() || len(s.tail) < chunkSize {
			a.mu.Unlock()
			return raw, packed
		}
		refs := slices.Clone(s.tail[:chunkSize])
		var err error
		if raw, err = a.tailRecords(raw, s, chunkSize); err != nil {
			a.fail(err)
			a.mu.Unlock()
			return raw, packed
		}
		a.mu.Unlock()
		packed = pack(packed, raw)
		a.mu.Lock()
		if a.shelves[id] == s && len(s.tail) >= chunkSize &&
			slices.EqualFunc(s.tail[:chunkSize], refs, func(x, y tailRef) bool { return x.seq == y.seq }) {
			a.install(s, chunkSize, packed)
		}
		a.mu.Unlock()
	}
}

// compactTails seals, as chunks shorter than chunkSize if need be, the tails that hold records
// of the tail segment most dead, if it is mostly dead (they are the tails of employers with no
// recent event, or none ever again: a deregistered employer's), so that the segment is deleted;
// it reports whether there was one. Sealed, those records are neither written again nor read
// again. It finds them among every shelf, once a segment, so the lock is held for a moment a
// segment written.
func (a *archive) compactTails() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.tails.sparsest()
	if old != nil && a.usable() {
		for _, s := range a.shelves {
			if !slices.ContainsFunc(s.tail, func(r tailRef) bool { return r.seg == old.n }) {
				continue
			}
			if a.sealHere(s, len(s.tail)); !a.usable() {
				return false
			}
		}
		if a.tails.segs[old.n] == old {
			a.fail(fmt.Errorf("tail segment %d: %d records left after sealing their tails: %w", old.n, old.live, errCorrupt))
			return false
		}
	}
	return old != nil && a.usable()
}
