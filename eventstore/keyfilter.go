package eventstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
)

// keyFilter is a Bloom filter of a fixed size over every key the index holds, so that looking up
// a key it does not hold (a new command's, the usual case) reads no run: each run costs a read
// of a page, a system call, and there are several. Its size does not grow with the keys; its
// false positives do: about 1 in 100,000 at a million keys, 4% at ten million. A key is only
// ever added, so a filter saved after a snapshot's runs holds all their keys.
type keyFilter struct {
	words []uint64
}

const (
	keyFilterBytes  = 8 << 20 // 2^26 bits
	keyFilterHashes = 4
	keyFilterFile   = "keys.filter"
)

func newKeyFilter() *keyFilter { return &keyFilter{words: make([]uint64, keyFilterBytes/8)} }

// bits are the filter's bits for k: the digest is already a hash, so its halves seed them.
func (f *keyFilter) bits(k digest, each func(word int, mask uint64) bool) bool {
	h1, h2 := binary.LittleEndian.Uint64(k[0:8]), binary.LittleEndian.Uint64(k[8:16])|1
	for i := range uint64(keyFilterHashes) {
		b := (h1 + i*h2) & (keyFilterBytes*8 - 1)
		if !each(int(b/64), 1<<(b%64)) {
			return false
		}
	}
	return true
}

func (f *keyFilter) add(k digest) {
	f.bits(k, func(w int, m uint64) bool { f.words[w] |= m; return true })
}

// mayHold is false when k was never added.
func (f *keyFilter) mayHold(k digest) bool {
	return f.bits(k, func(w int, m uint64) bool { return f.words[w]&m != 0 })
}

// encode is the filter's file: its words, then their CRC-32C.
func (f *keyFilter) encode() []byte {
	b := make([]byte, 0, keyFilterBytes+4)
	for _, w := range f.words {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crc32c))
}

// readKeyFilter reads a filter file written by encode.
func readKeyFilter(path string) (*keyFilter, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) != keyFilterBytes+4 || crc32.Checksum(b[:keyFilterBytes], crc32c) != binary.LittleEndian.Uint32(b[keyFilterBytes:]) {
		return nil, fmt.Errorf("%s: %w", path, errors.New("not a key filter of this size, or damaged"))
	}
	f := &keyFilter{words: make([]uint64, keyFilterBytes/8)}
	for i := range f.words {
		f.words[i] = binary.LittleEndian.Uint64(b[i*8:])
	}
	return f, nil
}
