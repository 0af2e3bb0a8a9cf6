package eventstore

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// tailLog holds the records of the archive's open tails (an employer's events after its newest
// chunk) on disk, so that memory holds only where each one is: the follower appends each record
// as it comes, in segment files of tailSegmentSize bytes, through a small write buffer. Once
// sealed into a chunk a record is dead; a segment with no live record left is deleted (after the
// next snapshot, which no longer names it), and the tails with records in a segment mostly dead
// (less than 1/tailCompactBelow live), those of employers with no recent event, are sealed as
// they are (archive.compactTails). The log so stays within a few times the records of open
// tails, which grow with payers, not with history. The archive's lock guards it.
//
// The newest buffers written stay in memory, in a ring outside the Go heap: a seal takes an
// employer's oldest chunkSize records, most of them written in the last months of the stream,
// and copies them from there instead of reading each back with a call (on a first start, those
// reads were a quarter of the time). Outside the heap, the ring neither presses the collector
// nor counts against the memory limit.
type tailLog struct {
	segSize  int64  // tailSegmentSize but in tests
	dir      string // where segments go; "" for unlinked scratch files in scratch
	scratch  string
	segs     map[uint32]*tailSegment
	cur      *tailSegment // the segment appended to
	next     uint32       // number of the next segment
	buf      []byte       // appended to cur after its size, not yet written
	obsolete []*tailSegment
	// ring is tailRingSlots buffers of tailSlotSize (nil if it could not be mapped: every
	// record is then read from its segment); slot is the one buf was given, free those not in
	// use, recent those written, oldest first.
	ring   []byte
	slot   []byte
	free   [][]byte
	recent []tailBlock
}

// tailBlock is a buffer written at off of segment seg, kept in the ring.
type tailBlock struct {
	seg uint32
	off int64
	b   []byte
}

type tailSegment struct {
	n         uint32
	f         *os.File
	size      int64 // bytes written
	live      int   // tail records in it
	liveBytes int64
}

// tailRef is where a tail record is.
type tailRef struct {
	seq uint64
	seg uint32
	off uint32
	n   uint32
}

const (
	tailSegmentSize = 16 << 20
	tailBufferSize  = 64 << 10
	// tailSlotSize is a ring slot: a buffer is written once it holds tailBufferSize, so it
	// holds that and at most one record more (a larger record moves it to the heap).
	tailSlotSize  = tailBufferSize + tailBufferSize/4
	tailRingSlots = 614 // 48 MiB
	// tailCompactBelow: a segment whose live records are less than 1/tailCompactBelow of its
	// bytes has their tails sealed, and is deleted.
	tailCompactBelow = 4
)

func newTailLog(dir, scratch string) *tailLog {
	t := &tailLog{segSize: tailSegmentSize, dir: dir, scratch: scratch, segs: map[uint32]*tailSegment{}, next: 1}
	t.mapRing(tailRingSlots)
	return t
}

// mapRing gives the log a ring of n slots (none if n is 0 or the memory cannot be mapped),
// before anything is appended.
func (t *tailLog) mapRing(n int) {
	unmapMemory(t.ring)
	t.ring, t.slot, t.free, t.recent, t.buf = nil, nil, nil, nil, nil
	if n == 0 {
		return
	}
	ring, err := mapMemory(n * tailSlotSize)
	if err != nil {
		return
	}
	t.ring = ring
	for i := range n {
		t.free = append(t.free, ring[i*tailSlotSize:i*tailSlotSize:(i+1)*tailSlotSize])
	}
	t.takeSlot()
}

// takeSlot gives buf a free slot of the ring (the one written longest ago).
func (t *tailLog) takeSlot() {
	t.slot, t.free = t.free[0], t.free[1:]
	t.buf = t.slot
}

// tailSegmentName names the n-th segment file of a folder.
func tailSegmentName(n uint32) string { return fmt.Sprintf("tails-%010d.log", n) }

// tailSegmentNumber is the number of a segment file's name, or 0 if it is not one.
func tailSegmentNumber(name string) uint32 {
	s, ok := strings.CutPrefix(name, "tails-")
	if s, ok2 := strings.CutSuffix(s, ".log"); ok && ok2 {
		if n, err := strconv.ParseUint(s, 10, 32); err == nil {
			return uint32(n)
		}
	}
	return 0
}

// appendNew adds a record, encoding it in the write buffer, and returns where it is.
func (t *tailLog) appendNew(r record) (tailRef, error) {
	if err := t.room(recordOverhead + len(r.data)); err != nil {
		return tailRef{}, err
	}
	start := len(t.buf)
	t.buf = appendRecord(t.buf, r)
	return t.appended(r.seq, start)
}

// room starts a new segment if a record of at most n bytes would not fit in the current one.
func (t *tailLog) room(n int) error {
	if t.cur == nil || t.cur.size+int64(len(t.buf)+n) > t.segSize {
		return t.rotate()
	}
	return nil
}

