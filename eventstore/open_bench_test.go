package eventstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kuozheng/kuozheng/eventstore"
	"github.com/kuozheng/kuozheng/eventstore/storetest"
)

// openLedger returns the data folder of a demo ledger of about n events (every step with an
// idempotency key), generating it the first time under the temporary folder.
func openLedger(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("kuozheng-open-bench-%d", n))
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		return dir
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: dir, LazySync: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer emb.Close()
	ctx := context.Background()
	st, err := eventstore.Open(ctx, emb.Conn, eventstore.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	storetest.AppendDemo(b, st, n/23+1)
	if err := os.WriteFile(filepath.Join(dir, "done"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// openStore opens a store on emb and reports how long it took, how many messages it folded and
// the live heap it holds once ready (the embedded server shares the heap: its caches are in it).
func openStore(b *testing.B, emb *eventstore.Embedded, cfg eventstore.Config) (*eventstore.Store, time.Duration, float64) {
	b.Helper()
	before := liveHeap()
	start := time.Now()
	st, err := eventstore.Open(context.Background(), emb.Conn, cfg)
	if err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	return st, took, liveHeap() - before
}

// dirSize is the bytes of the files in dir.
func dirSize(b *testing.B, dir string) (total float64) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			total += float64(info.Size())
		}
	}
	return total
}

// BenchmarkOpen opens a store on a demo ledger of KUOZHENG_BENCH_EVENTS events (default 200,000,
// every step with an idempotency key) as a start does, three ways:
//   - first-start: no snapshot, every event folded (and the archive's and key index's files
//     written, and a snapshot every SnapshotEvery events: min(250,000, events/4)); the store is
//     then killed (no snapshot at close);
//   - restart-after-crash: from a copy of that folder, whose last snapshot is up to
//     SnapshotEvery events behind: those are folded again; then closed, which snapshots;
//   - restart: from that folder, nothing to fold.
//
// It reports events folded per second, seconds to ready, the live heap held once ready (the
// embedded nats-server shares the heap: its caches are in it) and the folder's size.
func BenchmarkOpen(b *testing.B) {
	n := storetest.BenchEvents(200_000)
	dir := openLedger(b, n)
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{Dir: dir, LazySync: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer emb.Close()
	every := min(250_000, n/4)
	crashed, clean := b.TempDir(), b.TempDir()
	report := func(b *testing.B, st *eventstore.Store, took time.Duration, heap float64) {
		b.ReportMetric(took.Seconds(), "ready-s")
		b.ReportMetric(float64(st.Folded())/took.Seconds(), "events/s")
		b.ReportMetric(float64(st.Folded()), "folded")
		b.ReportMetric(heap/(1<<20), "heap-MiB")
		b.ReportMetric(heap/float64(st.Applied()), "heap-B/event")
	}
	b.Run("first-start", func(b *testing.B) {
		for b.Loop() {
			if err := os.RemoveAll(crashed); err != nil {
				b.Fatal(err)
			}
			st, took, heap := openStore(b, emb, eventstore.Config{Dir: crashed, SnapshotEvery: every})
			report(b, st, took, heap)
			st.Crash()
		}
		b.ReportMetric(dirSize(b, crashed)/(1<<20), "dir-MiB")
	})
	b.Run("restart-after-crash", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if err := os.RemoveAll(clean); err != nil {
				b.Fatal(err)
			}
			if err := os.CopyFS(clean, os.DirFS(crashed)); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			st, took, heap := openStore(b, emb, eventstore.Config{Dir: clean, SnapshotEvery: every})
			report(b, st, took, heap)
			closed := time.Now()
			st.Close()
			b.ReportMetric(time.Since(closed).Seconds(), "close-s")
		}
	})
	b.Run("restart", func(b *testing.B) {
		for b.Loop() {
			st, took, heap := openStore(b, emb, eventstore.Config{Dir: clean, SnapshotEvery: every})
			if st.Folded() != 0 {
				b.Fatalf("a restart after Close folded %d messages", st.Folded())
			}
			b.ReportMetric(took.Seconds(), "ready-s")
			b.ReportMetric(heap/(1<<20), "heap-MiB")
			st.Close()
		}
		b.ReportMetric(dirSize(b, clean)/(1<<20), "dir-MiB")
	})
}
