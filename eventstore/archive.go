package eventstore

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// Hashes and ids are random hex, which only an entropy coder shrinks: zstd keeps a chunk at about
// a third of its size where s2 kept most of it.
var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
)

// archive keeps every employer's stored events grouped by employer, so that an auditor's history
// or a fold of an employer out of the write side's cache is read without going back to the file
// store (whose blocks hold the events of thousands of employers, so one employer's history would
// touch dozens of blocks). The follower fills it from the messages it already receives.
//
// Every chunkSize records of an employer are compressed, by the sealer beside the follower, into
// a chunk appended to the archive's file; each chunk's header links to the employer's chunk
// before it, and every dirEvery chunks a directory lists them, so that a history finds its chunks
// in a few reads and reads them at once. The records after an employer's newest chunk (its open
// tail) are in the tail log (tails.go), on disk too. Memory holds, per employer, where its newest
// chunk and directory, the chunks sealed since and its tail's records are: O(1) an employer (at
// most chunkSize-1 tail references, more only while a seal waits, and dirEvery-1 chunks),
// nothing an event.
//
// The chunk file also holds checkpoints of employers' folded write-side state (checkpoint.go),
// so that folding an employer out of the cache reads its state and the events after it, not its
// whole history; the shelf knows its newest.
//
// With a folder the files persist and the snapshot records the chunk file's length, the tail
// log's segments and every shelf; without one they are unlinked scratch files rebuilt at every
// start.
type archive struct {
	mu      sync.Mutex
	file    *os.File // the chunks; nil when the archive is disabled
	end     int64    // bytes written to file
	err     error    // the first write error: the archive stops being used after it
	tails   *tailLog
	shelves map[string]*shelf
	seal    map[string]struct{} // shelves whose tail holds a chunk's worth: the sealer's work
	wake    chan struct{}       // tells the sealer there is work
	packed  []byte              // reused for writing chunks
}

// shelf is one employer's events: a chain of chunks in the file, then the open tail.
type shelf struct {
	last     chunkRef  // newest chunk; n is 0 while there is none
	seq      uint64    // sequence of the newest record added
	tail     []tailRef // the records after the newest chunk, oldest first, at exact length
	state    chunkRef  // newest checkpoint of the employer's folded state; n is 0 while there is none
	stateSeq uint64    // the sequence state is folded through
	// dir is the newest directory of the employer's chunks (n 0: none), recent the chunks sealed
	// since, oldest first (fewer than dirEvery). A directory lists dirEvery chunks and links to
	// the directory before it, so that a history learns where all its chunks are in a few reads
	// and reads them at once, instead of one chunk after another down their links.
	dir    chunkRef
	recent []chunkRef
}

// chunkRef is where a chunk is in the archive's file: its header, then its zstd-compressed records.
type chunkRef struct {
	off int64
	n   uint32
}

const (
	// dirEvery is how many chunks a directory lists.
	dirEvery  = 8
	chunkSize = 8
	// A chunk's header: the previous chunk of the employer (offset, length) and the CRC-32C of
	// those 12 bytes and the compressed records.
	chunkHeader = 16
	// sealBacklog is how many shelves may wait for the sealer before the follower seals a tail
	// itself: the sealer compresses beside the follower, but tails must not pile up.
	sealBacklog = 4096
)

// record is one stored message as the archive keeps it.
type record struct {
	seq  uint64
	ts   int64
	hash string
	data []byte
}

// newArchive opens an archive whose chunks go to file and tails to tails (file nil: the archive
// is disabled).
func newArchive(file *os.File, tails *tailLog) *archive {
	return &archive{file: file, tails: tails, shelves: map[string]*shelf{}, seal: map[string]struct{}{}, wake: make(chan struct{}, 1)}
}

// scratchArchiveFile is an unlinked file in dir (the system's temporary folder when "").
func scratchArchiveFile(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, "kuozheng-archive-*")
	if err != nil {
		return nil, fmt.Errorf("history archive: %w", err)
	}
	// Unlinked at once: the space is the process's only, and is freed however it ends.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("history archive: %w", err)
	}
	return f, nil
}

func (a *archive) close() {
	if a != nil && a.file != nil {
		a.file.Close()
		a.tails.close()
	}
}

// usable reports whether the archive serves histories; the caller holds a.mu.
func (a *archive) usable() bool { return a.file != nil && a.err == nil }

// fail stops the archive being used; histories are then read from the stream. The caller holds a.mu.
func (a *archive) fail(err error) {
	if a.err == nil {
		a.err = err
		slog.Error("history archive failed; histories are read from the stream instead", "err", err)
	}
}

func appendRecord(b []byte, r record) []byte {
	b = binary.AppendUvarint(b, r.seq)
	b = binary.AppendVarint(b, r.ts)
	h, err := hex.DecodeString(r.hash)
	if err != nil || len(h) != 32 {
		h = nil
	}
	b = binary.AppendUvarint(b, uint64(len(h)))
	b = append(b, h...)
	b = binary.AppendUvarint(b, uint64(len(r.data)))
	return append(b, r.data...)
}

var errCorrupt = errors.New("archive: corrupt record")

