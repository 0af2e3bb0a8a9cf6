package eventstore

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"sync"
	"sync/atomic"
)

// readChunk reads and decompresses one chunk, returning its records and the chunk before it.
func (a *archive) readChunk(c chunkRef) ([]record, chunkRef, error) {
	raw, prev, err := a.readBlob(c)
	if err != nil {
		return nil, chunkRef{}, err
	}
	recs, err := readRecords(raw, nil)
	if err != nil {
		return nil, chunkRef{}, fmt.Errorf("history archive: chunk at %d: %w", c.off, err)
	}
	return recs, prev, nil
}

// readBlob reads, checks and decompresses what writeBlob wrote at c, and the link it holds.
func (a *archive) readBlob(c chunkRef) ([]byte, chunkRef, error) {
	pooled := blobBuffers.Get().(*[]byte)
	defer blobBuffers.Put(pooled)
	packed, prev, err := a.appendPacked((*pooled)[:0], c)
	*pooled = packed
	if err != nil {
		return nil, chunkRef{}, err
	}
	raw, err := unpack(nil, packed)
	if err != nil {
		return nil, chunkRef{}, fmt.Errorf("history archive: chunk at %d: %w", c.off, err)
	}
	return raw, prev, nil
}

// checkBlob checks the CRC of a blob read whole from c, and returns the link it holds.
func checkBlob(buf []byte, c chunkRef) (chunkRef, error) {
	crc := crc32.Update(crc32.Checksum(buf[:12], crc32c), crc32c, buf[chunkHeader:])
	prev := chunkRef{off: int64(binary.LittleEndian.Uint64(buf[0:8])), n: binary.LittleEndian.Uint32(buf[8:12])}
	if crc != binary.LittleEndian.Uint32(buf[12:16]) || (prev.n != 0 && prev.off+int64(prev.n) > c.off) {
		return chunkRef{}, fmt.Errorf("history archive: chunk at %d: %w", c.off, errCorrupt)
	}
	return prev, nil
}

// archived is what the archive holds of an employer's events after a sequence.
type archived struct {
	recs    []record // in order
	through uint64   // the archive holds every event of the employer through this sequence
}

// read returns an employer's archived records with sequences after after; false when the archive
// does not serve histories (disabled, or failed to write).
func (a *archive) read(id string, after uint64) (archived, bool, error) {
	a.mu.Lock()
	if !a.usable() {
		a.mu.Unlock()
		return archived{}, false, nil
	}
	s := a.shelves[id]
	if s == nil {
		a.mu.Unlock()
		return archived{}, true, nil
	}
	last, out := s.last, archived{through: s.seq}
	tail, err := a.appendTail(nil, s, after)
	a.mu.Unlock()
	if err != nil {
		return archived{}, true, err
	}
	// Newest chunk first, back to the one holding after.
	var chunks [][]record
	for c := last; c.n != 0; {
		recs, prev, err := a.readChunk(c)
		if err != nil {
			return archived{}, true, err
		}
		chunks = append(chunks, recs)
		if len(recs) > 0 && recs[0].seq <= after {
			break
		}
		c = prev
	}
	for _, recs := range slices.Backward(chunks) {
		for _, r := range recs {
			if r.seq > after {
				out.recs = append(out.recs, r)
			}
		}
	}
	if out.recs, err = readRecords(tail, out.recs); err != nil {
		return archived{}, true, err
	}
	return out, true, nil
}

// appendTail appends the records of s's tail with sequences after after to b; the caller holds
// a.mu.
func (a *archive) appendTail(b []byte, s *shelf, after uint64) ([]byte, error) {
	i, _ := slices.BinarySearchFunc(s.tail, after+1, func(r tailRef, seq uint64) int { return cmp.Compare(r.seq, seq) })
	return a.tails.appendRecords(b, s.tail[i:])
}

// packedHistory is an employer's archived records as readPacked reads them: its chunks still
// compressed, and its open tail.
type packedHistory struct {
	packed  []byte   // the compressed chunks, newest first
	spans   [][2]int // where each chunk is in packed, newest first
	tail    []byte   // the tail's records
	through uint64   // the archive holds every event of the employer through this sequence
	raw     []byte   // the chunk being read, decompressed (the reader's)
	refs    []chunkRef
	prevs   []chunkRef // each chunk's link, newest first
	list    []byte     // a directory's list of chunks, as read
}

