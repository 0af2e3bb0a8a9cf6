package eventstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kuozheng/kuozheng/domain"
)

// A checkpoint another build wrote, or bytes that are none, are passed over: the employer is
// then folded from its first event.
func TestACheckpointOfAnotherBuildIsPassedOver(t *testing.T) {
	data, err := encodeCheckpoint(&domain.Employer{ID: "e", Version: 3, SkipHistory: true})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := decodeCheckpoint(data); err != nil || e.ID != "e" || e.Version != 3 {
		t.Fatalf("this build's checkpoint: %+v, %v", e, err)
	}
	other := append([]byte{checkpointVersion + 1}, data[1:]...)
	if _, err := decodeCheckpoint(other); !errors.Is(err, errCheckpointVersion) {
		t.Errorf("another build's checkpoint: %v, want it passed over", err)
	}
	if _, err := decodeCheckpoint(nil); !errors.Is(err, errCheckpointVersion) {
		t.Errorf("no bytes: %v, want it passed over", err)
	}
	if _, err := decodeCheckpoint(append([]byte{checkpointVersion}, "not gob"...)); err == nil {
		t.Error("bytes that are no checkpoint decoded")
	}
}

// Snapshots of versions 1 and 2, written before shelves had checkpoints and chunk directories,
// are read as shelves without them (and those of versions 1 to 3 without notice numbers); this
// version's snapshot keeps both.
func TestASnapshotKeepsCheckpointsAndDirectoriesAndOlderOnesAreRead(t *testing.T) {
	snap := &snapshot{stream: "KZ", recoded: map[string]bool{"e1": true, "e2": false}, archived: true, arch: archiveState{end: 100,
		shelves: []shelfState{{id: "e", shelf: shelf{last: chunkRef{off: 0, n: 40}, seq: 9, state: chunkRef{off: 40, n: 60}, stateSeq: 9,
			dir: chunkRef{off: 10, n: 20}, recent: []chunkRef{{off: 0, n: 40}}}}}}}
	dir := t.TempDir()
	path := filepath.Join(dir, "v3")
	if err := os.WriteFile(path, snap.encode(), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readSnapshot(path)
	if err != nil || got.arch.shelves[0].state != snap.arch.shelves[0].state || got.arch.shelves[0].stateSeq != 9 ||
		got.arch.shelves[0].dir != snap.arch.shelves[0].dir || len(got.arch.shelves[0].recent) != 1 || got.arch.shelves[0].recent[0] != snap.arch.shelves[0].recent[0] ||
		len(got.recoded) != 2 || !got.recoded["e1"] || got.recoded["e2"] {
		t.Fatalf("version %d: %+v, %v", snapshotVersion, got, err)
	}
	// Older versions: the same bytes without the corrected codes' subjects (their count, 0, the
	// last byte), then without the notice numbers (their count, 0, the byte before), then without
	// the shelf's directory (its last three fields when zero), then without its checkpoint
	// (three more).
	snap.arch.shelves[0].state, snap.arch.shelves[0].stateSeq = chunkRef{}, 0
	snap.arch.shelves[0].dir, snap.arch.shelves[0].recent = chunkRef{}, nil
	snap.recoded = nil
	b := snap.encode()
	for _, old := range []struct {
		version  byte
		stripped int
	}{{4, 1}, {3, 2}, {2, 5}, {1, 8}} {
		body := slices.Clone(b[:len(b)-4-old.stripped])
		body[len(snapshotMagic)] = old.version
		bytes := binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, crc32c))
		path = filepath.Join(dir, fmt.Sprintf("v%d", old.version))
		if err := os.WriteFile(path, bytes, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err = readSnapshot(path)
		if err != nil || got.arch.shelves[0].seq != 9 || got.arch.shelves[0].stateSeq != 0 || got.arch.shelves[0].dir.n != 0 || len(got.arch.shelves[0].recent) != 0 ||
			(got.notices != nil) != (old.version == 4) || got.recoded == nil {
			t.Fatalf("version %d: %+v, %v", old.version, got, err)
		}
	}
}
