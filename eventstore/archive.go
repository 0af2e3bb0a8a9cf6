package eventstore

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Hashes and ids are random hex, which only an entropy coder shrinks: zstd keeps a chunk at about
// a third of its size where s2 kept most of it.
var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
)

// archive keeps every employer's stored events in memory, compressed in chunks, so that an
// auditor's history is read without going back to the file store (whose blocks hold the events of
// thousands of employers, so one employer's history would touch dozens of blocks). The follower
// fills it from the messages it already receives; it is bounded by a byte budget, and an employer
// evicted from it is read by direct gets instead.
type archive struct {
	mu      sync.Mutex
	budget  int64
	size    int64
	shelves map[string]*shelf
}

// shelf is one employer's events: compressed chunks of chunkSize records, then the open tail.
type shelf struct {
	chunks []chunk
	tail   []byte // encoded records not yet compressed
	count  int    // records in tail
}

type chunk struct {
	first, last uint64 // sequences of the first and last record
	data        []byte // zstd-compressed records
}

const chunkSize = 16

// record is one stored message as the archive keeps it.
type record struct {
	seq  uint64
	ts   int64
	hash string
	data []byte
}

func newArchive(budget int64) *archive {
	return &archive{budget: budget, shelves: map[string]*shelf{}}
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
	if a == nil || a.budget <= 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.shelves[id]
	if s == nil {
		if a.size > a.budget {
			return // full: this employer is read by direct gets
		}
		s = &shelf{}
		a.shelves[id] = s
	}
	before := len(s.tail)
	s.tail = appendRecord(s.tail, r)
	s.count++
	a.size += int64(len(s.tail) - before)
	if s.count == chunkSize {
		recs, _ := readRecords(s.tail, nil)
		c := chunk{first: recs[0].seq, last: recs[len(recs)-1].seq, data: zenc.EncodeAll(s.tail, nil)}
		s.chunks = append(s.chunks, c)
		a.size += int64(len(c.data)) - int64(len(s.tail))
		s.tail, s.count = nil, 0
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
		tail = append([]byte(nil), s.tail...)
	}
	a.mu.Unlock()
	var out []record
	for _, c := range chunks {
		raw, err := zdec.DecodeAll(c.data, nil)
		if err != nil {
			return nil, err
		}
		if out, err = readRecords(raw, out); err != nil {
			return nil, err
		}
	}
	return readRecords(tail, out)
}

// bytes is the archive's size in memory (compressed chunks and open tails).
func (a *archive) bytes() int64 {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.size
}