// appended accounts for the record at t.buf[start:] and returns where it is.
func (t *tailLog) appended(seq uint64, start int) (tailRef, error) {
	n := len(t.buf) - start
	ref := tailRef{seq: seq, seg: t.cur.n, off: uint32(t.cur.size) + uint32(start), n: uint32(n)}
	t.cur.live++
	t.cur.liveBytes += int64(n)
	if len(t.buf) >= tailBufferSize {
		if err := t.flush(); err != nil {
			return tailRef{}, err
		}
	}
	return ref, nil
}

// rotate starts a new segment.
func (t *tailLog) rotate() error {
	if err := t.flush(); err != nil {
		return err
	}
	var f *os.File
	var err error
	if t.dir == "" {
		if f, err = os.CreateTemp(t.scratch, "kuozheng-tails-*"); err == nil {
			// Unlinked at once: the space is the process's only, and is freed however it ends.
			err = os.Remove(f.Name())
		}
	} else {
		f, err = os.OpenFile(filepath.Join(t.dir, tailSegmentName(t.next)), os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o640)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return fmt.Errorf("history archive: %w", err)
	}
	old := t.cur
	t.cur = &tailSegment{n: t.next, f: f}
	t.segs[t.next] = t.cur
	t.next++
	if old != nil && old.live == 0 {
		t.retire(old)
	}
	return nil
}

// flush writes the buffer to the current segment.
func (t *tailLog) flush() error {
	if len(t.buf) == 0 {
		return nil
	}
	if _, err := t.cur.f.WriteAt(t.buf, t.cur.size); err != nil {
		return fmt.Errorf("history archive: %w", err)
	}
	blk := tailBlock{seg: t.cur.n, off: t.cur.size, b: t.buf}
	t.cur.size += int64(len(t.buf))
	t.remember(blk)
	return nil
}

// remember keeps a buffer just written in the ring, forgetting the oldest kept if no slot is
// free, and gives buf a slot to fill next. A buffer that outgrew its slot is not kept.
func (t *tailLog) remember(blk tailBlock) {
	if t.ring == nil {
		t.buf = t.buf[:0]
		return
	}
	if &blk.b[:1][0] == &t.slot[:1][0] {
		t.recent = append(t.recent, blk)
	} else {
		t.free = append(t.free, t.slot)
	}
	if len(t.free) == 0 {
		t.free = append(t.free, t.recent[0].b[:0])
		t.recent[0] = tailBlock{}
		t.recent = t.recent[1:]
	}
	t.takeSlot()
}

// inMemory returns a record's bytes from the write buffer or the ring, if it is in one; they
// are valid until the next append.
func (t *tailLog) inMemory(r tailRef) ([]byte, bool) {
	seg := t.segs[r.seg]
	if seg == nil {
		return nil, false
	}
	if seg == t.cur && int64(r.off) >= seg.size {
		at := int64(r.off) - seg.size
		if at+int64(r.n) > int64(len(t.buf)) {
			return nil, false
		}
		return t.buf[at : at+int64(r.n)], true
	}
	// The ring's buffers are in write order, so in the order of (segment, offset).
	i, found := slices.BinarySearchFunc(t.recent, r, func(b tailBlock, r tailRef) int {
		return cmp.Or(cmp.Compare(b.seg, r.seg), cmp.Compare(b.off, int64(r.off)))
	})
	if !found {
		i--
	}
	if i < 0 || t.recent[i].seg != r.seg || int64(r.off)+int64(r.n) > t.recent[i].off+int64(len(t.recent[i].b)) {
		return nil, false
	}
	at := int64(r.off) - t.recent[i].off
	return t.recent[i].b[at : at+int64(r.n)], true
}

// appendRecord appends a record to b.
func (t *tailLog) appendRecord(b []byte, r tailRef) ([]byte, error) {
	if rec, ok := t.inMemory(r); ok {
		return append(b, rec...), nil
	}
	start := len(b)
	b = slices.Grow(b, int(r.n))[:start+int(r.n)]
	if err := t.readRecord(b[start:], r); err != nil {
		return b[:start], err
	}
	return b, nil
}

// readRecord reads a record that is not in memory from its segment into dst, len(dst) long.
func (t *tailLog) readRecord(dst []byte, r tailRef) error {
	seg := t.segs[r.seg]
	switch {
	case seg == nil:
		return fmt.Errorf("history archive: tail segment %d: %w", r.seg, errCorrupt)
	case seg == t.cur && int64(r.off) >= seg.size: // past what the buffer holds
		return fmt.Errorf("history archive: tail record %d: %w", r.seq, errCorrupt)
	}
	if _, err := seg.f.ReadAt(dst, int64(r.off)); err != nil {
		return fmt.Errorf("history archive: tail record %d: %w", r.seq, err)
	}
	return nil
}