// readPacked reads every archived record of an employer into h, the chunks compressed; false
// when the archive does not serve histories. Decompressing is left to the reader, which so holds
// one chunk of a long history at a time. The chunks are found through the employer's directories
// (one read for every dirMax chunks; for every dirEvery in an archive written before directories
// listed those before) and read at once; only chunks no directory lists (sealed by a build before
// directories) are found by following their links, one read after another.
func (a *archive) readPacked(id string, h *packedHistory) (bool, error) {
	h.packed, h.spans, h.tail, h.through = h.packed[:0], h.spans[:0], h.tail[:0], 0
	a.mu.Lock()
	if !a.usable() {
		a.mu.Unlock()
		return false, nil
	}
	s := a.shelves[id]
	if s == nil {
		a.mu.Unlock()
		return true, nil
	}
	last, dir, end := s.last, s.dir, a.end
	refs := h.refs[:0]
	for _, r := range slices.Backward(s.recent) {
		refs = append(refs, r)
	}
	h.through = s.seq
	// The newest directory is read while the tail's records are: on a cold page cache the
	// history then waits for the disk twice, this and then its chunks. (The chunk file is only
	// appended to: what it holds is read without the lock.)
	var listed []byte
	var prev chunkRef
	var dirErr error
	var dirRead sync.WaitGroup
	if dir.n != 0 {
		dirRead.Go(func() { listed, prev, dirErr = a.appendPacked(h.list[:0], dir) })
	}
	var err error
	h.tail, err = a.appendTail(h.tail, s, 0)
	a.mu.Unlock()
	dirRead.Wait()
	if err != nil {
		return true, err
	}
	// Newest first: the chunks since the newest directory, then each directory's.
	for dir.n != 0 {
		if dirErr != nil {
			return true, dirErr
		}
		if len(listed)%12 != 0 {
			return true, fmt.Errorf("history archive: directory at %d: %w", dir.off, errCorrupt)
		}
		for i := len(listed) - 12; i >= 0; i -= 12 {
			refs = append(refs, chunkRef{off: int64(binary.LittleEndian.Uint64(listed[i:])), n: binary.LittleEndian.Uint32(listed[i+8:])})
		}
		if dir = prev; dir.n != 0 {
			listed, prev, dirErr = a.appendPacked(listed[:0], dir)
		}
	}
	h.list = listed
	h.refs = refs
	if len(refs) > 0 && refs[0] != last {
		return true, fmt.Errorf("history archive: employer %s's newest chunk is not its directories' newest: %w", id, errCorrupt)
	}
	if len(refs) == 0 && last.n != 0 {
		refs = append(refs, last)
	}
	for _, r := range refs {
		if r.n < chunkHeader || r.off < 0 || r.off+int64(r.n) > end {
			return true, fmt.Errorf("history archive: employer %s's directory names a chunk outside the file: %w", id, errCorrupt)
		}
	}
	if err := a.readChunks(h, refs); err != nil {
		return true, err
	}
	// The links must agree with the directories; the oldest listed chunk may link to older ones
	// no directory lists, found down their links.
	var older chunkRef
	for i, prev := range h.prevs {
		if i+1 < len(refs) && prev != refs[i+1] {
			return true, fmt.Errorf("history archive: employer %s's chunk at %d does not link to the one its directory lists before it: %w", id, refs[i].off, errCorrupt)
		}
		older = prev
	}
	for older.n != 0 {
		start := len(h.packed)
		if h.packed, older, err = a.appendPacked(h.packed, older); err != nil {
			return true, err
		}
		h.spans = append(h.spans, [2]int{start, len(h.packed)})
	}
	return true, nil
}

// readChunks reads the chunks refs (newest first, each at least a header long) into h.packed,
// several at a time, and their links into h.prevs.
func (a *archive) readChunks(h *packedHistory, refs []chunkRef) error {
	h.spans, h.prevs = h.spans[:0], h.prevs[:0]
	total := 0
	for _, r := range refs {
		h.spans = append(h.spans, [2]int{total, total + int(r.n)})
		total += int(r.n)
	}
	h.packed = slices.Grow(h.packed[:0], total)[:total]
	h.prevs = slices.Grow(h.prevs, len(refs))[:len(refs)]
	errs := make([]error, len(refs))
	read := func(i int) {
		buf := h.packed[h.spans[i][0]:h.spans[i][1]]
		if errs[i] = a.readAt(buf, refs[i].off); errs[i] != nil {
			return
		}
		h.prevs[i], errs[i] = checkBlob(buf, refs[i])
	}
	// Reads at once: on a cold page cache each waits for the disk, and the disk serves several.
	// One chunk is read here, without a goroutine.
	if len(refs) == 1 {
		read(0)
	} else {
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range min(len(refs), chunkReaders) {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < len(refs); i = int(next.Add(1) - 1) {
					read(i)
				}
			})
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// The headers off: each span is its compressed records.
	for i := range h.spans {
		h.spans[i][0] += chunkHeader
	}
	return nil
}

// chunkReaders is how many reads of a history's chunks are in flight at once.
const chunkReaders = 8
