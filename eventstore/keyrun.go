package eventstore

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"slices"
	"sort"
)

// A key run is an immutable file of idempotency-key records sorted by key digest: the part of
// the key index that lives on disk. Records have a fixed size and are grouped in blocks of one
// page, each with a CRC; the first key and the CRC of every block (the run's fences, 20 bytes a
// block, about a quarter of a byte a key) stay in memory, so a lookup reads one page of each run
// with one pread and the page cache keeps the hot ones.
//
// Layout: count records of keyRecSize bytes; then per block its first key and CRC-32C; then a
// footer of keyFooterSize bytes: magic, version, count, CRC-32C of the fences.
const (
	keyRecSize    = 48 // key digest 16, body digest 16, first and last sequence 8 each
	keyBlockRecs  = 85 // 4,080 bytes: a block is read with one page
	keyBlockSize  = keyBlockRecs * keyRecSize
	keyFenceSize  = 16 + 4
	keyFooterSize = 32
	keyRunMagic   = "KZKEYRUN"
	keyRunVersion = 1
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// errKeyRunCorrupt: a run's bytes do not match their CRC; its answers cannot be trusted.
var errKeyRunCorrupt = errors.New("idempotency index: corrupt key run")

type keyRun struct {
	f      *os.File
	name   string // file name in the store's folder; "" for an unlinked scratch file
	count  uint64
	fences []digest // first key of each block
	sums   []uint32 // CRC-32C of each block
}

func putKeyRecord(b []byte, k digest, r keyRecord) {
	copy(b[0:16], k[:])
	copy(b[16:32], r.body[:])
	binary.LittleEndian.PutUint64(b[32:40], r.first)
	binary.LittleEndian.PutUint64(b[40:48], r.last)
}

func getKeyRecord(b []byte) (digest, keyRecord) {
	var k digest
	var r keyRecord
	copy(k[:], b[0:16])
	copy(r.body[:], b[16:32])
	r.first = binary.LittleEndian.Uint64(b[32:40])
	r.last = binary.LittleEndian.Uint64(b[40:48])
	return k, r
}

// mergeKeyRecords combines two records of one key: the events of a command may be folded on
// either side of a flush, and a key could in principle be appended twice, so its first event is
// the earliest seen (with that request's body digest) and its last the latest.
func mergeKeyRecords(a, b keyRecord) keyRecord {
	if b.first < a.first {
		a.body, a.first = b.body, b.first
	}
	a.last = max(a.last, b.last)
	return a
}

// keyRunWriter writes a run from keys given in ascending order.
type keyRunWriter struct {
	f      *os.File
	name   string
	w      *bufio.Writer
	count  uint64
	block  []byte
	fences []digest
	sums   []uint32
	last   digest
	err    error
}

func newKeyRunWriter(f *os.File, name string) *keyRunWriter {
	return &keyRunWriter{f: f, name: name, w: bufio.NewWriterSize(f, 256<<10), block: make([]byte, 0, keyBlockSize)}
}

// add appends a key's record; keys must come in strictly ascending order.
func (w *keyRunWriter) add(k digest, r keyRecord) {
	if w.err != nil {
		return
	}
	if w.count > 0 && bytes.Compare(k[:], w.last[:]) <= 0 {
		w.err = fmt.Errorf("idempotency index: keys out of order writing %s", w.f.Name())
		return
	}
	if len(w.block) == 0 {
		w.fences = append(w.fences, k)
	}
	n := len(w.block)
	w.block = w.block[:n+keyRecSize]
	putKeyRecord(w.block[n:], k, r)
	w.last = k
	w.count++
	if len(w.block) == keyBlockSize {
		w.endBlock()
	}
}

func (w *keyRunWriter) endBlock() {
	w.sums = append(w.sums, crc32.Checksum(w.block, crc32c))
	if _, err := w.w.Write(w.block); err != nil && w.err == nil {
		w.err = err
	}
	w.block = w.block[:0]
}

// finish writes the fences and footer, syncs the file if asked and returns the run, open for
// lookups. On error the file is closed.
func (w *keyRunWriter) finish(sync bool) (*keyRun, error) {
	if len(w.block) > 0 {
		w.endBlock()
	}
	index := make([]byte, 0, len(w.fences)*keyFenceSize)
	for i, k := range w.fences {
		index = append(index, k[:]...)
		index = binary.LittleEndian.AppendUint32(index, w.sums[i])
	}
	footer := make([]byte, 0, keyFooterSize)
	footer = append(footer, keyRunMagic...)
	footer = binary.LittleEndian.AppendUint32(footer, keyRunVersion)
	footer = binary.LittleEndian.AppendUint64(footer, w.count)
	footer = binary.LittleEndian.AppendUint32(footer, crc32.Checksum(index, crc32c))
	footer = binary.LittleEndian.AppendUint64(footer, 0)
	if w.err == nil {
		_, w.err = w.w.Write(index)
	}
	if w.err == nil {
		_, w.err = w.w.Write(footer)
	}
	if w.err == nil {
		w.err = w.w.Flush()
	}
	if w.err == nil && sync {
		w.err = w.f.Sync()
	}
	if w.err != nil {
		w.f.Close()
		return nil, fmt.Errorf("idempotency index: write %s: %w", w.f.Name(), w.err)
	}
	return &keyRun{f: w.f, name: w.name, count: w.count, fences: w.fences, sums: w.sums}, nil
}

// openKeyRun opens a run file written by finish, checking its footer, size and fences.
func openKeyRun(f *os.File, name string) (*keyRun, error) {
	fail := func(format string, args ...any) (*keyRun, error) {
		return nil, fmt.Errorf("idempotency index: %s: %s", f.Name(), fmt.Sprintf(format, args...))
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < keyFooterSize {
		return fail("%d bytes, shorter than a footer", st.Size())
	}
	footer := make([]byte, keyFooterSize)
	if _, err := f.ReadAt(footer, st.Size()-keyFooterSize); err != nil {
		return fail("read footer: %v", err)
	}
	if string(footer[:8]) != keyRunMagic || binary.LittleEndian.Uint32(footer[8:12]) != keyRunVersion {
		return fail("not a key run of version %d", keyRunVersion)
	}
	count := binary.LittleEndian.Uint64(footer[12:20])
	blocks := (count + keyBlockRecs - 1) / keyBlockRecs
	if want := int64(count)*keyRecSize + int64(blocks)*keyFenceSize + keyFooterSize; count > 1<<40 || st.Size() != want {
		return fail("%d bytes for %d keys, want %d", st.Size(), count, want)
	}
	index := make([]byte, blocks*keyFenceSize)
	if _, err := f.ReadAt(index, int64(count)*keyRecSize); err != nil {
		return fail("read fences: %v", err)
	}
	if crc32.Checksum(index, crc32c) != binary.LittleEndian.Uint32(footer[20:24]) {
		return fail("fences do not match their CRC")
	}
	r := &keyRun{f: f, name: name, count: count, fences: make([]digest, blocks), sums: make([]uint32, blocks)}
	for i := range r.fences {
		b := index[i*keyFenceSize:]
		copy(r.fences[i][:], b[:16])
		r.sums[i] = binary.LittleEndian.Uint32(b[16:20])
	}
	return r, nil
}

// blockLen is the number of records in block i.
func (r *keyRun) blockLen(i int) int {
	if i == len(r.fences)-1 {
		if n := int(r.count % keyBlockRecs); n != 0 {
			return n
		}
	}
	return keyBlockRecs
}

// get looks a key up with one read of the block that would hold it; buf has keyBlockSize bytes.
func (r *keyRun) get(k digest, buf []byte) (keyRecord, bool, error) {
	i := sort.Search(len(r.fences), func(i int) bool { return bytes.Compare(r.fences[i][:], k[:]) > 0 }) - 1
	if i < 0 {
		return keyRecord{}, false, nil
	}
	block := buf[:r.blockLen(i)*keyRecSize]
	if _, err := r.f.ReadAt(block, int64(i)*keyBlockSize); err != nil {
		return keyRecord{}, false, fmt.Errorf("idempotency index: read %s: %w", r.f.Name(), err)
	}
	if crc32.Checksum(block, crc32c) != r.sums[i] {
		return keyRecord{}, false, fmt.Errorf("%w: %s block %d", errKeyRunCorrupt, r.f.Name(), i)
	}
	n := len(block) / keyRecSize
	j := sort.Search(n, func(j int) bool { return bytes.Compare(block[j*keyRecSize:j*keyRecSize+16], k[:]) >= 0 })
	if j == n || !bytes.Equal(block[j*keyRecSize:j*keyRecSize+16], k[:]) {
		return keyRecord{}, false, nil
	}
	_, rec := getKeyRecord(block[j*keyRecSize:])
	return rec, true, nil
}

// keyRunIter reads a run's records in order, a few blocks a read.
type keyRunIter struct {
	r     *keyRun
	block int // next block to read
	buf   []byte
	rest  []byte
}

const keyIterBlocks = 32

func (r *keyRun) iter() *keyRunIter {
	return &keyRunIter{r: r, buf: make([]byte, keyIterBlocks*keyBlockSize)}
}

func (it *keyRunIter) next() (digest, keyRecord, bool, error) {
	if len(it.rest) == 0 {
		if it.block == len(it.r.fences) {
			return digest{}, keyRecord{}, false, nil
		}
		b, bad, err := it.r.readBlocks(it.block, it.buf)
		if err != nil {
			return digest{}, keyRecord{}, false, err
		}
		if len(bad) > 0 {
			return digest{}, keyRecord{}, false, fmt.Errorf("%w: %s block %d", errKeyRunCorrupt, it.r.f.Name(), bad[0])
		}
		it.block += min(keyIterBlocks, len(it.r.fences)-it.block)
		it.rest = b
	}
	k, rec := getKeyRecord(it.rest)
	it.rest = it.rest[keyRecSize:]
	return k, rec, true, nil
}

// readBlocks reads keyIterBlocks blocks of r at most, from block first, into buf (of
// keyIterBlocks*keyBlockSize bytes), and returns their bytes and the numbers of those whose bytes
// do not match their CRC.
func (r *keyRun) readBlocks(first int, buf []byte) (b []byte, bad []int, err error) {
	nb := min(keyIterBlocks, len(r.fences)-first)
	b = buf[:(nb-1)*keyBlockSize+r.blockLen(first+nb-1)*keyRecSize]
	if _, err := r.f.ReadAt(b, int64(first)*keyBlockSize); err != nil {
		return nil, nil, fmt.Errorf("idempotency index: read %s: %w", r.f.Name(), err)
	}
	for i := range nb {
		if crc32.Checksum(b[i*keyBlockSize:min(len(b), (i+1)*keyBlockSize)], crc32c) != r.sums[first+i] {
			bad = append(bad, first+i)
		}
	}
	return b, bad, nil
}

// mergeKeyRuns writes the union of runs to w, merging the records of a key found in several.
func mergeKeyRuns(w *keyRunWriter, runs []*keyRun) error {
	type head struct {
		it  *keyRunIter
		k   digest
		rec keyRecord
	}
	var heads []*head
	for _, r := range runs {
		h := &head{it: r.iter()}
		k, rec, ok, err := h.it.next()
		if err != nil {
			return err
		}
		if ok {
			h.k, h.rec = k, rec
			heads = append(heads, h)
		}
	}
	for len(heads) > 0 {
		// Few runs are merged at once: a linear scan for the smallest key is enough.
		low := heads[0].k
		for _, h := range heads[1:] {
			if bytes.Compare(h.k[:], low[:]) < 0 {
				low = h.k
			}
		}
		var rec keyRecord
		found := false
		for i := 0; i < len(heads); {
			h := heads[i]
			if h.k != low {
				i++
				continue
			}
			if found {
				rec = mergeKeyRecords(rec, h.rec)
			} else {
				rec, found = h.rec, true
			}
			k, next, ok, err := h.it.next()
			if err != nil {
				return err
			}
			if !ok {
				heads = slices.Delete(heads, i, i+1)
				continue
			}
			h.k, h.rec = k, next
			i++
		}
		w.add(low, rec)
	}
	return nil
}