func readRecords(b []byte, out []record) ([]record, error) {
	for len(b) > 0 {
		r, rest, err := nextRecord(b)
		if err != nil {
			return out, err
		}
		out, b = append(out, r), rest
	}
	return out, nil
}

// nextRecord decodes the record b starts with, and returns it and the bytes after it; its data
// is a slice of b.
func nextRecord(b []byte) (record, []byte, error) {
	var r record
	var n int
	if r.seq, n = binary.Uvarint(b); n <= 0 {
		return r, nil, errCorrupt
	}
	b = b[n:]
	if r.ts, n = binary.Varint(b); n <= 0 {
		return r, nil, errCorrupt
	}
	b = b[n:]
	hl, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < hl {
		return r, nil, errCorrupt
	}
	r.hash = hex.EncodeToString(b[n : n+int(hl)])
	b = b[n+int(hl):]
	dl, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < dl {
		return r, nil, errCorrupt
	}
	r.data = b[n : n+int(dl)]
	return r, b[n+int(dl):], nil
}

// add appends an employer's next record (encoded by appendRecord), in stream order.
func (a *archive) add(id string, seq uint64, rec []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.usable() {
		return
	}
	s := a.shelves[id]
	if s == nil {
		s = &shelf{}
		a.shelves[strings.Clone(id)] = s // not a slice of the message's subject, which would pin it
	}
	ref, err := a.tails.append(seq, rec)
	if err != nil {
		a.fail(err)
		return
	}
	s.seq = seq
	s.tail = append(append(make([]tailRef, 0, len(s.tail)+1), s.tail...), ref)
	if len(s.tail) < chunkSize {
		return
	}
	if len(a.seal) >= sealBacklog {
		if raw, err := a.tailRecords(s.tail[:chunkSize]); err != nil {
			a.fail(err)
		} else {
			a.install(s, chunkSize, zenc.EncodeAll(raw, nil))
		}
		return
	}
	if _, queued := a.seal[id]; !queued {
		a.seal[strings.Clone(id)] = struct{}{}
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
}

// tailRecords reads tail records, concatenated; the caller holds a.mu.
func (a *archive) tailRecords(refs []tailRef) ([]byte, error) {
	var raw []byte
	for _, r := range refs {
		b, err := a.tails.read(r)
		if err != nil {
			return nil, err
		}
		raw = append(raw, b...)
	}
	return raw, nil
}

// install writes a chunk of the oldest n tail records of s, compressed in packed, and takes them
// off its tail; the caller holds a.mu.
func (a *archive) install(s *shelf, n int, packed []byte) {
	if !a.writeChunk(s, packed) {
		return
	}
	for _, r := range s.tail[:n] {
		a.tails.drop(r)
	}
	s.tail = exact(s.tail[n:])
}

// exact copies b at its exact length (nil when empty): spare capacity, from append's doubling,
// would be most of a shelf's memory.
func exact[T any](b []T) []T {
	if len(b) == 0 {
		return nil
	}
	return append(make([]T, 0, len(b)), b...)
}

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
		if dir, ok := a.writeBlob(s.dir, appendChunkRefs(nil, s.recent)); ok {
			s.dir, s.recent = dir, nil
		}
	}
	return true
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
	buf := a.packed[:0]
	buf = binary.LittleEndian.AppendUint64(buf, uint64(prev.off))
	buf = binary.LittleEndian.AppendUint32(buf, prev.n)
	buf = append(buf, 0, 0, 0, 0)
	buf = append(buf, packed...)
	crc := crc32.Update(crc32.Checksum(buf[:12], crc32c), crc32c, buf[chunkHeader:])
	binary.LittleEndian.PutUint32(buf[12:16], crc)
	a.packed = buf
	if _, err := a.file.WriteAt(buf, a.end); err != nil {
		a.fail(err)
		return chunkRef{}, false
	}
	ref := chunkRef{off: a.end, n: uint32(len(buf))}
	a.end += int64(len(buf))
	return ref, true
}

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
	raw, err := zdec.DecodeAll(packed, nil)
	if err != nil {
		return nil, chunkRef{}, fmt.Errorf("history archive: chunk at %d: %w", c.off, err)
	}
	return raw, prev, nil
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
	if _, err := a.file.ReadAt(buf, c.off); err != nil {
		return b[:start], chunkRef{}, fmt.Errorf("history archive: %w", err)
	}
	prev, err := checkBlob(buf, c)
	if err != nil {
		return b[:start], chunkRef{}, err
	}
	return append(b[:start], buf[chunkHeader:]...), prev, nil
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

// blobBuffers hold compressed chunks between their read and their decompression: a history
// reads dozens.
var blobBuffers = sync.Pool{New: func() any { return new([]byte) }}

// saveState writes a checkpoint of an employer's folded state through seq, encoded in data. It
// is kept only when the archive holds the employer's events through seq, so that a snapshot
// never names a checkpoint ahead of the events it has archived, and when it is newer than the
// one kept.
func (a *archive) saveState(id string, seq uint64, data []byte) {
	packed := zenc.EncodeAll(data, nil)
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.usable() {
		return
	}
	s := a.shelves[id]
	if s == nil || seq > s.seq || seq <= s.stateSeq {
		return
	}
	if ref, ok := a.writeBlob(chunkRef{}, packed); ok {
		s.state, s.stateSeq = ref, seq
	}
}

