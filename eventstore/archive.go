package eventstore

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Hashes and ids are random hex, which only an entropy coder shrinks: zstd keeps a chunk at about
// a third of its size where s2 kept most of it.
var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
)

// archive keeps every employer's stored events grouped by employer, so that an auditor's history
// is read without going back to the file store (whose blocks hold the events of thousands of
// employers, so one employer's history would touch dozens of blocks). The follower fills it from
// the messages it already receives. Full chunks of an employer's records are compressed and
// written to an unlinked scratch file, read back through the page cache; only the open tails stay
// on the heap, bounded by a byte budget, and an employer left out is read by direct gets instead.
// The file is rebuilt at every start and vanishes when the process ends.
type archive struct {
	mu      sync.Mutex
	budget  int64
	size    int64 // bytes of open tails on the heap
	file    *os.File
	end     int64 // bytes written to file
	err     error // the first write error; the archive stops growing after it
	shelves map[string]*shelf
	scratch []byte // reused for building records and chunks
	packed  []byte
}

// shelf is one employer's events: compressed chunks of chunkSize records, then the open tail.
type shelf struct {
	chunks []chunk
	tail   [][]byte // encoded records not yet compressed
}

type chunk struct {
	off int64 // where the zstd-compressed records are in the file
	n   int32 // and their length
}

const chunkSize = 8

// record is one stored message as the archive keeps it.
type record struct {
	seq  uint64
	ts   int64
	hash string
	data []byte
}

// newArchive opens an archive whose chunks go to a scratch file in dir (the system's temporary
// folder when dir is "").
func newArchive(budget int64, dir string) (*archive, error) {
	a := &archive{budget: budget, shelves: map[string]*shelf{}}
	if budget <= 0 {
		return a, nil
	}
	f, err := os.CreateTemp(dir, "kuozheng-archive-*")
	if err != nil {
		return nil, fmt.Errorf("history archive: %w", err)
	}
	// Unlinked at once: the space is the process's only, and is freed however it ends.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("history archive: %w", err)
	}
	a.file = f
	return a, nil
}

func (a *archive) close() {
	if a != nil && a.file != nil {
		a.file.Close()
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
		var r record
		var n int
		if r.seq, n = binary.Uvarint(b); n <= 0 {
			return out, errCorrupt
		}
		b = b[n:]
		if r.ts, n = binary.Varint(b); n <= 0 {
			return out, errCorrupt
		}
		b = b[n:]
		hl, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < hl {
			return out, errCorrupt
		}
		r.hash = hex.EncodeToString(b[n : n+int(hl)])
		b = b[n+int(hl):]
		dl, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < dl {
			return out, errCorrupt
		}
		r.data = b[n : n+int(dl)]
		b = b[n+int(dl):]
		out = append(out, r)
	}
	return out, nil
}

// add appends an employer's next record (in stream order).
func (a *archive) add(id string, r record) {
	if a == nil || a.file == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.shelves[id]
	if s == nil {
		if a.size > a.budget || a.err != nil {
			return // full: this employer is read by direct gets
		}
		s = &shelf{}
		a.shelves[id] = s
	}
	// Records and chunks are kept at their exact length: spare capacity, from append's doubling
	// or from the encoder sizing its output for its input, was half the archive's memory.
	a.scratch = appendRecord(a.scratch[:0], r)
	rec := append([]byte(nil), a.scratch...)
	s.tail = append(s.tail, rec)
	a.size += int64(len(rec))
	if len(s.tail) == chunkSize {
		raw := a.scratch[:0]
		for _, t := range s.tail {
			raw = append(raw, t...)
		}
		a.packed = zenc.EncodeAll(raw, a.packed[:0])
		a.scratch = raw
		if _, err := a.file.WriteAt(a.packed, a.end); err != nil {
			// The records stay in the tail, which History reads as well.
			if a.err == nil {
				a.err = err
				slog.Error("history archive: write failed; histories are read from the stream instead", "err", err)
			}
			return
		}
		s.chunks = append(s.chunks, chunk{off: a.end, n: int32(len(a.packed))})
		a.end += int64(len(a.packed))
		a.size -= int64(len(raw))
		s.tail = nil
	}
}

// records returns an employer's archived records, oldest first.
func (a *archive) records(id string) ([]record, error) {
	if a == nil {
		return nil, nil
	}
	a.mu.Lock()
	s := a.shelves[id]
	var chunks []chunk
	var tail []byte
	if s != nil {
		chunks = append(chunks, s.chunks...)
		for _, t := range s.tail {
			tail = append(tail, t...)
		}
	}
	a.mu.Unlock()
	var out []record
	var packed []byte
	for _, c := range chunks {
		packed = slices.Grow(packed[:0], int(c.n))[:c.n]
		if _, err := a.file.ReadAt(packed, c.off); err != nil {
			return nil, fmt.Errorf("history archive: %w", err)
		}
		raw, err := zdec.DecodeAll(packed, nil)
		if err != nil {
			return nil, err
		}
		if out, err = readRecords(raw, out); err != nil {
			return nil, err
		}
	}
	return readRecords(tail, out)
}

// bytes is the archive's size on the heap (open tails) and in its file (compressed chunks).
func (a *archive) bytes() (heap, file int64) {
	if a == nil {
		return 0, 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.size, a.end
}
