package eventstore

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// An employer's chunks are found through its directories and read at once; an archive whose
// shelves have no directories (sealed before them) or only some is read down the chunks' links,
// with the same records; a directory that names the wrong chunks is an error, not a wrong history.
func TestAHistoryIsFoundThroughItsDirectoriesOrItsLinks(t *testing.T) {
	a := scratchArchive(t)
	n := 2*dirEvery*chunkSize + 3*chunkSize + 5 // two directories, three chunks since, a tail
	for seq := 1; seq <= n; seq++ {
		a.add("e", record{seq: uint64(seq), ts: int64(seq), data: fmt.Appendf(nil, "event %d", seq)})
	}
	a.sealWaiting()
	s := a.shelves["e"]
	if s.dir.n == 0 || len(s.recent) != 3 {
		t.Fatalf("after %d records: directory %v, %d chunks since; want one and 3", n, s.dir, len(s.recent))
	}
	read := func(name string, listed int) {
		t.Helper()
		var h packedHistory
		ok, err := a.readPacked("e", &h)
		if err != nil || !ok {
			t.Fatalf("%s: %v, %v", name, ok, err)
		}
		if len(h.refs) != listed {
			t.Fatalf("%s: %d chunks found before the first read, want %d", name, len(h.refs), listed)
		}
		var seqs []uint64
		for i := len(h.spans) - 1; i >= 0; i-- {
			raw, err := unpack(nil, h.packed[h.spans[i][0]:h.spans[i][1]])
			if err != nil {
				t.Fatalf("%s: chunk %d: %v", name, i, err)
			}
			recs, err := readRecords(raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				seqs = append(seqs, r.seq)
			}
		}
		tail, err := readRecords(h.tail, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range tail {
			seqs = append(seqs, r.seq)
		}
		if len(seqs) != n {
			t.Fatalf("%s: %d records, want %d", name, len(seqs), n)
		}
		for i, seq := range seqs {
			if seq != uint64(i+1) {
				t.Fatalf("%s: record %d has sequence %d", name, i, seq)
			}
		}
	}
	read("through the directories", 2*dirEvery+3)
	dir, recent := s.dir, s.recent
	s.dir = chunkRef{}
	read("the chunks since the directories, then down the links", 3)
	s.recent = nil
	read("down the links alone", 0)
	s.dir, s.recent = recent[0], recent // a chunk where a directory should be
	if _, err := a.readPacked("e", &packedHistory{}); !errors.Is(err, errCorrupt) {
		t.Fatalf("a directory naming other chunks: %v, want errCorrupt", err)
	}
	s.dir, s.recent = dir, recent
	read("through the directories again", 2*dirEvery+3)
}

// A directory lists the chunks of the directory before it as well as its own, up to dirMax, so
// that a history reads one directory; past dirMax a directory starts a list of its own, linked
// to the full one.
func TestADirectoryListsTheChunksBeforeItUpToItsMost(t *testing.T) {
	a := scratchArchive(t)
	seq := 0
	sealChunks := func(chunks int) {
		for range chunks * chunkSize {
			seq++
			a.add("e", record{seq: uint64(seq), ts: int64(seq), data: fmt.Appendf(nil, "event %d", seq)})
		}
		a.sealWaiting()
	}
	newest := func() (listed int, link chunkRef) {
		t.Helper()
		list, link, err := a.appendPacked(nil, a.shelves["e"].dir)
		if err != nil {
			t.Fatal(err)
		}
		return len(list) / 12, link
	}
	found := func() int {
		t.Helper()
		var h packedHistory
		if ok, err := a.readPacked("e", &h); !ok || err != nil {
			t.Fatalf("read: %v, %v", ok, err)
		}
		return len(h.refs)
	}
	sealChunks(3 * dirEvery)
	if n, link := newest(); n != 3*dirEvery || link.n != 0 {
		t.Fatalf("after %d chunks the newest directory lists %d and links to %v; want all and none", 3*dirEvery, n, link)
	}
	sealChunks(dirMax) // dirMax+3*dirEvery in all
	n, link := newest()
	if n != 3*dirEvery || link.n == 0 {
		t.Fatalf("past %d chunks the newest directory lists %d and links to %v; want %d and the full one", dirMax, n, link, 3*dirEvery)
	}
	if full, _, err := a.appendPacked(nil, link); err != nil || len(full)/12 != dirMax {
		t.Fatalf("the directory before lists %d chunks (%v), want %d", len(full)/12, err, dirMax)
	}
	if got, want := found(), dirMax+3*dirEvery; got != want {
		t.Fatalf("a history finds %d chunks through the directories, want %d", got, want)
	}
}

// A tail's records are read from the disk at once and from the write buffer, in order.
func TestATailIsReadFromTheDiskAndTheWriteBufferInOrder(t *testing.T) {
	a := scratchArchive(t)
	big := make([]byte, tailBufferSize/3) // three records fill the write buffer: it is written out
	for seq := 1; seq < chunkSize; seq++ {
		data := fmt.Appendf(nil, "event %d ", seq)
		a.add("e", record{seq: uint64(seq), ts: int64(seq), data: append(data, big...)})
	}
	a.add("f", record{seq: chunkSize, ts: 1, data: []byte("another employer's")})
	s := a.shelves["e"]
	onDisk := 0
	for _, r := range s.tail {
		if seg := a.tails.segs[r.seg]; seg != a.tails.cur || int64(r.off) < seg.size {
			onDisk++
		}
	}
	if onDisk < 2 || onDisk == len(s.tail) {
		t.Fatalf("%d of %d tail records on disk: the test needs several on disk and some in the buffer", onDisk, len(s.tail))
	}
	var h packedHistory
	if ok, err := a.readPacked("e", &h); !ok || err != nil {
		t.Fatalf("read: %v, %v", ok, err)
	}
	recs, err := readRecords(h.tail, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != chunkSize-1 {
		t.Fatalf("%d tail records read, want %d", len(recs), chunkSize-1)
	}
	for i, r := range recs {
		if want := fmt.Sprintf("event %d ", i+1); r.seq != uint64(i+1) || !strings.HasPrefix(string(r.data), want) || len(r.data) != len(want)+len(big) {
			t.Fatalf("tail record %d: sequence %d, %d bytes starting %.12q", i, r.seq, len(r.data), r.data)
		}
	}
}

// A tail is filled and emptied in place; one that grew while its seals waited goes back to a
// chunk's worth of room once sealed, so that a shelf's memory does not keep the largest tail it
// ever had.
func TestATailThatGrewWhileSealsWaitedGoesBackToAChunksWorth(t *testing.T) {
	a := scratchArchive(t)
	n := 3*chunkSize + 2 // no sealer runs: the tail grows past a chunk
	for seq := 1; seq <= n; seq++ {
		a.add("e", record{seq: uint64(seq), ts: int64(seq), data: fmt.Appendf(nil, "event %d", seq)})
	}
	s := a.shelves["e"]
	if len(s.tail) != n {
		t.Fatalf("%d records in the tail before a seal, want %d", len(s.tail), n)
	}
	a.sealWaiting()
	if len(s.tail) != 2 || cap(s.tail) != chunkSize {
		t.Fatalf("after the seals the tail holds %d records in room for %d, want 2 in %d", len(s.tail), cap(s.tail), chunkSize)
	}
	if s.tail[0].seq != uint64(n-1) || s.tail[1].seq != uint64(n) {
		t.Errorf("the tail kept %d and %d, want the last two, %d and %d", s.tail[0].seq, s.tail[1].seq, n-1, n)
	}
	room := cap(s.tail)
	for seq := n + 1; seq <= n+chunkSize-2; seq++ {
		a.add("e", record{seq: uint64(seq), ts: int64(seq), data: fmt.Appendf(nil, "event %d", seq)})
	}
	a.sealWaiting()
	if len(s.tail) != 0 || cap(s.tail) != room {
		t.Errorf("a tail sealed in place holds %d records in room for %d, want 0 in %d", len(s.tail), cap(s.tail), room)
	}
}

// scratchArchive is an archive in unlinked files under the test's folder, closed when it ends.
func scratchArchive(t *testing.T) *archive {
	t.Helper()
	file, err := scratchArchiveFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := newArchive(file, newTailLog("", t.TempDir()), slog.New(slog.DiscardHandler))
	t.Cleanup(a.close)
	return a
}

// An archive that fails says so once, through the store's logger: in serve's format (a JSON
// object a line with --log-format json), not the process's default.
func TestAnArchiveFailureIsLoggedByTheStoresLogger(t *testing.T) {
	var out strings.Builder
	a := scratchArchive(t)
	a.log = slog.New(slog.NewJSONHandler(&out, nil))
	a.mu.Lock()
	a.fail(errors.New("disk gone"))
	a.fail(errors.New("disk gone again"))
	a.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "{") || !strings.Contains(lines[0], "disk gone") {
		t.Errorf("the store's logger got %q, want one JSON line naming the error", out.String())
	}
}
