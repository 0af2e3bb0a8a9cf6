package eventstore

import (
	"bytes"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// keyIndex remembers every idempotency key the ledger ever recorded, in memory bounded whatever
// their number: the newest keys are in a map (the memtable); a full memtable is frozen, and the
// store's keeper writes it as a sorted run file (keyrun.go) and merges runs of about the same
// size four at a time, so a lookup reads few of them, and none for a key the filter (keyfilter.go)
// says was never added. A lookup merges what the memtable, the frozen memtables and every run say
// of a key (mergeKeyRecords), so a command whose events were folded on both sides of a flush
// keeps its first and last sequences.
//
// With a folder the runs are files in it, named by the store's snapshot, which lists the runs
// holding every key folded up to its sequence; without one they are unlinked scratch files.
type keyIndex struct {
	mu     sync.RWMutex
	mem    map[digest]keyRecord
	frozen []map[digest]keyRecord // full memtables not yet in a run, oldest first
	spare  map[digest]keyRecord   // the map of the memtable last written as a run, emptied
	runs   []*keyRun
	filter *keyFilter // every key added since the first run was written; nil before
	memMax int
	wake   chan struct{} // tells the keeper that a memtable froze

	// Used by the keeper alone.
	dir      string // where run files go; "" for unlinked scratch files in scratch
	scratch  string
	next     uint64   // number of the next run file
	obsolete []string // run files merged away, deleted once a snapshot no longer names them

	bufs sync.Pool // *[]byte block buffers for lookups
}

// keyMemMax is how many keys the memtable holds before it is frozen: 3.5 MiB of map when full
// (about 110 bytes a key), as much again while a frozen one is written.
const keyMemMax = 32768

func newKeyIndex(dir, scratch string, memMax int) *keyIndex {
	return &keyIndex{
		mem: map[digest]keyRecord{}, memMax: memMax, wake: make(chan struct{}, 1), dir: dir, scratch: scratch, next: 1,
		bufs: sync.Pool{New: func() any { b := make([]byte, keyBlockSize); return &b }},
	}
}

// add records that the event at seq carries key k, sent with a request whose body digest is body.
func (x *keyIndex) add(k, body digest, seq uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	r := keyRecord{body: body, first: seq, last: seq}
	if old, ok := x.mem[k]; ok {
		r = mergeKeyRecords(old, r)
	}
	x.mem[k] = r
	if x.filter != nil {
		x.filter.add(k)
	}
	if len(x.mem) >= x.memMax {
		x.freezeLocked()
	}
}

// freeze sends the memtable to be written as a run, if it holds anything.
func (x *keyIndex) freeze() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.freezeLocked()
}

func (x *keyIndex) freezeLocked() {
	if len(x.mem) == 0 {
		return
	}
	x.frozen = append(x.frozen, x.mem)
	// The map of a memtable written as a run, else one grown as keys come: a map sized for a
	// full one would double the index's memory.
	x.mem, x.spare = x.spare, nil
	if x.mem == nil {
		x.mem = map[digest]keyRecord{}
	}
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// get returns what the index knows of key k.
func (x *keyIndex) get(k digest) (keyRecord, bool, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var rec keyRecord
	found := false
	take := func(r keyRecord) {
		if found {
			rec = mergeKeyRecords(rec, r)
		} else {
			rec, found = r, true
		}
	}
	if r, ok := x.mem[k]; ok {
		take(r)
	}
	for _, m := range x.frozen {
		if r, ok := m[k]; ok {
			take(r)
		}
	}
	if len(x.runs) > 0 && (x.filter == nil || x.filter.mayHold(k)) {
		buf := x.bufs.Get().(*[]byte)
		defer x.bufs.Put(buf)
		for _, run := range x.runs {
			r, ok, err := run.get(k, *buf)
			if err != nil {
				return keyRecord{}, false, err
			}
			if ok {
				take(r)
			}
		}
	}
	return rec, found, nil
}

// flush writes every frozen memtable as a run, merging runs as they accumulate. Keeper only.
func (x *keyIndex) flush() error {
	for {
		x.mu.RLock()
		var m map[digest]keyRecord
		if len(x.frozen) > 0 {
			m = x.frozen[0]
		}
		x.mu.RUnlock()
		if m == nil {
			return nil
		}
		x.mu.Lock()
		if x.filter == nil {
			// Until now every key was in memory; from now on the filter holds them all.
			x.filter = newKeyFilter()
			for k := range x.mem {
				x.filter.add(k)
			}
			for _, f := range x.frozen {
				for k := range f {
					x.filter.add(k)
				}
			}
		}
		x.mu.Unlock()
		keys := make([]digest, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b digest) int { return bytes.Compare(a[:], b[:]) })
		w, err := x.create()
		if err != nil {
			return err
		}
		for _, k := range keys {
			w.add(k, m[k])
		}
		run, err := w.finish(x.dir != "")
		if err != nil {
			return err
		}
		x.mu.Lock()
		x.runs = append(x.runs, run)
		x.frozen = x.frozen[1:]
		clear(m) // no lookup holds it: they hold the lock while they read it
		x.spare = m
		x.mu.Unlock()
		if err := x.compact(); err != nil {
			return err
		}
	}
}

