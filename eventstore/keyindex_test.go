package eventstore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func randomDigest(r *rand.Rand) digest {
	var d digest
	for i := range d {
		d[i] = byte(r.Uint32())
	}
	return d
}

// checkKeys looks every key of want up in x, and keys never added.
func checkKeys(t *testing.T, x *keyIndex, want map[digest]keyRecord, r *rand.Rand) {
	t.Helper()
	for k, w := range want {
		got, ok, err := x.get(k)
		if err != nil || !ok || got != w {
			t.Fatalf("key %x: %+v %v %v, want %+v", k[:4], got, ok, err, w)
		}
	}
	for range 1000 {
		if _, ok, err := x.get(randomDigest(r)); ok || err != nil {
			t.Fatalf("a key never added was found (%v)", err)
		}
	}
}

func TestTheKeyIndexAnswersEveryKeyFromItsMemtableFrozenMemtablesAndRuns(t *testing.T) {
	for _, dir := range []string{"folder", "scratch"} {
		t.Run(dir, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var x *keyIndex
			if dir == "folder" {
				x = newKeyIndex(t.TempDir(), "", 1000)
			} else {
				x = newKeyIndex("", t.TempDir(), 1000)
			}
			defer x.close()
			want := map[digest]keyRecord{}
			seq := uint64(0)
			// 23 memtables: runs are merged into tiers on the way, and a few keys stay in memory.
			for range 23*1000 + 400 {
				k, body := randomDigest(r), randomDigest(r)
				seq++
				x.add(k, body, seq)
				want[k] = keyRecord{body: body, first: seq, last: seq}
				if len(x.frozen) > 0 && r.IntN(2) == 0 {
					if err := x.flush(); err != nil {
						t.Fatal(err)
					}
				}
			}
			checkKeys(t, x, want, r)
			if err := x.flush(); err != nil {
				t.Fatal(err)
			}
			checkKeys(t, x, want, r)
			if mem, runs := x.keys(); mem != 400 || runs != 23*1000 || len(x.runs) > 9 {
				t.Fatalf("%d keys in memory, %d in %d runs; want 400 and 23,000 in at most 9 runs", mem, runs, len(x.runs))
			}
		})
	}
}

// A command's events share its key; a flush may come between two of them, and the index must
// still answer the command's first and last sequences, before and after its runs are merged.
func TestAKeyFoldedOnBothSidesOfAFlushKeepsItsFirstAndLastSequence(t *testing.T) {
	x := newKeyIndex(t.TempDir(), "", 4)
	defer x.close()
	k, body := digestOf("k"), digestOf("body")
	x.add(k, body, 10)
	x.freeze()
	if err := x.flush(); err != nil {
		t.Fatal(err)
	}
	x.add(k, body, 11)
	x.freeze()
	x.add(k, body, 12)
	want := keyRecord{body: body, first: 10, last: 12}
	if got, ok, err := x.get(k); err != nil || !ok || got != want {
		t.Fatalf("across memtable, frozen memtable and run: %+v %v %v, want %+v", got, ok, err, want)
	}
	for range 3 {
		x.freeze()
		if err := x.flush(); err != nil {
			t.Fatal(err)
		}
		x.add(digestOf(fmt.Sprint(len(x.runs))), body, 20)
	}
	if got, ok, err := x.get(k); err != nil || !ok || got != want || len(x.runs) > 2 {
		t.Fatalf("after merging %d runs: %+v %v %v, want %+v", len(x.runs), got, ok, err, want)
	}
}

func TestAKeyRunWhoseBytesChangedIsAnErrorNotAnAnswer(t *testing.T) {
	dir := t.TempDir()
	x := newKeyIndex(dir, "", 100)
	k := digestOf("k")
	x.add(k, digestOf("b"), 1)
	for i := range 99 {
		x.add(digestOf(fmt.Sprint(i)), digestOf("b"), uint64(i+2))
	}
	if err := x.flush(); err != nil {
		t.Fatal(err)
	}
	refs := x.manifest()
	x.close()
	path := filepath.Join(dir, refs[0].name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		damage func([]byte) []byte
		open   bool // the run opens, and its damage shows when its keys are read
	}{
		{"a record's byte flipped", func(b []byte) []byte { b[40] ^= 1; return b }, true},
		{"truncated", func(b []byte) []byte { return b[:len(b)-7] }, false},
		{"a fence's byte flipped", func(b []byte) []byte { b[100*keyRecSize+3] ^= 1; return b }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(path, c.damage(append([]byte(nil), b...)), 0o640); err != nil {
				t.Fatal(err)
			}
			y := newKeyIndex(dir, "", 100)
			defer y.close()
			err := y.load(refs) // with no filter saved, it reads every key to make one
			if !c.open {
				if err == nil {
					t.Fatal("a damaged run opened")
				}
				return
			}
			if errors.Is(err, errKeyRunCorrupt) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range 99 {
				if _, _, err := y.get(digestOf(fmt.Sprint(i))); errors.Is(err, errKeyRunCorrupt) {
					return
				}
			}
			t.Fatal("no lookup reported the damaged block")
		})
	}
}

// BenchmarkKeyIndexGet looks keys up in an index of a million keys (runs merged into tiers, a
// memtable of the last ones): keys it holds (a page read from each run) and keys it does not, as
// a new command's are (the filter answers).
func BenchmarkKeyIndexGet(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	x := newKeyIndex("", b.TempDir(), keyMemMax)
	defer x.close()
	held := make([]digest, 0, 1_000_000)
	for i := range 1_000_000 {
		k := randomDigest(r)
		held = append(held, k)
		x.add(k, k, uint64(i+1))
		if len(x.frozen) > 0 {
			if err := x.flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		name string
		key  func(i int) digest
	}{
		{"held", func(i int) digest { return held[i%len(held)] }},
		{"new", func(int) digest { return randomDigest(r) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, _, err := x.get(c.key(i)); err != nil {
					b.Fatal(err)
				}
				i += 7919
			}
		})
	}
}