// appendRecords appends the records refs, in order, to b: those in memory copied, those on disk
// read at once (on a cold page cache each read waits for the disk, and the disk serves several).
func (t *tailLog) appendRecords(b []byte, refs []tailRef) ([]byte, error) {
	total := 0
	for _, r := range refs {
		total += int(r.n)
	}
	start := len(b)
	b = slices.Grow(b, total)[:start+total]
	type diskRead struct {
		dst []byte
		ref tailRef
		err error
	}
	var reads []diskRead
	for i, at := 0, start; i < len(refs); i++ {
		dst := b[at : at+int(refs[i].n)]
		at += len(dst)
		if rec, ok := t.inMemory(refs[i]); ok {
			copy(dst, rec)
			continue
		}
		reads = append(reads, diskRead{dst: dst, ref: refs[i]})
	}
	// The last read is made here, while the others wait for the disk: most often it is the only
	// one (a new employer's first events, read back by the next command about it), and a
	// goroutine to wait for it cost more than the read.
	var wg sync.WaitGroup
	for i := range reads {
		r := &reads[i]
		if i == len(reads)-1 {
			r.err = t.readRecord(r.dst, r.ref)
			break
		}
		wg.Go(func() { r.err = t.readRecord(r.dst, r.ref) })
	}
	wg.Wait()
	var err error
	for _, r := range reads {
		err = errors.Join(err, r.err)
	}
	if err != nil {
		return b[:start], err
	}
	return b, nil
}

// drop forgets a record sealed into a chunk; a segment left with none is retired.
func (t *tailLog) drop(r tailRef) {
	seg := t.segs[r.seg]
	if seg == nil {
		return
	}
	seg.live--
	seg.liveBytes -= int64(r.n)
	if seg.live == 0 && seg != t.cur {
		t.retire(seg)
	}
}

// retire takes a segment with no live record out of the log. A scratch segment is closed at
// once; a folder's is deleted once a snapshot no longer names it (deleteObsolete).
func (t *tailLog) retire(seg *tailSegment) {
	delete(t.segs, seg.n)
	if t.dir == "" {
		seg.f.Close()
		return
	}
	t.obsolete = append(t.obsolete, seg)
}

// sparsest returns the segment other than the current one with the smallest share of live
// bytes, if that is below 1/tailCompactBelow, else nil.
func (t *tailLog) sparsest() *tailSegment {
	var best *tailSegment
	for _, seg := range t.segs {
		if seg != t.cur && seg.liveBytes*tailCompactBelow < seg.size &&
			(best == nil || seg.liveBytes*best.size < best.liveBytes*seg.size) {
			best = seg
		}
	}
	return best
}

// tailSegmentState is a segment as a snapshot names it.
type tailSegmentState struct {
	n    uint32
	size int64
}

// state writes the buffer out and returns the segments, for a snapshot, and their files, to
// sync before it is written.
func (t *tailLog) state() ([]tailSegmentState, []*os.File, error) {
	if err := t.flush(); err != nil {
		return nil, nil, err
	}
	var out []tailSegmentState
	var files []*os.File
	for _, seg := range t.segs {
		out = append(out, tailSegmentState{n: seg.n, size: seg.size})
		files = append(files, seg.f)
	}
	return out, files, nil
}

// restore opens a snapshot's segments, dropping what they hold beyond it.
func (t *tailLog) restore(segs []tailSegmentState) error {
	for _, st := range segs {
		f, err := os.OpenFile(filepath.Join(t.dir, tailSegmentName(st.n)), os.O_RDWR, 0)
		if err != nil {
			return fmt.Errorf("history archive: %w", err)
		}
		seg := &tailSegment{n: st.n, f: f, size: st.size}
		t.segs[st.n] = seg
		info, err := f.Stat()
		if err == nil && info.Size() < st.size {
			err = fmt.Errorf("%s holds %d bytes, the snapshot %d", f.Name(), info.Size(), st.size)
		}
		if err == nil {
			err = f.Truncate(st.size)
		}
		if err != nil {
			return fmt.Errorf("history archive: %w", err)
		}
		if t.cur == nil || st.n > t.cur.n {
			t.cur = seg
		}
		t.next = max(t.next, st.n+1)
	}
	return nil
}

// deleteObsolete removes the files of the first upTo segments retired: those retired before the
// last snapshot written was captured.
func (t *tailLog) deleteObsolete(upTo int) {
	for _, seg := range t.obsolete[:upTo] {
		seg.f.Close()
		_ = os.Remove(filepath.Join(t.dir, tailSegmentName(seg.n)))
	}
	t.obsolete = t.obsolete[upTo:]
}

// close closes the segments and unmaps the ring: the caller makes sure nothing reads the log
// any more.
func (t *tailLog) close() {
	for _, seg := range t.segs {
		seg.f.Close()
	}
	for _, seg := range t.obsolete {
		seg.f.Close()
	}
	t.mapRing(0)
}