// tier groups runs of about the same size: tier t holds runs of 4^t to 4^(t+1) full memtables
// (tier 0 also the smaller runs a snapshot writes).
func (x *keyIndex) tier(r *keyRun) int {
	n := r.count / uint64(x.memMax)
	if n == 0 {
		return 0
	}
	return (bits.Len64(n) - 1) / 2
}

// compact merges four runs of one tier into one of the next, while there are any: a lookup then
// reads at most three runs a tier, and a key is rewritten once a tier. Keeper only.
func (x *keyIndex) compact() error {
	for {
		x.mu.RLock()
		byTier := map[int][]*keyRun{}
		var group []*keyRun
		for _, r := range x.runs {
			t := x.tier(r)
			byTier[t] = append(byTier[t], r)
			if len(byTier[t]) == 4 && (group == nil || t < x.tier(group[0])) {
				group = byTier[t]
			}
		}
		x.mu.RUnlock()
		if group == nil {
			return nil
		}
		w, err := x.create()
		if err != nil {
			return err
		}
		if err := mergeKeyRuns(w, group); err != nil {
			w.f.Close()
			return err
		}
		run, err := w.finish(x.dir != "")
		if err != nil {
			return err
		}
		x.mu.Lock()
		x.runs = slices.DeleteFunc(x.runs, func(r *keyRun) bool { return slices.Contains(group, r) })
		x.runs = append(x.runs, run)
		x.mu.Unlock()
		// No lookup holds them now: lookups read runs under the read lock.
		for _, r := range group {
			r.f.Close()
			if r.name != "" {
				x.obsolete = append(x.obsolete, r.name)
			}
		}
	}
}

// keyRunName names the n-th run file of a folder.
func keyRunName(n uint64) string { return fmt.Sprintf("keys-%010d.run", n) }

// keyRunNumber is the number of a run file's name, or 0 if it is not one.
func keyRunNumber(name string) uint64 {
	s, ok := strings.CutPrefix(name, "keys-")
	if s, ok2 := strings.CutSuffix(s, ".run"); ok && ok2 {
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return n
		}
	}
	return 0
}

// create opens a new run file for writing. Keeper only.
func (x *keyIndex) create() (*keyRunWriter, error) {
	if x.dir == "" {
		f, err := os.CreateTemp(x.scratch, "kuozheng-keys-*")
		if err != nil {
			return nil, fmt.Errorf("idempotency index: %w", err)
		}
		// Unlinked at once: the space is the process's only, and is freed however it ends.
		if err := os.Remove(f.Name()); err != nil {
			f.Close()
			return nil, fmt.Errorf("idempotency index: %w", err)
		}
		return newKeyRunWriter(f, ""), nil
	}
	name := keyRunName(x.next)
	x.next++
	f, err := os.OpenFile(filepath.Join(x.dir, name), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("idempotency index: %w", err)
	}
	return newKeyRunWriter(f, name), nil
}

// keyRunRef is a run as a snapshot names it.
type keyRunRef struct {
	name  string
	count uint64
}

