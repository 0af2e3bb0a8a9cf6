package eventstore

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kuozheng/kuozheng/domain"
)

// archive keeps every employer's stored events grouped by employer, so that an auditor's history
// or a fold of an employer out of the write side's cache is read without going back to the file
// store (whose blocks hold the events of thousands of employers, so one employer's history would
// touch dozens of blocks). The follower fills it from the messages it already receives.
//
// Every chunkSize records of an employer are compressed, by the sealer beside the follower, into
// a chunk appended to the archive's file; each chunk's header links to the employer's chunk
// before it, and every dirEvery chunks a directory lists them and those before (up to dirMax),
// so that a history finds its chunks in one read and reads them at once. The records after an
// employer's newest chunk (its open tail) are in the tail log (tails.go), on disk too. Memory
// holds, per employer, where its newest chunk and directory, the chunks sealed since and its
// tail's records are: O(1) an employer (at most chunkSize-1 tail references, more only while a
// seal waits, and dirEvery-1 chunks), nothing an event.
//
// The chunk file also holds checkpoints of employers' folded write-side state (checkpoint.go),
// so that folding an employer out of the cache reads its state and the events after it, not its
// whole history; the shelf knows its newest.
//
// With a folder the files persist and the snapshot records the chunk file's length, the tail
// log's segments and every shelf; without one they are unlinked scratch files rebuilt at every
// start.
type archive struct {
	mu   sync.Mutex
	file *os.File // the chunks; nil when the archive is disabled
	end  int64    // bytes of the chunk file, written or in wbuf
	// wbuf holds the newest chunks, from flushed on, until it holds chunkBufferSize: a chunk
	// is a few KiB, and a write each was a tenth of a first start. Readers outside the lock
	// read the file below flushed, and copy from wbuf under the lock above it.
	wbuf    []byte
	flushed atomic.Int64
	err     error // the first write error: the archive stops being used after it
	closed  bool
	tails   *tailLog
	shelves map[string]*shelf
	seal    map[string]struct{} // shelves whose tail holds a chunk's worth: the sealer's work
	wake    chan struct{}       // tells the sealer there is work
	// raw and compressed are reused for the chunks sealed under the lock (sealHere).
	raw, compressed []byte
	// sealMu makes sealWaiting one at a time (the sealer's, a test's SealNow) and guards what
	// it keeps from round to round: its buffers, and the set it swaps with seal.
	sealMu              sync.Mutex
	sealRaw, sealPacked []byte
	sealSpare           map[string]struct{}
	log                 *slog.Logger // the store's: its handler and format
}

// shelf is one employer's events: a chain of chunks in the file, then the open tail.
type shelf struct {
	last     chunkRef  // newest chunk; n is 0 while there is none
	seq      uint64    // sequence of the newest record added
	tail     []tailRef // the records after the newest chunk, oldest first, at exact length
	state    chunkRef  // newest checkpoint of the employer's folded state; n is 0 while there is none
	stateSeq uint64    // the sequence state is folded through
	// dir is the newest directory of the employer's chunks (n 0: none), recent the chunks sealed
	// since, oldest first (fewer than dirEvery). A directory lists up to dirMax chunks and links
	// to the directory before the first of them, so that a history learns where all its chunks
	// are in one read (one more for every dirMax chunks) and reads them at once, instead of one
	// chunk after another down their links.
	dir    chunkRef
	recent []chunkRef
}

// chunkRef is where a chunk is in the archive's file: its header, then its compressed records.
type chunkRef struct {
	off int64
	n   uint32
}

