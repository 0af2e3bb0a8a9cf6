package eventstore

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// An employer's records read back are the ones added, in order, wherever the archive keeps
// them at the time: chunks in its file or in the write buffer before it, tail records in the
// tail log's write buffer, its ring of recent buffers or only on disk (no ring, or evicted from
// a small one; an employer's one record there read alone, several at once), and records larger
// than a ring slot.
func TestRecordsReadBackAlikeFromTheFileTheBuffersAndTheRing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		slots int
	}{
		{"no ring: every tail record read from its segment", 0},
		{"a ring of two buffers: most tail records evicted to disk", 2},
		{"the default ring: tail records copied from memory", tailRingSlots},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := scratchArchive(t)
			a.tails.segSize = 1 << 20 // segments rotate, and sparse ones are compacted
			a.tails.mapRing(tc.slots)
			rng := rand.New(rand.NewPCG(1, uint64(tc.slots)))
			added := map[string][]record{}
			for seq := uint64(1); seq <= 3000; seq++ {
				// A few busy employers and many that have one event now and then, so that tails
				// are left behind in old segments.
				id := fmt.Sprintf("e%d", rng.IntN(8))
				if rng.IntN(4) == 0 {
					id = fmt.Sprintf("quiet%d", rng.IntN(200))
				}
				size := 200 + rng.IntN(600)
				if seq%500 == 0 {
					size = tailSlotSize + 1000 // outgrows a ring slot
				}
				r := record{seq: seq, ts: int64(seq), hash: fmt.Sprintf("%064x", seq), data: bytes.Repeat([]byte{byte(seq)}, size)}
				a.add(id, r)
				added[id] = append(added[id], r)
				if seq%97 == 0 {
					a.sealWaiting()
				}
			}
			a.mu.Lock()
			flushed, end, kept, segs := a.flushed.Load(), a.end, len(a.tails.recent), len(a.tails.segs)
			a.mu.Unlock()
			if flushed == 0 || flushed == end {
				t.Fatalf("%d of the chunk file's %d bytes written: the test needs chunks in the file and in its buffer", flushed, end)
			}
			if segs < 2 {
				t.Fatalf("%d tail segments: the test needs several", segs)
			}
			// At most its slots but the write buffer's; some, if it has any.
			if kept > max(tc.slots-1, 0) || (tc.slots > 0 && kept == 0) {
				t.Fatalf("the ring keeps %d buffers in %d slots", kept, tc.slots)
			}
			tails := map[int]int{} // employers by how many tail records they have (1 and more are read differently)
			for id, want := range added {
				a.mu.Lock()
				tails[min(len(a.shelves[id].tail), 2)]++
				a.mu.Unlock()
				got, ok, err := a.read(id, 0)
				if !ok || err != nil {
					t.Fatalf("read %s: %v, %v", id, ok, err)
				}
				if !sameRecords(got.recs, want) {
					t.Fatalf("read %s: %d records differ from the %d added", id, len(got.recs), len(want))
				}
				var h packedHistory
				if ok, err := a.readPacked(id, &h); !ok || err != nil {
					t.Fatalf("readPacked %s: %v, %v", id, ok, err)
				}
				var recs []record
				for _, sp := range slices.Backward(h.spans) {
					raw, err := unpack(nil, h.packed[sp[0]:sp[1]])
					if err == nil {
						recs, err = readRecords(raw, recs)
					}
					if err != nil {
						t.Fatalf("readPacked %s: %v", id, err)
					}
				}
				if recs, err = readRecords(h.tail, recs); err != nil || !sameRecords(recs, want) {
					t.Fatalf("readPacked %s: %d records (%v) differ from the %d added", id, len(recs), err, len(want))
				}
			}
			if tails[1] == 0 || tails[2] == 0 {
				t.Fatalf("employers by tail records (none, one, more): %v; the test needs some with one and some with more", tails)
			}
		})
	}
}

func sameRecords(got, want []record) bool {
	return slices.EqualFunc(got, want, func(x, y record) bool {
		return x.seq == y.seq && x.ts == y.ts && x.hash == y.hash && bytes.Equal(x.data, y.data)
	})
}
