package eventstore

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/kuozheng/kuozheng/domain"
)

// A snapshot is the store's own state at one stream sequence S, saved in Config.Dir so that a
// start folds only the events after S: every subject's chain head and the chain breaks found,
// the sequences of the reference events (folded again at start, by this build's rules, into the
// reference data and the years), the freezes, the earliest business date, the archive's chunk
// file length, tail segments and shelves (each employer's newest chunk and tail records) and the
// idempotency index's runs, which hold every key folded through S. It is taken by the follower between two
// messages (every SnapshotEvery events), when the follower is idle, and at Close, and written by
// the keeper: runs flushed and the archive's files synced first, then the snapshot to a
// temporary file, synced and renamed over the old one, so that a crash leaves the old snapshot
// or the new one. What was written after the snapshot (runs and segments not named, bytes beyond
// the lengths it records) is dropped at start, and folded again from the stream.
const (
	snapshotFile  = "store.snap"
	archiveFile   = "archive.dat"
	snapshotMagic = "KZSTORE\x00"
	// Version 2 adds each shelf's checkpoint, version 3 its directory and the chunks sealed since;
	// older versions are read as shelves without them. Version 4 adds the notice numbers; a
	// snapshot of an older version is not used (the stream is folded again). Version 5 adds the
	// subjects of corrected organisation codes; version 4 is read with none, as no build that
	// wrote it recorded any (an older build started on a ledger a newer one wrote to took the
	// events it could not decode for breaks: such a snapshot is not used, restore).
	snapshotVersion = 5
)

// snapshot is the store's state at seq, and the identity of the stream it was taken of.
type snapshot struct {
	stream   string
	created  int64 // the stream's creation time, Unix nanoseconds
	firstSeq uint64
	seq      uint64
	last     lastMessage // the message at seq, checked against the stream at start
	earliest domain.Date
	refSeqs  []uint64
	freezes  []FreezeRef
	notices  map[string]int // nil in a snapshot older than version 4
	recoded  map[string]bool
	breaks   map[string]ChainBreak
	heads    map[string]head
	keyRuns  []keyRunRef
	archived bool // the archive was in use; then arch
	arch     archiveState
}

// capture takes the state at the sequence applied last. The caller holds s.applyMu, so the
// follower is between two messages; the heads and reference sequences change only under it.
// The breaks change under s.mu too (a whole verification notes those it finds). The memtable is
// frozen so that the snapshot's runs hold every key folded so far.
func (s *Store) capture() *snapshot {
	s.keys.freeze()
	snap := &snapshot{stream: s.cfg.Stream, created: s.created, firstSeq: s.firstSeq, seq: s.applied.Load(), last: s.last,
		refSeqs: slices.Clone(s.refSeqs), heads: maps.Clone(s.heads)}
	s.mu.RLock()
	snap.breaks = maps.Clone(s.breaks)
	snap.earliest = s.earliest
	snap.notices = maps.Clone(s.notices)
	snap.recoded = maps.Clone(s.recoded)
	for _, f := range s.freezes {
		// This store's own freezes are folded before the follower reaches them.
		if f.Seq <= snap.seq {
			snap.freezes = append(snap.freezes, f)
		}
	}
	s.mu.RUnlock()
	snap.arch, snap.archived = s.archive.capture()
	s.snapSeq.Store(snap.seq)
	return snap
}

// requestSnapshot has the keeper write a snapshot of the state now, unless one is being written.
func (s *Store) requestSnapshot() {
	if s.cfg.Dir == "" || !s.snapBusy.CompareAndSwap(false, true) {
		return
	}
	s.applyMu.Lock()
	snap := s.capture()
	s.applyMu.Unlock()
	s.snapReq <- snap // room for one: only the holder of snapBusy sends
}