// loadState returns the newest checkpoint of an employer's state and the sequence it is folded
// through; nil when there is none.
func (a *archive) loadState(id string) (uint64, []byte, error) {
	a.mu.Lock()
	var ref chunkRef
	var seq uint64
	if s := a.shelves[id]; s != nil && a.usable() {
		ref, seq = s.state, s.stateSeq
	}
	a.mu.Unlock()
	if ref.n == 0 {
		return 0, nil, nil
	}
	data, _, err := a.readBlob(ref)
	if err != nil {
		return 0, nil, fmt.Errorf("checkpoint of employer %s: %w", id, err)
	}
	return seq, data, nil
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
	for _, r := range s.tail {
		if r.seq > after {
			rec, err := a.tails.read(r)
			if err != nil {
				return b, err
			}
			b = append(b, rec...)
		}
	}
	return b, nil
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
}

// readPacked reads every archived record of an employer into h, the chunks compressed; false
// when the archive does not serve histories. Decompressing is left to the reader, which so holds
// one chunk of a long history at a time. The chunks are found through the employer's directories
// (a read for every dirEvery chunks) and read at once; only chunks no directory lists (sealed by
// a build before directories) are found by following their links, one read after another.
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
	var err error
	h.tail, err = a.appendTail(h.tail, s, 0)
	a.mu.Unlock()
	if err != nil {
		return true, err
	}
	// Newest first: the chunks since the newest directory, then each directory's.
	for dir.n != 0 {
		var prev chunkRef
		start := len(h.packed)
		if h.packed, prev, err = a.appendPacked(h.packed, dir); err != nil {
			return true, err
		}
		listed := h.packed[start:]
		if len(listed)%12 != 0 {
			return true, fmt.Errorf("history archive: directory at %d: %w", dir.off, errCorrupt)
		}
		for i := len(listed) - 12; i >= 0; i -= 12 {
			refs = append(refs, chunkRef{off: int64(binary.LittleEndian.Uint64(listed[i:])), n: binary.LittleEndian.Uint32(listed[i+8:])})
		}
		h.packed = h.packed[:start]
		dir = prev
	}
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
		if _, err := a.file.ReadAt(buf, refs[i].off); err != nil {
			errs[i] = fmt.Errorf("history archive: %w", err)
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
	heap += int64(cap(a.tails.buf))
	files = a.end + int64(len(a.tails.buf))
	for _, seg := range a.tails.segs {
		files += seg.size
	}
	return heap, files
}

// sealWaiting writes the chunks of the shelves whose tails hold a chunk's worth, until none
// waits, and compacts a tail segment after each round. The sealer runs it beside the follower,
// which so neither compresses nor rewrites.
func (a *archive) sealWaiting() {
	for {
		a.compactTails()
		a.mu.Lock()
		work := a.seal
		a.seal = map[string]struct{}{}
		a.mu.Unlock()
		if len(work) == 0 {
			return
		}
		for id := range work {
			a.sealShelf(id)
		}
	}
}

// sealShelf writes an employer's chunks while its tail holds a chunk's worth. The records are
// compressed without the lock; only a seal takes records off a tail, and the follower adds after
// them, so unless a seal by the follower came first they are still the oldest once compressed.
func (a *archive) sealShelf(id string) {
	for {
		a.mu.Lock()
		s := a.shelves[id]
		if s == nil || !a.usable() || len(s.tail) < chunkSize {
			a.mu.Unlock()
			return
		}
		refs := slices.Clone(s.tail[:chunkSize])
		raw, err := a.tailRecords(refs)
		if err != nil {
			a.fail(err)
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		packed := zenc.EncodeAll(raw, nil)
		a.mu.Lock()
		if a.shelves[id] == s && len(s.tail) >= chunkSize &&
			slices.EqualFunc(s.tail[:chunkSize], refs, func(x, y tailRef) bool { return x.seq == y.seq }) {
			a.install(s, chunkSize, packed)
		}
		a.mu.Unlock()
	}
}

// compactTails copies forward the live records of the tail segment most dead, if it is mostly
// dead (they are the tails of employers with no recent event), and reports whether there was one.
// It finds them among every shelf, once a segment, so the lock is held for a moment a segment
// written.
func (a *archive) compactTails() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.tails.sparsest()
	if old != nil && a.usable() {
		for _, s := range a.shelves {
			for i, r := range s.tail {
				if r.seg != old.n {
					continue
				}
				b, err := a.tails.read(r)
				if err == nil {
					s.tail[i], err = a.tails.append(r.seq, b)
				}
				if err != nil {
					a.fail(err)
					return false
				}
				a.tails.drop(r)
			}
		}
		if a.tails.segs[old.n] == old {
			a.fail(fmt.Errorf("tail segment %d: %d records left after copying them forward: %w", old.n, old.live, errCorrupt))
			return false
		}
	}
	return old != nil && a.usable()
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