// manifest lists the runs; every key folded before the last freeze is in them once flush
// returned.
func (x *keyIndex) manifest() []keyRunRef {
	x.mu.RLock()
	defer x.mu.RUnlock()
	refs := make([]keyRunRef, len(x.runs))
	for i, r := range x.runs {
		refs[i] = keyRunRef{name: r.name, count: r.count}
	}
	return refs
}

// load opens the runs a snapshot names, and the filter saved with them (or, if it cannot be
// read, one made from the runs' keys), before the index is used.
func (x *keyIndex) load(refs []keyRunRef) error {
	for _, ref := range refs {
		f, err := os.Open(filepath.Join(x.dir, ref.name))
		if err != nil {
			return fmt.Errorf("idempotency index: %w", err)
		}
		r, err := openKeyRun(f, ref.name)
		if err != nil {
			f.Close()
			return err
		}
		x.runs = append(x.runs, r)
		if r.count != ref.count {
			return fmt.Errorf("idempotency index: %s holds %d keys, the snapshot says %d", ref.name, r.count, ref.count)
		}
		x.next = max(x.next, keyRunNumber(ref.name)+1)
	}
	if len(x.runs) == 0 {
		return nil
	}
	if f, err := readKeyFilter(filepath.Join(x.dir, keyFilterFile)); err == nil {
		x.filter = f
		return nil
	}
	x.filter = newKeyFilter()
	for _, r := range x.runs {
		it := r.iter()
		for {
			k, _, ok, err := it.next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			x.filter.add(k)
		}
	}
	return nil
}

// saveFilter writes the filter beside the runs, before a snapshot names them. Keeper only.
func (x *keyIndex) saveFilter() error {
	x.mu.RLock()
	if x.filter == nil {
		x.mu.RUnlock()
		return nil
	}
	b := x.filter.encode()
	x.mu.RUnlock()
	if err := writeFileAtomic(x.dir, keyFilterFile, b); err != nil {
		return fmt.Errorf("idempotency index: %w", err)
	}
	return nil
}

// deleteObsolete removes the files of runs merged away, once a snapshot no longer names them.
// Keeper only.
func (x *keyIndex) deleteObsolete() {
	for _, name := range x.obsolete {
		_ = os.Remove(filepath.Join(x.dir, name))
	}
	x.obsolete = nil
}

// keys counts the keys held in memory and in runs (a key in several counts several times).
func (x *keyIndex) keys() (mem, runs uint64) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	mem = uint64(len(x.mem))
	for _, m := range x.frozen {
		mem += uint64(len(m))
	}
	for _, r := range x.runs {
		runs += r.count
	}
	return mem, runs
}

func (x *keyIndex) close() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range x.runs {
		r.f.Close()
	}
	x.runs = nil
}

// damagedBlocks reads every block of the index's runs and counts those whose bytes fail their
// CRC: a lookup meets such a block only for a key that falls in it, and until then a damaged
// index answers every other key as it should. Each run is read a few blocks at a time, under
// the read lock each time, so that writes adding keys wait for one read at most; a run merged
// away meanwhile is left (the merge read all of it, and fails on a damaged block).
func (x *keyIndex) damagedBlocks() (int, error) {
	x.mu.RLock()
	runs := slices.Clone(x.runs)
	x.mu.RUnlock()
	damaged := 0
	buf := make([]byte, keyIterBlocks*keyBlockSize)
	for _, r := range runs {
		for first := 0; first < len(r.fences); first += keyIterBlocks {
			n, gone, err := x.checkBlocks(r, first, buf)
			if err != nil {
				return damaged, err
			}
			if gone {
				break
			}
			damaged += n
		}
	}
	return damaged, nil
}

// checkBlocks counts the damaged blocks of run r from block first, keyIterBlocks at most; gone
// says the run was merged away.
func (x *keyIndex) checkBlocks(r *keyRun, first int, buf []byte) (damaged int, gone bool, err error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if !slices.Contains(x.runs, r) {
		return 0, true, nil
	}
	_, bad, err := r.readBlocks(first, buf)
	return len(bad), false, err
}