// writeSnapshot makes what snap names durable, then writes snap atomically. The keeper runs it
// (and Close, once the keeper has stopped).
func (s *Store) writeSnapshot(snap *snapshot) error {
	if s.snapHeld.Load() {
		return nil
	}
	if err := s.keys.flush(); err != nil {
		return err
	}
	snap.keyRuns = s.keys.manifest()
	if err := s.keys.saveFilter(); err != nil {
		return err
	}
	if snap.archived {
		if err := snap.arch.sync(); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(s.cfg.Dir, snapshotFile, snap.encode()); err != nil {
		return fmt.Errorf("store snapshot: %w", err)
	}
	s.keys.deleteObsolete()
	if snap.archived {
		s.archive.deleteObsolete(snap.arch)
	}
	s.snapSaved.Store(snap.seq)
	s.log.Debug("event store: snapshot written", "seq", snap.seq)
	return nil
}

// writeFileAtomic replaces dir/name with b: a temporary file, synced, renamed over it, and the
// folder synced (which also makes the names of files written before durable).
func writeFileAtomic(dir, name string, b []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err == nil {
		err = syncDir(dir)
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// snapshotEncoder appends varints and strings.
type snapshotEncoder struct{ b []byte }

func (e *snapshotEncoder) u(v uint64)  { e.b = binary.AppendUvarint(e.b, v) }
func (e *snapshotEncoder) i(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *snapshotEncoder) s(v string)  { e.u(uint64(len(v))); e.b = append(e.b, v...) }
func (e *snapshotEncoder) by(v []byte) { e.u(uint64(len(v))); e.b = append(e.b, v...) }

// hash writes a chain hash: 32 bytes when it is the usual lowercase hex, else as it is.
func (e *snapshotEncoder) hash(h string) {
	if b, err := hex.DecodeString(h); err == nil && len(b) == 32 && hex.EncodeToString(b) == h {
		e.u(1)
		e.b = append(e.b, b...)
		return
	}
	e.u(0)
	e.s(h)
}

func (snap *snapshot) encode() []byte {
	e := &snapshotEncoder{b: make([]byte, 0, 64+len(snap.heads)*96+len(snap.arch.shelves)*80)}
	e.b = append(e.b, snapshotMagic...)
	e.u(snapshotVersion)
	e.s(snap.stream)
	e.i(snap.created)
	e.u(snap.firstSeq)
	e.u(snap.seq)
	e.s(snap.last.subject)
	e.hash(snap.last.hash)
	e.u(snap.last.size)
	e.i(int64(snap.earliest))
	e.u(uint64(len(snap.refSeqs)))
	for _, q := range snap.refSeqs {
		e.u(q)
	}
	freezes, err := json.Marshal(snap.freezes)
	if err != nil {
		panic(fmt.Sprintf("store snapshot: freezes: %v", err)) // plain structs: cannot fail
	}
	e.by(freezes)
	e.u(uint64(len(snap.breaks)))
	for id, b := range snap.breaks {
		e.s(id)
		e.u(b.Seq)
		e.s(b.Reason)
	}
	e.u(uint64(len(snap.heads)))
	for subject, h := range snap.heads {
		e.s(subject)
		e.u(h.seq)
		e.u(h.n)
		e.hash(h.hash)
	}
	e.u(uint64(len(snap.keyRuns)))
	for _, r := range snap.keyRuns {
		e.s(r.name)
		e.u(r.count)
	}
	if snap.archived {
		e.u(1)
		e.i(snap.arch.end)
		e.u(uint64(len(snap.arch.segs)))
		for _, seg := range snap.arch.segs {
			e.u(uint64(seg.n))
			e.i(seg.size)
		}
		e.u(uint64(len(snap.arch.shelves)))
		for _, sh := range snap.arch.shelves {
			e.s(sh.id)
			e.i(sh.last.off)
			e.u(uint64(sh.last.n))
			e.u(sh.seq)
			e.u(uint64(len(sh.tail)))
			for _, r := range sh.tail {
				e.u(r.seq)
				e.u(uint64(r.seg))
				e.u(uint64(r.off))
				e.u(uint64(r.n))
			}
			e.i(sh.state.off)
			e.u(uint64(sh.state.n))
			e.u(sh.stateSeq)
			e.i(sh.dir.off)
			e.u(uint64(sh.dir.n))
			e.u(uint64(len(sh.recent)))
			for _, r := range sh.recent {
				e.i(r.off)
				e.u(uint64(r.n))
			}
		}
	} else {
		e.u(0)
	}
	e.u(uint64(len(snap.notices)))
	for _, prefix := range slices.Sorted(maps.Keys(snap.notices)) {
		e.s(prefix)
		e.u(uint64(snap.notices[prefix]))
	}
	e.u(uint64(len(snap.recoded)))
	for _, id := range slices.Sorted(maps.Keys(snap.recoded)) {
		e.s(id)
		claim := uint64(0)
		if snap.recoded[id] {
			claim = 1
		}
		e.u(claim)
	}
	return binary.LittleEndian.AppendUint32(e.b, crc32.Checksum(e.b, crc32c))
}

// snapshotDecoder reads what snapshotEncoder wrote; its first error sticks.
type snapshotDecoder struct {
	b   []byte
	err error
}

var errSnapshotFormat = errors.New("malformed")

func (d *snapshotDecoder) u() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errSnapshotFormat
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *snapshotDecoder) i() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errSnapshotFormat
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a number of items that each take at least one byte.
func (d *snapshotDecoder) count() int {
	n := d.u()
	if n > uint64(len(d.b)) {
		d.err = errSnapshotFormat
		return 0
	}
	return int(n)
}

func (d *snapshotDecoder) by() []byte {
	n := d.count()
	if d.err != nil {
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *snapshotDecoder) s() string { return string(d.by()) }

func (d *snapshotDecoder) hash() string {
	if d.u() == 0 {
		return d.s()
	}
	if d.err != nil || len(d.b) < 32 {
		d.err = errSnapshotFormat
		return ""
	}
	h := hex.EncodeToString(d.b[:32])
	d.b = d.b[32:]
	return h
}

// readSnapshot reads and checks a snapshot file.
func readSnapshot(path string) (*snapshot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < len(snapshotMagic)+4 || string(b[:len(snapshotMagic)]) != snapshotMagic {
		return nil, errors.New("not a store snapshot")
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, crc32c) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, errors.New("its bytes do not match their checksum (truncated or damaged)")
	}
	d := &snapshotDecoder{b: body[len(snapshotMagic):]}
	v := d.u()
	if v < 1 || v > snapshotVersion {
		return nil, fmt.Errorf("version %d; this build reads versions 1 to %d", v, snapshotVersion)
	}
	snap := &snapshot{stream: d.s(), created: d.i(), firstSeq: d.u(), seq: d.u()}
	snap.last = lastMessage{subject: d.s(), hash: d.hash(), size: d.u()}
	snap.earliest = domain.Date(d.i())
	snap.refSeqs = make([]uint64, d.count())
	for i := range snap.refSeqs {
		snap.refSeqs[i] = d.u()
	}
	if freezes := d.by(); d.err == nil {
		if err := json.Unmarshal(freezes, &snap.freezes); err != nil {
			return nil, fmt.Errorf("freezes: %w", err)
		}
	}
	n := d.count()
	snap.breaks = make(map[string]ChainBreak, n)
	for range n {
		id := d.s()
		snap.breaks[id] = ChainBreak{Seq: d.u(), Reason: d.s()}
	}
	n = d.count()
	snap.heads = make(map[string]head, n)
	for range n {
		subject := d.s()
		snap.heads[subject] = head{seq: d.u(), n: d.u(), hash: d.hash()}
	}
	snap.keyRuns = make([]keyRunRef, d.count())
	for i := range snap.keyRuns {
		snap.keyRuns[i] = keyRunRef{name: d.s(), count: d.u()}
	}
	if d.u() == 1 {
		snap.archived = true
		snap.arch.end = d.i()
		snap.arch.segs = make([]tailSegmentState, d.count())
		for i := range snap.arch.segs {
			snap.arch.segs[i] = tailSegmentState{n: uint32(d.u()), size: d.i()}
		}
		snap.arch.shelves = make([]shelfState, d.count())
		for i := range snap.arch.shelves {
			sh := &snap.arch.shelves[i]
			sh.id = d.s()
			sh.last = chunkRef{off: d.i(), n: uint32(d.u())}
			sh.seq = d.u()
			sh.tail = make([]tailRef, d.count())
			for j := range sh.tail {
				sh.tail[j] = tailRef{seq: d.u(), seg: uint32(d.u()), off: uint32(d.u()), n: uint32(d.u())}
			}
			if v >= 2 {
				sh.state = chunkRef{off: d.i(), n: uint32(d.u())}
				sh.stateSeq = d.u()
			}
			if v >= 3 {
				sh.dir = chunkRef{off: d.i(), n: uint32(d.u())}
				sh.recent = make([]chunkRef, d.count())
				for j := range sh.recent {
					sh.recent[j] = chunkRef{off: d.i(), n: uint32(d.u())}
				}
			}
		}
	}
	if v >= 4 {
		n := d.count()
		snap.notices = make(map[string]int, n)
		for range n {
			prefix := d.s()
			snap.notices[prefix] = int(d.u())
		}
	}
	snap.recoded = map[string]bool{}
	if v >= 5 {
		for range d.count() {
			id := d.s()
			snap.recoded[id] = d.u() == 1
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errSnapshotFormat
	}
	if d.err != nil {
		return nil, d.err
	}
	return snap, nil
}

// AcceptLoss lets the store write its snapshot again after it found acknowledged events lost as
// it started (Integrity.LostTail), which it otherwise does not from then on: the snapshot that
// showed the loss (one past the stream's end) is kept, so that the next start says it again,
// rather than one taken since making the loss look like none. An operator accepting the
// damage (serve --accept-damage) calls it.
func (s *Store) AcceptLoss() { s.snapHeld.Store(false) }
