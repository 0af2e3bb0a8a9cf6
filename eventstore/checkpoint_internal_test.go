package eventstore

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
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

// A snapshot of version 1, written before shelves had checkpoints, is read as shelves without
// one; this version's snapshot keeps each shelf's checkpoint.
func TestASnapshotKeepsCheckpointsAndOneWrittenBeforeThemIsRead(t *testing.T) {
	snap := &snapshot{stream: "KZ", archived: true, arch: archiveState{end: 100,
		shelves: []shelfState{{id: "e", last: chunkRef{off: 0, n: 40}, seq: 9, state: chunkRef{off: 40, n: 60}, stateSeq: 9}}}}
	dir := t.TempDir()
	path := filepath.Join(dir, "v2")
	if err := os.WriteFile(path, snap.encode(), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readSnapshot(path)
	if err != nil || got.arch.shelves[0].state != snap.arch.shelves[0].state || got.arch.shelves[0].stateSeq != 9 {
		t.Fatalf("version 2: %+v, %v", got, err)
	}
	// Version 1: the same bytes without the shelf's checkpoint (its last three fields).
	snap.arch.shelves[0].state, snap.arch.shelves[0].stateSeq = chunkRef{}, 0
	b := snap.encode()
	body := b[:len(b)-4-3]
	body[len(snapshotMagic)] = 1
	v1 := binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, crc32c))
	path = filepath.Join(dir, "v1")
	if err := os.WriteFile(path, v1, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = readSnapshot(path)
	if err != nil || got.arch.shelves[0].seq != 9 || got.arch.shelves[0].stateSeq != 0 {
		t.Fatalf("version 1: %+v, %v", got, err)
	}
}
