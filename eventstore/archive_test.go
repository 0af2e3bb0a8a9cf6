package eventstore_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

func TestHistoryFromTheArchiveIsTheStreamsOwnBytes(t *testing.T) {
	dir := t.TempDir()
	l := storetest.Start(t, eventstore.Config{ArchiveDir: dir})
	ctx := context.Background()
	// No chunk, one full chunk, a chunk and a tail, chunks and a tail.
	sizes := []int{1, eventstore.ChunkSize, eventstore.ChunkSize + 1, 2*eventstore.ChunkSize + 5}
	var ids []string
	for i, n := range sizes {
		id := mustExecute(t, l.Store, register(orgCode(4000+i), "360702")).EmployerID
		for k := 1; k < n; k++ {
			mustExecute(t, l.Store, payment(id, fmt.Sprintf("A%d", k), int64(k)))
		}
		ids = append(ids, id)
	}
	heap, file := l.Store.ArchiveSize()
	if heap <= 0 || file <= 0 {
		t.Fatalf("archive holds %d bytes on the heap and %d in its file; want both used", heap, file)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the archive's file is visible in %s (%d entries); it should be unlinked", dir, len(entries))
	}
	stream, err := l.Store.JetStream().Stream(ctx, l.Store.Stream())
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		h, err := l.Store.History(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != sizes[i] {
			t.Fatalf("employer %d: %d events, want %d", i, len(h), sizes[i])
		}
		for k, ev := range h {
			raw, err := stream.GetMsg(ctx, ev.Seq)
			if err != nil {
				t.Fatal(err)
			}
			if string(raw.Data) != string(ev.Data) || raw.Header.Get(eventstore.HashHeader) != ev.Hash ||
				raw.Time.UnixNano() != ev.RecordedAt || !ev.ChainOK || ev.N != uint64(k+1) {
				t.Fatalf("employer %d event %d (seq %d) differs from the stream's message or breaks its chain", i, k, ev.Seq)
			}
		}
	}
}

// TestEachEventStopsAtTheReadersError: EachEvent hands the events History returns, in order,
// each with its bytes, and stops at the first error of its reader, returning it.
func TestEachEventStopsAtTheReadersError(t *testing.T) {
	l := storetest.Start(t, eventstore.Config{ArchiveDir: t.TempDir()})
	ctx := context.Background()
	id := mustExecute(t, l.Store, register(orgCode(4100), "360702")).EmployerID
	n := 2*eventstore.ChunkSize + 5 // chunks and a tail
	for k := 1; k < n; k++ {
		mustExecute(t, l.Store, payment(id, fmt.Sprintf("E%d", k), int64(k)))
	}
	if err := l.Store.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := l.Store.History(ctx, id)
	if err != nil || len(all) != n {
		t.Fatalf("History: %d events, %v", len(all), err)
	}
	i, stopAt := 0, eventstore.ChunkSize+3 // past the first chunk
	err = l.Store.EachEvent(ctx, id, func(ev eventstore.RawEvent) error {
		if ev.Seq != all[i].Seq || string(ev.Data) != string(all[i].Data) || ev.ChainOK != all[i].ChainOK {
			t.Fatalf("event %d: seq %d, chain %v; History has seq %d, chain %v", i, ev.Seq, ev.ChainOK, all[i].Seq, all[i].ChainOK)
		}
		i++
		if i == stopAt {
			return errStop
		}
		return nil
	})
	if err != errStop || i != stopAt {
		t.Fatalf("EachEvent returned %v after %d events; want the reader's error after %d", err, i, stopAt)
	}
}

var errStop = fmt.Errorf("reader stops")