const (
	// dirEvery is how often a directory is written: every dirEvery chunks. It lists them and
	// those of the directory before, up to dirMax (6 KiB), and links to the one before that.
	dirEvery  = 8
	dirMax    = 512
	chunkSize = 8
	// A chunk's header: the previous chunk of the employer (offset, length) and the CRC-32C of
	// those 12 bytes and the compressed records.
	chunkHeader = 16
	// chunkBufferSize is how much of the chunk file is written at once.
	chunkBufferSize = 256 << 10
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
func newArchive(file *os.File, tails *tailLog, log *slog.Logger) *archive {
	return &archive{file: file, tails: tails, shelves: map[string]*shelf{}, seal: map[string]struct{}{}, wake: make(chan struct{}, 1), log: log}
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

// close closes the files and frees the tail log's ring; the archive then serves nothing.
func (a *archive) close() {
	if a == nil || a.file == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.closed {
		if a.usable() {
			a.flushChunks()
		}
		a.closed = true
		a.file.Close()
		a.tails.close()
	}
}

// usable reports whether the archive serves histories; the caller holds a.mu.
func (a *archive) usable() bool { return a.file != nil && a.err == nil && !a.closed }

// fail stops the archive being used; histories are then read from the stream. The caller holds a.mu.
func (a *archive) fail(err error) {
	if a.err == nil {
		a.err = err
		a.log.Error("history archive failed; histories are read from the stream instead", "err", err)
	}
}

// recordOverhead bounds what a record adds to its data: sequence, time, hash and their lengths.
const recordOverhead = 3*binary.MaxVarintLen64 + 1 + 32

// appendRecord appends r, encoded, to b; a hash that is not 32 bytes in hex is left out.
func appendRecord(b []byte, r record) []byte {
	b = slices.Grow(b, recordOverhead+len(r.data))
	b = binary.AppendUvarint(b, r.seq)
	b = binary.AppendVarint(b, r.ts)
	b = appendHash(b, r.hash)
	b = binary.AppendUvarint(b, uint64(len(r.data)))
	return append(b, r.data...)
}

// appendHash appends a SHA-256 hash given in hex as its length and bytes, or a zero length when
// it is not one.
func appendHash(b []byte, h string) []byte {
	var sum [32]byte
	if !domain.DecodeHex(sum[:], h) {
		return append(b, 0)
	}
	return append(append(b, byte(len(sum))), sum[:]...)
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

// add appends an employer's next record, in stream order.
func (a *archive) add(id string, r record) {
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
	ref, err := a.tails.appendNew(r)
	if err != nil {
		a.fail(err)
		return
	}
	s.seq = r.seq
	if s.tail == nil {
		// A chunk's worth at once: the tail is filled and emptied in place from then on.
		s.tail = make([]tailRef, 0, chunkSize)
	}
	s.tail = append(s.tail, ref)
	if len(s.tail) < chunkSize {
		return
	}
	if len(a.seal) >= sealBacklog {
		a.sealHere(s, chunkSize)
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

// tailRecords appends the first n records of s's tail, concatenated, to b[:0]; the caller holds
// a.mu.
func (a *archive) tailRecords(b []byte, s *shelf, n int) ([]byte, error) {
	b = b[:0]
	for _, r := range s.tail[:n] {
		var err error
		if b, err = a.tails.appendRecord(b, r); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// sealHere writes a chunk of the oldest n records of s's tail, on the caller's goroutine; the
// caller holds a.mu.
func (a *archive) sealHere(s *shelf, n int) {
	var err error
	if a.raw, err = a.tailRecords(a.raw, s, n); err != nil {
		a.fail(err)
		return
	}
	a.compressed = pack(a.compressed, a.raw)
	a.install(s, n, a.compressed)
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
	// Kept in place (only this package reads a tail, under the lock), unless it grew while
	// seals waited: then back to a chunk's worth.
	s.tail = s.tail[:copy(s.tail, s.tail[n:])]
	if cap(s.tail) > chunkSize && len(s.tail) <= chunkSize {
		s.tail = append(make([]tailRef, 0, chunkSize), s.tail...)
	}
}

// exact copies b at its exact length (nil when empty): spare capacity, from append's doubling,
// would be most of a restored shelf's memory.
func exact[T any](b []T) []T {
	if len(b) == 0 {
		return nil
	}
	return append(make([]T, 0, len(b)), b...)
}

// blobBuffers hold compressed chunks between their read and their decompression: a history
// reads dozens.
var blobBuffers = sync.Pool{New: func() any { return new([]byte) }}

// saveState writes a checkpoint of an employer's folded state through seq, encoded in data. It
// is kept only when the archive holds the employer's events through seq, so that a snapshot
// never names a checkpoint ahead of the events it has archived, and when it is newer than the
// one kept.
func (a *archive) saveState(id string, seq uint64, data []byte) {
	packed := pack(nil, data)
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
